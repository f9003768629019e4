package main

import (
	"context"
	"fmt"
	"html"
	"strings"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// The redline itself comes from the server (GetRedline, one implementation
// for every client); this file only renders it.

// redline asks the server for the redline of one subject and returns its
// segments.
func (a *app) redline(ctx context.Context, req *parleyv1.GetRedlineRequest) ([]*parleyv1.RedlineSegment, error) {
	changes, err := a.cl.Redline(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(changes) != 1 {
		return nil, fmt.Errorf("the server sent %d redlines for one subject", len(changes))
	}
	return changes[0].GetSegments(), nil
}

// amendmentRedline is the redline of an amendment against the revision it
// was drafted on.
func (a *app) amendmentRedline(ctx context.Context, amendment string) ([]*parleyv1.RedlineSegment, error) {
	return a.redline(ctx, &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Amendment{Amendment: amendment}})
}

// revisionsRedline is the redline of a point between two revisions (0: the
// first, and the current one).
func (a *app) revisionsRedline(ctx context.Context, point string, from, to int64) ([]*parleyv1.RedlineSegment, error) {
	return a.redline(ctx, &parleyv1.GetRedlineRequest{Subject: &parleyv1.GetRedlineRequest_Revisions{
		Revisions: &parleyv1.RedlineRevisions{Point: point, FromRevision: from, ToRevision: to}}})
}

// redlineTexts returns the texts a redline compares.
func redlineTexts(segs []*parleyv1.RedlineSegment) (before, after string) {
	var b, a strings.Builder
	for _, s := range segs {
		if s.GetOperation() != parleyv1.RedlineOperation_REDLINE_OPERATION_INSERT {
			b.WriteString(s.GetText())
		}
		if s.GetOperation() != parleyv1.RedlineOperation_REDLINE_OPERATION_DELETE {
			a.WriteString(s.GetText())
		}
	}
	return b.String(), a.String()
}

// redlineFormat says how a redline marks removals and additions.
type redlineFormat int

const (
	redlinePlain    redlineFormat = iota // [-removed-]{+added+}, for pipes and files
	redlineTerminal                      // red struck-through and green underlined
	redlineMarkdown                      // ~~removed~~ and **added**
	redlineHTML                          // <del> and <ins>
)

// renderRedline writes a diff in a format. Markers never span a line break
// (Markdown and terminals would lose them), and white space at the edges of
// a change stays outside its markers.
func renderRedline(segs []*parleyv1.RedlineSegment, f redlineFormat) string {
	var b strings.Builder
	atLineStart := true
	write := func(text string) {
		switch f {
		case redlineMarkdown:
			text = markdownEscape(text, atLineStart)
		case redlineHTML:
			text = html.EscapeString(text)
		}
		b.WriteString(text)
		if strings.TrimSpace(text) != "" {
			atLineStart = false
		}
	}
	newline := func() {
		switch f {
		case redlineMarkdown:
			b.WriteString("\\\n")
		case redlineHTML:
			b.WriteString("<br>\n")
		default:
			b.WriteString("\n")
		}
		atLineStart = true
	}
	for _, s := range segs {
		open, closing := markers(s.GetOperation(), f)
		for i, line := range strings.Split(s.GetText(), "\n") {
			if i > 0 {
				newline()
			}
			if open == "" {
				write(line)
				continue
			}
			core := strings.TrimSpace(line)
			if core == "" {
				write(line)
				continue
			}
			lead := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
			trail := line[len(strings.TrimRight(line, " \t")):]
			write(lead)
			b.WriteString(open)
			write(core)
			b.WriteString(closing)
			write(trail)
		}
	}
	return b.String()
}

func markers(op parleyv1.RedlineOperation, f redlineFormat) (string, string) {
	if op != parleyv1.RedlineOperation_REDLINE_OPERATION_DELETE && op != parleyv1.RedlineOperation_REDLINE_OPERATION_INSERT {
		return "", ""
	}
	del := op == parleyv1.RedlineOperation_REDLINE_OPERATION_DELETE
	switch f {
	case redlineTerminal:
		if del {
			return "\x1b[31;9m", "\x1b[0m"
		}
		return "\x1b[32;4m", "\x1b[0m"
	case redlineMarkdown:
		if del {
			return "~~", "~~"
		}
		return "**", "**"
	case redlineHTML:
		if del {
			return "<del>", "</del>"
		}
		return "<ins>", "</ins>"
	}
	if del {
		return "[-", "-]"
	}
	return "{+", "+}"
}

// markdownEscape escapes what Markdown would read as markup: emphasis,
// links, HTML, tables, and at the start of a line, headings, quotes and
// list markers.
func markdownEscape(s string, atLineStart bool) string {
	var b strings.Builder
	for i, r := range s {
		if strings.ContainsRune("\\`*_~[]<>|", r) {
			b.WriteByte('\\')
		} else if atLineStart && strings.TrimSpace(s[:i]) == "" && strings.ContainsRune("#+-=", r) {
			b.WriteByte('\\')
		} else if atLineStart && (r == '.' || r == ')') && i > 0 && isDigits(strings.TrimSpace(s[:i])) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// redlineFor picks the redline format of terminal output.
func (s style) redlineFormat() redlineFormat {
	if s.color {
		return redlineTerminal
	}
	return redlinePlain
}
