package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	verifiers   note.Verifiers
	trust       *TrustStore
	tree        *compact.Range // over the leaves added so far
	trusted     *Checkpoint
}

var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// NewAuditLog verifies the log of a negotiation (its resource name) served
// on conn, with checkpoints signed by the key verifierKey ("name+hash+data",
// pinned out of band). trust may be nil to keep nothing across runs.
func NewAuditLog(conn grpc.ClientConnInterface, negotiation, verifierKey string, trust *TrustStore) (*AuditLog, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	return &AuditLog{
		negotiation: negotiation,
		audit:       parleyv1.NewAuditServiceClient(conn),
		verifiers:   note.VerifierList(v),
		trust:       trust,
		tree:        rangeFactory.NewEmptyRange(0),
	}, nil
}

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
		if err := l.tree.Append(rfc6962.DefaultHasher.HashLeaf(rec.GetLeaf()), nil); err != nil {
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
			c, err := l.open(signed)
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
	if err != nil {
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
	if err := l.trust.Save(l.negotiation, c.Note); err != nil {
		return nil, err
	}
	l.trusted = c
	return c, nil
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
	n, err := note.Open([]byte(signed), l.verifiers)
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
