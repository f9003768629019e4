// Package redline computes word-level redlines: which words a change of a
// text removes and which it adds. It is the one implementation of the
// redline; the API serves it to every client.
package redline

import (
	"strings"
	"time"
	"unicode"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Op says what a change does to a run of text.
type Op int

// Operations.
const (
	Equal  Op = iota + 1 // kept
	Delete               // removed
	Insert               // added
)

// Segment is a run of text that a change keeps, removes or adds.
type Segment struct {
	Op   Op
	Text string
}

// MaxDiffTime bounds the time one diff may take. Texts are at most a few
// thousand words, which diff exactly in milliseconds; only two long texts
// with nothing in common come near it, and then the diff is still correct,
// only coarser.
const MaxDiffTime = time.Second

// Words compares two texts word by word. Each word, run of white space and
// punctuation mark becomes one symbol, the symbols are diffed, and the
// result is cleaned up so that a changed phrase reads as one removal and one
// addition rather than a patchwork of words. Adjacent segments never have the
// same operation and none is empty, so equal texts give one Equal segment and
// two empty texts none.
func Words(before, after string) []Segment {
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
	dmp.DiffTimeout = MaxDiffTime
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
	out := make([]Segment, 0, len(diffs))
	for _, d := range diffs {
		if d.Text == "" {
			continue
		}
		op := map[diffmatchpatch.Operation]Op{diffmatchpatch.DiffEqual: Equal, diffmatchpatch.DiffDelete: Delete, diffmatchpatch.DiffInsert: Insert}[d.Type]
		if n := len(out); n > 0 && out[n-1].Op == op {
			out[n-1].Text += d.Text
			continue
		}
		out = append(out, Segment{Op: op, Text: d.Text})
	}
	return out
}

// Texts returns the two texts a redline compares.
func Texts(segs []Segment) (before, after string) {
	var b, a strings.Builder
	for _, s := range segs {
		if s.Op != Insert {
			b.WriteString(s.Text)
		}
		if s.Op != Delete {
			a.WriteString(s.Text)
		}
	}
	return b.String(), a.String()
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

// Tokens splits a text into the units a redline compares: words, runs of
// white space, and single other characters. Joined, they give the text back.
func Tokens(s string) []string { return tokenize(s) }

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
