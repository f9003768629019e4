package rpc

import (
	"context"
	"sort"
	"strconv"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/redline"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// maxRedlinePageBytes ends a page of the document's redline before its texts
// grow past it, so that a page stays under the clients' default receive limit
// whatever the page size, as every other page does.
const maxRedlinePageBytes = MaxPageBytes

// comparison is one change to redline: the texts are copied out of the
// state so that the diff runs without holding the negotiation's lock.
type comparison struct {
	change        *parleyv1.RedlineChange
	before, after string
}

// diff fills in the change's segments and kind.
func (c comparison) diff() *parleyv1.RedlineChange {
	out := c.change
	segs := redline.Words(c.before, c.after)
	out.Segments = make([]*parleyv1.RedlineSegment, len(segs))
	for i, s := range segs {
		out.Segments[i] = &parleyv1.RedlineSegment{Operation: redlineOps[s.Op], Text: s.Text}
	}
	if out.Kind == parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_UNSPECIFIED {
		out.Kind = kindOf(c.before, c.after)
	}
	return out
}

var redlineOps = map[redline.Op]parleyv1.RedlineOperation{
	redline.Equal:  parleyv1.RedlineOperation_REDLINE_OPERATION_EQUAL,
	redline.Delete: parleyv1.RedlineOperation_REDLINE_OPERATION_DELETE,
	redline.Insert: parleyv1.RedlineOperation_REDLINE_OPERATION_INSERT,
}

func kindOf(before, after string) parleyv1.RedlineChangeKind {
	if before == after {
		return parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_UNCHANGED
	}
	return parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_CHANGED
}

func (s *Server) GetRedline(ctx context.Context, req *parleyv1.GetRedlineRequest) (*parleyv1.GetRedlineResponse, error) {
	if doc, ok := req.GetSubject().(*parleyv1.GetRedlineRequest_Document); ok {
		return s.documentRedline(ctx, doc.Document, req)
	}
	if req.GetPageSize() != 0 || req.GetPageToken() != "" {
		return nil, workflow.Errorf(workflow.EINVALID, "PAGING_NOT_APPLICABLE", "page_size and page_token go with the document subject only")
	}
	var c comparison
	var err error
	switch sub := req.GetSubject().(type) {
	case *parleyv1.GetRedlineRequest_Revisions:
		c, err = s.revisionsRedline(ctx, sub.Revisions)
	case *parleyv1.GetRedlineRequest_Amendment:
		cs, err := s.amendmentRedline(ctx, sub.Amendment)
		if err != nil {
			return nil, err
		}
		out := &parleyv1.GetRedlineResponse{Changes: make([]*parleyv1.RedlineChange, len(cs))}
		for i, c := range cs {
			out.Changes[i] = c.diff()
		}
		return out, nil
	case *parleyv1.GetRedlineRequest_Proposal:
		c, err = s.proposalRedline(ctx, sub.Proposal)
	default:
		err = workflow.Errorf(workflow.EINVALID, "SUBJECT_REQUIRED", "say what to redline: revisions, amendment, proposal or document")
	}
	if err != nil {
		return nil, err
	}
	return &parleyv1.GetRedlineResponse{Changes: []*parleyv1.RedlineChange{c.diff()}}, nil
}

// revisionsRedline compares two revisions of a point.
func (s *Server) revisionsRedline(ctx context.Context, r *parleyv1.RedlineRevisions) (comparison, error) {
	nid, pid, err := wire.ParsePointName("revisions.point", r.GetPoint())
	if err != nil {
		return comparison{}, err
	}
	var c comparison
	return c, s.view(ctx, nid, func(n *workflow.Negotiation) error {
		p, ok := n.Points[pid]
		if !ok {
			return workflow.Errorf(workflow.ENOTFOUND, "POINT_NOT_FOUND", "point %s not found", pid)
		}
		last := p.Current().Revision
		from, to := r.GetFromRevision(), r.GetToRevision()
		if from == 0 {
			from = 1
		}
		if to == 0 {
			to = last
		}
		if from < 1 || to < 1 || from > last || to > last {
			return workflow.Errorf(workflow.EINVALID, "REVISION_INVALID", "%s has revisions 1 to %d", pointLabel(n, p), last)
		}
		c = comparison{
			change: &parleyv1.RedlineChange{Point: wire.PointName(nid, pid), Number: int32(n.PointNumber(pid)), FromRevision: from, ToRevision: to},
			before: p.Revisions[from-1].Text,
			after:  p.Revisions[to-1].Text,
		}
		return nil
	})
}

// amendmentRedline compares an amendment's text with the revision of its
// point it was drafted against: one comparison, or one per part of a package
// deal, in the order of its parts.
func (s *Server) amendmentRedline(ctx context.Context, name string) ([]comparison, error) {
	nid, aid, err := wire.ParseAmendmentName("amendment", name)
	if err != nil {
		return nil, err
	}
	var cs []comparison
	return cs, s.view(ctx, nid, func(n *workflow.Negotiation) error {
		a, ok := n.Amendments[aid]
		if !ok {
			return workflow.Errorf(workflow.ENOTFOUND, "AMENDMENT_NOT_FOUND", "amendment %s not found", aid)
		}
		for _, part := range a.Changes() {
			cs = append(cs, partComparison(n, part))
		}
		return nil
	})
}

// partComparison compares one change of an amendment with the revision of
// its point it was drafted against.
func partComparison(n *workflow.Negotiation, part workflow.Part) comparison {
	if part.Kind == workflow.KindInsert {
		// The point it added, once applied, is not the anchor it names.
		return comparison{change: &parleyv1.RedlineChange{Kind: parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_ADDED}, after: part.Text}
	}
	p := n.Points[part.PointID]
	c := comparison{
		change: &parleyv1.RedlineChange{Point: wire.PointName(n.ID, part.PointID), Number: int32(n.PointNumber(part.PointID)), FromRevision: part.BaseRevision},
		before: p.Revisions[part.BaseRevision-1].Text,
		after:  part.Text,
	}
	if part.Kind == workflow.KindDelete {
		c.change.Kind = parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_DELETED
	}
	return c
}

// proposalRedline compares a drafted text with the point it would change,
// checking the draft as ProposeAmendment would.
func (s *Server) proposalRedline(ctx context.Context, r *parleyv1.RedlineProposal) (comparison, error) {
	nid, err := wire.ParseNegotiationName("proposal.negotiation", r.GetNegotiation())
	if err != nil {
		return comparison{}, err
	}
	kind := wire.Kind(r.GetKind())
	text := workflow.NormalizeText(r.GetText())
	switch kind {
	case workflow.KindReplace, workflow.KindInsert:
		if err := workflow.ValidatePointText("proposal.text", text); err != nil {
			return comparison{}, err
		}
	case workflow.KindDelete:
		if text != "" {
			return comparison{}, workflow.Errorf(workflow.EINVALID, "TEXT_NOT_ALLOWED", "a DELETE amendment carries no text")
		}
	default:
		return comparison{}, workflow.Errorf(workflow.EINVALID, "KIND_INVALID", "amendment kind must be REPLACE, INSERT or DELETE")
	}
	var pid string
	if r.GetPoint() != "" || kind != workflow.KindInsert {
		if pid, err = pointIn(nid, "proposal.point", r.GetPoint()); err != nil {
			return comparison{}, err
		}
	}
	if kind == workflow.KindInsert && r.GetBaseRevision() != 0 {
		return comparison{}, workflow.Errorf(workflow.EINVALID, "BASE_REVISION_INVALID", "an INSERT has no base revision; send 0")
	}
	if r.GetBaseRevision() < 0 {
		return comparison{}, workflow.Errorf(workflow.EINVALID, "BASE_REVISION_INVALID", "base_revision must not be negative")
	}
	var c comparison
	return c, s.view(ctx, nid, func(n *workflow.Negotiation) error {
		var p *workflow.Point
		if pid != "" {
			var ok bool
			if p, ok = n.Points[pid]; !ok {
				return workflow.Errorf(workflow.ENOTFOUND, "POINT_NOT_FOUND", "point %s not found", pid)
			}
			if p.Deleted {
				return workflow.Errorf(workflow.EFAILEDPRECONDITION, "POINT_DELETED", "point %s was deleted from the document", pid)
			}
		}
		if kind == workflow.KindInsert {
			c = comparison{change: &parleyv1.RedlineChange{Kind: parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_ADDED}, after: text}
			return nil
		}
		base := r.GetBaseRevision()
		if base == 0 {
			base = p.Current().Revision
		}
		if base > p.Current().Revision {
			return workflow.Errorf(workflow.EINVALID, "BASE_REVISION_INVALID", "%s has revisions 1 to %d", pointLabel(n, p), p.Current().Revision)
		}
		c = comparison{
			change: &parleyv1.RedlineChange{Point: wire.PointName(nid, pid), Number: int32(n.PointNumber(pid)), FromRevision: base},
			before: p.Revisions[base-1].Text,
			after:  text,
		}
		if kind == workflow.KindDelete {
			c.change.Kind = parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_DELETED
		}
		return nil
	})
}

// documentRedline lists the changes since the original text, a page at a
// time. Which points changed is found by comparing texts under the lock;
// only the page's texts are diffed, after it.
func (s *Server) documentRedline(ctx context.Context, name string, req *parleyv1.GetRedlineRequest) (*parleyv1.GetRedlineResponse, error) {
	nid, err := wire.ParseNegotiationName("document", name)
	if err != nil {
		return nil, err
	}
	size, err := pageSize(req.GetPageSize(), 100, 1000)
	if err != nil {
		return nil, err
	}
	token, err := decodePageToken(req.GetPageToken(), "redline", scopeOf(nid))
	if err != nil {
		return nil, err
	}
	var page []comparison
	out := &parleyv1.GetRedlineResponse{}
	err = s.view(ctx, nid, func(n *workflow.Negotiation) error {
		hash := n.DocumentHash()
		if token.Version != "" && token.Version != hash {
			return workflow.Errorf(workflow.EABORTED, "DOCUMENT_CHANGED", "the document changed since the first page was read; read it again from the start")
		}
		changes := documentChanges(n)
		start := min(int(token.After), len(changes))
		bytes := 0
		end := start
		for end < len(changes) && end-start < size && (end == start || bytes+changes[end].size() <= maxRedlinePageBytes) {
			bytes += changes[end].size()
			end++
		}
		page = changes[start:end]
		if end < len(changes) {
			out.NextPageToken = encodePageToken(pageToken{Kind: "redline", Scope: scopeOf(nid), After: int64(end), Version: hash})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range page {
		out.Changes = append(out.Changes, c.diff())
	}
	return out, nil
}

func (c comparison) size() int { return len(c.before) + len(c.after) }

// documentChanges compares the original text with the current document.
// Changes are in document order; a deleted original point comes after the
// nearest earlier original point still in the document. Points inserted and
// deleted since are no change to the original and are left out.
func documentChanges(n *workflow.Negotiation) []comparison {
	nid := n.ID
	var original []*workflow.Point
	for _, p := range n.Points {
		if p.Revisions[0].AmendmentID == "" {
			original = append(original, p)
		}
	}
	// The original points were added, in order, when the negotiation was
	// created.
	sort.Slice(original, func(i, j int) bool { return original[i].Revisions[0].Sequence < original[j].Revisions[0].Sequence })
	originalNumber := make(map[string]int, len(original))
	deletedAfter := map[string][]comparison{}
	anchor := ""
	for i, p := range original {
		originalNumber[p.ID] = i + 1
		if !p.Deleted {
			anchor = p.ID
			continue
		}
		deletedAfter[anchor] = append(deletedAfter[anchor], comparison{
			change: &parleyv1.RedlineChange{Kind: parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_DELETED, Point: wire.PointName(nid, p.ID),
				OriginalNumber: int32(i + 1), FromRevision: 1},
			before: p.Revisions[0].Text,
		})
	}
	out := append([]comparison(nil), deletedAfter[""]...)
	for i, id := range n.Order {
		p := n.Points[id]
		cur := p.Current()
		switch was := originalNumber[id]; {
		case was == 0:
			out = append(out, comparison{
				change: &parleyv1.RedlineChange{Kind: parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_ADDED, Point: wire.PointName(nid, id),
					Number: int32(i + 1), ToRevision: cur.Revision},
				after: cur.Text,
			})
		case cur.Revision > 1 && cur.Text != p.Revisions[0].Text:
			out = append(out, comparison{
				change: &parleyv1.RedlineChange{Kind: parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_CHANGED, Point: wire.PointName(nid, id),
					Number: int32(i + 1), OriginalNumber: int32(was), FromRevision: 1, ToRevision: cur.Revision},
				before: p.Revisions[0].Text,
				after:  cur.Text,
			})
		}
		out = append(out, deletedAfter[id]...)
	}
	return out
}

// pointLabel names a point for people: its number, or its id once deleted.
func pointLabel(n *workflow.Negotiation, p *workflow.Point) string {
	if num := n.PointNumber(p.ID); num != 0 {
		return "point " + strconv.Itoa(num)
	}
	return "deleted point " + p.ID
}
