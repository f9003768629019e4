package main_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// preEncoded is a request whose bytes the test wrote itself.
type preEncoded []byte

// rawCodec sends pre-encoded requests as they are. protobuf-go refuses to
// marshal a string field holding invalid UTF-8, so a client that wants to
// send one, as a client in another language could, must bypass it.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(preEncoded); ok {
		return b, nil
	}
	return proto.Marshal(v.(proto.Message))
}

func (rawCodec) Unmarshal(data []byte, v any) error { return proto.Unmarshal(data, v.(proto.Message)) }

// Name keeps the content-type application/grpc+proto, so the server decodes
// the request with its ordinary codec.
func (rawCodec) Name() string { return "proto" }

// withInvalidUTF8 encodes req, whose text holds the placeholder, and swaps the
// placeholder for bytes that are not UTF-8 (same length, so every length
// prefix stays right).
func withInvalidUTF8(t *testing.T, req proto.Message, placeholder string) preEncoded {
	t.Helper()
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	invalid := bytes.Repeat([]byte{0xff}, len(placeholder))
	if bytes.Count(b, []byte(placeholder)) != 1 {
		t.Fatal("placeholder not found exactly once in the encoded request")
	}
	return bytes.Replace(b, []byte(placeholder), invalid, 1)
}

// TestBadInput sends requests that must be refused, each with its exact code
// and ErrorInfo reason, and checks that none of them added an event to any
// negotiation.
func TestBadInput(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, "--rate-limit", "0") // the table calls faster than a person would
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn := srv.Conn()
	svc := parleyv1.NewNegotiationServiceClient(conn)
	adminSvc := parleyv1.NewAdminServiceClient(conn)
	admin := servertest.As(ctx, srv.AdminToken)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("setup: %s: %v", what, err)
		}
	}
	const (
		approve = parleyv1.VoteChoice_VOTE_CHOICE_APPROVE
		reject  = parleyv1.VoteChoice_VOTE_CHOICE_REJECT
		replace = parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE
		insert  = parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT
		del     = parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE
		passed  = parleyv1.AmendmentState_AMENDMENT_STATE_PASSED
	)

	// The plan, with an observer, one observer whose token was revoked, and
	// one whose token was rotated.
	planReq := demo.CreateRequest()
	planReq.RequestId = ""
	planReq.Participants = append(planReq.Participants,
		&parleyv1.Participant{Id: "press", Role: parleyv1.Role_ROLE_OBSERVER},
		&parleyv1.Participant{Id: "former-observer", Role: parleyv1.Role_ROLE_OBSERVER})
	plan := srv.Create(ctx, planReq)
	as := func(id string) context.Context { return servertest.As(ctx, plan.Tokens[id]) }
	_, err := adminSvc.RevokeToken(admin, &parleyv1.RevokeTokenRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "former-observer"})
	must("revoke", err)
	rotated, err := adminSvc.RotateToken(admin, &parleyv1.RotateTokenRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "press"})
	must("rotate", err)
	oldPressToken := plan.Tokens["press"]
	plan.Tokens["press"] = rotated.GetToken()
	doc, err := svc.GetDocument(as("ukraine"), &parleyv1.GetDocumentRequest{Negotiation: plan.Name})
	must("document", err)
	pt := doc.GetPoints() // pt[k-1] is point k

	propose := func(who string, req *parleyv1.ProposeAmendmentRequest) *parleyv1.Amendment {
		t.Helper()
		req.Negotiation = plan.Name
		r, err := svc.ProposeAmendment(as(who), req)
		must(who+" proposes", err)
		return r.GetAmendment()
	}
	passAll := func(a *parleyv1.Amendment) {
		t.Helper()
		for _, d := range demo.Delegations {
			_, err := svc.CastVote(as(d), &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: a.GetName(), Choice: approve})
			must(d+" votes", err)
		}
	}
	// An OPEN amendment, a PASSED one and an APPLIED one (point 6 is then at
	// revision 2).
	openReqID := rid()
	open := propose("ukraine", &parleyv1.ProposeAmendmentRequest{RequestId: openReqID, Kind: replace, Point: pt[0].GetName(),
		BaseRevision: 1, Text: "The sovereignty of Ukraine will be confirmed and respected."})
	pass := propose("russia", &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Kind: replace, Point: pt[1].GetName(),
		BaseRevision: 1, Text: "A comprehensive non-aggression agreement will be concluded."})
	passAll(pass)
	applied := propose("ukraine", &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Kind: replace, Point: pt[5].GetName(),
		BaseRevision: 1, Text: "The Armed Forces of Ukraine will not be limited."})
	passAll(applied)
	_, err = svc.ApplyAmendment(as(demo.Mediator), &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: applied.GetName()})
	must("apply", err)
	eventsToken, err := svc.ListEvents(as("ukraine"), &parleyv1.ListEventsRequest{Negotiation: plan.Name, PageSize: 1})
	must("list events", err)
	amendmentsToken, err := svc.ListAmendments(as("ukraine"), &parleyv1.ListAmendmentsRequest{Negotiation: plan.Name, PageSize: 1})
	must("list amendments", err)

	// A second negotiation of two points: both were voted to be deleted, one
	// deletion was applied, so the other would delete the last point.
	small := srv.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: "Two points",
		Participants: []*parleyv1.Participant{{Id: "north", Role: parleyv1.Role_ROLE_DELEGATION},
			{Id: "south", Role: parleyv1.Role_ROLE_DELEGATION}, {Id: "chair", Role: parleyv1.Role_ROLE_MEDIATOR}},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_MAJORITY},
		Points:       []string{"First.", "Second."}})
	smallAs := func(id string) context.Context { return servertest.As(ctx, small.Tokens[id]) }
	smallDoc, err := svc.GetDocument(smallAs("north"), &parleyv1.GetDocumentRequest{Negotiation: small.Name})
	must("small document", err)
	var deletions []*parleyv1.Amendment
	for i, who := range []string{"north", "south"} {
		r, err := svc.ProposeAmendment(smallAs(who), &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: small.Name,
			Kind: del, Point: smallDoc.GetPoints()[i].GetName(), BaseRevision: 1})
		must("small: propose delete", err)
		for _, voter := range []string{"north", "south"} {
			_, err := svc.CastVote(smallAs(voter), &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: r.GetAmendment().GetName(), Choice: approve})
			must("small: vote", err)
		}
		deletions = append(deletions, r.GetAmendment())
	}
	_, err = svc.ApplyAmendment(smallAs("chair"), &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: deletions[0].GetName()})
	must("small: apply delete", err)
	deletedPoint, lastPoint := smallDoc.GetPoints()[0], smallDoc.GetPoints()[1]

	// One delegation alone (and a mediator): in "agreed" every point is
	// signed off, in "unsigned" none is.
	solo := func(title string) servertest.Negotiation {
		return srv.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: title,
			Participants: []*parleyv1.Participant{{Id: "solo", Role: parleyv1.Role_ROLE_DELEGATION}, {Id: "chair", Role: parleyv1.Role_ROLE_MEDIATOR}},
			DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_UNANIMITY},
			NumberedText: "1. One.\n2. Two.\n"})
	}
	agreed, unsigned := solo("Agreed"), solo("Unsigned")
	agreedDoc, err := svc.GetDocument(servertest.As(ctx, agreed.Tokens["solo"]), &parleyv1.GetDocumentRequest{Negotiation: agreed.Name})
	must("agreed document", err)
	for _, p := range agreedDoc.GetPoints() {
		_, err := svc.SignOffPoint(servertest.As(ctx, agreed.Tokens["solo"]), &parleyv1.SignOffPointRequest{RequestId: rid(),
			Point: p.GetName(), Revision: p.GetRevision(), TextSha256: p.GetTextSha256()})
		must("agreed: sign off", err)
	}

	// A comment of Russia's that stands, and one it retracted.
	comment := func(who, text string) *parleyv1.Comment {
		t.Helper()
		r, err := svc.PostComment(as(who), &parleyv1.PostCommentRequest{RequestId: rid(), Negotiation: plan.Name, Point: pt[0].GetName(), Text: text})
		must(who+" comments", err)
		return r.GetComment()
	}
	standing, retracted := comment("russia", "Which borders?"), comment("russia", "Withdrawn remark.")
	_, err = svc.RetractComment(as("russia"), &parleyv1.RetractCommentRequest{RequestId: rid(), Name: retracted.GetName()})
	must("retract", err)
	postAs := func(who string, mod func(r *parleyv1.PostCommentRequest)) func(context.Context) error {
		return func(context.Context) error {
			r := &parleyv1.PostCommentRequest{RequestId: rid(), Negotiation: plan.Name, Point: pt[2].GetName(), Text: "A remark."}
			mod(r)
			_, err := svc.PostComment(as(who), r)
			return err
		}
	}

	// Members of the plan's delegations: ukraine has a head and an aide;
	// russia had a legal adviser, removed with its token still in hand.
	memberToken := map[string]string{}
	for _, m := range []struct{ participant, member string }{{"ukraine", "head"}, {"ukraine", "aide"}, {"russia", "legal"}} {
		_, err := adminSvc.AddMember(admin, &parleyv1.AddMemberRequest{RequestId: rid(), Negotiation: plan.Name,
			Participant: m.participant, Member: m.member, Head: m.member == "head"})
		must("add member", err)
		r, err := adminSvc.IssueToken(admin, &parleyv1.IssueTokenRequest{RequestId: rid(), Negotiation: plan.Name,
			Participant: m.participant, Member: m.member})
		must("member token", err)
		memberToken[m.participant+"/"+m.member] = r.GetToken()
	}
	_, err = adminSvc.RemoveMember(admin, &parleyv1.RemoveMemberRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "russia", Member: "legal"})
	must("remove member", err)
	asMember := func(key string) context.Context { return servertest.As(ctx, memberToken[key]) }

	unknownNegotiation := "negotiations/" + uuid.NewString()
	unknownPoint := plan.Name + "/points/" + uuid.NewString()
	unknownAmendment := plan.Name + "/amendments/" + uuid.NewString()
	people := func(ps ...*parleyv1.Participant) []*parleyv1.Participant { return ps }
	delegation := func(id string) *parleyv1.Participant {
		return &parleyv1.Participant{Id: id, Role: parleyv1.Role_ROLE_DELEGATION}
	}
	mediator := &parleyv1.Participant{Id: "m", Role: parleyv1.Role_ROLE_MEDIATOR}
	consensus := &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}
	create := func(mod func(r *parleyv1.CreateNegotiationRequest)) func(context.Context) error {
		return func(context.Context) error {
			r := &parleyv1.CreateNegotiationRequest{RequestId: rid(), Title: "T", Participants: people(delegation("a"), mediator),
				DecisionRule: consensus, Points: []string{"One."}}
			mod(r)
			_, err := svc.CreateNegotiation(admin, r)
			return err
		}
	}
	proposeAs := func(who string, mod func(r *parleyv1.ProposeAmendmentRequest)) func(context.Context) error {
		return func(context.Context) error {
			r := &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: plan.Name, Kind: replace,
				Point: pt[2].GetName(), BaseRevision: 1, Text: "A new point 3."}
			mod(r)
			_, err := svc.ProposeAmendment(as(who), r)
			return err
		}
	}
	voteAs := func(c context.Context, amendment string, choice parleyv1.VoteChoice, reason string) error {
		_, err := svc.CastVote(c, &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: amendment, Choice: choice, Reason: reason})
		return err
	}
	signOff := func(c context.Context, point string, revision int64, hash string) error {
		_, err := svc.SignOffPoint(c, &parleyv1.SignOffPointRequest{RequestId: rid(), Point: point, Revision: revision, TextSha256: hash})
		return err
	}
	accept := func(c context.Context, negotiation, hash string) error {
		_, err := svc.AcceptDocument(c, &parleyv1.AcceptDocumentRequest{RequestId: rid(), Negotiation: negotiation, DocumentSha256: hash})
		return err
	}
	apply := func(c context.Context, amendment string) error {
		_, err := svc.ApplyAmendment(c, &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: amendment})
		return err
	}
	watchFirst := func(c context.Context, req *parleyv1.WatchEventsRequest) error {
		c, cancel := context.WithTimeout(c, 10*time.Second)
		defer cancel()
		stream, err := svc.WatchEvents(c, req)
		if err != nil {
			return err
		}
		_, err = stream.Recv()
		return err
	}
	getNegotiation := func(c context.Context, name string) error {
		_, err := svc.GetNegotiation(c, &parleyv1.GetNegotiationRequest{Name: name})
		return err
	}

	cases := []struct {
		name   string
		code   codes.Code
		reason string // empty: the gRPC layer refuses it, without ErrorInfo
		call   func(ctx context.Context) error
	}{
		// Authentication.
		{"no token", codes.Unauthenticated, "TOKEN_MISSING", func(ctx context.Context) error {
			return getNegotiation(ctx, plan.Name)
		}},
		{"unknown token", codes.Unauthenticated, "TOKEN_INVALID", func(ctx context.Context) error {
			return getNegotiation(servertest.As(ctx, "prl_not-a-token"), plan.Name)
		}},
		{"not a bearer token", codes.Unauthenticated, "TOKEN_INVALID", func(ctx context.Context) error {
			return voteAs(metadataCtx(ctx, "Basic "+plan.Tokens["ukraine"]), open.GetName(), approve, "")
		}},
		{"revoked token", codes.Unauthenticated, "TOKEN_INVALID", func(ctx context.Context) error {
			return getNegotiation(as("former-observer"), plan.Name)
		}},
		{"rotated-out token", codes.Unauthenticated, "TOKEN_INVALID", func(ctx context.Context) error {
			return getNegotiation(servertest.As(ctx, oldPressToken), plan.Name)
		}},

		// Names.
		{"negotiation name without a UUID", codes.InvalidArgument, "NAME_INVALID", func(ctx context.Context) error {
			return getNegotiation(admin, "negotiations/peace-plan")
		}},
		{"negotiation name with an uppercase UUID", codes.InvalidArgument, "NAME_INVALID", func(ctx context.Context) error {
			return getNegotiation(admin, strings.ToUpper(plan.Name[:13])+plan.Name[13:])
		}},
		{"empty negotiation name", codes.InvalidArgument, "NAME_INVALID", func(ctx context.Context) error {
			return getNegotiation(admin, "")
		}},
		{"point name where an amendment is due", codes.InvalidArgument, "NAME_INVALID", func(ctx context.Context) error {
			return voteAs(as("ukraine"), pt[0].GetName(), approve, "")
		}},
		{"point of another negotiation", codes.InvalidArgument, "NAME_INVALID", proposeAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Point = lastPoint.GetName()
		})},

		// Unknown ids.
		{"unknown negotiation", codes.NotFound, "NEGOTIATION_NOT_FOUND", func(ctx context.Context) error {
			return getNegotiation(admin, unknownNegotiation)
		}},
		{"unknown point", codes.NotFound, "POINT_NOT_FOUND", func(ctx context.Context) error {
			_, err := svc.GetPoint(as("ukraine"), &parleyv1.GetPointRequest{Name: unknownPoint})
			return err
		}},
		{"vote on an unknown amendment", codes.NotFound, "AMENDMENT_NOT_FOUND", func(ctx context.Context) error {
			return voteAs(as("ukraine"), unknownAmendment, approve, "")
		}},
		{"sign off an unknown point", codes.NotFound, "POINT_NOT_FOUND", func(ctx context.Context) error {
			return signOff(as("ukraine"), unknownPoint, 1, sha("x"))
		}},
		{"amend an unknown point", codes.NotFound, "POINT_NOT_FOUND", proposeAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Point = unknownPoint
		})},
		{"watch an unknown negotiation", codes.NotFound, "NEGOTIATION_NOT_FOUND", func(ctx context.Context) error {
			return watchFirst(admin, &parleyv1.WatchEventsRequest{Negotiation: unknownNegotiation})
		}},
		{"token for an unknown participant", codes.NotFound, "PARTICIPANT_NOT_FOUND", func(ctx context.Context) error {
			_, err := adminSvc.IssueToken(admin, &parleyv1.IssueTokenRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "belarus"})
			return err
		}},

		// Membership and roles.
		{"delegation of another negotiation votes", codes.PermissionDenied, "NOT_A_MEMBER", func(ctx context.Context) error {
			return voteAs(smallAs("north"), open.GetName(), approve, "")
		}},
		{"delegation of another negotiation reads the document", codes.PermissionDenied, "NOT_A_MEMBER", func(ctx context.Context) error {
			_, err := svc.GetDocument(smallAs("north"), &parleyv1.GetDocumentRequest{Negotiation: plan.Name})
			return err
		}},
		{"delegation of another negotiation watches", codes.PermissionDenied, "NOT_A_MEMBER", func(ctx context.Context) error {
			return watchFirst(smallAs("north"), &parleyv1.WatchEventsRequest{Negotiation: plan.Name})
		}},
		{"observer votes", codes.PermissionDenied, "ROLE_NOT_ALLOWED", func(ctx context.Context) error {
			return voteAs(as("press"), open.GetName(), approve, "")
		}},
		{"observer signs off", codes.PermissionDenied, "ROLE_NOT_ALLOWED", func(ctx context.Context) error {
			return signOff(as("press"), pt[0].GetName(), 1, pt[0].GetTextSha256())
		}},
		{"delegation applies", codes.PermissionDenied, "ROLE_NOT_ALLOWED", func(ctx context.Context) error {
			return apply(as("russia"), pass.GetName())
		}},
		{"delegation closes voting", codes.PermissionDenied, "ROLE_NOT_ALLOWED", func(ctx context.Context) error {
			_, err := svc.CloseVoting(as("russia"), &parleyv1.CloseVotingRequest{RequestId: rid(), Amendment: open.GetName()})
			return err
		}},
		{"observer proposes", codes.PermissionDenied, "ROLE_NOT_ALLOWED", proposeAs("press", func(*parleyv1.ProposeAmendmentRequest) {})},

		// Counter-proposals.
		{"counter to an amendment of another negotiation", codes.InvalidArgument, "COUNTER_OTHER_NEGOTIATION", proposeAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.CounterTo = deletions[1].GetName()
		})},
		{"counter to an unknown amendment", codes.NotFound, "COUNTER_TARGET_NOT_FOUND", proposeAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.CounterTo = unknownAmendment
		})},
		{"counter to an amendment of another point", codes.InvalidArgument, "COUNTER_POINT_MISMATCH", proposeAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.CounterTo = open.GetName()
		})},
		{"counter to an applied amendment", codes.FailedPrecondition, "COUNTER_TARGET_NOT_PENDING", proposeAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.CounterTo = applied.GetName()
		})},
		{"counter that is no amendment name", codes.InvalidArgument, "NAME_INVALID", proposeAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.CounterTo = pt[2].GetName()
		})},

		// Comments.
		{"empty comment", codes.InvalidArgument, "COMMENT_EMPTY", postAs("ukraine", func(r *parleyv1.PostCommentRequest) { r.Text = " \n " })},
		{"comment over 4 KiB", codes.InvalidArgument, "COMMENT_TOO_LONG", postAs("ukraine", func(r *parleyv1.PostCommentRequest) {
			r.Text = strings.Repeat("c", 4<<10+1)
		})},
		{"comment about nothing", codes.InvalidArgument, "SUBJECT_REQUIRED", postAs("ukraine", func(r *parleyv1.PostCommentRequest) { r.Point = "" })},
		{"comment on a point and a comment", codes.InvalidArgument, "SUBJECT_CONFLICT", postAs("ukraine", func(r *parleyv1.PostCommentRequest) {
			r.Parent = standing.GetName()
		})},
		{"reply to a retracted comment", codes.FailedPrecondition, "COMMENT_RETRACTED", postAs("ukraine", func(r *parleyv1.PostCommentRequest) {
			r.Point, r.Parent = "", retracted.GetName()
		})},
		{"reply to an unknown comment", codes.NotFound, "COMMENT_NOT_FOUND", postAs("ukraine", func(r *parleyv1.PostCommentRequest) {
			r.Point, r.Parent = "", plan.Name+"/comments/"+uuid.NewString()
		})},
		{"comment on an amendment of another negotiation", codes.InvalidArgument, "NAME_INVALID", postAs("ukraine", func(r *parleyv1.PostCommentRequest) {
			r.Point, r.Amendment = "", deletions[1].GetName()
		})},
		{"comment on a deleted point", codes.FailedPrecondition, "POINT_DELETED", func(ctx context.Context) error {
			_, err := svc.PostComment(smallAs("north"), &parleyv1.PostCommentRequest{RequestId: rid(), Negotiation: small.Name, Point: deletedPoint.GetName(), Text: "Gone?"})
			return err
		}},
		{"observer comments where observers only read", codes.PermissionDenied, "ROLE_NOT_ALLOWED", postAs("press", func(*parleyv1.PostCommentRequest) {})},
		{"retract another's comment", codes.PermissionDenied, "NOT_AUTHOR", func(ctx context.Context) error {
			_, err := svc.RetractComment(as("ukraine"), &parleyv1.RetractCommentRequest{RequestId: rid(), Name: standing.GetName()})
			return err
		}},
		{"retract a comment twice", codes.FailedPrecondition, "COMMENT_RETRACTED", func(ctx context.Context) error {
			_, err := svc.RetractComment(as("russia"), &parleyv1.RetractCommentRequest{RequestId: rid(), Name: retracted.GetName()})
			return err
		}},
		{"list the comments of a point and an amendment", codes.InvalidArgument, "SUBJECT_CONFLICT", func(ctx context.Context) error {
			_, err := svc.ListComments(as("ukraine"), &parleyv1.ListCommentsRequest{Negotiation: plan.Name, Point: pt[0].GetName(), Amendment: open.GetName()})
			return err
		}},
		{"list the comments of an unknown amendment", codes.NotFound, "AMENDMENT_NOT_FOUND", func(ctx context.Context) error {
			_, err := svc.ListComments(as("ukraine"), &parleyv1.ListCommentsRequest{Negotiation: plan.Name, Amendment: unknownAmendment})
			return err
		}},
		{"admin votes", codes.PermissionDenied, "ROLE_NOT_ALLOWED", func(ctx context.Context) error {
			return voteAs(admin, open.GetName(), approve, "")
		}},
		{"delegation creates a negotiation", codes.PermissionDenied, "ADMIN_ONLY", func(ctx context.Context) error {
			_, err := svc.CreateNegotiation(as("ukraine"), &parleyv1.CreateNegotiationRequest{RequestId: rid(), Title: "Mine",
				Participants: people(delegation("ukraine")), DecisionRule: consensus, Points: []string{"One."}})
			return err
		}},
		{"delegation issues itself a token", codes.PermissionDenied, "ADMIN_ONLY", func(ctx context.Context) error {
			_, err := adminSvc.RotateToken(as("ukraine"), &parleyv1.RotateTokenRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "ukraine"})
			return err
		}},
		{"withdraw someone else's amendment", codes.PermissionDenied, "NOT_PROPOSER", func(ctx context.Context) error {
			_, err := svc.WithdrawAmendment(as("europe"), &parleyv1.WithdrawAmendmentRequest{RequestId: rid(), Name: open.GetName()})
			return err
		}},

		// Optimistic concurrency.
		{"amend a stale revision", codes.Aborted, "STALE_REVISION", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Point, r.BaseRevision = pt[5].GetName(), 1
		})},
		{"sign off a stale revision", codes.Aborted, "STALE_REVISION", func(ctx context.Context) error {
			return signOff(as("europe"), pt[5].GetName(), 1, pt[5].GetTextSha256())
		}},
		{"amend a revision that does not exist", codes.InvalidArgument, "REVISION_UNKNOWN", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Point, r.BaseRevision = pt[0].GetName(), 5
		})},
		{"sign off a revision that does not exist", codes.InvalidArgument, "REVISION_UNKNOWN", func(ctx context.Context) error {
			return signOff(as("europe"), pt[0].GetName(), 5, pt[0].GetTextSha256())
		}},
		{"sign off with the wrong text hash", codes.Aborted, "TEXT_HASH_MISMATCH", func(ctx context.Context) error {
			return signOff(as("europe"), pt[0].GetName(), 1, sha(pt[1].GetText()))
		}},
		{"sign off with a malformed hash", codes.InvalidArgument, "HASH_INVALID", func(ctx context.Context) error {
			return signOff(as("europe"), pt[0].GetName(), 1, strings.ToUpper(pt[0].GetTextSha256()))
		}},
		{"accept with the wrong document hash", codes.Aborted, "DOCUMENT_HASH_MISMATCH", func(ctx context.Context) error {
			return accept(servertest.As(ctx, agreed.Tokens["solo"]), agreed.Name, sha("1. One.\n"))
		}},
		{"accept with a malformed document hash", codes.InvalidArgument, "HASH_INVALID", func(ctx context.Context) error {
			return accept(servertest.As(ctx, agreed.Tokens["solo"]), agreed.Name, "yes")
		}},

		// Texts.
		{"empty text", codes.InvalidArgument, "TEXT_EMPTY", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Text = " \n\t\n"
		})},
		{"text over 16 KiB", codes.InvalidArgument, "TEXT_TOO_LONG", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Text = strings.Repeat("a", 16<<10+1)
		})},
		{"text with a control character", codes.InvalidArgument, "TEXT_CONTROL_CHARACTER", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Text = "Sanctions will be lifted\x07."
		})},
		{"rationale with an escape sequence", codes.InvalidArgument, "TEXT_CONTROL_CHARACTER", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Rationale = "\x1b[2J"
		})},
		{"rationale over 4 KiB", codes.InvalidArgument, "RATIONALE_TOO_LONG", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Rationale = strings.Repeat("why ", 1025)
		})},
		// protobuf-go on the server refuses to decode the request and
		// grpc-go would call that INTERNAL; the server's codec marks it so
		// that it is refused as the client's error.
		{"text not UTF-8 (raw bytes on the wire)", codes.InvalidArgument, "TEXT_NOT_UTF8", func(ctx context.Context) error {
			req := withInvalidUTF8(t, &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: plan.Name, Kind: replace,
				Point: pt[2].GetName(), BaseRevision: 1, Text: "Point three, @@@@."}, "@@@@")
			return conn.Invoke(as("europe"), parleyv1.NegotiationService_ProposeAmendment_FullMethodName, req,
				&parleyv1.ProposeAmendmentResponse{}, grpc.ForceCodec(rawCodec{}))
		}},
		{"watch a name not UTF-8 (raw bytes on the wire)", codes.InvalidArgument, "TEXT_NOT_UTF8", func(ctx context.Context) error {
			req := withInvalidUTF8(t, &parleyv1.WatchEventsRequest{Negotiation: plan.Name + "@@@@"}, "@@@@")
			stream, err := conn.NewStream(as("europe"), &grpc.StreamDesc{ServerStreams: true},
				parleyv1.NegotiationService_WatchEvents_FullMethodName, grpc.ForceCodec(rawCodec{}))
			if err != nil {
				return err
			}
			if err := stream.SendMsg(req); err != nil {
				return err
			}
			stream.CloseSend()
			return stream.RecvMsg(&parleyv1.WatchEventsResponse{})
		}},
		{"request bytes that are not protobuf", codes.InvalidArgument, "REQUEST_UNDECODABLE", func(ctx context.Context) error {
			// Field 1 as a length-delimited string claiming 100 bytes, with 3.
			req := preEncoded{0x0a, 100, 'a', 'b', 'c'}
			return conn.Invoke(as("europe"), parleyv1.NegotiationService_ProposeAmendment_FullMethodName, req,
				&parleyv1.ProposeAmendmentResponse{}, grpc.ForceCodec(rawCodec{}))
		}},
		{"watch with bytes that are not protobuf", codes.InvalidArgument, "REQUEST_UNDECODABLE", func(ctx context.Context) error {
			stream, err := conn.NewStream(as("europe"), &grpc.StreamDesc{ServerStreams: true},
				parleyv1.NegotiationService_WatchEvents_FullMethodName, grpc.ForceCodec(rawCodec{}))
			if err != nil {
				return err
			}
			if err := stream.SendMsg(preEncoded{0xff, 0xff, 0xff}); err != nil {
				return err
			}
			stream.CloseSend()
			return stream.RecvMsg(&parleyv1.WatchEventsResponse{})
		}},
		{"replace with the same text", codes.InvalidArgument, "TEXT_UNCHANGED", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Text = pt[2].GetText() + "\n\n" // normalized away
		})},
		{"delete carrying a text", codes.InvalidArgument, "TEXT_NOT_ALLOWED", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Kind = del
		})},
		{"insert with a base revision", codes.InvalidArgument, "BASE_REVISION_INVALID", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Kind = insert
		})},
		{"replace without a base revision", codes.InvalidArgument, "BASE_REVISION_INVALID", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.BaseRevision = 0
		})},
		{"amendment kind unspecified", codes.InvalidArgument, "KIND_INVALID", proposeAs("europe", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Kind = parleyv1.AmendmentKind_AMENDMENT_KIND_UNSPECIFIED
		})},

		// The workflow's states.
		{"REJECT without a reason", codes.InvalidArgument, "REASON_REQUIRED", func(ctx context.Context) error {
			return voteAs(as("russia"), open.GetName(), reject, "  ")
		}},
		{"vote choice unspecified", codes.InvalidArgument, "CHOICE_INVALID", func(ctx context.Context) error {
			return voteAs(as("russia"), open.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_UNSPECIFIED, "")
		}},
		{"vote after voting closed", codes.FailedPrecondition, "VOTING_CLOSED", func(ctx context.Context) error {
			return voteAs(as("europe"), pass.GetName(), reject, "Changed my mind.")
		}},
		{"close voting twice", codes.FailedPrecondition, "VOTING_CLOSED", func(ctx context.Context) error {
			_, err := svc.CloseVoting(as(demo.Mediator), &parleyv1.CloseVotingRequest{RequestId: rid(), Amendment: pass.GetName()})
			return err
		}},
		{"apply twice", codes.FailedPrecondition, "AMENDMENT_NOT_PASSED", func(ctx context.Context) error {
			return apply(as(demo.Mediator), applied.GetName())
		}},
		{"apply while voting is open", codes.FailedPrecondition, "AMENDMENT_NOT_PASSED", func(ctx context.Context) error {
			return apply(as(demo.Mediator), open.GetName())
		}},
		{"reject without a reason", codes.InvalidArgument, "REASON_REQUIRED", func(ctx context.Context) error {
			_, err := svc.RejectAmendment(as(demo.Mediator), &parleyv1.RejectAmendmentRequest{RequestId: rid(), Amendment: pass.GetName()})
			return err
		}},
		{"withdraw an applied amendment", codes.FailedPrecondition, "AMENDMENT_NOT_PENDING", func(ctx context.Context) error {
			_, err := svc.WithdrawAmendment(as("ukraine"), &parleyv1.WithdrawAmendmentRequest{RequestId: rid(), Name: applied.GetName()})
			return err
		}},
		{"revoke a sign-off never made", codes.FailedPrecondition, "NOT_SIGNED_OFF", func(ctx context.Context) error {
			_, err := svc.RevokeSignOff(as("ukraine"), &parleyv1.RevokeSignOffRequest{RequestId: rid(), Point: pt[4].GetName()})
			return err
		}},
		{"accept while amendments are pending", codes.FailedPrecondition, "AMENDMENTS_PENDING", func(ctx context.Context) error {
			return accept(as("ukraine"), plan.Name, doc.GetDocumentSha256())
		}},
		{"accept before every point is agreed", codes.FailedPrecondition, "POINTS_NOT_AGREED", func(ctx context.Context) error {
			return accept(servertest.As(ctx, unsigned.Tokens["solo"]), unsigned.Name, sha("1. One.\n2. Two.\n"))
		}},
		{"amend a deleted point", codes.FailedPrecondition, "POINT_DELETED", func(ctx context.Context) error {
			_, err := svc.ProposeAmendment(smallAs("south"), &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: small.Name,
				Kind: replace, Point: deletedPoint.GetName(), BaseRevision: 1, Text: "Back."})
			return err
		}},
		{"propose deleting the last point", codes.FailedPrecondition, "LAST_POINT", func(ctx context.Context) error {
			_, err := svc.ProposeAmendment(smallAs("south"), &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: small.Name,
				Kind: del, Point: lastPoint.GetName(), BaseRevision: 1})
			return err
		}},
		{"apply the deletion of the last point", codes.FailedPrecondition, "LAST_POINT", func(ctx context.Context) error {
			return apply(smallAs("chair"), deletions[1].GetName())
		}},
		{"issue a second token", codes.AlreadyExists, "CREDENTIAL_EXISTS", func(ctx context.Context) error {
			_, err := adminSvc.IssueToken(admin, &parleyv1.IssueTokenRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "ukraine"})
			return err
		}},
		{"rotate a revoked token", codes.FailedPrecondition, "NO_CREDENTIAL", func(ctx context.Context) error {
			_, err := adminSvc.RotateToken(admin, &parleyv1.RotateTokenRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "former-observer"})
			return err
		}},

		// Request ids and pages.
		{"request_id reused for a different request", codes.AlreadyExists, "REQUEST_ID_REUSED", proposeAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.RequestId, r.Point, r.BaseRevision = openReqID, pt[0].GetName(), 1
		})},
		{"request_id with a space", codes.InvalidArgument, "REQUEST_ID_INVALID", proposeAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.RequestId = "my request"
		})},
		{"request_id over 128 bytes", codes.InvalidArgument, "REQUEST_ID_INVALID", proposeAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.RequestId = strings.Repeat("r", 129)
		})},
		{"garbage page token", codes.InvalidArgument, "PAGE_TOKEN_INVALID", func(ctx context.Context) error {
			_, err := svc.ListEvents(admin, &parleyv1.ListEventsRequest{Negotiation: plan.Name, PageToken: "not-a-token"})
			return err
		}},
		{"page token of another list", codes.InvalidArgument, "PAGE_TOKEN_INVALID", func(ctx context.Context) error {
			_, err := svc.ListAmendments(admin, &parleyv1.ListAmendmentsRequest{Negotiation: plan.Name, PageToken: eventsToken.GetNextPageToken()})
			return err
		}},
		{"page token with other filters", codes.InvalidArgument, "PAGE_TOKEN_INVALID", func(ctx context.Context) error {
			_, err := svc.ListAmendments(admin, &parleyv1.ListAmendmentsRequest{Negotiation: plan.Name,
				States: []parleyv1.AmendmentState{passed}, PageToken: amendmentsToken.GetNextPageToken()})
			return err
		}},
		{"page token of another negotiation", codes.InvalidArgument, "PAGE_TOKEN_INVALID", func(ctx context.Context) error {
			_, err := svc.ListEvents(admin, &parleyv1.ListEventsRequest{Negotiation: small.Name, PageToken: eventsToken.GetNextPageToken()})
			return err
		}},
		{"negative page size", codes.InvalidArgument, "PAGE_SIZE_INVALID", func(ctx context.Context) error {
			_, err := svc.GetDocument(admin, &parleyv1.GetDocumentRequest{Negotiation: plan.Name, PageSize: -1})
			return err
		}},
		{"negative after_sequence", codes.InvalidArgument, "SEQUENCE_INVALID", func(ctx context.Context) error {
			_, err := svc.ListEvents(admin, &parleyv1.ListEventsRequest{Negotiation: plan.Name, AfterSequence: -1})
			return err
		}},
		{"unknown amendment state filter", codes.InvalidArgument, "STATE_INVALID", func(ctx context.Context) error {
			_, err := svc.ListAmendments(admin, &parleyv1.ListAmendmentsRequest{Negotiation: plan.Name, States: []parleyv1.AmendmentState{99}})
			return err
		}},

		// CreateNegotiation.
		{"participant id not a slug", codes.InvalidArgument, "PARTICIPANT_ID_INVALID", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Participants = people(delegation("Ukraine"))
		})},
		{"participant id reserved", codes.InvalidArgument, "PARTICIPANT_ID_INVALID", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Participants = people(delegation("a"), &parleyv1.Participant{Id: "admin", Role: parleyv1.Role_ROLE_MEDIATOR})
		})},
		{"duplicate participant", codes.InvalidArgument, "PARTICIPANT_DUPLICATE", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Participants = people(delegation("a"), &parleyv1.Participant{Id: "a", Role: parleyv1.Role_ROLE_OBSERVER})
		})},
		{"participant without a role", codes.InvalidArgument, "ROLE_INVALID", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Participants = people(delegation("a"), &parleyv1.Participant{Id: "b"})
		})},
		{"observer with a weight", codes.InvalidArgument, "WEIGHT_INVALID", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Participants = people(delegation("a"), &parleyv1.Participant{Id: "b", Role: parleyv1.Role_ROLE_OBSERVER, Weight: 3})
		})},
		{"no delegation", codes.InvalidArgument, "NO_DELEGATION", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Participants = people(mediator)
		})},
		{"no mediator", codes.InvalidArgument, "NO_MEDIATOR", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Participants = people(delegation("a"), delegation("b"), &parleyv1.Participant{Id: "press", Role: parleyv1.Role_ROLE_OBSERVER})
		})},
		{"no decision method", codes.InvalidArgument, "DECISION_RULE_INVALID", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.DecisionRule = nil
		})},
		{"quorum above the delegations", codes.InvalidArgument, "QUORUM_INVALID", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.DecisionRule = &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_MAJORITY, Quorum: 2}
		})},
		{"threshold under consensus", codes.InvalidArgument, "THRESHOLD_INVALID", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.DecisionRule = &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS, ThresholdBasisPoints: 5000}
		})},
		{"empty title", codes.InvalidArgument, "TITLE_INVALID", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Title = "   "
		})},
		{"both points and numbered_text", codes.InvalidArgument, "POINTS_CONFLICT", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.NumberedText = "1. One.\n"
		})},
		{"no points", codes.InvalidArgument, "POINTS_REQUIRED", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Points = nil
		})},
		{"numbered text not starting at 1", codes.InvalidArgument, "NUMBERED_TEXT_INVALID", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Points, r.NumberedText = nil, "Preamble.\n1. One.\n"
		})},
		{"numbered text over 4 MiB", codes.InvalidArgument, "TEXT_TOO_LONG", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Points, r.NumberedText = nil, "1. "+strings.Repeat("a", 4<<20)
		})},
		{"request over the 8 MiB message limit", codes.ResourceExhausted, "", create(func(r *parleyv1.CreateNegotiationRequest) {
			r.Points, r.NumberedText = nil, "1. "+strings.Repeat("a", 9<<20)
		})},
	}

	// Members, withdrawing an acceptance, batches.
	signOffAll := func(who context.Context, mod func(r *parleyv1.SignOffPointsRequest)) func(context.Context) error {
		return func(context.Context) error {
			r := &parleyv1.SignOffPointsRequest{RequestId: rid(), Negotiation: plan.Name}
			for _, p := range pt[2:5] {
				r.Items = append(r.Items, &parleyv1.SignOffPointsItem{Point: p.GetName(), Revision: p.GetRevision(), TextSha256: p.GetTextSha256()})
			}
			mod(r)
			_, err := svc.SignOffPoints(who, r)
			return err
		}
	}
	cases = append(cases, []struct {
		name   string
		code   codes.Code
		reason string // empty: the gRPC layer refuses it, without ErrorInfo
		call   func(ctx context.Context) error
	}{
		{"removed member's token", codes.Unauthenticated, "TOKEN_INVALID", func(ctx context.Context) error {
			return getNegotiation(asMember("russia/legal"), plan.Name)
		}},
		{"member acting outside its participant's rights", codes.PermissionDenied, "ROLE_NOT_ALLOWED", func(ctx context.Context) error {
			_, err := svc.CloseVoting(asMember("ukraine/aide"), &parleyv1.CloseVotingRequest{RequestId: rid(), Amendment: open.GetName()})
			return err
		}},
		{"member not allowed to sign off", codes.PermissionDenied, "MEMBER_NOT_ALLOWED", signOffAll(asMember("ukraine/aide"), func(*parleyv1.SignOffPointsRequest) {})},
		{"member not allowed to accept", codes.PermissionDenied, "MEMBER_NOT_ALLOWED", func(ctx context.Context) error {
			_, err := svc.AcceptDocument(asMember("ukraine/aide"), &parleyv1.AcceptDocumentRequest{RequestId: rid(), Negotiation: plan.Name, DocumentSha256: doc.GetDocumentSha256()})
			return err
		}},
		{"member adds a member", codes.PermissionDenied, "ADMIN_ONLY", func(ctx context.Context) error {
			_, err := adminSvc.AddMember(asMember("ukraine/aide"), &parleyv1.AddMemberRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "ukraine", Member: "x"})
			return err
		}},
		{"head issues a token to another participant", codes.PermissionDenied, "NOT_YOUR_PARTICIPANT", func(ctx context.Context) error {
			_, err := adminSvc.IssueToken(asMember("ukraine/head"), &parleyv1.IssueTokenRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "russia"})
			return err
		}},
		{"token for an unknown member", codes.NotFound, "MEMBER_NOT_FOUND", func(ctx context.Context) error {
			_, err := adminSvc.IssueToken(admin, &parleyv1.IssueTokenRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "ukraine", Member: "nobody"})
			return err
		}},
		{"token for a removed member", codes.NotFound, "MEMBER_NOT_FOUND", func(ctx context.Context) error {
			_, err := adminSvc.IssueToken(admin, &parleyv1.IssueTokenRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "russia", Member: "legal"})
			return err
		}},
		{"duplicate member id", codes.AlreadyExists, "MEMBER_EXISTS", func(ctx context.Context) error {
			_, err := adminSvc.AddMember(admin, &parleyv1.AddMemberRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "ukraine", Member: "aide"})
			return err
		}},
		{"member id of its participant", codes.InvalidArgument, "MEMBER_ID_INVALID", func(ctx context.Context) error {
			_, err := adminSvc.AddMember(admin, &parleyv1.AddMemberRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "ukraine", Member: "ukraine"})
			return err
		}},
		{"remove the default member", codes.InvalidArgument, "DEFAULT_MEMBER", func(ctx context.Context) error {
			_, err := adminSvc.RemoveMember(admin, &parleyv1.RemoveMemberRequest{RequestId: rid(), Negotiation: plan.Name, Participant: "ukraine", Member: "ukraine"})
			return err
		}},
		{"withdraw without an acceptance", codes.FailedPrecondition, "NOT_ACCEPTED", func(ctx context.Context) error {
			_, err := svc.WithdrawAcceptance(as("ukraine"), &parleyv1.WithdrawAcceptanceRequest{RequestId: rid(), Negotiation: plan.Name})
			return err
		}},
		{"empty sign-off batch", codes.InvalidArgument, "BATCH_SIZE_INVALID", signOffAll(as("europe"), func(r *parleyv1.SignOffPointsRequest) {
			r.Items = nil
		})},
		{"sign-off batch with one stale item", codes.Aborted, "STALE_REVISION", signOffAll(as("europe"), func(r *parleyv1.SignOffPointsRequest) {
			r.Items = append(r.Items, &parleyv1.SignOffPointsItem{Point: pt[5].GetName(), Revision: 1, TextSha256: pt[5].GetTextSha256()})
		})},
		{"sign-off batch with a point twice", codes.InvalidArgument, "BATCH_DUPLICATE_POINT", signOffAll(as("europe"), func(r *parleyv1.SignOffPointsRequest) {
			r.Items = append(r.Items, r.Items[0])
		})},
		{"sign-off batch with another negotiation's point", codes.InvalidArgument, "NAME_INVALID", signOffAll(as("europe"), func(r *parleyv1.SignOffPointsRequest) {
			r.Items[1].Point = lastPoint.GetName()
		})},
		{"revoke batch with a point not signed off", codes.FailedPrecondition, "NOT_SIGNED_OFF", func(ctx context.Context) error {
			_, err := svc.RevokeSignOffs(as("europe"), &parleyv1.RevokeSignOffsRequest{RequestId: rid(), Negotiation: plan.Name, Points: []string{pt[3].GetName()}})
			return err
		}},
	}...)
	// Re-proposing stale amendments, in a negotiation of their own: north's
	// amendments of points 1 (overlapping south's applied change) and 2
	// (deleted since) are STALE, as is its INSERT after point 2; its
	// amendment of point 3 was rebased once and the rebased one is OPEN.
	rebasing := srv.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: "Rebasing",
		Participants: []*parleyv1.Participant{{Id: "north", Role: parleyv1.Role_ROLE_DELEGATION},
			{Id: "south", Role: parleyv1.Role_ROLE_DELEGATION}, {Id: "chair", Role: parleyv1.Role_ROLE_MEDIATOR}},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_MAJORITY},
		Points:       []string{"First.", "Second.", "One two three four five.", "Fourth."}})
	rebaseAs := func(id string) context.Context { return servertest.As(ctx, rebasing.Tokens[id]) }
	rebasingDoc, err := svc.GetDocument(rebaseAs("north"), &parleyv1.GetDocumentRequest{Negotiation: rebasing.Name})
	must("rebasing document", err)
	rp := rebasingDoc.GetPoints()
	rebasingPropose := func(who string, kind parleyv1.AmendmentKind, point *parleyv1.Point, text string) *parleyv1.Amendment {
		t.Helper()
		req := &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: rebasing.Name, Kind: kind, Point: point.GetName(), Text: text}
		if kind != insert {
			req.BaseRevision = 1
		}
		r, err := svc.ProposeAmendment(rebaseAs(who), req)
		must(who+" proposes", err)
		return r.GetAmendment()
	}
	rebasingApply := func(a *parleyv1.Amendment) {
		t.Helper()
		for _, voter := range []string{"north", "south"} {
			_, err := svc.CastVote(rebaseAs(voter), &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: a.GetName(), Choice: approve})
			must("rebasing: vote", err)
		}
		_, err := svc.ApplyAmendment(rebaseAs("chair"), &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: a.GetName()})
		must("rebasing: apply", err)
	}
	conflicting := rebasingPropose("north", replace, rp[0], "First, as north drafts it.")
	rebasingApply(rebasingPropose("south", replace, rp[0], "First, as south drafts it."))
	onDeleted := rebasingPropose("north", replace, rp[1], "Second, amended.")
	insertAfterDeleted := rebasingPropose("north", insert, rp[1], "After the second.")
	rebasingApply(rebasingPropose("south", del, rp[1], ""))
	mergeable := rebasingPropose("north", replace, rp[2], "Zero one two three four five.")
	rebasingApply(rebasingPropose("south", replace, rp[2], "One two three four five six."))
	rebased, err := svc.ProposeAmendment(rebaseAs("north"), &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: rebasing.Name, RebaseOf: mergeable.GetName()})
	must("rebase", err)
	if got := rebased.GetAmendment().GetText(); got != "Zero one two three four five six." {
		t.Fatalf("setup: rebased text %q", got)
	}
	rebaseOf := func(who, stale string, mod func(r *parleyv1.ProposeAmendmentRequest)) func(context.Context) error {
		return func(context.Context) error {
			r := &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: rebasing.Name, RebaseOf: stale}
			if mod != nil {
				mod(r)
			}
			_, err := svc.ProposeAmendment(rebaseAs(who), r)
			return err
		}
	}
	cases = append(cases, []struct {
		name   string
		code   codes.Code
		reason string // empty: the gRPC layer refuses it, without ErrorInfo
		call   func(ctx context.Context) error
	}{
		{"rebase of an amendment that is not STALE", codes.FailedPrecondition, "AMENDMENT_NOT_STALE", rebaseOf("north", rebased.GetAmendment().GetName(), nil)},
		{"rebase of another delegation's amendment", codes.PermissionDenied, "NOT_PROPOSER", rebaseOf("south", conflicting.GetName(), nil)},
		{"rebase by the mediator of a delegation's amendment", codes.PermissionDenied, "NOT_PROPOSER", rebaseOf("chair", conflicting.GetName(), nil)},
		{"rebase of an unknown amendment", codes.NotFound, "AMENDMENT_NOT_FOUND", rebaseOf("north", rebasing.Name+"/amendments/"+uuid.NewString(), nil)},
		{"rebase of an amendment of another negotiation", codes.InvalidArgument, "REBASE_OTHER_NEGOTIATION", rebaseOf("north", open.GetName(), nil)},
		{"rebase of something that is no amendment", codes.InvalidArgument, "NAME_INVALID", rebaseOf("north", rp[0].GetName(), nil)},
		{"rebase onto a point deleted since", codes.FailedPrecondition, "POINT_DELETED", rebaseOf("north", onDeleted.GetName(), nil)},
		{"rebase of an insert after a point deleted since", codes.FailedPrecondition, "POINT_DELETED", rebaseOf("north", insertAfterDeleted.GetName(), nil)},
		{"rebase of overlapping changes", codes.FailedPrecondition, "REBASE_CONFLICT", rebaseOf("north", conflicting.GetName(), nil)},
		{"rebase of an amendment rebased already", codes.FailedPrecondition, "ALREADY_REBASED", rebaseOf("north", mergeable.GetName(), nil)},
		{"rebase with a text of its own", codes.InvalidArgument, "REBASE_FIELDS_NOT_ALLOWED", rebaseOf("north", conflicting.GetName(), func(r *parleyv1.ProposeAmendmentRequest) {
			r.Text = "Mine."
		})},
		{"rebase with a base revision", codes.InvalidArgument, "REBASE_FIELDS_NOT_ALLOWED", rebaseOf("north", conflicting.GetName(), func(r *parleyv1.ProposeAmendmentRequest) {
			r.BaseRevision = 2
		})},
		{"rebase by a delegation of another negotiation", codes.PermissionDenied, "NOT_A_MEMBER", func(ctx context.Context) error {
			_, err := svc.ProposeAmendment(as("ukraine"), &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: rebasing.Name, RebaseOf: conflicting.GetName()})
			return err
		}},
	}...)
	// Package deals: a valid one trades point 19 for point 20 and inserts
	// after point 21; each case breaks it in one way.
	packageAs := func(who string, mod func(r *parleyv1.ProposeAmendmentRequest)) func(context.Context) error {
		return func(context.Context) error {
			r := &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: plan.Name, Parts: []*parleyv1.AmendmentPart{
				{Kind: replace, Point: pt[18].GetName(), BaseRevision: 1, Text: "Point 19, as traded."},
				{Kind: del, Point: pt[19].GetName(), BaseRevision: 1},
				{Kind: insert, Point: pt[20].GetName(), Text: "A new point after 21."},
			}}
			mod(r)
			_, err := svc.ProposeAmendment(as(who), r)
			return err
		}
	}
	cases = append(cases, []struct {
		name   string
		code   codes.Code
		reason string // empty: the gRPC layer refuses it, without ErrorInfo
		call   func(ctx context.Context) error
	}{
		{"package with two parts on one point", codes.InvalidArgument, "PACKAGE_DUPLICATE_POINT", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Parts[1] = &parleyv1.AmendmentPart{Kind: del, Point: pt[18].GetName(), BaseRevision: 1}
		})},
		{"package inserting after a point it deletes", codes.InvalidArgument, "PACKAGE_DUPLICATE_POINT", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Parts[2].Point = pt[19].GetName()
		})},
		{"package part without a point", codes.InvalidArgument, "POINT_REQUIRED", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Parts[0].Point = ""
		})},
		{"package of one part", codes.InvalidArgument, "PACKAGE_TOO_SMALL", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Parts = r.Parts[:1]
		})},
		{"package whose parts are empty", codes.InvalidArgument, "KIND_INVALID", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Parts = []*parleyv1.AmendmentPart{{}, {}}
		})},
		{"package with a kind of its own", codes.InvalidArgument, "PACKAGE_CONFLICT", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Kind, r.Point, r.BaseRevision, r.Text = replace, pt[2].GetName(), 1, "A new point 3."
		})},
		{"package of 33 parts", codes.InvalidArgument, "PACKAGE_TOO_LARGE", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			for len(r.Parts) < 33 {
				r.Parts = append(r.Parts, &parleyv1.AmendmentPart{Kind: insert, Text: "More."})
			}
		})},
		{"package part on a deleted point", codes.FailedPrecondition, "POINT_DELETED", func(ctx context.Context) error {
			_, err := svc.ProposeAmendment(smallAs("south"), &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: small.Name,
				Parts: []*parleyv1.AmendmentPart{{Kind: insert, Text: "A preamble."}, {Kind: replace, Point: deletedPoint.GetName(), BaseRevision: 1, Text: "Back."}}})
			return err
		}},
		{"package part on an unknown point", codes.NotFound, "POINT_NOT_FOUND", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Parts[0].Point = plan.Name + "/points/" + uuid.NewString()
		})},
		{"package part on a point of another negotiation", codes.InvalidArgument, "NAME_INVALID", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Parts[0].Point = lastPoint.GetName()
		})},
		{"package part of an unknown base revision", codes.InvalidArgument, "REVISION_UNKNOWN", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Parts[1].BaseRevision = 5
		})},
		{"package part of an outdated base revision", codes.Aborted, "STALE_REVISION", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Parts[1] = &parleyv1.AmendmentPart{Kind: replace, Point: pt[5].GetName(), BaseRevision: 1, Text: "Point 6 again."}
		})},
		{"package part text over 16 KiB", codes.InvalidArgument, "TEXT_TOO_LONG", packageAs("ukraine", func(r *parleyv1.ProposeAmendmentRequest) {
			r.Parts[2].Text = strings.Repeat("a", 16<<10+1)
		})},
		{"package by an observer", codes.PermissionDenied, "ROLE_NOT_ALLOWED", packageAs("press", func(*parleyv1.ProposeAmendmentRequest) {})},
	}...)
	negotiations := []string{plan.Name, small.Name, agreed.Name, unsigned.Name, rebasing.Name}
	// logs returns every negotiation's last sequence, and how many
	// negotiations there are, as the administrator sees them.
	logs := func() map[string]int64 {
		t.Helper()
		r, err := svc.ListNegotiations(admin, &parleyv1.ListNegotiationsRequest{PageSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, n := range r.GetNegotiations() {
			out[n.GetName()] = n.GetLastSequence()
		}
		return out
	}
	before := logs()
	if len(before) != len(negotiations) {
		t.Fatalf("%d negotiations, want %d", len(before), len(negotiations))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases are named %q", c.name)
		}
		seen[c.name] = true
		err := c.call(ctx)
		wantError(t, c.name, err, c.code, c.reason)
		after := logs()
		for _, name := range negotiations {
			if after[name] != before[name] {
				t.Errorf("%s: %s went from sequence %d to %d", c.name, name, before[name], after[name])
			}
			r, err := svc.ListEvents(admin, &parleyv1.ListEventsRequest{Negotiation: name, AfterSequence: before[name]})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.GetEvents()) != 0 {
				t.Errorf("%s: %s has %d new events", c.name, name, len(r.GetEvents()))
			}
		}
		if len(after) != len(before) {
			t.Errorf("%s: %d negotiations, before %d", c.name, len(after), len(before))
		}
	}
	if len(cases) < 40 {
		t.Errorf("only %d cases", len(cases))
	}
}
