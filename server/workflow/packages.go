package workflow

import "slices"

// MaxPackageParts bounds the parts of one package deal: enough for a trade
// across a long text, small enough that one amendment stays a readable unit.
const MaxPackageParts = 32

// Changes returns the amendment's changes as parts: a package deal's parts,
// or the one part that a single change is. The slice of a package is shared:
// do not modify it.
func (a *Amendment) Changes() []Part {
	if a.Parts != nil {
		return a.Parts
	}
	return []Part{{Kind: a.Kind, PointID: a.PointID, BaseRevision: a.BaseRevision, Text: a.Text, ResultPointID: a.ResultPointID}}
}

// IsPackage reports whether the amendment is a package deal.
func (a *Amendment) IsPackage() bool { return a.Parts != nil }

// Points returns the ids of the points the amendment changes or inserts
// after, each once, in the order of its parts. An INSERT at the start of the
// document names none.
func (a *Amendment) Points() []string {
	if a.Parts == nil {
		if a.PointID == "" {
			return nil
		}
		return []string{a.PointID}
	}
	ids := make([]string, 0, len(a.Parts))
	for _, p := range a.Parts {
		if p.PointID != "" && !slices.Contains(ids, p.PointID) {
			ids = append(ids, p.PointID)
		}
	}
	return ids
}

// PartOn returns the amendment's part that replaces or deletes a point.
func (a *Amendment) PartOn(pointID string) (Part, bool) {
	for _, p := range a.Changes() {
		if p.Kind != KindInsert && p.PointID == pointID {
			return p, true
		}
	}
	return Part{}, false
}

// ChangesPoint reports whether one of the amendment's parts replaces or
// deletes a point: then it competes for the point's text.
func (a *Amendment) ChangesPoint(pointID string) bool {
	if a.Parts == nil {
		return a.Kind != KindInsert && a.PointID == pointID
	}
	_, ok := a.PartOn(pointID)
	return ok
}

// Reorders reports whether applying the amendment inserts or deletes a
// point, and so renumbers the document.
func (a *Amendment) Reorders() bool {
	for _, p := range a.Changes() {
		if p.Kind != KindReplace {
			return true
		}
	}
	return false
}

// outdatedBy reports whether a pending amendment o that names a point (in
// AmendmentsOfPoint) can no longer apply once a change of the given kind is
// applied to the point: a new text outdates the other drafts of the point; a
// deletion also leaves the inserts anchored on it nowhere to go.
func outdatedBy(o *Amendment, pointID string, kind AmendmentKind) bool {
	return kind == KindDelete || o.ChangesPoint(pointID)
}

// sharesPoint reports whether two amendments answer each other: a part of
// one replaces or deletes a point a part of the other replaces or deletes,
// or both insert after the same point.
func sharesPoint(a, b []Part) bool {
	for _, x := range a {
		for _, y := range b {
			if x.PointID == y.PointID && (x.Kind == KindInsert) == (y.Kind == KindInsert) {
				return true
			}
		}
	}
	return false
}

// partError names the part of a package deal that refused it, keeping the
// part's code and reason.
func partError(i int, err error) error {
	return Errorf(ErrorCode(err), ErrorReason(err), "part %d: %s", i+1, ErrorMessage(err))
}

// checkPackage checks the parts of a proposed package deal and returns them
// as recorded (texts normalized). Each part is checked as a single change
// is; then the parts together: each point changed by one part at most, each
// anchor taken by one INSERT at most and not deleted by another part, and
// the document left with 1 to MaxPoints points.
func (d *decider) checkPackage(c ProposeAmendment) ([]Part, error) {
	if c.Kind != 0 || c.PointID != "" || c.BaseRevision != 0 || c.Text != "" {
		return nil, Errorf(EINVALID, "PACKAGE_CONFLICT", "a package deal gives its changes as parts only: leave the amendment's own kind, point, base revision and text unset")
	}
	switch {
	case len(c.Parts) < 2:
		return nil, Errorf(EINVALID, "PACKAGE_TOO_SMALL", "a package deal has 2 to %d parts, not %d: propose a single change as an amendment of its own", MaxPackageParts, len(c.Parts))
	case len(c.Parts) > MaxPackageParts:
		return nil, Errorf(EINVALID, "PACKAGE_TOO_LARGE", "a package deal has 2 to %d parts, not %d", MaxPackageParts, len(c.Parts))
	}
	parts := make([]Part, len(c.Parts))
	changed := make(map[string]int, len(c.Parts)) // point → 1 + index of the part that replaces or deletes it
	anchored := make(map[string]int, len(c.Parts))
	deletes, inserts := 0, 0
	for i, in := range c.Parts {
		if in.ResultPointID != "" {
			return nil, partError(i, Errorf(EINVALID, "PACKAGE_CONFLICT", "a proposed part has no result yet"))
		}
		text, err := checkChangeText(in.Kind, in.Text)
		if err != nil {
			return nil, partError(i, err)
		}
		part := Part{Kind: in.Kind, PointID: in.PointID, BaseRevision: in.BaseRevision, Text: text}
		if err := d.checkChangeTarget(part); err != nil {
			return nil, partError(i, err)
		}
		if part.Kind == KindInsert {
			if j, ok := anchored[part.PointID]; ok {
				return nil, partError(i, Errorf(EINVALID, "PACKAGE_DUPLICATE_POINT", "part %d inserts at the same place already: give both texts in one INSERT", j))
			}
			anchored[part.PointID] = i + 1
			inserts++
		} else {
			if j, ok := changed[part.PointID]; ok {
				return nil, partError(i, Errorf(EINVALID, "PACKAGE_DUPLICATE_POINT", "part %d changes point %d already: a package changes each point once", j, d.n.PointNumber(part.PointID)))
			}
			changed[part.PointID] = i + 1
			if part.Kind == KindDelete {
				deletes++
			}
		}
		parts[i] = part
	}
	for i, part := range parts {
		if j := changed[part.PointID]; part.Kind == KindInsert && part.PointID != "" && j > 0 && parts[j-1].Kind == KindDelete {
			return nil, partError(i, Errorf(EINVALID, "PACKAGE_DUPLICATE_POINT", "it inserts after point %d, which part %d deletes", d.n.PointNumber(part.PointID), j))
		}
	}
	if err := d.checkResultSize(deletes, inserts); err != nil {
		return nil, err
	}
	return parts, nil
}

// checkResultSize checks that a document that loses deletes points and gains
// inserts keeps 1 to MaxPoints points.
func (d *decider) checkResultSize(deletes, inserts int) error {
	size := len(d.n.Order) - deletes + inserts
	if size < 1 {
		return Errorf(EFAILEDPRECONDITION, "LAST_POINT", "the package would delete every point of the document; the last point cannot be deleted")
	}
	if inserts > 0 && size > MaxPoints {
		return Errorf(ERESOURCEEXHAUSTED, "TOO_MANY_POINTS", "the package would make the document %d points long; the limit is %d", size, MaxPoints)
	}
	return nil
}

// applyPackage decides the application of a PASSED package deal: every part
// still applies (its point unchanged since the proposal), or none is
// applied. One event records every part's result; the pending amendments
// that any part outdates go STALE.
func (d *decider) applyPackage(a *Amendment, c ApplyAmendment) error {
	applied := make([]AppliedPart, len(a.Parts))
	created := make(map[string]bool)
	var staled []string
	staledSet := map[string]bool{a.ID: true}
	deletes, inserts := 0, 0
	for i, part := range a.Parts {
		switch part.Kind {
		case KindReplace, KindDelete:
			p, err := d.livePoint(part.PointID)
			if err != nil {
				return partError(i, err)
			}
			if p.Current().Revision != part.BaseRevision {
				return partError(i, Errorf(EABORTED, "STALE_REVISION", "point %d changed since the package was drafted", d.n.PointNumber(p.ID)))
			}
			if part.Kind == KindReplace {
				applied[i] = AppliedPart{PointID: p.ID, Revision: p.Current().Revision + 1, TextHash: HashText(part.Text)}
			} else {
				applied[i] = AppliedPart{PointID: p.ID}
				deletes++
			}
			for _, other := range d.n.AmendmentsOfPoint(p.ID) {
				if o := d.n.Amendments[other]; !staledSet[other] && o.State.Pending() && outdatedBy(o, p.ID, part.Kind) {
					staledSet[other] = true
					staled = append(staled, other)
				}
			}
		case KindInsert:
			if part.PointID != "" {
				if _, err := d.livePoint(part.PointID); err != nil {
					return partError(i, err)
				}
			}
			if inserts >= len(c.NewPointIDs) || c.NewPointIDs[inserts] == "" || created[c.NewPointIDs[inserts]] {
				return Errorf(EINVALID, "POINT_ID_INVALID", "part %d, an INSERT, needs an id of its own for its new point", i+1)
			}
			id := c.NewPointIDs[inserts]
			if _, exists := d.n.Points[id]; exists {
				return partError(i, Errorf(EALREADYEXISTS, "POINT_EXISTS", "point %s exists already", id))
			}
			created[id] = true
			applied[i] = AppliedPart{PointID: id, Revision: 1, TextHash: HashText(part.Text)}
			inserts++
		}
	}
	if err := d.checkResultSize(deletes, inserts); err != nil {
		return err
	}
	d.emit(AmendmentApplied{AmendmentID: a.ID, Parts: applied})
	for _, id := range staled {
		d.emit(AmendmentStaled{AmendmentID: id, CauseAmendmentID: a.ID})
	}
	return nil
}

// applyPackage changes the document as an applied package deal says, part
// by part in order, and renumbers it once.
func (n *Negotiation) applyPackage(e Event, a *Amendment, p AmendmentApplied) error {
	if len(p.Parts) != len(a.Parts) {
		return corrupt("event %d applies %d parts of a package of %d", e.Sequence, len(p.Parts), len(a.Parts))
	}
	// A new slice: the amendment's parts may be shared with a copy of the
	// state that readers still hold.
	parts := slices.Clone(a.Parts)
	for i, part := range parts {
		res := p.Parts[i]
		switch part.Kind {
		case KindReplace:
			pt, ok := n.Points[res.PointID]
			if !ok || pt.Deleted || res.PointID != part.PointID || res.Revision != pt.Current().Revision+1 {
				return corrupt("event %d replaces point %s at an impossible revision", e.Sequence, res.PointID)
			}
			pt.Revisions = append(pt.Revisions, Revision{Revision: res.Revision, Text: part.Text, TextHash: res.TextHash,
				AmendmentID: a.ID, Sequence: e.Sequence, At: e.At})
		case KindInsert:
			if _, exists := n.Points[res.PointID]; exists || res.PointID == "" {
				return corrupt("event %d inserts existing point %s", e.Sequence, res.PointID)
			}
			at := 0
			if part.PointID != "" {
				if at = slices.Index(n.Order, part.PointID) + 1; at == 0 {
					return corrupt("event %d inserts after point %s, which is not in the document", e.Sequence, part.PointID)
				}
			}
			n.Points[res.PointID] = &Point{
				ID:        res.PointID,
				Revisions: []Revision{{Revision: 1, Text: part.Text, TextHash: res.TextHash, AmendmentID: a.ID, Sequence: e.Sequence, At: e.At}},
				SignOffs:  map[string]SignOff{},
			}
			n.Order = slices.Insert(n.Order, at, res.PointID)
		case KindDelete:
			at := slices.Index(n.Order, res.PointID)
			if at < 0 || res.PointID != part.PointID {
				return corrupt("event %d deletes point %s, which is not in the document", e.Sequence, res.PointID)
			}
			pt := n.Points[res.PointID]
			pt.Deleted = true
			pt.DeletedAt = e.At
			n.Order = slices.Delete(n.Order, at, at+1)
		default:
			return corrupt("event %d applies a part of unknown kind", e.Sequence)
		}
		parts[i].ResultPointID = res.PointID
	}
	a.Parts = parts
	n.renumber()
	return nil
}
