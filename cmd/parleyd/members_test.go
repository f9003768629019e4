package main_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
	"github.com/parley-negotiation/parley/server/workflow"
)

// TestMembersDurable adds, tokens and removes members, signs off in a batch
// and withdraws an acceptance; then checks the database file as an auditor
// would (the log folds into exactly the stored projections, the token index
// holds exactly the current credentials) and that after a restart a member's
// token still works and a removed member's does not.
func TestMembersDurable(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	n := s.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: "Two", Points: []string{"One.", "Two."},
		Participants: []*parleyv1.Participant{{Id: "north", Role: parleyv1.Role_ROLE_DELEGATION}, {Id: "chair", Role: parleyv1.Role_ROLE_MEDIATOR}},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}})
	conn := s.Conn()
	api, admins := parleyv1.NewNegotiationServiceClient(conn), parleyv1.NewAdminServiceClient(conn)
	admin := servertest.As(ctx, s.AdminToken)
	tokens := map[string]string{}
	for _, m := range []string{"head", "aide", "gone"} {
		if _, err := admins.AddMember(admin, &parleyv1.AddMemberRequest{Negotiation: n.Name, Participant: "north", Member: m, Head: m == "head"}); err != nil {
			t.Fatal(err)
		}
		r, err := admins.IssueToken(admin, &parleyv1.IssueTokenRequest{Negotiation: n.Name, Participant: "north", Member: m})
		if err != nil {
			t.Fatal(err)
		}
		tokens[m] = r.GetToken()
	}
	head := servertest.As(ctx, tokens["head"])
	// The head rotates the aide's token and removes a member.
	rotated, err := admins.RotateToken(head, &parleyv1.RotateTokenRequest{Negotiation: n.Name, Participant: "north", Member: "aide"})
	if err != nil {
		t.Fatal(err)
	}
	oldAide := tokens["aide"]
	tokens["aide"] = rotated.GetToken()
	if _, err := admins.RemoveMember(head, &parleyv1.RemoveMemberRequest{Negotiation: n.Name, Participant: "north", Member: "gone"}); err != nil {
		t.Fatal(err)
	}
	doc, err := api.GetDocument(head, &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	batch := &parleyv1.SignOffPointsRequest{Negotiation: n.Name}
	for _, p := range doc.GetPoints() {
		batch.Items = append(batch.Items, &parleyv1.SignOffPointsItem{Point: p.GetName(), Revision: p.GetRevision(), TextSha256: p.GetTextSha256()})
	}
	if _, err := api.SignOffPoints(head, batch); err != nil {
		t.Fatal(err)
	}
	if _, err := api.AcceptDocument(head, &parleyv1.AcceptDocumentRequest{Negotiation: n.Name, DocumentSha256: doc.GetDocumentSha256()}); err != nil {
		t.Fatal(err)
	}
	// With its only delegation's acceptance the negotiation concluded: the
	// acceptance can no longer be withdrawn.
	if _, err := api.WithdrawAcceptance(head, &parleyv1.WithdrawAcceptanceRequest{Negotiation: n.Name}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("withdraw after the conclusion: %v", err)
	}

	s.Stop()
	db, folded := dbcheckOpen(t, filepath.Join(s.DataDir, "parley.db"), strings.TrimPrefix(n.Name, "negotiations/"))
	north, _ := folded.Participant("north")
	if len(north.Members) != 2 || north.Members[0].ID != "head" || !north.Members[0].Head || north.Members[1].ID != "aide" {
		t.Fatalf("members after the fold: %+v", north.Members)
	}
	if s := folded.Points[folded.Order[0]].SignOffs["north"]; s.Member != "head" {
		t.Fatalf("sign-off by %q, want head", s.Member)
	}
	if _, ok := folded.Credentials[workflow.MemberKey("north", "gone")]; ok {
		t.Fatal("the removed member kept its credential")
	}
	db.Close()

	s.Restart()
	api = parleyv1.NewNegotiationServiceClient(s.Conn())
	caller, err := api.GetCaller(servertest.As(ctx, tokens["aide"]), &parleyv1.GetCallerRequest{})
	if err != nil || caller.GetMember().GetId() != "aide" {
		t.Fatalf("the aide after a restart: %v, %v", caller, err)
	}
	for what, token := range map[string]string{"removed": tokens["gone"], "rotated away": oldAide} {
		if _, err := api.GetCaller(servertest.As(ctx, token), &parleyv1.GetCallerRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("a %s member's token after a restart: %v", what, err)
		}
	}
}
