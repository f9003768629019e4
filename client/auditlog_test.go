package client_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	bolt "go.etcd.io/bbolt"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// auditFixture is a server with the demo negotiation and some history.
type auditFixture struct {
	s           *servertest.Server
	negotiation string
	verifierKey string
}

func newAuditFixture(t *testing.T) *auditFixture {
	t.Helper()
	s := servertest.Start(t)
	ctx := servertest.As(context.Background(), s.AdminToken)
	n := s.CreateDemo(context.Background())
	key, err := parleyv1.NewAuditServiceClient(s.Conn()).GetVerifierKey(ctx, &parleyv1.GetVerifierKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return &auditFixture{s: s, negotiation: n.Name, verifierKey: key.GetVerifierKey()}
}

func (f *auditFixture) ctx() context.Context {
	return servertest.As(context.Background(), f.s.AdminToken)
}

// events lists the whole log.
func (f *auditFixture) events(t *testing.T) []*parleyv1.EventRecord {
	t.Helper()
	var out []*parleyv1.EventRecord
	api := parleyv1.NewNegotiationServiceClient(f.s.Conn())
	req := &parleyv1.ListEventsRequest{Negotiation: f.negotiation, PageSize: 1000}
	for {
		page, err := api.ListEvents(f.ctx(), req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.GetEvents()...)
		if page.GetNextPageToken() == "" {
			return out
		}
		req.PageToken = page.GetNextPageToken()
	}
}

// verify downloads the whole log and checks it against a fresh checkpoint,
// trusting what is in trust (which may be nil).
func (f *auditFixture) verify(t *testing.T, trust *client.TrustStore) error {
	t.Helper()
	log, err := client.NewAuditLog(f.s.Conn(), f.negotiation, f.verifierKey, trust)
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Add(f.events(t)...); err != nil {
		return err
	}
	_, err = log.Sync(f.ctx())
	return err
}

// tamper stops the server, changes its bbolt file as an attacker with the
// disk would, and starts it again.
func (f *auditFixture) tamper(t *testing.T, change func(events, merkle *bolt.Bucket)) {
	t.Helper()
	f.s.Stop()
	db, err := bolt.Open(filepath.Join(f.s.DataDir, "parley.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(f.negotiation, "negotiations/")
	err = db.Update(func(tx *bolt.Tx) error {
		nb := tx.Bucket([]byte("negotiations")).Bucket([]byte(id))
		change(nb.Bucket([]byte("events")), nb.Bucket([]byte("merkle")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	f.s.Restart()
}

func seq(n uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, n)
	return k
}

// rewriteTree recomputes every Merkle node from the stored events, as an
// operator who rewrites history and covers it up would.
func rewriteTree(events, merkle *bolt.Bucket) {
	merkle.ForEach(func(k, _ []byte) error { return merkle.Delete(k) })
	tree := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	var leaves [][]byte
	events.ForEach(func(_, v []byte) error { leaves = append(leaves, append([]byte(nil), v...)); return nil })
	for _, leaf := range leaves {
		tree.Append(rfc6962.DefaultHasher.HashLeaf(leaf), func(id compact.NodeID, hash []byte) {
			k := make([]byte, 9)
			k[0] = byte(id.Level)
			binary.BigEndian.PutUint64(k[1:], id.Index)
			merkle.Put(k, append([]byte(nil), hash...))
		})
	}
}

func TestAuditLog(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newAuditFixture(t)
		trust := &client.TrustStore{Dir: t.TempDir()}
		if err := f.verify(t, trust); err != nil {
			t.Fatal(err)
		}
		// The log grows; a client that trusted the earlier checkpoint
		// accepts the new one because it is consistent with it.
		parleyv1.NewAdminServiceClient(f.s.Conn()).RotateToken(f.ctx(), &parleyv1.RotateTokenRequest{
			Negotiation: f.negotiation, Participant: "ukraine"})
		if err := f.verify(t, trust); err != nil {
			t.Fatal(err)
		}
		// Inclusion of single events against the trusted checkpoint.
		log, _ := client.NewAuditLog(f.s.Conn(), f.negotiation, f.verifierKey, trust)
		for _, rec := range f.events(t) {
			if err := log.VerifyInclusion(f.ctx(), rec); err != nil {
				t.Fatalf("event %d: %v", rec.GetSequence(), err)
			}
		}
	})

	// Each way of tampering with the stored log is caught both by a client
	// verifying from scratch and by one that trusted an earlier checkpoint.
	for _, tc := range []struct {
		name   string
		change func(events, merkle *bolt.Bucket)
		reason string // from a client verifying from scratch
	}{
		{"ErrFlippedByteInText", func(events, _ *bolt.Bucket) {
			v := append([]byte(nil), events.Get(seq(5))...)
			v[len(v)-3] ^= 0x01
			events.Put(seq(5), v)
		}, "ROOT_MISMATCH"},
		{"ErrFlippedFirstByte", func(events, _ *bolt.Bucket) {
			v := append([]byte(nil), events.Get(seq(12))...)
			v[0] ^= 0x80
			events.Put(seq(12), v)
		}, "EVENT_MISMATCH"},
		{"ErrDeletedEvent", func(events, _ *bolt.Bucket) {
			events.Delete(seq(7))
		}, "GAP"},
		{"ErrReorderedEvents", func(events, _ *bolt.Bucket) {
			a, b := append([]byte(nil), events.Get(seq(8))...), append([]byte(nil), events.Get(seq(9))...)
			events.Put(seq(8), b)
			events.Put(seq(9), a)
		}, "EVENT_MISMATCH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAuditFixture(t)
			trust := &client.TrustStore{Dir: t.TempDir()}
			if err := f.verify(t, trust); err != nil {
				t.Fatal(err)
			}
			f.tamper(t, tc.change)
			assertLogError(t, f.verify(t, nil), tc.reason)
			assertLogError(t, f.verify(t, trust), tc.reason)
		})
	}

	// An operator who rewrites an event and recomputes the whole tree serves
	// a log that is consistent with itself: only a client that trusted a
	// checkpoint before the rewrite can tell, and it does.
	t.Run("ErrRewrittenHistory", func(t *testing.T) {
		f := newAuditFixture(t)
		trust := &client.TrustStore{Dir: t.TempDir()}
		if err := f.verify(t, trust); err != nil {
			t.Fatal(err)
		}
		f.tamper(t, func(events, merkle *bolt.Bucket) {
			v := append([]byte(nil), events.Get(seq(3))...)
			v[len(v)-3] ^= 0x01
			events.Put(seq(3), v)
			rewriteTree(events, merkle)
		})
		if err := f.verify(t, nil); err != nil {
			t.Fatalf("a client with no history cannot see a consistent rewrite, yet it failed: %v", err)
		}
		err := f.verify(t, trust)
		assertLogError(t, err, "FORK")
		if !strings.Contains(err.Error(), "--- trusted checkpoint ---") || !strings.Contains(err.Error(), "--- presented checkpoint ---") {
			t.Fatalf("the error does not carry both checkpoints as evidence:\n%v", err)
		}
	})
}

func assertLogError(t *testing.T, err error, reason string) {
	t.Helper()
	var logErr *client.LogError
	if !asLogError(err, &logErr) {
		t.Fatalf("got %v, want a *client.LogError %s", err, reason)
	}
	if logErr.Reason != reason {
		t.Fatalf("got %s (%s), want %s", logErr.Reason, logErr.Detail, reason)
	}
}

func asLogError(err error, target **client.LogError) bool {
	if e, ok := err.(*client.LogError); ok {
		*target = e
		return true
	}
	return false
}

// A Client with a LogVerifier checks every event it lists or watches, and
// stops at the first that does not belong to the signed log.
func TestLogVerifier(t *testing.T) {
	f := newAuditFixture(t)
	trust := &client.TrustStore{Dir: t.TempDir()}
	newClient := func() *client.Client {
		v, err := client.NewLogVerifier(f.verifierKey, trust)
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.New(f.s.Addr, client.Options{Token: f.s.AdminToken, Verifier: v})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	count := func(c *client.Client, after int64) (int, error) {
		n := 0
		for _, err := range c.Events(context.Background(), f.negotiation, after) {
			if err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	}

	t.Run("OK", func(t *testing.T) {
		c := newClient()
		all := len(f.events(t))
		if n, err := count(c, 0); err != nil || n != all {
			t.Fatalf("listed %d of %d events: %v", n, all, err)
		}
		// From the middle, events are checked by inclusion proofs.
		if n, err := count(newClient(), 10); err != nil || n != all-10 {
			t.Fatalf("listed %d of %d events after 10: %v", n, all-10, err)
		}
		// A live event is checked as it arrives.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := make(chan error, 2)
		go func() {
			for rec, err := range c.Watch(ctx, f.negotiation, int64(all)) {
				got <- err
				if err == nil && rec.GetSequence() != int64(all+1) {
					got <- fmt.Errorf("watched event %d, want %d", rec.GetSequence(), all+1)
				}
				return
			}
		}()
		parleyv1.NewAdminServiceClient(f.s.Conn()).RotateToken(f.ctx(), &parleyv1.RotateTokenRequest{Negotiation: f.negotiation, Participant: "russia"})
		if err := <-got; err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrRewrittenHistory", func(t *testing.T) {
		f.tamper(t, func(events, merkle *bolt.Bucket) {
			v := append([]byte(nil), events.Get(seq(3))...)
			v[len(v)-3] ^= 0x01
			events.Put(seq(3), v)
			rewriteTree(events, merkle)
		})
		_, err := count(newClient(), 0)
		assertLogError(t, err, "FORK")
	})
}
