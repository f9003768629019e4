package workflow_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/parley-negotiation/parley/server/workflow"
)

// withMediatorChanges lets mediators change the negotiation.
func withMediatorChanges() option {
	return func(c *workflow.CreateNegotiation) { c.MediatorsMayChange = true }
}

// withDeadlines gives the negotiation a default voting duration and a limit.
func withDeadlines(def, limit time.Duration) option {
	return func(c *workflow.CreateNegotiation) { c.DefaultVotingDuration, c.MaxVotingDuration = def, limit }
}

// at decides a command at a chosen time; it must succeed.
func (f *fixture) at(when time.Time, actor string, cmd workflow.Command) []workflow.Event {
	f.t.Helper()
	m := f.meta(actor)
	m.At = when
	events, err := workflow.Decide(f.n, m, cmd)
	if err != nil {
		f.t.Fatalf("%s %T at %s: %v", actor, cmd, when, err)
	}
	f.applyAll(events)
	return events
}

// refuseAt checks a refusal of a command decided at a chosen time.
func (f *fixture) refuseAt(when time.Time, actor string, cmd workflow.Command, code, reason string) {
	f.t.Helper()
	m := f.meta(actor)
	m.At = when
	events, err := workflow.Decide(f.n, m, cmd)
	checkRefused(f.t, events, err, code, reason)
}

func suspended(f *fixture) { f.do(admin, workflow.SuspendNegotiation{Reason: "Consultations."}) }
func abandoned(f *fixture) { f.do(admin, workflow.AbandonNegotiation{Reason: "No agreement."}) }

var changeRefusals = []refusal{
	// Who may change.
	{name: "delegation adds a participant", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: func(*fixture) (string, workflow.Command) {
			return ukraine, workflow.AddParticipant{Participant: workflow.Participant{ID: "poland", Role: workflow.RoleDelegation}}
		}},
	{name: "mediator renames where not allowed", code: workflow.EPERMISSION, reason: "MEDIATOR_CHANGES_NOT_ALLOWED",
		run: func(*fixture) (string, workflow.Command) { return mediator, workflow.RenameNegotiation{Title: "New"} }},
	{name: "stranger renames", code: workflow.EPERMISSION, reason: "NOT_A_MEMBER",
		run: func(*fixture) (string, workflow.Command) { return stranger, workflow.RenameNegotiation{Title: "New"} }},
	{name: "removed participant votes", code: workflow.EPERMISSION, reason: "PARTICIPANT_REMOVED",
		run: func(f *fixture) (string, workflow.Command) {
			id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
			f.do(admin, workflow.RemoveParticipant{Participant: europe})
			return europe, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove}
		}},

	// Participants.
	{name: "add a taken id", code: workflow.EALREADYEXISTS, reason: "PARTICIPANT_EXISTS",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.AddParticipant{Participant: workflow.Participant{ID: russia, Role: workflow.RoleDelegation}}
		}},
	{name: "add the id of a removed participant", code: workflow.EALREADYEXISTS, reason: "PARTICIPANT_EXISTS",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(admin, workflow.RemoveParticipant{Participant: observer})
			return admin, workflow.AddParticipant{Participant: workflow.Participant{ID: observer, Role: workflow.RoleObserver}}
		}},
	{name: "add with a bad id", code: workflow.EINVALID, reason: "PARTICIPANT_ID_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.AddParticipant{Participant: workflow.Participant{ID: "Poland", Role: workflow.RoleDelegation}}
		}},
	{name: "add without a role", code: workflow.EINVALID, reason: "ROLE_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.AddParticipant{Participant: workflow.Participant{ID: "poland"}}
		}},
	{name: "add beyond the limit", code: workflow.ERESOURCEEXHAUSTED, reason: "TOO_MANY_PARTICIPANTS",
		run: func(f *fixture) (string, workflow.Command) {
			for i := len(f.n.Participants); i < workflow.MaxParticipants; i++ {
				f.do(admin, workflow.AddParticipant{Participant: workflow.Participant{ID: fmt.Sprintf("o%d", i), Role: workflow.RoleObserver}})
			}
			return admin, workflow.AddParticipant{Participant: workflow.Participant{ID: "one-more", Role: workflow.RoleObserver}}
		}},
	{name: "remove an unknown participant", code: workflow.ENOTFOUND, reason: "PARTICIPANT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.RemoveParticipant{Participant: stranger}
		}},
	{name: "remove the last mediator", code: workflow.EFAILEDPRECONDITION, reason: "LAST_MEDIATOR",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.RemoveParticipant{Participant: mediator}
		}},
	{name: "remove the last delegation", code: workflow.EFAILEDPRECONDITION, reason: "LAST_DELEGATION",
		run: func(f *fixture) (string, workflow.Command) {
			for _, d := range []string{russia, unitedStates, europe} {
				f.do(admin, workflow.RemoveParticipant{Participant: d})
			}
			return admin, workflow.RemoveParticipant{Participant: ukraine}
		}},
	{name: "remove below the quorum", code: workflow.EFAILEDPRECONDITION, reason: "QUORUM_UNREACHABLE",
		opts: []option{withRule(workflow.DecisionRule{Method: workflow.MethodMajority, Quorum: 4})},
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.RemoveParticipant{Participant: europe}
		}},

	// Rules.
	{name: "rule with a quorum no set of delegations meets", code: workflow.EINVALID, reason: "QUORUM_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.ChangeDecisionRule{Rule: workflow.DecisionRule{Method: workflow.MethodMajority, Quorum: 5}}
		}},
	{name: "rule without a method", code: workflow.EINVALID, reason: "DECISION_RULE_INVALID",
		run: func(*fixture) (string, workflow.Command) { return admin, workflow.ChangeDecisionRule{} }},
	{name: "weight of a mediator", code: workflow.EINVALID, reason: "WEIGHT_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.ChangeDecisionRule{Rule: workflow.DecisionRule{Method: workflow.MethodConsensus}, Weights: map[string]int32{mediator: 2}}
		}},
	{name: "weight of a stranger", code: workflow.ENOTFOUND, reason: "PARTICIPANT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.ChangeDecisionRule{Rule: workflow.DecisionRule{Method: workflow.MethodConsensus}, Weights: map[string]int32{stranger: 2}}
		}},
	{name: "rename to nothing", code: workflow.EINVALID, reason: "TITLE_INVALID",
		run: func(*fixture) (string, workflow.Command) { return admin, workflow.RenameNegotiation{Title: " "} }},

	// Suspend, resume, abandon.
	{name: "suspend twice", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_SUSPENDED",
		run: func(f *fixture) (string, workflow.Command) {
			suspended(f)
			return admin, workflow.SuspendNegotiation{}
		}},
	{name: "propose while suspended", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_SUSPENDED",
		run: func(f *fixture) (string, workflow.Command) {
			suspended(f)
			return ukraine, replaceP1()
		}},
	{name: "comment while suspended", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_SUSPENDED",
		run: func(f *fixture) (string, workflow.Command) {
			suspended(f)
			return ukraine, workflow.PostComment{CommentID: "c-1", PointID: "p1", Text: "Meanwhile."}
		}},
	{name: "retract a comment while suspended", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_SUSPENDED",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, workflow.PostComment{CommentID: "c-1", PointID: "p1", Text: "Meanwhile."})
			suspended(f)
			return ukraine, workflow.RetractComment{CommentID: "c-1"}
		}},
	{name: "resume an open negotiation", code: workflow.EFAILEDPRECONDITION, reason: "NOT_SUSPENDED",
		run: func(*fixture) (string, workflow.Command) { return admin, workflow.ResumeNegotiation{} }},
	{name: "suspend a concluded negotiation", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_CONCLUDED",
		run: func(f *fixture) (string, workflow.Command) {
			f.conclude()
			return admin, workflow.SuspendNegotiation{}
		}},
	{name: "suspend an abandoned negotiation", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_ABANDONED",
		run: func(f *fixture) (string, workflow.Command) {
			abandoned(f)
			return admin, workflow.SuspendNegotiation{}
		}},
	{name: "vote after abandon", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_ABANDONED",
		run: func(f *fixture) (string, workflow.Command) {
			id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
			abandoned(f)
			return russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove}
		}},
	{name: "comment after abandon", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_ABANDONED",
		run: func(f *fixture) (string, workflow.Command) {
			abandoned(f)
			return mediator, workflow.PostComment{CommentID: "c-1", PointID: "p1", Text: "Afterwards."}
		}},
	{name: "comment by a removed delegation", code: workflow.EPERMISSION, reason: "PARTICIPANT_REMOVED",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(admin, workflow.RemoveParticipant{Participant: europe})
			return europe, workflow.PostComment{CommentID: "c-1", PointID: "p1", Text: "Still here."}
		}},
	{name: "abandon without a reason", code: workflow.EINVALID, reason: "REASON_REQUIRED",
		run: func(*fixture) (string, workflow.Command) { return admin, workflow.AbandonNegotiation{} }},
	{name: "suspend with a reason too long", code: workflow.EINVALID, reason: "REASON_TOO_LONG",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.SuspendNegotiation{Reason: strings.Repeat("r", workflow.MaxReasonBytes+1)}
		}},

	// Deadlines.
	{name: "create with a default beyond the limit", code: workflow.EINVALID, reason: "VOTING_DURATION_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) {
			c.DefaultVotingDuration, c.MaxVotingDuration = 2*time.Hour, time.Hour
		})},
	{name: "create with a negative limit", code: workflow.EINVALID, reason: "VOTING_DURATION_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.MaxVotingDuration = -time.Hour })},
	{name: "create with a default longer than a year", code: workflow.EINVALID, reason: "VOTING_DURATION_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.DefaultVotingDuration = 400 * 24 * time.Hour })},
	{name: "propose with a deadline in the past", code: workflow.EINVALID, reason: "DEADLINE_IN_PAST",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Deadline = epoch })},
	{name: "propose with a deadline beyond the limit", code: workflow.EINVALID, reason: "DEADLINE_TOO_FAR",
		opts: []option{withDeadlines(0, time.Hour)},
		run:  proposeWith(func(c *workflow.ProposeAmendment) { c.Deadline = epoch.Add(30 * 24 * time.Hour) })},
	{name: "deadline set by a delegation", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: onOpenAmendment(ukraine, func(id string) workflow.Command {
			return workflow.SetVotingDeadline{AmendmentID: id, Deadline: epoch.Add(24 * time.Hour)}
		})},
	{name: "deadline on a closed vote", code: workflow.EFAILEDPRECONDITION, reason: "VOTING_CLOSED",
		run: onPassedAmendment(mediator, func(id string) workflow.Command {
			return workflow.SetVotingDeadline{AmendmentID: id, Deadline: epoch.Add(24 * time.Hour)}
		})},
	{name: "deadline moved into the past", code: workflow.EINVALID, reason: "DEADLINE_IN_PAST",
		run: onOpenAmendment(mediator, func(id string) workflow.Command {
			return workflow.SetVotingDeadline{AmendmentID: id, Deadline: epoch}
		})},
	{name: "deadline closing by a participant", code: workflow.EPERMISSION, reason: "ADMIN_ONLY",
		run: onOpenAmendment(mediator, func(id string) workflow.Command { return workflow.CloseVotingAtDeadline{AmendmentID: id} })},
	{name: "deadline closing before the deadline", code: workflow.EFAILEDPRECONDITION, reason: "DEADLINE_NOT_REACHED",
		opts: []option{withDeadlines(time.Hour, 0)},
		run:  onOpenAmendment(admin, func(id string) workflow.Command { return workflow.CloseVotingAtDeadline{AmendmentID: id} })},
	{name: "deadline closing without a deadline", code: workflow.EFAILEDPRECONDITION, reason: "DEADLINE_NOT_REACHED",
		run: onOpenAmendment(admin, func(id string) workflow.Command { return workflow.CloseVotingAtDeadline{AmendmentID: id} })},
	{name: "deadline closing of a closed vote", code: workflow.EFAILEDPRECONDITION, reason: "VOTING_CLOSED",
		run: onPassedAmendment(admin, func(id string) workflow.Command { return workflow.CloseVotingAtDeadline{AmendmentID: id} })},
}

func TestChangeRefusals(t *testing.T) {
	for _, tc := range changeRefusals {
		t.Run(errName(tc.reason)+"/"+tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			actor, cmd := tc.run(f)
			if tc.nilState {
				events, err := workflow.Decide(nil, f.meta(actor), cmd)
				checkRefused(t, events, err, tc.code, tc.reason)
				return
			}
			f.refuse(actor, cmd, tc.code, tc.reason)
		})
	}
}

func TestAddParticipant(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
		f.do(admin, workflow.AddParticipant{Participant: workflow.Participant{ID: "poland", DisplayName: " Poland ", Role: workflow.RoleDelegation}})
		// Any valid id not taken, whatever it looks like.
		f.do(admin, workflow.AddParticipant{Participant: workflow.Participant{ID: "x-mediator", Role: workflow.RoleObserver}})
		p, ok := f.n.Participant("poland")
		if !ok || p.DisplayName != "Poland" || p.Weight != 1 {
			t.Fatalf("poland = %+v, %v", p, ok)
		}
		// The newcomer votes on what is open, and its vote is needed to close.
		for _, d := range delegations {
			f.do(d, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		}
		if s := f.amendment(id).State; s != workflow.AmendmentStateOpen {
			t.Fatalf("state = %s before poland voted", s)
		}
		f.do("poland", workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		if s := f.amendment(id).State; s != workflow.AmendmentStatePassed {
			t.Fatalf("state = %s after every delegation approved", s)
		}
	})
	t.Run("MediatorWhereAllowed", func(t *testing.T) {
		f := newFixture(t, withMediatorChanges())
		f.do(mediator, workflow.AddParticipant{Participant: workflow.Participant{ID: "mediator-2", Role: workflow.RoleMediator}})
		f.do(admin, workflow.RemoveParticipant{Participant: mediator})
		f.do("mediator-2", workflow.RenameNegotiation{Title: "Renamed"})
		if f.n.Title != "Renamed" {
			t.Fatalf("title = %q", f.n.Title)
		}
		f.noop("mediator-2", workflow.RenameNegotiation{Title: " Renamed "})
	})
}

func TestRemoveParticipant(t *testing.T) {
	t.Run("RecountsOpenVotes", func(t *testing.T) {
		f := newFixture(t)
		complete := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
		incomplete := f.propose(ukraine, workflow.KindReplace, "p2", "Another text.")
		for _, d := range []string{ukraine, russia, unitedStates} {
			f.do(d, workflow.CastVote{AmendmentID: complete, Choice: workflow.ChoiceApprove})
		}
		f.do(europe, workflow.CastVote{AmendmentID: incomplete, Choice: workflow.ChoiceReject, Reason: "No."})
		f.do(ukraine, workflow.CastVote{AmendmentID: incomplete, Choice: workflow.ChoiceApprove})
		events := f.do(admin, workflow.RemoveParticipant{Participant: europe})
		if got, want := payloads(events), []string{"workflow.ParticipantRemoved", "workflow.VotingClosed"}; !slices.Equal(got, want) {
			t.Fatalf("events = %v, want %v", got, want)
		}
		a := f.amendment(complete)
		if a.State != workflow.AmendmentStatePassed || a.Tally.Approve != 3 || a.Tally.NotVoted != 0 || a.Tally.ClosedByMediator {
			t.Fatalf("complete amendment: %s %+v", a.State, a.Tally)
		}
		b := f.amendment(incomplete)
		if _, ok := b.Votes[europe]; ok || b.State != workflow.AmendmentStateOpen {
			t.Fatalf("incomplete amendment keeps europe's vote or closed: %s %v", b.State, b.Votes)
		}
		if _, ok := f.n.Credentials[europe]; ok {
			t.Fatal("a removed participant keeps its credential")
		}
	})
	t.Run("ReopensNothing", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
		f.do(europe, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: "No."})
		f.do(mediator, workflow.CloseVoting{AmendmentID: id})
		f.do(admin, workflow.RemoveParticipant{Participant: europe})
		if a := f.amendment(id); a.State != workflow.AmendmentStateFailed || a.Votes[europe].Choice != workflow.ChoiceReject {
			t.Fatalf("closed amendment changed: %s %v", a.State, a.Votes)
		}
	})
	t.Run("RecountsMediatorProposal", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(mediator, workflow.KindReplace, "p1", "A compromise.")
		for _, d := range []string{ukraine, russia, unitedStates} {
			f.do(d, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		}
		events := f.do(admin, workflow.RemoveParticipant{Participant: europe})
		if got, want := payloads(events), []string{"workflow.ParticipantRemoved", "workflow.VotingClosed"}; !slices.Equal(got, want) {
			t.Fatalf("events = %v, want %v", got, want)
		}
		if a := f.amendment(id); a.State != workflow.AmendmentStatePassed || a.Tally.Approve != 3 || a.Tally.NotVoted != 0 {
			t.Fatalf("mediator's proposal: %s %+v", a.State, a.Tally)
		}
	})
	t.Run("RemovedMediatorsProposalStaysMediators", func(t *testing.T) {
		f := newFixture(t)
		f.do(admin, workflow.AddParticipant{Participant: workflow.Participant{ID: "second-mediator", DisplayName: "Second mediator", Role: workflow.RoleMediator}})
		id := f.propose(mediator, workflow.KindReplace, "p1", "A compromise.")
		f.do(admin, workflow.RemoveParticipant{Participant: mediator})
		a := f.amendment(id)
		if a.State != workflow.AmendmentStateOpen || !f.n.ByMediator(a) {
			t.Fatalf("removed mediator's proposal: %s, by mediator %v", a.State, f.n.ByMediator(a))
		}
	})
	t.Run("ConcludesWhenTheOthersAccepted", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		for _, d := range []string{ukraine, russia, unitedStates} {
			f.accept(d)
		}
		events := f.do(admin, workflow.RemoveParticipant{Participant: europe})
		if got := payloads(events); !slices.Contains(got, "workflow.NegotiationConcluded") {
			t.Fatalf("events = %v, want a conclusion", got)
		}
	})
	t.Run("Observer", func(t *testing.T) {
		f := newFixture(t)
		f.do(admin, workflow.IssueCredential{Participant: observer, TokenHash: goodHash})
		f.do(admin, workflow.RemoveParticipant{Participant: observer})
		if len(f.n.Removed) != 1 || f.n.Removed[0].ID != observer {
			t.Fatalf("removed = %v", f.n.Removed)
		}
	})
}

func TestChangeDecisionRule(t *testing.T) {
	t.Run("AppliesToLaterAmendments", func(t *testing.T) {
		f := newFixture(t)
		before := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
		f.do(admin, workflow.ChangeDecisionRule{Rule: workflow.DecisionRule{Method: workflow.MethodMajority}})
		after := f.propose(ukraine, workflow.KindReplace, "p2", "Another text.")
		for _, id := range []string{before, after} {
			f.do(ukraine, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
			f.do(russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: "No."})
			f.do(unitedStates, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
			f.do(europe, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		}
		// Consensus fails on one rejection; a majority of three in four passes.
		if s := f.amendment(before).State; s != workflow.AmendmentStateFailed {
			t.Errorf("amendment before the change is %s, want FAILED under consensus", s)
		}
		if s := f.amendment(after).State; s != workflow.AmendmentStatePassed {
			t.Errorf("amendment after the change is %s, want PASSED under majority", s)
		}
		if got := f.n.RuleOf(f.amendment(after)).Rule.Method; got != workflow.MethodMajority {
			t.Errorf("rule of the later amendment = %s", got)
		}
	})
	t.Run("Weights", func(t *testing.T) {
		f := newFixture(t)
		rule := workflow.DecisionRule{Method: workflow.MethodQualified, ThresholdBasisPoints: 5000}
		f.do(admin, workflow.ChangeDecisionRule{Rule: rule, Weights: map[string]int32{ukraine: 5}})
		if p, _ := f.n.Participant(ukraine); p.Weight != 5 {
			t.Fatalf("weight = %d", p.Weight)
		}
		id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
		f.do(ukraine, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		f.do(mediator, workflow.CloseVoting{AmendmentID: id})
		if a := f.amendment(id); !a.Tally.Passed || a.Tally.ApprovingWeight != 5 || a.Tally.TotalWeight != 8 {
			t.Fatalf("tally = %+v", a.Tally)
		}
		f.noop(admin, workflow.ChangeDecisionRule{Rule: rule, Weights: map[string]int32{ukraine: 5}})
	})
}

func TestSuspendResumeAbandon(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		suspended(f)
		if f.n.State != workflow.NegotiationStateSuspended {
			t.Fatalf("state = %s", f.n.State)
		}
		// Changes of the negotiation itself go on during a pause.
		f.do(admin, workflow.AddParticipant{Participant: workflow.Participant{ID: "mediator-2", Role: workflow.RoleMediator}})
		f.do(admin, workflow.ResumeNegotiation{})
		f.do(ukraine, replaceP1())
		abandoned(f)
		if f.n.State != workflow.NegotiationStateAbandoned || !f.n.State.Final() {
			t.Fatalf("state = %s", f.n.State)
		}
	})
}

func TestDeadlines(t *testing.T) {
	t.Run("Default", func(t *testing.T) {
		f := newFixture(t, withDeadlines(48*time.Hour, 7*24*time.Hour))
		id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
		a := f.amendment(id)
		if want := a.ProposedAt.Add(48 * time.Hour); !a.Deadline.Equal(want) {
			t.Fatalf("deadline = %s, want %s", a.Deadline, want)
		}
		// Extended within the limit, and no further.
		f.do(mediator, workflow.SetVotingDeadline{AmendmentID: id, Deadline: a.ProposedAt.Add(7 * 24 * time.Hour)})
		f.refuse(mediator, workflow.SetVotingDeadline{AmendmentID: id, Deadline: a.ProposedAt.Add(7*24*time.Hour + time.Second)}, workflow.EINVALID, "DEADLINE_TOO_FAR")
		f.noop(mediator, workflow.SetVotingDeadline{AmendmentID: id, Deadline: a.ProposedAt.Add(7 * 24 * time.Hour)})
	})
	t.Run("ClosesOnceAtTheDeadline", func(t *testing.T) {
		f := newFixture(t)
		deadline := epoch.Add(24 * time.Hour)
		f.do(ukraine, workflow.ProposeAmendment{AmendmentID: "am-d", Kind: workflow.KindReplace, PointID: "p1", BaseRevision: 1, Text: "New.", Deadline: deadline})
		f.do(ukraine, workflow.CastVote{AmendmentID: "am-d", Choice: workflow.ChoiceApprove})
		f.refuseAt(deadline.Add(-time.Nanosecond), admin, workflow.CloseVotingAtDeadline{AmendmentID: "am-d"}, workflow.EFAILEDPRECONDITION, "DEADLINE_NOT_REACHED")
		events := f.at(deadline, admin, workflow.CloseVotingAtDeadline{AmendmentID: "am-d"})
		if got := payloads(events); !slices.Equal(got, []string{"workflow.VotingClosed"}) {
			t.Fatalf("events = %v", got)
		}
		a := f.amendment("am-d")
		if a.State != workflow.AmendmentStatePassed || !a.Tally.ClosedByDeadline || a.Tally.NotVoted != 3 {
			t.Fatalf("amendment = %s %+v", a.State, a.Tally)
		}
		// A second closing, racing the first, is refused: never a second event.
		f.refuseAt(deadline.Add(time.Hour), admin, workflow.CloseVotingAtDeadline{AmendmentID: "am-d"}, workflow.EFAILEDPRECONDITION, "VOTING_CLOSED")
	})
	t.Run("WaitsForResume", func(t *testing.T) {
		f := newFixture(t, withDeadlines(time.Hour, 0))
		id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
		suspended(f)
		late := f.amendment(id).Deadline.Add(time.Hour)
		f.refuseAt(late, admin, workflow.CloseVotingAtDeadline{AmendmentID: id}, workflow.EFAILEDPRECONDITION, "NEGOTIATION_SUSPENDED")
		f.at(late, admin, workflow.ResumeNegotiation{})
		f.at(late, admin, workflow.CloseVotingAtDeadline{AmendmentID: id})
	})
	t.Run("NotVoted", func(t *testing.T) {
		f := newFixture(t)
		id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
		f.do(russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceAbstain})
		if got, want := f.n.NotVoted(f.amendment(id)), []string{ukraine, unitedStates, europe}; !slices.Equal(got, want) {
			t.Fatalf("not voted = %v, want %v", got, want)
		}
	})
}

// TestChangesDuringVotes plays random sequences of votes, removals,
// additions, rule changes, pauses and deadline closings at random times, and
// checks after every step that the state equals the fold of the log (as a
// restart rebuilds it), that no amendment closes twice, that every OPEN
// amendment misses a vote of a current delegation, and that a deadline
// closing happens only at or after its deadline.
func TestChangesDuringVotes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := validCreate()
		withDeadlines(time.Hour, 4*time.Hour)(&c)
		withMediatorChanges()(&c)
		log, err := workflow.Decide(nil, workflow.Meta{Actor: admin, At: epoch}, c)
		if err != nil {
			t.Fatal(err)
		}
		n, err := workflow.Fold(log)
		if err != nil {
			t.Fatal(err)
		}
		now := epoch
		closings := map[string]int{}
		added := 0
		for step := range rapid.IntRange(1, 60).Draw(t, "steps") {
			now = now.Add(time.Duration(rapid.IntRange(0, 90).Draw(t, "minutes")) * time.Minute)
			var open []string
			for _, id := range n.AmendmentOrder {
				if n.Amendments[id].State == workflow.AmendmentStateOpen {
					open = append(open, id)
				}
			}
			dels := n.Delegations()
			var actor string
			var cmd workflow.Command
			switch rapid.IntRange(0, 8).Draw(t, "kind") {
			case 0, 1:
				actor = rapid.SampledFrom(dels).Draw(t, "proposer")
				cmd = workflow.ProposeAmendment{AmendmentID: fmt.Sprintf("am-%d", step), Kind: workflow.KindInsert, Text: fmt.Sprintf("Point %d.", step)}
			case 2, 3:
				if len(open) == 0 {
					continue
				}
				actor = rapid.SampledFrom(dels).Draw(t, "voter")
				cmd = workflow.CastVote{AmendmentID: rapid.SampledFrom(open).Draw(t, "amendment"), Choice: workflow.ChoiceApprove}
			case 4:
				if len(open) == 0 {
					continue
				}
				actor, cmd = admin, workflow.CloseVotingAtDeadline{AmendmentID: rapid.SampledFrom(open).Draw(t, "amendment")}
			case 5:
				actor, cmd = admin, workflow.RemoveParticipant{Participant: rapid.SampledFrom(dels).Draw(t, "removed")}
			case 6:
				added++
				actor, cmd = mediator, workflow.AddParticipant{Participant: workflow.Participant{ID: fmt.Sprintf("d-%d", added), Role: workflow.RoleDelegation}}
			case 7:
				methods := []workflow.DecisionMethod{workflow.MethodConsensus, workflow.MethodUnanimity, workflow.MethodMajority}
				actor, cmd = admin, workflow.ChangeDecisionRule{Rule: workflow.DecisionRule{Method: rapid.SampledFrom(methods).Draw(t, "method")}}
			case 8:
				if n.State == workflow.NegotiationStateSuspended {
					actor, cmd = admin, workflow.ResumeNegotiation{}
				} else {
					actor, cmd = admin, workflow.SuspendNegotiation{}
				}
			}
			m := workflow.Meta{Actor: actor, RequestID: fmt.Sprintf("req-%d", step), At: now}
			events, err := workflow.Decide(n, m, cmd)
			if err != nil {
				continue
			}
			for _, e := range events {
				if err := n.Apply(e); err != nil {
					t.Fatalf("apply %T: %v", e.Payload, err)
				}
				log = append(log, e)
			}
			for _, e := range events {
				if vc, ok := e.Payload.(workflow.VotingClosed); ok {
					if closings[vc.AmendmentID]++; closings[vc.AmendmentID] > 1 {
						t.Fatalf("amendment %s closed twice", vc.AmendmentID)
					}
					if vc.Tally.ClosedByDeadline && now.Before(n.Amendments[vc.AmendmentID].Deadline) {
						t.Fatalf("amendment %s closed before its deadline", vc.AmendmentID)
					}
				}
			}
			folded, err := workflow.Fold(log)
			if err != nil {
				t.Fatalf("fold: %v", err)
			}
			if d := stateDiff(folded, n); d != "" {
				t.Fatalf("state differs from the fold of its log:\n%s", d)
			}
			for _, id := range n.AmendmentOrder {
				a := n.Amendments[id]
				if a.State == workflow.AmendmentStateOpen && len(n.NotVoted(a)) == 0 {
					t.Fatalf("amendment %s is OPEN with every vote cast", id)
				}
				for voter := range a.Votes {
					if _, ok := n.Participant(voter); !ok && a.State == workflow.AmendmentStateOpen {
						t.Fatalf("OPEN amendment %s counts the vote of removed %s", id, voter)
					}
				}
			}
		}
	})
}
