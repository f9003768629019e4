package main_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// TestCluster_AddAndRemoveNode grows a three-node cluster by a fourth node
// through a follower, sees it catch up and serve, then removes a node; each
// node's ClusterStatus and health say its role.
func TestCluster_AddAndRemoveNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four servers")
	}
	c := startCluster(t, 3, "--raft-election-timeout", "500ms")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin := servertest.As(ctx, c.adminToken)
	leader := c.leader()
	follower := (leader + 1) % 3
	status := func(i int) *parleyv1.ClusterStatusResponse {
		t.Helper()
		st, err := parleyv1.NewAdminServiceClient(c.conns[i]).ClusterStatus(admin, &parleyv1.ClusterStatusRequest{})
		if err != nil {
			t.Fatalf("node %d: ClusterStatus: %v", i+1, err)
		}
		return st
	}

	t.Run("OK", func(t *testing.T) {
		waitFor(t, 30*time.Second, "every node knowing the leader", func() bool {
			for i := range 3 {
				if status(i).GetLeaderId() != fmt.Sprintf("n%d", leader+1) {
					return false
				}
			}
			return true
		})
		for i := range 3 {
			st := status(i)
			want := parleyv1.ClusterRole_CLUSTER_ROLE_FOLLOWER
			if i == leader {
				want = parleyv1.ClusterRole_CLUSTER_ROLE_LEADER
			}
			if st.GetRole() != want || st.GetNodeId() != fmt.Sprintf("n%d", i+1) || len(st.GetNodes()) != 3 {
				t.Errorf("node %d: status %v, want role %s among 3 voters", i+1, st, want)
			}
		}
		waitFor(t, 10*time.Second, "cluster health SERVING", func() bool {
			h, err := healthpb.NewHealthClient(c.conns[follower]).Check(ctx, &healthpb.HealthCheckRequest{Service: "parley.v1.Cluster"})
			return err == nil && h.GetStatus() == healthpb.HealthCheckResponse_SERVING
		})
	})

	req := demo.CreateRequest()
	req.RequestId = ""
	neg := c.nodes[leader].Create(ctx, req)

	// A fourth node, started without peers, waits to be added; added
	// through a follower, it catches up and serves.
	addr := freeAddress(t)
	c.startNode(addr)
	added, err := parleyv1.NewAdminServiceClient(c.conns[follower]).AddNode(admin, &parleyv1.AddNodeRequest{NodeId: "n4", Address: addr})
	if err != nil {
		t.Fatalf("AddNode through a follower: %v", err)
	}
	if len(added.GetNodes()) != 4 {
		t.Errorf("after AddNode: %d voters, want 4", len(added.GetNodes()))
	}
	if err := c.onAny(ctx, 3, func(ctx context.Context, conn *grpc.ClientConn) error {
		_, err := parleyv1.NewNegotiationServiceClient(conn).RenameNegotiation(servertest.As(ctx, c.adminToken),
			&parleyv1.RenameNegotiationRequest{RequestId: rid(), Negotiation: neg.Name, Title: "Renamed through the new node"})
		return err
	}); err != nil {
		t.Fatalf("write through the new node: %v", err)
	}
	c.converge(ctx, neg.Name)

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := parleyv1.NewAdminServiceClient(c.conns[3]).RemoveNode(admin, &parleyv1.RemoveNodeRequest{NodeId: "n9"})
		wantError(t, "remove a node that is not in the cluster", err, codes.NotFound, "NODE_NOT_FOUND")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := parleyv1.NewAdminServiceClient(c.conns[3]).AddNode(admin, &parleyv1.AddNodeRequest{NodeId: "n5", Address: "no port"})
		wantError(t, "add a node without a port", err, codes.InvalidArgument, "NODE_ADDRESS_INVALID")
		if got := len(status(3).GetNodes()); got != 4 {
			t.Errorf("after a refused AddNode: %d voters, want 4", got)
		}
	})

	// The first node leaves; the other three go on.
	removed, err := parleyv1.NewAdminServiceClient(c.conns[3]).RemoveNode(admin, &parleyv1.RemoveNodeRequest{NodeId: "n1"})
	if err != nil {
		t.Fatalf("RemoveNode: %v", err)
	}
	if len(removed.GetNodes()) != 3 {
		t.Errorf("after RemoveNode: %d voters, want 3", len(removed.GetNodes()))
	}
	c.kill(0)
	if err := c.onAny(ctx, 1, func(ctx context.Context, conn *grpc.ClientConn) error {
		_, err := parleyv1.NewNegotiationServiceClient(conn).RenameNegotiation(servertest.As(ctx, c.adminToken),
			&parleyv1.RenameNegotiationRequest{RequestId: rid(), Negotiation: neg.Name, Title: "Renamed without node 1"})
		return err
	}); err != nil {
		t.Fatalf("write after removing node 1: %v", err)
	}
	c.converge(ctx, neg.Name)
}
