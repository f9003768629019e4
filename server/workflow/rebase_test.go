package workflow_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-negotiation/parley/server/merge"
	"github.com/parley-negotiation/parley/server/workflow"
)

// rebaseCmd builds the command that re-proposes a stale amendment, merging
// as the server does before it calls the rules.
func (f *fixture) rebaseCmd(staleID, rationale string) workflow.RebaseAmendment {
	f.t.Helper()
	return rebaseOf(f.n, f.newID("am"), staleID, rationale)
}

// rebaseOf builds the command that re-proposes staleID as id on n.
func rebaseOf(n *workflow.Negotiation, id, staleID, rationale string) workflow.RebaseAmendment {
	c := workflow.RebaseAmendment{AmendmentID: id, StaleID: staleID, Rationale: rationale}
	base, yours, theirs, current, ok := n.RebaseSource(staleID)
	if !ok {
		return c
	}
	c.BaseRevision = current
	merged, conflicts := merge.Words(base, yours, theirs)
	c.Text = merged
	for _, k := range conflicts {
		c.Conflicts = append(c.Conflicts, workflow.TextConflict{FirstWord: k.FirstWord, LastWord: k.LastWord, Base: k.Base, Yours: k.Yours, Theirs: k.Theirs})
	}
	return c
}

// staleReplace returns a REPLACE of p1 by ukraine that went STALE when
// russia's REPLACE of p1 was applied first.
func staleReplace(f *fixture, yours, theirs string) string {
	f.t.Helper()
	stale := f.propose(ukraine, workflow.KindReplace, "p1", yours)
	applied := f.propose(russia, workflow.KindReplace, "p1", theirs)
	f.pass(applied)
	f.applyAmendment(applied)
	if s := f.amendment(stale).State; s != workflow.AmendmentStateStale {
		f.t.Fatalf("amendment is %s, want STALE", s)
	}
	return stale
}

func TestRebase(t *testing.T) {
	// text1 = "The sovereignty of Ukraine will be confirmed."
	const (
		yours  = "The full sovereignty of Ukraine will be confirmed."
		theirs = "The sovereignty of Ukraine will be confirmed by all parties."
		both   = "The full sovereignty of Ukraine will be confirmed by all parties."
	)
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		stale := staleReplace(f, yours, theirs)
		c := f.rebaseCmd(stale, "")
		events := f.do(ukraine, c)
		p, ok := events[0].Payload.(workflow.AmendmentProposed)
		if len(events) != 1 || !ok {
			t.Fatalf("events %v, want one AmendmentProposed", payloads(events))
		}
		want := workflow.AmendmentProposed{AmendmentID: c.AmendmentID, Kind: workflow.KindReplace, PointID: "p1",
			BaseRevision: 2, Text: both, Rationale: "because", RebasedFrom: stale}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("event\n got %+v\nwant %+v", p, want)
		}
		a := f.amendment(c.AmendmentID)
		if a.Proposer != ukraine || a.State != workflow.AmendmentStateOpen || a.RebasedFrom != stale {
			t.Fatalf("new amendment: proposer %s, state %s, rebased from %q", a.Proposer, a.State, a.RebasedFrom)
		}
		if s := f.amendment(stale).State; s != workflow.AmendmentStateStale {
			t.Fatalf("the stale amendment became %s; it stays STALE", s)
		}
		// Applied after the change that outdated it, the rebased amendment
		// gives the text both changes give in order.
		f.pass(a.ID)
		f.applyAmendment(a.ID)
		if got := f.n.Points["p1"].Current(); got.Text != both || got.Revision != 3 {
			t.Fatalf("point 1 at revision %d reads %q, want %q", got.Revision, got.Text, both)
		}
	})
	t.Run("OK/RationaleGiven", func(t *testing.T) {
		f := newFixture(t)
		stale := staleReplace(f, yours, theirs)
		c := f.rebaseCmd(stale, "  Still needed.  ")
		f.do(ukraine, c)
		if r := f.amendment(c.AmendmentID).Rationale; r != "Still needed." {
			t.Fatalf("rationale %q", r)
		}
	})
	t.Run("OK/ByAnotherMember", func(t *testing.T) {
		f := newFixture(t)
		withMembers(f)
		stale := f.propose(ukraineLegal, workflow.KindReplace, "p1", yours)
		applied := f.propose(russia, workflow.KindReplace, "p1", theirs)
		f.pass(applied)
		f.applyAmendment(applied)
		c := f.rebaseCmd(stale, "")
		events := f.do(ukraineHead, c)
		if events[0].Actor != ukraine || events[0].Member != "head" || f.amendment(c.AmendmentID).Proposer != ukraine {
			t.Fatalf("event by %s/%s; the amendment is %s's", events[0].Actor, events[0].Member, f.amendment(c.AmendmentID).Proposer)
		}
	})
	t.Run("OK/ByMediator", func(t *testing.T) {
		f := newFixture(t)
		stale := f.propose(mediator, workflow.KindReplace, "p1", yours)
		applied := f.propose(russia, workflow.KindReplace, "p1", theirs)
		f.pass(applied)
		f.applyAmendment(applied)
		c := f.rebaseCmd(stale, "")
		f.do(mediator, c)
		if !f.n.ByMediator(f.amendment(c.AmendmentID)) {
			t.Fatal("a mediator's rebased proposal is not marked as the mediator's")
		}
	})
	t.Run("OK/AgainAfterWithdrawal", func(t *testing.T) {
		f := newFixture(t)
		stale := staleReplace(f, yours, theirs)
		first := f.rebaseCmd(stale, "")
		f.do(ukraine, first)
		f.do(ukraine, workflow.WithdrawAmendment{AmendmentID: first.AmendmentID})
		f.do(ukraine, f.rebaseCmd(stale, ""))
	})
	t.Run("OK/RebasedTwice", func(t *testing.T) {
		// A rebased amendment that goes stale in turn is rebased from itself.
		f := newFixture(t)
		stale := staleReplace(f, yours, theirs)
		c := f.rebaseCmd(stale, "")
		f.do(ukraine, c)
		f.amend(workflow.KindReplace, "p1", "The sovereignty of Ukraine will be confirmed by all parties without delay.")
		again := f.rebaseCmd(c.AmendmentID, "")
		f.do(ukraine, again)
		if got := f.amendment(again.AmendmentID).Text; got != "The full sovereignty of Ukraine will be confirmed by all parties without delay." {
			t.Fatalf("twice rebased text %q", got)
		}
	})
	t.Run("OK/DeleteOfTextChangedBack", func(t *testing.T) {
		// A DELETE merges like a change that removes every word: it rebases
		// only when the point reads again as when it was drafted.
		f := newFixture(t)
		stale := f.propose(ukraine, workflow.KindDelete, "p1", "")
		f.amend(workflow.KindReplace, "p1", yours)
		f.amend(workflow.KindReplace, "p1", text1)
		c := f.rebaseCmd(stale, "")
		f.do(ukraine, c)
		if a := f.amendment(c.AmendmentID); a.Kind != workflow.KindDelete || a.BaseRevision != 3 || a.Text != "" {
			t.Fatalf("rebased DELETE: %s at revision %d, text %q", a.Kind, a.BaseRevision, a.Text)
		}
	})
	t.Run("ErrRebaseConflict", func(t *testing.T) {
		f := newFixture(t)
		stale := staleReplace(f, "The sovereignty of Ukraine will be recognised.", "The sovereignty of Ukraine will be guaranteed.")
		events, err := workflow.Decide(f.n, f.meta(ukraine), f.rebaseCmd(stale, ""))
		checkRefused(t, events, err, workflow.EFAILEDPRECONDITION, "REBASE_CONFLICT")
		var e *workflow.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T", err)
		}
		want := map[string]string{"conflicts": "1", "currentRevision": "2", "conflict1Words": "word 7",
			"conflict1Base": "confirmed", "conflict1Yours": "recognised", "conflict1Theirs": "guaranteed"}
		if len(e.Metadata) != len(want) {
			t.Fatalf("metadata %v, want %v", e.Metadata, want)
		}
		for k, v := range want {
			if e.Metadata[k] != v {
				t.Errorf("metadata %s = %q, want %q", k, e.Metadata[k], v)
			}
		}
		for _, s := range []string{"point 1", "word 7", `yours reads "recognised"`, `theirs "guaranteed"`, "revision 2"} {
			if !strings.Contains(e.Message, s) {
				t.Errorf("message %q does not say %q", e.Message, s)
			}
		}
	})
	t.Run("ErrRebaseConflict/Delete", func(t *testing.T) {
		f := newFixture(t)
		stale := f.propose(ukraine, workflow.KindDelete, "p1", "")
		f.amend(workflow.KindReplace, "p1", yours)
		f.refuse(ukraine, f.rebaseCmd(stale, ""), workflow.EFAILEDPRECONDITION, "REBASE_CONFLICT")
	})
	t.Run("ErrRebaseConflict/ManyShown", func(t *testing.T) {
		f := newFixture(t)
		var conflicts []workflow.TextConflict
		for range 5 {
			conflicts = append(conflicts, workflow.TextConflict{FirstWord: 1, LastWord: 1, Base: strings.Repeat("é", 300), Yours: "a", Theirs: "b"})
		}
		stale := staleReplace(f, yours, theirs)
		c := f.rebaseCmd(stale, "")
		c.Conflicts = conflicts
		_, err := workflow.Decide(f.n, f.meta(ukraine), c)
		var e *workflow.Error
		if !errors.As(err, &e) || e.Metadata["conflicts"] != "5" || e.Metadata["conflict4Words"] != "" || !strings.Contains(e.Message, "and 2 more") {
			t.Fatalf("error %v, metadata %v", err, e.Metadata)
		}
		if b := e.Metadata["conflict3Base"]; len(b) > workflow.MaxConflictExcerptLen || !strings.HasSuffix(b, "é…") {
			t.Fatalf("excerpt of %d bytes: %q", len(b), b)
		}
	})
}

// The refusals of rebasing. They join the table of refusals (and so its
// census of reasons).
var rebaseRefusals = []refusal{
	{name: "observer", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: func(f *fixture) (string, workflow.Command) {
			return observer, f.rebaseCmd(staleReplace(f, "Yours.", "Theirs."), "")
		}},
	{name: "another delegation's amendment", code: workflow.EPERMISSION, reason: "NOT_PROPOSER",
		run: func(f *fixture) (string, workflow.Command) {
			return europe, f.rebaseCmd(staleReplace(f, "Yours.", "Theirs."), "")
		}},
	{name: "the mediator rebases a delegation's", code: workflow.EPERMISSION, reason: "NOT_PROPOSER",
		run: func(f *fixture) (string, workflow.Command) {
			return mediator, f.rebaseCmd(staleReplace(f, "Yours.", "Theirs."), "")
		}},
	{name: "unknown amendment", code: workflow.ENOTFOUND, reason: "AMENDMENT_NOT_FOUND",
		run: func(f *fixture) (string, workflow.Command) {
			return ukraine, workflow.RebaseAmendment{AmendmentID: "am-new", StaleID: "am-none", BaseRevision: 1, Text: "X."}
		}},
	{name: "open amendment", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENT_NOT_STALE",
		run: func(f *fixture) (string, workflow.Command) {
			id := f.propose(ukraine, workflow.KindReplace, "p1", "Open.")
			return ukraine, workflow.RebaseAmendment{AmendmentID: "am-new", StaleID: id, BaseRevision: 1, Text: "Open, again."}
		}},
	{name: "applied amendment", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENT_NOT_STALE",
		run: func(f *fixture) (string, workflow.Command) {
			id := f.amend(workflow.KindReplace, "p1", "Applied.")
			return ukraine, workflow.RebaseAmendment{AmendmentID: "am-new", StaleID: id, BaseRevision: 2, Text: "Applied, again."}
		}},
	{name: "a stale package deal", code: workflow.EFAILEDPRECONDITION, reason: "PACKAGE_NOT_REBASED",
		run: func(f *fixture) (string, workflow.Command) {
			pkg := f.proposePackage(tradeParts()...)
			f.amend(workflow.KindReplace, "p1", "Point 1, changed first.")
			if f.n.Amendments[pkg].State != workflow.AmendmentStateStale {
				f.t.Fatalf("the package is %s, not STALE", f.n.Amendments[pkg].State)
			}
			return ukraine, workflow.RebaseAmendment{AmendmentID: "am-new", StaleID: pkg, BaseRevision: 2, Text: "Merged."}
		}},
	{name: "point deleted since", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			stale := f.propose(russia, workflow.KindReplace, "p1", "Yours.")
			f.amend(workflow.KindDelete, "p1", "")
			return russia, f.rebaseCmd(stale, "")
		}},
	{name: "insert after a point deleted since", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			stale := f.propose(russia, workflow.KindInsert, "p1", "New.")
			f.amend(workflow.KindDelete, "p1", "")
			return russia, f.rebaseCmd(stale, "")
		}},
	{name: "overlapping changes", code: workflow.EFAILEDPRECONDITION, reason: "REBASE_CONFLICT",
		run: func(f *fixture) (string, workflow.Command) {
			return ukraine, f.rebaseCmd(staleReplace(f, "Yours.", "Theirs."), "")
		}},
	{name: "point changed again after the merge", code: workflow.EABORTED, reason: "STALE_REVISION",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.rebaseCmd(staleReplace(f, "The full sovereignty of Ukraine will be confirmed.", "The sovereignty of Ukraine will be confirmed by all."), "")
			f.amend(workflow.KindReplace, "p1", "Another text.")
			return ukraine, c
		}},
	{name: "rebased already", code: workflow.EFAILEDPRECONDITION, reason: "ALREADY_REBASED",
		run: func(f *fixture) (string, workflow.Command) {
			stale := staleReplace(f, "The full sovereignty of Ukraine will be confirmed.", "The sovereignty of Ukraine will be confirmed by all.")
			f.do(ukraine, f.rebaseCmd(stale, ""))
			return ukraine, f.rebaseCmd(stale, "")
		}},
	{name: "the change is in the text already", code: workflow.EFAILEDPRECONDITION, reason: "REBASE_UNCHANGED",
		run: func(f *fixture) (string, workflow.Command) {
			return ukraine, f.rebaseCmd(staleReplace(f, "The full sovereignty of Ukraine will be confirmed.", "The full sovereignty of Ukraine will be confirmed."), "")
		}},
	{name: "merged text too long", code: workflow.EINVALID, reason: "TEXT_TOO_LONG",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.rebaseCmd(staleReplace(f, "The full sovereignty of Ukraine will be confirmed.", "The sovereignty of Ukraine will be confirmed by all."), "")
			c.Text = strings.Repeat("x", workflow.MaxPointTextBytes+1)
			return ukraine, c
		}},
	{name: "rationale too long", code: workflow.EINVALID, reason: "RATIONALE_TOO_LONG",
		run: func(f *fixture) (string, workflow.Command) {
			return ukraine, f.rebaseCmd(staleReplace(f, "Yours.", "Theirs."), strings.Repeat("x", workflow.MaxRationaleBytes+1))
		}},
	{name: "no id", code: workflow.EINVALID, reason: "AMENDMENT_ID_REQUIRED",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.rebaseCmd(staleReplace(f, "Yours.", "Theirs."), "")
			c.AmendmentID = ""
			return ukraine, c
		}},
	{name: "id taken", code: workflow.EALREADYEXISTS, reason: "AMENDMENT_EXISTS",
		run: func(f *fixture) (string, workflow.Command) {
			stale := staleReplace(f, "Yours.", "Theirs.")
			c := f.rebaseCmd(stale, "")
			c.AmendmentID = stale
			return ukraine, c
		}},
}

func init() { refusals = append(refusals, rebaseRefusals...) }
