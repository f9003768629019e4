package client

import (
	"context"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// ClusterStatus returns the status of the cluster node the client talks to
// (administrator only); a single parleyd refuses it with NOT_A_CLUSTER.
func (c *Client) ClusterStatus(ctx context.Context) (*parleyv1.ClusterStatusResponse, error) {
	return invoke(ctx, c, &parleyv1.ClusterStatusRequest{}, c.admin.ClusterStatus)
}

// AddNode adds a node to the cluster's voters and returns the voters after.
func (c *Client) AddNode(ctx context.Context, id, address string) ([]*parleyv1.ClusterNode, error) {
	resp, err := invoke(ctx, c, &parleyv1.AddNodeRequest{NodeId: id, Address: address}, c.admin.AddNode)
	return resp.GetNodes(), err
}

// RemoveNode removes a node from the cluster's voters and returns the
// voters after.
func (c *Client) RemoveNode(ctx context.Context, id string) ([]*parleyv1.ClusterNode, error) {
	resp, err := invoke(ctx, c, &parleyv1.RemoveNodeRequest{NodeId: id}, c.admin.RemoveNode)
	return resp.GetNodes(), err
}
