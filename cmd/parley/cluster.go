package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// clusterCommand shows and changes the nodes of a parleyd cluster.
func (a *app) clusterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Show a cluster node's status; add or remove nodes (administrator)",
		Long: `A cluster of parleyd nodes (parleyd --node-id ...) replicates every change through
raft: any node serves clients, and the cluster goes on while a majority of its
nodes is up. 'parley cluster status' shows the node the client talks to: its
role, the leader, the voters and how far it lags. Add a node after starting it
with its own --node-id and --raft-listen (and no --peers); remove one before
retiring it (docs/operations.md).`,
		Args: args(0, 0, ""),
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show this node's role, the leader, the voters and the lag",
		Args:  args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			st, err := cl.ClusterStatus(ctx)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, st)
			}
			role := strings.ToLower(strings.TrimPrefix(st.GetRole().String(), "CLUSTER_ROLE_"))
			leader := st.GetLeaderId()
			if leader == "" {
				leader = "none (an election is under way, or too few nodes are up)"
			}
			fmt.Fprintf(a.Stdout, "Node %s: %s, term %d\nLeader: %s\nApplied %d of %d committed (lag %d)\n",
				st.GetNodeId(), role, st.GetTerm(), leader, st.GetAppliedIndex(), st.GetCommitIndex(), st.GetLagEntries())
			return a.printNodes(st.GetNodes(), st.GetLeaderId())
		}),
	}
	add := &cobra.Command{
		Use:   "add NODE-ID RAFT-ADDRESS",
		Short: "Add a started node to the cluster's voters",
		Args:  args(2, 2, "the new node's id and its raft address host:port"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			nodes, err := cl.AddNode(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, map[string]any{"nodes": apiJSONList(nodes)})
			}
			fmt.Fprintf(a.Stdout, "Added node %s (%s); it catches up from the leader.\n", args[0], args[1])
			return a.printNodes(nodes, "")
		}),
	}
	remove := &cobra.Command{
		Use:   "remove NODE-ID",
		Short: "Remove a node from the cluster's voters",
		Args:  args(1, 1, "the id of the node to remove"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			nodes, err := cl.RemoveNode(ctx, args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, map[string]any{"nodes": apiJSONList(nodes)})
			}
			fmt.Fprintf(a.Stdout, "Removed node %s; stop its parleyd now.\n", args[0])
			return a.printNodes(nodes, "")
		}),
	}
	cmd.AddCommand(status, add, remove)
	return cmd
}

func (a *app) printNodes(nodes []*parleyv1.ClusterNode, leader string) error {
	w := table(a.Stdout)
	fmt.Fprintln(w, "NODE\tRAFT ADDRESS\tLEADER")
	for _, n := range nodes {
		mark := "-"
		if n.GetId() == leader {
			mark = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", n.GetId(), n.GetAddress(), mark)
	}
	return w.Flush()
}
