package rpc_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/rpc"
	"github.com/parley-negotiation/parley/server/store"
)

// BenchmarkCastVote measures a durable vote through the whole service, fsync
// on, over an in-memory connection: the interceptors, the handler, the store's
// commit and the reply's encoding, client included. It sets up what
// parley-bench load votes on: 16 delegations, 28 points, open amendments that
// each vote changes.
//
//	go test ./server/rpc -run '^$' -bench CastVote -benchmem
//
// The sub-benchmarks ending in ",vote_only" ask for the lean reply.
func BenchmarkCastVote(b *testing.B) {
	for _, voteOnly := range []bool{false, true} {
		suffix := ""
		if voteOnly {
			suffix = ",vote_only"
		}
		b.Run("clients=1"+suffix, func(b *testing.B) {
			api, voters, amendments := benchVoting(b)
			var i int
			for b.Loop() {
				if err := benchVote(api, voters, amendments, i, voteOnly); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("clients=64"+suffix, func(b *testing.B) {
			api, voters, amendments := benchVoting(b)
			var next atomic.Int64
			b.SetParallelism(32) // × GOMAXPROCS goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := benchVote(api, voters, amendments, int(next.Add(1)), voteOnly); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// benchVote casts the i-th vote: each delegation alternates its choice on
// each amendment, so that every vote is a change.
func benchVote(api parleyv1.NegotiationServiceClient, voters []context.Context, amendments []string, i int, voteOnly bool) error {
	voter := i % len(voters)
	round := i / len(voters)
	choice := parleyv1.VoteChoice_VOTE_CHOICE_APPROVE
	if (round/len(amendments))%2 == 1 {
		choice = parleyv1.VoteChoice_VOTE_CHOICE_ABSTAIN
	}
	_, err := api.CastVote(voters[voter], &parleyv1.CastVoteRequest{RequestId: uuid.NewString(),
		Amendment: amendments[round%len(amendments)], Choice: choice, VoteOnly: voteOnly})
	return err
}

// benchVoting starts the service and returns a client, the contexts of 15
// of the 16 delegations (the last never votes, so voting never closes) and
// 64 open amendments.
func benchVoting(b *testing.B) (parleyv1.NegotiationServiceClient, []context.Context, []string) {
	b.Helper()
	db, err := store.Open(filepath.Join(b.TempDir(), "parley.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv := rpc.New(db, adminToken, nil)
	g := srv.GRPCServer()
	lis := bufconn.Listen(1 << 20)
	go g.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///parley",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn.Close()
		srv.Shutdown()
		g.Stop()
		db.Close()
	})
	ctx := context.Background()
	as := func(token string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	api := parleyv1.NewNegotiationServiceClient(conn)
	admin := parleyv1.NewAdminServiceClient(conn)
	req := &parleyv1.CreateNegotiationRequest{Title: "bench",
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}}
	for i := range 16 {
		req.Participants = append(req.Participants, &parleyv1.Participant{Id: fmt.Sprintf("d%03d", i), Role: parleyv1.Role_ROLE_DELEGATION})
	}
	req.Participants = append(req.Participants, &parleyv1.Participant{Id: "mediator", Role: parleyv1.Role_ROLE_MEDIATOR})
	for i := range 28 {
		req.Points = append(req.Points, fmt.Sprintf("Point %d. The parties agree on a provision of about the length of a real one, "+
			"with a clause, a condition and a date by which it takes effect.", i+1))
	}
	created, err := api.CreateNegotiation(as(adminToken), req)
	if err != nil {
		b.Fatal(err)
	}
	name := created.GetNegotiation().GetName()
	var voters []context.Context
	for i := range 16 {
		r, err := admin.IssueToken(as(adminToken), &parleyv1.IssueTokenRequest{Negotiation: name, Participant: fmt.Sprintf("d%03d", i)})
		if err != nil {
			b.Fatal(err)
		}
		voters = append(voters, as(r.GetToken()))
	}
	doc, err := api.GetDocument(voters[0], &parleyv1.GetDocumentRequest{Negotiation: name})
	if err != nil {
		b.Fatal(err)
	}
	var amendments []string
	for i := range 64 {
		p := doc.GetPoints()[i%len(doc.GetPoints())]
		r, err := api.ProposeAmendment(voters[0], &parleyv1.ProposeAmendmentRequest{Negotiation: name,
			Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p.GetName(), BaseRevision: p.GetRevision(),
			Text: fmt.Sprintf("Amended text %d of point %d.", i, p.GetNumber())})
		if err != nil {
			b.Fatal(err)
		}
		amendments = append(amendments, r.GetAmendment().GetName())
	}
	return api, voters[:15], amendments
}
