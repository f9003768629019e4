package main_test

import (
	"context"
	"fmt"
	"google.golang.org/grpc"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// The voters of the chaos test: three of the four delegations, so that voting
// never closes by itself and votes can change for as long as the test runs.
var chaosVoters = []string{"ukraine", "russia", "united-states"}

// chaosVotes are the votes on one amendment, by voter (index in
// chaosVoters): 0 for none, else a VoteChoice.
type chaosVotes [3]parleyv1.VoteChoice

// chaosInput is one operation of the recorded history.
type chaosInput struct {
	amendment string
	read      bool // a GetAmendment; otherwise a CastVote
	voter     int
	choice    parleyv1.VoteChoice
	request   string // the vote's request id, for the diagnosis
	node      int    // the node that answered a read, for the diagnosis
}

// votesModel is the specification the history must be linearizable against:
// per amendment, each voter's latest vote. A vote's reply shows the votes
// right after it; a read shows the votes as they are.
var votesModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		var order []string
		for _, op := range history {
			a := op.Input.(chaosInput).amendment
			if _, ok := by[a]; !ok {
				order = append(order, a)
			}
			by[a] = append(by[a], op)
		}
		var out [][]porcupine.Operation
		for _, a := range order {
			out = append(out, by[a])
		}
		return out
	},
	Init: func() any { return chaosVotes{} },
	Step: func(state, input, output any) (bool, any) {
		in, now, seen := input.(chaosInput), state.(chaosVotes), output.(chaosVotes)
		if in.read {
			return seen == now, now
		}
		next := now
		next[in.voter] = in.choice
		return seen == next, next
	},
	Equal: func(a, b any) bool { return a.(chaosVotes) == b.(chaosVotes) },
	DescribeOperation: func(input, output any) string {
		in := input.(chaosInput)
		if in.read {
			return fmt.Sprintf("read %s → %v", in.amendment[len(in.amendment)-6:], output)
		}
		return fmt.Sprintf("%s votes %s on %s → %v", chaosVoters[in.voter], in.choice, in.amendment[len(in.amendment)-6:], output)
	},
}

func votesOf(a *parleyv1.Amendment) chaosVotes {
	var v chaosVotes
	for _, vote := range a.GetVotes() {
		for i, id := range chaosVoters {
			if vote.GetParticipant() == id {
				v[i] = vote.GetChoice()
			}
		}
	}
	return v
}

// chaosKills is how many times the chaos test kills the leader:
// PARLEY_CLUSTER_CHAOS_KILLS, 10 by default.
func chaosKills(t *testing.T) int {
	if s := os.Getenv("PARLEY_CLUSTER_CHAOS_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("PARLEY_CLUSTER_CHAOS_KILLS=%q: want a positive count", s)
		}
		return n
	}
	return 10
}

// TestCluster_Chaos writes votes from several clients to a three-node cluster
// while the leader is killed (SIGKILL) at random moments again and again and
// restarted, and a node is paused (SIGSTOP) for longer than the election
// timeout. Every acknowledged vote must be in every node's log exactly once,
// the logs identical, a watcher resuming across nodes must see the log
// without gap or repeat, and the history of votes and reads the clients saw
// must be linearizable (porcupine, a model of the votes on each amendment).
func TestCluster_Chaos(t *testing.T) {
	if testing.Short() {
		t.Skip("kills cluster nodes for a minute or more")
	}
	kills := chaosKills(t)
	const election = 500 * time.Millisecond
	c := startCluster(t, 3, "--raft-snapshot-threshold", "256", "--raft-snapshot-interval", "1s",
		"--raft-election-timeout", election.String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	leader := c.leader()
	req := demo.CreateRequest()
	req.RequestId = ""
	neg := c.nodes[(leader+1)%3].Create(ctx, req)
	var doc *parleyv1.GetDocumentResponse
	if err := c.onAny(ctx, 0, func(ctx context.Context, conn *grpc.ClientConn) error {
		var err error
		doc, err = parleyv1.NewNegotiationServiceClient(conn).GetDocument(servertest.As(ctx, c.adminToken), &parleyv1.GetDocumentRequest{Negotiation: neg.Name})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var amendments []string
	for i := range 2 {
		r := &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: neg.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE,
			Point: doc.GetPoints()[i].GetName(), BaseRevision: 1, Text: fmt.Sprintf("Chaos text %d.", i), Rationale: "chaos"}
		if err := c.onAny(ctx, i, func(ctx context.Context, conn *grpc.ClientConn) error {
			out, err := parleyv1.NewNegotiationServiceClient(conn).ProposeAmendment(servertest.As(ctx, neg.Tokens["europe"]), r)
			if err == nil {
				amendments = append(amendments, out.GetAmendment().GetName())
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	watcher := c.watch(ctx, neg.Name, 1)

	// The clients: two writers per voter and two readers, each on its own
	// node to begin with, moving to the next when a node fails it.
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		acked   = map[string]bool{} // request ids of acknowledged votes
		failed  []string
	)
	clientCtx, stopClients := context.WithCancel(ctx)
	var clients sync.WaitGroup
	client := 0
	run := func(body func(id int, rng *rand.Rand)) {
		id := client
		client++
		clients.Add(1)
		go func() {
			defer clients.Done()
			rng := rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))
			for clientCtx.Err() == nil {
				body(id, rng)
			}
		}()
	}
	choices := []parleyv1.VoteChoice{parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, parleyv1.VoteChoice_VOTE_CHOICE_REJECT, parleyv1.VoteChoice_VOTE_CHOICE_ABSTAIN}
	for voter := range chaosVoters {
		for range 2 {
			run(func(client int, rng *rand.Rand) {
				in := chaosInput{amendment: amendments[rng.IntN(len(amendments))], voter: voter, choice: choices[rng.IntN(len(choices))]}
				// A reason of its own makes each vote a change, hence an
				// event: an unchanged vote records nothing.
				id := rid()
				in.request = id
				r := &parleyv1.CastVoteRequest{RequestId: id, Amendment: in.amendment, Choice: in.choice, Reason: "vote " + id}
				call := time.Now().UnixNano()
				var reply *parleyv1.CastVoteResponse
				err := c.onAny(ctx, client, func(ctx context.Context, conn *grpc.ClientConn) error {
					var err error
					reply, err = parleyv1.NewNegotiationServiceClient(conn).CastVote(servertest.As(ctx, neg.Tokens[chaosVoters[voter]]), r)
					return err
				})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = append(failed, fmt.Sprintf("vote %s: %v", r.RequestId, err))
					return
				}
				acked[r.RequestId] = true
				history = append(history, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: votesOf(reply.GetAmendment()), Return: time.Now().UnixNano()})
			})
		}
	}
	for range 2 {
		run(func(id int, rng *rand.Rand) {
			in := chaosInput{amendment: amendments[rng.IntN(len(amendments))], read: true}
			call := time.Now().UnixNano()
			var reply *parleyv1.GetAmendmentResponse
			err := c.onAny(ctx, id, func(ctx context.Context, conn *grpc.ClientConn) error {
				var err error
				reply, err = parleyv1.NewNegotiationServiceClient(conn).GetAmendment(servertest.As(ctx, c.adminToken), &parleyv1.GetAmendmentRequest{Name: in.amendment})
				for i := range c.conns {
					if c.conns[i] == conn {
						in.node = i + 1
					}
				}
				return err
			})
			if err != nil {
				return // a read that never answered tells nothing
			}
			mu.Lock()
			defer mu.Unlock()
			history = append(history, porcupine.Operation{ClientId: id, Input: in, Call: call, Output: votesOf(reply.GetAmendment()), Return: time.Now().UnixNano()})
		})
	}

	// The chaos: the leader killed at a random moment, restarted a moment
	// later; halfway, a node paused for three election timeouts.
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for i := range kills {
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		if i == kills/2 {
			paused := c.leader()
			c.nodes[paused].Signal(syscall.SIGSTOP) // it stays "running": calls to it time out
			time.Sleep(3 * election)
			c.nodes[paused].Signal(syscall.SIGCONT)
			t.Logf("paused node %d (the leader) for %s", paused+1, 3*election)
			time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
		}
		victim := c.leader()
		c.kill(victim)
		time.Sleep(time.Duration(100+rng.IntN(900)) * time.Millisecond)
		c.restart(victim)
	}
	time.Sleep(time.Second)
	stopClients()
	clients.Wait()

	mu.Lock()
	defer mu.Unlock()
	for _, f := range failed {
		t.Errorf("a client gave up: %s", f)
	}
	log := c.converge(ctx, neg.Name)
	count := map[string]int{}
	for _, leaf := range log {
		var e parleyv1.Event
		if err := proto.Unmarshal(leaf, &e); err != nil {
			t.Fatal(err)
		}
		if e.GetVoteCast() != nil {
			count[e.GetRequestId()]++
		}
	}
	for id := range acked {
		if count[id] != 1 {
			t.Errorf("acknowledged vote %s is in the log %d times, want once", id, count[id])
		}
	}
	t.Logf("%d leader kills, %d votes acknowledged, %d operations in the history, %d events", kills, len(acked), len(history), len(log))
	if len(acked) < kills {
		t.Errorf("only %d votes acknowledged under chaos", len(acked))
	}

	result, info := porcupine.CheckOperationsVerbose(votesModel, history, time.Minute)
	switch result {
	case porcupine.Illegal:
		chaosExplain(t, log, history)
		path := fmt.Sprintf("%s/chaos-history.html", t.TempDir())
		if f, err := os.Create(path); err == nil {
			porcupine.Visualize(votesModel, info, f)
			f.Close()
		}
		t.Errorf("the clients' history is not linearizable (visualization in %s)", path)
	case porcupine.Unknown:
		t.Errorf("the linearizability check timed out")
	}

	waitFor(t, 30*time.Second, "watcher catching up", func() bool { return len(watcher.seen()) >= len(log) })
	cancel()
	<-watcher.done
	seen := watcher.seen()
	if len(seen) != len(log) {
		t.Fatalf("the watcher saw %d events, the log holds %d", len(seen), len(log))
	}
	for i, e := range seen {
		if e.GetSequence() != int64(i+1) || string(e.GetLeaf()) != string(log[i]) {
			t.Fatalf("the watcher's event %d is sequence %d or differs from the log", i+1, e.GetSequence())
		}
	}
}

// chaosExplain says, for a history that is not linearizable, which replies
// of votes disagree with the log: the state right after each vote's event.
func chaosExplain(t *testing.T, log [][]byte, history []porcupine.Operation) {
	after := map[string]chaosVotes{} // request id → votes right after its event
	states := map[string]chaosVotes{}
	for _, leaf := range log {
		var e parleyv1.Event
		if proto.Unmarshal(leaf, &e) != nil || e.GetVoteCast() == nil {
			continue
		}
		v := e.GetVoteCast()
		a := v.GetAmendmentId()
		st := states[a]
		for i, id := range chaosVoters {
			if e.GetActor() == id {
				st[i] = v.GetChoice()
			}
		}
		states[a] = st
		after[e.GetRequestId()] = st
	}
	n := 0
	for _, op := range history {
		in := op.Input.(chaosInput)
		if in.read {
			continue
		}
		if want, ok := after[in.request]; ok && want != op.Output.(chaosVotes) && n < 20 {
			n++
			t.Logf("vote %s (%s %s): reply %v, the log says %v", in.request, chaosVoters[in.voter], in.choice, op.Output, want)
		}
	}
	// Each read must show a state of the log between the last vote
	// acknowledged before it began and the first vote begun after it ended.
	position := map[string]int{}
	sequence := map[string][]chaosVotes{}
	st := map[string]chaosVotes{}
	for _, leaf := range log {
		var e parleyv1.Event
		if proto.Unmarshal(leaf, &e) != nil || e.GetVoteCast() == nil {
			continue
		}
		a := e.GetVoteCast().GetAmendmentId()
		s := st[a]
		for i, id := range chaosVoters {
			if e.GetActor() == id {
				s[i] = e.GetVoteCast().GetChoice()
			}
		}
		st[a] = s
		sequence[a] = append(sequence[a], s)
		position[e.GetRequestId()] = len(sequence[a])
	}
	for _, r := range history {
		in := r.Input.(chaosInput)
		if !in.read {
			continue
		}
		a := in.amendment[strings.LastIndex(in.amendment, "/")+1:]
		lo, hi := 0, len(sequence[a])
		for _, w := range history {
			win := w.Input.(chaosInput)
			if win.read || win.amendment != in.amendment {
				continue
			}
			if w.Return < r.Call {
				lo = max(lo, position[win.request])
			}
			if w.Call > r.Return {
				hi = min(hi, position[win.request]-1)
			}
		}
		ok := false
		for k := lo; k <= hi; k++ {
			var s chaosVotes
			if k > 0 {
				s = sequence[a][k-1]
			}
			ok = ok || s == r.Output.(chaosVotes)
		}
		if !ok && n < 40 {
			n++
			t.Logf("read on node %d of %s: %v, not a state of the log between positions %d and %d (took %s)", in.node, a[:8], r.Output, lo, hi, time.Duration(r.Return-r.Call))
		}
	}
}
