package rpc_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
)

// showRedline writes changes as the CLI's plain redline does, with each
// change's kind and numbers in front.
func showRedline(changes []*parleyv1.RedlineChange) string {
	var b strings.Builder
	for _, c := range changes {
		fmt.Fprintf(&b, "%s %d/%d r%d→r%d: ", strings.TrimPrefix(c.GetKind().String(), "REDLINE_CHANGE_KIND_"),
			c.GetNumber(), c.GetOriginalNumber(), c.GetFromRevision(), c.GetToRevision())
		for _, s := range c.GetSegments() {
			switch s.GetOperation() {
			case parleyv1.RedlineOperation_REDLINE_OPERATION_DELETE:
				b.WriteString("[-" + s.GetText() + "-]")
			case parleyv1.RedlineOperation_REDLINE_OPERATION_INSERT:
				b.WriteString("{+" + s.GetText() + "+}")
			default:
				b.WriteString(s.GetText())
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// adopt proposes an amendment, has every delegation approve it and the
// mediator apply it.
func (e *env) adopt(n negotiation, kind parleyv1.AmendmentKind, point *parleyv1.Point, text string) *parleyv1.Amendment {
	e.t.Helper()
	a := e.propose(n, "ukraine", kind, point, text)
	e.pass(n, a)
	if _, err := e.svc.ApplyAmendment(e.as(n.tokens[demo.Mediator]), &parleyv1.ApplyAmendmentRequest{RequestId: rid(), Amendment: a.GetName()}); err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	return a
}

func TestGetRedline(t *testing.T) {
	e := newEnv(t)
	n := e.create(&parleyv1.CreateNegotiationRequest{
		RequestId: rid(), Title: "Redline", Participants: demo.Participants(),
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS},
		Points:       []string{"First point.", "Limited to 600,000 troops.", "Third point.", "Fourth point."},
	})
	p := n.points
	replaced := e.adopt(n, parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, p[1], "Limited to 800,000 troops in peacetime.")
	e.adopt(n, parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE, p[2], "")
	inserted := e.adopt(n, parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, p[0], "A new second point.")
	member := e.as(n.tokens["ukraine"])

	get := func(req *parleyv1.GetRedlineRequest) string {
		t.Helper()
		r, err := e.svc.GetRedline(member, req)
		if err != nil {
			t.Fatalf("GetRedline(%v): %v", req, err)
		}
		return showRedline(r.GetChanges())
	}
	t.Run("OK", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  *parleyv1.GetRedlineRequest
			want string
		}{
			{"RevisionsDefault", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Revisions{Revisions: &parleyv1.RedlineRevisions{Point: p[1].GetName()}}},
				"CHANGED 3/0 r1→r2: Limited to [-600,000-]{+800,000+} troops{+ in peacetime+}.\n"},
			{"RevisionsBackwards", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Revisions{Revisions: &parleyv1.RedlineRevisions{Point: p[1].GetName(), FromRevision: 2, ToRevision: 1}}},
				"CHANGED 3/0 r2→r1: Limited to [-800,000-]{+600,000+} troops[- in peacetime-].\n"},
			{"RevisionsSame", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Revisions{Revisions: &parleyv1.RedlineRevisions{Point: p[0].GetName()}}},
				"UNCHANGED 1/0 r1→r1: First point.\n"},
			{"RevisionsOfDeletedPoint", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Revisions{Revisions: &parleyv1.RedlineRevisions{Point: p[2].GetName()}}},
				"UNCHANGED 0/0 r1→r1: Third point.\n"},
			{"Amendment", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Amendment{Amendment: replaced.GetName()}},
				"CHANGED 3/0 r1→r0: Limited to [-600,000-]{+800,000+} troops{+ in peacetime+}.\n"},
			{"AmendmentInsert", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Amendment{Amendment: inserted.GetName()}},
				"ADDED 0/0 r0→r0: {+A new second point.+}\n"},
			{"ProposalReplace", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
				Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p[1].GetName(), Text: "Limited to 900,000 troops in peacetime."}}},
				"CHANGED 3/0 r2→r0: Limited to [-800,000-]{+900,000+} troops in peacetime.\n"},
			{"ProposalAgainstOriginal", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
				Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p[1].GetName(), BaseRevision: 1, Text: "Limited to 900,000 troops."}}},
				"CHANGED 3/0 r1→r0: Limited to [-600,000-]{+900,000+} troops.\n"},
			{"ProposalUnchanged", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
				Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p[0].GetName(), Text: "First point."}}},
				"UNCHANGED 1/0 r1→r0: First point.\n"},
			{"ProposalInsertAtStart", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
				Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Text: "\nPreamble.  \r\n"}}},
				"ADDED 0/0 r0→r0: {+Preamble.+}\n"},
			{"ProposalDelete", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
				Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE, Point: p[3].GetName()}}},
				"DELETED 4/0 r1→r0: [-Fourth point.-]\n"},
			{"Document", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Document{Document: n.name}},
				"ADDED 2/0 r0→r1: {+A new second point.+}\n" +
					"CHANGED 3/2 r1→r2: Limited to [-600,000-]{+800,000+} troops{+ in peacetime+}.\n" +
					"DELETED 0/3 r1→r0: [-Third point.-]\n"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := get(tc.req); got != tc.want {
					t.Errorf("got\n%s\nwant\n%s", got, tc.want)
				}
			})
		}
	})
	t.Run("OKDocumentPaged", func(t *testing.T) {
		var got string
		token := ""
		for pages := 1; ; pages++ {
			r, err := e.svc.GetRedline(member, &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Document{Document: n.name}, PageSize: 1, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.GetChanges()) != 1 {
				t.Fatalf("page %d has %d changes", pages, len(r.GetChanges()))
			}
			got += showRedline(r.GetChanges())
			if token = r.GetNextPageToken(); token == "" {
				if pages != 3 {
					t.Errorf("%d pages, want 3", pages)
				}
				break
			}
		}
		if want := get(&parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Document{Document: n.name}}); got != want {
			t.Errorf("pages give\n%s\none page gives\n%s", got, want)
		}
	})

	other := e.createDemo()
	before := e.lastSequence(n.name)
	for _, tc := range []struct {
		name   string
		who    string
		req    *parleyv1.GetRedlineRequest
		code   codes.Code
		reason string
	}{
		{"ErrSubjectRequired", "ukraine", &parleyv1.GetRedlineRequest{}, codes.InvalidArgument, "SUBJECT_REQUIRED"},
		{"ErrPagingNotApplicable", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Amendment{Amendment: replaced.GetName()}, PageSize: 5},
			codes.InvalidArgument, "PAGING_NOT_APPLICABLE"},
		{"ErrNotFound", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Revisions{Revisions: &parleyv1.RedlineRevisions{
			Point: n.name + "/points/00000000-0000-4000-8000-000000000000"}}}, codes.NotFound, "POINT_NOT_FOUND"},
		{"ErrRevisionInvalid", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Revisions{Revisions: &parleyv1.RedlineRevisions{
			Point: p[1].GetName(), ToRevision: 3}}}, codes.InvalidArgument, "REVISION_INVALID"},
		{"ErrNegativeRevision", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Revisions{Revisions: &parleyv1.RedlineRevisions{
			Point: p[1].GetName(), FromRevision: -1}}}, codes.InvalidArgument, "REVISION_INVALID"},
		{"ErrNameInvalid", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Amendment{Amendment: "amendments/x"}}, codes.InvalidArgument, "NAME_INVALID"},
		{"ErrAmendmentNotFound", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Amendment{
			Amendment: n.name + "/amendments/00000000-0000-4000-8000-000000000000"}}, codes.NotFound, "AMENDMENT_NOT_FOUND"},
		{"ErrKindInvalid", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
			Negotiation: n.name, Point: p[0].GetName(), Text: "x"}}}, codes.InvalidArgument, "KIND_INVALID"},
		{"ErrTextEmpty", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
			Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p[0].GetName(), Text: "  "}}}, codes.InvalidArgument, "TEXT_EMPTY"},
		{"ErrTextTooLong", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
			Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p[0].GetName(), Text: strings.Repeat("word ", 4000)}}},
			codes.InvalidArgument, "TEXT_TOO_LONG"},
		{"ErrTextNotAllowed", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
			Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE, Point: p[0].GetName(), Text: "x"}}}, codes.InvalidArgument, "TEXT_NOT_ALLOWED"},
		{"ErrPointRequired", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
			Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Text: "x"}}}, codes.InvalidArgument, "NAME_INVALID"},
		{"ErrPointDeleted", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
			Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p[2].GetName(), Text: "x"}}}, codes.FailedPrecondition, "POINT_DELETED"},
		{"ErrBaseRevisionInvalid", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
			Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p[1].GetName(), BaseRevision: 3, Text: "x"}}},
			codes.InvalidArgument, "BASE_REVISION_INVALID"},
		{"ErrInsertWithBaseRevision", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
			Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, BaseRevision: 1, Text: "x"}}}, codes.InvalidArgument, "BASE_REVISION_INVALID"},
		{"ErrPointOfAnotherNegotiation", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Proposal{Proposal: &parleyv1.RedlineProposal{
			Negotiation: n.name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: other.points[0].GetName(), Text: "x"}}}, codes.InvalidArgument, "NAME_INVALID"},
		{"ErrPageTokenInvalid", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Document{Document: n.name}, PageToken: "nope"},
			codes.InvalidArgument, "PAGE_TOKEN_INVALID"},
		{"ErrNotAMember", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Document{Document: other.name}}, codes.PermissionDenied, "NOT_A_MEMBER"},
		{"ErrNotAMemberAmendment", "ukraine", &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Revisions{Revisions: &parleyv1.RedlineRevisions{
			Point: other.points[0].GetName()}}}, codes.PermissionDenied, "NOT_A_MEMBER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.GetRedline(e.as(n.tokens[tc.who]), tc.req)
			wantError(t, tc.name, err, tc.code, tc.reason)
		})
	}
	if after := e.lastSequence(n.name); after != before {
		t.Errorf("the log grew from %d to %d events", before, after)
	}

	t.Run("ErrDocumentChanged", func(t *testing.T) {
		r, err := e.svc.GetRedline(member, &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Document{Document: n.name}, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		e.adopt(n, parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, p[0], "First point, changed.")
		_, err = e.svc.GetRedline(member, &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Document{Document: n.name}, PageToken: r.GetNextPageToken()})
		wantError(t, "next page after a change", err, codes.Aborted, "DOCUMENT_CHANGED")
	})
}
