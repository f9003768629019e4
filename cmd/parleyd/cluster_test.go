package main_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"google.golang.org/grpc"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// testCluster is a cluster of real parleyd processes on loopback, talking
// raft over mutual TLS with certificates made for the test.
type testCluster struct {
	t     *testing.T
	nodes []*servertest.Server
	conns []*grpc.ClientConn // one per node, made at start: it reconnects across restarts
	mu    sync.Mutex
	up    []bool

	dir        string
	ca         *x509.Certificate
	caKey      *ecdsa.PrivateKey
	caFile     string
	signingKey string   // the checkpoint key every node holds
	extra      []string // flags of every node
	adminToken string
	verifier   note.Verifier
}

// startCluster starts size nodes that bootstrap one cluster.
func startCluster(t *testing.T, size int, extra ...string) *testCluster {
	t.Helper()
	dir := t.TempDir()
	caCert, caKey := newTestCA(t)
	caFile := filepath.Join(dir, "ca.pem")
	writePEM(t, caFile, "CERTIFICATE", caCert.Raw)
	skey, vkey, err := note.GenerateKey(rand.Reader, "parley-cluster-test")
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, adminToken: "prl_cluster-admin-token-" + fmt.Sprint(time.Now().UnixNano()), verifier: verifier,
		dir: dir, ca: caCert, caKey: caKey, caFile: caFile, signingKey: skey, extra: extra}
	t.Cleanup(func() {
		if t.Failed() {
			for i, n := range c.nodes {
				t.Logf("node %d's log:\n%s", i+1, tail(n.Stderr.String(), 60))
			}
		}
	})
	addrs := make([]string, size)
	var peers []string
	for i := range size {
		addrs[i] = freeAddress(t)
		peers = append(peers, fmt.Sprintf("n%d=%s", i+1, addrs[i]))
	}
	for i := range size {
		c.startNode(addrs[i], "--peers", strings.Join(peers, ","))
	}
	return c
}

// startNode starts the next node, n<number>, with its raft on addr, its
// own certificate and the cluster's checkpoint key.
func (c *testCluster) startNode(addr string, args ...string) *servertest.Server {
	t := c.t
	t.Helper()
	id := fmt.Sprintf("n%d", len(c.nodes)+1)
	data := filepath.Join(c.dir, id)
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	// One checkpoint key for the cluster, in every node's folder.
	if err := os.WriteFile(filepath.Join(data, "checkpoint-key"), []byte(c.signingKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(c.dir, id+".pem"), filepath.Join(c.dir, id+"-key.pem")
	newNodeCert(t, c.ca, c.caKey, certFile, keyFile)
	all := append(append([]string{"--node-id", id, "--raft-listen", addr,
		"--cluster-ca", c.caFile, "--cluster-cert", certFile, "--cluster-key", keyFile,
		"--http-listen", "off", "--rate-limit", "0"}, c.extra...), args...)
	n := servertest.StartIn(t, data, c.adminToken, all...)
	c.mu.Lock()
	c.nodes, c.conns, c.up = append(c.nodes, n), append(c.conns, n.Conn()), append(c.up, true)
	c.mu.Unlock()
	return n
}

// freeAddress returns a loopback address with a port free now.
func freeAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newTestCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parley cluster test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// newNodeCert writes a node's certificate, valid for 127.0.0.1 as a server
// and as a client, signed by the CA.
func newNodeCert(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "parley node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, certFile, "CERTIFICATE", der)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// leader returns the index of the running node that leads, as the nodes'
// logs say, waiting for an election to end.
func (c *testCluster) leader() int {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		found := -1
		for i, n := range c.nodes {
			if !c.running(i) {
				continue
			}
			log := n.Stderr.String()
			if strings.LastIndex(log, "cluster: this node leads") > strings.LastIndex(log, "cluster: this node no longer leads") {
				if found >= 0 {
					found = -2 // two say so: the old one has not heard yet
					break
				}
				found = i
			}
		}
		if found >= 0 {
			return found
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("no leader within 30s")
	return -1
}

// stale marks a read as served from the node's own store.
func stale(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "parley-read-consistency", "stale")
}

// retryable reports whether a client should try a call again, with the same
// request id, on the same or another node.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}

// onAny runs call against the running nodes in turn, starting with node
// first, until it succeeds or fails for a reason other than the node or the
// cluster being unavailable.
func (c *testCluster) onAny(ctx context.Context, first int, call func(ctx context.Context, conn *grpc.ClientConn) error) error {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for i := first; ; i++ {
		if !c.running(i % len(c.nodes)) {
			continue
		}
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := call(callCtx, c.conns[i%len(c.conns)])
		cancel()
		if err == nil || !retryable(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logOf returns every event of a negotiation as one node stores it.
func (c *testCluster) logOf(ctx context.Context, node int, name string) [][]byte {
	c.t.Helper()
	svc := parleyv1.NewNegotiationServiceClient(c.conns[node])
	var leaves [][]byte
	for _, e := range listAllEvents(c.t, stale(servertest.As(ctx, c.adminToken)), svc, name, 1000) {
		leaves = append(leaves, e.GetLeaf())
	}
	return leaves
}

// checkpointOf returns a node's signed checkpoint of a negotiation, checking
// its signature with the cluster's one key.
func (c *testCluster) checkpointOf(ctx context.Context, node int, name string) string {
	c.t.Helper()
	audit := parleyv1.NewAuditServiceClient(c.conns[node])
	cp, err := audit.GetCheckpoint(stale(servertest.As(ctx, c.adminToken)), &parleyv1.GetCheckpointRequest{Negotiation: name})
	if err != nil {
		c.t.Fatalf("node %d: checkpoint: %v", node+1, err)
	}
	n, err := note.Open([]byte(cp.GetCheckpoint()), note.VerifierList(c.verifier))
	if err != nil {
		c.t.Fatalf("node %d: checkpoint does not verify with the cluster key: %v", node+1, err)
	}
	return n.Text
}

// converge waits until every running node holds the same log of the
// negotiation as the leader, and the same signed tree head, and returns it.
func (c *testCluster) converge(ctx context.Context, name string) [][]byte {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var want [][]byte
		var head string
		same := true
		for i := range c.nodes {
			if !c.running(i) {
				continue
			}
			leaves, cp := c.logOf(ctx, i, name), c.checkpointOf(ctx, i, name)
			if want == nil {
				want, head = leaves, cp
				continue
			}
			if len(leaves) != len(want) || cp != head {
				same = false
				continue
			}
			for j := range leaves {
				if !bytes.Equal(leaves[j], want[j]) {
					c.t.Fatalf("node %d: event %d differs from the first running node's", i+1, j+1)
				}
			}
		}
		if same {
			return want
		}
		if time.Now().After(deadline) {
			c.t.Fatal("the nodes' logs did not converge within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tail returns the last lines of a log.
func tail(log string, lines int) string {
	all := strings.Split(strings.TrimRight(log, "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// running reports whether node i is up; clients may call it from any
// goroutine (servertest.Server is the test goroutine's alone).
func (c *testCluster) running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up[i]
}

// kill kills node i with SIGKILL.
func (c *testCluster) kill(i int) {
	c.mu.Lock()
	c.up[i] = false
	c.mu.Unlock()
	c.nodes[i].Kill()
}

// restart starts node i again on its folder and addresses.
func (c *testCluster) restart(i int) {
	c.nodes[i].Restart()
	c.mu.Lock()
	c.up[i] = true
	c.mu.Unlock()
}
