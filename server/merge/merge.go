// Package merge merges two changes of one text word by word: the three-way
// merge that re-proposes a stale amendment on the text its point has now. It
// is pure and deterministic: the same three texts always give the same
// result, whatever the machine or the clock.
package merge

import (
	"strings"
	"unicode"

	"github.com/parley-negotiation/parley/server/redline"
)

// MaxEdits bounds the work of one diff: two texts that differ in more words
// than this (after their common start and end) are treated as one change of
// everything between their common start and end. The merge stays correct,
// only coarser: such a change overlaps the other side's and is a conflict.
// Point texts are at most 16 KiB, so a merge costs at most a few tens of
// milliseconds and about 11 MiB (BenchmarkWordsLongest); texts that share
// most of their words cost far less.
const MaxEdits = 1000

// Conflict is a part of the base text that both sides changed differently,
// or changed next to each other with nothing but white space between.
type Conflict struct {
	// FirstWord and LastWord number the base text's words the conflict
	// covers, counting from 1. LastWord is FirstWord-1 when both changes meet
	// between two words (an insertion there): FirstWord is then the word
	// after them.
	FirstWord, LastWord int
	Base                string // the base text's run the two sides change
	Yours               string // what yours makes of it
	Theirs              string // what theirs makes of it
}

// Words merges yours and theirs, two edits of base, word by word, tokenised
// as the redline does (words, runs of white space, single other characters).
// Each side's change is the minimal set of runs of tokens it replaces; where
// only one side changed, its change is taken; where both changed the same run
// to the same text, it is taken once. Two changes conflict when their runs
// overlap or touch, or only white space lies between them: at least one
// unchanged word or punctuation mark must separate them. With conflicts the
// merged text is empty and conflicts lists them in the order of the text.
func Words(base, yours, theirs string) (merged string, conflicts []Conflict) {
	ids := map[string]int32{}
	var space []bool // by token id: white space
	intern := func(toks []string) []int32 {
		out := make([]int32, len(toks))
		for i, t := range toks {
			id, ok := ids[t]
			if !ok {
				id = int32(len(ids))
				ids[t] = id
				space = append(space, blank([]string{t}))
			}
			out[i] = id
		}
		return out
	}
	tb, ty, tt := redline.Tokens(base), redline.Tokens(yours), redline.Tokens(theirs)
	ib, iy, it := intern(tb), intern(ty), intern(tt)
	hunks := sides(diff(ib, iy, space), ty, diff(ib, it, space), tt)

	var out strings.Builder
	pos := 0 // base tokens before it are written or covered by a cluster
	for i := 0; i < len(hunks); {
		start, end := hunks[i].start, hunks[i].end
		j := i + 1
		for j < len(hunks) && (hunks[j].start <= end || blank(tb[end:hunks[j].start])) {
			end = max(end, hunks[j].end)
			j++
		}
		cluster := hunks[i:j]
		i = j
		out.WriteString(strings.Join(tb[pos:start], ""))
		pos = end
		mine, others := render(tb, start, end, cluster, false), render(tb, start, end, cluster, true)
		switch {
		case !has(cluster, true):
			out.WriteString(mine)
		case !has(cluster, false), mine == others:
			out.WriteString(others)
		default:
			before := words(tb[:start])
			conflicts = append(conflicts, Conflict{
				FirstWord: before + 1, LastWord: before + words(tb[start:end]),
				Base: strings.Join(tb[start:end], ""), Yours: mine, Theirs: others,
			})
		}
	}
	if len(conflicts) > 0 {
		return "", conflicts
	}
	out.WriteString(strings.Join(tb[pos:], ""))
	return out.String(), nil
}

// hunk replaces the base tokens [start, end) with with; start == end is an
// insertion before base token start.
type hunk struct {
	start, end int
	with       []string
	theirs     bool
}

// sides gives each side's hunks the tokens they insert, and returns both
// sides' hunks in the order of the base text (yours first at equal starts).
func sides(yours []span, ty []string, theirs []span, tt []string) []hunk {
	out := make([]hunk, 0, len(yours)+len(theirs))
	y, t := 0, 0
	for y < len(yours) || t < len(theirs) {
		if t == len(theirs) || (y < len(yours) && yours[y].a0 <= theirs[t].a0) {
			s := yours[y]
			out = append(out, hunk{start: s.a0, end: s.a1, with: ty[s.b0:s.b1]})
			y++
		} else {
			s := theirs[t]
			out = append(out, hunk{start: s.a0, end: s.a1, with: tt[s.b0:s.b1], theirs: true})
			t++
		}
	}
	return out
}

// render returns what one side makes of the base tokens [start, end).
func render(base []string, start, end int, cluster []hunk, theirs bool) string {
	var b strings.Builder
	pos := start
	for _, h := range cluster {
		if h.theirs != theirs {
			continue
		}
		b.WriteString(strings.Join(base[pos:h.start], ""))
		b.WriteString(strings.Join(h.with, ""))
		pos = h.end
	}
	b.WriteString(strings.Join(base[pos:end], ""))
	return b.String()
}

func has(cluster []hunk, theirs bool) bool {
	for _, h := range cluster {
		if h.theirs == theirs {
			return true
		}
	}
	return false
}

// blank reports whether tokens are all white space (or none).
func blank(tokens []string) bool {
	for _, t := range tokens {
		if strings.TrimFunc(t, unicode.IsSpace) != "" {
			return false
		}
	}
	return true
}

// words counts the word tokens: those that start with a letter, digit or
// combining mark, as the redline's tokeniser makes them.
func words(tokens []string) int {
	n := 0
	for _, t := range tokens {
		for _, r := range t {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
				n++
			}
			break
		}
	}
	return n
}

// span says that a[a0:a1] becomes b[b0:b1].
type span struct{ a0, a1, b0, b1 int }

// diff returns the runs of tokens in which a and b differ, in order. It
// aligns the words and punctuation marks alone, then compares what lies
// between two aligned ones: white space matches only where it lies between
// the same words, so a run of spaces never pulls the alignment away from the
// words. The alignment is minimal (Myers' O(ND) algorithm) when the texts
// differ in at most MaxEdits words, else it keeps only their common start and
// end.
func diff(a, b []int32, space []bool) []span {
	wa, wb := nonSpace(a, space), nonSpace(b, space)
	ka, kb := make([]int32, len(wa)), make([]int32, len(wb))
	for i, x := range wa {
		ka[i] = a[x]
	}
	for i, y := range wb {
		kb[i] = b[y]
	}
	pre := 0
	for pre < len(ka) && pre < len(kb) && ka[pre] == kb[pre] {
		pre++
	}
	suf := 0
	for suf < len(ka)-pre && suf < len(kb)-pre && ka[len(ka)-1-suf] == kb[len(kb)-1-suf] {
		suf++
	}
	pairs := make([][2]int, 0, pre+suf+2)
	pairs = append(pairs, [2]int{-1, -1})
	for i := range pre {
		pairs = append(pairs, [2]int{wa[i], wb[i]})
	}
	middle, _ := myers(ka[pre:len(ka)-suf], kb[pre:len(kb)-suf])
	for _, m := range middle {
		pairs = append(pairs, [2]int{wa[pre+m[0]], wb[pre+m[1]]})
	}
	for i := suf; i > 0; i-- {
		pairs = append(pairs, [2]int{wa[len(wa)-i], wb[len(wb)-i]})
	}
	pairs = append(pairs, [2]int{len(a), len(b)})

	var out []span
	for i := 1; i < len(pairs); i++ {
		a0, a1, b0, b1 := pairs[i-1][0]+1, pairs[i][0], pairs[i-1][1]+1, pairs[i][1]
		for a0 < a1 && b0 < b1 && a[a0] == b[b0] {
			a0++
			b0++
		}
		for a0 < a1 && b0 < b1 && a[a1-1] == b[b1-1] {
			a1--
			b1--
		}
		if a0 < a1 || b0 < b1 {
			out = append(out, span{a0, a1, b0, b1})
		}
	}
	return out
}

// nonSpace returns the indexes of the tokens that are not white space.
func nonSpace(tokens []int32, space []bool) []int {
	var out []int
	for i, t := range tokens {
		if !space[t] {
			out = append(out, i)
		}
	}
	return out
}

// myers returns the pairs of equal tokens (index in a, index in b) of a
// shortest edit script from a to b, in order, or false when that script is
// longer than MaxEdits.
func myers(a, b []int32) ([][2]int, bool) {
	n, m := len(a), len(b)
	// trace[d][k+d] is the furthest x reached on diagonal k = x-y with d
	// edits.
	var trace [][]int32
	for d := 0; d <= min(n+m, MaxEdits); d++ {
		v := make([]int32, 2*d+1)
		for k := -d; k <= d; k += 2 {
			var x int
			switch {
			case d == 0:
				x = 0
			case k == -d || (k != d && trace[d-1][k-1+d-1] < trace[d-1][k+1+d-1]):
				x = int(trace[d-1][k+1+d-1]) // down: insert b[y]
			default:
				x = int(trace[d-1][k-1+d-1]) + 1 // right: delete a[x]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[k+d] = int32(x)
			if x >= n && y >= m {
				trace = append(trace, v)
				return backtrack(trace, a, b), true
			}
		}
		trace = append(trace, v)
	}
	return nil, false
}

// backtrack walks the trace of myers from the end back to the start and
// returns the equal pairs it crossed, in order.
func backtrack(trace [][]int32, a, b []int32) [][2]int {
	var out [][2]int
	x, y := len(a), len(b)
	for d := len(trace) - 1; d >= 0; d-- {
		k := x - y
		var px, py int // where this d's snake starts
		if d == 0 {
			px, py = 0, 0
		} else {
			prev := trace[d-1]
			var pk int
			if k == -d || (k != d && prev[k-1+d-1] < prev[k+1+d-1]) {
				pk = k + 1
				px = int(prev[pk+d-1])
			} else {
				pk = k - 1
				px = int(prev[pk+d-1]) + 1
			}
			py = px - k
		}
		for x > px && y > py {
			x--
			y--
			out = append(out, [2]int{x, y})
		}
		if d > 0 {
			// The edit itself: step back to the end of the previous snake.
			if k == -d || (k != d && trace[d-1][k-1+d-1] < trace[d-1][k+1+d-1]) {
				x, y = int(trace[d-1][k+1+d-1]), int(trace[d-1][k+1+d-1])-(k+1)
			} else {
				x, y = int(trace[d-1][k-1+d-1]), int(trace[d-1][k-1+d-1])-(k-1)
			}
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
