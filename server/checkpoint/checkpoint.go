// Package checkpoint signs and opens checkpoints of a negotiation's audit
// log: notes in the C2SP tlog-checkpoint format (origin, tree size, root
// hash), signed with the server's Ed25519 key as transparency logs do.
package checkpoint

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/parley-negotiation/parley/server/credential"
)

// Checkpoint is the signed statement "the log of origin had size leaves with
// this root hash".
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
}

// Body returns the text a checkpoint note signs: three lines, each ending in
// a newline.
func Body(c Checkpoint) string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root))
}

// ParseBody reads the text of a checkpoint note. Extension lines after the
// third are allowed by the format and ignored.
func ParseBody(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		return Checkpoint{}, errors.New("a checkpoint has an origin line, a size line and a root hash line")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || lines[1] != strconv.FormatUint(size, 10) {
		return Checkpoint{}, fmt.Errorf("checkpoint size %q is not a decimal number", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		return Checkpoint{}, fmt.Errorf("checkpoint root hash %q is not 32 bytes of base64", lines[2])
	}
	if lines[0] == "" {
		return Checkpoint{}, errors.New("checkpoint origin is empty")
	}
	return Checkpoint{Origin: lines[0], Size: size, Root: root}, nil
}

// Signer signs checkpoints with the server's key.
type Signer struct {
	signer      note.Signer
	verifier    note.Verifier
	verifierKey string
}

// LoadOrCreate reads the note signing key in path, or creates one named name
// there, with mode 0600, if the file does not exist.
func LoadOrCreate(path, name string) (*Signer, error) {
	skey, _, err := credential.LoadOrCreateSecret(path, "checkpoint key", func() (string, error) {
		skey, _, err := note.GenerateKey(rand.Reader, name)
		return skey, err
	})
	if err != nil {
		return nil, err
	}
	return NewSigner(skey)
}

// NewSigner returns a signer for an encoded note signer key
// ("PRIVATE+KEY+<name>+<hash>+<keydata>").
func NewSigner(skey string) (*Signer, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint key: %w", err)
	}
	// The key data is the algorithm byte then the Ed25519 seed; the public
	// key, and so the verifier key, follow from it. Base64 holds '+' too, so
	// only the first four separate fields.
	parts := strings.SplitN(skey, "+", 5)
	data, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(data) != 1+ed25519.SeedSize || data[0] != 1 {
		return nil, errors.New("checkpoint key is not an Ed25519 note key")
	}
	public := ed25519.NewKeyFromSeed(data[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), public)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Signer{signer: signer, verifier: verifier, verifierKey: vkey}, nil
}

// Name returns the key's name.
func (s *Signer) Name() string { return s.signer.Name() }

// VerifierKey returns the public verifier key parties pin.
func (s *Signer) VerifierKey() string { return s.verifierKey }

// Verifier returns the verifier of the signer's own signatures.
func (s *Signer) Verifier() note.Verifier { return s.verifier }

// Sign returns the signed note of a checkpoint.
func (s *Signer) Sign(c Checkpoint) (string, error) {
	msg, err := note.Sign(&note.Note{Text: Body(c)}, s.signer)
	if err != nil {
		return "", err
	}
	return string(msg), nil
}

// Open verifies a signed checkpoint note with the given verifier and parses
// it.
func Open(signed string, verifier note.Verifier) (Checkpoint, error) {
	n, err := note.Open([]byte(signed), note.VerifierList(verifier))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	return ParseBody(n.Text)
}
