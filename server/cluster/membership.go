package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/rpc"
	"github.com/parley-negotiation/parley/server/workflow"
)

var _ rpc.ClusterAdmin = (*Node)(nil)

// Status returns this node's role, the leader, the voters and its lag.
func (n *Node) Status() *parleyv1.ClusterStatusResponse {
	// Raft's applied index counts the entries that never reach the store
	// (its own no-op and configuration entries) too.
	out := &parleyv1.ClusterStatusResponse{NodeId: n.cfg.NodeID, Term: n.raft.CurrentTerm(), CommitIndex: n.raft.CommitIndex(),
		AppliedIndex: max(n.fsm.index.Load(), n.raft.AppliedIndex())}
	switch n.raft.State() {
	case raft.Leader:
		out.Role = parleyv1.ClusterRole_CLUSTER_ROLE_LEADER
	case raft.Follower:
		out.Role = parleyv1.ClusterRole_CLUSTER_ROLE_FOLLOWER
		if last := n.raft.LastContact(); !last.IsZero() {
			out.LastContactMs = time.Since(last).Milliseconds()
		}
	case raft.Candidate:
		out.Role = parleyv1.ClusterRole_CLUSTER_ROLE_CANDIDATE
	case raft.Shutdown:
		out.Role = parleyv1.ClusterRole_CLUSTER_ROLE_SHUTDOWN
	}
	addr, id := n.raft.LeaderWithID()
	out.LeaderAddress, out.LeaderId = string(addr), string(id)
	if out.CommitIndex > out.AppliedIndex {
		out.LagEntries = out.CommitIndex - out.AppliedIndex
	}
	out.Nodes, _ = n.voters()
	return out
}

// voters returns the voters of the latest configuration.
func (n *Node) voters() ([]*parleyv1.ClusterNode, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	var nodes []*parleyv1.ClusterNode
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			nodes = append(nodes, &parleyv1.ClusterNode{Id: string(s.ID), Address: string(s.Address)})
		}
	}
	return nodes, nil
}

// membershipChange is a change of voters, as forwarded to the leader.
type membershipChange struct {
	Add     bool   `json:"add"`
	ID      string `json:"id"`
	Address string `json:"address,omitempty"`
}

var errNodeNotFound = workflow.Errorf(workflow.ENOTFOUND, "NODE_NOT_FOUND", "no node of the cluster has that node_id")

// AddNode adds a voter, through the leader.
func (n *Node) AddNode(ctx context.Context, id, address string) ([]*parleyv1.ClusterNode, error) {
	return n.changeMembership(ctx, membershipChange{Add: true, ID: id, Address: address})
}

// RemoveNode removes a voter, through the leader.
func (n *Node) RemoveNode(ctx context.Context, id string) ([]*parleyv1.ClusterNode, error) {
	return n.changeMembership(ctx, membershipChange{ID: id})
}

func (n *Node) changeMembership(ctx context.Context, change membershipChange) ([]*parleyv1.ClusterNode, error) {
	if n.isLeader() {
		err := n.applyMembership(ctx, change)
		if !errors.Is(err, errNotLeader) {
			if err != nil {
				return nil, err
			}
			return n.voters()
		}
	}
	addr, err := n.leader(ctx)
	if err != nil {
		return nil, err
	}
	in, err := json.Marshal(change)
	if err != nil {
		return nil, err
	}
	c, err := n.conn(addr)
	if err != nil {
		return nil, err
	}
	var out []byte
	if err := c.Invoke(ctx, "/"+nodeServiceName+"/ChangeMembership", &in, &out); err != nil {
		return nil, err
	}
	var nodes []*parleyv1.ClusterNode
	var list []membershipChange
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, err
	}
	for _, m := range list {
		nodes = append(nodes, &parleyv1.ClusterNode{Id: m.ID, Address: m.Address})
	}
	return nodes, nil
}

// applyMembership changes the voters on this node, the leader.
func (n *Node) applyMembership(ctx context.Context, change membershipChange) error {
	var f raft.IndexFuture
	if change.Add {
		f = n.raft.AddVoter(raft.ServerID(change.ID), raft.ServerAddress(change.Address), 0, applyTimeout)
	} else {
		voters, err := n.voters()
		if err != nil {
			return err
		}
		found := false
		for _, v := range voters {
			found = found || v.GetId() == change.ID
		}
		if !found {
			return errNodeNotFound
		}
		f = n.raft.RemoveServer(raft.ServerID(change.ID), 0, applyTimeout)
	}
	if err := wait(ctx, f); err != nil {
		return leadershipError(err)
	}
	return nil
}

func (n *Node) serveChangeMembership(ctx context.Context, in []byte) (*[]byte, error) {
	var change membershipChange
	if err := json.Unmarshal(in, &change); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "membership change does not decode: %v", err)
	}
	err := n.applyMembership(ctx, change)
	if errors.Is(err, errNotLeader) {
		return nil, notLeaderStatus()
	}
	if err != nil {
		return nil, n.server.ErrorStatus(ctx, "ChangeMembership", err)
	}
	voters, err := n.voters()
	if err != nil {
		return nil, err
	}
	var list []membershipChange
	for _, v := range voters {
		list = append(list, membershipChange{ID: v.GetId(), Address: v.GetAddress()})
	}
	out, err := json.Marshal(list)
	return &out, err
}

var changeMembershipMethod = grpc.MethodDesc{MethodName: "ChangeMembership", Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	var in []byte
	if err := dec(&in); err != nil {
		return nil, err
	}
	return srv.(*Node).serveChangeMembership(ctx, in)
}}

func init() { nodeServiceDesc.Methods = append(nodeServiceDesc.Methods, changeMembershipMethod) }

// healthLag is how many entries a node may lag what is committed and still
// report itself healthy.
const healthLag = 1000

// reportHealth keeps the server's cluster health up to date until the node
// closes.
func (n *Node) reportHealth(done <-chan struct{}) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		st := n.Status()
		n.server.SetClusterHealth(st.GetLeaderId() != "" && st.GetLagEntries() <= healthLag)
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}
