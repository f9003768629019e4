// Package consent is the canonical encoding of what a member signs in
// Parley: a vote, a sign-off, an acceptance, or the registration or
// revocation of its own signing key. It is the wire contract that every
// signer and verifier shares (the server's rules, the Go client, the CLI,
// and the TypeScript and Python clients through testdata/vectors.json);
// docs/audit.md ("Signed consent") states it in prose.
//
// A signature is Ed25519 (RFC 8032) over PAE(PayloadType, body), the
// pre-authentication encoding of DSSE v1, so that a signature made for
// Parley can never be taken for one over anything else.
package consent

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// PayloadType is the DSSE payload type of every consent statement.
const PayloadType = "application/vnd.parley.consent.v1"

// Statement kinds: the value of the body's "statement" line.
const (
	Vote            = "vote"
	SignOff         = "sign-off"
	Acceptance      = "acceptance"
	KeyRegistration = "key-registration"
	KeyRevocation   = "key-revocation"
)

// Statement is what a member signs. Which fields count depends on Kind;
// the others are ignored by Body.
type Statement struct {
	Kind        string
	Negotiation string // resource name, "negotiations/<uuid>"
	Member      string // as Event.member: the participant id for its default member
	Participant string

	// Vote.
	Amendment       string // bare UUID
	AmendmentSHA256 string // AmendmentDigest of its parts
	Choice          string // APPROVE, REJECT or ABSTAIN
	ReasonSHA256    string // Hash of the reason's UTF-8 bytes

	// SignOff.
	Point      string // bare UUID
	Revision   int64
	TextSHA256 string

	// Acceptance.
	DocumentSHA256 string

	// KeyRegistration (Key and Replaces) and KeyRevocation (Key).
	Key      string
	Replaces string

	// Vote, SignOff and Acceptance: the checkpoint the signer verified.
	CheckpointSize int64
	CheckpointRoot []byte
}

// Body returns the statement's canonical body: "name: value\n" lines in a
// fixed order. It refuses a kind it does not know.
func (s Statement) Body() ([]byte, error) {
	var b strings.Builder
	line := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteByte('\n')
	}
	line("parley-consent", "v1")
	line("statement", s.Kind)
	line("negotiation", s.Negotiation)
	line("member", s.Member)
	line("participant", s.Participant)
	checkpoint := false
	switch s.Kind {
	case Vote:
		line("amendment", s.Amendment)
		line("amendment-sha256", s.AmendmentSHA256)
		line("choice", s.Choice)
		line("reason-sha256", s.ReasonSHA256)
		checkpoint = true
	case SignOff:
		line("point", s.Point)
		line("revision", strconv.FormatInt(s.Revision, 10))
		line("text-sha256", s.TextSHA256)
		checkpoint = true
	case Acceptance:
		line("document-sha256", s.DocumentSHA256)
		checkpoint = true
	case KeyRegistration:
		line("key", s.Key)
		line("replaces", s.Replaces)
	case KeyRevocation:
		line("key", s.Key)
	default:
		return nil, fmt.Errorf("consent: unknown statement %q", s.Kind)
	}
	if checkpoint {
		line("checkpoint-size", strconv.FormatInt(s.CheckpointSize, 10))
		line("checkpoint-root", hex.EncodeToString(s.CheckpointRoot))
	}
	return []byte(b.String()), nil
}

// PAE is DSSE v1's pre-authentication encoding of a payload type and body.
func PAE(payloadType string, body []byte) []byte {
	head := "DSSEv1 " + strconv.Itoa(len(payloadType)) + " " + payloadType + " " + strconv.Itoa(len(body)) + " "
	out := make([]byte, 0, len(head)+len(body))
	return append(append(out, head...), body...)
}

// Message returns the exact bytes a member signs for the statement.
func (s Statement) Message() ([]byte, error) {
	body, err := s.Body()
	if err != nil {
		return nil, err
	}
	return PAE(PayloadType, body), nil
}

// Sign signs the statement with a member's private key.
func Sign(key ed25519.PrivateKey, s Statement) ([]byte, error) {
	msg, err := s.Message()
	if err != nil {
		return nil, err
	}
	return ed25519.Sign(key, msg), nil
}

// Verify reports whether sig is the signature of the statement by the raw
// Ed25519 public key. A key or signature of the wrong length is not.
func Verify(publicKey []byte, s Statement, sig []byte) bool {
	if len(publicKey) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	msg, err := s.Message()
	if err != nil {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(publicKey), msg, sig)
}

// KeyID returns a public key's id: the lowercase hex SHA-256 of its raw
// bytes.
func KeyID(publicKey []byte) string { return Hash(publicKey) }

// Hash returns the lowercase hex SHA-256 of b.
func Hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Part is one change of an amendment, as AmendmentDigest covers it.
type Part struct {
	Kind         string `json:"kind"`  // REPLACE, INSERT or DELETE
	Point        string `json:"point"` // the target, or INSERT's anchor (empty: at the start)
	BaseRevision int64  `json:"base_revision"`
	Text         string `json:"text"` // empty for DELETE
}

// AmendmentDigest returns the hex SHA-256 over one line per part,
// "<KIND> <point> <base revision> <sha256 hex of text>\n", in order. A plain
// amendment has one part.
func AmendmentDigest(parts []Part) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%s %s %d %s\n", p.Kind, p.Point, p.BaseRevision, Hash([]byte(p.Text)))
	}
	return hex.EncodeToString(h.Sum(nil))
}
