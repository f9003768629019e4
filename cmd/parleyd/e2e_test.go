package main_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// session is a negotiation seen from its participants' side: one context per
// participant carrying its token, and the admin's.
type session struct {
	t     *testing.T
	svc   parleyv1.NegotiationServiceClient
	name  string
	admin context.Context
	as    map[string]context.Context
}

func (s *session) propose(who string, kind parleyv1.AmendmentKind, point *parleyv1.Point, text, rationale string) *parleyv1.Amendment {
	s.t.Helper()
	req := &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: s.name, Kind: kind, Text: text, Rationale: rationale}
	if point != nil {
		req.Point = point.GetName()
		if kind != parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT {
			req.BaseRevision = point.GetRevision()
		}
	}
	r, err := s.svc.ProposeAmendment(s.as[who], req)
	if err != nil {
		s.t.Fatalf("%s proposes %v: %v", who, kind, err)
	}
	a := r.GetAmendment()
	if a.GetState() != parleyv1.AmendmentState_AMENDMENT_STATE_OPEN || a.GetProposer() != who || a.GetKind() != kind {
		s.t.Fatalf("%s proposes %v: got %v by %s, want an OPEN amendment", who, kind, a.GetState(), a.GetProposer())
	}
	return a
}

func (s *session) vote(who string, a *parleyv1.Amendment, choice parleyv1.VoteChoice, reason string) *parleyv1.Amendment {
	s.t.Helper()
	r, err := s.svc.CastVote(s.as[who], &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: a.GetName(), Choice: choice, Reason: reason})
	if err != nil {
		s.t.Fatalf("%s votes %v: %v", who, choice, err)
	}
	return r.GetAmendment()
}

// allApprove has every delegation approve, which closes voting.
func (s *session) allApprove(a *parleyv1.Amendment) *parleyv1.Amendment {
	s.t.Helper()
	for _, d := range demo.Delegations {
		a = s.vote(d, a, parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, "")
	}
	if a.GetState() != parleyv1.AmendmentState_AMENDMENT_STATE_PASSED || !a.GetTally().GetPassed() || a.GetTally().GetApprove() != 4 {
		s.t.Fatalf("after four approvals: %v, tally %v; want PASSED", a.GetState(), a.GetTally())
	}
	return a
}

func (s *session) apply(a *parleyv1.Amendment) *parleyv1.ApplyAmendmentResponse {
	s.t.Helper()
	r, err := s.svc.ApplyAmendment(s.as[demo.Mediator], &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: a.GetName()})
	if err != nil {
		s.t.Fatalf("apply %s: %v", a.GetName(), err)
	}
	if r.GetAmendment().GetState() != parleyv1.AmendmentState_AMENDMENT_STATE_APPLIED {
		s.t.Fatalf("apply: amendment is %v, want APPLIED", r.GetAmendment().GetState())
	}
	return r
}

func (s *session) amendment(a *parleyv1.Amendment) *parleyv1.Amendment {
	s.t.Helper()
	r, err := s.svc.GetAmendment(s.admin, &parleyv1.GetAmendmentRequest{Name: a.GetName()})
	if err != nil {
		s.t.Fatal(err)
	}
	return r.GetAmendment()
}

func (s *session) point(name string) *parleyv1.Point {
	s.t.Helper()
	r, err := s.svc.GetPoint(s.admin, &parleyv1.GetPointRequest{Name: name})
	if err != nil {
		s.t.Fatal(err)
	}
	return r.GetPoint()
}

func (s *session) signOff(who string, p *parleyv1.Point) *parleyv1.Point {
	s.t.Helper()
	r, err := s.svc.SignOffPoint(s.as[who], &parleyv1.SignOffPointRequest{RequestId: rid(), Point: p.GetName(),
		Revision: p.GetRevision(), TextSha256: sha(p.GetText())})
	if err != nil {
		s.t.Fatalf("%s signs off point %d: %v", who, p.GetNumber(), err)
	}
	return r.GetPoint()
}

func (s *session) negotiation() *parleyv1.Negotiation {
	s.t.Helper()
	r, err := s.svc.GetNegotiation(s.admin, &parleyv1.GetNegotiationRequest{Name: s.name})
	if err != nil {
		s.t.Fatal(err)
	}
	return r.GetNegotiation()
}

// document reads the whole document in pages of 10 and checks what any
// party would check: numbers 1..n in order, each hash the SHA-256 of its
// text, and the document hash that of the consolidated text.
func (s *session) document() ([]*parleyv1.Point, string) {
	s.t.Helper()
	pages := getWholeDocument(s.t, s.admin, s.svc, s.name, 10)
	points := documentPoints(pages)
	hash := pages[0].GetDocumentSha256()
	for i, p := range points {
		if p.GetNumber() != int32(i+1) {
			s.t.Fatalf("point at position %d has number %d", i+1, p.GetNumber())
		}
		if p.GetTextSha256() != sha(p.GetText()) {
			s.t.Fatalf("point %d: text_sha256 %s is not the SHA-256 of its text", p.GetNumber(), p.GetTextSha256())
		}
	}
	for _, page := range pages {
		if page.GetDocumentSha256() != hash {
			s.t.Fatalf("pages disagree on the document hash")
		}
	}
	if want := sha(render(points)); hash != want {
		s.t.Fatalf("document_sha256 %s, want the SHA-256 of the consolidated text %s", hash, want)
	}
	if n := pages[0].GetNegotiation().GetPointCount(); n != int32(len(points)) {
		s.t.Fatalf("point_count %d, but the document has %d points", n, len(points))
	}
	return points, hash
}

// byID finds a point of the document by its stable id.
func byID(points []*parleyv1.Point, id string) *parleyv1.Point {
	for _, p := range points {
		if p.GetId() == id {
			return p
		}
	}
	return nil
}

// watcher follows WatchEvents from the start of the log in the background.
type watcher struct {
	mu     sync.Mutex
	events []*parleyv1.EventRecord
	err    error
	done   chan struct{}
}

func watch(t *testing.T, ctx context.Context, svc parleyv1.NegotiationServiceClient, name string) *watcher {
	t.Helper()
	stream, err := svc.WatchEvents(ctx, &parleyv1.WatchEventsRequest{Negotiation: name})
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			r, err := stream.Recv()
			w.mu.Lock()
			if err != nil {
				w.err = err
				w.mu.Unlock()
				return
			}
			w.events = append(w.events, r.GetEvent())
			w.mu.Unlock()
		}
	}()
	return w
}

// waitFor waits until the watcher has received n events.
func (w *watcher) waitFor(t *testing.T, n int) []*parleyv1.EventRecord {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		w.mu.Lock()
		got, err := append([]*parleyv1.EventRecord(nil), w.events...), w.err
		w.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("watcher has %d of %d events (stream error: %v)", len(got), n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNegotiation drives the 28-point plan from the first draft to its
// conclusion against the real server, with a watcher following along, then
// restarts the server and checks that nothing changed.
func TestNegotiation(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	created := srv.CreateDemo(ctx)
	svc := parleyv1.NewNegotiationServiceClient(srv.Conn())
	s := &session{t: t, svc: svc, name: created.Name, admin: servertest.As(ctx, srv.AdminToken), as: map[string]context.Context{}}
	for id, token := range created.Tokens {
		s.as[id] = servertest.As(ctx, token)
	}
	const (
		approve = parleyv1.VoteChoice_VOTE_CHOICE_APPROVE
		reject  = parleyv1.VoteChoice_VOTE_CHOICE_REJECT
		abstain = parleyv1.VoteChoice_VOTE_CHOICE_ABSTAIN
		replace = parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE
		insert  = parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT
		del     = parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE
	)

	// The mediator's watcher starts before the first amendment and must see
	// the backlog (creation, tokens) and then every live event.
	watchCtx, stopWatch := context.WithCancel(s.as[demo.Mediator])
	defer stopWatch()
	w := watch(t, watchCtx, svc, s.name)

	// The initial document is the plan as published, point for point.
	initial, initialHash := s.document()
	if len(initial) != 28 {
		t.Fatalf("the plan has %d points, want 28", len(initial))
	}
	if initialHash != sha(demo.PlanText) {
		t.Errorf("document hash %s is not the SHA-256 of the plan's text", initialHash)
	}
	if lines := strings.Split(initial[9].GetText(), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[1], "— ") {
		t.Errorf("point 10 should keep its four sub-items, got %q", initial[9].GetText())
	}
	for _, p := range initial {
		if p.GetRevision() != 1 || p.GetStatus() != parleyv1.PointStatus_POINT_STATUS_PENDING {
			t.Fatalf("point %d: revision %d, %v; want revision 1, PENDING", p.GetNumber(), p.GetRevision(), p.GetStatus())
		}
	}
	n := s.negotiation()
	if n.GetState() != parleyv1.NegotiationState_NEGOTIATION_STATE_OPEN || n.GetLastSequence() != 1+28+5 {
		t.Fatalf("new negotiation: %v at sequence %d, want OPEN at 34 (created, 28 points, 5 tokens)", n.GetState(), n.GetLastSequence())
	}
	// orig[k] is the point that was number k in the draft, whatever its
	// number later.
	orig := map[int]*parleyv1.Point{}
	for _, p := range initial {
		orig[int(p.GetNumber())] = p
	}

	// A. A REPLACE that fails: Russia first abstains, then changes its vote
	// to a reasoned REJECT; under CONSENSUS one rejection sinks it.
	elections := s.propose("ukraine", replace, orig[25],
		"Ukraine will hold elections within 100 days after the ceasefire takes effect, under international observation.",
		"Elections need a ceasefire first.")
	s.vote("russia", elections, abstain, "")
	s.vote("russia", elections, reject, "Elections must follow the lifting of martial law.")
	s.vote("ukraine", elections, approve, "")
	s.vote("united-states", elections, approve, "")
	lastVote := &parleyv1.CastVoteRequest{RequestId: rid(), Amendment: elections.GetName(), Choice: approve}
	first, err := svc.CastVote(s.as["europe"], lastVote)
	if err != nil {
		t.Fatal(err)
	}
	elections = first.GetAmendment()
	if elections.GetState() != parleyv1.AmendmentState_AMENDMENT_STATE_FAILED {
		t.Fatalf("elections amendment is %v, want FAILED", elections.GetState())
	}
	if tl := elections.GetTally(); tl.GetApprove() != 3 || tl.GetReject() != 1 || tl.GetAbstain() != 0 || tl.GetNotVoted() != 0 ||
		tl.GetPassed() || !tl.GetQuorumMet() || tl.GetClosedByMediator() {
		t.Errorf("tally %v, want 3 approve, 1 reject, not passed, closed by the last vote", tl)
	}
	for _, v := range elections.GetVotes() {
		if v.GetParticipant() == "russia" && (v.GetChoice() != reject || v.GetReason() == "") {
			t.Errorf("Russia's vote is %v %q, want its changed vote: REJECT with its reason", v.GetChoice(), v.GetReason())
		}
	}
	// A retry of the closing vote replays the first reply and logs nothing.
	seq := s.negotiation().GetLastSequence()
	again, err := svc.CastVote(s.as["europe"], lastVote)
	if err != nil {
		t.Fatalf("retry of a vote: %v", err)
	}
	if !proto.Equal(again, first) || s.negotiation().GetLastSequence() != seq {
		t.Errorf("retrying a vote with its request id changed something")
	}
	_, err = svc.ApplyAmendment(s.as[demo.Mediator], &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: elections.GetName()})
	wantError(t, "apply a FAILED amendment", err, codes.FailedPrecondition, "AMENDMENT_NOT_PASSED")

	// B. Everyone signs off point 6, then a REPLACE of it passes and is
	// applied: the four sign-offs go stale.
	for _, d := range demo.Delegations {
		s.signOff(d, orig[6])
	}
	if p := s.point(orig[6].GetName()); p.GetStatus() != parleyv1.PointStatus_POINT_STATUS_AGREED || len(p.GetSignOffs()) != 4 {
		t.Fatalf("point 6 signed off by all: %v with %d sign-offs, want AGREED with 4", p.GetStatus(), len(p.GetSignOffs()))
	}
	if got := s.negotiation().GetAgreedPointCount(); got != 1 {
		t.Fatalf("agreed_point_count %d, want 1", got)
	}
	troopsText := "The size of the Armed Forces of Ukraine in peacetime will be limited to 800,000 troops."
	troops := s.allApprove(s.propose("united-states", replace, orig[6], troopsText, "Closer to the current strength."))
	applied := s.apply(troops)
	if p := applied.GetPoint(); p.GetId() != orig[6].GetId() || p.GetNumber() != 6 || p.GetRevision() != 2 || p.GetText() != troopsText ||
		p.GetTextSha256() != sha(troopsText) || p.GetStatus() != parleyv1.PointStatus_POINT_STATUS_PENDING || len(p.GetSignOffs()) != 0 {
		t.Errorf("point 6 after the REPLACE: %v", p)
	}
	if applied.GetAmendment().GetResultPoint() != orig[6].GetName() {
		t.Errorf("result_point %q, want point 6", applied.GetAmendment().GetResultPoint())
	}
	p6 := s.point(orig[6].GetName())
	if len(p6.GetSignOffs()) != 0 || len(p6.GetStaleSignOffs()) != 4 {
		t.Fatalf("point 6: %d current and %d stale sign-offs, want 0 and 4", len(p6.GetSignOffs()), len(p6.GetStaleSignOffs()))
	}
	for _, so := range p6.GetStaleSignOffs() {
		if so.GetRevision() != 1 || so.GetTextSha256() != orig[6].GetTextSha256() {
			t.Errorf("stale sign-off %v should name revision 1 and its hash", so)
		}
	}
	if revs := p6.GetRevisions(); len(revs) != 2 || revs[0].GetText() != orig[6].GetText() || revs[1].GetAmendment() != troops.GetName() {
		t.Errorf("point 6 history: %v", revs)
	}
	if got := s.negotiation().GetAgreedPointCount(); got != 0 {
		t.Errorf("agreed_point_count %d after point 6 changed, want 0", got)
	}
	_, err = svc.SignOffPoint(s.as["russia"], &parleyv1.SignOffPointRequest{RequestId: rid(), Point: orig[6].GetName(),
		Revision: 1, TextSha256: orig[6].GetTextSha256()})
	wantError(t, "sign off the old text of point 6", err, codes.Aborted, "STALE_REVISION")

	// C. Two drafts of point 27: applying Europe's stales Russia's. Russia
	// redrafts against the new text, then withdraws.
	council := s.allApprove(s.propose("europe", replace, orig[27],
		"This agreement will be legally binding. Its implementation will be monitored and guaranteed by a Peace Council of all parties. Penalties will be imposed for violations.",
		"A council of all parties."))
	rival := s.allApprove(s.propose("russia", replace, orig[27],
		"This agreement will be legally binding. Its implementation will be monitored by the Peace Council.",
		"Fewer penalties."))
	r := s.apply(council)
	if len(r.GetStaledAmendments()) != 1 || r.GetStaledAmendments()[0] != rival.GetName() {
		t.Fatalf("staled_amendments %v, want Russia's draft", r.GetStaledAmendments())
	}
	if a := s.amendment(rival); a.GetState() != parleyv1.AmendmentState_AMENDMENT_STATE_STALE || a.GetStaledBy() != council.GetName() {
		t.Fatalf("Russia's draft: %v staled by %q, want STALE by Europe's", a.GetState(), a.GetStaledBy())
	}
	_, err = svc.ApplyAmendment(s.as[demo.Mediator], &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: rival.GetName()})
	wantError(t, "apply a STALE amendment", err, codes.FailedPrecondition, "AMENDMENT_NOT_PASSED")
	redraft := s.propose("russia", replace, r.GetPoint(), "This agreement will be legally binding.", "Shorter.")
	if redraft.GetBaseRevision() != 2 {
		t.Errorf("redraft is against revision %d, want 2", redraft.GetBaseRevision())
	}
	if wr, err := svc.WithdrawAmendment(s.as["russia"], &parleyv1.WithdrawAmendmentRequest{RequestId: rid(), Name: redraft.GetName()}); err != nil ||
		wr.GetAmendment().GetState() != parleyv1.AmendmentState_AMENDMENT_STATE_WITHDRAWN {
		t.Fatalf("withdraw: %v %v", wr, err)
	}

	// D. The mediator closes a vote Russia sat out, and then rejects what
	// passed.
	nato := s.propose("europe", replace, orig[3],
		"It is expected that Russia will not invade neighboring countries.", "NATO's enlargement is NATO's business.")
	for _, d := range []string{"europe", "ukraine", "united-states"} {
		s.vote(d, nato, approve, "")
	}
	closed, err := svc.CloseVoting(s.as[demo.Mediator], &parleyv1.CloseVotingRequest{RequestId: rid(), Amendment: nato.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if a := closed.GetAmendment(); a.GetState() != parleyv1.AmendmentState_AMENDMENT_STATE_PASSED ||
		!a.GetTally().GetClosedByMediator() || a.GetTally().GetNotVoted() != 1 || a.GetTally().GetApprove() != 3 {
		t.Fatalf("closed by the mediator: %v %v, want PASSED with 3 approvals and 1 not voted", a.GetState(), a.GetTally())
	}
	const why = "Point 3 is settled by points 2 and 16; reopening it blocks the rest."
	rejected, err := svc.RejectAmendment(s.as[demo.Mediator], &parleyv1.RejectAmendmentRequest{RequestId: rid(), Amendment: nato.GetName(), Reason: why})
	if err != nil {
		t.Fatal(err)
	}
	if a := rejected.GetAmendment(); a.GetState() != parleyv1.AmendmentState_AMENDMENT_STATE_REJECTED || a.GetRejectionReason() != why {
		t.Fatalf("rejected: %v %q", a.GetState(), a.GetRejectionReason())
	}
	if p := s.point(orig[3].GetName()); p.GetRevision() != 1 || p.GetText() != orig[3].GetText() {
		t.Errorf("point 3 changed although its amendment was rejected")
	}

	// E. An INSERT after point 5 becomes point 6 and pushes the rest down.
	guaranteeText := "The security guarantees of point 5 will be ratified by the parliaments of the guarantor states."
	inserted := s.apply(s.allApprove(s.propose("ukraine", insert, orig[5], guaranteeText, "Guarantees that bind.")))
	newPoint := inserted.GetPoint()
	if newPoint.GetNumber() != 6 || newPoint.GetRevision() != 1 || newPoint.GetText() != guaranteeText || newPoint.GetTextSha256() != sha(guaranteeText) {
		t.Fatalf("inserted point: %v, want number 6 at revision 1", newPoint)
	}
	points, _ := s.document()
	if len(points) != 29 || byID(points, orig[6].GetId()).GetNumber() != 7 || byID(points, orig[28].GetId()).GetNumber() != 29 ||
		byID(points, orig[5].GetId()).GetNumber() != 5 {
		t.Fatalf("after the INSERT: %d points; old 5, 6, 28 are now %d, %d, %d; want 29 points and 5, 7, 29", len(points),
			byID(points, orig[5].GetId()).GetNumber(), byID(points, orig[6].GetId()).GetNumber(), byID(points, orig[28].GetId()).GetNumber())
	}

	// F. A DELETE of the draft's point 9 (now 10) pulls the rest back up.
	jets := s.point(orig[9].GetName())
	if jets.GetNumber() != 10 {
		t.Fatalf("the draft's point 9 is number %d after the INSERT, want 10", jets.GetNumber())
	}
	deleted := s.apply(s.allApprove(s.propose("russia", del, jets, "", "No foreign jets near the line.")))
	if p := deleted.GetPoint(); p.GetId() != jets.GetId() || p.GetStatus() != parleyv1.PointStatus_POINT_STATUS_DELETED || p.GetNumber() != 0 {
		t.Errorf("deleted point: %v, want DELETED with number 0", p)
	}
	if p := s.point(jets.GetName()); p.GetStatus() != parleyv1.PointStatus_POINT_STATUS_DELETED || p.GetDeleteTime() == nil || p.GetText() != orig[9].GetText() {
		t.Errorf("GetPoint of the deleted point: %v", p)
	}
	points, _ = s.document()
	if len(points) != 28 || byID(points, jets.GetId()) != nil {
		t.Fatalf("after the DELETE: %d points, want 28 without the deleted one", len(points))
	}
	for k := 1; k <= 28; k++ {
		want := int32(k)
		switch {
		case k == 9:
			continue
		case k >= 6 && k <= 8:
			want = int32(k + 1)
		}
		if got := byID(points, orig[k].GetId()).GetNumber(); got != want {
			t.Errorf("the draft's point %d is number %d, want %d", k, got, want)
		}
	}

	// Nothing is pending now, and the amendment list says what happened.
	n = s.negotiation()
	if n.GetPendingAmendmentCount() != 0 || n.GetAgreedPointCount() != 0 || n.GetPointCount() != 28 {
		t.Fatalf("before sign-off: %d pending, %d agreed, %d points; want 0, 0, 28", n.GetPendingAmendmentCount(), n.GetAgreedPointCount(), n.GetPointCount())
	}
	byState := map[parleyv1.AmendmentState]int{}
	list, err := svc.ListAmendments(s.admin, &parleyv1.ListAmendmentsRequest{Negotiation: s.name})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list.GetAmendments() {
		byState[a.GetState()]++
	}
	wantStates := map[parleyv1.AmendmentState]int{
		parleyv1.AmendmentState_AMENDMENT_STATE_FAILED: 1, parleyv1.AmendmentState_AMENDMENT_STATE_APPLIED: 4,
		parleyv1.AmendmentState_AMENDMENT_STATE_STALE: 1, parleyv1.AmendmentState_AMENDMENT_STATE_WITHDRAWN: 1,
		parleyv1.AmendmentState_AMENDMENT_STATE_REJECTED: 1,
	}
	if len(list.GetAmendments()) != 8 || len(byState) != len(wantStates) {
		t.Errorf("amendments by state: %v, want %v", byState, wantStates)
	}
	for st, count := range wantStates {
		if byState[st] != count {
			t.Errorf("%d amendments %v, want %d", byState[st], st, count)
		}
	}

	// G. Nobody can accept yet; then every delegation signs off every point,
	// all four at once as they would.
	_, err = svc.AcceptDocument(s.as["ukraine"], &parleyv1.AcceptDocumentRequest{RequestId: rid(), Negotiation: s.name, DocumentSha256: n.GetDocumentSha256()})
	wantError(t, "accept before sign-off", err, codes.FailedPrecondition, "POINTS_NOT_AGREED")
	var wg sync.WaitGroup
	for _, d := range demo.Delegations {
		wg.Go(func() {
			for _, p := range points {
				_, err := svc.SignOffPoint(s.as[d], &parleyv1.SignOffPointRequest{RequestId: rid(), Point: p.GetName(),
					Revision: p.GetRevision(), TextSha256: sha(p.GetText())})
				if err != nil {
					t.Errorf("%s signs off point %d: %v", d, p.GetNumber(), err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	points, docHash := s.document()
	for _, p := range points {
		if p.GetStatus() != parleyv1.PointStatus_POINT_STATUS_AGREED || len(p.GetSignOffs()) != 4 {
			t.Errorf("point %d: %v with %d sign-offs, want AGREED with 4", p.GetNumber(), p.GetStatus(), len(p.GetSignOffs()))
		}
	}
	if got := s.negotiation().GetAgreedPointCount(); got != 28 {
		t.Fatalf("agreed_point_count %d, want 28", got)
	}

	// H. The four delegations accept the text they computed the hash of;
	// the last acceptance concludes.
	for i, d := range demo.Delegations {
		r, err := svc.AcceptDocument(s.as[d], &parleyv1.AcceptDocumentRequest{RequestId: rid(), Negotiation: s.name, DocumentSha256: docHash})
		if err != nil {
			t.Fatalf("%s accepts: %v", d, err)
		}
		n := r.GetNegotiation()
		if len(n.GetAcceptances()) != i+1 {
			t.Errorf("after %d acceptances, the negotiation lists %d", i+1, len(n.GetAcceptances()))
		}
		for _, a := range n.GetAcceptances() {
			if !a.GetCurrent() || a.GetDocumentSha256() != docHash {
				t.Errorf("acceptance %v is not of the current text", a)
			}
		}
		want := parleyv1.NegotiationState_NEGOTIATION_STATE_OPEN
		if i == len(demo.Delegations)-1 {
			want = parleyv1.NegotiationState_NEGOTIATION_STATE_CONCLUDED
		}
		if n.GetState() != want {
			t.Fatalf("after %s accepted: %v, want %v", d, n.GetState(), want)
		}
	}
	n = s.negotiation()
	if n.GetConcludeTime() == nil || n.GetDocumentSha256() != docHash {
		t.Errorf("concluded negotiation: conclude_time %v, hash %s; want set and %s", n.GetConcludeTime(), n.GetDocumentSha256(), docHash)
	}

	// I. The text is frozen; an old request retried still gets its reply.
	_, err = svc.ProposeAmendment(s.as["ukraine"], &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: s.name,
		Kind: replace, Point: points[0].GetName(), BaseRevision: 1, Text: "Too late."})
	wantError(t, "propose after conclusion", err, codes.FailedPrecondition, "NEGOTIATION_CONCLUDED")
	_, err = svc.RevokeSignOff(s.as["europe"], &parleyv1.RevokeSignOffRequest{RequestId: rid(), Point: points[0].GetName()})
	wantError(t, "revoke a sign-off after conclusion", err, codes.FailedPrecondition, "NEGOTIATION_CONCLUDED")
	if again, err := svc.CastVote(s.as["europe"], lastVote); err != nil || !proto.Equal(again, first) {
		t.Errorf("retry after conclusion: %v, want the first reply", err)
	}
	if s.negotiation().GetLastSequence() != n.GetLastSequence() {
		t.Errorf("refused and retried requests after conclusion added events")
	}

	// J. The watcher saw the whole log in order, without gaps, byte for
	// byte as ListEvents serves it.
	events := listAllEvents(t, s.admin, svc, s.name, 37)
	if int64(len(events)) != n.GetLastSequence() {
		t.Fatalf("ListEvents has %d events, last_sequence is %d", len(events), n.GetLastSequence())
	}
	watched := w.waitFor(t, len(events))
	if len(watched) != len(events) {
		t.Fatalf("watcher received %d events, the log has %d", len(watched), len(events))
	}
	kinds := map[string]int{}
	for i, e := range events {
		if e.GetSequence() != int64(i+1) || e.GetEvent().GetSequence() != int64(i+1) {
			t.Fatalf("event %d has sequence %d", i+1, e.GetSequence())
		}
		if watched[i].GetSequence() != e.GetSequence() || string(watched[i].GetLeaf()) != string(e.GetLeaf()) || !proto.Equal(watched[i], e) {
			t.Fatalf("watched event %d differs from the listed one", i+1)
		}
		var decoded parleyv1.Event
		if err := proto.Unmarshal(e.GetLeaf(), &decoded); err != nil || !proto.Equal(&decoded, e.GetEvent()) {
			t.Fatalf("event %d: the leaf does not decode to the event served with it", i+1)
		}
		kinds[payloadKind(e.GetEvent())]++
	}
	wantKinds := map[string]int{
		"negotiation_created": 1, "point_added": 28, "credential_issued": 5,
		"amendment_proposed": 8, "vote_cast": 5*4 + 5 + 3, "voting_closed": 7, "amendment_applied": 4,
		"amendment_rejected": 1, "amendment_withdrawn": 1, "amendment_staled": 1,
		"point_signed_off": 4 + 28*4, "document_accepted": 4, "negotiation_concluded": 1,
	}
	for k, want := range wantKinds {
		if kinds[k] != want {
			t.Errorf("the log has %d %s events, want %d", kinds[k], k, want)
		}
	}
	if len(kinds) != len(wantKinds) {
		t.Errorf("event kinds in the log: %v, want %v", kinds, wantKinds)
	}
	if last := events[len(events)-1].GetEvent(); last.GetNegotiationConcluded().GetDocumentSha256() != docHash {
		t.Errorf("the last event is %v, want NegotiationConcluded with the accepted hash", last)
	}

	// K. A graceful stop ends the watch with UNAVAILABLE; a restart on the
	// same folder serves exactly the same document, points, amendments and
	// log.
	before := snapshot(t, s)
	srv.Stop()
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher was not disconnected by the stop")
	}
	if code, reason, _ := errorInfo(w.err); code != codes.Unavailable || reason != "SHUTTING_DOWN" {
		t.Errorf("watcher ended with %v, want UNAVAILABLE SHUTTING_DOWN", w.err)
	}
	srv.Restart()
	after := snapshot(t, s)
	if len(after) != len(before) {
		t.Fatalf("after the restart: %d records, before: %d", len(after), len(before))
	}
	for i := range before {
		if before[i].what != after[i].what || string(before[i].bytes) != string(after[i].bytes) {
			t.Errorf("after the restart, %s differs", before[i].what)
		}
	}
	_, err = svc.SignOffPoint(s.as["ukraine"], &parleyv1.SignOffPointRequest{RequestId: rid(), Point: points[0].GetName(),
		Revision: points[0].GetRevision(), TextSha256: points[0].GetTextSha256()})
	wantError(t, "mutation after the restart", err, codes.FailedPrecondition, "NEGOTIATION_CONCLUDED")
}

// payloadKind names the payload of an event, e.g. "vote_cast".
func payloadKind(e *parleyv1.Event) string {
	m := e.ProtoReflect()
	if f := m.WhichOneof(m.Descriptor().Oneofs().ByName("payload")); f != nil {
		return string(f.Name())
	}
	return ""
}

// record is one reply, deterministically encoded, for comparison.
type record struct {
	what  string
	bytes []byte
}

// snapshot reads everything a party can read about the negotiation: the
// document page by page, every point with its history (the deleted one too),
// every amendment, and the log with its leaves.
func snapshot(t *testing.T, s *session) []record {
	t.Helper()
	var out []record
	add := func(what string, m proto.Message) {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, record{what, b})
	}
	pages := getWholeDocument(t, s.admin, s.svc, s.name, 10)
	if len(pages) != 3 {
		t.Fatalf("28 points in pages of 10 came in %d pages", len(pages))
	}
	for i, p := range pages {
		add(fmt.Sprintf("document page %d", i+1), p)
	}
	amendments, err := s.svc.ListAmendments(s.admin, &parleyv1.ListAmendmentsRequest{Negotiation: s.name})
	if err != nil {
		t.Fatal(err)
	}
	add("amendment list", amendments)
	seen := map[string]bool{}
	for _, a := range amendments.GetAmendments() {
		for _, name := range []string{a.GetPoint(), a.GetResultPoint()} {
			if name != "" && !seen[name] {
				seen[name] = true
				add("point "+name, s.point(name))
			}
		}
	}
	for _, p := range documentPoints(pages) {
		if !seen[p.GetName()] {
			add("point "+p.GetName(), s.point(p.GetName()))
		}
	}
	for _, e := range listAllEvents(t, s.admin, s.svc, s.name, 100) {
		out = append(out, record{fmt.Sprintf("leaf of event %d", e.GetSequence()), e.GetLeaf()})
		add(fmt.Sprintf("event record %d", e.GetSequence()), e)
	}
	return out
}
