package rpc_test

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/rpc"
	"github.com/parley-negotiation/parley/server/store"
)

const adminToken = "prl_rpc-test-admin"

// env is the real service over a real database in a temporary folder,
// reached through an in-memory connection.
type env struct {
	t     *testing.T
	ctx   context.Context
	svc   parleyv1.NegotiationServiceClient
	admin parleyv1.AdminServiceClient
	srv   *rpc.Server
	// dial opens another connection to the server, closed with the test.
	dial func(opts ...grpc.DialOption) *grpc.ClientConn
}

func newEnv(t *testing.T, opts ...rpc.Option) *env {
	t.Helper()
	return newEnvLogging(t, nil, opts...)
}

// newEnvLogging is newEnv with the server logging to logger.
func newEnvLogging(t *testing.T, logger *slog.Logger, opts ...rpc.Option) *env {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "parley.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := rpc.New(db, adminToken, logger, opts...)
	g := srv.GRPCServer()
	lis := bufconn.Listen(1 << 20)
	go g.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///parley",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(func() {
		cancel()
		conn.Close()
		srv.Shutdown()
		g.Stop()
		db.Close()
	})
	dial := func(opts ...grpc.DialOption) *grpc.ClientConn {
		c, err := grpc.NewClient("passthrough:///parley", append([]grpc.DialOption{
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
			grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	return &env{t: t, ctx: ctx, svc: parleyv1.NewNegotiationServiceClient(conn), admin: parleyv1.NewAdminServiceClient(conn), srv: srv, dial: dial}
}

// as returns the test's context carrying a bearer token.
func (e *env) as(token string) context.Context {
	return metadata.AppendToOutgoingContext(e.ctx, "authorization", "Bearer "+token)
}

func (e *env) asAdmin() context.Context { return e.as(adminToken) }

// negotiation is a negotiation with a token for each participant.
type negotiation struct {
	name   string
	tokens map[string]string
	points []*parleyv1.Point // the initial document
}

// create creates a negotiation and issues every participant a token.
func (e *env) create(req *parleyv1.CreateNegotiationRequest) negotiation {
	e.t.Helper()
	r, err := e.svc.CreateNegotiation(e.asAdmin(), req)
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	n := negotiation{name: r.GetNegotiation().GetName(), tokens: map[string]string{}}
	for _, p := range r.GetNegotiation().GetParticipants() {
		tr, err := e.admin.IssueToken(e.asAdmin(), &parleyv1.IssueTokenRequest{RequestId: rid(), Negotiation: n.name, Participant: p.GetId()})
		if err != nil {
			e.t.Fatalf("issue token: %v", err)
		}
		n.tokens[p.GetId()] = tr.GetToken()
	}
	doc, err := e.svc.GetDocument(e.asAdmin(), &parleyv1.GetDocumentRequest{Negotiation: n.name})
	if err != nil {
		e.t.Fatal(err)
	}
	n.points = doc.GetPoints()
	return n
}

// createDemo creates the 28-point plan: its log then holds 34 events (the
// creation, 28 points, 5 tokens).
func (e *env) createDemo() negotiation {
	e.t.Helper()
	req := demo.CreateRequest()
	req.RequestId = rid()
	return e.create(req)
}

func (e *env) lastSequence(name string) int64 {
	e.t.Helper()
	r, err := e.svc.GetNegotiation(e.asAdmin(), &parleyv1.GetNegotiationRequest{Name: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return r.GetNegotiation().GetLastSequence()
}

func (e *env) propose(n negotiation, who string, kind parleyv1.AmendmentKind, point *parleyv1.Point, text string) *parleyv1.Amendment {
	e.t.Helper()
	req := &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: n.name, Kind: kind, Text: text}
	if point != nil {
		req.Point = point.GetName()
		if kind != parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT {
			req.BaseRevision = point.GetRevision()
		}
	}
	r, err := e.svc.ProposeAmendment(e.as(n.tokens[who]), req)
	if err != nil {
		e.t.Fatalf("%s proposes: %v", who, err)
	}
	return r.GetAmendment()
}

// pass has every delegation of the demo approve an amendment.
func (e *env) pass(n negotiation, a *parleyv1.Amendment) {
	e.t.Helper()
	for _, d := range demo.Delegations {
		if _, err := e.svc.CastVote(e.as(n.tokens[d]), &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: a.GetName(),
			Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}); err != nil {
			e.t.Fatalf("%s votes: %v", d, err)
		}
	}
}

func rid() string { return uuid.NewString() }

// wantError fails unless err has the code and an ErrorInfo with the reason
// in Parley's domain.
func wantError(t *testing.T, what string, err error, code codes.Code, reason string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want %v %s", what, code, reason)
		return
	}
	st := status.Convert(err)
	got := ""
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == rpc.ErrorDomain {
			got = info.GetReason()
		}
	}
	if st.Code() != code || got != reason {
		t.Errorf("%s: got %v %q (%v), want %v %q", what, st.Code(), got, err, code, reason)
	}
}

func names[T interface{ GetName() string }](items []T) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.GetName()
	}
	return out
}
