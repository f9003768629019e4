package workflow_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/workflow"
)

func TestCreateNegotiation(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c := validCreate()
		c.Title = "  Test plan \t"
		c.Participants[0].DisplayName = "  Ukraine "
		c.Participants[1].Weight = 3
		c.Points[0].Text = "\r\n" + text1 + "  \r\n— with a sub-item. \r\n\r\n"
		m := workflow.Meta{Actor: admin, RequestID: "req-create", At: epoch}
		events, err := workflow.Decide(nil, m, c)
		if err != nil {
			t.Fatal(err)
		}
		first := text1 + "\n— with a sub-item."
		want := []workflow.Payload{
			workflow.NegotiationCreated{
				Title: "Test plan",
				Participants: []workflow.Participant{
					{ID: ukraine, DisplayName: "Ukraine", Role: workflow.RoleDelegation, Weight: 1},
					{ID: russia, DisplayName: russia, Role: workflow.RoleDelegation, Weight: 3},
					{ID: unitedStates, DisplayName: unitedStates, Role: workflow.RoleDelegation, Weight: 1},
					{ID: europe, DisplayName: europe, Role: workflow.RoleDelegation, Weight: 1},
					{ID: mediator, DisplayName: "Mediator", Role: workflow.RoleMediator},
					{ID: observer, DisplayName: "Observer", Role: workflow.RoleObserver},
				},
				Rule: workflow.DecisionRule{Method: workflow.MethodConsensus},
			},
			workflow.PointAdded{PointID: "p1", Text: first, TextHash: workflow.HashText(first)},
			workflow.PointAdded{PointID: "p2", Text: text2, TextHash: workflow.HashText(text2)},
			workflow.PointAdded{PointID: "p3", Text: text3, TextHash: workflow.HashText(text3)},
		}
		got := make([]workflow.Payload, len(events))
		for i, e := range events {
			got[i] = e.Payload
			if e.Sequence != int64(i+1) || e.NegotiationID != negotiationID || e.Actor != admin || e.RequestID != "req-create" || !e.At.Equal(epoch) {
				t.Errorf("event %d: sequence %d, negotiation %q, actor %q, request %q, at %v", i, e.Sequence, e.NegotiationID, e.Actor, e.RequestID, e.At)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("events (-want +got):\n%s", d)
		}

		n, err := workflow.Fold(events)
		if err != nil {
			t.Fatal(err)
		}
		if n.State != workflow.NegotiationStateOpen || n.ID != negotiationID || !n.CreatedAt.Equal(epoch) || n.LastSequence != 4 {
			t.Errorf("state %s, id %q, created %v, last sequence %d", n.State, n.ID, n.CreatedAt, n.LastSequence)
		}
		if d := cmp.Diff([]string{"p1", "p2", "p3"}, n.Order); d != "" {
			t.Errorf("order (-want +got):\n%s", d)
		}
		for i, id := range n.Order {
			if got := n.PointNumber(id); got != i+1 {
				t.Errorf("point %s has number %d, want %d", id, got, i+1)
			}
			if r := n.Points[id].Current(); r.Revision != 1 || r.AmendmentID != "" {
				t.Errorf("point %s starts at revision %d by %q", id, r.Revision, r.AmendmentID)
			}
		}
		doc := "1. " + first + "\n2. " + text2 + "\n3. " + text3 + "\n"
		if got := n.RenderDocument(); got != doc {
			t.Errorf("document = %q, want %q", got, doc)
		}
		if got, want := n.DocumentHash(), workflow.HashText(doc); got != want {
			t.Errorf("document hash = %s, want %s", got, want)
		}
		if d := cmp.Diff([]string{ukraine, russia, unitedStates, europe}, n.Delegations()); d != "" {
			t.Errorf("delegations (-want +got):\n%s", d)
		}
	})

	// The limits are inclusive.
	for _, tc := range []struct {
		name string
		mod  func(c *workflow.CreateNegotiation)
	}{
		{"title of the largest size", func(c *workflow.CreateNegotiation) { c.Title = strings.Repeat("t", workflow.MaxTitleBytes) }},
		{"most participants", func(c *workflow.CreateNegotiation) { c.Participants = manyParticipants(workflow.MaxParticipants) }},
		{"longest participant id", func(c *workflow.CreateNegotiation) {
			c.Participants[0].ID = "u" + strings.Repeat("-", workflow.MaxParticipantID-1)
		}},
		{"largest weight", func(c *workflow.CreateNegotiation) { c.Participants[0].Weight = workflow.MaxWeight }},
		{"longest display name", func(c *workflow.CreateNegotiation) {
			c.Participants[0].DisplayName = strings.Repeat("U", workflow.MaxDisplayNameBytes)
		}},
		{"quorum of every delegation", func(c *workflow.CreateNegotiation) { c.Rule.Quorum = int32(len(delegations)) }},
		{"smallest threshold", func(c *workflow.CreateNegotiation) {
			c.Rule = workflow.DecisionRule{Method: workflow.MethodQualified, ThresholdBasisPoints: 1}
		}},
		{"largest threshold", func(c *workflow.CreateNegotiation) {
			c.Rule = workflow.DecisionRule{Method: workflow.MethodQualified, ThresholdBasisPoints: 10000}
		}},
		{"longest point", func(c *workflow.CreateNegotiation) {
			c.Points[0].Text = strings.Repeat("x", workflow.MaxPointTextBytes)
		}},
		{"a single delegation and a mediator", func(c *workflow.CreateNegotiation) {
			c.Participants = []workflow.Participant{c.Participants[0], c.Participants[4]}
		}},
	} {
		t.Run("OK/"+tc.name, func(t *testing.T) {
			c := validCreate()
			tc.mod(&c)
			if _, err := workflow.Decide(nil, workflow.Meta{Actor: admin}, c); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("OK/the 28-point plan", func(t *testing.T) {
		texts, err := workflow.ParseNumberedText(demo.PlanText)
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, withTexts(texts...))
		if len(f.n.Order) != 28 || f.n.PointNumber("p28") != 28 {
			t.Fatalf("%d points; p28 has number %d", len(f.n.Order), f.n.PointNumber("p28"))
		}
		if got := f.n.RenderDocument(); got != numbered(texts) {
			t.Errorf("the document does not render as the plan")
		}
	})
}

func TestProposeAmendment(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  workflow.ProposeAmendment
		text string // the text as stored, normalized
	}{
		{"REPLACE", workflow.ProposeAmendment{Kind: workflow.KindReplace, PointID: "p2", BaseRevision: 1,
			Text: "A committee:\r\n— one.  \r\n", Rationale: "  Shorter. \n"}, "A committee:\n— one."},
		{"INSERT after a point", workflow.ProposeAmendment{Kind: workflow.KindInsert, PointID: "p2", Text: "New.", Rationale: "Shorter."}, "New."},
		{"INSERT at the start", workflow.ProposeAmendment{Kind: workflow.KindInsert, Text: "Preamble.", Rationale: "Shorter."}, "Preamble."},
		{"DELETE", workflow.ProposeAmendment{Kind: workflow.KindDelete, PointID: "p2", BaseRevision: 1, Rationale: "Shorter."}, ""},
	} {
		t.Run("OK/"+tc.name, func(t *testing.T) {
			f := newFixture(t)
			doc := f.n.DocumentHash()
			tc.cmd.AmendmentID = "am-1"
			events := f.do(russia, tc.cmd)
			want := workflow.AmendmentProposed{AmendmentID: "am-1", Kind: tc.cmd.Kind, PointID: tc.cmd.PointID,
				BaseRevision: tc.cmd.BaseRevision, Text: tc.text, Rationale: "Shorter."}
			if len(events) != 1 || !cmp.Equal(events[0].Payload, want) || events[0].Actor != russia {
				t.Fatalf("events = %+v, want one %+v by %s", events, want, russia)
			}
			a := f.amendment("am-1")
			if a.State != workflow.AmendmentStateOpen || a.Proposer != russia || len(a.Votes) != 0 || a.Tally != nil {
				t.Errorf("amendment: %+v", a)
			}
			if f.n.PendingAmendments() != 1 {
				t.Errorf("pending = %d, want 1", f.n.PendingAmendments())
			}
			if tc.cmd.PointID != "" {
				if got := f.n.AmendmentsOfPoint(tc.cmd.PointID); len(got) != 1 || got[0] != "am-1" {
					t.Errorf("amendments of %s = %v", tc.cmd.PointID, got)
				}
				if got := f.n.PendingAmendmentsOfPoint(tc.cmd.PointID); got != 1 {
					t.Errorf("pending amendments of %s = %d", tc.cmd.PointID, got)
				}
			}
			if f.n.DocumentHash() != doc {
				t.Errorf("a proposal changed the document")
			}
		})
	}
}

func TestApplyAmendment(t *testing.T) {
	t.Run("OK/REPLACE", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		docBefore := f.n.DocumentHash()
		f.do(ukraine, workflow.AcceptDocument{DocumentHash: docBefore})
		a := f.propose(ukraine, workflow.KindReplace, "p2", "A committee will be set up.")
		otherReplace := f.propose(russia, workflow.KindReplace, "p2", "No committee.")
		otherDelete := f.propose(europe, workflow.KindDelete, "p2", "")
		insertAfter := f.propose(unitedStates, workflow.KindInsert, "p2", "After the committee.")
		elsewhere := f.propose(russia, workflow.KindReplace, "p1", "Elsewhere.")
		f.pass(a)
		events := f.applyAmendment(a)

		newText := "A committee will be set up."
		want := []workflow.Payload{
			workflow.AmendmentApplied{AmendmentID: a, PointID: "p2", Revision: 2, TextHash: workflow.HashText(newText)},
			workflow.AmendmentStaled{AmendmentID: otherReplace, CauseAmendmentID: a},
			workflow.AmendmentStaled{AmendmentID: otherDelete, CauseAmendmentID: a},
		}
		checkPayloads(t, events, want)

		p := f.n.Points["p2"]
		cur := p.Current()
		if cur.Revision != 2 || cur.Text != newText || cur.AmendmentID != a || len(p.Revisions) != 2 || p.Revisions[0].Text != text2 {
			t.Errorf("p2 revisions: %+v", p.Revisions)
		}
		for id, state := range map[string]workflow.AmendmentState{
			a: workflow.AmendmentStateApplied, otherReplace: workflow.AmendmentStateStale, otherDelete: workflow.AmendmentStateStale,
			insertAfter: workflow.AmendmentStateOpen, elsewhere: workflow.AmendmentStateOpen,
		} {
			if got := f.amendment(id).State; got != state {
				t.Errorf("amendment %s is %s, want %s", id, got, state)
			}
		}
		if got := f.amendment(otherReplace).StaledBy; got != a {
			t.Errorf("staled by %q, want %q", got, a)
		}
		if got := f.amendment(a).ResultPointID; got != "p2" {
			t.Errorf("result point %q", got)
		}
		if f.n.PendingAmendments() != 2 {
			t.Errorf("pending = %d, want 2 (the insert and the amendment of p1)", f.n.PendingAmendments())
		}
		// The sign-offs of p2 are kept but no longer count; those of the other
		// points still do.
		if f.n.Agreed(p) || len(p.SignOffs) != 4 || p.SignOffs[europe].Revision != 1 {
			t.Errorf("p2 agreed %v with sign-offs %+v", f.n.Agreed(p), p.SignOffs)
		}
		if !f.n.Agreed(f.n.Points["p1"]) || !f.n.Agreed(f.n.Points["p3"]) || f.n.AgreedPoints() != 2 {
			t.Errorf("%d points agreed, want p1 and p3", f.n.AgreedPoints())
		}
		doc := "1. " + text1 + "\n2. " + newText + "\n3. " + text3 + "\n"
		if f.n.RenderDocument() != doc || f.n.DocumentHash() != workflow.HashText(doc) {
			t.Errorf("document = %q", f.n.RenderDocument())
		}
		if acc := f.n.Acceptances[ukraine]; acc.DocumentHash != docBefore || f.n.AcceptanceCurrent(acc) {
			t.Errorf("ukraine's acceptance %+v should be kept and no longer current", acc)
		}
	})

	insert := func(t *testing.T, anchor string, wantOrder []string) {
		f := newFixture(t)
		f.signAll()
		a := f.propose(ukraine, workflow.KindInsert, anchor, "Inserted.")
		onAnchor := []string{}
		if anchor != "" {
			onAnchor = append(onAnchor, f.propose(russia, workflow.KindReplace, anchor, "Changed anchor."))
		}
		f.pass(a)
		events := f.do(mediator, workflow.ApplyAmendment{AmendmentID: a, NewPointID: "p-new"})
		checkPayloads(t, events, []workflow.Payload{
			workflow.AmendmentApplied{AmendmentID: a, PointID: "p-new", Revision: 1, TextHash: workflow.HashText("Inserted.")},
		})
		if d := cmp.Diff(wantOrder, f.n.Order); d != "" {
			t.Errorf("order (-want +got):\n%s", d)
		}
		for i, id := range wantOrder {
			if got := f.n.PointNumber(id); got != i+1 {
				t.Errorf("point %s has number %d, want %d", id, got, i+1)
			}
		}
		p := f.n.Points["p-new"]
		if cur := p.Current(); cur.Revision != 1 || cur.Text != "Inserted." || cur.AmendmentID != a || len(p.SignOffs) != 0 {
			t.Errorf("new point: %+v", p)
		}
		if f.amendment(a).ResultPointID != "p-new" {
			t.Errorf("result point %q", f.amendment(a).ResultPointID)
		}
		// An insert changes no text: the amendments of its anchor stay open and
		// the points signed off stay agreed.
		for _, id := range onAnchor {
			if s := f.amendment(id).State; s != workflow.AmendmentStateOpen {
				t.Errorf("amendment of the anchor is %s", s)
			}
		}
		if f.n.AgreedPoints() != 3 {
			t.Errorf("%d points agreed, want the 3 original ones", f.n.AgreedPoints())
		}
		if f.n.DocumentHash() != workflow.HashText(f.n.RenderDocument()) {
			t.Errorf("document hash does not match the rendered document")
		}
	}
	t.Run("OK/INSERT after a point", func(t *testing.T) { insert(t, "p1", []string{"p1", "p-new", "p2", "p3"}) })
	t.Run("OK/INSERT at the start", func(t *testing.T) { insert(t, "", []string{"p-new", "p1", "p2", "p3"}) })
	t.Run("OK/INSERT after the last point", func(t *testing.T) { insert(t, "p3", []string{"p1", "p2", "p3", "p-new"}) })

	t.Run("OK/DELETE", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		a := f.propose(ukraine, workflow.KindDelete, "p2", "")
		replace := f.propose(russia, workflow.KindReplace, "p2", "Changed.")
		insertAfter := f.propose(europe, workflow.KindInsert, "p2", "After the committee.")
		otherDelete := f.propose(unitedStates, workflow.KindDelete, "p2", "")
		elsewhere := f.propose(russia, workflow.KindInsert, "p3", "After the last.")
		atStart := f.propose(russia, workflow.KindInsert, "", "Preamble.")
		f.pass(a)
		events := f.applyAmendment(a)
		checkPayloads(t, events, []workflow.Payload{
			workflow.AmendmentApplied{AmendmentID: a, PointID: "p2"},
			workflow.AmendmentStaled{AmendmentID: replace, CauseAmendmentID: a},
			workflow.AmendmentStaled{AmendmentID: insertAfter, CauseAmendmentID: a},
			workflow.AmendmentStaled{AmendmentID: otherDelete, CauseAmendmentID: a},
		})
		if d := cmp.Diff([]string{"p1", "p3"}, f.n.Order); d != "" {
			t.Errorf("order (-want +got):\n%s", d)
		}
		if f.n.PointNumber("p2") != 0 || f.n.PointNumber("p3") != 2 {
			t.Errorf("numbers: p2 %d, p3 %d", f.n.PointNumber("p2"), f.n.PointNumber("p3"))
		}
		p := f.n.Points["p2"]
		if !p.Deleted || !p.DeletedAt.Equal(f.log[len(f.log)-1].At) || f.n.Agreed(p) {
			t.Errorf("p2: deleted %v at %v, agreed %v", p.Deleted, p.DeletedAt, f.n.Agreed(p))
		}
		for _, id := range []string{elsewhere, atStart} {
			if s := f.amendment(id).State; s != workflow.AmendmentStateOpen {
				t.Errorf("amendment %s is %s, want OPEN", id, s)
			}
		}
		if f.n.AgreedPoints() != 2 {
			t.Errorf("%d points agreed, want 2", f.n.AgreedPoints())
		}
		if doc := "1. " + text1 + "\n2. " + text3 + "\n"; f.n.RenderDocument() != doc {
			t.Errorf("document = %q, want %q", f.n.RenderDocument(), doc)
		}
	})
}

func checkPayloads(t *testing.T, events []workflow.Event, want []workflow.Payload) {
	t.Helper()
	got := make([]workflow.Payload, len(events))
	for i, e := range events {
		got[i] = e.Payload
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

func TestRejectAndWithdraw(t *testing.T) {
	t.Run("OK/reject", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		f.pass(id)
		events := f.do(mediator, workflow.RejectAmendment{AmendmentID: id, Reason: " Out of scope. "})
		checkPayloads(t, events, []workflow.Payload{workflow.AmendmentRejected{AmendmentID: id, Reason: "Out of scope."}})
		if a := f.amendment(id); a.State != workflow.AmendmentStateRejected || a.RejectionReason != "Out of scope." {
			t.Errorf("amendment %s, reason %q", a.State, a.RejectionReason)
		}
		if f.n.PendingAmendments() != 0 || f.n.Points["p1"].Current().Revision != 1 {
			t.Errorf("pending %d; p1 at revision %d", f.n.PendingAmendments(), f.n.Points["p1"].Current().Revision)
		}
	})
	for _, passed := range []bool{false, true} {
		name := "OK/withdraw while OPEN"
		if passed {
			name = "OK/withdraw while PASSED"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
			if passed {
				f.pass(id)
			}
			checkPayloads(t, f.do(ukraine, workflow.WithdrawAmendment{AmendmentID: id}),
				[]workflow.Payload{workflow.AmendmentWithdrawn{AmendmentID: id}})
			if s := f.amendment(id).State; s != workflow.AmendmentStateWithdrawn || f.n.PendingAmendments() != 0 {
				t.Errorf("amendment %s, pending %d", s, f.n.PendingAmendments())
			}
		})
	}
}

func TestVoting(t *testing.T) {
	t.Run("OK/closes when every delegation has voted", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		for _, d := range []string{ukraine, russia, unitedStates} {
			events := f.do(d, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
			checkPayloads(t, events, []workflow.Payload{workflow.VoteCast{AmendmentID: id, Choice: workflow.ChoiceApprove}})
		}
		if s := f.amendment(id).State; s != workflow.AmendmentStateOpen {
			t.Fatalf("amendment is %s with a vote missing", s)
		}
		events := f.do(europe, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceAbstain})
		tally := workflow.Tally{Approve: 3, Abstain: 1, ApprovingWeight: 3, TotalWeight: 4, QuorumMet: true, Passed: true}
		checkPayloads(t, events, []workflow.Payload{
			workflow.VoteCast{AmendmentID: id, Choice: workflow.ChoiceAbstain},
			workflow.VotingClosed{AmendmentID: id, Tally: tally},
		})
		a := f.amendment(id)
		if a.State != workflow.AmendmentStatePassed || a.Tally == nil || *a.Tally != tally {
			t.Errorf("amendment %s, tally %+v", a.State, a.Tally)
		}
		if v := a.Votes[europe]; v.Participant != europe || v.Choice != workflow.ChoiceAbstain || v.Sequence != f.n.LastSequence-1 {
			t.Errorf("europe's vote: %+v", v)
		}
		if f.n.PendingAmendments() != 1 {
			t.Errorf("a PASSED amendment is still pending; pending = %d", f.n.PendingAmendments())
		}
	})
	t.Run("OK/a rejection fails the amendment", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		for _, d := range []string{ukraine, russia, unitedStates} {
			f.do(d, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		}
		f.do(europe, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: "  Too vague. "})
		a := f.amendment(id)
		if a.State != workflow.AmendmentStateFailed || a.Votes[europe].Reason != "Too vague." || f.n.PendingAmendments() != 0 {
			t.Errorf("amendment %s, europe's reason %q, pending %d", a.State, a.Votes[europe].Reason, f.n.PendingAmendments())
		}
	})
	t.Run("OK/the mediator closes", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		f.do(ukraine, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		f.do(russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceAbstain})
		events := f.do(mediator, workflow.CloseVoting{AmendmentID: id})
		tally := workflow.Tally{Approve: 1, Abstain: 1, NotVoted: 2, ApprovingWeight: 1, TotalWeight: 4,
			QuorumMet: true, Passed: true, ClosedByMediator: true}
		checkPayloads(t, events, []workflow.Payload{workflow.VotingClosed{AmendmentID: id, Tally: tally}})
		if events[0].Actor != mediator {
			t.Errorf("closed by %q", events[0].Actor)
		}
	})
	t.Run("OK/a vote changes", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		f.do(russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: "No."})
		events := f.do(russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		checkPayloads(t, events, []workflow.Payload{workflow.VoteCast{AmendmentID: id, Choice: workflow.ChoiceApprove}})
		if v := f.amendment(id).Votes[russia]; v.Choice != workflow.ChoiceApprove || v.Reason != "" {
			t.Errorf("russia's vote: %+v", v)
		}
		// A changed vote is not a new voter: voting is still open with three
		// delegations to go, and closes on the new choice.
		if s := f.amendment(id).State; s != workflow.AmendmentStateOpen {
			t.Fatalf("amendment is %s", s)
		}
		for _, d := range []string{ukraine, unitedStates, europe} {
			f.do(d, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		}
		if a := f.amendment(id); a.State != workflow.AmendmentStatePassed || a.Tally.Reject != 0 {
			t.Errorf("amendment %s, tally %+v", a.State, a.Tally)
		}
	})
	t.Run("OK/a vote changes with the same empty reason", func(t *testing.T) {
		// Only the choice changes: APPROVE then ABSTAIN, neither with a
		// reason. Under unanimity the old approval would pass the amendment.
		f := newFixture(t, withRule(workflow.DecisionRule{Method: workflow.MethodUnanimity}))
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		f.do(ukraine, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		events := f.do(ukraine, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceAbstain})
		checkPayloads(t, events, []workflow.Payload{workflow.VoteCast{AmendmentID: id, Choice: workflow.ChoiceAbstain}})
		if v := f.amendment(id).Votes[ukraine]; v.Choice != workflow.ChoiceAbstain || v.Sequence != f.n.LastSequence {
			t.Errorf("ukraine's vote: %+v, want the ABSTAIN just cast", v)
		}
		for _, d := range []string{russia, unitedStates, europe} {
			f.do(d, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		}
		a := f.amendment(id)
		want := workflow.Tally{Approve: 3, Abstain: 1, ApprovingWeight: 3, TotalWeight: 4, QuorumMet: true}
		if a.State != workflow.AmendmentStateFailed || a.Tally == nil || *a.Tally != want {
			t.Errorf("amendment %s, tally %+v; want FAILED with %+v", a.State, a.Tally, want)
		}
	})
	t.Run("OK/a new reason is a change", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		f.do(russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: "No."})
		events := f.do(russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: "Never."})
		checkPayloads(t, events, []workflow.Payload{workflow.VoteCast{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: "Never."}})
	})
	t.Run("OK/the same vote again changes nothing", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		f.do(russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: "No."})
		f.noop(russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: "  No.\n"})
		f.do(ukraine, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceAbstain})
		f.noop(ukraine, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceAbstain})
	})
}

// TestDecisionRules closes votes given as one letter per delegation (ukraine,
// russia, united-states, europe): A approve, R reject, B abstain (blank), -
// not voted. A vote with a "-" is closed by the mediator, the others close by
// themselves.
func TestDecisionRules(t *testing.T) {
	consensus := workflow.DecisionRule{Method: workflow.MethodConsensus}
	unanimity := workflow.DecisionRule{Method: workflow.MethodUnanimity}
	majority := workflow.DecisionRule{Method: workflow.MethodMajority}
	qualified := func(bp int32) workflow.DecisionRule {
		return workflow.DecisionRule{Method: workflow.MethodQualified, ThresholdBasisPoints: bp}
	}
	withQuorum := func(r workflow.DecisionRule, q int32) workflow.DecisionRule { r.Quorum = q; return r }
	// Weights of 4, 3, 2 and 1 add up to 10, so each tenth is one weight.
	weights := map[string]int32{ukraine: 4, russia: 3, unitedStates: 2, europe: 1}

	for _, tc := range []struct {
		name      string
		rule      workflow.DecisionRule
		weighted  bool
		votes     string
		passed    bool
		quorumMet bool
	}{
		{"consensus/all approve", consensus, false, "AAAA", true, true},
		{"consensus/one rejects", consensus, false, "AAAR", false, true},
		{"consensus/one approves, the others abstain", consensus, false, "ABBB", true, true},
		{"consensus/all abstain", consensus, false, "BBBB", false, true},
		{"consensus/one approves, the others do not vote", consensus, false, "A---", true, true},
		{"consensus/nobody votes", consensus, false, "----", false, true},
		{"unanimity/all approve", unanimity, false, "AAAA", true, true},
		{"unanimity/one abstains", unanimity, false, "AAAB", false, true},
		{"unanimity/one does not vote", unanimity, false, "AAA-", false, true},
		{"majority/three of four", majority, false, "AAAR", true, true},
		{"majority/exactly half", majority, false, "AARR", false, true},
		{"majority/half, the rest abstain", majority, false, "AABB", false, true},
		{"majority/counts delegations, not voters", majority, false, "AA--", false, true},
		{"majority/three of four, one not voting", majority, false, "AAA-", true, true},
		{"qualified/60% reached exactly", qualified(6000), true, "ARAR", true, true},
		{"qualified/60% by the three smaller", qualified(6000), true, "RAAA", true, true},
		{"qualified/60.01% missed by a hair", qualified(6001), true, "ARAR", false, true},
		{"qualified/50% missed with 40%", qualified(5000), true, "ARRR", false, true},
		{"qualified/50% with non-voters", qualified(5000), true, "A--A", true, true},
		{"qualified/100% needs everyone", qualified(10000), true, "AAAB", false, true},
		{"qualified/100% with everyone", qualified(10000), true, "AAAA", true, true},
		{"qualified/0.01% with the lightest", qualified(1), true, "BBBA", true, true},
		{"qualified/0.01% with nobody", qualified(1), true, "BBBB", false, true},
		{"qualified/unweighted 75%", qualified(7500), false, "AAAR", true, true},
		{"quorum/not met", withQuorum(consensus, 3), false, "AB--", false, false},
		{"quorum/met by abstentions", withQuorum(consensus, 3), false, "ABB-", true, true},
		{"quorum/blocks a majority", withQuorum(majority, 4), false, "AAA-", false, false},
		{"quorum/met by a rejection", withQuorum(majority, 4), false, "AAAR", true, true},
		{"quorum/of every delegation", withQuorum(unanimity, 4), false, "AAAA", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []option{withRule(tc.rule)}
			if tc.weighted {
				opts = append(opts, withWeights(weights))
			}
			f := newFixture(t, opts...)
			id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
			want := workflow.Tally{QuorumMet: tc.quorumMet, Passed: tc.passed, ClosedByMediator: strings.Contains(tc.votes, "-")}
			for i, c := range tc.votes {
				d := delegations[i]
				w := int64(1)
				if tc.weighted {
					w = int64(weights[d])
				}
				want.TotalWeight += w
				cmd := workflow.CastVote{AmendmentID: id}
				switch c {
				case 'A':
					cmd.Choice = workflow.ChoiceApprove
					want.Approve++
					want.ApprovingWeight += w
				case 'R':
					cmd.Choice, cmd.Reason = workflow.ChoiceReject, "No."
					want.Reject++
				case 'B':
					cmd.Choice = workflow.ChoiceAbstain
					want.Abstain++
				case '-':
					want.NotVoted++
					continue
				}
				f.do(d, cmd)
			}
			if want.ClosedByMediator {
				f.do(mediator, workflow.CloseVoting{AmendmentID: id})
			}
			a := f.amendment(id)
			if a.Tally == nil {
				t.Fatalf("voting did not close; amendment is %s", a.State)
			}
			if *a.Tally != want {
				t.Errorf("tally = %+v, want %+v", *a.Tally, want)
			}
			wantState := workflow.AmendmentStateFailed
			if tc.passed {
				wantState = workflow.AmendmentStatePassed
			}
			if a.State != wantState {
				t.Errorf("amendment is %s, want %s", a.State, wantState)
			}
		})
	}
}

func TestSignOff(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		cmd := f.signOffCmd("p2")
		events := f.do(ukraine, cmd)
		checkPayloads(t, events, []workflow.Payload{workflow.PointSignedOff{PointID: "p2", Revision: 1, TextHash: workflow.HashText(text2)}})
		s := f.n.Points["p2"].SignOffs[ukraine]
		if s.Participant != ukraine || s.Revision != 1 || s.TextHash != workflow.HashText(text2) || s.Sequence != f.n.LastSequence {
			t.Errorf("sign-off: %+v", s)
		}
		if f.n.Agreed(f.n.Points["p2"]) {
			t.Errorf("agreed with one sign-off of four")
		}
		f.noop(ukraine, cmd)
	})
	t.Run("OK/agreed when every delegation signed off", func(t *testing.T) {
		f := newFixture(t)
		for i, d := range delegations {
			if f.n.Agreed(f.n.Points["p1"]) {
				t.Fatalf("agreed after %d sign-offs", i)
			}
			f.do(d, f.signOffCmd("p1"))
		}
		if !f.n.Agreed(f.n.Points["p1"]) || f.n.AgreedPoints() != 1 {
			t.Errorf("p1 agreed %v; %d points agreed", f.n.Agreed(f.n.Points["p1"]), f.n.AgreedPoints())
		}
		// The mediator and the observer do not sign off, and need not.
		if _, ok := f.n.Points["p1"].SignOffs[mediator]; ok {
			t.Errorf("mediator signed off")
		}
	})
	t.Run("OK/stale after the text changes", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		f.amend(workflow.KindReplace, "p1", "Changed.")
		p := f.n.Points["p1"]
		if f.n.Agreed(p) || p.SignOffs[russia].Revision != 1 {
			t.Fatalf("p1 agreed %v; russia's sign-off %+v", f.n.Agreed(p), p.SignOffs[russia])
		}
		for _, d := range delegations {
			f.do(d, f.signOffCmd("p1"))
		}
		if !f.n.Agreed(p) || p.SignOffs[russia].Revision != 2 || f.n.AgreedPoints() != 3 {
			t.Errorf("p1 agreed %v at %+v; %d agreed", f.n.Agreed(p), p.SignOffs[russia], f.n.AgreedPoints())
		}
	})
	t.Run("OK/revoke", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		events := f.do(russia, workflow.RevokeSignOff{PointID: "p3"})
		checkPayloads(t, events, []workflow.Payload{workflow.SignOffRevoked{PointID: "p3", Revision: 1}})
		if _, ok := f.n.Points["p3"].SignOffs[russia]; ok || f.n.Agreed(f.n.Points["p3"]) || f.n.AgreedPoints() != 2 {
			t.Errorf("after revoking: %+v, %d agreed", f.n.Points["p3"].SignOffs, f.n.AgreedPoints())
		}
		f.do(russia, f.signOffCmd("p3"))
		if f.n.AgreedPoints() != 3 {
			t.Errorf("signing off again did not agree p3")
		}
	})
}

func TestAcceptance(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		hash := f.n.DocumentHash()
		events := f.do(ukraine, workflow.AcceptDocument{DocumentHash: hash})
		checkPayloads(t, events, []workflow.Payload{workflow.DocumentAccepted{DocumentHash: hash}})
		a := f.n.Acceptances[ukraine]
		if a.Participant != ukraine || a.DocumentHash != hash || !f.n.AcceptanceCurrent(a) || f.n.State != workflow.NegotiationStateOpen {
			t.Errorf("acceptance %+v; state %s", a, f.n.State)
		}
		f.noop(ukraine, workflow.AcceptDocument{DocumentHash: hash})
	})
	t.Run("OK/the last acceptance concludes", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		hash := f.n.DocumentHash()
		for _, d := range delegations[:3] {
			checkPayloads(t, f.accept(d), []workflow.Payload{workflow.DocumentAccepted{DocumentHash: hash}})
		}
		events := f.accept(europe)
		checkPayloads(t, events, []workflow.Payload{
			workflow.DocumentAccepted{DocumentHash: hash},
			workflow.NegotiationConcluded{DocumentHash: hash},
		})
		if f.n.State != workflow.NegotiationStateConcluded || !f.n.ConcludedAt.Equal(events[1].At) {
			t.Errorf("state %s, concluded at %v", f.n.State, f.n.ConcludedAt)
		}
	})
	t.Run("OK/stale when the text changes", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		old := f.n.DocumentHash()
		for _, d := range delegations[:3] {
			f.accept(d)
		}
		f.amend(workflow.KindInsert, "p3", "Final clause.")
		for _, d := range delegations[:3] {
			if a := f.n.Acceptances[d]; a.DocumentHash != old || f.n.AcceptanceCurrent(a) {
				t.Errorf("%s's acceptance %+v should be kept, not current", d, a)
			}
		}
		f.signAll()
		// Europe accepts the new text; the three acceptances of the old one
		// do not count, so nothing concludes.
		checkPayloads(t, f.accept(europe), []workflow.Payload{workflow.DocumentAccepted{DocumentHash: f.n.DocumentHash()}})
		f.accept(ukraine)
		f.accept(russia)
		events := f.accept(unitedStates)
		if len(events) != 2 || f.n.State != workflow.NegotiationStateConcluded {
			t.Errorf("the last acceptance of the new text gave %v; state %s", payloads(events), f.n.State)
		}
	})
	t.Run("OK/current again when the text comes back", func(t *testing.T) {
		// An acceptance is bound to the text, not to a moment: if the text
		// changes and changes back, it counts again (the points changed must
		// still be signed off again).
		f := newFixture(t)
		f.signAll()
		hash := f.n.DocumentHash()
		f.accept(ukraine)
		f.amend(workflow.KindReplace, "p1", "Changed.")
		f.amend(workflow.KindReplace, "p1", text1)
		if f.n.DocumentHash() != hash || !f.n.AcceptanceCurrent(f.n.Acceptances[ukraine]) {
			t.Fatalf("the same text has another hash, or ukraine's acceptance does not count")
		}
		if f.n.Agreed(f.n.Points["p1"]) {
			t.Errorf("p1 at revision 3 agreed with the sign-offs of revision 1")
		}
		f.signAll()
		f.noop(ukraine, workflow.AcceptDocument{DocumentHash: hash})
		f.accept(russia)
		f.accept(unitedStates)
		if events := f.accept(europe); len(events) != 2 {
			t.Errorf("the last acceptance gave %v", payloads(events))
		}
	})
	t.Run("OK/a sign-off concludes what everybody accepted", func(t *testing.T) {
		// Every delegation accepted the current text but one sign-off is
		// missing. The rules never let the last acceptance in before every
		// point is agreed, so the state comes from a forged acceptance (a log
		// written under other rules). The sign-off that completes the points
		// must conclude it: europe cannot accept again before, and restating
		// an acceptance after is a no-op, so nothing else could.
		f := newFixture(t)
		f.signAll()
		hash := f.n.DocumentHash()
		for _, d := range delegations[:3] {
			f.accept(d)
		}
		f.do(russia, workflow.RevokeSignOff{PointID: "p2"})
		f.forge(europe, workflow.DocumentAccepted{DocumentHash: hash})
		f.refuse(europe, workflow.AcceptDocument{DocumentHash: hash}, workflow.EFAILEDPRECONDITION, "POINTS_NOT_AGREED")
		events := f.do(russia, f.signOffCmd("p2"))
		checkPayloads(t, events, []workflow.Payload{
			workflow.PointSignedOff{PointID: "p2", Revision: 1, TextHash: workflow.HashText(text2)},
			workflow.NegotiationConcluded{DocumentHash: hash},
		})
		if f.n.State != workflow.NegotiationStateConcluded {
			t.Errorf("state %s", f.n.State)
		}
	})
	t.Run("OK/a sign-off does not conclude with an amendment pending", func(t *testing.T) {
		// As above, but with an amendment open: nothing is agreed until
		// everything is agreed, and that amendment is not.
		f := newFixture(t)
		f.signAll()
		hash := f.n.DocumentHash()
		for _, d := range delegations[:3] {
			f.accept(d)
		}
		f.do(russia, workflow.RevokeSignOff{PointID: "p2"})
		f.forge(europe, workflow.DocumentAccepted{DocumentHash: hash})
		f.propose(europe, workflow.KindInsert, "", "Preamble.")
		if events := f.do(russia, f.signOffCmd("p2")); len(events) != 1 || f.n.State != workflow.NegotiationStateOpen {
			t.Errorf("sign-off gave %v; state %s", payloads(events), f.n.State)
		}
	})
	t.Run("OK/a sign-off does not conclude with an acceptance missing", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		for _, d := range delegations[:3] {
			f.accept(d)
		}
		f.do(russia, workflow.RevokeSignOff{PointID: "p2"})
		if events := f.do(russia, f.signOffCmd("p2")); len(events) != 1 {
			t.Errorf("sign-off gave %v", payloads(events))
		}
	})
}

func TestConcluded(t *testing.T) {
	f := newFixture(t)
	failed := failedAmendment(f)
	f.conclude()
	hash := f.n.DocumentHash()

	for _, tc := range []struct {
		name  string
		actor string
		cmd   workflow.Command
	}{
		{"propose", ukraine, workflow.ProposeAmendment{AmendmentID: "am-late", Kind: workflow.KindInsert, Text: "Late."}},
		{"vote", russia, workflow.CastVote{AmendmentID: failed, Choice: workflow.ChoiceApprove}},
		{"close voting", mediator, workflow.CloseVoting{AmendmentID: failed}},
		{"apply", mediator, workflow.ApplyAmendment{AmendmentID: failed, NewPointID: "p-late"}},
		{"reject", mediator, workflow.RejectAmendment{AmendmentID: failed, Reason: "Late."}},
		{"withdraw", ukraine, workflow.WithdrawAmendment{AmendmentID: failed}},
		{"sign off again", ukraine, f.signOffCmd("p1")},
		{"revoke a sign-off", ukraine, workflow.RevokeSignOff{PointID: "p1"}},
		{"accept again", ukraine, workflow.AcceptDocument{DocumentHash: hash}},
	} {
		t.Run(errName("NEGOTIATION_CONCLUDED")+"/"+tc.name, func(t *testing.T) {
			f.refuse(tc.actor, tc.cmd, workflow.EFAILEDPRECONDITION, "NEGOTIATION_CONCLUDED")
		})
	}
	t.Run("ErrRoleNotAllowed/roles are checked first", func(t *testing.T) {
		f.refuse(observer, workflow.CastVote{AmendmentID: failed, Choice: workflow.ChoiceApprove}, workflow.EPERMISSION, "ROLE_NOT_ALLOWED")
		f.refuse(stranger, workflow.CastVote{AmendmentID: failed, Choice: workflow.ChoiceApprove}, workflow.EPERMISSION, "NOT_A_MEMBER")
	})
	// Credentials are about who may read the negotiation, not about its
	// text: the admin still issues, rotates and revokes them.
	t.Run("OK/credentials", func(t *testing.T) {
		f.do(admin, workflow.IssueCredential{Participant: ukraine, TokenHash: goodHash})
		f.do(admin, workflow.IssueCredential{Participant: ukraine, TokenHash: workflow.HashText("rotated"), Rotate: true})
		if f.n.Credentials[ukraine] != workflow.HashText("rotated") {
			t.Errorf("credentials: %v", f.n.Credentials)
		}
		f.do(admin, workflow.RevokeCredential{Participant: ukraine})
		if _, ok := f.n.Credentials[ukraine]; ok || f.n.State != workflow.NegotiationStateConcluded || f.n.DocumentHash() != hash {
			t.Errorf("credentials %v, state %s", f.n.Credentials, f.n.State)
		}
	})
}

func TestCredentials(t *testing.T) {
	f := newFixture(t)
	checkPayloads(t, f.do(admin, workflow.IssueCredential{Participant: observer, TokenHash: goodHash}),
		[]workflow.Payload{workflow.CredentialIssued{Participant: observer, TokenHash: goodHash}})
	rotated := workflow.HashText("rotated")
	checkPayloads(t, f.do(admin, workflow.IssueCredential{Participant: observer, TokenHash: rotated, Rotate: true}),
		[]workflow.Payload{workflow.CredentialIssued{Participant: observer, TokenHash: rotated, Rotated: true}})
	if f.n.Credentials[observer] != rotated {
		t.Errorf("credential = %q", f.n.Credentials[observer])
	}
	checkPayloads(t, f.do(admin, workflow.RevokeCredential{Participant: observer}),
		[]workflow.Payload{workflow.CredentialRevoked{Participant: observer}})
	if len(f.n.Credentials) != 0 {
		t.Errorf("credentials: %v", f.n.Credentials)
	}
	// After a revocation a new token is issued, not rotated.
	f.do(admin, workflow.IssueCredential{Participant: observer, TokenHash: goodHash})
}

// TestRoles decides every command as every kind of actor, on an open
// negotiation and on a concluded one. Who may do what: delegations propose,
// vote, withdraw their own amendments, sign off and accept; mediators close,
// apply and reject, and propose and withdraw their own amendments too;
// delegations and mediators comment; the admin manages credentials;
// observers (unless the negotiation lets them comment) and strangers do
// nothing. Roles are checked before the state, so a caller who may never
// do something is told so even after conclusion.
func TestRoles(t *testing.T) {
	type command struct {
		name    string
		allowed string // "delegation", "mediator", "delegation,mediator" or "admin"
		cmd     func(open, passed string) workflow.Command
	}
	commands := []command{
		{"propose", "delegation,mediator", func(_, _ string) workflow.Command {
			return workflow.ProposeAmendment{AmendmentID: "am-matrix", Kind: workflow.KindReplace, PointID: "p3", BaseRevision: 1, Text: "Binding."}
		}},
		{"vote", "delegation", func(open, _ string) workflow.Command {
			return workflow.CastVote{AmendmentID: open, Choice: workflow.ChoiceApprove}
		}},
		{"withdraw", "delegation,mediator", func(open, _ string) workflow.Command { return workflow.WithdrawAmendment{AmendmentID: open} }},
		{"comment", "delegation,mediator", func(_, _ string) workflow.Command {
			return workflow.PostComment{CommentID: "c-matrix", PointID: "p3", Text: "Why binding?"}
		}},
		{"sign off", "delegation", func(_, _ string) workflow.Command {
			return workflow.SignOffPoint{PointID: "p3", Revision: 1, TextHash: workflow.HashText(text3)}
		}},
		{"revoke sign-off", "delegation", func(_, _ string) workflow.Command { return workflow.RevokeSignOff{PointID: "p2"} }},
		{"accept", "delegation", func(_, _ string) workflow.Command { return workflow.AcceptDocument{DocumentHash: goodHash} }},
		{"close voting", "mediator", func(open, _ string) workflow.Command { return workflow.CloseVoting{AmendmentID: open} }},
		{"apply", "mediator", func(_, passed string) workflow.Command { return workflow.ApplyAmendment{AmendmentID: passed} }},
		{"reject", "mediator", func(_, passed string) workflow.Command {
			return workflow.RejectAmendment{AmendmentID: passed, Reason: "No."}
		}},
		{"issue credential", "admin", func(_, _ string) workflow.Command {
			return workflow.IssueCredential{Participant: mediator, TokenHash: goodHash}
		}},
		{"rotate credential", "admin", func(_, _ string) workflow.Command {
			return workflow.IssueCredential{Participant: ukraine, TokenHash: goodHash, Rotate: true}
		}},
		{"revoke credential", "admin", func(_, _ string) workflow.Command { return workflow.RevokeCredential{Participant: ukraine} }},
	}
	actors := []struct{ id, kind string }{
		{ukraine, "delegation"}, {mediator, "mediator"}, {observer, "observer"}, {admin, "admin"}, {stranger, "stranger"},
	}

	// prepare gives ukraine an OPEN and a PASSED amendment, ukraine's
	// sign-off of p2 and a credential. Concluded, the amendments are
	// settled, and only the role checks can answer.
	prepare := func(t *testing.T, concluded bool) (*fixture, string, string) {
		f := newFixture(t)
		f.do(admin, workflow.IssueCredential{Participant: ukraine, TokenHash: workflow.HashText("first")})
		open := f.propose(ukraine, workflow.KindReplace, "p1", "Open.")
		passed := f.propose(ukraine, workflow.KindReplace, "p1", "Passed.")
		f.pass(passed)
		if concluded {
			f.do(ukraine, workflow.WithdrawAmendment{AmendmentID: open})
			f.do(ukraine, workflow.WithdrawAmendment{AmendmentID: passed})
			f.conclude()
		} else {
			f.do(ukraine, f.signOffCmd("p2"))
		}
		return f, open, passed
	}

	for _, concluded := range []bool{false, true} {
		state := "open"
		if concluded {
			state = "concluded"
		}
		for _, c := range commands {
			for _, a := range actors {
				t.Run(state+"/"+c.name+"/"+a.kind, func(t *testing.T) {
					f, open, passed := prepare(t, concluded)
					cmd := c.cmd(open, passed)
					var code, reason string
					switch {
					case c.allowed == "admin" && a.kind != "admin":
						code, reason = workflow.EPERMISSION, "ADMIN_ONLY"
					case c.allowed == "admin":
						// Credentials are allowed whatever the state.
					case a.kind == "stranger":
						code, reason = workflow.EPERMISSION, "NOT_A_MEMBER"
					case !slices.Contains(strings.Split(c.allowed, ","), a.kind):
						code, reason = workflow.EPERMISSION, "ROLE_NOT_ALLOWED"
					case concluded:
						code, reason = workflow.EFAILEDPRECONDITION, "NEGOTIATION_CONCLUDED"
					case c.name == "withdraw" && a.kind == "mediator":
						// The role may, but the amendment is ukraine's.
						code, reason = workflow.EPERMISSION, "NOT_PROPOSER"
					case c.name == "accept":
						// Allowed, but not with an amendment pending.
						code, reason = workflow.EFAILEDPRECONDITION, "AMENDMENTS_PENDING"
					}
					if code != "" {
						f.refuse(a.id, cmd, code, reason)
						return
					}
					events := f.do(a.id, cmd)
					if len(events) == 0 {
						t.Fatalf("no event")
					}
					// Nobody acts in another's name: every event is the actor's.
					for _, e := range events {
						if e.Actor != a.id {
							t.Errorf("event %T by %q, want %q", e.Payload, e.Actor, a.id)
						}
					}
				})
			}
		}
	}
}
