package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/client/atomicfile"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// This file verifies a negotiation's audit log on the client's side, from
// the wire format alone: it shares no code with the server, as a client in
// another language would not. docs/audit.md describes the formats.

// Checkpoint is a verified statement of the server: the log of Origin had
// Size events with this Merkle root.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
	Note   string // the signed note as received, kept as evidence
}

// LogError reports that the server's log cannot be trusted, with the
// evidence: the checkpoint trusted before, the one presented, and the proof.
type LogError struct {
	Negotiation string
	Reason      string // ROLLBACK, FORK, ROOT_MISMATCH, GAP, EVENT_MISMATCH, BAD_CHECKPOINT
	Detail      string
	Trusted     string   // the signed note trusted before, if any
	Presented   string   // the signed note the server presented
	Proof       [][]byte // the proof that failed, if any
}

func (e *LogError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "audit log of %s cannot be trusted (%s): %s", e.Negotiation, e.Reason, e.Detail)
	if e.Trusted != "" {
		fmt.Fprintf(&b, "\n--- trusted checkpoint ---\n%s", e.Trusted)
	}
	if e.Presented != "" {
		fmt.Fprintf(&b, "\n--- presented checkpoint ---\n%s", e.Presented)
	}
	if len(e.Proof) > 0 {
		b.WriteString("\n--- proof ---\n")
		for _, h := range e.Proof {
			b.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
		}
	}
	return b.String()
}

// retried makes a read of the log with the default retry policy: the
// verifier's own calls must ride out a restart or a rate limit as the
// client's calls do.
func retried[T any](ctx context.Context, call func() (T, error)) (T, error) {
	p := DefaultRetryPolicy
	for n := 1; ; n++ {
		resp, err := call()
		if err == nil || n >= p.MaxAttempts || !retryable(ctx, toError(err)) {
			return resp, err
		}
		if sleep(ctx, p.backoff(n)) != nil {
			return resp, err
		}
	}
}

// IsLogError reports whether err says the log cannot be trusted.
func IsLogError(err error) bool {
	var e *LogError
	return errors.As(err, &e)
}

// TrustStore keeps the last checkpoint trusted for each negotiation, one
// file per negotiation in a folder, so that a rewrite of history is caught
// even across runs of the client.
type TrustStore struct{ Dir string }

func (t *TrustStore) path(negotiation string) string {
	return filepath.Join(t.Dir, strings.ReplaceAll(negotiation, "/", "_")+".checkpoint")
}

func (t *TrustStore) keyPath(negotiation string) string {
	return filepath.Join(t.Dir, strings.ReplaceAll(negotiation, "/", "_")+".verifier-key")
}

// LoadKey returns the checkpoint key learned for a negotiation by following
// a key rotation in its log, or "" if none was.
func (t *TrustStore) LoadKey(negotiation string) (string, error) {
	if t == nil || t.Dir == "" {
		return "", nil
	}
	raw, err := os.ReadFile(t.keyPath(negotiation))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(raw)), err
}

// SaveKey records the checkpoint key learned through a key rotation.
func (t *TrustStore) SaveKey(negotiation, verifierKey string) error {
	if t == nil || t.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(t.Dir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(t.keyPath(negotiation), []byte(verifierKey+"\n"))
}

// Load returns the signed note trusted for a negotiation, or "" if none.
func (t *TrustStore) Load(negotiation string) (string, error) {
	if t == nil || t.Dir == "" {
		return "", nil
	}
	raw, err := os.ReadFile(t.path(negotiation))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return string(raw), err
}

// Save records a signed note as trusted, atomically, with mode 0600.
func (t *TrustStore) Save(negotiation, signed string) error {
	if t == nil || t.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(t.Dir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(t.path(negotiation), []byte(signed))
}

// AuditLog verifies one negotiation's log: the events added to it, in order
// from the first, and the server's checkpoints, each consistent with the
// last one trusted.
type AuditLog struct {
	negotiation string
	audit       parleyv1.AuditServiceClient
	events      parleyv1.NegotiationServiceClient
	key         string         // checkpoints must be signed by it: the pinned key, or one a rotation introduced
	verifiers   note.Verifiers // of key
	knownKeys   []string       // every key trusted for this log, to read the trusted checkpoint on disk
	trust       *TrustStore
	tree        *compact.Range  // over the leaves added so far
	consents    *consentChecker // checks the signed consents of the leaves added
	trusted     *Checkpoint

	// OnKeyRotation, if set, hears of each key rotation the log follows:
	// tell the user, loudly.
	OnKeyRotation func(KeyRotation)
}

// KeyRotation is a change of the server's checkpoint key that an AuditLog
// followed: the log recorded it at Sequence, and a checkpoint signed by the
// new key is consistent with the last one trusted under the old key.
// Everything after TrustedSize is vouched for by the new key only.
type KeyRotation struct {
	Negotiation string `json:"negotiation"`
	Sequence    int64  `json:"sequence"` // of the CheckpointKeyRotated event
	From        string `json:"from"`     // verifier keys
	To          string `json:"to"`
	TrustedSize uint64 `json:"trusted_size"` // size of the last checkpoint trusted under From; 0 if none
}

var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// NewAuditLog verifies the log of a negotiation (its resource name) served
// on conn, with checkpoints signed by the key verifierKey ("name+hash+data",
// pinned out of band). trust may be nil to keep nothing across runs.
func NewAuditLog(conn grpc.ClientConnInterface, negotiation, verifierKey string, trust *TrustStore) (*AuditLog, error) {
	pinned, err := note.NewVerifier(verifierKey)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	l := &AuditLog{
		negotiation: negotiation,
		audit:       parleyv1.NewAuditServiceClient(conn),
		events:      parleyv1.NewNegotiationServiceClient(conn),
		key:         verifierKey,
		verifiers:   note.VerifierList(pinned),
		knownKeys:   []string{verifierKey},
		trust:       trust,
		tree:        rangeFactory.NewEmptyRange(0),
		consents:    newConsentChecker(negotiation),
	}
	learned, err := trust.LoadKey(negotiation)
	if err != nil {
		return nil, err
	}
	if learned != "" && learned != verifierKey {
		v, err := note.NewVerifier(learned)
		if err != nil {
			return nil, fmt.Errorf("key learned from a rotation, on disk: %w", err)
		}
		l.key, l.verifiers, l.knownKeys = learned, note.VerifierList(v), append(l.knownKeys, learned)
	}
	return l, nil
}

// ExpectKeys tells the log which signing keys (by key id) a member holds:
// the caller's own. A key registered in that member's name that is not one
// of them is then a failure (KEY_REGISTRATION_FOREIGN): only the member can
// tell that its first key was registered by somebody else. member is the
// participant id for its default member. Call it before Add.
func (l *AuditLog) ExpectKeys(participant, member string, keyIDs ...string) {
	if l.consents.own == nil {
		l.consents.own = map[string]map[string]bool{}
	}
	set := map[string]bool{}
	for _, id := range keyIDs {
		set[id] = true
	}
	l.consents.own[participant+"/"+member] = set
}

// SignedConsents returns how many signed votes, sign-offs and acceptances
// of the events added were checked against their members' keys.
func (l *AuditLog) SignedConsents() int { return l.consents.signed }

// Size returns the number of events added.
func (l *AuditLog) Size() uint64 { return l.tree.End() }

// Root returns the Merkle root of the events added.
func (l *AuditLog) Root() []byte {
	root, _ := l.tree.GetRootHash(nil)
	return root
}

// Trusted returns the last checkpoint trusted, or nil.
func (l *AuditLog) Trusted() *Checkpoint { return l.trusted }

// Add appends received events, which must follow the ones added before
// without a gap. Each leaf must decode to an event of this negotiation that
// states its own sequence number.
func (l *AuditLog) Add(records ...*parleyv1.EventRecord) error {
	for _, rec := range records {
		want := l.tree.End() + 1
		var e parleyv1.Event
		switch {
		case rec.GetSequence() != int64(want):
			return l.fail("GAP", fmt.Sprintf("received event %d after event %d", rec.GetSequence(), want-1), "", nil)
		case proto.Unmarshal(rec.GetLeaf(), &e) != nil:
			return l.fail("EVENT_MISMATCH", fmt.Sprintf("event %d's leaf bytes do not decode", want), "", nil)
		case e.GetSequence() != int64(want) || e.GetNegotiation() != l.negotiation:
			return l.fail("EVENT_MISMATCH", fmt.Sprintf("the leaf served as event %d of %s says it is event %d of %s",
				want, l.negotiation, e.GetSequence(), e.GetNegotiation()), "", nil)
		}
		if err := l.consents.add(&e); err != nil {
			return err
		}
		if err := l.tree.Append(rfc6962.DefaultHasher.HashLeaf(rec.GetLeaf()), l.consents.visit); err != nil {
			return err
		}
	}
	return nil
}

// Sync fetches the server's current checkpoint and trusts it if its
// signature is good, it is consistent with the checkpoint trusted before,
// and the events added so far are a prefix of it. It returns the checkpoint;
// a *LogError carries the evidence if any check fails.
func (l *AuditLog) Sync(ctx context.Context) (*Checkpoint, error) {
	if l.trusted == nil {
		signed, err := l.trust.Load(l.negotiation)
		if err != nil {
			return nil, err
		}
		if signed != "" {
			c, err := l.openWith(signed, note.VerifierList(verifiersOf(l.knownKeys)...))
			if err != nil {
				return nil, fmt.Errorf("trusted checkpoint on disk: %w", err)
			}
			l.trusted = c
		}
	}
	resp, err := retried(ctx, func() (*parleyv1.GetCheckpointResponse, error) {
		return l.audit.GetCheckpoint(ctx, &parleyv1.GetCheckpointRequest{Negotiation: l.negotiation})
	})
	if err != nil {
		return nil, err
	}
	c, err := l.open(resp.GetCheckpoint())
	var rotation *KeyRotation
	var unknownKey *note.UnverifiedNoteError
	if errors.As(err, &unknownKey) {
		c, rotation, err = l.followRotation(ctx, resp.GetCheckpoint())
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, l.fail("BAD_CHECKPOINT", err.Error(), resp.GetCheckpoint(), nil)
	}
	if t := l.trusted; t != nil {
		if err := l.consistent(ctx, t.Size, t.Root, c, "FORK"); err != nil {
			return nil, err
		}
	}
	if size := l.tree.End(); size > 0 {
		if size > c.Size {
			return nil, l.fail("ROLLBACK", fmt.Sprintf("the server served %d events but signs a log of %d", size, c.Size), c.Note, nil)
		}
		if err := l.consistent(ctx, size, l.Root(), c, "ROOT_MISMATCH"); err != nil {
			return nil, err
		}
	}
	if rotation != nil {
		if err := l.adopt(*rotation); err != nil {
			return nil, err
		}
	}
	if err := l.trust.Save(l.negotiation, c.Note); err != nil {
		return nil, err
	}
	l.trusted = c
	return c, nil
}

// followRotation handles a checkpoint signed by a key this log does not
// accept. It is accepted only if the log, after the last checkpoint
// trusted, records a rotation to the key that signed it, and that event is
// in the checkpoint (an inclusion proof). Sync then checks, as for any
// checkpoint, that it is consistent with the one trusted under the old key.
// The old key cannot vouch for the new one (it may be lost: that is why keys
// are rotated), so a rotation is always reported to the user.
func (l *AuditLog) followRotation(ctx context.Context, signed string) (*Checkpoint, *KeyRotation, error) {
	size, err := claimedSize(signed)
	if err != nil {
		return nil, nil, l.fail("BAD_CHECKPOINT", err.Error(), signed, nil)
	}
	from := uint64(0)
	if l.trusted != nil {
		from = l.trusted.Size
	}
	if size <= from {
		return nil, nil, l.fail("BAD_CHECKPOINT", fmt.Sprintf("the checkpoint is signed by a key that is not %s, "+
			"and covers no event after the %d trusted under it, so no key rotation can introduce it", l.key, from), signed, nil)
	}
	var found *parleyv1.EventRecord
	var foundKey string
	var c *Checkpoint
	for after := from; after < size; {
		resp, err := retried(ctx, func() (*parleyv1.ListEventsResponse, error) {
			return l.events.ListEvents(ctx, &parleyv1.ListEventsRequest{Negotiation: l.negotiation,
				AfterSequence: int64(after), PageSize: int32(min(1000, size-after))})
		})
		if err != nil {
			return nil, nil, err
		}
		if len(resp.GetEvents()) == 0 {
			break
		}
		for _, rec := range resp.GetEvents() {
			var e parleyv1.Event
			if rec.GetSequence() != int64(after)+1 || proto.Unmarshal(rec.GetLeaf(), &e) != nil || e.GetSequence() != rec.GetSequence() {
				return nil, nil, l.fail("EVENT_MISMATCH", fmt.Sprintf("event %d, listed while looking for a key rotation, is not itself", after+1), "", nil)
			}
			after++
			key := e.GetCheckpointKeyRotated().GetVerifierKey()
			if key == "" {
				continue
			}
			v, err := note.NewVerifier(key)
			if err != nil {
				continue
			}
			if opened, err := l.openWith(signed, note.VerifierList(v)); err == nil {
				found, foundKey, c = rec, key, opened
			}
		}
	}
	if found == nil {
		return nil, nil, l.fail("BAD_CHECKPOINT", fmt.Sprintf("the checkpoint is signed by a key that is not %s, and the "+
			"log after the %d events trusted records no rotation to that key", l.key, from), signed, nil)
	}
	proofResp, err := retried(ctx, func() (*parleyv1.GetInclusionProofResponse, error) {
		return l.audit.GetInclusionProof(ctx, &parleyv1.GetInclusionProofRequest{
			Negotiation: l.negotiation, Sequence: found.GetSequence(), TreeSize: int64(c.Size)})
	})
	if err != nil {
		return nil, nil, err
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(found.GetLeaf())
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(found.GetSequence()-1), c.Size, leaf, proofResp.GetHashes(), c.Root); err != nil {
		return nil, nil, l.fail("ROOT_MISMATCH", fmt.Sprintf("the key rotation at event %d is not in the checkpoint its key signed: %v",
			found.GetSequence(), err), signed, proofResp.GetHashes())
	}
	return c, &KeyRotation{Negotiation: l.negotiation, Sequence: found.GetSequence(), From: l.key, To: foundKey, TrustedSize: from}, nil
}

// adopt makes the key a rotation introduced the one checkpoints must be
// signed by, keeps it for later runs, and tells the user.
func (l *AuditLog) adopt(r KeyRotation) error {
	v, err := note.NewVerifier(r.To)
	if err != nil {
		return err
	}
	if err := l.trust.SaveKey(l.negotiation, r.To); err != nil {
		return err
	}
	l.key, l.verifiers = r.To, note.VerifierList(v)
	if !slices.Contains(l.knownKeys, r.To) {
		l.knownKeys = append(l.knownKeys, r.To)
	}
	if l.OnKeyRotation != nil {
		l.OnKeyRotation(r)
	}
	return nil
}

// Key returns the verifier key checkpoints of this log must be signed by
// now: the pinned one, or the last a followed rotation introduced.
func (l *AuditLog) Key() string { return l.key }

// verifiersOf returns the verifiers of keys, for a note.VerifierList.
func verifiersOf(keys []string) []note.Verifier {
	var out []note.Verifier
	for _, k := range keys {
		if v, err := note.NewVerifier(k); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// claimedSize reads the tree size a checkpoint note states, without checking
// its signature.
func claimedSize(signed string) (uint64, error) {
	text, _, ok := strings.Cut(signed, "\n\n")
	lines := strings.Split(text, "\n")
	if !ok || len(lines) < 3 {
		return 0, errors.New("the checkpoint is not a signed note")
	}
	return strconv.ParseUint(lines[1], 10, 64)
}

// consistent checks that the log of size with root is a prefix of c.
func (l *AuditLog) consistent(ctx context.Context, size uint64, root []byte, c *Checkpoint, reason string) error {
	switch {
	case size > c.Size:
		return l.fail("ROLLBACK", fmt.Sprintf("the server once signed a log of %d events and now one of %d", size, c.Size), c.Note, nil)
	case size == c.Size:
		if !bytes.Equal(root, c.Root) {
			return l.fail(reason, fmt.Sprintf("two different logs of %d events", size), c.Note, nil)
		}
		return nil
	}
	resp, err := retried(ctx, func() (*parleyv1.GetConsistencyProofResponse, error) {
		return l.audit.GetConsistencyProof(ctx, &parleyv1.GetConsistencyProofRequest{
			Negotiation: l.negotiation, FromSize: int64(size), ToSize: int64(c.Size)})
	})
	if err != nil {
		return err
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size, c.Size, resp.GetHashes(), root, c.Root); err != nil {
		return l.fail(reason, fmt.Sprintf("the log of %d events is not a prefix of the log of %d: %v", size, c.Size, err), c.Note, resp.GetHashes())
	}
	return nil
}

// VerifyInclusion checks with an inclusion proof that an event is in the log
// of the trusted checkpoint, without downloading the log.
func (l *AuditLog) VerifyInclusion(ctx context.Context, rec *parleyv1.EventRecord) error {
	c := l.trusted
	if c == nil || uint64(rec.GetSequence()) > c.Size {
		var err error
		if c, err = l.Sync(ctx); err != nil {
			return err
		}
	}
	resp, err := retried(ctx, func() (*parleyv1.GetInclusionProofResponse, error) {
		return l.audit.GetInclusionProof(ctx, &parleyv1.GetInclusionProofRequest{
			Negotiation: l.negotiation, Sequence: rec.GetSequence(), TreeSize: int64(c.Size)})
	})
	if err != nil {
		return err
	}
	leafHash := rfc6962.DefaultHasher.HashLeaf(rec.GetLeaf())
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(rec.GetSequence()-1), c.Size, leafHash, resp.GetHashes(), c.Root); err != nil {
		return l.fail("ROOT_MISMATCH", fmt.Sprintf("event %d is not in the signed log: %v", rec.GetSequence(), err), c.Note, resp.GetHashes())
	}
	return nil
}

func (l *AuditLog) fail(reason, detail, presented string, proof [][]byte) error {
	e := &LogError{Negotiation: l.negotiation, Reason: reason, Detail: detail, Presented: presented, Proof: proof}
	if l.trusted != nil {
		e.Trusted = l.trusted.Note
	}
	return e
}

// open checks a signed checkpoint note and parses it: the origin line must
// name this negotiation, then the size in decimal, then the root hash in
// base64.
func (l *AuditLog) open(signed string) (*Checkpoint, error) {
	return l.openWith(signed, l.verifiers)
}

func (l *AuditLog) openWith(signed string, verifiers note.Verifiers) (*Checkpoint, error) {
	n, err := note.Open([]byte(signed), verifiers)
	if err != nil {
		return nil, fmt.Errorf("checkpoint signature: %w", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return nil, errors.New("checkpoint has fewer than three lines")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("checkpoint size %q: %w", lines[1], err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		return nil, fmt.Errorf("checkpoint root %q is not 32 bytes of base64", lines[2])
	}
	if lines[0] != l.negotiation {
		return nil, fmt.Errorf("checkpoint is of %q, not of %q", lines[0], l.negotiation)
	}
	return &Checkpoint{Origin: lines[0], Size: size, Root: root, Note: signed}, nil
}
