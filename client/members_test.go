package client_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// TestClient_Members plays members of a delegation, a batch sign-off of the
// whole 28-point plan, an acceptance withdrawn, and a removal, against a real
// parleyd.
func TestClient_Members(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	p := demoParties(t, s, n, client.Options{})
	admin := newClient(t, s.Addr, s.AdminToken, client.Options{})

	ukraine, err := admin.AddMember(ctx, &parleyv1.AddMemberRequest{Negotiation: n.Name, Participant: "ukraine", Member: "head",
		DisplayName: "Head of delegation", Head: true})
	if err != nil {
		t.Fatal(err)
	}
	if ms := ukraine.GetMembers(); len(ms) != 1 || !ms[0].GetHead() || ms[0].GetHasCredential() {
		t.Fatalf("members after AddMember: %v", ms)
	}
	if _, err := admin.AddMember(ctx, &parleyv1.AddMemberRequest{Negotiation: n.Name, Participant: "ukraine", Member: "aide"}); err != nil {
		t.Fatal(err)
	}
	member := func(id string) *client.Client {
		t.Helper()
		tok, err := admin.IssueMemberToken(ctx, n.Name, "ukraine", id)
		if err != nil {
			t.Fatal(err)
		}
		return newClient(t, s.Addr, tok.GetToken(), client.Options{})
	}
	head, aide := member("head"), member("aide")

	caller, err := aide.Caller(ctx)
	if err != nil || caller.GetParticipant().GetId() != "ukraine" || caller.GetMember().GetId() != "aide" || caller.GetMember().GetHead() {
		t.Fatalf("Caller as the aide = %v, %v", caller, err)
	}
	if caller, err := p["ukraine"].Caller(ctx); err != nil || caller.GetMember().GetId() != "ukraine" {
		t.Fatalf("Caller with the participant's token = %v, %v", caller, err)
	}

	doc, err := head.Document(ctx, n.Name)
	if err != nil {
		t.Fatal(err)
	}
	// Ukraine has a head: its aide may not sign off.
	if _, err := aide.SignOffPoints(ctx, n.Name, doc.Points); client.CodeOf(err) != codes.PermissionDenied || client.ReasonOf(err) != "MEMBER_NOT_ALLOWED" {
		t.Fatalf("the aide signs off: %v", err)
	}
	for _, c := range []*client.Client{head, p["russia"], p["united-states"], p["europe"]} {
		r, err := c.SignOffPoints(ctx, n.Name, doc.Points)
		if err != nil {
			t.Fatal(err)
		}
		if r.GetSignedOffCount() != 28 {
			t.Fatalf("signed off %d points, want 28", r.GetSignedOffCount())
		}
	}
	got, err := head.Negotiation(ctx, n.Name)
	if err != nil || got.GetAgreedPointCount() != 28 {
		t.Fatalf("agreed points %d, %v", got.GetAgreedPointCount(), err)
	}
	// One batch is one commit: 4 batches of 28 sign-offs.
	before := got.GetLastSequence()

	if _, err := head.AcceptDocument(ctx, n.Name, doc.SHA256); err != nil {
		t.Fatal(err)
	}
	after, err := head.WithdrawAcceptance(ctx, n.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.GetAcceptances()) != 0 || after.GetLastSequence() != before+2 {
		t.Fatalf("after withdrawing: acceptances %v, sequence %d (before %d)", after.GetAcceptances(), after.GetLastSequence(), before)
	}
	var events []*parleyv1.EventRecord
	for e, err := range head.Events(ctx, n.Name, before) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	if len(events) != 2 || events[0].GetEvent().GetMember() != "head" || events[1].GetEvent().GetAcceptanceWithdrawn() == nil {
		t.Fatalf("events after the sign-offs: %v", events)
	}

	if _, err := p["europe"].RevokeSignOffs(ctx, n.Name, []string{doc.Points[0].GetName(), doc.Points[27].GetName()}); err != nil {
		t.Fatal(err)
	}
	if got, _ := head.Negotiation(ctx, n.Name); got.GetAgreedPointCount() != 26 {
		t.Fatalf("after revoking two: %d agreed", got.GetAgreedPointCount())
	}

	// A removed member's token stops working at once.
	if _, err := head.RemoveMember(ctx, n.Name, "ukraine", "aide"); err != nil {
		t.Fatal(err)
	}
	if _, err := aide.Caller(ctx); client.CodeOf(err) != codes.Unauthenticated {
		t.Fatalf("the removed aide calls: %v", err)
	}
}
