package main_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// authzWho is what a caller is, as far as authorization goes.
type authzWho string

const (
	authzAdmin      authzWho = "admin"      // the server's administrator
	authzDelegation authzWho = "delegation" // a delegation of negotiation A
	authzProposer   authzWho = "proposer"   // the delegation that proposed A's amendment under test and wrote its comment
	authzMediator   authzWho = "mediator"   // the mediator of A
	authzObserver   authzWho = "observer"   // an observer of A
	authzOutsider   authzWho = "outsider"   // a delegation of negotiation B
	authzHead       authzWho = "head"       // a head member of A's delegation ukraine
	authzAide       authzWho = "aide"       // a member of ukraine who is no head: it may not sign off or accept
	authzNobody     authzWho = ""           // no valid token
)

// authzMember is everyone who may read negotiation A.
var authzMember = []authzWho{authzAdmin, authzDelegation, authzMediator, authzObserver, authzAide}

// authzRow says who may call one RPC on negotiation A's resources. Anyone
// else is refused: with UNAUTHENTICATED without a valid token, with
// PERMISSION_DENIED with one.
type authzRow struct {
	method  string
	allowed []authzWho
}

// authzMatrix has a row for every RPC of every parley.v1 service, in the
// order the test calls them: a sign-off before its revocation, a token
// issued before it is rotated and revoked.
var authzMatrix = []authzRow{
	{"parley.v1.NegotiationService/CreateNegotiation", []authzWho{authzAdmin}},
	{"parley.v1.NegotiationService/GetNegotiation", authzMember},
	{"parley.v1.NegotiationService/ListNegotiations", append(slices.Clone(authzMember), authzOutsider)}, // each sees its own
	{"parley.v1.NegotiationService/GetDocument", authzMember},
	{"parley.v1.NegotiationService/GetPoint", authzMember},
	{"parley.v1.NegotiationService/ProposeAmendment", []authzWho{authzDelegation, authzAide, authzMediator}},
	{"parley.v1.NegotiationService/GetAmendment", authzMember},
	{"parley.v1.NegotiationService/ListAmendments", authzMember},
	{"parley.v1.NegotiationService/WithdrawAmendment", []authzWho{authzProposer, authzAide}},
	{"parley.v1.NegotiationService/CastVote", []authzWho{authzDelegation, authzAide}},
	{"parley.v1.NegotiationService/CloseVoting", []authzWho{authzMediator}},
	{"parley.v1.NegotiationService/ApplyAmendment", []authzWho{authzMediator}},
	{"parley.v1.NegotiationService/RejectAmendment", []authzWho{authzMediator}},
	{"parley.v1.NegotiationService/SignOffPoint", []authzWho{authzDelegation}},
	{"parley.v1.NegotiationService/RevokeSignOff", []authzWho{authzDelegation}},
	{"parley.v1.NegotiationService/AcceptDocument", []authzWho{authzDelegation}},
	{"parley.v1.NegotiationService/WithdrawAcceptance", []authzWho{authzDelegation}},
	{"parley.v1.NegotiationService/SignOffPoints", []authzWho{authzDelegation}},
	{"parley.v1.NegotiationService/RevokeSignOffs", []authzWho{authzDelegation}},
	{"parley.v1.NegotiationService/ListEvents", authzMember},
	{"parley.v1.NegotiationService/WatchEvents", authzMember},
	{"parley.v1.NegotiationService/GetCaller", append(slices.Clone(authzMember), authzOutsider)},
	// Observers read the discussion; they join it only where the
	// negotiation allows, which A does not.
	{"parley.v1.NegotiationService/PostComment", []authzWho{authzDelegation, authzAide, authzMediator}},
	{"parley.v1.NegotiationService/ListComments", authzMember},
	// A comment is its participant's: any of ukraine's members may retract it.
	{"parley.v1.NegotiationService/RetractComment", []authzWho{authzProposer, authzAide}},
	{"parley.v1.NegotiationService/GetRedline", authzMember},
	// Signing keys: each delegation member its own; the administrator
	// revokes a lost one.
	{"parley.v1.NegotiationService/RegisterKey", []authzWho{authzDelegation, authzAide}},
	{"parley.v1.NegotiationService/RevokeKey", []authzWho{authzAdmin, authzDelegation, authzAide}},
	{"parley.v1.AdminService/IssueToken", []authzWho{authzAdmin}},
	{"parley.v1.AdminService/RotateToken", []authzWho{authzAdmin}},
	{"parley.v1.AdminService/RevokeToken", []authzWho{authzAdmin}},
	{"parley.v1.AdminService/AddMember", []authzWho{authzAdmin, authzHead}},
	{"parley.v1.AdminService/RemoveMember", []authzWho{authzAdmin, authzHead}},
	{"parley.v1.AdminService/Backup", []authzWho{authzAdmin}},
	// On this single node the cluster's RPCs are refused with
	// FAILED_PRECONDITION NOT_A_CLUSTER, after the check of who may call.
	{"parley.v1.AdminService/ClusterStatus", []authzWho{authzAdmin}},
	{"parley.v1.AdminService/AddNode", []authzWho{authzAdmin}},
	{"parley.v1.AdminService/RemoveNode", []authzWho{authzAdmin}},
	{"parley.v1.AuditService/GetCheckpoint", authzMember},
	{"parley.v1.AuditService/GetInclusionProof", authzMember},
	{"parley.v1.AuditService/GetConsistencyProof", authzMember},
	// The key is public: any caller with a valid token may read it.
	{"parley.v1.AuditService/GetVerifierKey", append(slices.Clone(authzMember), authzOutsider)},
	// Changes of the negotiation itself: the administrator (A does not let
	// its mediators make them), and deadlines: its mediators. Last, so that
	// the pause between suspend and resume stops nothing above.
	{"parley.v1.NegotiationService/AddParticipant", []authzWho{authzAdmin}},
	{"parley.v1.NegotiationService/RenameNegotiation", []authzWho{authzAdmin}},
	{"parley.v1.NegotiationService/SetDecisionRule", []authzWho{authzAdmin}},
	{"parley.v1.NegotiationService/SetVotingDeadline", []authzWho{authzMediator}},
	{"parley.v1.NegotiationService/SuspendNegotiation", []authzWho{authzAdmin}},
	{"parley.v1.NegotiationService/ResumeNegotiation", []authzWho{authzAdmin}},
	{"parley.v1.NegotiationService/AbandonNegotiation", []authzWho{authzAdmin}},
	{"parley.v1.NegotiationService/RemoveParticipant", []authzWho{authzAdmin}},
	// Last: from here on A takes only signed consent.
	{"parley.v1.NegotiationService/RequireSignatures", []authzWho{authzAdmin}},
}

// authzPrincipal is one caller of the matrix.
type authzPrincipal struct {
	name  string
	is    []authzWho
	token string // "" for no authorization metadata at all
	raw   string // authorization metadata sent as is, if set
}

func (p authzPrincipal) ctx(ctx context.Context) context.Context {
	switch {
	case p.raw != "":
		return metadata.AppendToOutgoingContext(ctx, "authorization", p.raw)
	case p.token != "":
		return servertest.As(ctx, p.token)
	}
	return ctx
}

func (p authzPrincipal) may(allowed []authzWho) bool {
	for _, w := range p.is {
		if slices.Contains(allowed, w) {
			return true
		}
	}
	return false
}

func (p authzPrincipal) authenticated() bool { return len(p.is) > 0 && p.is[0] != authzNobody }

// TestAuthorization calls every RPC as every kind of caller and checks that
// each call is allowed or refused as authzMatrix says; that a refused call
// changes nothing; and that a participant of negotiation B reads nothing of
// negotiation A. It does so over every protocol parleyd serves, and checks
// that each refuses exactly where gRPC does, with the same code and reason.
func TestAuthorization(t *testing.T) {
	var overGRPC map[string]string
	for _, protocol := range webProtocols {
		t.Run(protocol.name, func(t *testing.T) {
			got := authorizationOver(t, protocol)
			if overGRPC == nil {
				overGRPC = got
				return
			}
			for call, want := range overGRPC {
				if got[call] != want {
					t.Errorf("%s: %s, but over gRPC %s", call, got[call], want)
				}
			}
		})
	}
}

// authorizationOver runs the matrix over one protocol and returns each
// call's outcome: its code and reason, by method and caller.
func authorizationOver(t *testing.T, protocol webProtocol) map[string]string {
	// The matrix makes hundreds of calls a second, a third of them without a
	// valid token, all from one address: no limit applies.
	s := servertest.Start(t, "--rate-limit", "0", "--auth-failure-limit", "0")
	ctx := context.Background()
	conn := protocol.dial(t, s)
	api := parleyv1.NewNegotiationServiceClient(conn)
	adminAPI := parleyv1.NewAdminServiceClient(conn)
	auditAPI := parleyv1.NewAuditServiceClient(conn)
	admin := servertest.As(ctx, s.AdminToken)

	// Negotiation A: four delegations, a mediator, an observer, and three
	// observers whose tokens the test issues, rotates and revokes.
	delegations := []string{"ukraine", "russia", "united-states", "europe"}
	var participants []*parleyv1.Participant
	for _, d := range delegations {
		participants = append(participants, &parleyv1.Participant{Id: d, Role: parleyv1.Role_ROLE_DELEGATION})
	}
	for _, o := range []string{"observer", "gone", "rotated", "spare"} {
		participants = append(participants, &parleyv1.Participant{Id: o, Role: parleyv1.Role_ROLE_OBSERVER})
	}
	participants = append(participants, &parleyv1.Participant{Id: "mediator", Role: parleyv1.Role_ROLE_MEDIATOR})
	const secretTitle, secretText = "Negotiation A: confidential", "Point one of A, which B must never read."
	a := s.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: secretTitle, Participants: participants,
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS},
		Points:       []string{secretText, "Point two of A.", "Point three of A."}})
	b := s.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: "Negotiation B", Participants: []*parleyv1.Participant{
		{Id: "ukraine", Role: parleyv1.Role_ROLE_DELEGATION}, {Id: "poland", Role: parleyv1.Role_ROLE_DELEGATION},
		{Id: "mediator", Role: parleyv1.Role_ROLE_MEDIATOR}},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS},
		Points:       []string{"Point one of B."}})
	rotatedOld := a.Tokens["rotated"]
	if _, err := adminAPI.RotateToken(admin, &parleyv1.RotateTokenRequest{Negotiation: a.Name, Participant: "rotated"}); err != nil {
		t.Fatal(err)
	}
	if _, err := adminAPI.RevokeToken(admin, &parleyv1.RevokeTokenRequest{Negotiation: a.Name, Participant: "gone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := adminAPI.RevokeToken(admin, &parleyv1.RevokeTokenRequest{Negotiation: a.Name, Participant: "spare"}); err != nil {
		t.Fatal(err)
	}
	// Ukraine's members: a head, an aide, one removed and one whose token
	// was revoked.
	memberTokens := map[string]string{}
	for _, m := range []string{"head", "aide", "removed", "revoked"} {
		if _, err := adminAPI.AddMember(admin, &parleyv1.AddMemberRequest{Negotiation: a.Name, Participant: "ukraine", Member: m, Head: m == "head"}); err != nil {
			t.Fatal(err)
		}
		r, err := adminAPI.IssueToken(admin, &parleyv1.IssueTokenRequest{Negotiation: a.Name, Participant: "ukraine", Member: m})
		if err != nil {
			t.Fatal(err)
		}
		memberTokens[m] = r.GetToken()
	}
	if _, err := adminAPI.RemoveMember(admin, &parleyv1.RemoveMemberRequest{Negotiation: a.Name, Participant: "ukraine", Member: "removed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := adminAPI.RevokeToken(admin, &parleyv1.RevokeTokenRequest{Negotiation: a.Name, Participant: "ukraine", Member: "revoked"}); err != nil {
		t.Fatal(err)
	}

	// A's resources the calls name: its first point, and amendments by
	// Ukraine to read, withdraw, vote on and close, and two that passed, to
	// apply and to reject, on points of their own so that applying one
	// leaves the others as they are.
	ukraine := servertest.As(ctx, a.Tokens["ukraine"])
	doc, err := api.GetDocument(ukraine, &parleyv1.GetDocumentRequest{Negotiation: a.Name})
	if err != nil {
		t.Fatal(err)
	}
	point := doc.GetPoints()[0]
	propose := func(p *parleyv1.Point, text string) string {
		t.Helper()
		r, err := api.ProposeAmendment(ukraine, &parleyv1.ProposeAmendmentRequest{Negotiation: a.Name,
			Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p.GetName(), BaseRevision: 1, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetAmendment().GetName()
	}
	const secretDraft = "A draft of A, which B must never read."
	amendment := propose(point, secretDraft)
	toWithdraw, toVote, toClose := propose(point, "Withdraw me."), propose(point, "Vote on me."), propose(point, "Close me.")
	toApply, toReject := propose(doc.GetPoints()[1], "Apply me."), propose(doc.GetPoints()[2], "Reject me.")
	for _, passed := range []string{toApply, toReject} {
		for _, d := range delegations {
			if _, err := api.CastVote(servertest.As(ctx, a.Tokens[d]), &parleyv1.CastVoteRequest{Amendment: passed,
				Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}); err != nil {
				t.Fatal(err)
			}
		}
	}

	posted, err := api.PostComment(ukraine, &parleyv1.PostCommentRequest{Negotiation: a.Name, Point: point.GetName(), Text: "A remark of A."})
	if err != nil {
		t.Fatal(err)
	}
	comment := posted.GetComment().GetName()

	principals := []authzPrincipal{{name: "admin", is: []authzWho{authzAdmin}, token: s.AdminToken}}
	for _, d := range delegations {
		is := []authzWho{authzDelegation}
		if d == "ukraine" {
			is = append(is, authzProposer)
		}
		principals = append(principals, authzPrincipal{name: "A/" + d, is: is, token: a.Tokens[d]})
	}
	principals = append(principals,
		authzPrincipal{name: "A/mediator", is: []authzWho{authzMediator}, token: a.Tokens["mediator"]},
		authzPrincipal{name: "A/observer", is: []authzWho{authzObserver}, token: a.Tokens["observer"]},
		authzPrincipal{name: "A/ukraine/head", is: []authzWho{authzDelegation, authzProposer, authzHead}, token: memberTokens["head"]},
		authzPrincipal{name: "A/ukraine/aide", is: []authzWho{authzAide}, token: memberTokens["aide"]},
		authzPrincipal{name: "removed-member", is: []authzWho{authzNobody}, token: memberTokens["removed"]},
		authzPrincipal{name: "revoked-member", is: []authzWho{authzNobody}, token: memberTokens["revoked"]},
		authzPrincipal{name: "B/ukraine", is: []authzWho{authzOutsider}, token: b.Tokens["ukraine"]},
		authzPrincipal{name: "revoked", is: []authzWho{authzNobody}, token: a.Tokens["gone"]},
		authzPrincipal{name: "rotated-away", is: []authzWho{authzNobody}, token: rotatedOld},
		authzPrincipal{name: "unknown", is: []authzWho{authzNobody}, token: "prl_" + strings.Repeat("x", 43)},
		authzPrincipal{name: "malformed", is: []authzWho{authzNobody}, raw: "Basic " + s.AdminToken},
		authzPrincipal{name: "none", is: []authzWho{authzNobody}},
	)

	// calls makes one call of each RPC on A's resources.
	calls := map[string]func(ctx context.Context) error{
		"parley.v1.NegotiationService/CreateNegotiation": func(ctx context.Context) error {
			_, err := api.CreateNegotiation(ctx, &parleyv1.CreateNegotiationRequest{Title: "New", Points: []string{"One."},
				Participants: []*parleyv1.Participant{{Id: "ukraine", Role: parleyv1.Role_ROLE_DELEGATION}},
				DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}})
			return err
		},
		"parley.v1.NegotiationService/GetNegotiation": func(ctx context.Context) error {
			_, err := api.GetNegotiation(ctx, &parleyv1.GetNegotiationRequest{Name: a.Name})
			return err
		},
		"parley.v1.NegotiationService/ListNegotiations": func(ctx context.Context) error {
			_, err := api.ListNegotiations(ctx, &parleyv1.ListNegotiationsRequest{})
			return err
		},
		"parley.v1.NegotiationService/GetDocument": func(ctx context.Context) error {
			_, err := api.GetDocument(ctx, &parleyv1.GetDocumentRequest{Negotiation: a.Name})
			return err
		},
		"parley.v1.NegotiationService/GetPoint": func(ctx context.Context) error {
			_, err := api.GetPoint(ctx, &parleyv1.GetPointRequest{Name: point.GetName()})
			return err
		},
		"parley.v1.NegotiationService/ProposeAmendment": func(ctx context.Context) error {
			_, err := api.ProposeAmendment(ctx, &parleyv1.ProposeAmendmentRequest{Negotiation: a.Name,
				Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Text: "An insert at the start."})
			return err
		},
		"parley.v1.NegotiationService/GetAmendment": func(ctx context.Context) error {
			_, err := api.GetAmendment(ctx, &parleyv1.GetAmendmentRequest{Name: amendment})
			return err
		},
		"parley.v1.NegotiationService/ListAmendments": func(ctx context.Context) error {
			_, err := api.ListAmendments(ctx, &parleyv1.ListAmendmentsRequest{Negotiation: a.Name})
			return err
		},
		"parley.v1.NegotiationService/WithdrawAmendment": func(ctx context.Context) error {
			_, err := api.WithdrawAmendment(ctx, &parleyv1.WithdrawAmendmentRequest{Name: toWithdraw})
			return err
		},
		"parley.v1.NegotiationService/CastVote": func(ctx context.Context) error {
			_, err := api.CastVote(ctx, &parleyv1.CastVoteRequest{Amendment: toVote, Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE})
			return err
		},
		"parley.v1.NegotiationService/CloseVoting": func(ctx context.Context) error {
			_, err := api.CloseVoting(ctx, &parleyv1.CloseVotingRequest{Amendment: toClose})
			return err
		},
		"parley.v1.NegotiationService/ApplyAmendment": func(ctx context.Context) error {
			_, err := api.ApplyAmendment(ctx, &parleyv1.ApplyAmendmentRequest{Amendment: toApply})
			return err
		},
		"parley.v1.NegotiationService/RejectAmendment": func(ctx context.Context) error {
			_, err := api.RejectAmendment(ctx, &parleyv1.RejectAmendmentRequest{Amendment: toReject, Reason: "Not now."})
			return err
		},
		"parley.v1.NegotiationService/SignOffPoint": func(ctx context.Context) error {
			_, err := api.SignOffPoint(ctx, &parleyv1.SignOffPointRequest{Point: point.GetName(), Revision: 1, TextSha256: point.GetTextSha256()})
			return err
		},
		"parley.v1.NegotiationService/RevokeSignOff": func(ctx context.Context) error {
			_, err := api.RevokeSignOff(ctx, &parleyv1.RevokeSignOffRequest{Point: point.GetName()})
			return err
		},
		"parley.v1.NegotiationService/AcceptDocument": func(ctx context.Context) error {
			_, err := api.AcceptDocument(ctx, &parleyv1.AcceptDocumentRequest{Negotiation: a.Name, DocumentSha256: doc.GetDocumentSha256()})
			return err
		},
		"parley.v1.NegotiationService/WithdrawAcceptance": func(ctx context.Context) error {
			_, err := api.WithdrawAcceptance(ctx, &parleyv1.WithdrawAcceptanceRequest{Negotiation: a.Name})
			return err
		},
		"parley.v1.NegotiationService/SignOffPoints": func(ctx context.Context) error {
			req := &parleyv1.SignOffPointsRequest{Negotiation: a.Name}
			for _, p := range doc.GetPoints()[2:] { // points 1 and 2 change under ApplyAmendment
				req.Items = append(req.Items, &parleyv1.SignOffPointsItem{Point: p.GetName(), Revision: p.GetRevision(), TextSha256: p.GetTextSha256()})
			}
			_, err := api.SignOffPoints(ctx, req)
			return err
		},
		"parley.v1.NegotiationService/RevokeSignOffs": func(ctx context.Context) error {
			_, err := api.RevokeSignOffs(ctx, &parleyv1.RevokeSignOffsRequest{Negotiation: a.Name, Points: []string{doc.GetPoints()[2].GetName()}})
			return err
		},
		"parley.v1.NegotiationService/ListEvents": func(ctx context.Context) error {
			_, err := api.ListEvents(ctx, &parleyv1.ListEventsRequest{Negotiation: a.Name})
			return err
		},
		"parley.v1.NegotiationService/WatchEvents": func(ctx context.Context) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			stream, err := api.WatchEvents(ctx, &parleyv1.WatchEventsRequest{Negotiation: a.Name})
			if err != nil {
				return err
			}
			_, err = stream.Recv()
			return err
		},
		"parley.v1.NegotiationService/GetCaller": func(ctx context.Context) error {
			_, err := api.GetCaller(ctx, &parleyv1.GetCallerRequest{})
			return err
		},
		"parley.v1.NegotiationService/PostComment": func(ctx context.Context) error {
			_, err := api.PostComment(ctx, &parleyv1.PostCommentRequest{Negotiation: a.Name, Parent: comment, Text: "A reply."})
			return err
		},
		"parley.v1.NegotiationService/ListComments": func(ctx context.Context) error {
			_, err := api.ListComments(ctx, &parleyv1.ListCommentsRequest{Negotiation: a.Name})
			return err
		},
		"parley.v1.NegotiationService/RetractComment": func(ctx context.Context) error {
			_, err := api.RetractComment(ctx, &parleyv1.RetractCommentRequest{Name: comment})
			return err
		},
		"parley.v1.NegotiationService/GetRedline": func(ctx context.Context) error {
			_, err := api.GetRedline(ctx, &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Amendment{Amendment: amendment}})
			return err
		},
		// A key without its proof of possession: refused after the check of
		// who may call (SIGNATURE_INVALID), so nothing changes.
		"parley.v1.NegotiationService/RegisterKey": func(ctx context.Context) error {
			_, err := api.RegisterKey(ctx, &parleyv1.RegisterKeyRequest{Negotiation: a.Name, PublicKey: make([]byte, 32)})
			return err
		},
		"parley.v1.NegotiationService/RevokeKey": func(ctx context.Context) error {
			_, err := api.RevokeKey(ctx, &parleyv1.RevokeKeyRequest{Negotiation: a.Name, KeyId: strings.Repeat("ab", 32), Participant: "ukraine"})
			return err
		},
		"parley.v1.NegotiationService/RequireSignatures": func(ctx context.Context) error {
			_, err := api.RequireSignatures(ctx, &parleyv1.RequireSignaturesRequest{Negotiation: a.Name})
			return err
		},
		"parley.v1.AuditService/GetCheckpoint": func(ctx context.Context) error {
			_, err := auditAPI.GetCheckpoint(ctx, &parleyv1.GetCheckpointRequest{Negotiation: a.Name})
			return err
		},
		"parley.v1.AuditService/GetInclusionProof": func(ctx context.Context) error {
			_, err := auditAPI.GetInclusionProof(ctx, &parleyv1.GetInclusionProofRequest{Negotiation: a.Name, Sequence: 1, TreeSize: 2})
			return err
		},
		"parley.v1.AuditService/GetConsistencyProof": func(ctx context.Context) error {
			_, err := auditAPI.GetConsistencyProof(ctx, &parleyv1.GetConsistencyProofRequest{Negotiation: a.Name, FromSize: 1, ToSize: 2})
			return err
		},
		"parley.v1.AuditService/GetVerifierKey": func(ctx context.Context) error {
			_, err := auditAPI.GetVerifierKey(ctx, &parleyv1.GetVerifierKeyRequest{})
			return err
		},
		"parley.v1.AdminService/IssueToken": func(ctx context.Context) error {
			_, err := adminAPI.IssueToken(ctx, &parleyv1.IssueTokenRequest{Negotiation: a.Name, Participant: "spare"})
			return err
		},
		"parley.v1.AdminService/RotateToken": func(ctx context.Context) error {
			_, err := adminAPI.RotateToken(ctx, &parleyv1.RotateTokenRequest{Negotiation: a.Name, Participant: "spare"})
			return err
		},
		"parley.v1.AdminService/RevokeToken": func(ctx context.Context) error {
			_, err := adminAPI.RevokeToken(ctx, &parleyv1.RevokeTokenRequest{Negotiation: a.Name, Participant: "spare"})
			return err
		},
		"parley.v1.NegotiationService/AddParticipant": func(ctx context.Context) error {
			_, err := api.AddParticipant(ctx, &parleyv1.AddParticipantRequest{Negotiation: a.Name,
				Participant: &parleyv1.Participant{Id: "newcomer", Role: parleyv1.Role_ROLE_OBSERVER}})
			return err
		},
		"parley.v1.NegotiationService/RemoveParticipant": func(ctx context.Context) error {
			_, err := api.RemoveParticipant(ctx, &parleyv1.RemoveParticipantRequest{Negotiation: a.Name, Participant: "newcomer"})
			return err
		},
		"parley.v1.NegotiationService/RenameNegotiation": func(ctx context.Context) error {
			_, err := api.RenameNegotiation(ctx, &parleyv1.RenameNegotiationRequest{Negotiation: a.Name, Title: secretTitle})
			return err
		},
		"parley.v1.NegotiationService/SetDecisionRule": func(ctx context.Context) error {
			_, err := api.SetDecisionRule(ctx, &parleyv1.SetDecisionRuleRequest{Negotiation: a.Name,
				DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}})
			return err
		},
		"parley.v1.NegotiationService/SetVotingDeadline": func(ctx context.Context) error {
			_, err := api.SetVotingDeadline(ctx, &parleyv1.SetVotingDeadlineRequest{Amendment: amendment,
				VotingDeadline: timestamppb.New(time.Now().Add(time.Hour))})
			return err
		},
		"parley.v1.NegotiationService/SuspendNegotiation": func(ctx context.Context) error {
			_, err := api.SuspendNegotiation(ctx, &parleyv1.SuspendNegotiationRequest{Negotiation: a.Name})
			return err
		},
		"parley.v1.NegotiationService/ResumeNegotiation": func(ctx context.Context) error {
			_, err := api.ResumeNegotiation(ctx, &parleyv1.ResumeNegotiationRequest{Negotiation: a.Name})
			return err
		},
		"parley.v1.NegotiationService/AbandonNegotiation": func(ctx context.Context) error {
			// Without a reason: the administrator is refused for that, after
			// the check of who may call, so A goes on.
			_, err := api.AbandonNegotiation(ctx, &parleyv1.AbandonNegotiationRequest{Negotiation: a.Name})
			return err
		},
		"parley.v1.AdminService/AddMember": func(ctx context.Context) error {
			_, err := adminAPI.AddMember(ctx, &parleyv1.AddMemberRequest{Negotiation: a.Name, Participant: "ukraine", Member: "extra"})
			return err
		},
		"parley.v1.AdminService/RemoveMember": func(ctx context.Context) error {
			_, err := adminAPI.RemoveMember(ctx, &parleyv1.RemoveMemberRequest{Negotiation: a.Name, Participant: "ukraine", Member: "extra"})
			return err
		},
		"parley.v1.AdminService/ClusterStatus": func(ctx context.Context) error {
			_, err := adminAPI.ClusterStatus(ctx, &parleyv1.ClusterStatusRequest{})
			return err
		},
		"parley.v1.AdminService/AddNode": func(ctx context.Context) error {
			_, err := adminAPI.AddNode(ctx, &parleyv1.AddNodeRequest{NodeId: "n4", Address: "127.0.0.1:1"})
			return err
		},
		"parley.v1.AdminService/RemoveNode": func(ctx context.Context) error {
			_, err := adminAPI.RemoveNode(ctx, &parleyv1.RemoveNodeRequest{NodeId: "n4"})
			return err
		},
		"parley.v1.AdminService/Backup": func(ctx context.Context) error {
			stream, err := adminAPI.Backup(ctx, &parleyv1.BackupRequest{})
			if err != nil {
				return err
			}
			for {
				if _, err := stream.Recv(); err != nil {
					if errors.Is(err, io.EOF) {
						return nil
					}
					return err
				}
			}
		},
	}

	// Every RPC the API defines has a row and a call: a new RPC cannot slip
	// in without saying who may call it.
	var methods []string
	protoregistry.GlobalFiles.RangeFilesByPackage("parley.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			for j := range svc.Methods().Len() {
				methods = append(methods, string(svc.FullName())+"/"+string(svc.Methods().Get(j).Name()))
			}
		}
		return true
	})
	rows := map[string]bool{}
	for _, row := range authzMatrix {
		rows[row.method] = true
		if !slices.Contains(methods, row.method) {
			t.Errorf("authzMatrix has a row for %s, which the API does not define", row.method)
		}
	}
	for _, m := range methods {
		if !rows[m] {
			t.Errorf("%s has no row in authzMatrix: say who may call it", m)
		}
		if _, ok := calls[m]; !ok {
			t.Errorf("%s has no call in TestAuthorization", m)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// state is what a refused call must leave alone: A's log and the list
	// of negotiations.
	state := func() string {
		t.Helper()
		got, err := api.GetNegotiation(admin, &parleyv1.GetNegotiationRequest{Name: a.Name})
		if err != nil {
			t.Fatal(err)
		}
		list, err := api.ListNegotiations(admin, &parleyv1.ListNegotiationsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("A at event %d, %d negotiations", got.GetNegotiation().GetLastSequence(), len(list.GetNegotiations()))
	}

	var table strings.Builder
	outcomes := map[string]string{}
	for _, row := range authzMatrix {
		method, allowed := row.method, row.allowed
		fmt.Fprintf(&table, "%-50s", method)
		for _, p := range principals {
			before := state()
			callCtx, cancel := context.WithTimeout(p.ctx(ctx), 30*time.Second)
			err := calls[method](callCtx)
			cancel()
			code := status.Code(err)
			outcomes[method+" as "+p.name] = code.String() + " " + limitsReason(err)
			fmt.Fprintf(&table, " %s=%s", p.name, code)
			switch {
			case p.may(allowed):
				if code == codes.PermissionDenied || code == codes.Unauthenticated || code == codes.Unimplemented || code == codes.Internal {
					t.Errorf("%s as %s: got %v, want it allowed", method, p.name, err)
				}
			case p.authenticated():
				if code != codes.PermissionDenied {
					t.Errorf("%s as %s: got %v, want PERMISSION_DENIED", method, p.name, err)
				}
			default:
				if code != codes.Unauthenticated {
					t.Errorf("%s as %s: got %v, want UNAUTHENTICATED", method, p.name, err)
				}
			}
			if code == codes.PermissionDenied || code == codes.Unauthenticated {
				if after := state(); after != before {
					t.Errorf("%s as %s was refused but changed the state: %s, then %s", method, p.name, before, after)
				}
			}
		}
		table.WriteString("\n")
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("matrix:\n%s", table.String())
	}

	t.Run("NoLeakAcrossNegotiations", func(t *testing.T) {
		authzNoLeak(t, api, servertest.As(ctx, b.Tokens["ukraine"]), a, b, point.GetName(), amendment,
			[]string{secretTitle, secretText, secretDraft})
	})
	return outcomes
}

// authzNoLeak checks, as a delegation of negotiation b, that nothing of
// negotiation a comes back: reads of a's resources are refused the same way
// as reads of a negotiation that does not exist, names that pair b's id with
// a's resources find nothing, and b's own lists and log hold nothing of a.
func authzNoLeak(t *testing.T, api parleyv1.NegotiationServiceClient, outsider context.Context, a, b servertest.Negotiation, aPoint, aAmendment string, secrets []string) {
	aID := strings.TrimPrefix(a.Name, "negotiations/")
	bID := strings.TrimPrefix(b.Name, "negotiations/")
	ghost := "negotiations/" + uuid.NewString()
	swap := func(name string) string { return strings.Replace(name, aID, bID, 1) }
	pointID := aPoint[strings.LastIndex(aPoint, "/")+1:]

	// leaks reports whether a reply or an error holds anything of a.
	leaks := func(reply proto.Message, err error) string {
		text := status.Convert(err).Message()
		if reply != nil {
			text += protojson.Format(reply)
		}
		for _, s := range append([]string{aID}, secrets...) {
			if strings.Contains(text, s) {
				return s
			}
		}
		return ""
	}
	check := func(what string, reply proto.Message, err error, want codes.Code) {
		t.Helper()
		if status.Code(err) != want {
			t.Errorf("%s: got %v, want %v", what, err, want)
		}
		if s := leaks(reply, err); s != "" {
			t.Errorf("%s leaks %q", what, s)
		}
	}
	var err error

	// Reads of a's resources: refused, and refused the same way as for a
	// negotiation that does not exist, so the refusal says nothing either.
	reads := []struct {
		name string
		call func(negotiation, point, amendment string) (proto.Message, error)
	}{
		{"GetNegotiation", func(n, _, _ string) (proto.Message, error) {
			return api.GetNegotiation(outsider, &parleyv1.GetNegotiationRequest{Name: n})
		}},
		{"GetDocument", func(n, _, _ string) (proto.Message, error) {
			return api.GetDocument(outsider, &parleyv1.GetDocumentRequest{Negotiation: n})
		}},
		{"GetPoint", func(_, p, _ string) (proto.Message, error) {
			return api.GetPoint(outsider, &parleyv1.GetPointRequest{Name: p})
		}},
		{"GetAmendment", func(_, _, am string) (proto.Message, error) {
			return api.GetAmendment(outsider, &parleyv1.GetAmendmentRequest{Name: am})
		}},
		{"ListAmendments", func(n, _, _ string) (proto.Message, error) {
			return api.ListAmendments(outsider, &parleyv1.ListAmendmentsRequest{Negotiation: n})
		}},
		{"ListEvents", func(n, _, _ string) (proto.Message, error) {
			return api.ListEvents(outsider, &parleyv1.ListEventsRequest{Negotiation: n})
		}},
		{"ListComments", func(n, _, _ string) (proto.Message, error) {
			return api.ListComments(outsider, &parleyv1.ListCommentsRequest{Negotiation: n})
		}},
		{"WatchEvents", func(n, _, _ string) (proto.Message, error) {
			stream, err := api.WatchEvents(outsider, &parleyv1.WatchEventsRequest{Negotiation: n})
			if err != nil {
				return nil, err
			}
			return stream.Recv()
		}},
	}
	for _, r := range reads {
		reply, err := r.call(a.Name, aPoint, aAmendment)
		check(r.name+" of A", reply, err, codes.PermissionDenied)
		ghostReply, ghostErr := r.call(ghost, ghost+"/points/"+uuid.NewString(), ghost+"/amendments/"+uuid.NewString())
		if status.Code(ghostErr) != status.Code(err) || limitsReason(ghostErr) != limitsReason(err) {
			t.Errorf("%s: A gives %v, a negotiation that does not exist %v: the difference says A exists", r.name, err, ghostErr)
		}
		_ = ghostReply
	}

	// b's name with a's resources: not found in b.
	reply, err := api.GetPoint(outsider, &parleyv1.GetPointRequest{Name: swap(aPoint)})
	check("GetPoint of A's point under B's name", reply, err, codes.NotFound)
	reply2, err := api.GetAmendment(outsider, &parleyv1.GetAmendmentRequest{Name: swap(aAmendment)})
	check("GetAmendment of A's amendment under B's name", reply2, err, codes.NotFound)
	reply3, err := api.ListAmendments(outsider, &parleyv1.ListAmendmentsRequest{Negotiation: b.Name, Point: aPoint})
	check("ListAmendments of B filtered by A's point", reply3, err, codes.InvalidArgument)
	reply4, err := api.ProposeAmendment(outsider, &parleyv1.ProposeAmendmentRequest{Negotiation: b.Name,
		Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: b.Name + "/points/" + pointID, BaseRevision: 1, Text: "Hijack."})
	check("ProposeAmendment on A's point under B's name", reply4, err, codes.NotFound)
	reply6, err := api.ProposeAmendment(outsider, &parleyv1.ProposeAmendmentRequest{Negotiation: b.Name,
		Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Text: "A counter to A's draft.", CounterTo: aAmendment})
	check("ProposeAmendment of B countering A's amendment", reply6, err, codes.InvalidArgument)
	reply7, err := api.PostComment(outsider, &parleyv1.PostCommentRequest{Negotiation: b.Name, Amendment: swap(aAmendment), Text: "Peek."})
	check("PostComment on A's amendment under B's name", reply7, err, codes.NotFound)
	reply5, err := api.SignOffPoint(outsider, &parleyv1.SignOffPointRequest{Point: b.Name + "/points/" + pointID,
		Revision: 1, TextSha256: strings.Repeat("0", 64)})
	check("SignOffPoint of A's point under B's name", reply5, err, codes.NotFound)

	// b's own lists and log: b only.
	list, err := api.ListNegotiations(outsider, &parleyv1.ListNegotiationsRequest{PageSize: 500})
	check("ListNegotiations", list, err, codes.OK)
	if len(list.GetNegotiations()) != 1 || list.GetNegotiations()[0].GetName() != b.Name {
		t.Errorf("ListNegotiations as B's delegation: %d negotiations, want B alone", len(list.GetNegotiations()))
	}
	events, err := api.ListEvents(outsider, &parleyv1.ListEventsRequest{Negotiation: b.Name, PageSize: 1000})
	check("ListEvents of B", events, err, codes.OK)
	watch, err := api.WatchEvents(outsider, &parleyv1.WatchEventsRequest{Negotiation: b.Name})
	if err == nil {
		var first *parleyv1.WatchEventsResponse
		first, err = watch.Recv()
		check("WatchEvents of B", first, err, codes.OK)
	}
	document, err := api.GetDocument(outsider, &parleyv1.GetDocumentRequest{Negotiation: b.Name})
	check("GetDocument of B", document, err, codes.OK)
	caller, err := api.GetCaller(outsider, &parleyv1.GetCallerRequest{})
	check("GetCaller", caller, err, codes.OK)
	if caller.GetNegotiation() != b.Name {
		t.Errorf("GetCaller as B's delegation names %s", caller.GetNegotiation())
	}
}
