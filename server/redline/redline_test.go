package redline_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/redline"
)

func TestTokenize(t *testing.T) {
	got := redline.Tokenize("Limited to 600,000 troops; non-aggression — Ukraine’s  e.g.\nend.")
	want := []string{"Limited", " ", "to", " ", "600,000", " ", "troops", ";", " ", "non-aggression", " ", "—", " ",
		"Ukraine’s", "  ", "e.g", ".", "\n", "end", "."}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("tokenize:\n got %q\nwant %q", got, want)
	}
}

// show writes a redline as [-removed-]{+added+}.
func show(segs []redline.Segment) string {
	var b strings.Builder
	for _, s := range segs {
		switch s.Op {
		case redline.Delete:
			b.WriteString("[-" + s.Text + "-]")
		case redline.Insert:
			b.WriteString("{+" + s.Text + "+}")
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

func TestWords(t *testing.T) {
	for _, tc := range []struct{ name, before, after, want string }{
		{"word", "limited to 600,000 troops.", "limited to 800,000 troops.", "limited to [-600,000-]{+800,000+} troops."},
		{"phrase", "Ukraine will hold elections in 100 days.", "Ukraine will hold elections within 180 days.",
			"Ukraine will hold elections [-in 100-]{+within 180+} days."},
		{"added", "", "A new point.", "{+A new point.+}"},
		{"removed", "An old point.", "", "[-An old point.-]"},
		{"same", "Unchanged text.", "Unchanged text.", "Unchanged text."},
		{"empty", "", "", ""},
		{"lines", "Guarantee:\n— one;\n— two.", "Guarantee:\n— one;\n— three;\n— two.", "Guarantee:\n— one;\n{+— three;\n+}— two."},
		{"markup", "Use *stars* and [links]", "Use _under_ and [links]", "Use [-*stars*-]{+_under_+} and [links]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			segs := redline.Words(tc.before, tc.after)
			if got := show(segs); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
			if before, after := redline.Texts(segs); before != tc.before || after != tc.after {
				t.Errorf("segments give %q → %q", before, after)
			}
			for i, s := range segs {
				if s.Text == "" || (i > 0 && segs[i-1].Op == s.Op) {
					t.Errorf("segment %d: %+v (empty, or the same operation as the one before)", i, s)
				}
			}
		})
	}
}

// TestWords_ManyWords diffs texts with more distinct words than there are
// runes below the surrogate range, which the symbol encoding must skip.
func TestWords_ManyWords(t *testing.T) {
	var a, b strings.Builder
	for i := range 55500 { // 55,040 symbols fit below the surrogates
		fmt.Fprintf(&a, "w%d ", i)
		if i == 55000 {
			b.WriteString("changed ")
			continue
		}
		fmt.Fprintf(&b, "w%d ", i)
	}
	got := show(redline.Words(a.String(), b.String()))
	if !strings.Contains(got, "[-w55000-]{+changed+}") || strings.Count(got, "[-") != 1 {
		t.Fatalf("diff of a long text: %d markers", strings.Count(got, "[-"))
	}
}

// TestWords_Bounded diffs the worst case a caller can send, two texts of the
// largest size with no word in common, and checks the diff ends in bounded
// time and still gives the two texts back.
func TestWords_Bounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(prefix string) string {
		var b strings.Builder
		for b.Len() < 16<<10-16 {
			fmt.Fprintf(&b, "%s%d ", prefix, rng.IntN(1_000_000))
		}
		return b.String()
	}
	before, after := text("a"), text("b")
	start := time.Now()
	segs := redline.Words(before, after)
	if took := time.Since(start); took > 10*redline.MaxDiffTime {
		t.Errorf("the diff took %v", took)
	}
	if b, a := redline.Texts(segs); b != before || a != after {
		t.Fatal("the redline does not give the texts back")
	}
}
