package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// TestBoardComposesAPackage composes a package deal in Ukraine's board: it
// starts a draft, adds a change of point 6 and one of point 19 from their
// pages (the focus moving to each new part), keeps the draft over a reload,
// is refused a package of one part and one with two parts on point 19 (the
// reasons shown next to the draft, the draft kept, the log unchanged),
// removes the extra part and proposes the rest in one call, in answer to
// Russia's proposal for point 6; Russia's board shows the package live with
// its two parts.
func TestBoardComposesAPackage(t *testing.T) {
	srv, httpAddr := startBoardServer(t)
	ctx := context.Background()
	n := srv.CreateDemo(ctx)
	svc := parleyv1.NewNegotiationServiceClient(srv.Conn())
	as := func(id string) context.Context { return servertest.As(ctx, n.Tokens[id]) }
	logSize := func() int64 {
		t.Helper()
		r, err := svc.GetNegotiation(as("ukraine"), &parleyv1.GetNegotiationRequest{Name: n.Name})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetNegotiation().GetLastSequence()
	}

	// Russia's proposal for point 6, which Ukraine's package answers.
	doc, err := svc.GetDocument(as("russia"), &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	six := doc.GetPoints()[5]
	countered, err := svc.ProposeAmendment(as("russia"), &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name,
		Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: six.GetName(), BaseRevision: six.GetRevision(),
		Text: "The Armed Forces of Ukraine will be limited to 400,000 troops."})
	if err != nil {
		t.Fatal(err)
	}

	base := "http://" + httpAddr + "/"
	browser := newBrowser(t)
	shot := newShots(t)
	ukraine, russia := newPage(t, browser, "ukraine"), newPage(t, browser, "russia")
	ukraine.signIn(base, n.Tokens["ukraine"])
	russia.signIn(base, n.Tokens["russia"])

	const (
		sixText      = "The Armed Forces of Ukraine will be limited to 800,000 troops."
		nineteenText = "The plant's electricity will be shared under IAEA supervision."
		rationale    = "We give on the army if you give on the plant."
	)
	ukraine.do("start a package deal", click(`[data-test="package-start"]`), visible(`[data-test="package-draft"]`))
	ukraine.do("open point 6", click(`a[aria-label="Point 6"]`), visible(`[data-test="propose"]`))
	ukraine.do("add a change of point 6", click(`[data-test="kind-replace"]`), fill(`[data-test="propose-text"]`, sixText),
		click(`[data-test="package-add"]`))
	ukraine.eventually("the focus on the new part", live, `document.activeElement?.id === "package-part-1"`)
	ukraine.eventually("part 1's redline", live, has(`[data-test="draft-part-1"]`, "Part 1: replace point 6")+` && `+
		has(`[data-test="draft-part-1"] ins`, "800,000"))

	// A package of one part is refused, explained, and kept.
	before := logSize()
	ukraine.do("propose one part", click(`[data-test="package-propose"]`))
	ukraine.eventually("the refusal of one part", live, has(`[data-test="package-refusal"]`, "PACKAGE_TOO_SMALL")+` && `+
		has(`[data-test="package-refusal"]`, "at least two changes"))

	ukraine.do("back to the board", click(`nav a[href="#/"]`), visible(`[data-test="package-draft"]`))
	ukraine.do("open point 19", click(`a[aria-label="Point 19"]`), visible(`[data-test="propose"]`))
	ukraine.do("add a change of point 19", click(`[data-test="kind-replace"]`), fill(`[data-test="propose-text"]`, nineteenText),
		click(`[data-test="package-add"]`))
	ukraine.eventually("the focus on the new part", live, `document.activeElement?.id === "package-part-2"`)
	// A second change of point 19: the server refuses a package that changes
	// a point twice.
	ukraine.do("add a deletion of point 19", click(`[data-test="kind-delete"]`), click(`[data-test="package-add"]`))
	ukraine.eventually("three parts", live, has(`[data-test="draft-part-3"]`, "Part 3: delete point 19"))

	ukraine.do("give a rationale", fill(`[data-test="package-rationale"]`, rationale))

	// The draft survives a reload of the tab, its rationale too.
	ukraine.do("reload", chromedp.Reload(), visible(`[data-test="package-draft"]`))
	ukraine.eventually("the draft after the reload", live, has(`[data-test="draft-part-2"]`, "Part 2: replace point 19")+` && `+
		has(`[data-test="draft-part-2"] ins`, "IAEA")+` && `+has(`[data-test="draft-part-3"]`, "delete point 19"))
	if got := get(ukraine, "read the rationale", chromedp.Evaluate[string](`document.querySelector('[data-test="package-rationale"]').value`)); got != rationale {
		t.Fatalf("the rationale after the reload is %q", got)
	}
	ukraine.do("propose two parts on point 19", click(`[data-test="package-propose"]`))
	ukraine.eventually("the refusal", live, has(`[data-test="package-refusal"]`, "PACKAGE_DUPLICATE_POINT")+` && `+
		has(`[data-test="package-refusal"]`, "Parts 2 and 3 both change point 19")+` && `+
		has(`[data-test="draft-part-2"] [data-test="part-fault"]`, "to fix")+` && `+
		has(`[data-test="draft-part-3"] [data-test="part-fault"]`, "to fix"))
	shot.take(ukraine, "refused")
	if after := logSize(); after != before {
		t.Fatalf("refused packages changed the log: %d events before, %d after", before, after)
	}

	// Removing the extra part moves the focus to the part before it; the
	// rest is proposed in one call.
	ukraine.do("remove part 3", click(`[data-test="draft-part-3"] [data-test="draft-remove"]`))
	ukraine.eventually("two parts left, focus on part 2", live, `document.querySelector('[data-test="draft-part-3"]') === null && document.activeElement?.id === "package-part-2"`)
	ukraine.do("answer Russia's proposal", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector('[data-test="package-counter"]'); s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`,
		countered.GetAmendment().GetName())))
	ukraine.do("propose the package", click(`[data-test="package-propose"]`))
	ukraine.eventually("the package proposed", live, has(`[data-test="package-status"]`, "Proposed package deal")+
		` && document.querySelector('[data-test="package-draft"]') === null`)
	if after := logSize(); after != before+1 {
		t.Fatalf("the package added %d events, want 1", after-before)
	}

	russia.eventually("the package's parts", live, has(`[data-test="pending"] [data-test="package-parts"]`, "Part 1: replace point 6")+` && `+
		has(`[data-test="pending"] [data-test="package-parts"]`, "Part 2: replace point 19")+` && `+
		has(`[data-test="pending"] [data-test="package-part-1"] ins`, "800,000")+` && `+
		has(`[data-test="pending"] [data-test="package-part-2"] ins`, "IAEA"))
	shot.take(russia, "package-live")

	list, err := svc.ListAmendments(as("russia"), &parleyv1.ListAmendmentsRequest{Negotiation: n.Name,
		States: []parleyv1.AmendmentState{parleyv1.AmendmentState_AMENDMENT_STATE_OPEN}})
	if err != nil {
		t.Fatal(err)
	}
	var a *parleyv1.Amendment
	for _, x := range list.GetAmendments() {
		if x.GetName() != countered.GetAmendment().GetName() {
			a = x
		}
	}
	if len(list.GetAmendments()) != 2 || a == nil {
		t.Fatalf("open amendments: %v, want Russia's and the package", list.GetAmendments())
	}
	parts := a.GetParts()
	if a.GetProposer() != "ukraine" || a.GetRationale() != rationale || a.GetCounterTo() != countered.GetAmendment().GetName() || len(parts) != 2 ||
		parts[0].GetPointNumber() != 6 || parts[0].GetText() != sixText || parts[0].GetBaseRevision() != 1 ||
		parts[1].GetPointNumber() != 19 || parts[1].GetText() != nineteenText {
		t.Fatalf("the package proposed: %v", a)
	}

	// A part whose point changes while the draft is composed: the draft
	// says so at once, and proposing it is refused, naming the part.
	ukraine.do("back to the board", click(`nav a[href="#/"]`), visible(`[data-test="package-start"]`))
	ukraine.do("open point 6", click(`a[aria-label="Point 6"]`), visible(`[data-test="propose"]`))
	ukraine.do("draft a change of point 6", click(`[data-test="kind-replace"]`), fill(`[data-test="propose-text"]`, "The Armed Forces of Ukraine will be limited to 700,000 troops."),
		click(`[data-test="package-add"]`))
	ukraine.do("back to the board", click(`nav a[href="#/"]`), visible(`[data-test="package-draft"]`))
	ukraine.do("open point 7", click(`a[aria-label="Point 7"]`), visible(`[data-test="propose"]`))
	ukraine.do("draft a deletion of point 7", click(`[data-test="kind-delete"]`), click(`[data-test="package-add"]`))
	ukraine.eventually("two parts", live, has(`[data-test="draft-part-2"]`, "Part 2: delete point 7"))
	for _, d := range demo.Delegations {
		if _, err := svc.CastVote(as(d), &parleyv1.CastVoteRequest{Amendment: countered.GetAmendment().GetName(), Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.ApplyAmendment(as(demo.Mediator), &parleyv1.ApplyAmendmentRequest{Amendment: countered.GetAmendment().GetName()}); err != nil {
		t.Fatal(err)
	}
	ukraine.eventually("part 1 stale", live, has(`[data-test="draft-part-1"] [data-test="part-stale"]`, "Point 6 has changed since this part was drafted"))
	before = logSize()
	ukraine.do("propose the stale package", click(`[data-test="package-propose"]`))
	ukraine.eventually("the refusal", live, has(`[data-test="package-refusal"]`, "STALE_REVISION")+` && `+
		has(`[data-test="package-refusal"]`, "Part 1 was drafted against a text of point 6 that has changed since")+` && `+
		has(`[data-test="draft-part-1"] [data-test="part-fault"]`, "to fix")+` && `+
		`document.querySelector('[data-test="draft-part-2"] [data-test="part-fault"]') === null`)
	shot.take(ukraine, "stale")
	if after := logSize(); after != before {
		t.Fatalf("a refused stale package changed the log: %d events before, %d after", before, after)
	}
}
