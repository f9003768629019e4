package rpc_test

import (
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
)

const (
	replace = parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE
	insert  = parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT
	approve = parleyv1.VoteChoice_VOTE_CHOICE_APPROVE
	reject  = parleyv1.VoteChoice_VOTE_CHOICE_REJECT
)

func TestIdempotency_Propose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	ukraine := e.as(n.tokens["ukraine"])
	req := &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: n.name, Kind: replace,
		Point: n.points[24].GetName(), BaseRevision: 1, Text: "Elections within 100 days of the ceasefire."}
	first, err := e.svc.ProposeAmendment(ukraine, req)
	if err != nil {
		t.Fatal(err)
	}
	seq := e.lastSequence(n.name)
	again, err := e.svc.ProposeAmendment(ukraine, req)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !proto.Equal(first, again) {
		t.Errorf("retry replied\n%v\nwant the first reply\n%v", again, first)
	}
	if got := e.lastSequence(n.name); got != seq {
		t.Errorf("retry moved the log from %d to %d", seq, got)
	}

	// The amendment moves on; a late retry still gets the first reply, not
	// the amendment as it is now.
	e.pass(n, first.GetAmendment())
	late, err := e.svc.ProposeAmendment(ukraine, req)
	if err != nil || !proto.Equal(first, late) {
		t.Errorf("late retry: %v, %v; want the first reply", late, err)
	}
	seq = e.lastSequence(n.name)

	// The id with another request is refused, not replayed.
	other := proto.Clone(req).(*parleyv1.ProposeAmendmentRequest)
	other.Text = "Elections within 200 days of the ceasefire."
	_, err = e.svc.ProposeAmendment(ukraine, other)
	wantError(t, "same id, other text", err, codes.AlreadyExists, "REQUEST_ID_REUSED")

	// Request ids are the caller's own: Russia may use the same one.
	russian := proto.Clone(req).(*parleyv1.ProposeAmendmentRequest)
	russian.Point, russian.Text = n.points[23].GetName(), "Grain will move freely."
	if r, err := e.svc.ProposeAmendment(e.as(n.tokens["russia"]), russian); err != nil || r.GetAmendment().GetProposer() != "russia" {
		t.Fatalf("Russia with Ukraine's request id: %v %v", r, err)
	}
	if got := e.lastSequence(n.name); got != seq+1 {
		t.Errorf("log at %d, want %d: only Russia's proposal was new", got, seq+1)
	}
}

func TestIdempotency_RefusalIsNotRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	a := e.propose(n, "ukraine", replace, n.points[0], "Sovereignty, confirmed.")
	russia := e.as(n.tokens["russia"])
	req := &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: a.GetName(), Choice: reject}
	for i := 0; i < 2; i++ {
		_, err := e.svc.CastVote(russia, req)
		wantError(t, "REJECT without a reason", err, codes.InvalidArgument, "REASON_REQUIRED")
	}
	// Nothing was recorded under the id, so the corrected request may use
	// it: a refused request did not happen.
	seq := e.lastSequence(n.name)
	req.Reason = "Already confirmed elsewhere."
	if _, err := e.svc.CastVote(russia, req); err != nil {
		t.Fatalf("corrected vote with the same id: %v", err)
	}
	if got := e.lastSequence(n.name); got != seq+1 {
		t.Errorf("log at %d, want %d", got, seq+1)
	}
}

func TestIdempotency_Apply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	a := e.propose(n, "europe", replace, n.points[26], "A Peace Council of all parties.")
	rival := e.propose(n, "russia", replace, n.points[26], "No council.")
	e.pass(n, a)
	mediator := e.as(n.tokens[demo.Mediator])
	req := &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: a.GetName()}
	first, err := e.svc.ApplyAmendment(mediator, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.GetStaledAmendments()) != 1 || first.GetStaledAmendments()[0] != rival.GetName() || first.GetPoint().GetRevision() != 2 {
		t.Fatalf("apply: %v", first)
	}
	seq := e.lastSequence(n.name)
	again, err := e.svc.ApplyAmendment(mediator, req)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !proto.Equal(first, again) {
		t.Errorf("retry of apply replied\n%v\nwant\n%v", again, first)
	}
	if got := e.lastSequence(n.name); got != seq {
		t.Errorf("retry of apply moved the log from %d to %d", seq, got)
	}
	// With a new id, it is a second application, which the rules refuse.
	_, err = e.svc.ApplyAmendment(mediator, &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: a.GetName()})
	wantError(t, "apply again with a new id", err, codes.FailedPrecondition, "AMENDMENT_NOT_PASSED")
}

// TestIdempotency_Concurrent sends one request many times at once, as a
// client retrying on a flaky network might: one event, one reply for all.
func TestIdempotency_Concurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	a := e.propose(n, "ukraine", replace, n.points[0], "Sovereignty, confirmed.")
	seq := e.lastSequence(n.name)
	req := &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: a.GetName(), Choice: approve}
	const tries = 16
	replies := make([]*parleyv1.CastVoteResponse, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			r, err := e.svc.CastVote(e.as(n.tokens["europe"]), req)
			if err != nil {
				t.Errorf("try %d: %v", i, err)
			}
			replies[i] = r
		})
	}
	wg.Wait()
	for i := 1; i < tries; i++ {
		if !proto.Equal(replies[i], replies[0]) {
			t.Fatalf("try %d got another reply than try 0", i)
		}
	}
	if got := e.lastSequence(n.name); got != seq+1 {
		t.Errorf("%d identical votes made %d events, want 1", tries, got-seq)
	}
}

func TestIdempotency_CreateNegotiation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req := demo.CreateRequest()
	first, err := e.svc.CreateNegotiation(e.asAdmin(), req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.CreateNegotiation(e.asAdmin(), req)
	if err != nil || !proto.Equal(first, again) {
		t.Fatalf("retry of CreateNegotiation: %v; same reply: %v", err, proto.Equal(first, again))
	}
	list, err := e.svc.ListNegotiations(e.asAdmin(), &parleyv1.ListNegotiationsRequest{})
	if err != nil || len(list.GetNegotiations()) != 1 {
		t.Fatalf("after a retried create: %d negotiations (%v), want 1", len(list.GetNegotiations()), err)
	}
}

// TestIdempotency_Tokens: a token is shown once, so a retried IssueToken is
// refused instead of replayed; the token of the first reply keeps working.
func TestIdempotency_Tokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created, err := e.svc.CreateNegotiation(e.asAdmin(), demo.CreateRequest())
	if err != nil {
		t.Fatal(err)
	}
	name := created.GetNegotiation().GetName()
	req := &parleyv1.IssueTokenRequest{RequestId: rid(), Negotiation: name, Participant: "ukraine"}
	first, err := e.admin.IssueToken(e.asAdmin(), req)
	if err != nil {
		t.Fatal(err)
	}
	seq := e.lastSequence(name)
	_, err = e.admin.IssueToken(e.asAdmin(), req)
	wantError(t, "retried IssueToken", err, codes.AlreadyExists, "TOKEN_ALREADY_SHOWN")
	if got := e.lastSequence(name); got != seq {
		t.Errorf("retried IssueToken moved the log from %d to %d", seq, got)
	}
	c, err := e.svc.GetCaller(e.as(first.GetToken()), &parleyv1.GetCallerRequest{})
	if err != nil || c.GetParticipant().GetId() != "ukraine" {
		t.Fatalf("the first token: %v %v", c, err)
	}
	// RotateToken is shown once too.
	rot := &parleyv1.RotateTokenRequest{RequestId: rid(), Negotiation: name, Participant: "ukraine"}
	if _, err := e.admin.RotateToken(e.asAdmin(), rot); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.RotateToken(e.asAdmin(), rot)
	wantError(t, "retried RotateToken", err, codes.AlreadyExists, "TOKEN_ALREADY_SHOWN")
	// RevokeToken holds no secret: its retry replays.
	rev := &parleyv1.RevokeTokenRequest{RequestId: rid(), Negotiation: name, Participant: "ukraine"}
	for i := 0; i < 2; i++ {
		if _, err := e.admin.RevokeToken(e.asAdmin(), rev); err != nil {
			t.Fatalf("RevokeToken try %d: %v", i, err)
		}
	}
	if got := e.lastSequence(name); got != seq+2 {
		t.Errorf("log at %d, want %d (one rotation, one revocation)", got, seq+2)
	}
}
