package main

import (
	"html"
	"strings"
	"unicode"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// segment is a run of text that a change keeps, removes or adds.
type segment struct {
	op   diffmatchpatch.Operation
	text string
}

// wordDiff compares two texts word by word. Each word, run of white space
// and punctuation mark becomes one symbol, the symbols are diffed, and the
// result is cleaned up so that a changed phrase reads as one removal and one
// addition rather than a patchwork of words.
func wordDiff(before, after string) []segment {
	symbols := map[string]rune{}
	var tokens []string
	encode := func(s string) []rune {
		var out []rune
		for _, t := range tokenize(s) {
			r, ok := symbols[t]
			if !ok {
				r = symbolRune(len(tokens))
				symbols[t] = r
				tokens = append(tokens, t)
			}
			out = append(out, r)
		}
		return out
	}
	a, b := encode(before), encode(after)
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // exact: texts are at most a few thousand words
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMainRunes(a, b, false))
	for i, d := range diffs {
		var text strings.Builder
		for _, r := range d.Text {
			text.WriteString(tokens[symbolIndex(r)])
		}
		diffs[i].Text = text.String()
	}
	// On the real text, slide each change to the nicest boundary, e.g. a
	// line added between two lines starts at a line start.
	diffs = dmp.DiffCleanupSemanticLossless(diffs)
	out := make([]segment, 0, len(diffs))
	for _, d := range diffs {
		if d.Text == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].op == d.Type {
			out[n-1].text += d.Text
			continue
		}
		out = append(out, segment{op: d.Type, text: d.Text})
	}
	return out
}

// symbolRune numbers tokens with runes that survive a round trip through a
// Go string: the diff library converts runes to strings and back, which
// would turn surrogates into U+FFFD.
func symbolRune(i int) rune {
	r := rune(0x100 + i)
	if r >= 0xD800 {
		r += 0x800
	}
	return r
}

func symbolIndex(r rune) int {
	if r >= 0xD800+0x800 {
		r -= 0x800
	}
	return int(r - 0x100)
}

// tokenize splits text into words, runs of white space, and single other
// characters. A word keeps inner punctuation between letters or digits, so
// that "600,000", "non-aggression" and "Ukraine’s" each stay one word.
func tokenize(s string) []string {
	r := []rune(s)
	var out []string
	for i := 0; i < len(r); {
		j := i + 1
		switch {
		case unicode.IsSpace(r[i]):
			for j < len(r) && unicode.IsSpace(r[j]) {
				j++
			}
		case isWordRune(r[i]):
			for j < len(r) {
				if isWordRune(r[j]) {
					j++
				} else if strings.ContainsRune(".,'’-/:", r[j]) && j+1 < len(r) && isWordRune(r[j+1]) {
					j += 2
				} else {
					break
				}
			}
		}
		out = append(out, string(r[i:j]))
		i = j
	}
	return out
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

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
func renderRedline(segs []segment, f redlineFormat) string {
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
		open, closing := markers(s.op, f)
		for i, line := range strings.Split(s.text, "\n") {
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

func markers(op diffmatchpatch.Operation, f redlineFormat) (string, string) {
	if op == diffmatchpatch.DiffEqual {
		return "", ""
	}
	del := op == diffmatchpatch.DiffDelete
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
