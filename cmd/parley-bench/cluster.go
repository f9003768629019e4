package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/credential"
)

// cluster is a cluster of parleyd nodes on loopback that the benchmark
// started: raft over mutual TLS with certificates made for the run, fsync on
// everywhere, default raft settings.
type cluster struct {
	bin        string
	dir        string
	adminToken string
	nodes      []*clusterNode
}

type clusterNode struct {
	id   string
	args []string
	log  *os.File // the node's stderr, raft's lines included
	srv  *server
}

// startCluster starts size nodes that bootstrap one cluster, each with the
// extra flags.
func startCluster(ctx context.Context, bin string, size int, extra string) (*cluster, error) {
	dir, err := os.MkdirTemp("", "parley-bench-cluster-")
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: dir}
	c.adminToken, _ = credential.NewToken()
	ok := false
	defer func() {
		if !ok {
			c.stop()
		}
	}()
	caFile := filepath.Join(dir, "ca.pem")
	ca, caKey, err := newCA(caFile)
	if err != nil {
		return nil, err
	}
	// One checkpoint key for the cluster, in every node's folder before it
	// first starts (docs/operations.md).
	signingKey, _, err := note.GenerateKey(rand.Reader, "parley-bench-cluster")
	if err != nil {
		return nil, err
	}
	raftAddrs := make([]string, size)
	var peers []string
	for i := range size {
		if raftAddrs[i], err = freeAddress(); err != nil {
			return nil, err
		}
		peers = append(peers, fmt.Sprintf("n%d=%s", i+1, raftAddrs[i]))
	}
	for i := range size {
		id := fmt.Sprintf("n%d", i+1)
		data := filepath.Join(dir, id)
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(data, "checkpoint-key"), []byte(signingKey+"\n"), 0o600); err != nil {
			return nil, err
		}
		certFile, keyFile := filepath.Join(dir, id+".pem"), filepath.Join(dir, id+"-key.pem")
		if err := newNodeCert(ca, caKey, certFile, keyFile); err != nil {
			return nil, err
		}
		listen, err := freeAddress() // kept across a restart, so that clients reconnect
		if err != nil {
			return nil, err
		}
		args := []string{"--listen", listen, "--data", data, "--log-level", "warn", "--http-listen", "off",
			"--node-id", id, "--raft-listen", raftAddrs[i], "--peers", strings.Join(peers, ","),
			"--cluster-ca", caFile, "--cluster-cert", certFile, "--cluster-key", keyFile}
		args = append(args, strings.Fields(extra)...)
		log, err := os.Create(filepath.Join(dir, id+".log"))
		if err != nil {
			return nil, err
		}
		n := &clusterNode{id: id, args: args, log: log}
		c.nodes = append(c.nodes, n)
		if err := c.start(ctx, n); err != nil {
			return nil, err
		}
	}
	ok = true
	return c, nil
}

// start starts a node's process, the first time or again after a kill.
func (c *cluster) start(ctx context.Context, n *clusterNode) error {
	cmd := exec.CommandContext(ctx, c.bin, n.args...)
	cmd.Env = append(os.Environ(), "PARLEY_ADMIN_TOKEN="+c.adminToken)
	cmd.Stderr = n.log
	addr, exited, err := startServing(cmd, "parleyd")
	if err != nil {
		return fmt.Errorf("node %s: %w (its log: %s)", n.id, err, n.log.Name())
	}
	n.srv = &server{addr: addr, adminToken: c.adminToken, cmd: cmd, exited: exited}
	return nil
}

func (c *cluster) stop() {
	for _, n := range c.nodes {
		if n.srv != nil {
			n.srv.stop()
		}
		n.log.Close()
	}
	os.RemoveAll(c.dir)
}

// leader returns the node that leads once every running node agrees on it,
// waiting at most a minute for an election to end.
func (c *cluster) leader(ctx context.Context) (*clusterNode, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		var leader string
		agreed := true
		for _, n := range c.nodes {
			if n.srv == nil {
				continue
			}
			id, err := n.leaderID(ctx)
			if err != nil || id == "" || (leader != "" && id != leader) {
				agreed = false
				break
			}
			leader = id
		}
		if agreed && leader != "" {
			for _, n := range c.nodes {
				if n.id == leader && n.srv != nil {
					return n, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return nil, errors.New("the cluster has no leader after a minute")
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// caughtUp waits, at most a minute, until every node has applied all it
// knows committed and all have applied the same index: a node restarted
// after a kill has replayed its log and caught up, as an operator waits for
// before taking another node down.
func (c *cluster) caughtUp(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		applied, settled := uint64(0), true
		for _, n := range c.nodes {
			st, err := n.status(ctx)
			if err != nil || st.GetLagEntries() != 0 || st.GetLeaderId() == "" || (applied != 0 && st.GetAppliedIndex() != applied) {
				settled = false
				break
			}
			applied = st.GetAppliedIndex()
		}
		if settled {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the nodes have not caught up with each other after a minute")
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// status asks the node for its cluster status.
func (n *clusterNode) status(ctx context.Context) (*parleyv1.ClusterStatusResponse, error) {
	if n.srv == nil {
		return nil, errors.New("node " + n.id + " is down")
	}
	conn, err := n.srv.dial()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return parleyv1.NewAdminServiceClient(conn).ClusterStatus(as(ctx, n.srv.adminToken), &parleyv1.ClusterStatusRequest{})
}

// leaderID asks the node which node leads.
func (n *clusterNode) leaderID(ctx context.Context) (string, error) {
	st, err := n.status(ctx)
	return st.GetLeaderId(), err
}

// followers returns the running nodes that do not lead.
func (c *cluster) followers(leader *clusterNode) []*clusterNode {
	var out []*clusterNode
	for _, n := range c.nodes {
		if n != leader && n.srv != nil {
			out = append(out, n)
		}
	}
	return out
}

// failover kills the leader (SIGKILL) and returns the time from the kill
// to the first vote a surviving node acknowledges (the new leader elected
// and serving, the follower's forwarding included), then starts the killed
// node again and waits until the cluster agrees on a leader.
func (c *cluster) failover(ctx context.Context, fx *fixture) (time.Duration, error) {
	if err := c.caughtUp(ctx); err != nil {
		return 0, err
	}
	leader, err := c.leader(ctx)
	if err != nil {
		return 0, err
	}
	survivor := c.followers(leader)[0]
	conn, err := survivor.srv.dial()
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	api := parleyv1.NewNegotiationServiceClient(conn)
	token, amendment := fx.tokens[1], fx.amendments[0]
	// A first vote, so that the connection is up before the kill.
	choice := parleyv1.VoteChoice_VOTE_CHOICE_APPROVE
	vote := func(timeout time.Duration) error {
		if choice == parleyv1.VoteChoice_VOTE_CHOICE_APPROVE {
			choice = parleyv1.VoteChoice_VOTE_CHOICE_ABSTAIN
		} else {
			choice = parleyv1.VoteChoice_VOTE_CHOICE_APPROVE
		}
		vctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		_, err := api.CastVote(as(vctx, token), &parleyv1.CastVoteRequest{RequestId: uuid.NewString(), Amendment: amendment, Choice: choice})
		return err
	}
	if err := vote(10 * time.Second); err != nil {
		return 0, fmt.Errorf("vote through %s before the kill: %w", survivor.id, err)
	}
	killed := time.Now()
	leader.srv.cmd.Process.Signal(syscall.SIGKILL)
	<-leader.srv.exited
	leader.srv = nil
	var took time.Duration
	for {
		if err := vote(time.Second); err == nil {
			took = time.Since(killed)
			break
		}
		if time.Since(killed) > time.Minute {
			return 0, fmt.Errorf("no vote acknowledged through %s within a minute of the leader's death", survivor.id)
		}
		// As a client retrying would: not in a tight loop that takes the
		// CPU the election needs.
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return 0, err
		}
	}
	if err := c.start(ctx, leader); err != nil {
		return took, err
	}
	if _, err := c.leader(ctx); err != nil {
		return took, err
	}
	return took, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// freeAddress returns a loopback address with a port free now.
func freeAddress() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// newCA makes the run's certificate authority and writes its certificate.
func newCA(certFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parley-bench cluster CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, writePEM(certFile, "CERTIFICATE", der)
}

// newNodeCert writes a node's certificate, valid for 127.0.0.1 as a server
// and as a client, signed by the CA.
func newNodeCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey, certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "parley node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(keyFile, "EC PRIVATE KEY", kder)
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}

// runClusterLoad measures CastVote on a single node, through a cluster's
// leader and through one of its followers in one run: the same clients, the
// same phases taking turns (--rounds), each beside the no-op ceiling of the
// node it calls; then the time to a serving new leader after the leader's
// SIGKILL, --failovers times.
func runClusterLoad(ctx context.Context, c loadConfig, stdout, stderr io.Writer) error {
	single, err := c.server.start(ctx, stderr)
	if err != nil {
		return err
	}
	defer single.stop()
	bin, err := c.server.binary()
	if err != nil {
		return err
	}
	cl, err := startCluster(ctx, bin, c.cluster, c.server.extra+" "+c.clusterFlags)
	if err != nil {
		return fmt.Errorf("start the cluster: %w", err)
	}
	defer cl.stop()
	leader, err := cl.leader(ctx)
	if err != nil {
		return err
	}
	follower := cl.followers(leader)[0]
	fmt.Fprintf(stdout, "parley-bench load --cluster %d: %d clients, %d delegations, %d open amendments, %s per phase, %d rounds; leader %s, follower %s\n",
		c.cluster, c.clients, c.delegations, c.pool, c.duration, c.rounds, leader.id, follower.id)
	fxSingle, err := newFixture(ctx, single, c.delegations, c.points, c.pool)
	if err != nil {
		return fmt.Errorf("set up the single node: %w", err)
	}
	fxLeader, err := newFixture(ctx, leader.srv, c.delegations, c.points, c.pool)
	if err != nil {
		return fmt.Errorf("set up the cluster: %w", err)
	}
	fxFollower := *fxLeader
	fxFollower.srv = follower.srv

	vote := map[string]int{"vote": 1}
	var steps []step
	for _, target := range []struct {
		name string
		fx   *fixture
	}{{"single node", fxSingle}, {"cluster leader", fxLeader}, {"cluster follower", &fxFollower}} {
		steps = append(steps,
			step{"no-op " + target.name, func() (Figure, error) {
				return target.fx.run(ctx, stderr, "no-op gRPC call, "+target.name, c.clients, c.warmup, c.duration, target.fx.healthOp)
			}},
			step{"vote " + target.name, func() (Figure, error) {
				return target.fx.run(ctx, stderr, fmt.Sprintf("CastVote, %d clients, %s", c.clients, target.name), c.clients, c.warmup, c.duration, target.fx.mixOp(vote))
			}})
		if c.solo > 0 {
			steps = append(steps, step{"solo vote " + target.name, func() (Figure, error) {
				return target.fx.run(ctx, stderr, "CastVote, one client alone, "+target.name, 1, c.warmup/2, c.solo, target.fx.mixOp(vote))
			}})
		}
	}
	byStep, err := runRounds(steps, c.rounds)
	if err != nil {
		return err
	}
	figures := make([]Figure, 0, len(steps))
	for _, st := range steps {
		figures = append(figures, byStep[st.name])
	}
	fmt.Fprintln(stdout)
	printFigures(stdout, figures)

	var failovers []float64
	for i := range c.failovers {
		took, err := cl.failover(ctx, fxLeader)
		if err != nil {
			return fmt.Errorf("failover %d: %w", i+1, err)
		}
		failovers = append(failovers, took.Seconds())
	}

	single1, leader1, follower1 := byStep["vote single node"], byStep["vote cluster leader"], byStep["vote cluster follower"]
	ratios := []Ratio{
		{Name: fmt.Sprintf("CastVote/s through the leader beside the single node, %d clients", c.clients), Value: leader1.PerSecond,
			Ceiling: single1.PerSecond, Target: "(information)", Met: true},
		{Name: fmt.Sprintf("CastVote/s through a follower beside the single node, %d clients", c.clients), Value: follower1.PerSecond,
			Ceiling: single1.PerSecond, Target: "(information)", Met: true},
		{Name: fmt.Sprintf("CastVote/s through the leader beside its no-op calls/s, %d clients", c.clients), Value: leader1.PerSecond,
			Ceiling: byStep["no-op cluster leader"].PerSecond, Target: "(information)", Met: true},
	}
	for i, took := range failovers {
		ratios = append(ratios, Ratio{Name: fmt.Sprintf("failover %d: seconds from the leader's SIGKILL to a vote acknowledged through a survivor, beside 3 s", i+1),
			Value: took, Ceiling: 3, Target: "<= 3 s", Met: took <= 3})
	}
	for i := range ratios {
		if ratios[i].Ceiling > 0 {
			ratios[i].Ratio = ratios[i].Value / ratios[i].Ceiling
		}
	}
	printRatios(stdout, ratios)
	return writeJSON(c.jsonPath, map[string]any{"mode": "load", "machine": machine(), "config": map[string]any{
		"cluster": c.cluster, "cluster_flags": c.clusterFlags, "clients": c.clients, "delegations": c.delegations, "points": c.points, "amendments": c.pool,
		"duration_s": c.duration.Seconds(), "rounds": c.rounds}, "figures": figures, "ratios": ratios, "failover_s": failovers})
}
