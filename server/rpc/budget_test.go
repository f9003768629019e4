package rpc_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/rpc"
)

// longText is a point text at its limit, 16 KiB, different for each i.
func longText(i int) string {
	head := fmt.Sprintf("text %d ", i)
	return head + strings.Repeat("x", 16<<10-len(head))
}

// withLongAmendments creates the demo and has Ukraine propose count
// REPLACE amendments of 16 KiB on point 1: the log's events then hold about
// count × 16 KiB.
func (e *env) withLongAmendments(count int) negotiation {
	e.t.Helper()
	n := e.createDemo()
	for i := range count {
		e.propose(n, "ukraine", parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, n.points[0], longText(i))
	}
	return n
}

// noReplyInFlight fails unless the reply memory is all given back once the
// calls have ended. The server learns that a call ended just after the
// client has its reply, so this waits a little.
func (e *env) noReplyInFlight() {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.InFlightReplyBytes() != 0 {
		if time.Now().After(deadline) {
			e.t.Errorf("after the calls, %d reply bytes are still counted in flight", e.srv.InFlightReplyBytes())
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkPage fails if a reply would not reach a client with gRPC's default
// 4 MiB receive limit, or passes the page budget.
func checkPage(t *testing.T, what string, reply proto.Message) {
	t.Helper()
	if size := proto.Size(reply); size > rpc.MaxPageBytes+64<<10 {
		t.Errorf("%s: %d bytes, over the page budget of %d", what, size, rpc.MaxPageBytes)
	}
}

func TestListEvents_PageBytes(t *testing.T) {
	e := newEnv(t)
	n := e.withLongAmendments(260) // 260 × 16 KiB ≈ 4.2 MB of leaves, 8.4 MB of records
	last := e.lastSequence(n.name)
	t.Run("OK", func(t *testing.T) {
		req := &parleyv1.ListEventsRequest{Negotiation: n.name, PageSize: 1000}
		var seen int64
		pages := 0
		for {
			r, err := e.svc.ListEvents(e.as(n.tokens["ukraine"]), req)
			if err != nil {
				t.Fatalf("page %d: %v", pages+1, err)
			}
			pages++
			checkPage(t, fmt.Sprintf("page %d", pages), r)
			for _, ev := range r.GetEvents() {
				if ev.GetSequence() != seen+1 {
					t.Fatalf("page %d: event %d after %d", pages, ev.GetSequence(), seen)
				}
				seen = ev.GetSequence()
			}
			if r.GetNextPageToken() == "" {
				break
			}
			req.PageToken = r.GetNextPageToken()
		}
		if seen != last || pages < 3 {
			t.Errorf("read events 1 to %d in %d pages, want 1 to %d in 3 pages or more", seen, pages, last)
		}
	})
	t.Run("OneEventPerPageAtLeast", func(t *testing.T) {
		r, err := e.svc.ListEvents(e.as(n.tokens["ukraine"]), &parleyv1.ListEventsRequest{Negotiation: n.name, PageSize: 1, AfterSequence: last - 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.GetEvents()) != 1 || r.GetNextPageToken() != "" {
			t.Errorf("last page: %d events, token %q; want the last event and no token", len(r.GetEvents()), r.GetNextPageToken())
		}
	})
	e.noReplyInFlight()
}

func TestListAmendments_PageBytes(t *testing.T) {
	e := newEnv(t)
	n := e.withLongAmendments(260)
	req := &parleyv1.ListAmendmentsRequest{Negotiation: n.name, PageSize: 1000}
	seen := map[string]bool{}
	pages := 0
	for {
		r, err := e.svc.ListAmendments(e.as(n.tokens["russia"]), req)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		checkPage(t, fmt.Sprintf("page %d", pages), r)
		for _, a := range r.GetAmendments() {
			if seen[a.GetName()] {
				t.Fatalf("%s on two pages", a.GetName())
			}
			seen[a.GetName()] = true
		}
		if r.GetNextPageToken() == "" {
			break
		}
		req.PageToken = r.GetNextPageToken()
	}
	if len(seen) != 260 || pages < 2 {
		t.Errorf("read %d amendments in %d pages, want 260 in 2 pages or more", len(seen), pages)
	}
}

func TestGetDocument_PageBytes(t *testing.T) {
	e := newEnv(t)
	req := &parleyv1.CreateNegotiationRequest{RequestId: rid(), Title: "Long points",
		Participants: []*parleyv1.Participant{{Id: "a", DisplayName: "A", Role: parleyv1.Role_ROLE_DELEGATION},
			{Id: "m", DisplayName: "M", Role: parleyv1.Role_ROLE_MEDIATOR}},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}}
	for i := range 400 { // 400 × 16 KiB ≈ 6.6 MB
		req.Points = append(req.Points, longText(i))
	}
	r, err := e.svc.CreateNegotiation(e.asAdmin(), req)
	if err != nil {
		t.Fatal(err)
	}
	name := r.GetNegotiation().GetName()
	read := func() (first *parleyv1.GetDocumentResponse, points int, pages int) {
		req := &parleyv1.GetDocumentRequest{Negotiation: name, PageSize: 10000}
		for {
			r, err := e.svc.GetDocument(e.asAdmin(), req)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = r
			}
			pages++
			checkPage(t, fmt.Sprintf("page %d", pages), r)
			for _, p := range r.GetPoints() {
				if p.GetNumber() != int32(points+1) {
					t.Fatalf("point %d after %d", p.GetNumber(), points)
				}
				points++
			}
			if r.GetNextPageToken() == "" {
				return first, points, pages
			}
			req.PageToken = r.GetNextPageToken()
		}
	}
	first, points, pages := read()
	if points != 400 || pages < 3 {
		t.Errorf("read %d points in %d pages, want 400 in 3 pages or more", points, pages)
	}
	again, _, _ := read() // served from the reply cache: the same page
	if !proto.Equal(first, again) {
		t.Error("the first page read again differs")
	}
}

func TestGetPoint_HistoryPages(t *testing.T) {
	e := newEnv(t)
	n := e.createDemo()
	point := n.points[0]
	for i := range 4 {
		a := e.propose(n, "ukraine", parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, point, longText(i))
		e.pass(n, a)
		r, err := e.svc.ApplyAmendment(e.as(n.tokens["mediator"]), &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: a.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		point = r.GetPoint()
	}
	whole, err := e.svc.GetPoint(e.as(n.tokens["russia"]), &parleyv1.GetPointRequest{Name: point.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if len(whole.GetPoint().GetRevisions()) != 5 || whole.GetNextPageToken() != "" {
		t.Fatalf("one page: %d revisions, token %q; want 5 and no token", len(whole.GetPoint().GetRevisions()), whole.GetNextPageToken())
	}
	t.Run("OK", func(t *testing.T) {
		req := &parleyv1.GetPointRequest{Name: point.GetName(), PageSize: 2}
		var revisions []*parleyv1.PointRevision
		for pages := 1; ; pages++ {
			r, err := e.svc.GetPoint(e.as(n.tokens["russia"]), req)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(r.GetPoint().GetRevisions()); got > 2 {
				t.Fatalf("page %d: %d revisions, page_size 2", pages, got)
			}
			if r.GetPoint().GetText() != whole.GetPoint().GetText() {
				t.Fatalf("page %d shows another current text", pages)
			}
			revisions = append(revisions, r.GetPoint().GetRevisions()...)
			if r.GetNextPageToken() == "" {
				break
			}
			req.PageToken = r.GetNextPageToken()
		}
		if !proto.Equal(&parleyv1.Point{Revisions: revisions}, &parleyv1.Point{Revisions: whole.GetPoint().GetRevisions()}) {
			t.Error("the pages' revisions are not the whole history in order")
		}
	})
	t.Run("ErrPointChanged", func(t *testing.T) {
		r, err := e.svc.GetPoint(e.as(n.tokens["russia"]), &parleyv1.GetPointRequest{Name: point.GetName(), PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SignOffPoint(e.as(n.tokens["russia"]), &parleyv1.SignOffPointRequest{RequestId: rid(), Point: point.GetName(),
			Revision: point.GetRevision(), TextSha256: point.GetTextSha256()}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.GetPoint(e.as(n.tokens["russia"]), &parleyv1.GetPointRequest{Name: point.GetName(), PageSize: 1, PageToken: r.GetNextPageToken()})
		wantError(t, "next page after a sign-off", err, codes.Aborted, "POINT_CHANGED")
	})
}

func TestReplyMemory(t *testing.T) {
	t.Run("ErrServerBusy", func(t *testing.T) {
		// A budget smaller than one event's record: nothing can be sent.
		e := newEnv(t, rpc.WithReplyMemory(20_000))
		n := e.withLongAmendments(3)
		before := e.lastSequence(n.name)
		_, err := e.svc.ListEvents(e.as(n.tokens["ukraine"]), &parleyv1.ListEventsRequest{Negotiation: n.name, AfterSequence: before - 1})
		wantError(t, "ListEvents of a 16 KiB event", err, codes.ResourceExhausted, "SERVER_BUSY")
		if after := e.lastSequence(n.name); after != before {
			t.Errorf("the log grew from %d to %d events", before, after)
		}
		e.noReplyInFlight()
	})
	t.Run("ShorterPages", func(t *testing.T) {
		// Room for a few events at a time: pages end early and go on.
		e := newEnv(t, rpc.WithReplyMemory(200_000))
		n := e.withLongAmendments(20)
		req := &parleyv1.ListEventsRequest{Negotiation: n.name, PageSize: 1000}
		var seen int64
		pages := 0
		for {
			r, err := e.svc.ListEvents(e.as(n.tokens["ukraine"]), req)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, ev := range r.GetEvents() {
				if ev.GetSequence() != seen+1 {
					t.Fatalf("event %d after %d", ev.GetSequence(), seen)
				}
				seen = ev.GetSequence()
			}
			if r.GetNextPageToken() == "" {
				break
			}
			req.PageToken = r.GetNextPageToken()
		}
		if last := e.lastSequence(n.name); seen != last || pages < 3 {
			t.Errorf("read events 1 to %d in %d pages, want 1 to %d in 3 pages or more", seen, pages, last)
		}
	})
}

func TestWatchEvents_StreamsPerToken(t *testing.T) {
	e := newEnv(t, rpc.WithWatchLimits(-1, -1, 2))
	n := e.createDemo()
	open := func(token string) (parleyv1.NegotiationService_WatchEventsClient, func()) {
		ctx, cancel := context.WithCancel(e.as(token))
		w, err := e.svc.WatchEvents(ctx, &parleyv1.WatchEventsRequest{Negotiation: n.name})
		if err != nil {
			t.Fatal(err)
		}
		return w, cancel
	}
	first, closeFirst := open(n.tokens["ukraine"])
	second, closeSecond := open(n.tokens["ukraine"])
	defer closeSecond()
	for _, w := range []parleyv1.NegotiationService_WatchEventsClient{first, second} {
		if _, err := w.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("ErrTooManyWatches", func(t *testing.T) {
		third, closeThird := open(n.tokens["ukraine"])
		defer closeThird()
		_, err := third.Recv()
		wantError(t, "a third stream", err, codes.ResourceExhausted, "TOO_MANY_WATCHES")
	})
	t.Run("OtherTokens", func(t *testing.T) {
		for _, token := range []string{n.tokens["russia"], adminToken} {
			w, cancel := open(token)
			if _, err := w.Recv(); err != nil {
				t.Errorf("another caller's stream: %v", err)
			}
			cancel()
		}
	})
	t.Run("OKAfterOneCloses", func(t *testing.T) {
		closeFirst()
		deadline := time.Now().Add(10 * time.Second)
		for {
			w, cancel := open(n.tokens["ukraine"])
			_, err := w.Recv()
			cancel()
			if err == nil {
				return
			}
			if status.Code(err) != codes.ResourceExhausted || time.Now().After(deadline) {
				t.Fatalf("a stream after one closed: %v", err)
			}
			time.Sleep(10 * time.Millisecond) // the server sees the cancellation shortly
		}
	})
}

// Replies gRPC still holds for a client that stopped reading count against
// the reply memory, and stop counting once the client's connection closes,
// though gRPC drops them then without giving their buffers back.
func TestReplyMemory_ConnectionClosed(t *testing.T) {
	e := newEnv(t)
	n := e.createDemo()
	// Events of 16 KiB: each record is some 33 KiB, over the size counted.
	for i := range 20 {
		e.propose(n, "ukraine", parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, n.points[0], longText(i))
	}
	conn := e.dial(grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	ctx, cancel := context.WithCancel(e.as(n.tokens["russia"]))
	defer cancel()
	w, err := parleyv1.NewNegotiationServiceClient(conn).WatchEvents(ctx, &parleyv1.WatchEventsRequest{Negotiation: n.name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Header(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.InFlightReplyBytes() == 0 { // the events past the window wait in gRPC
		if time.Now().After(deadline) {
			t.Fatal("no reply bytes counted for a watcher that does not read")
		}
		time.Sleep(5 * time.Millisecond)
	}
	conn.Close()
	deadline = time.Now().Add(10 * time.Second)
	for e.srv.InFlightReplyBytes() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d reply bytes still counted after the connection closed", e.srv.InFlightReplyBytes())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
