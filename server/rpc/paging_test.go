package rpc_test

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
)

const (
	stateOpen      = parleyv1.AmendmentState_AMENDMENT_STATE_OPEN
	statePassed    = parleyv1.AmendmentState_AMENDMENT_STATE_PASSED
	stateWithdrawn = parleyv1.AmendmentState_AMENDMENT_STATE_WITHDRAWN
)

func TestListAmendments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	p1, p2, p3 := n.points[0], n.points[1], n.points[2]
	// In proposal order: which point each is of, and the state it ends in.
	a0 := e.propose(n, "ukraine", replace, p1, "One, by Ukraine.")                   // OPEN
	a1 := e.propose(n, "russia", replace, p1, "One, by Russia.")                     // WITHDRAWN
	a2 := e.propose(n, "europe", replace, p2, "Two, by Europe.")                     // PASSED
	a3 := e.propose(n, "united-states", replace, p3, "Three, by the US.")            // OPEN
	a4 := e.propose(n, "europe", replace, p1, "One, by Europe.")                     // PASSED
	a5 := e.propose(n, "ukraine", insert, nil, "A preamble, inserted at the start.") // OPEN, no point
	a6 := e.propose(n, "ukraine", insert, p1, "A point after point 1.")              // OPEN, anchored on point 1
	if _, err := e.svc.WithdrawAmendment(e.as(n.tokens["russia"]), &parleyv1.WithdrawAmendmentRequest{RequestId: rid(), Name: a1.GetName()}); err != nil {
		t.Fatal(err)
	}
	e.pass(n, a2)
	e.pass(n, a4)
	all := names([]*parleyv1.Amendment{a0, a1, a2, a3, a4, a5, a6})

	// list reads every page of one query and checks each page's size.
	list := func(point string, states []parleyv1.AmendmentState, size int32) []string {
		t.Helper()
		var out []string
		token := ""
		for pages := 0; ; pages++ {
			r, err := e.svc.ListAmendments(e.as(n.tokens["ukraine"]), &parleyv1.ListAmendmentsRequest{Negotiation: n.name,
				Point: point, States: states, PageSize: size, PageToken: token})
			if err != nil {
				t.Fatalf("ListAmendments(point %q, states %v, size %d): %v", point, states, size, err)
			}
			if size > 0 && len(r.GetAmendments()) > int(size) {
				t.Fatalf("page of %d, asked for %d", len(r.GetAmendments()), size)
			}
			if pages > 20 {
				t.Fatal("more than 20 pages: the list does not end")
			}
			out = append(out, names(r.GetAmendments())...)
			if token = r.GetNextPageToken(); token == "" {
				return out
			}
		}
	}
	for _, c := range []struct {
		what   string
		point  string
		states []parleyv1.AmendmentState
		want   []string
	}{
		{"all", "", nil, all},
		// An INSERT anchored on a point counts as one of its amendments, as
		// in Point.pending_amendment_count.
		{"of point 1", p1.GetName(), nil, names([]*parleyv1.Amendment{a0, a1, a4, a6})},
		{"passed", "", []parleyv1.AmendmentState{statePassed}, names([]*parleyv1.Amendment{a2, a4})},
		{"open or withdrawn", "", []parleyv1.AmendmentState{stateOpen, stateWithdrawn}, names([]*parleyv1.Amendment{a0, a1, a3, a5, a6})},
		{"passed, of point 1", p1.GetName(), []parleyv1.AmendmentState{statePassed}, names([]*parleyv1.Amendment{a4})},
		{"of point 3, passed", p3.GetName(), []parleyv1.AmendmentState{statePassed}, nil},
	} {
		for _, size := range []int32{0, 1, 2, 3, 1000, 5000} {
			if got := list(c.point, c.states, size); !slices.Equal(got, c.want) {
				t.Errorf("%s in pages of %d: %d amendments %v, want %d %v", c.what, size, len(got), got, len(c.want), c.want)
			}
		}
	}

	// A full last page says so: no token to an empty page.
	r, err := e.svc.ListAmendments(e.asAdmin(), &parleyv1.ListAmendmentsRequest{Negotiation: n.name,
		States: []parleyv1.AmendmentState{statePassed}, PageSize: 2})
	if err != nil || len(r.GetAmendments()) != 2 || r.GetNextPageToken() != "" {
		t.Errorf("the two PASSED in a page of 2: %d amendments, next token %q, %v", len(r.GetAmendments()), r.GetNextPageToken(), err)
	}

	// A token is bound to its filters; the order of the states is not a
	// filter of its own.
	first, err := e.svc.ListAmendments(e.asAdmin(), &parleyv1.ListAmendmentsRequest{Negotiation: n.name,
		States: []parleyv1.AmendmentState{stateOpen, stateWithdrawn}, PageSize: 1})
	if err != nil || first.GetNextPageToken() == "" {
		t.Fatalf("first page: %v", err)
	}
	for _, c := range []struct {
		what   string
		req    *parleyv1.ListAmendmentsRequest
		reason string
	}{
		{"other states", &parleyv1.ListAmendmentsRequest{States: []parleyv1.AmendmentState{statePassed}}, "PAGE_TOKEN_INVALID"},
		{"no states", &parleyv1.ListAmendmentsRequest{}, "PAGE_TOKEN_INVALID"},
		{"a point added", &parleyv1.ListAmendmentsRequest{Point: p1.GetName(), States: []parleyv1.AmendmentState{stateOpen, stateWithdrawn}}, "PAGE_TOKEN_INVALID"},
		{"states reordered", &parleyv1.ListAmendmentsRequest{States: []parleyv1.AmendmentState{stateWithdrawn, stateOpen}}, ""},
	} {
		c.req.Negotiation, c.req.PageToken, c.req.PageSize = n.name, first.GetNextPageToken(), 1
		r, err := e.svc.ListAmendments(e.asAdmin(), c.req)
		if c.reason != "" {
			wantError(t, "token with "+c.what, err, codes.InvalidArgument, c.reason)
			continue
		}
		if err != nil || len(r.GetAmendments()) != 1 || r.GetAmendments()[0].GetName() != a1.GetName() {
			t.Errorf("token with %s: %v %v, want the second page", c.what, names(r.GetAmendments()), err)
		}
	}
}

func TestGetDocument_Paging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	whole, err := e.svc.GetDocument(e.asAdmin(), &parleyv1.GetDocumentRequest{Negotiation: n.name})
	if err != nil || len(whole.GetPoints()) != 28 || whole.GetNextPageToken() != "" {
		t.Fatalf("whole document: %d points, token %q, %v", len(whole.GetPoints()), whole.GetNextPageToken(), err)
	}
	for _, size := range []int32{1, 10, 27, 28, 29, 20000} {
		var got []string
		var sizes []int
		token := ""
		for {
			r, err := e.svc.GetDocument(e.asAdmin(), &parleyv1.GetDocumentRequest{Negotiation: n.name, PageSize: size, PageToken: token})
			if err != nil {
				t.Fatalf("page size %d: %v", size, err)
			}
			if r.GetDocumentSha256() != whole.GetDocumentSha256() {
				t.Errorf("page size %d: a page has another document hash", size)
			}
			got = append(got, names(r.GetPoints())...)
			sizes = append(sizes, len(r.GetPoints()))
			if token = r.GetNextPageToken(); token == "" {
				break
			}
		}
		if !slices.Equal(got, names(whole.GetPoints())) {
			t.Errorf("page size %d: the pages do not add up to the document", size)
		}
		if size == 10 && !slices.Equal(sizes, []int{10, 10, 8}) {
			t.Errorf("28 points in pages of 10 came as %v", sizes)
		}
	}

	mid, err := e.svc.GetDocument(e.asAdmin(), &parleyv1.GetDocumentRequest{Negotiation: n.name, PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	// A sign-off changes no text, so the reader may go on.
	p := n.points[15]
	if _, err := e.svc.SignOffPoint(e.as(n.tokens["europe"]), &parleyv1.SignOffPointRequest{RequestId: rid(), Point: p.GetName(),
		Revision: 1, TextSha256: p.GetTextSha256()}); err != nil {
		t.Fatal(err)
	}
	next, err := e.svc.GetDocument(e.asAdmin(), &parleyv1.GetDocumentRequest{Negotiation: n.name, PageSize: 10, PageToken: mid.GetNextPageToken()})
	if err != nil || len(next.GetPoints()) != 10 || next.GetPoints()[5].GetId() != p.GetId() || len(next.GetPoints()[5].GetSignOffs()) != 1 {
		t.Fatalf("page 2 after a sign-off: %v; want point 16 with its new sign-off", err)
	}
	// A new text does change the document: the next page is refused, and
	// the reader starts again.
	a := e.propose(n, "ukraine", replace, n.points[14], "A joint working group of all parties.")
	e.pass(n, a)
	if _, err := e.svc.ApplyAmendment(e.as(n.tokens[demo.Mediator]), &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: a.GetName()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GetDocument(e.asAdmin(), &parleyv1.GetDocumentRequest{Negotiation: n.name, PageSize: 10, PageToken: mid.GetNextPageToken()})
	wantError(t, "page 2 after the document changed", err, codes.Aborted, "DOCUMENT_CHANGED")
	_, err = e.svc.GetDocument(e.asAdmin(), &parleyv1.GetDocumentRequest{Negotiation: n.name, PageSize: 10, PageToken: "garbage"})
	wantError(t, "garbage token", err, codes.InvalidArgument, "PAGE_TOKEN_INVALID")
	other := e.createDemo()
	_, err = e.svc.GetDocument(e.asAdmin(), &parleyv1.GetDocumentRequest{Negotiation: other.name, PageSize: 10, PageToken: mid.GetNextPageToken()})
	wantError(t, "token of another negotiation", err, codes.InvalidArgument, "PAGE_TOKEN_INVALID")
}

func TestListEvents_Paging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo() // 34 events
	read := func(after int64, size int32) (seqs []int64, pages []int) {
		t.Helper()
		token := ""
		for {
			r, err := e.svc.ListEvents(e.as(n.tokens["russia"]), &parleyv1.ListEventsRequest{Negotiation: n.name,
				AfterSequence: after, PageSize: size, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range r.GetEvents() {
				if ev.GetEvent().GetSequence() != ev.GetSequence() {
					t.Fatalf("record %d holds event %d", ev.GetSequence(), ev.GetEvent().GetSequence())
				}
				seqs = append(seqs, ev.GetSequence())
			}
			pages = append(pages, len(r.GetEvents()))
			if token = r.GetNextPageToken(); token == "" {
				return seqs, pages
			}
		}
	}
	span := func(from, to int64) []int64 {
		var out []int64
		for s := from; s <= to; s++ {
			out = append(out, s)
		}
		return out
	}
	for _, c := range []struct {
		after     int64
		size      int32
		wantPages []int
		wantSeqs  []int64
	}{
		{0, 0, []int{34}, span(1, 34)},
		{0, 7, []int{7, 7, 7, 7, 6}, span(1, 34)},
		{0, 17, []int{17, 17}, span(1, 34)}, // the end on a page's edge: no empty page
		{0, 5000, []int{34}, span(1, 34)},
		{30, 3, []int{3, 1}, span(31, 34)},
		{34, 10, []int{0}, nil},
		{99, 10, []int{0}, nil},
	} {
		seqs, pages := read(c.after, c.size)
		if !slices.Equal(seqs, c.wantSeqs) || !slices.Equal(pages, c.wantPages) {
			t.Errorf("after %d in pages of %d: pages %v of %v, want %v of %v", c.after, c.size, pages, seqs, c.wantPages, c.wantSeqs)
		}
	}
	// The token says where to go on, whatever after_sequence says.
	first, err := e.svc.ListEvents(e.asAdmin(), &parleyv1.ListEventsRequest{Negotiation: n.name, PageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.svc.ListEvents(e.asAdmin(), &parleyv1.ListEventsRequest{Negotiation: n.name, PageSize: 5, AfterSequence: 20, PageToken: first.GetNextPageToken()})
	if err != nil || len(r.GetEvents()) == 0 || r.GetEvents()[0].GetSequence() != 6 {
		t.Errorf("token with after_sequence 20: %v; want events from 6", err)
	}
}

func TestListNegotiations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var made []negotiation
	for range 3 {
		made = append(made, e.createDemo())
	}
	var got []string
	token := ""
	for {
		r, err := e.svc.ListNegotiations(e.asAdmin(), &parleyv1.ListNegotiationsRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, names(r.GetNegotiations())...)
		if token = r.GetNextPageToken(); token == "" {
			break
		}
	}
	want := []string{made[0].name, made[1].name, made[2].name}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the administrator lists %v, want %v by name", got, want)
	}
	// A participant sees its own negotiation only.
	r, err := e.svc.ListNegotiations(e.as(made[1].tokens["europe"]), &parleyv1.ListNegotiationsRequest{PageSize: 1})
	if err != nil || !slices.Equal(names(r.GetNegotiations()), []string{made[1].name}) || r.GetNextPageToken() != "" {
		t.Errorf("Europe of the second negotiation lists %v (%v)", names(r.GetNegotiations()), err)
	}
}
