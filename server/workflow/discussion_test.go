package workflow_test

import (
	"slices"
	"testing"

	"github.com/parley-negotiation/parley/server/workflow"
)

func TestPostComment(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		checkPayloads(t, f.do(ukraine, workflow.PostComment{CommentID: "c-1", PointID: "p1", Text: "  Which borders?\r\n"}),
			[]workflow.Payload{workflow.CommentPosted{CommentID: "c-1", PointID: "p1", Text: "  Which borders?"}})
		// A reply carries its thread's subject, so that the point lists it.
		checkPayloads(t, f.do(mediator, workflow.PostComment{CommentID: "c-2", ParentID: "c-1", Text: "Those of 1991."}),
			[]workflow.Payload{workflow.CommentPosted{CommentID: "c-2", PointID: "p1", ParentID: "c-1", Text: "Those of 1991."}})
		if got := f.n.CommentsOf("p1"); !slices.Equal(got, []string{"c-1", "c-2"}) {
			t.Errorf("comments of p1 = %v", got)
		}
		c := f.n.Comments["c-2"]
		if c.Author != mediator || c.Subject() != "p1" || c.Sequence != f.n.LastSequence {
			t.Errorf("comment = %+v", c)
		}
	})
	t.Run("OnAmendment", func(t *testing.T) {
		f := newFixture(t)
		a := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		f.do(russia, workflow.PostComment{CommentID: "c-1", AmendmentID: a, Text: "Too vague."})
		f.do(ukraine, workflow.PostComment{CommentID: "c-2", ParentID: "c-1", Text: "Say how."})
		if got := f.n.CommentsOf(a); !slices.Equal(got, []string{"c-1", "c-2"}) {
			t.Errorf("comments of %s = %v", a, got)
		}
		if len(f.n.CommentsOf("p1")) != 0 {
			t.Errorf("an amendment's comments are listed on its point too")
		}
		// A settled amendment is still discussed.
		f.do(ukraine, workflow.WithdrawAmendment{AmendmentID: a})
		f.do(europe, workflow.PostComment{CommentID: "c-3", AmendmentID: a, Text: "Pity."})
	})
	t.Run("ObserverWhenAllowed", func(t *testing.T) {
		f := newFixture(t, func(c *workflow.CreateNegotiation) { c.ObserversMayComment = true })
		if !f.n.ObserversMayComment {
			t.Fatal("the negotiation does not say observers may comment")
		}
		f.do(observer, workflow.PostComment{CommentID: "c-1", PointID: "p2", Text: "Our view."})
		f.do(observer, workflow.RetractComment{CommentID: "c-1"})
	})
	t.Run("ErrRoleNotAllowed", func(t *testing.T) {
		f := newFixture(t)
		f.refuse(observer, workflow.PostComment{CommentID: "c-1", PointID: "p2", Text: "Our view."}, workflow.EPERMISSION, "ROLE_NOT_ALLOWED")
	})
}

func TestRetractComment(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		f.do(ukraine, validComment())
		f.do(russia, workflow.PostComment{CommentID: "c-2", ParentID: "c-1", Text: "No."})
		checkPayloads(t, f.do(ukraine, workflow.RetractComment{CommentID: "c-1"}),
			[]workflow.Payload{workflow.CommentRetracted{CommentID: "c-1"}})
		c := f.n.Comments["c-1"]
		if !c.Retracted || c.Text != "" || c.RetractedAt.IsZero() {
			t.Errorf("retracted comment = %+v", c)
		}
		// The log keeps what it said.
		var posted workflow.CommentPosted
		for _, e := range f.log {
			if p, ok := e.Payload.(workflow.CommentPosted); ok && p.CommentID == "c-1" {
				posted = p
			}
		}
		if posted.Text != validComment().Text {
			t.Errorf("the log's comment says %q", posted.Text)
		}
		// Replies made before the retraction stay.
		if got := f.n.CommentsOf("p1"); !slices.Equal(got, []string{"c-1", "c-2"}) {
			t.Errorf("comments of p1 = %v", got)
		}
	})
}

func TestMediatorProposal(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(mediator, workflow.KindReplace, "p1", "A compromise.")
		a := f.amendment(id)
		if a.Proposer != mediator || !f.n.ByMediator(a) {
			t.Fatalf("amendment %+v is not marked as the mediator's", a)
		}
		// The delegations vote on it, and only they: the mediator's own
		// proposal does not give it a vote.
		f.refuse(mediator, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove}, workflow.EPERMISSION, "ROLE_NOT_ALLOWED")
		f.pass(id)
		if tl := f.amendment(id).Tally; tl.Approve != 4 || tl.NotVoted != 0 || tl.ClosedByMediator {
			t.Errorf("tally = %+v", tl)
		}
		f.applyAmendment(id)
		if got := f.n.Points["p1"].Current().Text; got != "A compromise." {
			t.Errorf("p1 = %q", got)
		}
		if f.n.ByMediator(f.amendment(f.propose(ukraine, workflow.KindReplace, "p2", "Other."))) {
			t.Error("a delegation's amendment is marked as the mediator's")
		}
	})
	t.Run("Withdraw", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(mediator, workflow.KindReplace, "p1", "A compromise.")
		f.refuse(ukraine, workflow.WithdrawAmendment{AmendmentID: id}, workflow.EPERMISSION, "NOT_PROPOSER")
		f.do(mediator, workflow.WithdrawAmendment{AmendmentID: id})
		if s := f.amendment(id).State; s != workflow.AmendmentStateWithdrawn {
			t.Errorf("state = %s", s)
		}
	})
}

func TestCounterProposal(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		a := f.propose(ukraine, workflow.KindReplace, "p2", "Ukraine's text.")
		b := f.newID("am")
		f.do(russia, workflow.ProposeAmendment{AmendmentID: b, Kind: workflow.KindReplace, PointID: "p2", BaseRevision: 1,
			Text: "Russia's text.", CounterTo: a})
		c := f.newID("am")
		f.do(mediator, workflow.ProposeAmendment{AmendmentID: c, Kind: workflow.KindDelete, PointID: "p2", BaseRevision: 1, CounterTo: b})
		if f.amendment(b).CounterTo != a || f.amendment(c).CounterTo != b {
			t.Fatalf("counters not recorded: %q, %q", f.amendment(b).CounterTo, f.amendment(c).CounterTo)
		}
		// An insert after the point is no alternative to its text.
		f.propose(europe, workflow.KindInsert, "p2", "An addition.")
		var ids []string
		for _, alt := range f.n.Alternatives("p2") {
			ids = append(ids, alt.ID)
		}
		if !slices.Equal(ids, []string{a, b, c}) {
			t.Fatalf("alternatives = %v, want %v", ids, []string{a, b, c})
		}
		// Applying one makes the others STALE, as for any competing drafts.
		f.pass(b)
		f.applyAmendment(b)
		for _, id := range []string{a, c} {
			if am := f.amendment(id); am.State != workflow.AmendmentStateStale || am.StaledBy != b {
				t.Errorf("%s is %s (by %q), want STALE by %s", id, am.State, am.StaledBy, b)
			}
		}
		if alts := f.n.Alternatives("p2"); len(alts) != 0 {
			t.Errorf("alternatives left: %d", len(alts))
		}
	})
	t.Run("CounterToInsert", func(t *testing.T) {
		f := newFixture(t)
		a := f.propose(ukraine, workflow.KindInsert, "p1", "After the first.")
		f.do(russia, workflow.ProposeAmendment{AmendmentID: "am-b", Kind: workflow.KindInsert, PointID: "p1", Text: "Another.", CounterTo: a})
	})
}
