package main_test

import (
	"context"
	"fmt"
	"google.golang.org/grpc"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// resumingWatcher follows a negotiation's events across nodes: when its
// stream breaks it resumes on the next node from the last sequence it got,
// as a client does after a failover.
type resumingWatcher struct {
	mu     sync.Mutex
	events []*parleyv1.EventRecord
	done   chan struct{}
}

func (c *testCluster) watch(ctx context.Context, name string, first int) *resumingWatcher {
	w := &resumingWatcher{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := first; ctx.Err() == nil; i++ {
			if !c.running(i % len(c.nodes)) {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			w.mu.Lock()
			after := int64(len(w.events))
			w.mu.Unlock()
			svc := parleyv1.NewNegotiationServiceClient(c.conns[i%len(c.conns)])
			stream, err := svc.WatchEvents(servertest.As(ctx, c.adminToken), &parleyv1.WatchEventsRequest{Negotiation: name, AfterSequence: after})
			if err != nil {
				continue
			}
			for {
				resp, err := stream.Recv()
				if err != nil {
					break
				}
				w.mu.Lock()
				w.events = append(w.events, resp.GetEvent())
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *resumingWatcher) seen() []*parleyv1.EventRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*parleyv1.EventRecord(nil), w.events...)
}

// TestCluster_SurvivesLosingAnyNode runs three real nodes: writes through any
// node, the leader killed and a new one serving, a node restarted that
// catches up (one of them from a snapshot), a watcher that resumes on another
// node, a request retried on another node after a failover; in the end every
// node holds the same log and signs the same tree head with the one key.
func TestCluster_SurvivesLosingAnyNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	c := startCluster(t, 3, "--raft-snapshot-threshold", "64", "--raft-snapshot-interval", "500ms", "--raft-election-timeout", "500ms")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	leader := c.leader()
	follower := (leader + 1) % 3

	// Created, and tokens issued, through a follower: forwarded to the leader.
	req := demo.CreateRequest()
	req.RequestId = ""
	neg := c.nodes[follower].Create(ctx, req)
	watcher := c.watch(ctx, neg.Name, follower)

	var points []*parleyv1.Point
	if err := c.onAny(ctx, (leader+2)%3, func(ctx context.Context, conn *grpc.ClientConn) error {
		doc, err := parleyv1.NewNegotiationServiceClient(conn).GetDocument(servertest.As(ctx, c.adminToken), &parleyv1.GetDocumentRequest{Negotiation: neg.Name})
		points = doc.GetPoints()
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// propose files an amendment through node first, retrying with the same
	// request id on the next node while the cluster is unavailable.
	var acked []string // request ids acknowledged
	propose := func(first int, text string) *parleyv1.Amendment {
		t.Helper()
		r := &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: neg.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE,
			Point: points[0].GetName(), BaseRevision: 1, Text: text, Rationale: "cluster test"}
		var out *parleyv1.ProposeAmendmentResponse
		err := c.onAny(ctx, first, func(ctx context.Context, conn *grpc.ClientConn) error {
			var err error
			out, err = parleyv1.NewNegotiationServiceClient(conn).ProposeAmendment(servertest.As(ctx, neg.Tokens["ukraine"]), r)
			return err
		})
		if err != nil {
			t.Fatalf("propose %q: %v", text, err)
		}
		acked = append(acked, r.RequestId)
		return out.GetAmendment()
	}

	// Writes on every node.
	for i := range 3 {
		propose(i, fmt.Sprintf("Text written through node %d.", i+1))
	}

	// A vote, and the same request retried on another node: the first reply,
	// and no new event.
	first := propose(follower, "An amendment to vote on.")
	vote := &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: first.GetName(), Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}
	var reply, again *parleyv1.CastVoteResponse
	if err := c.onAny(ctx, follower, func(ctx context.Context, conn *grpc.ClientConn) error {
		var err error
		reply, err = parleyv1.NewNegotiationServiceClient(conn).CastVote(servertest.As(ctx, neg.Tokens["russia"]), vote)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	before := len(c.converge(ctx, neg.Name))

	// The leader dies; a new one serves.
	killed := c.leader()
	c.kill(killed)
	died := time.Now()
	propose((killed+1)%3, "Written after the leader died.")
	t.Logf("first write acknowledged %s after the leader was killed", time.Since(died).Round(time.Millisecond))
	if err := c.onAny(ctx, (killed+2)%3, func(ctx context.Context, conn *grpc.ClientConn) error {
		var err error
		again, err = parleyv1.NewNegotiationServiceClient(conn).CastVote(servertest.As(ctx, neg.Tokens["russia"]), vote)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(reply, again) {
		t.Errorf("the vote retried on another node after the failover got\n%v\nwant the first reply\n%v", again, reply)
	}
	for i := range 20 {
		propose(i, fmt.Sprintf("Written with one node down, %d.", i))
	}

	// The killed node comes back and catches up from the log.
	c.restart(killed)
	for i := range 10 {
		propose(killed, fmt.Sprintf("Written through the node that came back, %d.", i))
	}
	c.converge(ctx, neg.Name)

	// A follower misses more than a snapshot's worth of entries and catches
	// up from the leader's snapshot.
	lagging := (c.leader() + 1) % 3
	c.kill(lagging)
	for i := range 150 {
		propose(i, fmt.Sprintf("Written while node %d is down, %d.", lagging+1, i))
	}
	// A snapshot taken after all of that compacts the log past what the
	// lagging node has.
	snapshotter := c.leader()
	snapshots := strings.Count(c.nodes[snapshotter].Stderr.String(), "snapshot complete")
	for i := range 70 {
		propose(snapshotter, fmt.Sprintf("Written to pass the snapshot threshold, %d.", i))
	}
	waitFor(t, 30*time.Second, "a new snapshot on the leader", func() bool {
		return strings.Count(c.nodes[snapshotter].Stderr.String(), "snapshot complete") > snapshots
	})
	c.restart(lagging)
	propose(lagging, "Written through the node restored from a snapshot.")
	log := c.converge(ctx, neg.Name)
	if !strings.Contains(c.nodes[lagging].Stderr.String(), "restored a snapshot") {
		t.Errorf("node %d caught up without restoring the leader's snapshot", lagging+1)
	}

	// Every acknowledged write is in the log exactly once.
	count := map[string]int{}
	for _, leaf := range log {
		var e parleyv1.Event
		if err := proto.Unmarshal(leaf, &e); err != nil {
			t.Fatal(err)
		}
		if e.GetAmendmentProposed() != nil {
			count[e.GetRequestId()]++
		}
	}
	for _, id := range acked {
		if count[id] != 1 {
			t.Errorf("acknowledged request %s is in the log %d times, want once", id, count[id])
		}
	}
	if votes := len(log); votes <= before {
		t.Errorf("log did not grow after the failover")
	}

	// The watcher, resumed across nodes, saw the log without gap or repeat.
	deadline := time.Now().Add(30 * time.Second)
	for len(watcher.seen()) < len(log) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-watcher.done
	seen := watcher.seen()
	if len(seen) != len(log) {
		t.Fatalf("watcher saw %d events, the log holds %d", len(seen), len(log))
	}
	for i, e := range seen {
		if e.GetSequence() != int64(i+1) || !proto.Equal(&parleyv1.EventRecord{Leaf: e.GetLeaf()}, &parleyv1.EventRecord{Leaf: log[i]}) {
			t.Fatalf("watcher's event %d is sequence %d, or differs from the log", i+1, e.GetSequence())
		}
	}
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
