package workflow_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-negotiation/parley/server/workflow"
)

// A package deal of the fixture: point 1 replaced, point 3 deleted, a new
// point inserted after point 2. "We give on 1 if you give on 3."
func tradeParts() []workflow.Part {
	return []workflow.Part{
		{Kind: workflow.KindReplace, PointID: "p1", BaseRevision: 1, Text: "Sovereignty, with guarantees."},
		{Kind: workflow.KindDelete, PointID: "p3", BaseRevision: 1},
		{Kind: workflow.KindInsert, PointID: "p2", Text: "A review after five years."},
	}
}

// proposePackage files a package deal of ukraine's and returns its id.
func (f *fixture) proposePackage(parts ...workflow.Part) string {
	f.t.Helper()
	id := f.newID("pkg")
	f.do(ukraine, workflow.ProposeAmendment{AmendmentID: id, Rationale: "A trade.", Parts: parts})
	return id
}

// applyPackage has the mediator apply a passed package, with new point ids
// for its INSERT parts.
func (f *fixture) applyPackage(id string) []workflow.Event {
	f.t.Helper()
	return f.do(mediator, workflow.ApplyAmendment{AmendmentID: id, NewPointIDs: []string{f.newID("new"), f.newID("new")}})
}

func TestProposePackage(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		doc := f.n.DocumentHash()
		parts := tradeParts()
		parts[0].Text = "  Sovereignty, with guarantees. \r\n"
		events := f.do(ukraine, workflow.ProposeAmendment{AmendmentID: "pkg-1", Rationale: " A trade. ", Parts: parts})
		want := workflow.AmendmentProposed{AmendmentID: "pkg-1", Rationale: "A trade.", Parts: tradeParts()}
		want.Parts[0].Text = "  Sovereignty, with guarantees." // normalized as any text: line ends and trailing space
		if len(events) != 1 || !cmp.Equal(events[0].Payload, want) {
			t.Fatalf("events = %+v, want one %+v", events, want)
		}
		a := f.amendment("pkg-1")
		if !a.IsPackage() || len(a.Changes()) != 3 || a.Kind != 0 || a.PointID != "" || a.State != workflow.AmendmentStateOpen {
			t.Fatalf("amendment: %+v", a)
		}
		if got := a.Points(); !slices.Equal(got, []string{"p1", "p3", "p2"}) {
			t.Errorf("points = %v", got)
		}
		if f.n.PendingAmendments() != 1 {
			t.Errorf("pending = %d, want 1: a package is one amendment", f.n.PendingAmendments())
		}
		for _, pid := range []string{"p1", "p2", "p3"} {
			if got := f.n.AmendmentsOfPoint(pid); !slices.Equal(got, []string{"pkg-1"}) {
				t.Errorf("amendments of %s = %v", pid, got)
			}
			if got := f.n.PendingAmendmentsOfPoint(pid); got != 1 {
				t.Errorf("pending amendments of %s = %d", pid, got)
			}
		}
		// Its REPLACE and DELETE parts are choices in the brackets of their
		// points; its INSERT after point 2 is not a choice of point 2's text.
		for pid, want := range map[string]int{"p1": 1, "p2": 0, "p3": 1} {
			if got := len(f.n.Alternatives(pid)); got != want {
				t.Errorf("alternatives of %s: %d, want %d", pid, got, want)
			}
		}
		if part, ok := a.PartOn("p3"); !ok || part.Kind != workflow.KindDelete {
			t.Errorf("part on p3 = %+v, %v", part, ok)
		}
		if f.n.DocumentHash() != doc {
			t.Error("proposing changed the document")
		}
	})
	t.Run("OK/InsertAndReplaceOfOnePoint", func(t *testing.T) {
		// A point replaced and a new one after it: two parts, one point,
		// that do not compete.
		f := newFixture(t)
		f.proposePackage(
			workflow.Part{Kind: workflow.KindReplace, PointID: "p2", BaseRevision: 1, Text: "A committee."},
			workflow.Part{Kind: workflow.KindInsert, PointID: "p2", Text: "Its members."})
		if got := f.n.AmendmentsOfPoint("p2"); len(got) != 1 {
			t.Errorf("amendments of p2 = %v: a package is listed once per point", got)
		}
	})
}

func TestApplyPackage(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		id := f.proposePackage(tradeParts()...)
		onP1 := f.propose(russia, workflow.KindReplace, "p1", "Russia's text.")
		onP3 := f.propose(russia, workflow.KindInsert, "p3", "After the third.")
		onP2 := f.propose(russia, workflow.KindReplace, "p2", "Untouched by the package.")
		f.pass(id)
		events := f.do(mediator, workflow.ApplyAmendment{AmendmentID: id, NewPointIDs: []string{"p-new"}})
		want := []string{"workflow.AmendmentApplied", "workflow.AmendmentStaled", "workflow.AmendmentStaled"}
		if got := payloads(events); !slices.Equal(got, want) {
			t.Fatalf("events = %v, want %v: the whole package in one event", got, want)
		}
		applied := events[0].Payload.(workflow.AmendmentApplied)
		wantApplied := workflow.AmendmentApplied{AmendmentID: id, Parts: []workflow.AppliedPart{
			{PointID: "p1", Revision: 2, TextHash: workflow.HashText("Sovereignty, with guarantees.")},
			{PointID: "p3"},
			{PointID: "p-new", Revision: 1, TextHash: workflow.HashText("A review after five years.")},
		}}
		if !cmp.Equal(applied, wantApplied) {
			t.Errorf("applied = %+v\nwant %+v", applied, wantApplied)
		}
		if got := f.n.RenderDocument(); got != "1. Sovereignty, with guarantees.\n2. "+text2+"\n3. A review after five years.\n" {
			t.Errorf("document:\n%s", got)
		}
		if !f.n.Points["p3"].Deleted || f.n.PointNumber("p-new") != 3 {
			t.Errorf("p3 deleted %v, new point number %d", f.n.Points["p3"].Deleted, f.n.PointNumber("p-new"))
		}
		a := f.amendment(id)
		if a.State != workflow.AmendmentStateApplied {
			t.Errorf("package is %s", a.State)
		}
		for i, want := range []string{"p1", "p3", "p-new"} {
			if got := a.Parts[i].ResultPointID; got != want {
				t.Errorf("part %d result = %q, want %q", i+1, got, want)
			}
		}
		for _, stale := range []string{onP1, onP3} {
			if s := f.amendment(stale); s.State != workflow.AmendmentStateStale || s.StaledBy != id {
				t.Errorf("%s: %s, staled by %q", stale, s.State, s.StaledBy)
			}
		}
		if s := f.amendment(onP2).State; s != workflow.AmendmentStateOpen {
			t.Errorf("an amendment of a point the package only inserts after is %s, want OPEN", s)
		}
		if f.n.PendingAmendments() != 1 {
			t.Errorf("pending = %d", f.n.PendingAmendments())
		}
	})
	t.Run("OK/NeverHalfApplied", func(t *testing.T) {
		// A sign-off or an acceptance is made on some state of the log; no
		// state of it holds part of a package: every prefix of the log has
		// all the package's texts or none.
		f := newFixture(t)
		id := f.proposePackage(tradeParts()...)
		f.pass(id)
		f.applyPackage(id)
		f.conclude()
		for i := 4; i <= len(f.log); i++ { // from the state with the three points
			n, err := workflow.Fold(f.log[:i])
			if err != nil {
				t.Fatal(err)
			}
			doc := n.RenderDocument()
			has := []bool{
				strings.Contains(doc, "Sovereignty, with guarantees."),
				!strings.Contains(doc, text3),
				strings.Contains(doc, "A review after five years."),
			}
			if slices.Contains(has, true) && slices.Contains(has, false) {
				t.Fatalf("after event %d the document holds part of the package %v:\n%s", i, has, doc)
			}
		}
	})
}

// Every sign-off and acceptance made before a package is applied counts for
// the text before it: after it, none of the package's points is agreed and
// no acceptance is current, whichever part one looks at.
func TestPackageOutdatesSignOffs(t *testing.T) {
	f := newFixture(t, withTexts(text1, text2, text3, "Fourth."))
	id := f.proposePackage(
		workflow.Part{Kind: workflow.KindReplace, PointID: "p1", BaseRevision: 1, Text: "Sovereignty, with guarantees."},
		workflow.Part{Kind: workflow.KindReplace, PointID: "p3", BaseRevision: 1, Text: "Binding once ratified."})
	f.pass(id)
	f.signAll()
	if f.n.AgreedPoints() != 4 {
		t.Fatalf("agreed = %d before the package", f.n.AgreedPoints())
	}
	f.applyPackage(id)
	for pid, agreed := range map[string]bool{"p1": false, "p2": true, "p3": false, "p4": true} {
		if got := f.n.Agreed(f.n.Points[pid]); got != agreed {
			t.Errorf("%s agreed = %v, want %v", pid, got, agreed)
		}
	}
	f.conclude()
}

func TestPackageVotes(t *testing.T) {
	t.Run("OK/VotedOnce", func(t *testing.T) {
		f := newFixture(t)
		id := f.proposePackage(tradeParts()...)
		doc := f.n.DocumentHash()
		f.do(ukraine, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		f.do(russia, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: "Not point 3."})
		f.do(unitedStates, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		events := f.do(europe, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		if got := payloads(events); !slices.Equal(got, []string{"workflow.VoteCast", "workflow.VotingClosed"}) {
			t.Fatalf("events = %v", got)
		}
		a := f.amendment(id)
		if a.State != workflow.AmendmentStateFailed || a.Tally.Reject != 1 {
			t.Fatalf("package %s with tally %+v: one REJECT fails it under consensus, all parts together", a.State, a.Tally)
		}
		if f.n.DocumentHash() != doc || f.n.PendingAmendmentsOfPoint("p1") != 0 || f.n.PendingAmendmentsOfPoint("p3") != 0 {
			t.Error("a failed package left a trace on the document or its points")
		}
		f.refuse(mediator, workflow.ApplyAmendment{AmendmentID: id, NewPointIDs: []string{"x"}}, workflow.EFAILEDPRECONDITION, "AMENDMENT_NOT_PASSED")
	})
	t.Run("OK/Withdrawn", func(t *testing.T) {
		f := newFixture(t)
		id := f.proposePackage(tradeParts()...)
		f.do(ukraine, workflow.WithdrawAmendment{AmendmentID: id})
		if len(f.n.Alternatives("p1")) != 0 || f.n.PendingAmendments() != 0 {
			t.Error("a withdrawn package is still pending")
		}
	})
}

func TestPackageStale(t *testing.T) {
	t.Run("OK/ByAnyPart", func(t *testing.T) {
		for _, point := range []string{"p1", "p3"} {
			t.Run(point, func(t *testing.T) {
				f := newFixture(t)
				id := f.proposePackage(tradeParts()...)
				f.pass(id)
				other := f.amend(workflow.KindReplace, point, "Changed first.")
				a := f.amendment(id)
				if a.State != workflow.AmendmentStateStale || a.StaledBy != other {
					t.Fatalf("package is %s, staled by %q; want STALE by %s", a.State, a.StaledBy, other)
				}
				f.refuse(mediator, workflow.ApplyAmendment{AmendmentID: id, NewPointIDs: []string{"x"}}, workflow.EFAILEDPRECONDITION, "AMENDMENT_NOT_PASSED")
			})
		}
	})
	t.Run("OK/AnchorDeleted", func(t *testing.T) {
		f := newFixture(t)
		id := f.proposePackage(tradeParts()...)
		other := f.amend(workflow.KindDelete, "p2", "")
		if a := f.amendment(id); a.State != workflow.AmendmentStateStale || a.StaledBy != other {
			t.Fatalf("package is %s: its INSERT lost its anchor", a.State)
		}
	})
	t.Run("OK/NotByAnInsertAfterItsPoint", func(t *testing.T) {
		f := newFixture(t)
		id := f.proposePackage(tradeParts()...)
		f.amend(workflow.KindInsert, "p1", "Between one and two.")
		if a := f.amendment(id); a.State != workflow.AmendmentStateOpen {
			t.Fatalf("package is %s: an insert after its point leaves its text as drafted", a.State)
		}
	})
	t.Run("OK/StalesAnotherPackage", func(t *testing.T) {
		f := newFixture(t)
		first := f.proposePackage(tradeParts()...)
		second := f.proposePackage(
			workflow.Part{Kind: workflow.KindReplace, PointID: "p2", BaseRevision: 1, Text: "A committee."},
			workflow.Part{Kind: workflow.KindReplace, PointID: "p3", BaseRevision: 1, Text: "Binding."})
		f.pass(first)
		events := f.applyPackage(first)
		if got := payloads(events); !slices.Equal(got, []string{"workflow.AmendmentApplied", "workflow.AmendmentStaled"}) {
			t.Fatalf("events = %v", got)
		}
		if a := f.amendment(second); a.State != workflow.AmendmentStateStale {
			t.Fatalf("second package is %s", a.State)
		}
	})
}

func TestPackageCounters(t *testing.T) {
	t.Run("OK/SingleAnswersPackage", func(t *testing.T) {
		f := newFixture(t)
		pkg := f.proposePackage(tradeParts()...)
		f.do(russia, workflow.ProposeAmendment{AmendmentID: "counter", Kind: workflow.KindReplace, PointID: "p1", BaseRevision: 1, Text: "Russia's text.", CounterTo: pkg})
		if got := len(f.n.Alternatives("p1")); got != 2 {
			t.Errorf("alternatives of p1: %d, want the package and its counter", got)
		}
	})
	t.Run("OK/PackageAnswersSingle", func(t *testing.T) {
		f := newFixture(t)
		single := f.propose(russia, workflow.KindDelete, "p3", "")
		f.do(ukraine, workflow.ProposeAmendment{AmendmentID: "pkg", Parts: tradeParts(), CounterTo: single})
	})
	t.Run("ErrCounterPointMismatch", func(t *testing.T) {
		f := newFixture(t)
		pkg := f.proposePackage(tradeParts()...)
		f.refuse(russia, workflow.ProposeAmendment{AmendmentID: "counter", Kind: workflow.KindReplace, PointID: "p2", BaseRevision: 1, Text: "Other.", CounterTo: pkg},
			workflow.EINVALID, "COUNTER_POINT_MISMATCH")
	})
}

// proposePackageWith is a valid package deal of ukraine's, changed by mod.
func proposePackageWith(mod func(c *workflow.ProposeAmendment)) func(*fixture) (string, workflow.Command) {
	return func(*fixture) (string, workflow.Command) {
		c := workflow.ProposeAmendment{AmendmentID: "pkg-new", Rationale: "A trade.", Parts: tradeParts()}
		mod(&c)
		return ukraine, c
	}
}

// packageRefusals are the ways a package deal is refused.
var packageRefusals = []refusal{
	{name: "a package with a kind of its own", code: workflow.EINVALID, reason: "PACKAGE_CONFLICT",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) { c.Kind = workflow.KindReplace })},
	{name: "a package with a text of its own", code: workflow.EINVALID, reason: "PACKAGE_CONFLICT",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) { c.Text = "Text." })},
	{name: "a proposed part with a result", code: workflow.EINVALID, reason: "PACKAGE_CONFLICT",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) { c.Parts[1].ResultPointID = "p3" })},
	{name: "an empty package", code: workflow.EINVALID, reason: "PACKAGE_TOO_SMALL",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) { c.Parts = []workflow.Part{} })},
	{name: "a package of one part", code: workflow.EINVALID, reason: "PACKAGE_TOO_SMALL",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) { c.Parts = c.Parts[:1] })},
	{name: "too many parts", code: workflow.EINVALID, reason: "PACKAGE_TOO_LARGE", opts: []option{withManyPoints(workflow.MaxPackageParts + 1)},
		run: proposePackageWith(func(c *workflow.ProposeAmendment) {
			c.Parts = nil
			for i := range workflow.MaxPackageParts + 1 {
				c.Parts = append(c.Parts, workflow.Part{Kind: workflow.KindReplace, PointID: fmt.Sprintf("p%d", i+1), BaseRevision: 1, Text: "New."})
			}
		})},
	{name: "two parts change one point", code: workflow.EINVALID, reason: "PACKAGE_DUPLICATE_POINT",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) {
			c.Parts[1] = workflow.Part{Kind: workflow.KindDelete, PointID: "p1", BaseRevision: 1}
		})},
	{name: "two inserts at one place", code: workflow.EINVALID, reason: "PACKAGE_DUPLICATE_POINT",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) {
			c.Parts[1] = workflow.Part{Kind: workflow.KindInsert, PointID: "p2", Text: "Another."}
		})},
	{name: "an insert after a point the package deletes", code: workflow.EINVALID, reason: "PACKAGE_DUPLICATE_POINT",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) { c.Parts[2].PointID = "p3" })},
	{name: "a part without a kind", code: workflow.EINVALID, reason: "KIND_INVALID",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) { c.Parts[1].Kind = 0 })},
	{name: "a part's text over the limit", code: workflow.EINVALID, reason: "TEXT_TOO_LONG",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) {
			c.Parts[0].Text = strings.Repeat("x", workflow.MaxPointTextBytes+1)
		})},
	{name: "a part on an unknown point", code: workflow.ENOTFOUND, reason: "POINT_NOT_FOUND",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) { c.Parts[1].PointID = "p9" })},
	{name: "a part on a deleted point", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			f.amend(workflow.KindDelete, "p3", "")
			return ukraine, workflow.ProposeAmendment{AmendmentID: "pkg-new", Parts: tradeParts()}
		}},
	{name: "a part of an unknown base revision", code: workflow.EINVALID, reason: "REVISION_UNKNOWN",
		run: proposePackageWith(func(c *workflow.ProposeAmendment) { c.Parts[0].BaseRevision = 7 })},
	{name: "a part of an outdated base revision", code: workflow.EABORTED, reason: "STALE_REVISION",
		run: func(f *fixture) (string, workflow.Command) {
			f.amend(workflow.KindReplace, "p1", "Changed first.")
			return ukraine, workflow.ProposeAmendment{AmendmentID: "pkg-new", Parts: tradeParts()}
		}},
	{name: "a package that deletes every point", code: workflow.EFAILEDPRECONDITION, reason: "LAST_POINT", opts: []option{withTexts(text1, text2)},
		run: proposePackageWith(func(c *workflow.ProposeAmendment) {
			c.Parts = []workflow.Part{{Kind: workflow.KindDelete, PointID: "p1", BaseRevision: 1}, {Kind: workflow.KindDelete, PointID: "p2", BaseRevision: 1}}
		})},
	{name: "a package that overfills the document", code: workflow.ERESOURCEEXHAUSTED, reason: "TOO_MANY_POINTS", opts: []option{withManyPoints(workflow.MaxPoints - 1)},
		run: proposePackageWith(func(c *workflow.ProposeAmendment) {
			c.Parts = []workflow.Part{{Kind: workflow.KindInsert, PointID: "p1", Text: "One."}, {Kind: workflow.KindInsert, PointID: "p2", Text: "Two."}}
		})},
	{name: "a counter to a package on none of its points", code: workflow.EINVALID, reason: "COUNTER_POINT_MISMATCH",
		run: func(f *fixture) (string, workflow.Command) {
			pkg := f.proposePackage(tradeParts()...)
			return russia, workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindReplace, PointID: "p2", BaseRevision: 1, Text: "Other.", CounterTo: pkg}
		}},
	{name: "apply a package without ids for its new points", code: workflow.EINVALID, reason: "POINT_ID_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			pkg := f.proposePackage(tradeParts()...)
			f.pass(pkg)
			return mediator, workflow.ApplyAmendment{AmendmentID: pkg}
		}},
	{name: "apply a package whose new point exists", code: workflow.EALREADYEXISTS, reason: "POINT_EXISTS",
		run: func(f *fixture) (string, workflow.Command) {
			pkg := f.proposePackage(tradeParts()...)
			f.pass(pkg)
			return mediator, workflow.ApplyAmendment{AmendmentID: pkg, NewPointIDs: []string{"p2"}}
		}},
	{name: "apply a package whose point changed unnoticed", code: workflow.EABORTED, reason: "STALE_REVISION",
		run: func(f *fixture) (string, workflow.Command) {
			a := f.propose(russia, workflow.KindReplace, "p3", "Russia's text.")
			pkg := f.proposePackage(tradeParts()...)
			f.pass(a)
			f.pass(pkg)
			f.forge(mediator, workflow.AmendmentApplied{AmendmentID: a, PointID: "p3", Revision: 2, TextHash: workflow.HashText("Russia's text.")})
			return mediator, workflow.ApplyAmendment{AmendmentID: pkg, NewPointIDs: []string{"p-new"}}
		}},
	{name: "apply a package whose anchor was deleted unnoticed", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			a := f.propose(russia, workflow.KindDelete, "p2", "")
			pkg := f.proposePackage(tradeParts()...)
			f.pass(a)
			f.pass(pkg)
			f.forge(mediator, workflow.AmendmentApplied{AmendmentID: a, PointID: "p2"})
			return mediator, workflow.ApplyAmendment{AmendmentID: pkg, NewPointIDs: []string{"p-new"}}
		}},
}

func TestPackageRefusals(t *testing.T) {
	for _, tc := range packageRefusals {
		t.Run(errName(tc.reason)+"/"+tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			actor, cmd := tc.run(f)
			f.refuse(actor, cmd, tc.code, tc.reason)
		})
	}
	t.Run("a part's error names the part", func(t *testing.T) {
		f := newFixture(t)
		_, cmd := proposePackageWith(func(c *workflow.ProposeAmendment) { c.Parts[1].PointID = "p9" })(f)
		_, err := workflow.Decide(f.n, f.meta(ukraine), cmd)
		if msg := workflow.ErrorMessage(err); !strings.HasPrefix(msg, "part 2: ") {
			t.Errorf("message %q does not name part 2", msg)
		}
	})
}
