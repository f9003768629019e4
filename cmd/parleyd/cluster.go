package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/parley-negotiation/parley/server/cluster"
	"github.com/parley-negotiation/parley/server/rpc"
)

// ClusterConfig turns parleyd into one node of a raft cluster (see
// docs/cluster.md). It is off unless NodeID is set.
type ClusterConfig struct {
	NodeID            string
	RaftListen        string // raft's and the nodes' own traffic, over mutual TLS
	RaftAdvertise     string // the address other nodes dial; default RaftListen
	Peers             string // id=host:port,... to bootstrap a new cluster
	CA, Cert, Key     string // the cluster's CA, and this node's certificate and key
	ElectionTimeout   time.Duration
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
}

// clusterFlags registers the cluster mode's flags.
func (c *ClusterConfig) clusterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.NodeID, "node-id", "", "`id` of this node in a cluster (e.g. the party that runs it); with it parleyd runs in cluster mode and needs --raft-listen and the --cluster-* files")
	fs.StringVar(&c.RaftListen, "raft-listen", "", "`address` for raft and the other nodes of the cluster (mutual TLS)")
	fs.StringVar(&c.RaftAdvertise, "raft-advertise", "", "`address` other nodes dial to reach this one, if not --raft-listen (a name or IP in --cluster-cert)")
	fs.StringVar(&c.Peers, "peers", "", "`voters` of a new cluster, id=host:port,... (this node among them, the same list on every node); ignored once the node has raft state; without it a new node waits to be added with `parley cluster add`")
	fs.StringVar(&c.CA, "cluster-ca", "", "PEM `file` of the CA that signs every node's certificate")
	fs.StringVar(&c.Cert, "cluster-cert", "", "PEM `file` with this node's certificate, valid for its raft address, for server and client authentication")
	fs.StringVar(&c.Key, "cluster-key", "", "PEM `file` with the private key of --cluster-cert")
	fs.DurationVar(&c.ElectionTimeout, "raft-election-timeout", time.Second, "how long a follower waits without hearing from the leader before it calls an election")
	fs.Uint64Var(&c.SnapshotThreshold, "raft-snapshot-threshold", 8192, "raft entries between snapshots of the store; as many are kept after each snapshot for followers that lag")
	fs.DurationVar(&c.SnapshotInterval, "raft-snapshot-interval", 2*time.Minute, "how often raft checks whether --raft-snapshot-threshold entries have passed since the last snapshot")
}

// enabled reports whether parleyd runs as a cluster node.
func (c *ClusterConfig) enabled() bool { return c.NodeID != "" }

// check validates the cluster flags against the rest of the configuration.
func (c *ClusterConfig) check(all *Config) error {
	if !c.enabled() {
		if c.RaftListen != "" || c.Peers != "" || c.RaftAdvertise != "" {
			return errors.New("--raft-listen, --raft-advertise and --peers need --node-id (cluster mode)")
		}
		return nil
	}
	switch {
	case c.RaftListen == "":
		return errors.New("--node-id needs --raft-listen: the address for raft and the other nodes")
	case all.Demo:
		return errors.New("--demo is for a single node; create the negotiation through any node of the cluster instead")
	case all.WriteAheadLog:
		return errors.New("--write-ahead-log is for a single node: a cluster node's raft log is its write-ahead log")
	case all.RotateCheckpointKey:
		return errors.New("--rotate-checkpoint-key is for a single node: every node of a cluster holds the same checkpoint key (see docs/operations.md)")
	case c.ElectionTimeout < 100*time.Millisecond:
		return fmt.Errorf("--raft-election-timeout %s: at least 100ms", c.ElectionTimeout)
	}
	if _, err := cluster.ParsePeers(c.Peers); err != nil {
		return fmt.Errorf("--peers: %w", err)
	}
	return nil
}

// startCluster makes this parleyd a node of its cluster: the server's
// mutations go through raft from now on. It returns the node, not yet
// started (startNode starts it once the server exists).
func (m *Main) newClusterNode() (*cluster.Node, []rpc.Option, error) {
	c := m.Config.Cluster
	tlsConfig, err := cluster.LoadTLS(cluster.TLSFiles{CA: c.CA, Cert: c.Cert, Key: c.Key})
	if err != nil {
		return nil, nil, err
	}
	peers, _ := cluster.ParsePeers(c.Peers)
	ln, err := net.Listen("tcp", c.RaftListen)
	if err != nil {
		return nil, nil, fmt.Errorf("--raft-listen: %w", err)
	}
	advertise := c.RaftAdvertise
	if advertise == "" {
		advertise = ln.Addr().String()
	}
	node := cluster.New(cluster.Config{NodeID: c.NodeID, DataDir: m.Config.DataDir, Listener: ln, Advertise: advertise, TLS: tlsConfig,
		Peers: peers, ElectionTimeout: c.ElectionTimeout, SnapshotThreshold: c.SnapshotThreshold, SnapshotInterval: c.SnapshotInterval, Logger: m.Logger, RaftLog: m.Stderr}, m.DB)
	return node, []rpc.Option{rpc.WithReplicator(node), rpc.WithClusterAdmin(node)}, nil
}
