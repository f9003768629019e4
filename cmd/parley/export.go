package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

func (a *app) exportCommand() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export --format markdown|html [--out FILE]",
		Short: "Export the consolidated text with its status, a redline of every change, and the record of every amendment",
		Long: `export writes the document as it stands, point by point with its status and
sign-offs and, where texts compete, the bracketed choice [current | A | B];
then a word-level redline of every change since the original text; then the
record a mediator circulates: an annex of every amendment with its votes,
reasons, discussion and outcome, and the discussion of each point. It names the document hash and the last event, so that an export says
exactly which state of the negotiation it shows; it holds no clock time, so
two exports of the same state are identical.`,
		Args:        args(0, 0, ""),
		Annotations: map[string]string{noJSON: "export writes markdown or html; 'parley doc -o json' and 'parley diff -o json' give the same content as JSON"},
		RunE: a.run(func(ctx context.Context, _ []string) error {
			if format != "markdown" && format != "html" {
				return usagef("--format %q: use markdown or html", format)
			}
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			changes, err := a.changes(ctx, doc)
			if err != nil {
				return err
			}
			amendments, err := a.cl.Amendments(ctx, &parleyv1.ListAmendmentsRequest{Negotiation: doc.Negotiation.GetName()})
			if err != nil {
				return err
			}
			comments, err := a.cl.Comments(ctx, &parleyv1.ListCommentsRequest{Negotiation: doc.Negotiation.GetName()})
			if err != nil {
				return err
			}
			w := a.Stdout
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			e := &exporter{doc: doc, changes: changes, amendments: amendments}
			e.subjects, e.threads = commentThreads(comments)
			if format == "html" {
				e.html(w)
			} else {
				e.markdown(w)
			}
			if f, ok := w.(*os.File); ok && out != "" {
				return f.Close()
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown or html")
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	return cmd
}

// exporter renders a document and its changes.
type exporter struct {
	doc        *client.Document
	changes    []change
	amendments []*parleyv1.Amendment
	subjects   []string                     // what the comments discuss, in order first discussed
	threads    map[string][]threadedComment // subject → its comments, as threads
}

// pointLine says where a point stands: "Agreed · revision 2 · signed off
// by all 4 delegations".
func (e *exporter) pointLine(p *parleyv1.Point) string {
	dels := delegations(e.doc.Negotiation)
	var signed, missing []string
	for _, d := range dels {
		if signedBy(p, d) {
			signed = append(signed, d)
		} else {
			missing = append(missing, d)
		}
	}
	parts := []string{capitalize(strings.ToLower(pointStatus(p.GetStatus()))), fmt.Sprintf("revision %d", p.GetRevision())}
	switch {
	case len(missing) == 0:
		parts = append(parts, fmt.Sprintf("signed off by all %s", plural(len(dels), "delegation", "delegations")))
	case len(signed) == 0:
		parts = append(parts, "not signed off yet")
	default:
		parts = append(parts, "signed off by "+strings.Join(signed, ", "), "not yet by "+strings.Join(missing, ", "))
	}
	if c := p.GetPendingAmendmentCount(); c > 0 {
		parts = append(parts, plural(int(c), "amendment", "amendments")+" pending")
	}
	return strings.Join(parts, " · ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// facts are the lines of the export's header table.
func (e *exporter) facts() [][2]string {
	n := e.doc.Negotiation
	accepted := "nobody yet"
	var names []string
	for _, acc := range n.GetAcceptances() {
		if acc.GetCurrent() {
			names = append(names, acc.GetParticipant())
		}
	}
	if len(names) > 0 {
		accepted = strings.Join(names, ", ")
	}
	var participants []string
	for _, p := range n.GetParticipants() {
		participants = append(participants, fmt.Sprintf("%s (%s)", p.GetDisplayName(), roleName(p.GetRole())))
	}
	out := [][2]string{
		{"Negotiation", n.GetName()},
		{"State", negotiationState(n.GetState())},
		{"Participants", strings.Join(participants, ", ")},
		{"Decision rule", ruleText(n.GetDecisionRule())},
		{"Points", fmt.Sprintf("%d, of which %d agreed", n.GetPointCount(), n.GetAgreedPointCount())},
		{"Amendments pending", fmt.Sprint(n.GetPendingAmendmentCount())},
		{"Accepted by", accepted},
		{"Document SHA-256", e.doc.SHA256},
		{"As of event", fmt.Sprint(n.GetLastSequence())},
	}
	if n.GetState() == parleyv1.NegotiationState_NEGOTIATION_STATE_CONCLUDED {
		out = append(out, [2]string{"Concluded", timeText(n.GetConcludeTime())})
	}
	return out
}

func (e *exporter) markdown(w io.Writer) {
	fmt.Fprintf(w, "# %s\n\n", markdownEscape(e.doc.Negotiation.GetTitle(), false))
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	for _, f := range e.facts() {
		value := markdownEscape(f[1], false)
		if f[0] == "Negotiation" || f[0] == "Document SHA-256" {
			value = "`" + f[1] + "`"
		}
		fmt.Fprintf(w, "| %s | %s |\n", f[0], value)
	}
	fmt.Fprintf(w, "\n## Consolidated text\n\n")
	for _, p := range e.doc.Points {
		text := markdownEscape(p.GetText(), true)
		fmt.Fprintf(w, "**%d.** %s\\\n_%s_\n\n", p.GetNumber(), strings.ReplaceAll(text, "\n", "\\\n"), e.pointLine(p))
		if b := bracketChoice(p, 0); b != "" {
			fmt.Fprintf(w, "> In brackets: %s\n\n", strings.ReplaceAll(markdownEscape(b, true), "\n", "\\\n> "))
		}
	}
	fmt.Fprintf(w, "## Changes since the original text\n\n")
	if len(e.changes) == 0 {
		fmt.Fprintf(w, "None: the text is the original.\n")
	} else {
		fmt.Fprintf(w, "%s. Removed words are ~~struck through~~, added words **in bold**.\n", capitalize(summary(e.changes)))
		for _, c := range e.changes {
			fmt.Fprintf(w, "\n### %s\n\n%s\n", c.title(), renderRedline(c.segments, redlineMarkdown))
		}
	}
	e.markdownAnnex(w)
}

const exportCSS = `body{font-family:Georgia,serif;max-width:48em;margin:2em auto;padding:0 1em;line-height:1.5;color:#222}
table.facts td{padding:.1em .8em .1em 0;vertical-align:top}table.facts td:first-child{color:#666}
.point{margin:1em 0}.number{font-weight:bold}.status{color:#666;font-size:.9em;font-style:italic}
.agreed .status{color:#2a7a2a}del{color:#b00;text-decoration:line-through}ins{color:#070;text-decoration:underline}
code{font-size:.85em;word-break:break-all}.brackets{background:#fff8e0;padding:.3em .6em}
.record{border-top:1px solid #ddd;margin-top:1.5em}.thread{margin:.2em 0 .2em 1.5em;color:#333}.retracted{color:#999}`

func (e *exporter) html(w io.Writer) {
	esc := html.EscapeString
	title := esc(e.doc.Negotiation.GetTitle())
	fmt.Fprintf(w, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n", title, exportCSS)
	fmt.Fprintf(w, "<h1>%s</h1>\n<table class=\"facts\">\n", title)
	for _, f := range e.facts() {
		value := esc(f[1])
		if f[0] == "Negotiation" || f[0] == "Document SHA-256" {
			value = "<code>" + value + "</code>"
		}
		fmt.Fprintf(w, "<tr><td>%s</td><td>%s</td></tr>\n", esc(f[0]), value)
	}
	fmt.Fprintf(w, "</table>\n<h2>Consolidated text</h2>\n")
	for _, p := range e.doc.Points {
		class := "point"
		if p.GetStatus() == parleyv1.PointStatus_POINT_STATUS_AGREED {
			class += " agreed"
		}
		text := strings.ReplaceAll(esc(p.GetText()), "\n", "<br>\n")
		brackets := ""
		if b := bracketChoice(p, 0); b != "" {
			brackets = "<p class=\"brackets\">In brackets: " + strings.ReplaceAll(esc(b), "\n", "<br>\n") + "</p>\n"
		}
		fmt.Fprintf(w, "<div class=\"%s\" id=\"point-%d\"><p><span class=\"number\">%d.</span> %s</p>\n<p class=\"status\">%s</p>\n%s</div>\n",
			class, p.GetNumber(), p.GetNumber(), text, esc(e.pointLine(p)), brackets)
	}
	fmt.Fprintf(w, "<h2>Changes since the original text</h2>\n")
	if len(e.changes) == 0 {
		fmt.Fprintf(w, "<p>None: the text is the original.</p>\n")
	} else {
		fmt.Fprintf(w, "<p>%s.</p>\n", esc(capitalize(summary(e.changes))))
		for _, c := range e.changes {
			fmt.Fprintf(w, "<h3>%s</h3>\n<p>%s</p>\n", esc(c.title()), renderRedline(c.segments, redlineHTML))
		}
	}
	e.htmlAnnex(w)
	fmt.Fprintf(w, "</body>\n</html>\n")
}
