package client

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// PageVerifier is an EventVerifier that can also check a whole page of
// listed events at once, with one proof instead of one per event. Events
// calls VerifyPage before it passes the page's events to VerifyEvent.
type PageVerifier interface {
	EventVerifier
	VerifyPage(ctx context.Context, negotiation string, page []*parleyv1.EventRecord) error
}

// LogVerifier checks every event a Client lists or watches against the
// server's signed checkpoints, and keeps the last checkpoint it trusted per
// negotiation in a TrustStore: set it as Options.Verifier. Events read from
// the start of a log are folded into a Merkle tree that must be a prefix of
// a signed checkpoint; an event read without its predecessors is checked
// with an inclusion proof. A failure is a *LogError carrying the evidence.
type LogVerifier struct {
	key   string
	trust *TrustStore

	// OnKeyRotation, if set, hears of each rotation of the server's
	// checkpoint key a log follows (see AuditLog.OnKeyRotation). Set it
	// before the first call.
	OnKeyRotation func(KeyRotation)

	mu   sync.Mutex
	conn grpc.ClientConnInterface
	logs map[string]*verifiedLog
}

// verifiedLog is one negotiation's log as far as it was checked.
type verifiedLog struct {
	*AuditLog
	// page holds the leaf hashes of events checked ahead of their delivery
	// (a listed page, or what a checkpoint covered), by sequence.
	page map[int64][]byte
}

// aheadLimit bounds how many events a live check fetches ahead of the one it
// checks; beyond it, a consistency proof covers the rest.
const aheadLimit = 10_000

// NewLogVerifier returns a verifier of checkpoints signed by verifierKey
// ("name+hash+data", pinned out of band), keeping trusted checkpoints in
// trust (nil keeps them in memory only).
func NewLogVerifier(verifierKey string, trust *TrustStore) (*LogVerifier, error) {
	if _, err := note.NewVerifier(verifierKey); err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	return &LogVerifier{key: verifierKey, trust: trust, logs: map[string]*verifiedLog{}}, nil
}

// useConn gives the verifier the connection of the Client it verifies for.
func (v *LogVerifier) useConn(conn grpc.ClientConnInterface) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.conn = conn
}

func (v *LogVerifier) log(negotiation string) (*verifiedLog, error) {
	if l, ok := v.logs[negotiation]; ok {
		return l, nil
	}
	if v.conn == nil {
		return nil, fmt.Errorf("client: the LogVerifier is not attached to a Client; pass it in Options.Verifier")
	}
	al, err := NewAuditLog(v.conn, negotiation, v.key, v.trust)
	if err != nil {
		return nil, err
	}
	al.OnKeyRotation = v.OnKeyRotation
	l := &verifiedLog{AuditLog: al}
	v.logs[negotiation] = l
	return l, nil
}

// VerifyPage checks a page of listed events. If the page continues the
// events checked before (or starts the log), they join the tree and one
// consistency proof checks them all.
func (v *LogVerifier) VerifyPage(ctx context.Context, negotiation string, page []*parleyv1.EventRecord) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	l, err := v.log(negotiation)
	if err != nil || len(page) == 0 || uint64(page[0].GetSequence()) != l.Size()+1 {
		return err // not contiguous: each event gets an inclusion proof
	}
	if err := l.Add(page...); err != nil {
		return err
	}
	if err := l.Verify(ctx); err != nil {
		return err
	}
	l.page = map[int64][]byte{}
	l.remember(page)
	return nil
}

// remember keeps the leaf hashes of events checked ahead of their delivery.
func (l *verifiedLog) remember(recs []*parleyv1.EventRecord) {
	for _, rec := range recs {
		l.page[rec.GetSequence()] = rfc6962.DefaultHasher.HashLeaf(rec.GetLeaf())
	}
}

// VerifyEvent checks one event: one checked with its page must have the same
// bytes; one that continues the tree joins it and the tree is checked
// against a checkpoint; any other gets an inclusion proof.
func (v *LogVerifier) VerifyEvent(ctx context.Context, negotiation string, rec *parleyv1.EventRecord) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	l, err := v.log(negotiation)
	if err != nil {
		return err
	}
	if _, ok := l.page[rec.GetSequence()]; ok {
		return v.verifyCached(l, rec)
	}
	if uint64(rec.GetSequence()) == l.Size()+1 {
		if err := v.catchUp(ctx, l); err != nil {
			return err
		}
		if _, ok := l.page[rec.GetSequence()]; ok {
			return v.verifyCached(l, rec)
		}
		if err := l.Add(rec); err != nil {
			return err
		}
		return l.Verify(ctx)
	}
	return l.VerifyInclusion(ctx, rec)
}

// catchUp checks a live event cheaply: one checkpoint, and one page of the
// events it covers beyond the tree, checked at once against its root. The
// events that follow in the watch are then already checked, so a burst of
// events costs a few calls, not a few per event.
func (v *LogVerifier) catchUp(ctx context.Context, l *verifiedLog) error {
	cp, err := l.Sync(ctx)
	if err != nil {
		return err
	}
	if cp.Size <= l.Size() {
		return nil
	}
	svc := parleyv1.NewNegotiationServiceClient(v.conn)
	until := min(cp.Size, l.Size()+aheadLimit)
	l.page = map[int64][]byte{}
	for l.Size() < until {
		resp, err := retried(ctx, func() (*parleyv1.ListEventsResponse, error) {
			return svc.ListEvents(ctx, &parleyv1.ListEventsRequest{Negotiation: l.negotiation,
				AfterSequence: int64(l.Size()), PageSize: int32(min(1000, until-l.Size()))})
		})
		if err != nil {
			return err
		}
		recs := resp.GetEvents()
		if len(recs) == 0 {
			return l.fail("ROLLBACK", fmt.Sprintf("the server signed a log of %d events but lists only %d", cp.Size, l.Size()), cp.Note, nil)
		}
		if err := l.Add(recs...); err != nil {
			return err
		}
		l.remember(recs)
	}
	return l.Verify(ctx)
}

// verifyCached checks an event against the leaf hash checked ahead for its
// sequence.
func (v *LogVerifier) verifyCached(l *verifiedLog, rec *parleyv1.EventRecord) error {
	want := l.page[rec.GetSequence()]
	delete(l.page, rec.GetSequence())
	if !bytes.Equal(want, rfc6962.DefaultHasher.HashLeaf(rec.GetLeaf())) {
		return l.fail("EVENT_MISMATCH", fmt.Sprintf("event %d is not the one checked against the signed log", rec.GetSequence()), "", nil)
	}
	return nil
}

// seenCheckpoint returns the signed note of a checkpoint the client has just
// verified, for a sign-off or an acceptance to name; "" without a
// LogVerifier.
func (c *Client) seenCheckpoint(ctx context.Context, negotiation string) (string, error) {
	v, ok := c.verifier.(*LogVerifier)
	if !ok {
		return "", nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	l, err := v.log(negotiation)
	if err != nil {
		return "", err
	}
	cp, err := l.Sync(ctx)
	if err != nil {
		return "", err
	}
	return cp.Note, nil
}

// negotiationOf returns the negotiation part of a resource name.
func negotiationOf(name string) string {
	parts := strings.SplitN(name, "/", 3)
	if len(parts) < 2 {
		return name
	}
	return parts[0] + "/" + parts[1]
}

// Verify checks that the events added so far are a prefix of a trusted
// checkpoint, fetching a newer checkpoint when they go beyond the trusted
// one.
func (l *AuditLog) Verify(ctx context.Context) error {
	if l.trusted == nil || l.Size() > l.trusted.Size {
		_, err := l.Sync(ctx)
		return err
	}
	return l.consistent(ctx, l.Size(), l.Root(), l.trusted, "ROOT_MISMATCH")
}
