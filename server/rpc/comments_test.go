package rpc_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/rpc"
)

func (e *env) comment(n negotiation, who string, req *parleyv1.PostCommentRequest) *parleyv1.Comment {
	e.t.Helper()
	req.RequestId, req.Negotiation = rid(), n.name
	r, err := e.svc.PostComment(e.as(n.tokens[who]), req)
	if err != nil {
		e.t.Fatalf("%s comments: %v", who, err)
	}
	return r.GetComment()
}

func TestListComments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	p1, p2 := n.points[0], n.points[1]
	a := e.propose(n, "ukraine", replace, p2, "Two, by Ukraine.")
	watch := e.watch(e.as(n.tokens["united-states"]), n.name, e.lastSequence(n.name))

	c0 := e.comment(n, "russia", &parleyv1.PostCommentRequest{Point: p1.GetName(), Text: "Which borders?"})
	c1 := e.comment(n, demo.Mediator, &parleyv1.PostCommentRequest{Amendment: a.GetName(), Text: "A compromise is near."})
	c2 := e.comment(n, "ukraine", &parleyv1.PostCommentRequest{Parent: c0.GetName(), Text: "Those of 1991."})
	c3 := e.comment(n, "europe", &parleyv1.PostCommentRequest{Parent: c1.GetName(), Text: "Agreed."})
	if c2.GetPoint() != p1.GetName() || c2.GetParent() != c0.GetName() || c3.GetAmendment() != a.GetName() {
		t.Fatalf("replies do not carry their thread: %v, %v", c2, c3)
	}
	r, err := e.svc.RetractComment(e.as(n.tokens["russia"]), &parleyv1.RetractCommentRequest{RequestId: rid(), Name: c0.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.GetComment(); !got.GetRetracted() || got.GetText() != "" || got.GetRetractTime() == nil {
		t.Errorf("retracted comment: %v", got)
	}

	// The watch stream carries the comments and the retraction, text and
	// all: the log keeps what a retracted comment said.
	var posted []string
	for range 5 {
		ev := watch.next(t).GetEvent()
		switch p := ev.GetPayload().(type) {
		case *parleyv1.Event_CommentPosted:
			posted = append(posted, p.CommentPosted.GetText())
		case *parleyv1.Event_CommentRetracted:
			if !strings.HasSuffix(c0.GetName(), p.CommentRetracted.GetCommentId()) {
				t.Errorf("retracted %s, want %s", p.CommentRetracted.GetCommentId(), c0.GetName())
			}
		default:
			t.Errorf("unexpected event %T", p)
		}
	}
	if want := []string{"Which borders?", "A compromise is near.", "Those of 1991.", "Agreed."}; !slices.Equal(posted, want) {
		t.Errorf("watched comments %q, want %q", posted, want)
	}

	list := func(req *parleyv1.ListCommentsRequest, size int32) []*parleyv1.Comment {
		t.Helper()
		var out []*parleyv1.Comment
		req.Negotiation, req.PageSize = n.name, size
		for pages := 0; ; pages++ {
			r, err := e.svc.ListComments(e.as(n.tokens["united-states"]), req)
			if err != nil {
				t.Fatalf("ListComments: %v", err)
			}
			if size > 0 && len(r.GetComments()) > int(size) {
				t.Fatalf("page of %d, asked for %d", len(r.GetComments()), size)
			}
			if pages > 20 {
				t.Fatal("more than 20 pages")
			}
			out = append(out, r.GetComments()...)
			if req.PageToken = r.GetNextPageToken(); req.PageToken == "" {
				return out
			}
		}
	}
	for _, c := range []struct {
		what string
		req  func() *parleyv1.ListCommentsRequest
		want []*parleyv1.Comment
	}{
		{"all", func() *parleyv1.ListCommentsRequest { return &parleyv1.ListCommentsRequest{} }, []*parleyv1.Comment{c0, c1, c2, c3}},
		{"of point 1", func() *parleyv1.ListCommentsRequest { return &parleyv1.ListCommentsRequest{Point: p1.GetName()} }, []*parleyv1.Comment{c0, c2}},
		{"of the amendment", func() *parleyv1.ListCommentsRequest { return &parleyv1.ListCommentsRequest{Amendment: a.GetName()} }, []*parleyv1.Comment{c1, c3}},
		{"of point 2", func() *parleyv1.ListCommentsRequest { return &parleyv1.ListCommentsRequest{Point: p2.GetName()} }, nil},
	} {
		for _, size := range []int32{0, 1, 3} {
			got := list(c.req(), size)
			if !slices.Equal(names(got), names(c.want)) {
				t.Errorf("%s in pages of %d: %v, want %v", c.what, size, names(got), names(c.want))
			}
			for _, g := range got {
				if g.GetName() == c0.GetName() && (!g.GetRetracted() || g.GetText() != "") {
					t.Errorf("%s: the retracted comment is listed as %v", c.what, g)
				}
			}
		}
	}

	// Counts on the document, the point and the amendment.
	doc, err := e.svc.GetDocument(e.as(n.tokens["united-states"]), &parleyv1.GetDocumentRequest{Negotiation: n.name})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.GetPoints()[0].GetCommentCount(); got != 2 {
		t.Errorf("point 1 shows %d comments, want 2", got)
	}
	if got := doc.GetNegotiation().GetCommentCount(); got != 4 {
		t.Errorf("the negotiation shows %d comments, want 4", got)
	}
	got, err := e.svc.GetAmendment(e.as(n.tokens["united-states"]), &parleyv1.GetAmendmentRequest{Name: a.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetAmendment().GetCommentCount() != 2 {
		t.Errorf("the amendment shows %d comments, want 2", got.GetAmendment().GetCommentCount())
	}
}

// TestListCommentsBoundedInBytes fills a point with more long comments than
// one page holds: pages end before the byte limit, and together hold them all.
func TestListCommentsBoundedInBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	const count = 800 // 800 × 4 KiB: more than a 3 MiB page
	text := strings.Repeat("a", 4<<10-8)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < count; i += 8 {
				_, err := e.svc.PostComment(e.as(n.tokens["ukraine"]), &parleyv1.PostCommentRequest{RequestId: rid(), Negotiation: n.name,
					Point: n.points[6].GetName(), Text: fmt.Sprintf("%07d %s", i, text)})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	req := &parleyv1.ListCommentsRequest{Negotiation: n.name, Point: n.points[6].GetName(), PageSize: 1000}
	total, pages := 0, 0
	for {
		r, err := e.svc.ListComments(e.as(n.tokens["russia"]), req)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		total += len(r.GetComments())
		if size := proto.Size(r); size > rpc.MaxPageBytes {
			t.Errorf("page %d is %d bytes, over %d", pages, size, rpc.MaxPageBytes)
		}
		if req.PageToken = r.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	if total != count || pages < 2 {
		t.Errorf("%d comments in %d pages, want %d in 2 or more", total, pages, count)
	}
}

// TestAlternatives checks that a point's competing pending amendments come
// with the document, the mediator's marked and counters naming what they
// answer, and that applying one leaves none.
func TestAlternatives(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	p7 := n.points[6]
	a := e.propose(n, "ukraine", replace, p7, "Seven, by Ukraine.")
	r, err := e.svc.ProposeAmendment(e.as(n.tokens[demo.Mediator]), &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: n.name,
		Kind: replace, Point: p7.GetName(), BaseRevision: 1, Text: "Seven, a compromise.", CounterTo: a.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	b := r.GetAmendment()
	if !b.GetByMediator() || b.GetCounterTo() != a.GetName() || a.GetByMediator() {
		t.Fatalf("mediator's counter: by_mediator %v, counter_to %q; ukraine's by_mediator %v", b.GetByMediator(), b.GetCounterTo(), a.GetByMediator())
	}
	e.propose(n, "europe", insert, p7, "After seven.") // no alternative to point 7's text
	document := func() *parleyv1.Point {
		t.Helper()
		doc, err := e.svc.GetDocument(e.as(n.tokens["russia"]), &parleyv1.GetDocumentRequest{Negotiation: n.name})
		if err != nil {
			t.Fatal(err)
		}
		return doc.GetPoints()[6]
	}
	alts := document().GetAlternatives()
	if len(alts) != 2 || alts[0].GetAmendment() != a.GetName() || alts[1].GetAmendment() != b.GetName() ||
		alts[0].GetText() != "Seven, by Ukraine." || !alts[1].GetByMediator() || alts[1].GetCounterTo() != a.GetName() {
		t.Fatalf("alternatives of point 7: %v", alts)
	}
	// A client that shows the text alone leaves the brackets out; the page
	// read with them just before (and cached) must not be served instead.
	bare, err := e.svc.GetDocument(e.as(n.tokens["russia"]), &parleyv1.GetDocumentRequest{Negotiation: n.name, OmitAlternatives: true})
	if err != nil {
		t.Fatal(err)
	}
	if p := bare.GetPoints()[6]; len(p.GetAlternatives()) != 0 || p.GetPendingAmendmentCount() < 2 {
		t.Fatalf("point 7 without alternatives: %v", p)
	}
	if got := len(document().GetAlternatives()); got != 2 {
		t.Fatalf("after a read without them, the document shows %d alternatives of point 7, want 2", got)
	}
	e.pass(n, b)
	if _, err := e.svc.ApplyAmendment(e.as(n.tokens[demo.Mediator]), &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: b.GetName()}); err != nil {
		t.Fatal(err)
	}
	if p := document(); len(p.GetAlternatives()) != 0 || p.GetText() != "Seven, a compromise." {
		t.Errorf("after applying the compromise, point 7 is %q with alternatives %v", p.GetText(), p.GetAlternatives())
	}
}
