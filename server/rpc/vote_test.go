package rpc_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
)

// A vote asked with vote_only replies with the vote as recorded and the
// amendment's state, not the amendment; the vote counts as any other.
func TestCastVote_VoteOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	a := e.propose(n, "europe", replace, n.points[3], "A shorter point four.")
	vote := func(who string, req *parleyv1.CastVoteRequest) (*parleyv1.CastVoteResponse, error) {
		return e.svc.CastVote(e.as(n.tokens[who]), req)
	}

	t.Run("OK", func(t *testing.T) {
		r, err := vote("ukraine", &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: a.GetName(),
			Choice: parleyv1.VoteChoice_VOTE_CHOICE_REJECT, Reason: "Too short.", VoteOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if r.GetAmendment() != nil {
			t.Errorf("the reply carries the amendment: %v", r.GetAmendment())
		}
		v := r.GetVote()
		if v.GetParticipant() != "ukraine" || v.GetChoice() != parleyv1.VoteChoice_VOTE_CHOICE_REJECT || v.GetReason() != "Too short." ||
			v.GetSequence() != e.lastSequence(n.name) || v.GetCastTime() == nil {
			t.Errorf("vote %v, want ukraine's REJECT at sequence %d", v, e.lastSequence(n.name))
		}
		if r.GetAmendmentState() != parleyv1.AmendmentState_AMENDMENT_STATE_OPEN {
			t.Errorf("amendment state %v, want OPEN", r.GetAmendmentState())
		}
		got, err := e.svc.GetAmendment(e.asAdmin(), &parleyv1.GetAmendmentRequest{Name: a.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		if votes := got.GetAmendment().GetVotes(); len(votes) != 1 || !proto.Equal(votes[0], v) {
			t.Errorf("the amendment's votes are %v, want the vote of the reply %v", votes, v)
		}
	})

	t.Run("Retry", func(t *testing.T) {
		req := &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: a.GetName(), Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, VoteOnly: true}
		first, err := vote("russia", req)
		if err != nil {
			t.Fatal(err)
		}
		seq := e.lastSequence(n.name)
		again, err := vote("russia", req)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(first, again) {
			t.Errorf("retry replied\n%v\nwant\n%v", again, first)
		}
		// The same id with the full reply asked for is another request.
		full := proto.Clone(req).(*parleyv1.CastVoteRequest)
		full.VoteOnly = false
		_, err = vote("russia", full)
		wantError(t, "the same request_id without vote_only", err, codes.AlreadyExists, "REQUEST_ID_REUSED")
		if got := e.lastSequence(n.name); got != seq {
			t.Errorf("retries moved the log from %d to %d", seq, got)
		}
	})

	t.Run("ClosesVoting", func(t *testing.T) {
		b := e.propose(n, "europe", replace, n.points[5], "A shorter point six.")
		var last *parleyv1.CastVoteResponse
		for _, d := range demo.Delegations {
			r, err := vote(d, &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: b.GetName(), Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, VoteOnly: true})
			if err != nil {
				t.Fatalf("%s votes: %v", d, err)
			}
			last = r
		}
		if last.GetAmendmentState() != parleyv1.AmendmentState_AMENDMENT_STATE_PASSED {
			t.Errorf("the last vote left the amendment %v, want PASSED", last.GetAmendmentState())
		}
	})
}
