package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	got := tokenize("Limited to 600,000 troops; non-aggression — Ukraine’s  e.g.\nend.")
	want := []string{"Limited", " ", "to", " ", "600,000", " ", "troops", ";", " ", "non-aggression", " ", "—", " ",
		"Ukraine’s", "  ", "e.g", ".", "\n", "end", "."}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("tokenize:\n got %q\nwant %q", got, want)
	}
	if strings.Join(got, "") != "Limited to 600,000 troops; non-aggression — Ukraine’s  e.g.\nend." {
		t.Fatal("tokens do not add up to the text")
	}
}

func TestRedline(t *testing.T) {
	for _, tc := range []struct {
		name, before, after string
		plain, markdown     string
	}{
		{"word", "limited to 600,000 troops.", "limited to 800,000 troops.",
			"limited to [-600,000-]{+800,000+} troops.", "limited to ~~600,000~~**800,000** troops."},
		{"phrase", "Ukraine will hold elections in 100 days.", "Ukraine will hold elections within 180 days.",
			"Ukraine will hold elections [-in 100-]{+within 180+} days.", "Ukraine will hold elections ~~in 100~~**within 180** days."},
		{"added", "", "A new point.", "{+A new point.+}", "**A new point.**"},
		{"removed", "An old point.", "", "[-An old point.-]", "~~An old point.~~"},
		{"same", "Unchanged text.", "Unchanged text.", "Unchanged text.", "Unchanged text."},
		{"lines", "Guarantee:\n— one;\n— two.", "Guarantee:\n— one;\n— three;\n— two.",
			"Guarantee:\n— one;\n{+— three;+}\n— two.", "Guarantee:\\\n— one;\\\n**— three;**\\\n— two."},
		{"markup", "Use *stars* and [links]", "Use _under_ and [links]",
			"Use [-*stars*-]{+_under_+} and [links]", "Use ~~\\*stars\\*~~**\\_under\\_** and \\[links\\]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			segs := wordDiff(tc.before, tc.after)
			if got := renderRedline(segs, redlinePlain); got != tc.plain {
				t.Errorf("plain:\n got %q\nwant %q", got, tc.plain)
			}
			if got := renderRedline(segs, redlineMarkdown); got != tc.markdown {
				t.Errorf("markdown:\n got %q\nwant %q", got, tc.markdown)
			}
			// Whatever the format, the two texts can be read back.
			var before, after strings.Builder
			for _, s := range segs {
				if s.op <= 0 {
					before.WriteString(s.text)
				}
				if s.op >= 0 {
					after.WriteString(s.text)
				}
			}
			if before.String() != tc.before || after.String() != tc.after {
				t.Errorf("segments give %q → %q", before.String(), after.String())
			}
		})
	}
}

func TestRedline_HTMLAndTerminal(t *testing.T) {
	segs := wordDiff("a <b> & c\nd", "a <b> & e\nd")
	if got, want := renderRedline(segs, redlineHTML), "a &lt;b&gt; &amp; <del>c</del><ins>e</ins><br>\nd"; got != want {
		t.Errorf("html:\n got %q\nwant %q", got, want)
	}
	segs = wordDiff("one two", "one three\nfour")
	if got, want := renderRedline(segs, redlineTerminal), "one \x1b[31;9mtwo\x1b[0m\x1b[32;4mthree\x1b[0m\n\x1b[32;4mfour\x1b[0m"; got != want {
		t.Errorf("terminal (markers close before each line break):\n got %q\nwant %q", got, want)
	}
}

// TestRedline_ManyWords diffs texts with more distinct words than there are
// runes below the surrogate range, which the symbol encoding must skip.
func TestRedline_ManyWords(t *testing.T) {
	var a, b strings.Builder
	for i := range 55500 { // 55,040 symbols fit below the surrogates
		fmt.Fprintf(&a, "w%d ", i)
		if i == 55000 {
			b.WriteString("changed ")
			continue
		}
		fmt.Fprintf(&b, "w%d ", i)
	}
	got := renderRedline(wordDiff(a.String(), b.String()), redlinePlain)
	if !strings.Contains(got, "[-w55000-]{+changed+}") || strings.Count(got, "[-") != 1 {
		t.Fatalf("diff of a long text: %d markers", strings.Count(got, "[-"))
	}
}

func TestNumberRanges(t *testing.T) {
	if got := numberRanges([]int{1, 2, 3, 5, 7, 8, 28}); got != "1-3, 5, 7-8, 28" {
		t.Fatal(got)
	}
}

func TestParseParticipant(t *testing.T) {
	p, err := parseParticipant("united-states:3=United States", 1)
	if err != nil || p.GetId() != "united-states" || p.GetWeight() != 3 || p.GetDisplayName() != "United States" {
		t.Fatalf("%v %v", p, err)
	}
	if _, err := parseParticipant("x:0", 1); err == nil {
		t.Fatal("weight 0 accepted")
	}
}
