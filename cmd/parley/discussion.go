package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// bracketLabel names the i-th alternative of a point: A, B, …, Z, AA, AB, …
func bracketLabel(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return bracketLabel(i/26-1) + bracketLabel(i%26)
}

// alternativeNote says who proposed an alternative and what it answers:
// "ukraine, 1a2b3c4d" or "mediator's proposal, counter to A".
func alternativeNote(alt *parleyv1.PointAlternative, labels map[string]string) string {
	parts := []string{alt.GetProposer()}
	if alt.GetByMediator() {
		parts[0] = alt.GetProposer() + "'s proposal (mediator)"
	}
	parts = append(parts, shortID(alt.GetAmendment()))
	if n := alt.GetPackageParts(); n > 0 {
		parts = append(parts, fmt.Sprintf("part of a package of %d", n))
	}
	if c := alt.GetCounterTo(); c != "" {
		if l, ok := labels[c]; ok {
			parts = append(parts, "counter to "+l)
		} else {
			parts = append(parts, "counter to "+shortID(c))
		}
	}
	if alt.GetState() == parleyv1.AmendmentState_AMENDMENT_STATE_PASSED {
		parts = append(parts, "passed")
	}
	return strings.Join(parts, ", ")
}

// bracketLabels gives each alternative of a point its label.
func bracketLabels(p *parleyv1.Point) map[string]string {
	labels := map[string]string{}
	for i, alt := range p.GetAlternatives() {
		labels[alt.GetAmendment()] = bracketLabel(i)
	}
	return labels
}

// bracketChoice writes a point's competing pending alternatives as the
// bracketed choice negotiators know from treaty drafts:
// "[current | A: text (ukraine, 1a2b3c4d) | B: delete (…)]". Texts are cut to
// textMax characters, or given whole with textMax 0. It is empty for a point
// without alternatives.
func bracketChoice(p *parleyv1.Point, textMax int) string {
	alts := p.GetAlternatives()
	if len(alts) == 0 {
		return ""
	}
	labels := bracketLabels(p)
	cut := func(s string) string {
		if textMax == 0 {
			return s
		}
		return firstLine(s, textMax)
	}
	parts := []string{"current"}
	for i, alt := range alts {
		text := "delete the point"
		if alt.GetKind() != parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE {
			text = "“" + cut(alt.GetText()) + "”"
		}
		parts = append(parts, fmt.Sprintf("%s: %s (%s)", bracketLabel(i), text, alternativeNote(alt, labels)))
	}
	s := "[" + strings.Join(parts, " | ") + "]"
	if more := int(p.GetPendingAmendmentCount()) - len(alts); more > 0 && len(alts) >= 16 {
		s += fmt.Sprintf(" (and more: 'parley amendments --point %d')", p.GetNumber())
	}
	return s
}

// resolveComment finds a comment from its resource name, its id, or a unique
// prefix of its id.
func (a *app) resolveComment(ctx context.Context, arg string) (string, error) {
	n, err := a.negotiationName(ctx)
	if err != nil {
		return "", err
	}
	if strings.Contains(arg, "/comments/") {
		return arg, nil
	}
	id := strings.ToLower(arg)
	if len(id) == 36 {
		return n + "/comments/" + id, nil
	}
	if len(id) < minPrefix {
		return "", usagef("comment %q: give at least %d characters of its id", arg, minPrefix)
	}
	all, err := a.cl.Comments(ctx, &parleyv1.ListCommentsRequest{Negotiation: n})
	if err != nil {
		return "", err
	}
	var matches []string
	for _, c := range all {
		if strings.HasPrefix(lastPart(c.GetName()), id) {
			matches = append(matches, c.GetName())
		}
	}
	switch len(matches) {
	case 0:
		return "", &client.Error{Code: codes.NotFound, Reason: "COMMENT_NOT_FOUND",
			Message: fmt.Sprintf("no comment id starts with %q (list them with 'parley comments')", arg)}
	case 1:
		return matches[0], nil
	}
	return "", usagef("comment %q is ambiguous: give more characters", arg)
}

func (a *app) commentCommand() *cobra.Command {
	var point, amendment, reply, file string
	cmd := &cobra.Command{
		Use:   "comment (--point N | --amendment ID | --reply COMMENT) (TEXT | --file FILE)",
		Short: "Comment on a point or an amendment, or reply to a comment",
		Long: `comment posts a remark to the discussion of a point or an amendment, or a
reply to a comment (the reply joins its thread). Delegations and mediators
comment; observers only where the negotiation allows it. A comment stays in
the log: its author can retract it ('parley retract'), and listings then show
it retracted, without its text.`,
		Args: args(0, 1, "the text"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			req := &parleyv1.PostCommentRequest{}
			switch {
			case len(args) == 1 && file != "":
				return usagef("give the text as an argument or with --file, not both")
			case file != "":
				t, err := a.readText(file)
				if err != nil {
					return err
				}
				req.Text = t
			case len(args) == 1:
				req.Text = args[0]
			default:
				return usagef("give the text: parley comment --point N \"TEXT\"")
			}
			given := 0
			for _, f := range []string{point, amendment, reply} {
				if f != "" {
					given++
				}
			}
			if given != 1 {
				return usagef("say what the comment is about: --point N, --amendment ID or --reply COMMENT")
			}
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			req.Negotiation = doc.Negotiation.GetName()
			switch {
			case point != "":
				p, err := pointArg(doc, point)
				if err != nil {
					return err
				}
				req.Point = p.GetName()
			case amendment != "":
				if req.Amendment, err = a.resolveAmendment(ctx, amendment); err != nil {
					return err
				}
			default:
				if req.Parent, err = a.resolveComment(ctx, reply); err != nil {
					return err
				}
			}
			c, err := a.cl.PostComment(a.mutationContext(ctx, ""), req)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, c)
			}
			fmt.Fprintf(a.Stdout, "Commented %s on %s.\n", shortID(c.GetName()), a.subjectText(doc, c))
			return nil
		}),
	}
	cmd.Flags().StringVar(&point, "point", "", "comment on point N")
	cmd.Flags().StringVar(&amendment, "amendment", "", "comment on this amendment")
	cmd.Flags().StringVar(&reply, "reply", "", "reply to this comment")
	cmd.Flags().StringVar(&file, "file", "", "read the text from a file (- for standard input)")
	return cmd
}

// subjectText names what a comment discusses.
func (a *app) subjectText(doc *client.Document, c *parleyv1.Comment) string {
	s := ""
	switch {
	case c.GetAmendment() != "":
		s = "amendment " + shortID(c.GetAmendment())
	default:
		s = "a deleted point"
		for _, p := range doc.Points {
			if p.GetName() == c.GetPoint() {
				s = fmt.Sprintf("point %d", p.GetNumber())
			}
		}
	}
	if c.GetParent() != "" {
		s += ", replying to " + shortID(c.GetParent())
	}
	return s
}

func (a *app) retractCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "retract COMMENT",
		Short: "Retract one of your comments (the log keeps that it was said)",
		Args:  args(1, 1, "a comment id or a unique prefix"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			name, err := a.resolveComment(ctx, args[0])
			if err != nil {
				return err
			}
			c, err := a.cl.RetractComment(a.mutationContext(ctx, ""), name)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, c)
			}
			fmt.Fprintf(a.Stdout, "Retracted %s. Listings show it retracted; the audit log keeps what it said.\n", shortID(c.GetName()))
			return nil
		}),
	}
}

func (a *app) commentsCommand() *cobra.Command {
	var point, amendment string
	cmd := &cobra.Command{
		Use:   "comments [--point N | --amendment ID]",
		Short: "Show the discussion: every comment, or those of a point or an amendment, as threads",
		Args:  args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			req := &parleyv1.ListCommentsRequest{Negotiation: doc.Negotiation.GetName()}
			switch {
			case point != "" && amendment != "":
				return usagef("give --point or --amendment, not both")
			case point != "":
				p, err := pointArg(doc, point)
				if err != nil {
					return err
				}
				req.Point = p.GetName()
			case amendment != "":
				if req.Amendment, err = a.resolveAmendment(ctx, amendment); err != nil {
					return err
				}
			}
			list, err := a.cl.Comments(ctx, req)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, &parleyv1.ListCommentsResponse{Comments: list})
			}
			if len(list) == 0 {
				fmt.Fprintln(a.Stdout, "No comments.")
				return nil
			}
			subjects, threads := commentThreads(list)
			for _, subject := range subjects {
				first := threads[subject][0].comment
				fmt.Fprintf(a.Stdout, "%s\n", a.st.bold("On "+a.subjectText(doc, &parleyv1.Comment{Point: first.GetPoint(), Amendment: first.GetAmendment()})))
				for _, tc := range threads[subject] {
					writeComment(a.Stdout, tc, "  ")
				}
				fmt.Fprintln(a.Stdout)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&point, "point", "", "only the discussion of point N")
	cmd.Flags().StringVar(&amendment, "amendment", "", "only the discussion of this amendment")
	return cmd
}

// threadedComment is a comment at its depth in its thread.
type threadedComment struct {
	comment *parleyv1.Comment
	depth   int
}

// commentThreads groups comments by what they discuss, in the order each
// subject was first discussed, and orders each subject's comments as threads:
// each reply under its parent, replies in the order posted.
func commentThreads(list []*parleyv1.Comment) (subjects []string, threads map[string][]threadedComment) {
	children := map[string][]*parleyv1.Comment{}
	var roots []*parleyv1.Comment
	known := map[string]bool{}
	for _, c := range list {
		known[c.GetName()] = true
	}
	for _, c := range list {
		if c.GetParent() != "" && known[c.GetParent()] {
			children[c.GetParent()] = append(children[c.GetParent()], c)
		} else {
			roots = append(roots, c)
		}
	}
	threads = map[string][]threadedComment{}
	var walk func(subject string, c *parleyv1.Comment, depth int)
	walk = func(subject string, c *parleyv1.Comment, depth int) {
		threads[subject] = append(threads[subject], threadedComment{c, depth})
		for _, r := range children[c.GetName()] {
			walk(subject, r, depth+1)
		}
	}
	for _, c := range roots {
		subject := c.GetPoint() + c.GetAmendment()
		if _, ok := threads[subject]; !ok {
			subjects = append(subjects, subject)
		}
		walk(subject, c, 0)
	}
	return subjects, threads
}

// writeComment writes one comment of a thread, indented by its depth.
func writeComment(w io.Writer, tc threadedComment, prefix string) {
	c := tc.comment
	lead := prefix + strings.Repeat("  ", tc.depth)
	if tc.depth > 0 {
		lead += "↳ "
	}
	text := c.GetText()
	if c.GetRetracted() {
		text = "(retracted by its author)"
	}
	fmt.Fprintf(w, "%s%s %s (%s): %s\n", lead, shortID(c.GetName()), c.GetAuthor(), timeText(c.GetCreateTime()),
		indent(text, lead+"    "))
}
