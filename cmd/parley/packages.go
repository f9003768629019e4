package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// A package deal is one amendment of several parts ("we give on point 6 if
// you give on point 19"). The helpers here show one, and read its parts
// from the command line.

// partsOf returns an amendment's changes as parts: a package deal's parts,
// or the one part that a single change is.
func partsOf(am *parleyv1.Amendment) []*parleyv1.AmendmentPart {
	if len(am.GetParts()) > 0 {
		return am.GetParts()
	}
	return []*parleyv1.AmendmentPart{{Kind: am.GetKind(), Point: am.GetPoint(), BaseRevision: am.GetBaseRevision(),
		Text: am.GetText(), PointNumber: am.GetPointNumber(), ResultPoint: am.GetResultPoint()}}
}

// isPackage reports whether an amendment is a package deal.
func isPackage(am *parleyv1.Amendment) bool { return len(am.GetParts()) > 0 }

// kindText is an amendment's kind, or PACKAGE for a package deal.
func kindText(am *parleyv1.Amendment) string {
	if isPackage(am) {
		return "PACKAGE"
	}
	return kindName(am.GetKind())
}

// partPointText names the point a part is about: "6", "after 7", "at start".
func partPointText(p *parleyv1.AmendmentPart) string {
	num := p.GetPointNumber()
	switch {
	case p.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT && p.GetPoint() == "":
		return "at start"
	case p.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT && num == 0:
		return "after a deleted point"
	case p.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT:
		return fmt.Sprintf("after %d", num)
	case num == 0:
		return "deleted point"
	}
	return fmt.Sprintf("%d", num)
}

// describePart says what one part does: "REPLACE point 6", "INSERT after 7".
func describePart(p *parleyv1.AmendmentPart) string {
	where := partPointText(p)
	if p.GetKind() != parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT && p.GetPointNumber() != 0 {
		where = "point " + where
	}
	return kindName(p.GetKind()) + " " + where
}

// describeParts says what a package deal does: "PACKAGE of 2: REPLACE point
// 6 + DELETE point 19".
func describeParts(am *parleyv1.Amendment) string {
	var what []string
	for _, p := range am.GetParts() {
		what = append(what, describePart(p))
	}
	return fmt.Sprintf("PACKAGE of %d: %s", len(am.GetParts()), strings.Join(what, " + "))
}

// packagePointText names the points of a package deal: "6, 19, after 7".
func packagePointText(am *parleyv1.Amendment) string {
	var where []string
	for _, p := range am.GetParts() {
		where = append(where, partPointText(p))
	}
	return strings.Join(where, ", ")
}

// packageText is a short text of a package deal for a list: each part's
// text, or "(delete)", joined by " + ".
func packageText(am *parleyv1.Amendment) string {
	var texts []string
	for _, p := range am.GetParts() {
		if p.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE {
			texts = append(texts, "(delete)")
		} else {
			texts = append(texts, firstLine(p.GetText(), 30))
		}
	}
	return strings.Join(texts, " + ")
}

// partSpec is one part as the command line gives it, before its point is
// looked up.
type partSpec struct {
	Kind         string `json:"kind"`          // replace, insert, delete
	Point        string `json:"point"`         // the point number; for insert the point to insert after, empty or 0 for the start
	BaseRevision int64  `json:"base_revision"` // 0: the point's current revision
	Text         string `json:"text"`
}

// parsePartFlag reads one --part: "replace 6: TEXT", "delete 19",
// "insert after 7: TEXT", "insert at start: TEXT"; "replace 6@2: TEXT"
// drafts against revision 2.
func parsePartFlag(s string) (partSpec, error) {
	head, text, hasText := strings.Cut(s, ":")
	fields := strings.Fields(head)
	bad := func(why string) (partSpec, error) {
		return partSpec{}, usagef("--part %q: %s; write 'replace N: TEXT', 'delete N', 'insert after N: TEXT' or 'insert at start: TEXT'", firstLine(s, 40), why)
	}
	if len(fields) == 0 {
		return bad("it is empty")
	}
	spec := partSpec{Kind: strings.ToLower(fields[0]), Text: strings.TrimSpace(text)}
	switch spec.Kind {
	case "replace", "delete":
		if len(fields) != 2 {
			return bad("say which point")
		}
		num, rev, found := strings.Cut(fields[1], "@")
		spec.Point = num
		if found {
			r, err := strconv.ParseInt(rev, 10, 64)
			if err != nil || r < 1 {
				return bad("the revision after @ is a number, 1 or more")
			}
			spec.BaseRevision = r
		}
	case "insert":
		switch {
		case len(fields) == 3 && strings.EqualFold(fields[1], "after"):
			spec.Point = fields[2]
		case len(fields) == 3 && strings.EqualFold(fields[1], "at") && strings.EqualFold(fields[2], "start"):
		default:
			return bad("say where: 'insert after N' or 'insert at start'")
		}
	default:
		return bad("a part is replace, insert or delete")
	}
	if spec.Kind == "delete" && hasText {
		return bad("a delete carries no text")
	}
	if spec.Kind != "delete" && spec.Text == "" {
		return bad("give its text after a colon")
	}
	return spec, nil
}

// readPartsFile reads parts from a JSON file: a list of objects with kind,
// point, base_revision (optional) and text, for texts of several lines.
func (a *app) readPartsFile(path string) ([]partSpec, error) {
	data, err := a.readText(path)
	if err != nil {
		return nil, err
	}
	var specs []partSpec
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&specs); err != nil {
		return nil, usagef("--parts-file %s: %v; it holds a JSON list such as [{\"kind\": \"replace\", \"point\": \"6\", \"text\": \"…\"}, {\"kind\": \"delete\", \"point\": \"19\"}]", path, err)
	}
	for i := range specs {
		specs[i].Kind = strings.ToLower(specs[i].Kind)
	}
	return specs, nil
}

// UnmarshalJSON takes a point as a number or a string.
func (p *partSpec) UnmarshalJSON(b []byte) error {
	type plain partSpec
	var raw struct {
		plain
		Point json.RawMessage `json:"point"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = partSpec(raw.plain)
	p.Point = strings.Trim(string(raw.Point), `"`)
	if p.Point == "null" {
		p.Point = ""
	}
	return nil
}

// partsRequest turns parts as given into the request's, each drafted against
// its point's current revision unless it says which it read.
func partsRequest(doc *client.Document, specs []partSpec) ([]*parleyv1.AmendmentPart, error) {
	out := make([]*parleyv1.AmendmentPart, 0, len(specs))
	for i, s := range specs {
		part := &parleyv1.AmendmentPart{Text: s.Text}
		switch s.Kind {
		case "replace":
			part.Kind = parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE
		case "insert":
			part.Kind = parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT
		case "delete":
			part.Kind = parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE
		default:
			return nil, usagef("part %d: kind %q: use replace, insert or delete", i+1, s.Kind)
		}
		if s.Point != "" && !(part.Kind == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT && s.Point == "0") {
			p, err := pointArg(doc, s.Point)
			if err != nil {
				return nil, fmt.Errorf("part %d: %w", i+1, err)
			}
			part.Point = p.GetName()
			if part.Kind != parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT {
				part.BaseRevision = p.GetRevision()
			}
		}
		if s.BaseRevision != 0 {
			part.BaseRevision = s.BaseRevision
		}
		out = append(out, part)
	}
	return out, nil
}

// amendmentChanges is the redline of every part of an amendment.
func (a *app) amendmentChanges(ctx context.Context, amendment string) ([]*parleyv1.RedlineChange, error) {
	return a.cl.Redline(ctx, &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Amendment{Amendment: amendment}})
}

// printPackageRedlines writes each part of a package deal with its redline.
func (a *app) printPackageRedlines(ctx context.Context, w io.Writer, am *parleyv1.Amendment) error {
	changes, err := a.amendmentChanges(ctx, am.GetName())
	if err != nil {
		return err
	}
	for i, p := range am.GetParts() {
		fmt.Fprintf(w, "\nPart %d: %s", i+1, describePart(p))
		if p.GetBaseRevision() > 0 {
			fmt.Fprintf(w, " (against revision %d)", p.GetBaseRevision())
		}
		fmt.Fprintln(w, ":")
		if i < len(changes) {
			fmt.Fprintln(w, renderRedline(changes[i].GetSegments(), a.st.redlineFormat()))
		}
	}
	return nil
}

// hasKind reports whether an amendment, or one of a package deal's parts,
// is of a kind.
func hasKind(am *parleyv1.Amendment, kind parleyv1.AmendmentKind) bool {
	for _, p := range partsOf(am) {
		if p.GetKind() == kind {
			return true
		}
	}
	return false
}
