package client_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// TestClient_RebaseAmendment re-proposes two amendments that a change of
// point 6 outdated, against the real server: Ukraine's, apart from the
// change, merges; Europe's, at the same place, is refused with its conflict.
func TestClient_RebaseAmendment(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	p := demoParties(t, s, n, client.Options{})
	doc, err := p["ukraine"].Document(ctx, n.Name)
	if err != nil {
		t.Fatal(err)
	}
	six, _ := doc.PointByNumber(6)
	propose := func(who, text string) *parleyv1.Amendment {
		t.Helper()
		a, err := p[who].ProposeAmendment(ctx, &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE,
			Point: six.GetName(), BaseRevision: six.GetRevision(), Text: text, Rationale: who + "'s reasons"})
		if err != nil {
			t.Fatalf("%s proposes: %v", who, err)
		}
		return a
	}
	ukraine := propose("ukraine", "In peacetime, "+six.GetText())
	europe := propose("europe", six.GetText()+" Reviewed every year.")
	russia := propose("russia", six.GetText()+" Verified by monitors.")
	for _, d := range demo.Delegations {
		if _, err := p[d].CastVote(ctx, russia.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p[demo.Mediator].ApplyAmendment(ctx, russia.GetName()); err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		a, err := p["ukraine"].RebaseAmendment(ctx, ukraine.GetName(), "")
		if err != nil {
			t.Fatal(err)
		}
		if want := "In peacetime, " + six.GetText() + " Verified by monitors."; a.GetText() != want || a.GetRebasedFrom() != ukraine.GetName() ||
			a.GetBaseRevision() != 2 || a.GetRationale() != "ukraine's reasons" {
			t.Fatalf("rebased: text %q (want %q), from %q, revision %d, rationale %q", a.GetText(), want, a.GetRebasedFrom(), a.GetBaseRevision(), a.GetRationale())
		}
	})
	t.Run("ErrRebaseConflict", func(t *testing.T) {
		_, err := p["europe"].RebaseAmendment(ctx, europe.GetName(), "")
		if client.CodeOf(err) != codes.FailedPrecondition || client.ReasonOf(err) != "REBASE_CONFLICT" {
			t.Fatalf("err = %v", err)
		}
		shown, total, revision := client.RebaseConflicts(err)
		want := client.RebaseConflict{Words: shown[0].Words, Base: "", Yours: " Reviewed every year.", Theirs: " Verified by monitors."}
		if len(shown) != 1 || total != 1 || revision != 2 || shown[0] != want || shown[0].Words == "" {
			t.Fatalf("conflicts %+v of %d, revision %d", shown, total, revision)
		}
	})
	t.Run("ErrNotProposer", func(t *testing.T) {
		_, err := p["russia"].RebaseAmendment(ctx, europe.GetName(), "")
		if client.CodeOf(err) != codes.PermissionDenied || client.ReasonOf(err) != "NOT_PROPOSER" {
			t.Fatalf("err = %v", err)
		}
		if shown, _, _ := client.RebaseConflicts(err); shown != nil {
			t.Fatalf("conflicts of another error: %v", shown)
		}
	})
}
