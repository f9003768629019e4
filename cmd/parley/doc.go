package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// document reads the negotiation's document.
func (a *app) document(ctx context.Context) (*client.Document, error) {
	n, err := a.negotiationName(ctx)
	if err != nil {
		return nil, err
	}
	return a.cl.Document(ctx, n)
}

// pointArg resolves a point number from the command line.
func pointArg(doc *client.Document, arg string) (*parleyv1.Point, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(arg, "."))
	if err != nil {
		return nil, usagef("point %q: give its number, e.g. 21", arg)
	}
	p, ok := doc.PointByNumber(n)
	if !ok {
		return nil, usagef("there is no point %d: the document has points 1 to %d", n, len(doc.Points))
	}
	return p, nil
}

func (a *app) docCommand() *cobra.Command {
	var text bool
	cmd := &cobra.Command{
		Use:   "doc",
		Short: "Show the consolidated text, numbered, with each point's status",
		Long: `doc shows the document as it stands: every point with its number, status
(agreed when every delegation signed off its current revision), revision, the
sign-offs it has, and the amendments pending on it.

--text prints the consolidated text alone, exactly as it is hashed: its
SHA-256 is the document hash that 'parley accept' accepts.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			if text && a.json() {
				return usagef("-o json: --text prints the text exactly as hashed; the JSON of 'parley doc -o json' has each point's text")
			}
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			switch {
			case a.json():
				return printJSON(a.Stdout, &parleyv1.GetDocumentResponse{Negotiation: doc.Negotiation, Points: doc.Points, DocumentSha256: doc.SHA256})
			case text:
				_, err := io.WriteString(a.Stdout, doc.Text())
				return err
			}
			return a.printDocument(a.Stdout, doc)
		}),
	}
	cmd.Flags().BoolVar(&text, "text", false, "print only the consolidated text, as hashed")
	return cmd
}

func (a *app) printDocument(w io.Writer, doc *client.Document) error {
	n := doc.Negotiation
	dels := len(delegations(n))
	fmt.Fprintf(w, "%s\n", a.st.bold(n.GetTitle()))
	fmt.Fprintf(w, "%s · %d points, %d agreed · %s pending · sha256 %s\n\n", negotiationState(n.GetState()), n.GetPointCount(),
		n.GetAgreedPointCount(), plural(int(n.GetPendingAmendmentCount()), "amendment", "amendments"), doc.SHA256)
	numWidth := max(len(strconv.Itoa(len(doc.Points))), 1)
	head := fmt.Sprintf("%s  %-7s  %-3s  %-6s  %-5s  ", padLeft("#", numWidth), "STATUS", "REV", "SIGNED", "AMEND")
	fmt.Fprintf(w, "%sTEXT\n", head)
	cont := strings.Repeat(" ", len(head))
	for _, p := range doc.Points {
		status := strings.ToLower(pointStatus(p.GetStatus()))
		colored := a.st.yellow(pad(status, 7))
		if p.GetStatus() == parleyv1.PointStatus_POINT_STATUS_AGREED {
			colored = a.st.green(pad(status, 7))
		}
		pending := ""
		if c := p.GetPendingAmendmentCount(); c > 0 {
			pending = strconv.Itoa(int(c))
		}
		fmt.Fprintf(w, "%s  %s  %-3d  %-6s  %-5s  %s\n", padLeft(strconv.Itoa(int(p.GetNumber())), numWidth), colored, p.GetRevision(),
			fmt.Sprintf("%d/%d", len(p.GetSignOffs()), dels), pending, indent(p.GetText(), cont))
		if b := bracketChoice(p, bracketTextWidth); b != "" {
			fmt.Fprintf(w, "%s%s\n", cont, a.st.yellow(b))
		}
	}
	return nil
}

// bracketTextWidth is how much of each alternative's text 'doc' and
// 'status' show in a point's brackets.
const bracketTextWidth = 40

func (a *app) pointCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "point N",
		Short: "Show a point: its text, sign-offs, revisions and amendments",
		Args:  args(1, 1, "a point number"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			p, err := pointArg(doc, args[0])
			if err != nil {
				return err
			}
			if p, err = a.cl.Point(ctx, p.GetName()); err != nil {
				return err
			}
			amendments, err := a.cl.Amendments(ctx, &parleyv1.ListAmendmentsRequest{Negotiation: doc.Negotiation.GetName(), Point: p.GetName()})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, &parleyv1.GetPointResponse{Point: p})
			}
			var comments []*parleyv1.Comment
			if p.GetCommentCount() > 0 {
				if comments, err = a.cl.Comments(ctx, &parleyv1.ListCommentsRequest{Negotiation: doc.Negotiation.GetName(), Point: p.GetName()}); err != nil {
					return err
				}
			}
			return a.printPoint(ctx, a.Stdout, doc, p, amendments, comments)
		}),
	}
}

func (a *app) printPoint(ctx context.Context, w io.Writer, doc *client.Document, p *parleyv1.Point, amendments []*parleyv1.Amendment, comments []*parleyv1.Comment) error {
	dels := delegations(doc.Negotiation)
	fmt.Fprintf(w, "%s · revision %d · %s · signed %d of %d\n", a.st.bold("Point "+strconv.Itoa(int(p.GetNumber()))), p.GetRevision(),
		pointStatus(p.GetStatus()), len(p.GetSignOffs()), len(dels))
	fmt.Fprintf(w, "text sha256 %s\n\n%s\n\n", p.GetTextSha256(), p.GetText())
	signed := map[string]bool{}
	var signedList []string
	for _, s := range p.GetSignOffs() {
		signed[s.GetParticipant()] = true
		signedList = append(signedList, s.GetParticipant())
	}
	var missing []string
	for _, d := range dels {
		if !signed[d] {
			missing = append(missing, d)
		}
	}
	t := table(w)
	fmt.Fprintf(t, "Signed off at revision %d:\t%s\n", p.GetRevision(), listOrNone(signedList))
	fmt.Fprintf(t, "Not signed:\t%s\n", listOrNone(missing))
	if len(p.GetStaleSignOffs()) > 0 {
		var stale []string
		for _, s := range p.GetStaleSignOffs() {
			stale = append(stale, fmt.Sprintf("%s (r%d)", s.GetParticipant(), s.GetRevision()))
		}
		fmt.Fprintf(t, "Stale, at earlier revisions:\t%s\n", strings.Join(stale, ", "))
	}
	t.Flush()
	fmt.Fprintln(w, "\nRevisions:")
	t = table(w)
	for _, r := range p.GetRevisions() {
		origin := "original text"
		if r.GetAmendment() != "" {
			origin = "amendment " + shortID(r.GetAmendment())
		}
		fmt.Fprintf(t, "  r%d\t%s\tevent %d\t%s\n", r.GetRevision(), origin, r.GetSequence(), timeText(r.GetCreateTime()))
	}
	t.Flush()
	if len(amendments) > 0 {
		fmt.Fprintln(w, "\nAmendments:")
		a.printAmendments(w, doc, amendments)
	}
	if b := bracketChoice(p, 0); b != "" {
		fmt.Fprintf(w, "\nBrackets (competing texts, one to choose):\n  %s\n", indent(b, "  "))
	}
	if len(comments) > 0 {
		fmt.Fprintln(w, "\nDiscussion:")
		_, threads := commentThreads(comments)
		for _, tc := range threads[p.GetName()] {
			writeComment(w, tc, "  ")
		}
	}
	if revs := p.GetRevisions(); len(revs) > 1 {
		segs, err := a.revisionsRedline(ctx, p.GetName(), 1, p.GetRevision())
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nChanges since the original (r1 → r%d):\n%s\n", p.GetRevision(), renderRedline(segs, a.st.redlineFormat()))
	}
	return nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func (a *app) diffCommand() *cobra.Command {
	var from, to int64
	cmd := &cobra.Command{
		Use:   "diff [N]",
		Short: "Redline a point between two revisions, or the document since the original",
		Long: `diff N shows a word-level redline of point N between two of its revisions
(by default from the first to the current one). diff alone shows every change
to the document since the original text: changed, new and deleted points.

Removed words are marked [-like this-] and added ones {+like this+} when the
output is piped, and in red and green on a terminal.`,
		Args: args(0, 1, "at most one point number"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				if from != 0 || to != 0 {
					return usagef("--from and --to go with a point number")
				}
				changes, err := a.changes(ctx, doc)
				if err != nil {
					return err
				}
				if a.json() {
					return writeChangesJSON(a.Stdout, changes)
				}
				a.printChanges(a.Stdout, changes, len(doc.Points))
				return nil
			}
			p, err := pointArg(doc, args[0])
			if err != nil {
				return err
			}
			if p, err = a.cl.Point(ctx, p.GetName()); err != nil {
				return err
			}
			revs := p.GetRevisions()
			if from == 0 {
				from = 1
			}
			if to == 0 {
				to = p.GetRevision()
			}
			if from < 1 || to < 1 || from > int64(len(revs)) || to > int64(len(revs)) {
				return usagef("point %d has revisions 1 to %d", p.GetNumber(), len(revs))
			}
			segs, err := a.revisionsRedline(ctx, p.GetName(), from, to)
			if err != nil {
				return err
			}
			c := newChange(changeChanged, int(p.GetNumber()), 0, to, segs)
			if a.json() {
				return writeChangesJSON(a.Stdout, []change{c})
			}
			fmt.Fprintf(a.Stdout, "%s\n", a.st.bold(fmt.Sprintf("Point %d, revision %d → %d:", p.GetNumber(), from, to)))
			if from == to {
				fmt.Fprintf(a.Stdout, "%s\n(no change)\n", c.After)
				return nil
			}
			fmt.Fprintf(a.Stdout, "%s\n", renderRedline(c.segments, a.st.redlineFormat()))
			return nil
		}),
	}
	cmd.Flags().Int64Var(&from, "from", 0, "revision to compare from (default 1)")
	cmd.Flags().Int64Var(&to, "to", 0, "revision to compare to (default: the current one)")
	return cmd
}

// change is one point that differs between the original text and the
// current one.
type change struct {
	Kind     string `json:"kind"`            // CHANGED, NEW or DELETED
	Number   int    `json:"number"`          // current number; 0 if deleted
	Original int    `json:"originalNumber"`  // number in the original; 0 if new
	Revision int64  `json:"revision,string"` // current revision (or the one compared to); 0 if deleted
	Before   string `json:"before"`
	After    string `json:"after"`

	segments []*parleyv1.RedlineSegment // the redline from Before to After
}

// newChange makes a change from the server's redline.
func newChange(kind string, number, original int, revision int64, segs []*parleyv1.RedlineSegment) change {
	before, after := redlineTexts(segs)
	return change{Kind: kind, Number: number, Original: original, Revision: revision, Before: before, After: after, segments: segs}
}

// Kinds of change.
const (
	changeChanged = "CHANGED"
	changeNew     = "NEW"
	changeDeleted = "DELETED"
)

// title names a change for people.
func (c change) title() string {
	switch c.Kind {
	case changeNew:
		return fmt.Sprintf("Point %d — new", c.Number)
	case changeDeleted:
		return fmt.Sprintf("Original point %d — deleted", c.Original)
	}
	if c.Number == c.Original {
		return fmt.Sprintf("Point %d — changed (revision %d)", c.Number, c.Revision)
	}
	return fmt.Sprintf("Point %d — changed (original point %d, revision %d)", c.Number, c.Original, c.Revision)
}

// changes lists, from the server's redline of the document, every point
// changed, added or deleted since the original text, in document order; a
// deleted point comes where it stood.
func (a *app) changes(ctx context.Context, doc *client.Document) ([]change, error) {
	redlines, err := a.cl.Redline(ctx, &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Document{Document: doc.Negotiation.GetName()}})
	if err != nil {
		return nil, err
	}
	kinds := map[parleyv1.RedlineChangeKind]string{
		parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_CHANGED: changeChanged,
		parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_ADDED:   changeNew,
		parleyv1.RedlineChangeKind_REDLINE_CHANGE_KIND_DELETED: changeDeleted,
	}
	out := make([]change, 0, len(redlines))
	for _, r := range redlines {
		out = append(out, newChange(kinds[r.GetKind()], int(r.GetNumber()), int(r.GetOriginalNumber()), r.GetToRevision(), r.GetSegments()))
	}
	return out, nil
}

// summary counts changes by kind: "1 changed, 1 new, 1 deleted".
func summary(changes []change) string {
	counts := map[string]int{}
	for _, c := range changes {
		counts[c.Kind]++
	}
	var parts []string
	for _, k := range []string{changeChanged, changeNew, changeDeleted} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], strings.ToLower(k)))
		}
	}
	return strings.Join(parts, ", ")
}

func (a *app) printChanges(w io.Writer, changes []change, points int) {
	if len(changes) == 0 {
		fmt.Fprintln(w, "No change since the original text.")
		return
	}
	fmt.Fprintf(w, "Changes since the original text: %s (%d points now).\n", summary(changes), points)
	for _, c := range changes {
		fmt.Fprintf(w, "\n%s\n%s\n", a.st.bold(c.title()+":"), renderRedline(c.segments, a.st.redlineFormat()))
	}
}

func writeChangesJSON(w io.Writer, changes []change) error {
	type seg struct {
		Op   string `json:"op"`
		Text string `json:"text"`
	}
	type out struct {
		change
		Redline []seg `json:"redline"`
	}
	list := []out{}
	for _, c := range changes {
		o := out{change: c, Redline: []seg{}}
		for _, s := range c.segments {
			op := map[parleyv1.RedlineOperation]string{parleyv1.RedlineOperation_REDLINE_OPERATION_EQUAL: "EQUAL",
				parleyv1.RedlineOperation_REDLINE_OPERATION_DELETE: "DELETE", parleyv1.RedlineOperation_REDLINE_OPERATION_INSERT: "INSERT"}[s.GetOperation()]
			o.Redline = append(o.Redline, seg{op, s.GetText()})
		}
		list = append(list, o)
	}
	return printJSON(w, map[string]any{"changes": list})
}
