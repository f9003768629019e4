package workflow_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/parley-negotiation/parley/server/workflow"
)

// rebuilt returns the state a server holds after a restart: the fold of the
// log reduced to its exported fields, which is what the store keeps, with the
// derived indexes rebuilt by Reindex. The fields are copied by reflection so
// that a field added to Negotiation later is carried over without anyone
// remembering this helper.
func rebuilt(tb interface {
	Helper()
	Fatalf(format string, args ...any)
}, log []workflow.Event) *workflow.Negotiation {
	tb.Helper()
	folded, err := workflow.Fold(log)
	if err != nil {
		tb.Fatalf("fold: %v", err)
	}
	n := &workflow.Negotiation{}
	src, dst := reflect.ValueOf(folded).Elem(), reflect.ValueOf(n).Elem()
	for i := range src.NumField() {
		if src.Type().Field(i).IsExported() {
			dst.Field(i).Set(src.Field(i))
		}
	}
	n.Reindex()
	return n
}

// restart replaces the fixture's state with the state rebuilt from its log,
// as after a restart of the server; the commands that follow are decided on
// it.
func (f *fixture) restart() {
	f.t.Helper()
	f.n = rebuilt(f.t, f.log)
}

// After a restart the rules must behave as they did before it: applying an
// amendment stales the other drafts of its point, and the amendments still
// OPEN or PASSED are counted, so that a document with open amendments cannot
// be accepted.
func TestReindex(t *testing.T) {
	t.Run("OK/applying an amendment stales its siblings", func(t *testing.T) {
		f := newFixture(t)
		a := f.propose(ukraine, workflow.KindReplace, "p1", "Ukraine's text.")
		b := f.propose(russia, workflow.KindReplace, "p1", "Russia's text.")
		c := f.propose(unitedStates, workflow.KindInsert, "p1", "After the first point.")
		d := f.propose(europe, workflow.KindDelete, "p2", "")
		f.pass(a)
		f.restart()

		if got := f.n.PendingAmendments(); got != 4 {
			t.Errorf("after the restart, %d amendments pending, want 4", got)
		}
		for point, want := range map[string]int{"p1": 3, "p2": 1, "p3": 0} {
			if got := f.n.PendingAmendmentsOfPoint(point); got != want {
				t.Errorf("after the restart, %d amendments of %s pending, want %d", got, point, want)
			}
		}
		if got := f.n.AmendmentsOfPoint("p1"); !slices.Equal(got, []string{a, b, c}) {
			t.Errorf("after the restart, amendments of p1 are %v, want %v", got, []string{a, b, c})
		}

		events := f.applyAmendment(a)
		checkPayloads(t, events[1:], []workflow.Payload{workflow.AmendmentStaled{AmendmentID: b, CauseAmendmentID: a}})
		if s := f.amendment(b).State; s != workflow.AmendmentStateStale {
			t.Errorf("russia's draft of p1 is %s after ukraine's was applied, want STALE", s)
		}
		// An insert after the point is not outdated by a new text.
		if s := f.amendment(c).State; s != workflow.AmendmentStateOpen {
			t.Errorf("the insert after p1 is %s, want OPEN", s)
		}
		if got := f.n.PendingAmendments(); got != 2 {
			t.Errorf("%d amendments pending, want 2 (%s and %s)", got, c, d)
		}
		if got := f.n.PendingAmendmentsOfPoint("p1"); got != 1 {
			t.Errorf("%d amendments of p1 pending, want 1", got)
		}
	})

	t.Run("ErrAmendmentsPending/after a restart", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		a := f.propose(ukraine, workflow.KindReplace, "p1", "Ukraine's text.")
		ins := f.propose(russia, workflow.KindInsert, "", "A preamble.")
		f.restart()
		hash := f.n.DocumentHash()
		for _, d := range delegations {
			f.refuse(d, workflow.AcceptDocument{DocumentHash: hash}, workflow.EFAILEDPRECONDITION, "AMENDMENTS_PENDING")
		}
		f.do(ukraine, workflow.WithdrawAmendment{AmendmentID: a})
		f.refuse(europe, workflow.AcceptDocument{DocumentHash: hash}, workflow.EFAILEDPRECONDITION, "AMENDMENTS_PENDING")
		f.do(russia, workflow.WithdrawAmendment{AmendmentID: ins})
		// With nothing pending, the same document is accepted and concludes.
		f.conclude()
	})
}
