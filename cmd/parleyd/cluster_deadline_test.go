package main_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// TestCluster_DeadlineClosesOnce sets a voting deadline a moment ahead and
// kills the leader before it passes: the next leader closes the vote, once,
// and every node holds the same closing.
func TestCluster_DeadlineClosesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	c := startCluster(t, 3, "--raft-election-timeout", "500ms")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	leader := c.leader()
	req := demo.CreateRequest()
	req.RequestId = ""
	neg := c.nodes[leader].Create(ctx, req)
	doc, err := parleyv1.NewNegotiationServiceClient(c.conns[leader]).GetDocument(servertest.As(ctx, c.adminToken), &parleyv1.GetDocumentRequest{Negotiation: neg.Name})
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(3 * time.Second)
	var amendment string
	if err := c.onAny(ctx, leader, func(ctx context.Context, conn *grpc.ClientConn) error {
		out, err := parleyv1.NewNegotiationServiceClient(conn).ProposeAmendment(servertest.As(ctx, neg.Tokens["ukraine"]), &parleyv1.ProposeAmendmentRequest{
			RequestId: rid(), Negotiation: neg.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: doc.GetPoints()[0].GetName(),
			BaseRevision: 1, Text: "Due soon.", VotingDeadline: timestamppb.New(due)})
		amendment = out.GetAmendment().GetName()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c.kill(leader)
	waitFor(t, 30*time.Second, "the vote closed at its deadline", func() bool {
		var state parleyv1.AmendmentState
		err := c.onAny(ctx, (leader+1)%3, func(ctx context.Context, conn *grpc.ClientConn) error {
			out, err := parleyv1.NewNegotiationServiceClient(conn).GetAmendment(servertest.As(ctx, c.adminToken), &parleyv1.GetAmendmentRequest{Name: amendment})
			state = out.GetAmendment().GetState()
			return err
		})
		return err == nil && state != parleyv1.AmendmentState_AMENDMENT_STATE_OPEN
	})
	c.restart(leader)
	log := c.converge(ctx, neg.Name)
	closings := 0
	for _, leaf := range log {
		var e parleyv1.Event
		if err := proto.Unmarshal(leaf, &e); err != nil {
			t.Fatal(err)
		}
		if e.GetVotingClosed() != nil {
			closings++
			if at := e.GetTime().AsTime(); at.Before(due) {
				t.Errorf("closed at %s, before its deadline %s", at, due)
			}
		}
	}
	if closings != 1 {
		t.Errorf("%d closings in the log, want 1", closings)
	}
}
