package main

import (
	"testing"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/redline"
)

// segmentsOf is the server's redline of two texts (server/redline, which
// GetRedline serves), as the CLI receives it.
func segmentsOf(before, after string) []*parleyv1.RedlineSegment {
	ops := map[redline.Op]parleyv1.RedlineOperation{redline.Equal: parleyv1.RedlineOperation_REDLINE_OPERATION_EQUAL,
		redline.Delete: parleyv1.RedlineOperation_REDLINE_OPERATION_DELETE, redline.Insert: parleyv1.RedlineOperation_REDLINE_OPERATION_INSERT}
	var out []*parleyv1.RedlineSegment
	for _, s := range redline.Words(before, after) {
		out = append(out, &parleyv1.RedlineSegment{Operation: ops[s.Op], Text: s.Text})
	}
	return out
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
			segs := segmentsOf(tc.before, tc.after)
			if got := renderRedline(segs, redlinePlain); got != tc.plain {
				t.Errorf("plain:\n got %q\nwant %q", got, tc.plain)
			}
			if got := renderRedline(segs, redlineMarkdown); got != tc.markdown {
				t.Errorf("markdown:\n got %q\nwant %q", got, tc.markdown)
			}
			// Whatever the format, the two texts can be read back.
			if before, after := redlineTexts(segs); before != tc.before || after != tc.after {
				t.Errorf("segments give %q → %q", before, after)
			}
		})
	}
}

func TestRedline_HTMLAndTerminal(t *testing.T) {
	segs := segmentsOf("a <b> & c\nd", "a <b> & e\nd")
	if got, want := renderRedline(segs, redlineHTML), "a &lt;b&gt; &amp; <del>c</del><ins>e</ins><br>\nd"; got != want {
		t.Errorf("html:\n got %q\nwant %q", got, want)
	}
	segs = segmentsOf("one two", "one three\nfour")
	if got, want := renderRedline(segs, redlineTerminal), "one \x1b[31;9mtwo\x1b[0m\x1b[32;4mthree\x1b[0m\n\x1b[32;4mfour\x1b[0m"; got != want {
		t.Errorf("terminal (markers close before each line break):\n got %q\nwant %q", got, want)
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
