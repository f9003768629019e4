package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// fastRetry retries quickly and long enough to outlast a server restart.
var fastRetry = client.RetryPolicy{MaxAttempts: 40, InitialBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}

func newClient(tb testing.TB, addr, token string, opts client.Options) *client.Client {
	tb.Helper()
	opts.Token = token
	c, err := client.New(addr, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// party is one demo participant's client.
type party map[string]*client.Client

func demoParties(tb testing.TB, s *servertest.Server, n servertest.Negotiation, opts client.Options) party {
	out := party{}
	for id, token := range n.Tokens {
		out[id] = newClient(tb, s.Addr, token, opts)
	}
	return out
}

func TestClient_Negotiation(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	p := demoParties(t, s, n, client.Options{})

	caller, err := p["ukraine"].Caller(ctx)
	if err != nil || caller.GetParticipant().GetId() != "ukraine" || caller.GetNegotiation() != n.Name {
		t.Fatalf("Caller = %v, %v", caller, err)
	}
	doc, err := p["ukraine"].Document(ctx, n.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Points) != 28 || doc.SHA256 != doc.Negotiation.GetDocumentSha256() {
		t.Fatalf("document: %d points, hash %s vs %s", len(doc.Points), doc.SHA256, doc.Negotiation.GetDocumentSha256())
	}
	six, _ := doc.PointByNumber(6)
	a, err := p["ukraine"].ProposeAmendment(ctx, &parleyv1.ProposeAmendmentRequest{
		Negotiation: n.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: six.GetName(),
		BaseRevision: six.GetRevision(), Text: "The size of the Armed Forces of Ukraine will be limited to 800,000 troops in peacetime.",
		Rationale: "600,000 leaves the country exposed"})
	if err != nil {
		t.Fatal(err)
	}
	// Every delegation but the last votes with the lean reply (the vote and
	// the state); the last gets the amendment its vote closed.
	last := len(demo.Delegations) - 1
	for _, d := range demo.Delegations[:last] {
		v, state, err := p[d].Vote(ctx, a.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, "")
		if err != nil {
			t.Fatalf("%s votes: %v", d, err)
		}
		if v.GetParticipant() != d || v.GetChoice() != parleyv1.VoteChoice_VOTE_CHOICE_APPROVE || state != parleyv1.AmendmentState_AMENDMENT_STATE_OPEN {
			t.Fatalf("%s's vote: %v, amendment %v", d, v, state)
		}
	}
	if a, err = p[demo.Delegations[last]].CastVote(ctx, a.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, ""); err != nil {
		t.Fatalf("%s votes: %v", demo.Delegations[last], err)
	}
	if len(a.GetVotes()) != len(demo.Delegations) {
		t.Fatalf("the amendment shows %d votes, want %d", len(a.GetVotes()), len(demo.Delegations))
	}
	if a.GetState() != parleyv1.AmendmentState_AMENDMENT_STATE_PASSED {
		t.Fatalf("after every vote: %v", a.GetState())
	}

	// A refusal comes back as one typed error with the code and the reason.
	_, err = p["russia"].CastVote(ctx, a.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_REJECT, "too late")
	var e *client.Error
	if !errors.As(err, &e) || e.Code != codes.FailedPrecondition || e.Reason != "VOTING_CLOSED" {
		t.Fatalf("vote after close: %#v", err)
	}
	if want := "voting on this amendment has closed: it is PASSED (FAILED_PRECONDITION VOTING_CLOSED)"; err.Error() != want {
		t.Fatalf("error text %q, want %q", err.Error(), want)
	}
	if client.ReasonOf(err) != "VOTING_CLOSED" || client.CodeOf(err) != codes.FailedPrecondition || status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("helpers: %q %v %v", client.ReasonOf(err), client.CodeOf(err), status.Code(err))
	}

	applied, err := p["mediator"].ApplyAmendment(ctx, a.GetName())
	if err != nil || applied.GetPoint().GetRevision() != 2 {
		t.Fatalf("apply: %v, %v", applied, err)
	}
	// Signing off the point as it was read before the change is refused.
	if _, err := p["europe"].SignOff(ctx, six); client.CodeOf(err) != codes.Aborted || client.ReasonOf(err) != "STALE_REVISION" {
		t.Fatalf("sign-off of the old revision: %v", err)
	}
	if _, err := p["europe"].SignOff(ctx, applied.GetPoint()); err != nil {
		t.Fatal(err)
	}
	// Accepting needs every point agreed.
	if _, err := p["europe"].AcceptDocument(ctx, n.Name, doc.SHA256); client.ReasonOf(err) != "AMENDMENTS_PENDING" && client.ReasonOf(err) != "POINTS_NOT_AGREED" {
		t.Fatalf("early acceptance: %v", err)
	}
	// An unauthenticated call says so.
	stranger := newClient(t, s.Addr, "prl_not-a-token", client.Options{})
	if _, err := stranger.Caller(ctx); client.CodeOf(err) != codes.Unauthenticated || client.ReasonOf(err) != "TOKEN_INVALID" {
		t.Fatalf("unknown token: %v", err)
	}
}

// TestClient_Paging reads a document and a log longer than one page each.
func TestClient_Paging(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	points := make([]string, 1500)
	for i := range points {
		points[i] = fmt.Sprintf("Provision number %d.", i+1)
	}
	n := s.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: "Long", Participants: demo.Participants(),
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}, Points: points})
	c := newClient(t, s.Addr, n.Tokens["ukraine"], client.Options{})

	doc, err := c.Document(ctx, n.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Points) != 1500 || doc.Points[1499].GetText() != "Provision number 1500." {
		t.Fatalf("document: %d points", len(doc.Points))
	}
	var seqs []int64
	for rec, err := range c.Events(ctx, n.Name, 0) {
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, rec.GetSequence())
	}
	// Creation, 1500 points, 5 tokens.
	if len(seqs) != 1506 || seqs[0] != 1 || seqs[1505] != 1506 {
		t.Fatalf("events: %d, from %v", len(seqs), seqs[:3])
	}
	// Breaking out of the loop stops the listing.
	count := 0
	for range c.Events(ctx, n.Name, 1000) {
		if count++; count == 3 {
			break
		}
	}
	if count != 3 {
		t.Fatalf("early stop: %d", count)
	}
}

// dropFirstReply is an interceptor that lets the first call of a method
// reach the server and commit, then loses its reply, as a network failure
// after the commit would. It records each attempt's request id.
type dropFirstReply struct {
	method string

	mu      sync.Mutex
	dropped bool
	ids     []string
}

func (d *dropFirstReply) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if method != d.method {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	d.mu.Lock()
	d.ids = append(d.ids, req.(interface{ GetRequestId() string }).GetRequestId())
	d.mu.Unlock()
	err := invoker(ctx, method, req, reply, cc, opts...)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil && !d.dropped {
		d.dropped = true
		return status.Error(codes.Unavailable, "the reply was lost on its way back")
	}
	return err
}

// TestClient_RetryAfterLostReply proves that a retry carries the same
// request id and that the server therefore acts once.
func TestClient_RetryAfterLostReply(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	drop := &dropFirstReply{method: parleyv1.NegotiationService_ProposeAmendment_FullMethodName}
	c := newClient(t, s.Addr, n.Tokens["russia"], client.Options{Retry: fastRetry,
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(drop.intercept)}})

	doc, err := c.Document(ctx, n.Name)
	if err != nil {
		t.Fatal(err)
	}
	nine, _ := doc.PointByNumber(9)
	a, err := c.ProposeAmendment(ctx, &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name,
		Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE, Point: nine.GetName(), BaseRevision: 1})
	if err != nil {
		t.Fatalf("propose, with its first reply lost: %v", err)
	}
	if len(drop.ids) != 2 || drop.ids[0] != drop.ids[1] || drop.ids[0] == "" {
		t.Fatalf("attempts' request ids: %q", drop.ids)
	}
	all, err := c.Amendments(ctx, &parleyv1.ListAmendmentsRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].GetName() != a.GetName() {
		t.Fatalf("%d amendments after a retried proposal, want 1", len(all))
	}
	proposed := 0
	for rec, err := range c.Events(ctx, n.Name, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.GetEvent().GetAmendmentProposed() != nil {
			proposed++
			if rec.GetEvent().GetRequestId() != drop.ids[0] {
				t.Fatalf("event's request id %q, want %q", rec.GetEvent().GetRequestId(), drop.ids[0])
			}
		}
	}
	if proposed != 1 {
		t.Fatalf("%d AmendmentProposed events, want 1", proposed)
	}

	// The caller can choose the id, and repeating it repeats nothing.
	ctx1 := client.WithRequestID(ctx, "vote-9-russia-1")
	first, err := c.CastVote(ctx1, a.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CastVote(ctx1, a.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, "")
	if err != nil || again.GetUpdateTime().AsTime() != first.GetUpdateTime().AsTime() {
		t.Fatalf("repeated vote: %v, %v", again, err)
	}
	// The same id for a different request is refused, not applied.
	if _, err := c.CastVote(ctx1, a.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_ABSTAIN, ""); client.ReasonOf(err) != "REQUEST_ID_REUSED" {
		t.Fatalf("reused id: %v", err)
	}
}

// TestClient_RetryAcrossRestart makes a call while the server is down; it
// succeeds once the server is back, and acts once.
func TestClient_RetryAcrossRestart(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	c := newClient(t, s.Addr, n.Tokens["ukraine"], client.Options{Retry: fastRetry})
	doc, err := c.Document(ctx, n.Name)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := doc.PointByNumber(1)

	s.Kill()
	done := make(chan error, 1)
	go func() {
		_, err := c.SignOff(ctx, first)
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("sign-off finished while the server was down: %v", err)
	default:
	}
	s.Restart()
	if err := <-done; err != nil {
		t.Fatalf("sign-off across a restart: %v", err)
	}
	p, err := c.Point(ctx, first.GetName())
	if err != nil || len(p.GetSignOffs()) != 1 {
		t.Fatalf("sign-offs after restart: %v, %v", p.GetSignOffs(), err)
	}

	// Without retries, the failure comes back at once as UNAVAILABLE.
	s.Kill()
	once := newClient(t, s.Addr, n.Tokens["ukraine"], client.Options{Retry: client.NoRetry})
	if _, err := once.Caller(ctx); client.CodeOf(err) != codes.Unavailable {
		t.Fatalf("call to a dead server: %v", err)
	}
	// The caller's deadline bounds the retries.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Caller(short); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("retries past the deadline: %v after %v", err, time.Since(start))
	}
}

// TestClient_WatchResumes follows the log across a crash of the server and
// sees every event once, in order.
func TestClient_WatchResumes(t *testing.T) {
	s := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := s.CreateDemo(ctx)
	p := demoParties(t, s, n, client.Options{Retry: fastRetry})
	var mu sync.Mutex
	streams := 0
	countStreams := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		mu.Lock()
		streams++
		mu.Unlock()
		return streamer(ctx, desc, cc, method, opts...)
	}
	p["mediator"] = newClient(t, s.Addr, n.Tokens["mediator"], client.Options{Retry: fastRetry,
		DialOptions: []grpc.DialOption{grpc.WithChainStreamInterceptor(countStreams)}})

	events := make(chan *parleyv1.EventRecord, 100)
	watchErr := make(chan error, 1)
	watchCtx, stopWatch := context.WithCancel(ctx)
	go func() {
		defer close(events)
		for rec, err := range p["mediator"].Watch(watchCtx, n.Name, 0) {
			if err != nil {
				watchErr <- err
				return
			}
			events <- rec
		}
	}()
	var seqs []int64
	await := func(kind string, until func(*parleyv1.Event) bool) {
		t.Helper()
		for {
			select {
			case rec, ok := <-events:
				if !ok {
					t.Fatalf("watch ended waiting for %s: %v", kind, <-watchErr)
				}
				seqs = append(seqs, rec.GetSequence())
				if until(rec.GetEvent()) {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %s event", kind)
			}
		}
	}
	await("credential", func(e *parleyv1.Event) bool {
		return e.GetCredentialIssued().GetParticipant() == "mediator"
	})

	doc, err := p["ukraine"].Document(ctx, n.Name)
	if err != nil {
		t.Fatal(err)
	}
	twelve, _ := doc.PointByNumber(12)
	a, err := p["ukraine"].ProposeAmendment(ctx, &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name,
		Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Point: twelve.GetName(), Text: "Reconstruction funds are audited."})
	if err != nil {
		t.Fatal(err)
	}
	await("proposal", func(e *parleyv1.Event) bool { return e.GetAmendmentProposed() != nil })

	s.Restart() // kill -9 and start again: the stream breaks
	for _, d := range demo.Delegations {
		if _, err := p[d].CastVote(ctx, a.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, ""); err != nil {
			t.Fatal(err)
		}
	}
	await("close of voting", func(e *parleyv1.Event) bool { return e.GetVotingClosed() != nil })
	stopWatch()
	for range events {
	}
	select {
	case err := <-watchErr:
		t.Fatalf("watch: %v", err)
	default:
	}
	for i, seq := range seqs {
		if seq != int64(i+1) {
			t.Fatalf("event %d has sequence %d: %v", i+1, seq, seqs)
		}
	}
	// Creation, 28 points, 5 tokens, a proposal, 4 votes and the close.
	if len(seqs) != 1+28+5+1+4+1 {
		t.Fatalf("%d events", len(seqs))
	}
	mu.Lock()
	defer mu.Unlock()
	if streams < 2 {
		t.Fatalf("the watch opened %d streams; the restart should have made it open another", streams)
	}
}

func TestIsLoopback(t *testing.T) {
	for target, want := range map[string]bool{
		"127.0.0.1:50051": true, "localhost:1": true, "[::1]:50051": true, "dns:///localhost:50051": true,
		"unix:parley.sock": true, "127.3.2.1:5": true, "passthrough:///127.0.0.1:1": true,
		"parley.example.org:443": false, "10.0.0.1:50051": false, "dns:///parley.example.org:443": false, "[2001:db8::1]:1": false,
	} {
		if got := client.IsLoopback(target); got != want {
			t.Errorf("IsLoopback(%q) = %v", target, got)
		}
	}
}

func TestNew_Options(t *testing.T) {
	if _, err := client.New("127.0.0.1:1", client.Options{Plaintext: true, TLS: &client.TLSOptions{}}); err == nil || !strings.Contains(err.Error(), "exclude") {
		t.Fatalf("TLS and plaintext together: %v", err)
	}
	if _, err := client.New("127.0.0.1:1", client.Options{TLS: &client.TLSOptions{CertFile: "c.pem"}}); err == nil {
		t.Fatal("certificate without key accepted")
	}
	if _, err := client.New("", client.Options{}); err == nil {
		t.Fatal("empty target accepted")
	}
}

// TestClient_OnRetry tells the program before each wait to retry, so that
// it can say so rather than seem to hang.
func TestClient_OnRetry(t *testing.T) {
	s := servertest.Start(t)
	addr := s.Addr
	s.Kill()
	var failures []int
	var reasons []codes.Code
	c := newClient(t, addr, "prl_any", client.Options{
		Retry: client.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond},
		OnRetry: func(n int, wait time.Duration, err error) {
			failures = append(failures, n)
			reasons = append(reasons, client.CodeOf(err))
		},
	})
	if _, err := c.Caller(context.Background()); client.CodeOf(err) != codes.Unavailable {
		t.Fatalf("call to a dead server: %v", err)
	}
	if !slices.Equal(failures, []int{1, 2}) || !slices.Equal(reasons, []codes.Code{codes.Unavailable, codes.Unavailable}) {
		t.Fatalf("OnRetry saw failures %v with codes %v; want 1, 2, both UNAVAILABLE", failures, reasons)
	}
}

// A watcher the server cuts off as too slow resumes from its last event:
// the caller sees every event once, in order. The server here cuts a stream
// off as soon as gRPC leaves one event waiting for it (--watch-backlog 1B
// --watch-stall 0), so the watch goes through several streams.
func TestClient_WatchResumesAfterCutOff(t *testing.T) {
	s := servertest.Start(t, "--rate-limit", "0", "--watch-backlog", "1B", "--watch-stall", "0")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := s.CreateDemo(ctx)
	p := demoParties(t, s, n, client.Options{})
	doc, err := p["ukraine"].Document(ctx, n.Name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if _, err := p["ukraine"].ProposeAmendment(ctx, &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name,
			Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: doc.Points[0].GetName(),
			BaseRevision: doc.Points[0].GetRevision(), Text: fmt.Sprintf("Text %d. %s", i, strings.Repeat("z", 8000))}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := p["russia"].Negotiation(ctx, n.Name)
	if err != nil {
		t.Fatal(err)
	}
	last := got.GetLastSequence()
	var seen int64
	for rec, err := range p["russia"].Watch(ctx, n.Name, 0) {
		if err != nil {
			t.Fatalf("after event %d: %v", seen, err)
		}
		if rec.GetSequence() != seen+1 {
			t.Fatalf("event %d after %d", rec.GetSequence(), seen)
		}
		seen = rec.GetSequence()
		// A reader slower than the server, that stops for a while after the
		// first event.
		if seen == 1 {
			time.Sleep(300 * time.Millisecond)
		}
		time.Sleep(time.Millisecond)
		if seen == last {
			break
		}
	}
	cutOffs := strings.Count(s.Stderr.String(), "stopped reading")
	t.Logf("%d events through %d cut-offs", seen, cutOffs)
	if cutOffs == 0 {
		t.Error("the server never cut the watcher off: the test did not test the resumption")
	}
	if strings.Contains(s.Stderr.String(), "DATA RACE") {
		t.Errorf("parleyd reported a data race:\n%s", s.Stderr.String())
	}
}
