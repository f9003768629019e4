package main

import (
	"fmt"
	"html"
	"io"
	"strings"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// The record a mediator circulates: after the text and its changes, an annex
// of every amendment (what it proposed, who, votes and their reasons, the
// outcome and its discussion), then the discussion of each point. Like the
// rest of the export it names events, not clock times, so that two exports
// of the same state are identical.

// recordEntry is one amendment of the annex, in words.
type recordEntry struct {
	title     string   // "A1 · REPLACE point 7 · APPLIED"
	facts     []string // proposer, counter, rationale, outcome…
	text      string   // the proposed text; empty for DELETE
	votes     []string // "ukraine: APPROVE — reason"
	amendment string   // resource name, for its discussion
}

func (e *exporter) record() []recordEntry {
	index := map[string]int{}
	for i, am := range e.amendments {
		index[am.GetName()] = i + 1
	}
	ref := func(name string) string {
		if i, ok := index[name]; ok {
			return fmt.Sprintf("A%d", i)
		}
		return shortID(name)
	}
	var out []recordEntry
	for i, am := range e.amendments {
		r := recordEntry{title: fmt.Sprintf("A%d · %s · %s", i+1, describeAmendment(am), stateName(am.GetState())),
			text: am.GetText(), amendment: am.GetName()}
		if isPackage(am) {
			// Every part with its text: the record shows the whole trade.
			var texts []string
			for j, p := range am.GetParts() {
				line := fmt.Sprintf("Part %d, %s", j+1, describePart(p))
				if p.GetBaseRevision() > 0 {
					line += fmt.Sprintf(" (against revision %d)", p.GetBaseRevision())
				}
				if p.GetKind() != parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE {
					line += ": " + p.GetText()
				}
				texts = append(texts, line)
			}
			r.text = strings.Join(texts, "\n")
		}
		by := "Proposed by " + am.GetProposer()
		if am.GetByMediator() {
			by += " (the mediator's proposal)"
		}
		if am.GetBaseRevision() > 0 {
			by += fmt.Sprintf(", against revision %d", am.GetBaseRevision())
		}
		r.facts = append(r.facts, by+fmt.Sprintf(", at event %d (amendment %s)", am.GetSequence(), shortID(am.GetName())))
		if c := am.GetCounterTo(); c != "" {
			r.facts = append(r.facts, "Counter-proposal to "+ref(c))
		}
		if am.GetRationale() != "" {
			r.facts = append(r.facts, "Rationale: "+am.GetRationale())
		}
		for _, v := range am.GetVotes() {
			line := v.GetParticipant() + ": " + choiceName(v.GetChoice())
			if v.GetReason() != "" {
				line += " — " + v.GetReason()
			}
			r.votes = append(r.votes, line)
		}
		if t := am.GetTally(); t != nil {
			how := "every delegation voted"
			if t.GetClosedByMediator() {
				how = "closed by a mediator"
			}
			r.facts = append(r.facts, fmt.Sprintf("Vote: %s (%s; %s)", passedText(t), tallyText(t), how))
		} else if am.GetState() == parleyv1.AmendmentState_AMENDMENT_STATE_OPEN {
			r.facts = append(r.facts, "Vote: still open")
		} else {
			r.facts = append(r.facts, "Vote: not closed")
		}
		switch am.GetState() {
		case parleyv1.AmendmentState_AMENDMENT_STATE_APPLIED:
			r.facts = append(r.facts, "Outcome: applied to the text")
		case parleyv1.AmendmentState_AMENDMENT_STATE_REJECTED:
			r.facts = append(r.facts, "Outcome: rejected by the mediator — "+am.GetRejectionReason())
		case parleyv1.AmendmentState_AMENDMENT_STATE_WITHDRAWN:
			r.facts = append(r.facts, "Outcome: withdrawn by its proposer")
		case parleyv1.AmendmentState_AMENDMENT_STATE_STALE:
			r.facts = append(r.facts, "Outcome: stale — "+ref(am.GetStaledBy())+" changed the point first")
		case parleyv1.AmendmentState_AMENDMENT_STATE_FAILED:
			r.facts = append(r.facts, "Outcome: failed the vote")
		case parleyv1.AmendmentState_AMENDMENT_STATE_PASSED:
			r.facts = append(r.facts, "Outcome: passed, awaiting the mediator")
		default:
			r.facts = append(r.facts, "Outcome: pending")
		}
		out = append(out, r)
	}
	return out
}

// commentLine is one comment of a thread, for the record.
func commentLine(tc threadedComment) string {
	c := tc.comment
	text := c.GetText()
	if c.GetRetracted() {
		text = "(retracted by its author)"
	}
	lead := ""
	if tc.depth > 0 {
		lead = strings.Repeat("↳ ", 1) + "reply: "
	}
	return fmt.Sprintf("%s%s (event %d): %s", lead, c.GetAuthor(), c.GetSequence(), text)
}

// pointDiscussions returns the points whose discussion the record holds,
// with their titles, in document order; deleted points last.
func (e *exporter) pointDiscussions() (titles, subjects []string) {
	seen := map[string]bool{}
	for _, p := range e.doc.Points {
		if len(e.threads[p.GetName()]) > 0 {
			titles = append(titles, fmt.Sprintf("Point %d", p.GetNumber()))
			subjects = append(subjects, p.GetName())
		}
		seen[p.GetName()] = true
	}
	for _, s := range e.subjects {
		if strings.Contains(s, "/points/") && !seen[s] {
			titles = append(titles, "A deleted point ("+shortID(s)+")")
			subjects = append(subjects, s)
		}
	}
	return titles, subjects
}

func (e *exporter) markdownAnnex(w io.Writer) {
	fmt.Fprintf(w, "\n## Annex: the record of amendments\n\n")
	entries := e.record()
	if len(entries) == 0 {
		fmt.Fprintf(w, "No amendment was proposed.\n")
	}
	for _, r := range entries {
		fmt.Fprintf(w, "### %s\n\n", r.title)
		for _, f := range r.facts {
			fmt.Fprintf(w, "- %s\n", markdownEscape(f, false))
		}
		if r.text != "" {
			fmt.Fprintf(w, "\nProposed text:\n\n> %s\n", strings.ReplaceAll(markdownEscape(r.text, true), "\n", "\\\n> "))
		}
		if len(r.votes) > 0 {
			fmt.Fprintf(w, "\nVotes:\n\n")
			for _, v := range r.votes {
				fmt.Fprintf(w, "- %s\n", markdownEscape(v, false))
			}
		}
		if thread := e.threads[r.amendment]; len(thread) > 0 {
			fmt.Fprintf(w, "\nDiscussion:\n\n")
			for _, tc := range thread {
				fmt.Fprintf(w, "%s- %s\n", strings.Repeat("  ", tc.depth), markdownEscape(commentLine(tc), false))
			}
		}
		fmt.Fprintln(w)
	}
	titles, subjects := e.pointDiscussions()
	if len(titles) == 0 {
		return
	}
	fmt.Fprintf(w, "## Annex: the discussion of points\n")
	for i, title := range titles {
		fmt.Fprintf(w, "\n### %s\n\n", title)
		for _, tc := range e.threads[subjects[i]] {
			fmt.Fprintf(w, "%s- %s\n", strings.Repeat("  ", tc.depth), markdownEscape(commentLine(tc), false))
		}
	}
}

func (e *exporter) htmlAnnex(w io.Writer) {
	esc := html.EscapeString
	fmt.Fprintf(w, "<h2>Annex: the record of amendments</h2>\n")
	entries := e.record()
	if len(entries) == 0 {
		fmt.Fprintf(w, "<p>No amendment was proposed.</p>\n")
	}
	thread := func(list []threadedComment) {
		for _, tc := range list {
			class := "thread"
			if tc.comment.GetRetracted() {
				class += " retracted"
			}
			fmt.Fprintf(w, "<p class=\"%s\" style=\"margin-left:%.1fem\">%s</p>\n", class, 1.5*float64(tc.depth+1), esc(commentLine(tc)))
		}
	}
	for _, r := range entries {
		fmt.Fprintf(w, "<div class=\"record\" id=\"%s\">\n<h3>%s</h3>\n<ul>\n", esc(lastPart(r.amendment)), esc(r.title))
		for _, f := range r.facts {
			fmt.Fprintf(w, "<li>%s</li>\n", esc(f))
		}
		fmt.Fprintf(w, "</ul>\n")
		if r.text != "" {
			fmt.Fprintf(w, "<p>Proposed text:</p>\n<blockquote>%s</blockquote>\n", strings.ReplaceAll(esc(r.text), "\n", "<br>\n"))
		}
		if len(r.votes) > 0 {
			fmt.Fprintf(w, "<p>Votes:</p>\n<ul>\n")
			for _, v := range r.votes {
				fmt.Fprintf(w, "<li>%s</li>\n", esc(v))
			}
			fmt.Fprintf(w, "</ul>\n")
		}
		if list := e.threads[r.amendment]; len(list) > 0 {
			fmt.Fprintf(w, "<p>Discussion:</p>\n")
			thread(list)
		}
		fmt.Fprintf(w, "</div>\n")
	}
	titles, subjects := e.pointDiscussions()
	if len(titles) == 0 {
		return
	}
	fmt.Fprintf(w, "<h2>Annex: the discussion of points</h2>\n")
	for i, title := range titles {
		fmt.Fprintf(w, "<h3>%s</h3>\n", esc(title))
		thread(e.threads[subjects[i]])
	}
}
