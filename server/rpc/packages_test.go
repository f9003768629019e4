package rpc_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
)

// A package deal through the API: proposed with its parts, listed with them
// among the alternatives of each of its points, redlined part by part, and
// applied by one event whose reply carries every part's point.
func TestPackageDeal(t *testing.T) {
	e := newEnv(t)
	n := e.create(&parleyv1.CreateNegotiationRequest{
		RequestId: rid(), Title: "Trade", Participants: demo.Participants(),
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS},
		Points:       []string{"First point.", "Limited to 600,000 troops.", "Third point.", "Fourth point."},
	})
	p := n.points
	const (
		replace = parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE
		insert  = parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT
		del     = parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE
	)
	ukraine := e.as(n.tokens["ukraine"])
	rival := e.propose(n, "russia", replace, p[1], "Limited to 500,000 troops.")
	r, err := e.svc.ProposeAmendment(ukraine, &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: n.name,
		Rationale: "We give on troops if you give on the fourth point.", Parts: []*parleyv1.AmendmentPart{
			{Kind: replace, Point: p[1].GetName(), BaseRevision: 1, Text: "Limited to 800,000 troops in peacetime."},
			{Kind: del, Point: p[3].GetName(), BaseRevision: 1},
			{Kind: insert, Point: p[0].GetName(), Text: "A new second point."},
		}})
	if err != nil {
		t.Fatal(err)
	}
	pkg := r.GetAmendment()
	if pkg.GetKind() != 0 || pkg.GetPoint() != "" || len(pkg.GetParts()) != 3 || pkg.GetParts()[1].GetPointNumber() != 4 {
		t.Fatalf("package as proposed: %v", pkg)
	}
	t.Run("OK/Alternatives", func(t *testing.T) {
		doc, err := e.svc.GetDocument(ukraine, &parleyv1.GetDocumentRequest{Negotiation: n.name})
		if err != nil {
			t.Fatal(err)
		}
		alts := doc.GetPoints()[1].GetAlternatives()
		if len(alts) != 2 || alts[0].GetAmendment() != rival.GetName() || alts[1].GetAmendment() != pkg.GetName() ||
			alts[1].GetPackageParts() != 3 || alts[1].GetText() != "Limited to 800,000 troops in peacetime." {
			t.Errorf("alternatives of point 2: %v", alts)
		}
		if alts := doc.GetPoints()[3].GetAlternatives(); len(alts) != 1 || alts[0].GetKind() != del || alts[0].GetPackageParts() != 3 {
			t.Errorf("alternatives of point 4: %v", alts)
		}
		if got := doc.GetPoints()[0].GetPendingAmendmentCount(); got != 1 {
			t.Errorf("point 1 counts %d pending amendments, want the package inserting after it", got)
		}
	})
	t.Run("OK/Redline", func(t *testing.T) {
		r, err := e.svc.GetRedline(ukraine, &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Amendment{Amendment: pkg.GetName()}})
		if err != nil {
			t.Fatal(err)
		}
		want := "CHANGED 2/0 r1→r0: Limited to [-600,000-]{+800,000+} troops{+ in peacetime+}.\n" +
			"DELETED 4/0 r1→r0: [-Fourth point.-]\n" +
			"ADDED 0/0 r0→r0: {+A new second point.+}\n"
		if got := showRedline(r.GetChanges()); got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("OK/Apply", func(t *testing.T) {
		e.pass(n, pkg)
		before := e.lastSequence(n.name)
		r, err := e.svc.ApplyAmendment(e.as(n.tokens[demo.Mediator]), &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: pkg.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.lastSequence(n.name); got != before+2 {
			t.Errorf("applying took %d events, want 2: the package, and the rival it staled", got-before)
		}
		if len(r.GetPoints()) != 3 || !proto.Equal(r.GetPoint(), r.GetPoints()[0]) || r.GetPoints()[0].GetRevision() != 2 ||
			r.GetPoints()[1].GetStatus() != parleyv1.PointStatus_POINT_STATUS_DELETED || r.GetPoints()[2].GetNumber() != 2 {
			t.Errorf("points after the package: %v", r.GetPoints())
		}
		if len(r.GetStaledAmendments()) != 1 || r.GetStaledAmendments()[0] != rival.GetName() {
			t.Errorf("staled: %v", r.GetStaledAmendments())
		}
		parts := r.GetAmendment().GetParts()
		if parts[2].GetResultPoint() != r.GetPoints()[2].GetName() || parts[0].GetResultPoint() != p[1].GetName() {
			t.Errorf("parts after apply: %v", parts)
		}
		events, err := e.svc.ListEvents(ukraine, &parleyv1.ListEventsRequest{Negotiation: n.name, AfterSequence: before, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		applied := events.GetEvents()[0].GetEvent().GetAmendmentApplied()
		if len(applied.GetParts()) != 3 || applied.GetPointId() != "" || applied.GetParts()[2].GetPointId() != r.GetPoints()[2].GetId() {
			t.Errorf("event: %v", applied)
		}
		doc, err := e.svc.GetDocument(ukraine, &parleyv1.GetDocumentRequest{Negotiation: n.name})
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, pt := range doc.GetPoints() {
			texts = append(texts, pt.GetText())
		}
		want := []string{"First point.", "A new second point.", "Limited to 800,000 troops in peacetime.", "Third point."}
		if len(texts) != len(want) {
			t.Fatalf("document: %q", texts)
		}
		for i := range want {
			if texts[i] != want[i] {
				t.Errorf("point %d: %q, want %q", i+1, texts[i], want[i])
			}
		}
	})
}
