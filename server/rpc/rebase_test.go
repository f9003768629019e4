package rpc_test

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
)

// TestRebase re-proposes a stale amendment over the API: merged when the
// changes are apart, refused with the conflict shown when they overlap, the
// log then unchanged, and a retry of the merged one given its first reply.
func TestRebase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.createDemo()
	p1 := n.points[0]
	text := p1.GetText()
	yours, theirs := "Indeed, "+text, text+" All parties agree."
	stale := e.propose(n, "ukraine", replace, p1, yours)
	overlapping := e.propose(n, "europe", replace, p1, text+" Some parties agree.")
	applied := e.propose(n, "russia", replace, p1, theirs)
	e.pass(n, applied)
	if _, err := e.svc.ApplyAmendment(e.as(n.tokens[demo.Mediator]), &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: applied.GetName()}); err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		req := &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: n.name, RebaseOf: stale.GetName()}
		r, err := e.svc.ProposeAmendment(e.as(n.tokens["ukraine"]), req)
		if err != nil {
			t.Fatal(err)
		}
		a := r.GetAmendment()
		if a.GetText() != "Indeed, "+text+" All parties agree." || a.GetBaseRevision() != 2 || a.GetRebasedFrom() != stale.GetName() ||
			a.GetProposer() != "ukraine" || a.GetKind() != replace || a.GetPoint() != p1.GetName() || a.GetState() != parleyv1.AmendmentState_AMENDMENT_STATE_OPEN {
			t.Fatalf("rebased amendment: %v", a)
		}
		events, err := e.svc.ListEvents(e.as(n.tokens["russia"]), &parleyv1.ListEventsRequest{Negotiation: n.name, AfterSequence: a.GetSequence() - 1, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if p := events.GetEvents()[0].GetEvent().GetAmendmentProposed(); p.GetRebasedFrom() != amendmentID(stale) || p.GetText() != a.GetText() {
			t.Fatalf("event: %v", events.GetEvents()[0])
		}
		before := e.lastSequence(n.name)
		again, err := e.svc.ProposeAmendment(e.as(n.tokens["ukraine"]), req)
		if err != nil || again.GetAmendment().GetName() != a.GetName() || e.lastSequence(n.name) != before {
			t.Fatalf("retry: %v, %v; log %d → %d", again.GetAmendment().GetName(), err, before, e.lastSequence(n.name))
		}
	})
	t.Run("ErrRebaseConflict", func(t *testing.T) {
		before := e.lastSequence(n.name)
		_, err := e.svc.ProposeAmendment(e.as(n.tokens["europe"]), &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: n.name, RebaseOf: overlapping.GetName()})
		wantError(t, "overlapping rebase", err, codes.FailedPrecondition, "REBASE_CONFLICT")
		var info *errdetails.ErrorInfo
		for _, d := range status.Convert(err).Details() {
			if i, ok := d.(*errdetails.ErrorInfo); ok {
				info = i
			}
		}
		m := info.GetMetadata()
		if m["conflicts"] != "1" || m["conflict1Yours"] != " Some parties agree." || m["conflict1Theirs"] != " All parties agree." || m["currentRevision"] != "2" {
			t.Errorf("metadata %v", m)
		}
		if after := e.lastSequence(n.name); after != before {
			t.Errorf("a refused rebase grew the log from %d to %d events", before, after)
		}
	})
}

// amendmentID is the UUID in an amendment's resource name, as events name it.
func amendmentID(a *parleyv1.Amendment) string {
	name := a.GetName()
	return name[len(name)-36:]
}
