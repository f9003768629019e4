package workflow_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/workflow"
)

// forge appends an event that Decide did not produce to the fixture's log and
// state. It stands for a log written under other rules (an older version of
// this package, say): Apply takes it, and Decide must still behave on the
// state it leaves.
func (f *fixture) forge(actor string, p workflow.Payload) {
	f.t.Helper()
	seq := f.n.LastSequence + 1
	f.applyAll([]workflow.Event{{
		NegotiationID: f.n.ID, Sequence: seq, At: epoch.Add(time.Duration(seq) * time.Hour),
		Actor: actor, RequestID: fmt.Sprintf("forged-%d", seq), Payload: p,
	}})
}

// defensiveRefusals are refusals that today's rules never let arise, because
// applying an amendment stales every other draft of its point. They guard
// against states folded from logs that other rules wrote.
var defensiveRefusals = []refusal{
	{name: "apply a replace whose point changed unnoticed", code: workflow.EABORTED, reason: "STALE_REVISION",
		run: func(f *fixture) (string, workflow.Command) {
			a := f.propose(ukraine, workflow.KindReplace, "p1", "Ukraine's text.")
			b := f.propose(russia, workflow.KindReplace, "p1", "Russia's text.")
			f.pass(a)
			f.pass(b)
			f.forge(mediator, workflow.AmendmentApplied{AmendmentID: a, PointID: "p1", Revision: 2, TextHash: workflow.HashText("Ukraine's text.")})
			return mediator, workflow.ApplyAmendment{AmendmentID: b}
		}},
	{name: "apply a replace whose point was deleted unnoticed", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			a := f.propose(ukraine, workflow.KindDelete, "p1", "")
			b := f.propose(russia, workflow.KindReplace, "p1", "Russia's text.")
			f.pass(a)
			f.pass(b)
			f.forge(mediator, workflow.AmendmentApplied{AmendmentID: a, PointID: "p1"})
			return mediator, workflow.ApplyAmendment{AmendmentID: b}
		}},
	{name: "apply an insert whose anchor was deleted unnoticed", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			a := f.propose(ukraine, workflow.KindDelete, "p1", "")
			b := f.propose(russia, workflow.KindInsert, "p1", "After the first point.")
			f.pass(a)
			f.pass(b)
			f.forge(mediator, workflow.AmendmentApplied{AmendmentID: a, PointID: "p1"})
			return mediator, workflow.ApplyAmendment{AmendmentID: b, NewPointID: "p-new"}
		}},
}

func TestDefensiveRefusals(t *testing.T) {
	for _, tc := range defensiveRefusals {
		t.Run(errName(tc.reason)+"/"+tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			actor, cmd := tc.run(f)
			f.refuse(actor, cmd, tc.code, tc.reason)
		})
	}
}

// corruptLogs are logs that Fold must refuse: out of order, of two
// negotiations, or naming things that do not exist.
var corruptLogs = []struct {
	name  string
	build func(f *fixture) []workflow.Event // the fixture's log plus the bad part
	whole bool                              // the log is bad as a whole, not by its last event
}{
	{name: "event of another negotiation", build: func(f *fixture) []workflow.Event {
		return appendEvent(f.log, "other-negotiation", workflow.CredentialRevoked{Participant: ukraine})
	}},
	{name: "log not starting at 1", build: func(f *fixture) []workflow.Event {
		return f.log[1:]
	}, whole: true},
	{name: "gap in the sequence", build: func(f *fixture) []workflow.Event {
		e := appendEvent(f.log, negotiationID, workflow.CredentialRevoked{Participant: ukraine})
		e[len(e)-1].Sequence++
		return e
	}},
	{name: "sequence repeated", build: func(f *fixture) []workflow.Event {
		return append(f.log[:len(f.log):len(f.log)], f.log[len(f.log)-1])
	}},
	{name: "log not starting with the creation", build: func(f *fixture) []workflow.Event {
		return appendEvent(nil, negotiationID, workflow.PointAdded{PointID: "p1", Text: "x", TextHash: workflow.HashText("x")})
	}},
	{name: "created twice", build: func(f *fixture) []workflow.Event {
		return appendEvent(f.log, negotiationID, f.log[0].Payload)
	}},
	{name: "point added twice", build: func(f *fixture) []workflow.Event {
		return appendEvent(f.log, negotiationID, f.log[1].Payload)
	}},
	{name: "amendment proposed twice", build: func(f *fixture) []workflow.Event {
		f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		return appendEvent(f.log, negotiationID, f.log[len(f.log)-1].Payload)
	}},
	{name: "vote on an unknown amendment", build: func(f *fixture) []workflow.Event {
		return appendEvent(f.log, negotiationID, workflow.VoteCast{AmendmentID: "am-nope", Choice: workflow.ChoiceApprove})
	}},
	{name: "vote on a withdrawn amendment", build: func(f *fixture) []workflow.Event {
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		f.do(ukraine, workflow.WithdrawAmendment{AmendmentID: id})
		return appendEvent(f.log, negotiationID, workflow.VoteCast{AmendmentID: id, Choice: workflow.ChoiceApprove})
	}},
	{name: "replace at a revision that skips one", build: func(f *fixture) []workflow.Event {
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		f.pass(id)
		return appendEvent(f.log, negotiationID, workflow.AmendmentApplied{AmendmentID: id, PointID: "p1", Revision: 3})
	}},
	{name: "replace of an unknown point", build: func(f *fixture) []workflow.Event {
		id := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		f.pass(id)
		return appendEvent(f.log, negotiationID, workflow.AmendmentApplied{AmendmentID: id, PointID: "p-nope", Revision: 2,
			TextHash: workflow.HashText("New.")})
	}},
	{name: "replace of a deleted point", build: func(f *fixture) []workflow.Event {
		rep := f.propose(ukraine, workflow.KindReplace, "p1", "New.")
		del := f.propose(russia, workflow.KindDelete, "p1", "")
		f.pass(rep)
		f.pass(del)
		// Applied without staling the replace, as the rules would.
		f.forge(mediator, workflow.AmendmentApplied{AmendmentID: del, PointID: "p1"})
		return appendEvent(f.log, negotiationID, workflow.AmendmentApplied{AmendmentID: rep, PointID: "p1", Revision: 2,
			TextHash: workflow.HashText("New.")})
	}},
	{name: "insert of an existing point", build: func(f *fixture) []workflow.Event {
		id := f.propose(ukraine, workflow.KindInsert, "", "New.")
		f.pass(id)
		return appendEvent(f.log, negotiationID, workflow.AmendmentApplied{AmendmentID: id, PointID: "p2", Revision: 1})
	}},
	{name: "delete of a point not in the document", build: func(f *fixture) []workflow.Event {
		id := f.propose(ukraine, workflow.KindDelete, "p1", "")
		f.pass(id)
		return appendEvent(f.log, negotiationID, workflow.AmendmentApplied{AmendmentID: id, PointID: "p-nope"})
	}},
	{name: "insert after a deleted point", build: func(f *fixture) []workflow.Event {
		ins := f.propose(russia, workflow.KindInsert, "p1", "New.")
		del := f.propose(ukraine, workflow.KindDelete, "p1", "")
		f.pass(ins)
		f.pass(del)
		// Applied without staling the insert, as the rules would.
		f.forge(mediator, workflow.AmendmentApplied{AmendmentID: del, PointID: "p1"})
		return appendEvent(f.log, negotiationID, workflow.AmendmentApplied{AmendmentID: ins, PointID: "p-new", Revision: 1})
	}},
	{name: "amendment of unknown kind applied", build: func(f *fixture) []workflow.Event {
		f.forge(ukraine, workflow.AmendmentProposed{AmendmentID: "am-odd", Kind: 0, PointID: "p1", BaseRevision: 1})
		f.forge(mediator, workflow.VotingClosed{AmendmentID: "am-odd", Tally: workflow.Tally{Passed: true}})
		return appendEvent(f.log, negotiationID, workflow.AmendmentApplied{AmendmentID: "am-odd", PointID: "p1"})
	}},
	{name: "sign-off of an unknown point", build: func(f *fixture) []workflow.Event {
		return appendEvent(f.log, negotiationID, workflow.PointSignedOff{PointID: "p-nope", Revision: 1})
	}},
	{name: "revocation on an unknown point", build: func(f *fixture) []workflow.Event {
		return appendEvent(f.log, negotiationID, workflow.SignOffRevoked{PointID: "p-nope", Revision: 1})
	}},
	{name: "no payload", build: func(f *fixture) []workflow.Event {
		return appendEvent(f.log, negotiationID, nil)
	}},
}

func appendEvent(log []workflow.Event, negotiation string, p workflow.Payload) []workflow.Event {
	seq := int64(len(log)) + 1
	if len(log) > 0 {
		seq = log[len(log)-1].Sequence + 1
	}
	out := append(log[:len(log):len(log)], workflow.Event{NegotiationID: negotiation, Sequence: seq, At: epoch, Actor: ukraine, Payload: p})
	return out
}

func TestFoldRefusesCorruptLogs(t *testing.T) {
	for _, tc := range corruptLogs {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			log := tc.build(f)
			if !tc.whole {
				// Only the last event is bad: the fold must fail there.
				if _, err := workflow.Fold(log[:len(log)-1]); err != nil {
					t.Fatalf("the log before the bad event does not fold: %v", err)
				}
			}
			n, err := workflow.Fold(log)
			if err == nil {
				t.Fatalf("Fold took a corrupt log")
			}
			if n != nil {
				t.Errorf("Fold returned a state with its error")
			}
			if workflow.ErrorCode(err) != workflow.EINTERNAL || workflow.ErrorReason(err) != "LOG_CORRUPT" {
				t.Errorf("error = %v, want internal/LOG_CORRUPT", err)
			}
		})
	}
}

// The sign-off that completes the last point concludes the negotiation only if
// every delegation has signed off every point at its current revision. Under
// today's rules every delegation's acceptance already needs that, so these
// states come from logs written under other rules: the acceptances are forged.
func TestConclusionNeedsEverySignOff(t *testing.T) {
	// signAllBut has every delegation sign off every point at its current
	// revision, but for the sign-offs skipped.
	signAllBut := func(f *fixture, skip [][2]string) {
		f.t.Helper()
		for _, pid := range f.n.Order {
			for _, d := range delegations {
				if s, ok := f.n.Points[pid].SignOffs[d]; slices.Contains(skip, [2]string{pid, d}) || ok && s.Revision == f.n.Points[pid].Current().Revision {
					continue
				}
				f.do(d, f.signOffCmd(pid))
			}
		}
	}
	acceptAll := func(f *fixture) {
		f.t.Helper()
		for _, d := range delegations {
			f.forge(d, workflow.DocumentAccepted{DocumentHash: f.n.DocumentHash()})
		}
	}
	tests := []struct {
		name string
		// setup leaves every delegation's acceptance of the current text and
		// all sign-offs but a few, and returns those missing: first the one
		// under test, last the one that completes the document.
		setup func(f *fixture) (missing [][2]string)
	}{
		{"other delegations have not signed off the point", func(f *fixture) [][2]string {
			// Ukraine, the first delegation, signs off p1 first: the others'
			// sign-offs of the same point must still be checked.
			missing := [][2]string{{"p1", ukraine}, {"p1", russia}, {"p1", unitedStates}, {"p1", europe}}
			signAllBut(f, missing)
			acceptAll(f)
			return missing
		}},
		{"the signer has not signed off another point", func(f *fixture) [][2]string {
			missing := [][2]string{{"p1", ukraine}, {"p3", ukraine}}
			signAllBut(f, missing)
			acceptAll(f)
			return missing
		}},
		{"another delegation's sign-off is stale", func(f *fixture) [][2]string {
			f.signAll()
			f.amend(workflow.KindReplace, "p2", "A new second point.")
			// Russia's sign-off of p2 is of revision 1, which is no longer
			// the text.
			missing := [][2]string{{"p2", ukraine}, {"p2", russia}}
			signAllBut(f, missing)
			acceptAll(f)
			return missing
		}},
	}
	for _, tt := range tests {
		t.Run("OK/"+tt.name, func(t *testing.T) {
			f := newFixture(t)
			missing := tt.setup(f)
			for i, s := range missing {
				events := f.do(s[1], f.signOffCmd(s[0]))
				if i < len(missing)-1 {
					if got := payloads(events); len(got) != 1 || f.n.State != workflow.NegotiationStateOpen {
						t.Fatalf("%s's sign-off of %s gave %v; negotiation %s, want one sign-off and OPEN", s[1], s[0], got, f.n.State)
					}
					continue
				}
				// Once the last sign-off comes, the negotiation concludes:
				// the state was short of sign-offs, not broken.
				if got := payloads(events); len(got) != 2 || f.n.State != workflow.NegotiationStateConcluded {
					t.Fatalf("the last sign-off gave %v; negotiation %s, want it CONCLUDED", got, f.n.State)
				}
			}
		})
	}
}
