package rpc

import (
	"context"
	"net"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/workflow"
)

// ClusterAdmin is a node's view and management of its cluster, for
// AdminService's ClusterStatus, AddNode and RemoveNode (server/cluster).
type ClusterAdmin interface {
	Status() *parleyv1.ClusterStatusResponse
	AddNode(ctx context.Context, id, address string) ([]*parleyv1.ClusterNode, error)
	RemoveNode(ctx context.Context, id string) ([]*parleyv1.ClusterNode, error)
}

// WithClusterAdmin serves the cluster's status and membership through a.
func WithClusterAdmin(a ClusterAdmin) Option {
	return func(s *Server) { s.clusterAdmin = a }
}

// ClusterHealthService is the health service name that is SERVING while
// this node of a cluster knows a leader and its store keeps up with what the
// cluster committed; NOT_SERVING otherwise. ClusterStatus says more.
const ClusterHealthService = "parley.v1.Cluster"

// SetClusterHealth sets the health of ClusterHealthService.
func (s *Server) SetClusterHealth(serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus(ClusterHealthService, st)
}

// clusterLocalMethods answer from the node called, without a read barrier:
// the status of a node must be readable while the cluster has no leader.
var clusterLocalMethods = map[string]bool{
	parleyv1.AdminService_ClusterStatus_FullMethodName: true,
	parleyv1.AdminService_AddNode_FullMethodName:       true,
	parleyv1.AdminService_RemoveNode_FullMethodName:    true,
}

var errNotACluster = workflow.Errorf(workflow.EFAILEDPRECONDITION, "NOT_A_CLUSTER",
	"this parleyd is a single node; cluster mode needs --node-id, --raft-listen and the --cluster-* files (docs/operations.md)")

func (s *Server) ClusterStatus(ctx context.Context, _ *parleyv1.ClusterStatusRequest) (*parleyv1.ClusterStatusResponse, error) {
	if err := callerFrom(ctx).requireAdmin(); err != nil {
		return nil, err
	}
	if s.clusterAdmin == nil {
		return nil, errNotACluster
	}
	return s.clusterAdmin.Status(), nil
}

func (s *Server) AddNode(ctx context.Context, req *parleyv1.AddNodeRequest) (*parleyv1.AddNodeResponse, error) {
	if err := callerFrom(ctx).requireAdmin(); err != nil {
		return nil, err
	}
	if err := validateNodeID(req.GetNodeId()); err != nil {
		return nil, err
	}
	if _, _, err := net.SplitHostPort(req.GetAddress()); err != nil || req.GetAddress() == "" {
		return nil, workflow.Errorf(workflow.EINVALID, "NODE_ADDRESS_INVALID", "address must be the node's raft address, host:port")
	}
	if s.clusterAdmin == nil {
		return nil, errNotACluster
	}
	nodes, err := s.clusterAdmin.AddNode(ctx, req.GetNodeId(), req.GetAddress())
	if err != nil {
		return nil, err
	}
	return &parleyv1.AddNodeResponse{Nodes: nodes}, nil
}

func (s *Server) RemoveNode(ctx context.Context, req *parleyv1.RemoveNodeRequest) (*parleyv1.RemoveNodeResponse, error) {
	if err := callerFrom(ctx).requireAdmin(); err != nil {
		return nil, err
	}
	if err := validateNodeID(req.GetNodeId()); err != nil {
		return nil, err
	}
	if s.clusterAdmin == nil {
		return nil, errNotACluster
	}
	nodes, err := s.clusterAdmin.RemoveNode(ctx, req.GetNodeId())
	if err != nil {
		return nil, err
	}
	return &parleyv1.RemoveNodeResponse{Nodes: nodes}, nil
}

// MaxNodeIDBytes bounds a node id.
const MaxNodeIDBytes = 64

func validateNodeID(id string) error {
	if id == "" || len(id) > MaxNodeIDBytes {
		return workflow.Errorf(workflow.EINVALID, "NODE_ID_INVALID", "node_id is 1 to %d characters", MaxNodeIDBytes)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return workflow.Errorf(workflow.EINVALID, "NODE_ID_INVALID", "node_id holds letters, digits, '-', '_' and '.' only")
		}
	}
	return nil
}
