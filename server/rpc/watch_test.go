package rpc_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
)

// stream is an open WatchEvents call whose messages arrive on a channel, so
// that a test can wait for one with a timeout.
type stream struct {
	events chan *parleyv1.EventRecord
	err    chan error
}

func (e *env) watch(ctx context.Context, name string, after int64) *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	e.t.Cleanup(cancel)
	c, err := e.svc.WatchEvents(ctx, &parleyv1.WatchEventsRequest{Negotiation: name, AfterSequence: after})
	if err != nil {
		e.t.Fatal(err)
	}
	s := &stream{events: make(chan *parleyv1.EventRecord, 1000), err: make(chan error, 1)}
	go func() {
		for {
			r, err := c.Recv()
			if err != nil {
				s.err <- err
				return
			}
			s.events <- r.GetEvent()
		}
	}()
	return s
}

// next returns the next event, failing the test if none comes or the stream
// ends.
func (s *stream) next(t *testing.T) *parleyv1.EventRecord {
	t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case err := <-s.err:
		// The reader queues every event before the error, so an event
		// still queued comes first.
		select {
		case ev := <-s.events:
			s.err <- err
			return ev
		default:
		}
		t.Fatalf("the stream ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return nil
}

// quiet checks that no event arrives for a short while.
func (s *stream) quiet(t *testing.T) {
	t.Helper()
	select {
	case ev := <-s.events:
		t.Fatalf("unexpected event %d", ev.GetSequence())
	case err := <-s.err:
		t.Fatalf("the stream ended: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
}

// end waits for the stream to end and returns its error.
func (s *stream) end(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.err:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end within 10s")
	}
	return nil
}

func TestWatchEvents_BacklogThenLive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	listed, err := e.svc.ListEvents(e.asAdmin(), &parleyv1.ListEventsRequest{Negotiation: n.name})
	if err != nil || len(listed.GetEvents()) != 34 {
		t.Fatalf("ListEvents: %d events, %v", len(listed.GetEvents()), err)
	}
	w := e.watch(e.as(n.tokens["ukraine"]), n.name, 0)
	other := e.watch(e.as(n.tokens[demo.Mediator]), n.name, 0)
	for i, want := range listed.GetEvents() {
		for _, s := range []*stream{w, other} {
			if got := s.next(t); !proto.Equal(got, want) {
				t.Fatalf("backlog event %d: got sequence %d, want %d as listed", i+1, got.GetSequence(), want.GetSequence())
			}
		}
	}
	w.quiet(t)

	// Live: each commit reaches both watchers, in order.
	a := e.propose(n, "ukraine", replace, n.points[0], "Sovereignty, confirmed.")
	e.pass(n, a)
	live, err := e.svc.ListEvents(e.asAdmin(), &parleyv1.ListEventsRequest{Negotiation: n.name, AfterSequence: 34})
	if err != nil || len(live.GetEvents()) != 6 { // proposed, 4 votes, closed
		t.Fatalf("after the vote: %d new events, %v", len(live.GetEvents()), err)
	}
	for _, want := range live.GetEvents() {
		for _, s := range []*stream{w, other} {
			if got := s.next(t); !proto.Equal(got, want) {
				t.Fatalf("live event: got %d, want %d", got.GetSequence(), want.GetSequence())
			}
		}
	}
	if live.GetEvents()[0].GetEvent().GetAmendmentProposed() == nil || live.GetEvents()[5].GetEvent().GetVotingClosed() == nil {
		t.Errorf("the live events are not proposal, votes, closing")
	}
	w.quiet(t)
}

func TestWatchEvents_Resume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	// A watcher that saw up to 30 reconnects with 30 and gets 31 onwards.
	w := e.watch(e.asAdmin(), n.name, 30)
	for want := int64(31); want <= 34; want++ {
		if got := w.next(t).GetSequence(); got != want {
			t.Fatalf("resumed at 30: got %d, want %d", got, want)
		}
	}
	w.quiet(t)
	// From the end of the log, only what comes next.
	tail := e.watch(e.asAdmin(), n.name, 34)
	tail.quiet(t)
	e.propose(n, "europe", replace, n.points[1], "Two, by Europe.")
	if got := tail.next(t).GetSequence(); got != 35 {
		t.Fatalf("from the end: got %d, want 35", got)
	}
	if got := w.next(t).GetSequence(); got != 35 {
		t.Fatalf("resumed watcher: got %d, want 35", got)
	}
}

func TestGetCaller(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	c, err := e.svc.GetCaller(e.asAdmin(), &parleyv1.GetCallerRequest{})
	if err != nil || !c.GetAdmin() || c.GetNegotiation() != "" || c.GetParticipant() != nil {
		t.Errorf("admin: %v %v", c, err)
	}
	for id, role := range map[string]parleyv1.Role{"ukraine": parleyv1.Role_ROLE_DELEGATION, demo.Mediator: parleyv1.Role_ROLE_MEDIATOR} {
		c, err := e.svc.GetCaller(e.as(n.tokens[id]), &parleyv1.GetCallerRequest{})
		if err != nil {
			t.Fatal(err)
		}
		p := c.GetParticipant()
		if c.GetAdmin() || c.GetNegotiation() != n.name || p.GetId() != id || p.GetRole() != role || !p.GetHasCredential() || p.GetDisplayName() == "" {
			t.Errorf("%s: %v", id, c)
		}
	}
	_, err = e.svc.GetCaller(e.as("prl_nobody"), &parleyv1.GetCallerRequest{})
	wantError(t, "unknown token", err, codes.Unauthenticated, "TOKEN_INVALID")
}

// TestWatchEvents_TokenRevoked: a watcher lives longer than any single call,
// so revoking or rotating its token must end it, not just refuse its next
// call.
func TestWatchEvents_TokenRevoked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	// Each watcher first receives event 34, which proves the server took
	// its token before the revocation below.
	revoked := e.watch(e.as(n.tokens["ukraine"]), n.name, 33)
	rotated := e.watch(e.as(n.tokens["russia"]), n.name, 33)
	bystander := e.watch(e.as(n.tokens["europe"]), n.name, 33)
	admin := e.watch(e.asAdmin(), n.name, 33)
	for _, s := range []*stream{revoked, rotated, bystander, admin} {
		if got := s.next(t).GetSequence(); got != 34 {
			t.Fatalf("first event %d, want 34", got)
		}
	}

	if _, err := e.admin.RevokeToken(e.asAdmin(), &parleyv1.RevokeTokenRequest{RequestId: rid(), Negotiation: n.name, Participant: "ukraine"}); err != nil {
		t.Fatal(err)
	}
	// Ukraine's watcher is told of its revocation, then cut off.
	if ev := revoked.next(t); ev.GetEvent().GetCredentialRevoked().GetParticipant() != "ukraine" {
		t.Fatalf("revoked watcher's last event: %v", ev.GetEvent())
	}
	wantError(t, "watcher after revocation", revoked.end(t), codes.Unauthenticated, "TOKEN_INVALID")

	if _, err := e.admin.RotateToken(e.asAdmin(), &parleyv1.RotateTokenRequest{RequestId: rid(), Negotiation: n.name, Participant: "russia"}); err != nil {
		t.Fatal(err)
	}
	if ev := rotated.next(t); ev.GetEvent().GetCredentialRevoked() == nil {
		t.Fatalf("rotated watcher's first event: %v, want Ukraine's revocation", ev.GetEvent())
	}
	if ev := rotated.next(t); ev.GetEvent().GetCredentialIssued().GetParticipant() != "russia" {
		t.Fatalf("rotated watcher's last event: %v", ev.GetEvent())
	}
	wantError(t, "watcher after rotation", rotated.end(t), codes.Unauthenticated, "TOKEN_INVALID")

	// Everyone else keeps watching, and sees what comes next.
	e.propose(n, "europe", replace, n.points[1], "Two, by Europe.")
	for what, s := range map[string]*stream{"Europe": bystander, "the administrator": admin} {
		for want := int64(35); want <= 37; want++ {
			if got := s.next(t).GetSequence(); got != want {
				t.Fatalf("%s's watcher: got %d, want %d", what, got, want)
			}
		}
	}
	// A revoked token cannot open a new watch either.
	again := e.watch(e.as(n.tokens["ukraine"]), n.name, 0)
	wantError(t, "new watch with the revoked token", again.end(t), codes.Unauthenticated, "TOKEN_INVALID")
}
