package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// TestBoardRebase re-proposes Ukraine's two stale amendments of point 6 from
// its board: the one apart from the change applied since comes back OPEN
// with the merged text, marked as re-proposed; the one that overlaps it is
// refused, and the board shows where.
func TestBoardRebase(t *testing.T) {
	srv, httpAddr := startBoardServer(t)
	ctx := context.Background()
	n := srv.CreateDemo(ctx)
	svc := parleyv1.NewNegotiationServiceClient(srv.Conn())
	as := func(id string) context.Context { return servertest.As(ctx, n.Tokens[id]) }
	doc, err := svc.GetDocument(as("ukraine"), &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	six := doc.GetPoints()[5]
	propose := func(who, text string) *parleyv1.Amendment {
		t.Helper()
		r, err := svc.ProposeAmendment(as(who), &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE,
			Point: six.GetName(), BaseRevision: 1, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetAmendment()
	}
	apart := propose("ukraine", "In peacetime, "+six.GetText())
	overlapping := propose("ukraine", six.GetText()+" Reviewed every year.")
	applied := propose("russia", six.GetText()+" Verified by monitors.")
	for _, d := range demo.Delegations {
		if _, err := svc.CastVote(as(d), &parleyv1.CastVoteRequest{Amendment: applied.GetName(), Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.ApplyAmendment(as(demo.Mediator), &parleyv1.ApplyAmendmentRequest{Amendment: applied.GetName()}); err != nil {
		t.Fatal(err)
	}

	base := "http://" + httpAddr + "/"
	ukraine := newPage(t, newBrowser(t), "ukraine")
	ukraine.signIn(base, n.Tokens["ukraine"])
	pointID := six.GetName()[strings.LastIndex(six.GetName(), "/")+1:]
	card := func(a *parleyv1.Amendment) string { return `[data-amendment="` + a.GetName() + `"]` }
	ukraine.do("open point 6", chromedp.Navigate(base+"#/points/"+pointID), visible(card(overlapping)+` [data-test="rebase"]`))

	ukraine.do("re-propose the overlapping amendment", click(card(overlapping)+` [data-test="rebase"]`))
	ukraine.eventually("the conflict shown", live, `document.querySelector('[data-test="conflicts"]') !== null`)
	if got := ukraine.text(card(overlapping) + ` [data-test="refusal"]`); !strings.Contains(got, "REBASE_CONFLICT") ||
		!strings.Contains(got, "Reviewed every year.") || !strings.Contains(got, "Verified by monitors.") || !strings.Contains(got, "revision 2") {
		t.Fatalf("the conflict shown: %q", got)
	}

	ukraine.do("re-propose the other", click(card(apart)+` [data-test="rebase"]`))
	ukraine.eventually("the re-proposed amendment", live, `document.querySelector('[data-test="rebased-from"]') !== null`)
	if got := ukraine.text(`[data-test="rebased-from"]`); !strings.Contains(got, apart.GetName()[strings.LastIndex(apart.GetName(), "/")+1:][:8]) {
		t.Fatalf("the new amendment says it comes from %q", got)
	}
	list, err := svc.ListAmendments(as("ukraine"), &parleyv1.ListAmendmentsRequest{Negotiation: n.Name,
		States: []parleyv1.AmendmentState{parleyv1.AmendmentState_AMENDMENT_STATE_OPEN}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetAmendments()) != 1 || list.GetAmendments()[0].GetText() != "In peacetime, "+six.GetText()+" Verified by monitors." ||
		list.GetAmendments()[0].GetRebasedFrom() != apart.GetName() {
		t.Fatalf("open amendments after the rebase: %v", list.GetAmendments())
	}
}
