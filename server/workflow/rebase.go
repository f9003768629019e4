package workflow

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RebaseAmendment re-proposes a STALE amendment of the actor's participant on
// its point's current text: a new amendment, OPEN for voting, whose event
// names the stale one it comes from.
//
// The three-way merge of the stale amendment's change with the change(s)
// applied since runs before the command is built (package merge, in the
// server's transport layer, outside the commit): the command carries its
// outcome, the merged Text or the Conflicts, and the revision it merged
// against. The rules check that revision is still current, so a merge made
// against a text that changed again meanwhile is refused as STALE_REVISION,
// and the event carries the merged text, so that no one who folds the log
// merges again.
type RebaseAmendment struct {
	AmendmentID  string // the new amendment's id
	StaleID      string // the STALE amendment re-proposed
	BaseRevision int64  // the point's revision the merge was made against
	Text         string // the merged text; empty for a DELETE
	Conflicts    []TextConflict
	Rationale    string    // empty: the stale amendment's
	Deadline     time.Time // optional voting deadline, as for ProposeAmendment
}

func (RebaseAmendment) isCommand() {}

// TextConflict is a part of a point's text that a stale amendment and the
// change applied since both change, differently or side by side.
type TextConflict struct {
	FirstWord, LastWord int    // the words of the drafted-against text it covers, from 1; LastWord = FirstWord-1 between two words
	Base                string // what the text read when the amendment was drafted
	Yours               string // what the stale amendment makes of it
	Theirs              string // what the point reads now
}

// Limits on the conflicts a REBASE_CONFLICT error shows, so that the error
// stays small enough for any client's headers.
const (
	MaxConflictsShown     = 3
	MaxConflictExcerptLen = 200 // bytes of each text of a conflict
)

// RebaseSource returns the point texts a rebase of the amendment staleID
// merges: the text it was drafted against, the text it proposed (empty for
// a DELETE) and the point's current text at revision current. ok is false
// when there is nothing to merge (unknown amendment, not STALE, an INSERT,
// a point deleted since): Decide then says why.
func (n *Negotiation) RebaseSource(staleID string) (base, yours, theirs string, current int64, ok bool) {
	a, found := n.Amendments[staleID]
	if !found || a.State != AmendmentStateStale || a.Kind == KindInsert || a.IsPackage() {
		return "", "", "", 0, false
	}
	p, found := n.Points[a.PointID]
	if !found || p.Deleted || a.BaseRevision < 1 || a.BaseRevision > int64(len(p.Revisions)) {
		return "", "", "", 0, false
	}
	cur := p.Current()
	return p.Revisions[a.BaseRevision-1].Text, a.Text, cur.Text, cur.Revision, true
}

func (d *decider) rebase(c RebaseAmendment) error {
	if err := d.act("propose amendments", RoleDelegation, RoleMediator); err != nil {
		return err
	}
	if c.AmendmentID == "" {
		return Errorf(EINVALID, "AMENDMENT_ID_REQUIRED", "amendment id is required")
	}
	if _, exists := d.n.Amendments[c.AmendmentID]; exists {
		return Errorf(EALREADYEXISTS, "AMENDMENT_EXISTS", "amendment %s exists already", c.AmendmentID)
	}
	rationale := strings.TrimSpace(c.Rationale)
	if err := validateFreeText("rationale", "RATIONALE_TOO_LONG", rationale, MaxRationaleBytes); err != nil {
		return err
	}
	old, err := d.amendment(c.StaleID)
	if err != nil {
		return err
	}
	// An amendment is its participant's, whichever member drafted it: any of
	// the participant's members may carry it on, as any may withdraw it.
	if old.Proposer != d.m.Actor {
		return Errorf(EPERMISSION, "NOT_PROPOSER", "only its proposer %q can re-propose this amendment", old.Proposer)
	}
	if old.State != AmendmentStateStale {
		return Errorf(EFAILEDPRECONDITION, "AMENDMENT_NOT_STALE", "only a STALE amendment is re-proposed on the current text; this one is %s", old.State)
	}
	if old.IsPackage() {
		// A trade is renegotiated as a trade: merging some parts and not
		// others would offer the delegations a deal nobody proposed.
		return Errorf(EFAILEDPRECONDITION, "PACKAGE_NOT_REBASED", "a package deal is not re-proposed part by part: propose the whole package again on the current texts")
	}
	if old.Kind == KindInsert {
		// An INSERT goes stale only when the point it follows is deleted:
		// there is no text to merge, only a new place to choose.
		return Errorf(EFAILEDPRECONDITION, "POINT_DELETED", "the point this INSERT follows was deleted: propose it again after another point")
	}
	p, err := d.livePoint(old.PointID)
	if err != nil {
		return err
	}
	for _, id := range d.n.AmendmentsOfPoint(p.ID) {
		if a := d.n.Amendments[id]; a.RebasedFrom == old.ID && a.State.Pending() {
			return Errorf(EFAILEDPRECONDITION, "ALREADY_REBASED", "amendment %s, re-proposed from this one, is still %s", a.ID, a.State)
		}
	}
	current := p.Current()
	if c.BaseRevision != current.Revision {
		return Errorf(EABORTED, "STALE_REVISION", "point %d is at revision %d, not %d: merge again", d.n.PointNumber(p.ID), current.Revision, c.BaseRevision)
	}
	if len(c.Conflicts) > 0 {
		return conflictError(d.n.PointNumber(p.ID), old, current.Revision, c.Conflicts)
	}
	text := ""
	if old.Kind == KindReplace {
		text = NormalizeText(c.Text)
		if err := ValidatePointText("merged text", text); err != nil {
			return err
		}
		if text == current.Text {
			return Errorf(EFAILEDPRECONDITION, "REBASE_UNCHANGED", "point %d already reads as your amendment would make it: nothing is left to propose", d.n.PointNumber(p.ID))
		}
	} else if len(d.n.Order) == 1 {
		return Errorf(EFAILEDPRECONDITION, "LAST_POINT", "the last point of a document cannot be deleted")
	}
	if rationale == "" {
		rationale = old.Rationale
	}
	deadline, err := d.votingDeadline(c.Deadline)
	if err != nil {
		return err
	}
	d.emit(AmendmentProposed{AmendmentID: c.AmendmentID, Kind: old.Kind, PointID: p.ID, BaseRevision: current.Revision,
		Text: text, Rationale: rationale, Deadline: deadline, RebasedFrom: old.ID})
	return nil
}

// conflictError refuses a rebase with the conflicts shown: in the message
// for people, and in the error's metadata (conflicts, then conflictN...
// for the first MaxConflictsShown) for programs.
func conflictError(number int, old *Amendment, revision int64, conflicts []TextConflict) *Error {
	meta := map[string]string{"conflicts": strconv.Itoa(len(conflicts)), "currentRevision": strconv.FormatInt(revision, 10)}
	var b strings.Builder
	fmt.Fprintf(&b, "point %d changed since your amendment was drafted against revision %d, where your amendment changes it too:", number, old.BaseRevision)
	for i, c := range conflicts {
		if i == MaxConflictsShown {
			fmt.Fprintf(&b, " and %d more", len(conflicts)-i)
			break
		}
		key := "conflict" + strconv.Itoa(i+1)
		meta[key+"Words"] = WordRange(c.FirstWord, c.LastWord)
		meta[key+"Base"] = Excerpt(c.Base)
		meta[key+"Yours"] = Excerpt(c.Yours)
		meta[key+"Theirs"] = Excerpt(c.Theirs)
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " at %s yours reads %q, theirs %q (it read %q)", WordRange(c.FirstWord, c.LastWord), Excerpt(c.Yours), Excerpt(c.Theirs), Excerpt(c.Base))
	}
	fmt.Fprintf(&b, ". Redraft against revision %d.", revision)
	e := Errorf(EFAILEDPRECONDITION, "REBASE_CONFLICT", "%s", b.String())
	e.Metadata = meta
	return e
}

// WordRange names the words a conflict covers: "word 7", "words 7–9", or
// "before word 7" for a place between words.
func WordRange(first, last int) string {
	switch {
	case last < first:
		return "before word " + strconv.Itoa(first)
	case last == first:
		return "word " + strconv.Itoa(first)
	default:
		return "words " + strconv.Itoa(first) + "–" + strconv.Itoa(last)
	}
}

// Excerpt shortens s to at most MaxConflictExcerptLen bytes, at a rune
// boundary, marking a cut with an ellipsis.
func Excerpt(s string) string {
	if len(s) <= MaxConflictExcerptLen {
		return s
	}
	cut := MaxConflictExcerptLen - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
