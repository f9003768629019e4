package main_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

const (
	crashCycles  = 16 // SIGKILLs
	crashWorkers = 8  // concurrent writers, two per delegation
)

// crashOp is one write of the crash test. Each has its own request id and
// makes exactly one event, so the log says whether it happened, and how
// often.
type crashOp struct {
	requestID string
	actor     string
	kind      string // "propose", "vote", "sign", "unsign"
	point     string // point name (propose, sign, unsign)
	amendment string // amendment name: the reply's (propose) or the target (vote)
	choice    parleyv1.VoteChoice
	text      string

	req      proto.Message // sent as is on every attempt
	reply    proto.Message
	attempts int
	failedAt int64 // crashes counted when the first attempt failed; 0 if none did
}

// crashJournal records the writes the server acknowledged, in order.
type crashJournal struct {
	mu    sync.Mutex
	acked []*crashOp
	tried map[string]bool // every request id ever sent
}

func (j *crashJournal) snapshot() []*crashOp {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]*crashOp(nil), j.acked...)
}

// TestCrash runs parleyd under concurrent write load and kills it with
// SIGKILL at random moments, crashCycles times. After each kill, with the
// process dead, it opens the database file and checks that every write
// acknowledged before the kill is in the log exactly once, that the log has
// no gaps, verifies, and folds into exactly the stored state; then it
// restarts the server. Writers retry every write that got no reply with the
// same request id until it is acknowledged, so at the end every write must be
// in the log exactly once, and the state must be what the writes say.
func TestCrash(t *testing.T) { testCrash(t) }

// TestCrash_WriteAheadLog is TestCrash with commits durable in the
// write-ahead log: after each kill the database is opened without it, which
// applies the log and drops it, and the server restarts with it again.
func TestCrash_WriteAheadLog(t *testing.T) { testCrash(t, "--write-ahead-log") }

func testCrash(t *testing.T, serverFlags ...string) {
	if testing.Short() {
		t.Skip("kills and restarts parleyd many times")
	}
	started := time.Now()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0x9a7e1e))
	t.Logf("random seed %d", seed)

	s := servertest.Start(t, append([]string{"--rate-limit", "0"}, serverFlags...)...)
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	nid, err := wire.ParseNegotiationName("name", n.Name)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(s.DataDir, "parley.db")
	// Reconnect quickly after a restart; gRPC's default backoff starts at 1s.
	conn := s.Conn(grpc.WithConnectParams(grpc.ConnectParams{
		Backoff:           backoff.Config{BaseDelay: 10 * time.Millisecond, Multiplier: 1.5, Jitter: 0.2, MaxDelay: 100 * time.Millisecond},
		MinConnectTimeout: time.Second,
	}))
	api := parleyv1.NewNegotiationServiceClient(conn)
	doc, err := api.GetDocument(servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	points := doc.GetPoints()
	key, err := parleyv1.NewAuditServiceClient(conn).GetVerifierKey(servertest.As(ctx, n.Tokens["europe"]), &parleyv1.GetVerifierKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// The checkpoints a delegation trusted before each crash must still hold
	// after it: recovery may not rewrite history.
	trust := &client.TrustStore{Dir: t.TempDir()}
	crashCheckpoint(t, conn, n, key.GetVerifierKey(), trust)

	journal := &crashJournal{tried: map[string]bool{}}
	var crashes atomic.Int64
	stop := make(chan struct{})
	failures := make(chan error, crashWorkers)
	var wg sync.WaitGroup
	for w := range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := crashWorker(ctx, api, n, w, points, journal, &crashes, stop); err != nil {
				failures <- err
			}
		}()
	}
	stopWorkers := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWorkers()
	failed := func() {
		t.Helper()
		select {
		case err := <-failures:
			t.Fatal(err)
		default:
		}
	}

	lastAtCrash := map[int64]int64{} // crash number → last sequence in the file after it
	for cycle := int64(1); cycle <= crashCycles; cycle++ {
		// Let the writers get going on the fresh server, then kill it at a
		// random moment.
		base := len(journal.snapshot())
		for deadline := time.Now().Add(30 * time.Second); len(journal.snapshot()) < base+20; time.Sleep(time.Millisecond) {
			failed()
			if time.Now().After(deadline) {
				t.Fatalf("cycle %d: no progress in 30s", cycle)
			}
		}
		time.Sleep(time.Duration(rng.IntN(250)) * time.Millisecond)
		crashes.Store(cycle)
		s.Kill()
		acked := journal.snapshot() // every one was answered before the kill
		failed()
		if slices.Contains(serverFlags, "--write-ahead-log") {
			if _, err := os.Stat(dbPath + ".wal"); err != nil {
				t.Fatalf("cycle %d: the killed server left no write-ahead log: %v", cycle, err)
			}
		}

		db, state := dbcheckOpen(t, dbPath, nid)
		crashVerifyLog(t, db, nid)
		events := crashEventsByRequest(t, db, nid)
		for _, op := range acked {
			crashCheckOnce(t, fmt.Sprintf("after crash %d", cycle), op, events)
		}
		crashCheckNoPhantom(t, journal, events)
		lastAtCrash[cycle] = state.LastSequence
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		s.Restart()
		crashCheckpoint(t, conn, n, key.GetVerifierKey(), trust)
		t.Logf("crash %d: %d writes acknowledged, log at event %d", cycle, len(acked), state.LastSequence)
	}
	stopWorkers()
	failed()
	close(failures)

	// A request acknowledged before a crash and sent again after it is
	// replayed: the same reply, no new event.
	all := journal.snapshot()
	before := crashLastSequence(t, api, n)
	for _, op := range all[:min(len(all), 50)] {
		reply := proto.Clone(op.reply)
		proto.Reset(reply)
		if err := crashSend(ctx, api, n.Tokens[op.actor], op.req, reply); err != nil {
			t.Fatalf("resend %s after the crashes: %v", op.requestID, err)
		}
		if !proto.Equal(reply, op.reply) {
			t.Fatalf("resend %s after the crashes gave another reply:\n%v\nfirst:\n%v", op.requestID, reply, op.reply)
		}
	}
	if after := crashLastSequence(t, api, n); after != before {
		t.Fatalf("resending acknowledged requests added %d events", after-before)
	}
	crashVerifyLogOverAPI(t, api, n)
	crashVerifyMerkle(t, conn, n, key.GetVerifierKey(), trust)

	// The final state, read from the file: every write exactly once, and the
	// state the writes make.
	s.Stop()
	db, state := dbcheckOpen(t, dbPath, nid)
	crashVerifyLog(t, db, nid)
	events := crashEventsByRequest(t, db, nid)
	crashCheckNoPhantom(t, journal, events)
	signed := map[string]bool{} // actor + point → signed off
	var retried, replayed int
	for _, op := range all {
		e := crashCheckOnce(t, "at the end", op, events)
		if op.failedAt > 0 {
			retried++
			if e.Sequence <= lastAtCrash[op.failedAt] {
				replayed++ // it had been committed before the crash that cut its reply off
			}
		}
		switch op.kind {
		case "propose":
			_, aid, _ := wire.ParseAmendmentName("amendment", op.amendment)
			a, ok := state.Amendments[aid]
			if !ok || a.Proposer != op.actor || a.Text != op.text {
				t.Fatalf("%s: amendment %s is %+v", op.requestID, op.amendment, a)
			}
		case "vote":
			_, aid, _ := wire.ParseAmendmentName("amendment", op.amendment)
			if v := state.Amendments[aid].Votes[op.actor]; v.Choice != workflow.VoteChoice(op.choice) {
				t.Fatalf("%s: the vote of %s on %s is %v, want %v", op.requestID, op.actor, op.amendment, v.Choice, op.choice)
			}
		case "sign":
			signed[op.actor+" "+op.point] = true
		case "unsign":
			signed[op.actor+" "+op.point] = false
		}
	}
	for _, p := range points {
		_, pid, _ := wire.ParsePointName("point", p.GetName())
		for _, d := range demo.Delegations {
			_, has := state.Points[pid].SignOffs[d]
			if has != signed[d+" "+p.GetName()] {
				t.Fatalf("point %d: sign-off of %s is %v, the acknowledged writes say %v", p.GetNumber(), d, has, signed[d+" "+p.GetName()])
			}
		}
	}
	t.Logf("%d SIGKILLs in %v; %d writes acknowledged, log of %d events; %d writes got no reply and were retried with the same request id: %d had been committed before the crash and were replayed, %d were executed on retry; none twice",
		crashCycles, time.Since(started).Round(time.Millisecond), len(all), state.LastSequence, retried, replayed, retried-replayed)
}

// crashWorker writes as one delegation until stop: it proposes an amendment,
// votes on it, and signs off or revokes its sign-off of one of its own points,
// over and over. Each write is retried with the same request id until it is
// acknowledged; an error that is not the server being away is a failure.
func crashWorker(ctx context.Context, api parleyv1.NegotiationServiceClient, n servertest.Negotiation, w int, points []*parleyv1.Point,
	journal *crashJournal, crashes *atomic.Int64, stop <-chan struct{}) error {
	actor := demo.Delegations[w%len(demo.Delegations)]
	token := n.Tokens[actor]
	half := w / len(demo.Delegations) // the two workers of a delegation sign off different points
	var own []*parleyv1.Point
	for i, p := range points {
		if i%2 == half {
			own = append(own, p)
		}
	}
	signed := map[string]bool{}
	choices := []parleyv1.VoteChoice{parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, parleyv1.VoteChoice_VOTE_CHOICE_ABSTAIN, parleyv1.VoteChoice_VOTE_CHOICE_REJECT}

	do := func(op *crashOp) error {
		journal.mu.Lock()
		journal.tried[op.requestID] = true
		journal.mu.Unlock()
		for {
			op.attempts++
			err := crashSend(ctx, api, token, op.req, op.reply)
			if err == nil {
				journal.mu.Lock()
				journal.acked = append(journal.acked, op)
				journal.mu.Unlock()
				return nil
			}
			switch status.Code(err) {
			case codes.Unavailable, codes.DeadlineExceeded:
				// No reply: the write may or may not have happened. Send
				// the same request again.
				if op.failedAt == 0 {
					op.failedAt = max(crashes.Load(), 1)
				}
				time.Sleep(5 * time.Millisecond)
			default:
				return fmt.Errorf("%s (%s by %s, attempt %d): %v", op.requestID, op.kind, actor, op.attempts, err)
			}
		}
	}

	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		id := fmt.Sprintf("crash-w%d-%d", w, i)
		target := points[(w*7+i)%len(points)]
		text := fmt.Sprintf("Draft %d of worker %d for point %d.", i, w, target.GetNumber())
		propose := &crashOp{requestID: id + "-propose", actor: actor, kind: "propose", point: target.GetName(), text: text,
			req: &parleyv1.ProposeAmendmentRequest{RequestId: id + "-propose", Negotiation: n.Name,
				Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: target.GetName(), BaseRevision: 1, Text: text},
			reply: &parleyv1.ProposeAmendmentResponse{}}
		if err := do(propose); err != nil {
			return err
		}
		propose.amendment = propose.reply.(*parleyv1.ProposeAmendmentResponse).GetAmendment().GetName()

		choice := choices[i%len(choices)]
		vote := &crashOp{requestID: id + "-vote", actor: actor, kind: "vote", amendment: propose.amendment, choice: choice,
			req: &parleyv1.CastVoteRequest{RequestId: id + "-vote", Amendment: propose.amendment, Choice: choice,
				Reason: map[bool]string{true: "Not acceptable as drafted."}[choice == parleyv1.VoteChoice_VOTE_CHOICE_REJECT]},
			reply: &parleyv1.CastVoteResponse{}}
		if err := do(vote); err != nil {
			return err
		}

		p := own[i%len(own)]
		sign := &crashOp{requestID: id + "-sign", actor: actor, point: p.GetName()}
		if signed[p.GetName()] {
			sign.kind = "unsign"
			sign.req = &parleyv1.RevokeSignOffRequest{RequestId: sign.requestID, Point: p.GetName()}
			sign.reply = &parleyv1.RevokeSignOffResponse{}
		} else {
			sign.kind = "sign"
			sign.req = &parleyv1.SignOffPointRequest{RequestId: sign.requestID, Point: p.GetName(), Revision: 1, TextSha256: p.GetTextSha256()}
			sign.reply = &parleyv1.SignOffPointResponse{}
		}
		if err := do(sign); err != nil {
			return err
		}
		signed[p.GetName()] = !signed[p.GetName()]
	}
}

// crashSend makes one call of a write request, decoding the reply into
// reply.
func crashSend(ctx context.Context, api parleyv1.NegotiationServiceClient, token string, req, reply proto.Message) error {
	ctx, cancel := context.WithTimeout(servertest.As(ctx, token), 10*time.Second)
	defer cancel()
	var got proto.Message
	var err error
	switch r := req.(type) {
	case *parleyv1.ProposeAmendmentRequest:
		got, err = api.ProposeAmendment(ctx, r)
	case *parleyv1.CastVoteRequest:
		got, err = api.CastVote(ctx, r)
	case *parleyv1.SignOffPointRequest:
		got, err = api.SignOffPoint(ctx, r)
	case *parleyv1.RevokeSignOffRequest:
		got, err = api.RevokeSignOff(ctx, r)
	default:
		return fmt.Errorf("crashSend: %T", req)
	}
	if err != nil {
		return err
	}
	proto.Reset(reply)
	proto.Merge(reply, got)
	return nil
}

// crashEvent is an event of the log, as the crash test looks it up.
type crashEvent struct {
	Sequence int64
	Actor    string
	Kind     string
}

// crashEventsByRequest reads the whole log from the file and indexes its
// events by request id.
func crashEventsByRequest(t *testing.T, db *store.DB, nid string) map[string][]crashEvent {
	t.Helper()
	stored, err := db.Events(nid, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]crashEvent{}
	for _, se := range stored {
		e, pe, err := wire.UnmarshalEvent(se.Leaf)
		if err != nil {
			t.Fatal(err)
		}
		kind := ""
		switch pe.GetPayload().(type) {
		case *parleyv1.Event_AmendmentProposed:
			kind = "propose"
		case *parleyv1.Event_VoteCast:
			kind = "vote"
		case *parleyv1.Event_PointSignedOff:
			kind = "sign"
		case *parleyv1.Event_SignOffRevoked:
			kind = "unsign"
		}
		out[e.RequestID] = append(out[e.RequestID], crashEvent{Sequence: e.Sequence, Actor: e.Actor, Kind: kind})
	}
	return out
}

// crashCheckOnce fails unless op made exactly one event, of its kind and by
// its actor, and returns it.
func crashCheckOnce(t *testing.T, when string, op *crashOp, events map[string][]crashEvent) crashEvent {
	t.Helper()
	got := events[op.requestID]
	if len(got) != 1 || got[0].Actor != op.actor || got[0].Kind != op.kind {
		t.Fatalf("%s: acknowledged write %s (%s by %s, %d attempts) made events %+v, want exactly one %s by %s",
			when, op.requestID, op.kind, op.actor, op.attempts, got, op.kind, op.actor)
	}
	return got[0]
}

// crashCheckNoPhantom fails if the log holds an event of a request nobody
// sent, or two events of one request.
func crashCheckNoPhantom(t *testing.T, journal *crashJournal, events map[string][]crashEvent) {
	t.Helper()
	journal.mu.Lock()
	defer journal.mu.Unlock()
	for id, es := range events {
		if id == "" {
			continue // the negotiation's creation and its tokens
		}
		if !journal.tried[id] {
			t.Fatalf("the log holds events of request %s, which no writer sent", id)
		}
		if len(es) != 1 {
			t.Fatalf("request %s made %d events: %+v", id, len(es), es)
		}
	}
}

// crashVerifyLog is where the crash test checks that the log verifies. Today
// that is what store.Verify does: events 1..N without gaps, each under its
// own sequence, folding into exactly the stored projections; store.Verify
// calls the store's verifyCheckpoints hook, where the Merkle checkpoints'
// verification will plug in.
func crashVerifyLog(t *testing.T, db *store.DB, nid string) {
	t.Helper()
	if err := db.Verify(nid); err != nil {
		t.Fatalf("the log does not verify: %v", err)
	}
}

// crashVerifyLogOverAPI checks the log as a client sees it: ListEvents gives
// sequences 1..N without gaps, each leaf decodes to the event served beside
// it, and N is the negotiation's last sequence. crashVerifyMerkle checks the
// same leaves against the signed checkpoints.
func crashVerifyLogOverAPI(t *testing.T, api parleyv1.NegotiationServiceClient, n servertest.Negotiation) {
	t.Helper()
	ctx := servertest.As(context.Background(), n.Tokens["europe"])
	want, token := int64(1), ""
	for {
		page, err := api.ListEvents(ctx, &parleyv1.ListEventsRequest{Negotiation: n.Name, PageSize: 1000, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range page.GetEvents() {
			var decoded parleyv1.Event
			if rec.GetSequence() != want || proto.Unmarshal(rec.GetLeaf(), &decoded) != nil ||
				!proto.Equal(&decoded, rec.GetEvent()) || decoded.GetSequence() != want {
				t.Fatalf("ListEvents: record %d of the log is %v, want event %d", want, rec.GetSequence(), want)
			}
			want++
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	if last := crashLastSequence(t, api, n); last != want-1 {
		t.Fatalf("ListEvents gave %d events; the negotiation is at %d", want-1, last)
	}
}

// crashCheckpoint fetches the server's checkpoint and checks that it is
// consistent with the one trusted before; it becomes the trusted one.
func crashCheckpoint(t *testing.T, conn grpc.ClientConnInterface, n servertest.Negotiation, key string, trust *client.TrustStore) {
	t.Helper()
	log, err := client.NewAuditLog(conn, n.Name, key, trust)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Sync(servertest.As(context.Background(), n.Tokens["europe"])); err != nil {
		t.Fatalf("checkpoint after a crash: %v", err)
	}
}

// crashVerifyMerkle checks the whole log as a client verifying from
// scratch would: its leaves hash to the root of a signed checkpoint that is
// consistent with every checkpoint trusted across the crashes.
func crashVerifyMerkle(t *testing.T, conn grpc.ClientConnInterface, n servertest.Negotiation, key string, trust *client.TrustStore) {
	t.Helper()
	ctx := servertest.As(context.Background(), n.Tokens["europe"])
	log, err := client.NewAuditLog(conn, n.Name, key, trust)
	if err != nil {
		t.Fatal(err)
	}
	api := parleyv1.NewNegotiationServiceClient(conn)
	for {
		page, err := api.ListEvents(ctx, &parleyv1.ListEventsRequest{Negotiation: n.Name, AfterSequence: int64(log.Size()), PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.GetEvents()) == 0 {
			break
		}
		if err := log.Add(page.GetEvents()...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := log.Sync(ctx); err != nil {
		t.Fatalf("the log after the crashes: %v", err)
	}
}

func crashLastSequence(t *testing.T, api parleyv1.NegotiationServiceClient, n servertest.Negotiation) int64 {
	t.Helper()
	got, err := api.GetNegotiation(servertest.As(context.Background(), n.Tokens["europe"]), &parleyv1.GetNegotiationRequest{Name: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	return got.GetNegotiation().GetLastSequence()
}
