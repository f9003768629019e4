package workflow

import (
	"crypto/ed25519"
	"encoding/hex"
	"slices"

	"github.com/parley-negotiation/parley/client/consent"
)

// This file holds the rules of signed consent: members' signing keys, and
// the check of a signature on a vote, a sign-off or an acceptance. The check
// depends only on the state (which holds each member's current key) and the
// command, so that a verifier folding the log reaches the same decision. The
// encoding of what is signed is package consent's, shared with every client.

// Consent is a member's signature over what it consents to, bound to the
// checkpoint of the log it verified.
type Consent struct {
	KeyID      string
	Checkpoint *CheckpointRef
	Signature  []byte
}

// SigningKey is a member's Ed25519 public key as the log registered it.
type SigningKey struct {
	ID          string // hex SHA-256 of PublicKey
	PublicKey   []byte
	Participant string
	Member      string // the participant id for its default member
	Sequence    int64  // the KeyRegistered event
	EndSequence int64  // the event that revoked or rotated it out; 0 while current
}

// RegisterKey makes a public key the acting member's current signing key.
// Signature is the new key's over the key-registration statement; a rotation
// names the current key in Replaces and carries its signature too.
type RegisterKey struct {
	PublicKey         []byte
	Signature         []byte
	Replaces          string
	ReplacesSignature []byte
}

// RevokeKey ends a member's current signing key: the member's own, signed by
// that key, or, from the administrator, the key of Participant's Member
// without a signature.
type RevokeKey struct {
	KeyID       string
	Signature   []byte
	Participant string // administrator only
	Member      string // administrator only; empty for the default member
}

// RequireSignatures requires signed consent from now on.
type RequireSignatures struct{}

// KeyRegistered records a member's new current signing key.
type KeyRegistered struct {
	KeyID             string
	PublicKey         []byte
	Replaces          string
	Signature         []byte
	ReplacesSignature []byte
}

// KeyRevoked records that a member's signing key stopped being valid.
type KeyRevoked struct {
	Participant string
	Member      string
	KeyID       string
	Signature   []byte // empty when the administrator revoked it
}

// SignaturesRequired records that consent must be signed from this event on.
type SignaturesRequired struct{}

func (RegisterKey) isCommand()       {}
func (RevokeKey) isCommand()         {}
func (RequireSignatures) isCommand() {}

func (KeyRegistered) isPayload()      {}
func (KeyRevoked) isPayload()         {}
func (SignaturesRequired) isPayload() {}

// NegotiationName is the negotiation's resource name, as consent statements
// and events name it.
func (n *Negotiation) NegotiationName() string { return "negotiations/" + n.ID }

// CurrentKey returns the current signing key of a participant's member (the
// participant id, or empty, for its default member).
func (n *Negotiation) CurrentKey(participant, member string) (*SigningKey, bool) {
	id, ok := n.derived.currentKey[MemberKey(participant, member)]
	if !ok {
		return nil, false
	}
	return n.SigningKeys[id], true
}

// KeysInOrder returns every signing key ever registered, in the order
// registered.
func (n *Negotiation) KeysInOrder() []*SigningKey {
	out := make([]*SigningKey, 0, len(n.SigningKeys))
	for _, k := range n.SigningKeys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *SigningKey) int { return int(a.Sequence - b.Sequence) })
	return out
}

// SignaturesRequired reports whether consent must be signed now.
func (n *Negotiation) SignaturesRequired() bool { return n.SignaturesRequiredFrom > 0 }

// reindexKeys rebuilds the index of current keys.
func (n *Negotiation) reindexKeys() {
	n.derived.currentKey = map[string]string{}
	for id, k := range n.SigningKeys {
		if k.EndSequence == 0 {
			n.derived.currentKey[MemberKey(k.Participant, k.Member)] = id
		}
	}
}

func (n *Negotiation) applyKeyEvent(e Event) (bool, error) {
	switch p := e.Payload.(type) {
	case KeyRegistered:
		if _, exists := n.SigningKeys[p.KeyID]; exists {
			return true, corrupt("event %d registers key %s twice", e.Sequence, p.KeyID)
		}
		if n.SigningKeys == nil {
			n.SigningKeys = map[string]*SigningKey{}
		}
		member := memberOr(e.Member, e.Actor)
		if old, ok := n.CurrentKey(e.Actor, member); ok {
			old.EndSequence = e.Sequence
		}
		n.SigningKeys[p.KeyID] = &SigningKey{ID: p.KeyID, PublicKey: p.PublicKey, Participant: e.Actor, Member: member, Sequence: e.Sequence}
		n.derived.currentKey[MemberKey(e.Actor, member)] = p.KeyID
	case KeyRevoked:
		k, ok := n.SigningKeys[p.KeyID]
		if !ok || k.EndSequence != 0 {
			return true, corrupt("event %d revokes key %s, which is unknown or not current", e.Sequence, p.KeyID)
		}
		k.EndSequence = e.Sequence
		delete(n.derived.currentKey, MemberKey(k.Participant, k.Member))
	case SignaturesRequired:
		n.SignaturesRequiredFrom = e.Sequence
	default:
		return false, nil
	}
	return true, nil
}

func (d *decider) statement(kind string) consent.Statement {
	return consent.Statement{Kind: kind, Negotiation: d.n.NegotiationName(), Member: d.member(), Participant: d.m.Actor}
}

func (d *decider) registerKey(c RegisterKey) error {
	if err := d.act("register a signing key", RoleDelegation); err != nil {
		return err
	}
	if len(c.PublicKey) != ed25519.PublicKeySize {
		return Errorf(EINVALID, "KEY_MALFORMED", "a signing key is a raw Ed25519 public key of %d bytes, not %d", ed25519.PublicKeySize, len(c.PublicKey))
	}
	id := consent.KeyID(c.PublicKey)
	if _, used := d.n.SigningKeys[id]; used {
		return Errorf(EALREADYEXISTS, "KEY_ALREADY_REGISTERED", "key %s was registered in this negotiation already; a key is registered once", id)
	}
	if c.Replaces == "" && len(c.ReplacesSignature) > 0 {
		// Nothing would check it, and the log would keep it.
		return Errorf(EINVALID, "SIGNATURE_MALFORMED", "replaces_signature goes with replaces, the key rotated out")
	}
	current, has := d.n.CurrentKey(d.m.Actor, d.member())
	switch {
	case has && c.Replaces == "":
		return Errorf(EFAILEDPRECONDITION, "KEY_ROTATION_REQUIRED", "%s holds key %s: rotate it (replaces, signed by it too) or revoke it first", d.member(), current.ID)
	case c.Replaces != "" && (!has || current.ID != c.Replaces):
		return Errorf(EFAILEDPRECONDITION, "KEY_NOT_CURRENT", "key %.64q is not the current key of %s", c.Replaces, d.member())
	}
	s := d.statement(consent.KeyRegistration)
	s.Key, s.Replaces = id, c.Replaces
	if !consent.Verify(c.PublicKey, s, c.Signature) {
		return Errorf(EINVALID, "SIGNATURE_INVALID", "the signature is not the new key's over the key-registration statement")
	}
	if has && !consent.Verify(current.PublicKey, s, c.ReplacesSignature) {
		return Errorf(EINVALID, "SIGNATURE_INVALID", "the rotation is not signed by the replaced key %s", current.ID)
	}
	d.emit(KeyRegistered{KeyID: id, PublicKey: c.PublicKey, Replaces: c.Replaces, Signature: c.Signature, ReplacesSignature: c.ReplacesSignature})
	return nil
}

func (d *decider) revokeKey(c RevokeKey) error {
	participant, member := d.m.Actor, d.member()
	if d.m.Actor == AdminActor {
		if err := d.takesChanges(false); err != nil {
			return err
		}
		if _, ok := d.n.Participant(c.Participant); !ok {
			return Errorf(ENOTFOUND, "PARTICIPANT_NOT_FOUND", "no participant %.64q in this negotiation", c.Participant)
		}
		participant, member = c.Participant, memberOr(c.Member, c.Participant)
	} else if err := d.act("revoke a signing key", RoleDelegation); err != nil {
		return err
	}
	current, has := d.n.CurrentKey(participant, member)
	if !has || current.ID != c.KeyID {
		return Errorf(EFAILEDPRECONDITION, "KEY_NOT_CURRENT", "key %.64q is not the current key of %s", c.KeyID, member)
	}
	if d.m.Actor != AdminActor {
		s := d.statement(consent.KeyRevocation)
		s.Key = c.KeyID
		if !consent.Verify(current.PublicKey, s, c.Signature) {
			return Errorf(EINVALID, "SIGNATURE_INVALID", "the revocation is not signed by key %s", c.KeyID)
		}
	} else if len(c.Signature) > 0 {
		return Errorf(EINVALID, "SIGNATURE_INVALID", "the administrator revokes a key without a signature")
	}
	d.emit(KeyRevoked{Participant: participant, Member: member, KeyID: c.KeyID, Signature: c.Signature})
	return nil
}

func (d *decider) requireSignatures() error {
	if err := d.change("require signatures"); err != nil {
		return err
	}
	if d.n.SignaturesRequired() {
		return Errorf(EFAILEDPRECONDITION, "SIGNATURES_ALREADY_REQUIRED", "this negotiation requires signatures since event %d", d.n.SignaturesRequiredFrom)
	}
	d.emit(SignaturesRequired{})
	return nil
}

// checkConsent checks the consent of a vote, sign-off or acceptance whose
// statement s lacks only the checkpoint: required once the negotiation
// requires signatures, and checked whenever given. The checkpoint's root was
// checked against the log before the rules ran; here its size must be one
// the log had.
func (d *decider) checkConsent(c *Consent, s consent.Statement) error {
	if c == nil {
		if d.n.SignaturesRequired() {
			return Errorf(EFAILEDPRECONDITION, "SIGNATURE_REQUIRED", "this negotiation requires signed consent since event %d: sign with your registered key", d.n.SignaturesRequiredFrom)
		}
		return nil
	}
	if _, err := hex.DecodeString(c.KeyID); err != nil || !sha256HexPattern.MatchString(c.KeyID) {
		return Errorf(EINVALID, "SIGNATURE_MALFORMED", "key_id must be 64 lowercase hex digits")
	}
	if len(c.Signature) != ed25519.SignatureSize {
		return Errorf(EINVALID, "SIGNATURE_MALFORMED", "a signature is %d bytes, not %d", ed25519.SignatureSize, len(c.Signature))
	}
	if c.Checkpoint == nil || c.Checkpoint.TreeSize < 1 || len(c.Checkpoint.RootHash) != 32 {
		return Errorf(EINVALID, "SIGNATURE_MALFORMED", "a consent names the checkpoint its signer verified: a tree size of at least 1 and a 32-byte root")
	}
	if c.Checkpoint.TreeSize > d.n.LastSequence {
		return Errorf(EFAILEDPRECONDITION, "CHECKPOINT_UNKNOWN", "the log never had %d events: it has %d", c.Checkpoint.TreeSize, d.n.LastSequence)
	}
	k, ok := d.n.SigningKeys[c.KeyID]
	switch {
	case !ok:
		return Errorf(EFAILEDPRECONDITION, "KEY_UNKNOWN", "key %s was never registered in this negotiation", c.KeyID)
	case k.Participant != s.Participant || k.Member != s.Member:
		return Errorf(EPERMISSION, "KEY_OF_OTHER_MEMBER", "key %s is %s's, not %s's", c.KeyID, k.Member, s.Member)
	case k.EndSequence != 0:
		return Errorf(EFAILEDPRECONDITION, "KEY_REVOKED", "key %s stopped being valid at event %d", c.KeyID, k.EndSequence)
	}
	s.CheckpointSize, s.CheckpointRoot = c.Checkpoint.TreeSize, c.Checkpoint.RootHash
	if !consent.Verify(k.PublicKey, s, c.Signature) {
		return Errorf(EINVALID, "SIGNATURE_INVALID", "the signature is not key %s's over this %s", c.KeyID, s.Kind)
	}
	return nil
}

// AmendmentDigest returns the digest of an amendment's parts that a vote's
// consent signs.
func AmendmentDigest(a *Amendment) string {
	changes := a.Changes()
	parts := make([]consent.Part, len(changes))
	for i, c := range changes {
		parts[i] = consent.Part{Kind: c.Kind.String(), Point: c.PointID, BaseRevision: c.BaseRevision, Text: c.Text}
	}
	return consent.AmendmentDigest(parts)
}

func (d *decider) checkVoteConsent(c *Consent, a *Amendment, choice VoteChoice, reason string) error {
	if c == nil { // no statement to check: spare an unsigned vote the digests
		return d.checkConsent(nil, consent.Statement{})
	}
	s := d.statement(consent.Vote)
	s.Amendment, s.AmendmentSHA256, s.Choice, s.ReasonSHA256 = a.ID, AmendmentDigest(a), choice.String(), consent.Hash([]byte(reason))
	return d.checkConsent(c, s)
}

func (d *decider) checkSignOffConsent(c *Consent, pointID string, rev Revision) error {
	s := d.statement(consent.SignOff)
	s.Point, s.Revision, s.TextSHA256 = pointID, rev.Revision, rev.TextHash
	return d.checkConsent(c, s)
}

func (d *decider) checkAcceptanceConsent(c *Consent, documentHash string) error {
	s := d.statement(consent.Acceptance)
	s.DocumentSHA256 = documentHash
	return d.checkConsent(c, s)
}
