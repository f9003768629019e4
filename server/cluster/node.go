// Package cluster replicates a Parley store on hashicorp/raft: the raft log
// holds the calls that change something, and every node applies them through
// the same handlers, into its own store, in the same order (see
// docs/cluster.md). It also carries writes from followers to the leader and
// gives reads their barrier.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/server/deadline"
	"github.com/parley-negotiation/parley/server/rpc"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// Config configures a node.
type Config struct {
	NodeID  string
	DataDir string // raft's log and snapshots go into DataDir/raft
	// Listener receives raft's and the nodes' own connections; Advertise is
	// the address other nodes dial (its host is in this node's certificate).
	Listener  net.Listener
	Advertise string
	TLS       *tls.Config
	// Peers, if not empty, bootstraps a new cluster with these voters (this
	// node among them); every node is given the same list. A node that has
	// raft state already ignores it. Without peers, a new node waits to be
	// added by the leader (AdminService AddNode).
	Peers []Peer
	// ElectionTimeout is raft's heartbeat and election timeout; 0: one second.
	ElectionTimeout time.Duration
	// SnapshotThreshold is how many entries raft applies between snapshots;
	// 0: raft's default (8192).
	SnapshotThreshold uint64
	// SnapshotInterval is how often raft checks for the threshold; 0:
	// raft's default (two minutes).
	SnapshotInterval time.Duration
	Logger           *slog.Logger
	RaftLog          io.Writer // raft's own log lines; nil: discarded
}

// Peer is a voter: its node id and raft address.
type Peer struct {
	ID      string
	Address string
}

// ParsePeers reads "id=host:port,id=host:port".
func ParsePeers(s string) ([]Peer, error) {
	var peers []Peer
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, addr, ok := strings.Cut(item, "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("peer %q: want id=host:port", item)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("peer %q: %w", item, err)
		}
		if seen[id] {
			return nil, fmt.Errorf("peer %q named twice", id)
		}
		seen[id] = true
		peers = append(peers, Peer{ID: id, Address: addr})
	}
	return peers, nil
}

// Node is one member of a cluster.
type Node struct {
	cfg    Config
	db     *store.DB
	server *rpc.Server
	logger *slog.Logger

	raft      *raft.Raft
	fsm       *fsm
	mux       *mux
	logStore  *raftboltdb.BoltStore
	transport *raft.NetworkTransport
	rpc       *grpc.Server

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn // raft address → connection to that node
	// nextBarrier is the barrier that reads arriving now wait for; it starts
	// once the one running (barrierRunning) ends.
	nextBarrier    *barrierCall
	barrierRunning bool
	deadlines      *deadline.Scheduler // running while this node leads
	closed         chan struct{}       // closed by Close
}

// New returns a node that will replicate db. server must have been made with
// rpc.WithReplicator(node); call Start then.
func New(cfg Config, db *store.DB) *Node {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RaftLog == nil {
		cfg.RaftLog = io.Discard
	}
	return &Node{cfg: cfg, db: db, logger: cfg.Logger, conns: map[string]*grpc.ClientConn{}, closed: make(chan struct{})}
}

// Start starts raft and the node-to-node service.
func (n *Node) Start(server *rpc.Server) error {
	n.server = server
	cfg := n.cfg
	dir := filepath.Join(cfg.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("raft folder: %w", err)
	}
	fsm, err := newFSM(n.db, server, n.logger)
	if err != nil {
		return err
	}
	n.fsm = fsm
	advertise, err := net.ResolveTCPAddr("tcp", cfg.Advertise)
	if err != nil {
		return fmt.Errorf("raft address %s: %w", cfg.Advertise, err)
	}
	n.mux = newMux(cfg.Listener, advertise, cfg.TLS)
	n.logStore, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		n.mux.close()
		return fmt.Errorf("raft log: %w", err)
	}
	snapshots, err := raft.NewFileSnapshotStore(dir, 2, cfg.RaftLog)
	if err != nil {
		n.closeStores()
		return fmt.Errorf("raft snapshots: %w", err)
	}
	// A node that died after saving a snapshot it received and before
	// applying it finds the store behind the snapshot: apply it now, since
	// raft will not (NoSnapshotRestoreOnStart) and replays only what follows.
	if err := n.catchUpSnapshot(snapshots); err != nil {
		n.closeStores()
		return err
	}
	n.transport = raft.NewNetworkTransportWithLogger(streamLayer{n.mux.raft}, 5, 10*time.Second,
		hclog.New(&hclog.LoggerOptions{Name: "raft-net", Output: cfg.RaftLog, Level: hclog.Warn}))

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.NoSnapshotRestoreOnStart = true
	rc.Logger = hclog.New(&hclog.LoggerOptions{Name: "raft", Output: cfg.RaftLog, Level: hclog.Info})
	if cfg.ElectionTimeout > 0 {
		rc.HeartbeatTimeout = cfg.ElectionTimeout
		rc.ElectionTimeout = cfg.ElectionTimeout
		rc.LeaderLeaseTimeout = cfg.ElectionTimeout / 2
	}
	if cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = cfg.SnapshotThreshold
		rc.TrailingLogs = cfg.SnapshotThreshold
	}
	if cfg.SnapshotInterval > 0 {
		rc.SnapshotInterval = cfg.SnapshotInterval
	}
	notify := make(chan bool, 16)
	rc.NotifyCh = notify

	existing, err := raft.HasExistingState(n.logStore, n.logStore, snapshots)
	if err != nil {
		n.closeStores()
		return err
	}
	if !existing {
		if err := n.prepareNewState(len(cfg.Peers) > 0); err != nil {
			n.closeStores()
			return err
		}
		if n.fsm, err = newFSM(n.db, server, n.logger); err != nil {
			n.closeStores()
			return err
		}
	}
	if !existing && len(cfg.Peers) > 0 {
		var servers []raft.Server
		for _, p := range cfg.Peers {
			servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Address)})
		}
		if err := raft.BootstrapCluster(rc, n.logStore, n.logStore, snapshots, n.transport, raft.Configuration{Servers: servers}); err != nil {
			n.closeStores()
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	n.raft, err = raft.NewRaft(rc, n.fsm, n.logStore, n.logStore, snapshots, n.transport)
	if err != nil {
		n.closeStores()
		return fmt.Errorf("raft: %w", err)
	}
	n.rpc = grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.MaxRecvMsgSize(rpc.MaxRecvMsgBytes+1<<20), grpc.MaxSendMsgSize(rpc.MaxSendMsgBytes))
	n.rpc.RegisterService(&nodeServiceDesc, n)
	go n.rpc.Serve(n.mux.rpc)
	go n.followLeadership(notify)
	go n.reportHealth(n.closed)
	return nil
}

// prepareNewState readies the store of a node whose raft state is new. A
// node that bootstraps a cluster may start from a copy of a database (every
// node the same copy: a single node's, or a backup): its raft log starts
// again at the first entry, so the store forgets the index it had applied.
// A node that joins a running cluster must start empty: it receives the
// leader's snapshot or log, which would be applied twice on top of a copy.
func (n *Node) prepareNewState(bootstrap bool) error {
	if bootstrap {
		applied, err := n.db.AppliedIndex()
		if err != nil || applied == 0 {
			return err
		}
		n.logger.Info("cluster: a new raft log starts on this database's content", "previous_applied_index", applied)
		return n.db.ResetAppliedIndex()
	}
	has, err := n.db.HasNegotiations()
	if err != nil {
		return err
	}
	if has {
		return errors.New("this node joins a cluster (no --peers) but its database holds negotiations: a joining node starts " +
			"with an empty data folder and receives the cluster's state from the leader")
	}
	return nil
}

func (n *Node) closeStores() {
	if n.logStore != nil {
		n.logStore.Close()
	}
	n.mux.close()
}

func (n *Node) catchUpSnapshot(snapshots raft.SnapshotStore) error {
	list, err := snapshots.List()
	if err != nil || len(list) == 0 {
		return err
	}
	applied, err := n.db.AppliedIndex()
	if err != nil || list[0].Index <= applied {
		return err
	}
	n.logger.Info("the store is behind raft's last snapshot; restoring it", "snapshot_index", list[0].Index, "applied_index", applied)
	_, rc, err := snapshots.Open(list[0].ID)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", list[0].ID, err)
	}
	return n.fsm.Restore(rc)
}

// Close stops the node: raft, the node-to-node service and its connections.
func (n *Node) Close() error {
	select {
	case <-n.closed:
		return nil
	default:
		close(n.closed)
	}
	var err error
	if n.raft != nil {
		err = n.raft.Shutdown().Error()
	}
	n.stopLeading()
	if n.rpc != nil {
		n.rpc.Stop()
	}
	if n.transport != nil {
		n.transport.Close()
	}
	n.mu.Lock()
	for _, c := range n.conns {
		c.Close()
	}
	n.conns = map[string]*grpc.ClientConn{}
	n.mu.Unlock()
	if n.logStore != nil {
		if cerr := n.logStore.Close(); err == nil {
			err = cerr
		}
	}
	if n.mux != nil {
		n.mux.close()
	}
	return err
}

// followLeadership runs the deadline scheduler while this node leads: votes
// close at their deadlines by entries of the leader alone.
func (n *Node) followLeadership(notify <-chan bool) {
	for leading := range notify {
		if leading {
			n.startLeading()
		} else {
			n.stopLeading()
		}
	}
}

func (n *Node) startLeading() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.deadlines != nil {
		return
	}
	n.logger.Info("cluster: this node leads")
	n.deadlines = deadline.StartWith(n.db, n.logger, n.closeAtDeadline)
}

func (n *Node) stopLeading() {
	n.mu.Lock()
	s := n.deadlines
	n.deadlines = nil
	n.mu.Unlock()
	if s != nil {
		n.logger.Info("cluster: this node no longer leads")
		s.Stop()
	}
}

// closeAtDeadline appends a closing at a deadline to the raft log.
func (n *Node) closeAtDeadline(ctx context.Context, x store.Exec) (store.Result, error) {
	cmd, ok := x.Command.(workflow.CloseVotingAtDeadline)
	if !ok {
		return store.Result{}, fmt.Errorf("the deadline scheduler sent %T", x.Command)
	}
	_, err := n.propose(ctx, entry{Kind: kindDeadline, Negotiation: x.NegotiationID, Amendment: cmd.AmendmentID})
	return store.Result{}, err
}

// applyTimeout bounds the wait for raft to commit and apply an entry.
const applyTimeout = 10 * time.Second

var (
	errNoLeader = workflow.Errorf(workflow.EUNAVAILABLE, "NO_LEADER",
		"the cluster has no leader at the moment (an election is under way, or too few nodes are up); retry with the same request_id")
	errLeadershipLost = workflow.Errorf(workflow.EUNAVAILABLE, "LEADERSHIP_LOST",
		"the leader changed while the call was being replicated; it may or may not have been applied: retry with the same request_id")
)

// propose appends an entry to the raft log on this node, the leader, and
// returns what applying it gave.
func (n *Node) propose(ctx context.Context, e entry) (proto.Message, error) {
	e.At = time.Now().UnixNano()
	if _, err := rand.Read(e.Seed[:]); err != nil {
		return nil, err
	}
	data, err := encodeEntry(e)
	if err != nil {
		return nil, err
	}
	timeout := applyTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	f := n.raft.Apply(data, timeout)
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return nil, errNotLeader
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrEnqueueTimeout), errors.Is(err, raft.ErrRaftShutdown):
		return nil, errLeadershipLost
	case err != nil:
		return nil, err
	}
	out, _ := f.Response().(applied)
	return out.reply, out.err
}

// errNotLeader says the entry was not appended: another node leads.
var errNotLeader = errors.New("not the leader")

// Replicate carries out a mutating call: on the leader, through its raft
// log; on a follower, by forwarding it to the leader.
func (n *Node) Replicate(ctx context.Context, call rpc.Call) (proto.Message, error) {
	for {
		if n.raft.State() == raft.Leader {
			reply, err := n.propose(ctx, entry{Kind: kindCall, Call: &call})
			if !errors.Is(err, errNotLeader) {
				return reply, err
			}
		}
		addr, err := n.leader(ctx)
		if err != nil {
			return nil, err
		}
		if addr == n.cfg.Advertise { // this node is becoming leader
			if err := sleep(ctx, 20*time.Millisecond); err != nil {
				return nil, err
			}
			continue
		}
		return n.forward(ctx, addr, call)
	}
}

// leaderWait bounds how long a call waits for an election to end.
const leaderWait = 5 * time.Second

// leader returns the raft address of the leader, waiting for one a while.
func (n *Node) leader(ctx context.Context) (string, error) {
	deadline := time.Now().Add(leaderWait)
	for {
		if addr, _ := n.raft.LeaderWithID(); addr != "" {
			return string(addr), nil
		}
		if time.Now().After(deadline) {
			return "", errNoLeader
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ReadBarrier returns once this node has applied every entry the leader had
// committed when it was called.
func (n *Node) ReadBarrier(ctx context.Context) error {
	for {
		if n.raft.State() == raft.Leader {
			index, err := n.readIndex(ctx)
			if errors.Is(err, errNotLeader) {
				if err := sleep(ctx, 20*time.Millisecond); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			return n.fsm.waitApplied(ctx, index)
		}
		addr, err := n.leader(ctx)
		if err != nil {
			return err
		}
		if addr == n.cfg.Advertise {
			if err := sleep(ctx, 20*time.Millisecond); err != nil {
				return err
			}
			continue
		}
		index, err := n.remoteReadIndex(ctx, addr)
		if err != nil {
			return err
		}
		return n.fsm.waitApplied(ctx, index)
	}
}

// readIndex returns an index that a node must have applied to read what
// every write acknowledged before the call holds, and every write any node
// had applied by then: the leader appends a barrier entry and waits until its
// store has applied everything before it, and returns its store's index then.
// The barrier's commit also proves that this node still leads. Reads that
// arrive while a barrier is on its way share the next one, so that a barrier
// costs one round of the log for many reads.
func (n *Node) readIndex(ctx context.Context) (uint64, error) {
	n.mu.Lock()
	if n.nextBarrier == nil {
		n.nextBarrier = &barrierCall{done: make(chan struct{})}
		if !n.barrierRunning {
			n.barrierRunning = true
			go n.runBarriers()
		}
	}
	b := n.nextBarrier
	n.mu.Unlock()
	select {
	case <-b.done:
		return b.index, b.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// barrierCall is one barrier that reads wait for.
type barrierCall struct {
	done  chan struct{}
	index uint64
	err   error
}

// runBarriers runs the barriers that reads wait for, one after the other,
// until none waits.
func (n *Node) runBarriers() {
	for {
		n.mu.Lock()
		b := n.nextBarrier
		n.nextBarrier = nil
		if b == nil {
			n.barrierRunning = false
			n.mu.Unlock()
			return
		}
		n.mu.Unlock()
		if err := n.raft.Barrier(applyTimeout).Error(); err != nil {
			b.err = leadershipError(err)
		} else {
			b.index = n.fsm.index.Load()
		}
		close(b.done)
	}
}

func leadershipError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return errNotLeader
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrRaftShutdown), errors.Is(err, raft.ErrEnqueueTimeout):
		return errLeadershipLost
	}
	return err
}

// wait waits for a raft future or the end of ctx.
func wait(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Raft returns the node's raft instance, for status and membership.
func (n *Node) Raft() *raft.Raft { return n.raft }

// Address returns the node's raft address.
func (n *Node) Address() string { return n.cfg.Advertise }

// AppliedIndex returns the index of the last entry this node's store applied.
func (n *Node) AppliedIndex() uint64 { return n.fsm.index.Load() }

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
