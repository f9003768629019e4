package main_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// maxRSS is the bound on parleyd's resident memory that one participant's
// load must not break (issue 10).
const maxRSS = 512 << 20

// rss returns a process's resident memory in bytes, from /proc.
func rss(t testing.TB, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// peakRSS samples parleyd's resident memory while fn runs and returns the
// highest value seen, sampling once more after fn.
func peakRSS(t *testing.T, s *servertest.Server, fn func()) int64 {
	t.Helper()
	var peak atomic.Int64
	sample := func() {
		if v := rss(t, s.Pid()); v > peak.Load() {
			peak.Store(v)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	sample()
	return peak.Load()
}

func wantRSSUnder(t *testing.T, what string, peak int64) {
	t.Helper()
	t.Logf("%s: parleyd's peak RSS %d MiB", what, peak>>20)
	if peak > maxRSS {
		t.Errorf("%s: parleyd's RSS reached %d MiB, over %d MiB", what, peak>>20, maxRSS>>20)
	}
}

// memoryText is an amendment text at its limit, 16 KiB.
func memoryText(i int) string {
	head := fmt.Sprintf("Amendment text %d ", i)
	return head + strings.Repeat("y", 16<<10-len(head))
}

// longLog fills the demo negotiation with count amendments of 16 KiB
// proposed by its delegations, as the measurements did: the log then
// carries about count × 16 KiB.
func longLog(t *testing.T, s *servertest.Server, count int) (servertest.Negotiation, int64) {
	t.Helper()
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	svc := parleyv1.NewNegotiationServiceClient(s.Conn())
	doc, err := svc.GetDocument(servertest.As(ctx, s.AdminToken), &parleyv1.GetDocumentRequest{Negotiation: n.Name, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	point := doc.GetPoints()[0]
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			as := servertest.As(ctx, n.Tokens[demo.Delegations[w%len(demo.Delegations)]])
			for i := next.Add(1); i <= int64(count); i = next.Add(1) {
				if _, err := svc.ProposeAmendment(as, &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: n.Name,
					Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: point.GetName(), BaseRevision: point.GetRevision(),
					Text: memoryText(int(i))}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("propose: %v", err)
	}
	got, err := svc.GetNegotiation(servertest.As(ctx, s.AdminToken), &parleyv1.GetNegotiationRequest{Name: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	return n, got.GetNegotiation().GetLastSequence()
}

// longDocument creates a negotiation of points 16 KiB long, as many as one
// request carries.
func longDocument(t *testing.T, s *servertest.Server, points int) servertest.Negotiation {
	t.Helper()
	texts := make([]string, points)
	for i := range texts {
		texts[i] = memoryText(i)
	}
	return s.Create(context.Background(), limitsCreate(texts, 3))
}

// clientConn is a connection with gRPC's default limit on replies, 4 MiB,
// as an ordinary client has.
func clientConn(s *servertest.Server, opts ...grpc.DialOption) *grpc.ClientConn {
	return s.Conn(append([]grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(4 << 20))}, opts...)...)
}

// outcomes counts the results of concurrent calls by code and reason, and
// fails the test for any but success and the allowed refusals.
type outcomes struct {
	mu     sync.Mutex
	counts map[string]int
}

func (o *outcomes) add(t *testing.T, err error, allowed ...string) {
	key := "OK"
	if err != nil {
		key = status.Code(err).String() + " " + limitsReason(err)
		ok := false
		for _, a := range allowed {
			ok = ok || key == a
		}
		if !ok {
			t.Errorf("a call failed: %v (reason %q)", err, limitsReason(err))
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[string]int{}
	}
	o.counts[key]++
}

func (o *outcomes) ok() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts["OK"]
}

const (
	serverBusy     = "ResourceExhausted SERVER_BUSY"
	rateLimited    = "ResourceExhausted RATE_LIMITED"
	tooManyWatches = "ResourceExhausted TOO_MANY_WATCHES"
)

// concurrently runs fn count times at once and waits for them all.
func concurrently(count int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range count {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// The memory cases, against the real parleyd: one participant's
// reads and watches, within what the server lets them do, keep its memory
// under 512 MiB; calls succeed or are refused with the documented reasons.
// First with the rate limit off, so that it cannot hide the memory bounds,
// then with the default configuration.
func TestMemory(t *testing.T) {
	if servertest.Race {
		t.Skip("the race detector multiplies parleyd's memory; run without -race to check its bounds")
	}
	if testing.Short() {
		t.Skip("fills a log of 20 MB")
	}
	s := servertest.Start(t, "--rate-limit", "0", "--watch-streams-per-token", "0", "--watch-stall", "3s")
	n, last := longLog(t, s, 1200)
	doc := longDocument(t, s, 450) // 450 × 16 KiB ≈ 7.4 MB, within one request
	t.Logf("log of %d events; RSS at rest %d MiB", last, rss(t, s.Pid())>>20)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	delegation := servertest.As(ctx, n.Tokens["ukraine"])

	listEvents := func(t *testing.T, calls int, allowed ...string) *outcomes {
		svc := parleyv1.NewNegotiationServiceClient(clientConn(s))
		o := &outcomes{}
		peak := peakRSS(t, s, func() {
			concurrently(calls, func(int) {
				r, err := svc.ListEvents(delegation, &parleyv1.ListEventsRequest{Negotiation: n.Name, PageSize: 1000})
				o.add(t, err, allowed...)
				if err == nil && (len(r.GetEvents()) == 0 || r.GetEvents()[0].GetSequence() != 1 || r.GetNextPageToken() == "") {
					t.Errorf("a page of %d events without the start or the token for the rest", len(r.GetEvents()))
				}
			})
		})
		t.Logf("%d concurrent ListEvents: %v", calls, o.counts)
		wantRSSUnder(t, fmt.Sprintf("%d concurrent ListEvents", calls), peak)
		return o
	}

	t.Run("ListEvents", func(t *testing.T) {
		if o := listEvents(t, 200, serverBusy); o.ok() == 0 {
			t.Error("no call succeeded")
		}
	})

	t.Run("ListEventsPages", func(t *testing.T) {
		// 40 readers, three pages each, each retrying a page the server is
		// too busy for, as the Go client does.
		svc := parleyv1.NewNegotiationServiceClient(clientConn(s))
		peak := peakRSS(t, s, func() {
			concurrently(40, func(int) {
				var seen int64
				req := &parleyv1.ListEventsRequest{Negotiation: n.Name, PageSize: 1000}
				for pages := 0; pages < 3; {
					r, err := svc.ListEvents(delegation, req)
					if status.Code(err) == codes.ResourceExhausted && limitsReason(err) == "SERVER_BUSY" {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					if err != nil {
						t.Errorf("ListEvents: %v", err)
						return
					}
					pages++
					for _, ev := range r.GetEvents() {
						if ev.GetSequence() != seen+1 {
							t.Errorf("event %d after %d", ev.GetSequence(), seen)
							return
						}
						seen = ev.GetSequence()
					}
					if r.GetNextPageToken() == "" {
						t.Errorf("the log ended after event %d of %d", seen, last)
						return
					}
					req.PageToken = r.GetNextPageToken()
				}
			})
		})
		wantRSSUnder(t, "40 readers of three pages", peak)
	})

	getDocument := func(t *testing.T, allowed ...string) *outcomes {
		svc := parleyv1.NewNegotiationServiceClient(clientConn(s))
		admin := servertest.As(ctx, s.AdminToken)
		o := &outcomes{}
		peak := peakRSS(t, s, func() {
			concurrently(100, func(int) {
				r, err := svc.GetDocument(admin, &parleyv1.GetDocumentRequest{Negotiation: doc.Name, PageSize: 10000})
				o.add(t, err, allowed...)
				if err == nil && (len(r.GetPoints()) == 0 || r.GetNextPageToken() == "") {
					t.Errorf("a page of %d points without the token for the rest", len(r.GetPoints()))
				}
			})
		})
		t.Logf("100 concurrent GetDocument: %v", o.counts)
		wantRSSUnder(t, "100 concurrent GetDocument", peak)
		return o
	}

	t.Run("GetDocument", func(t *testing.T) {
		if o := getDocument(t, serverBusy); o.ok() == 0 {
			t.Error("no call succeeded")
		}
	})

	// openWatches opens count streams from sequence 0 that never read. Their
	// connections keep gRPC's initial flow-control window (64 KiB), not one
	// that grows, as a client that stopped reading would.
	openWatches := func(t *testing.T, ctx context.Context, token string, count int, allowed ...string) (*outcomes, []parleyv1.NegotiationService_WatchEventsClient) {
		var conns []parleyv1.NegotiationServiceClient
		for range 8 {
			conns = append(conns, parleyv1.NewNegotiationServiceClient(clientConn(s,
				grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))))
		}
		o := &outcomes{}
		var streams []parleyv1.NegotiationService_WatchEventsClient
		for i := range count {
			w, err := conns[i%len(conns)].WatchEvents(servertest.As(ctx, token), &parleyv1.WatchEventsRequest{Negotiation: n.Name})
			if err != nil {
				t.Fatal(err)
			}
			streams = append(streams, w)
		}
		// An open stream sends its headers with its first events; a refused
		// one ends without any.
		for _, w := range streams {
			md, err := w.Header()
			if md == nil { // gRPC keeps the status for Recv
				_, err = w.Recv()
			}
			o.add(t, err, allowed...)
		}
		return o, streams
	}

	t.Run("WatchersThatNeverRead", func(t *testing.T) {
		wctx, wcancel := context.WithCancel(ctx)
		defer wcancel()
		var streams []parleyv1.NegotiationService_WatchEventsClient
		peak := peakRSS(t, s, func() {
			_, streams = openWatches(t, wctx, n.Tokens["ukraine"], 400)
			time.Sleep(4 * time.Second) // past the stall time: the server cuts them off
		})
		wantRSSUnder(t, "400 watchers that never read", peak)
		// A watcher cut off gets the events gRPC took for it, in order, then
		// the status that tells it where to resume.
		w := streams[0]
		var seen int64
		for {
			r, err := w.Recv()
			if err != nil {
				if status.Code(err) != codes.ResourceExhausted || limitsReason(err) != "WATCH_TOO_SLOW" ||
					!strings.Contains(status.Convert(err).Message(), fmt.Sprintf("resume from sequence %d", seen)) {
					t.Errorf("after event %d: %v (reason %q), want RESOURCE_EXHAUSTED WATCH_TOO_SLOW, resume from sequence %d",
						seen, err, limitsReason(err), seen)
				}
				break
			}
			if r.GetEvent().GetSequence() != seen+1 {
				t.Fatalf("event %d after %d", r.GetEvent().GetSequence(), seen)
			}
			seen = r.GetEvent().GetSequence()
		}
		if seen == 0 || seen >= last {
			t.Errorf("the watcher got %d of %d events before it was cut off", seen, last)
		}
	})

	// The same load with parleyd's defaults: the rate limit, 16 watch
	// streams per token.
	s.Args = nil
	s.Restart()

	t.Run("DefaultConfig", func(t *testing.T) {
		listEvents(t, 200, serverBusy, rateLimited)
		getDocument(t, serverBusy, rateLimited)
		wctx, wcancel := context.WithCancel(ctx)
		defer wcancel()
		peak := peakRSS(t, s, func() {
			o, _ := openWatches(t, wctx, n.Tokens["russia"], 400, tooManyWatches, rateLimited)
			t.Logf("400 watches from one token: %v", o.counts)
			if o.ok() > 16 || o.counts[tooManyWatches] == 0 {
				t.Errorf("%d streams open with one token and %d refused as too many; the cap is 16", o.ok(), o.counts[tooManyWatches])
			}
		})
		wantRSSUnder(t, "400 watches from one token", peak)
	})
}
