package merge_test

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/parley-negotiation/parley/server/merge"
)

func TestWords(t *testing.T) {
	const base = "Ukraine will receive security guarantees within 30 days of signature."
	for _, tc := range []struct{ name, yours, theirs, want string }{
		{"OK/Apart", "Ukraine will receive robust security guarantees within 30 days of signature.",
			"Ukraine will receive security guarantees within 60 days of signature.",
			"Ukraine will receive robust security guarantees within 60 days of signature."},
		{"OK/TheirsOnly", base, "Ukraine shall receive security guarantees within 30 days of signature.",
			"Ukraine shall receive security guarantees within 30 days of signature."},
		{"OK/YoursOnly", "Ukraine shall receive security guarantees within 30 days of signature.", base,
			"Ukraine shall receive security guarantees within 30 days of signature."},
		{"OK/SameChange", "Ukraine will receive security guarantees within 60 days of signature.",
			"Ukraine will receive security guarantees within 60 days of signature.",
			"Ukraine will receive security guarantees within 60 days of signature."},
		{"OK/SameChangeAndMore", "Ukraine will receive firm security guarantees within 60 days of signature.",
			"Ukraine will receive security guarantees within 60 days of signature.",
			"Ukraine will receive firm security guarantees within 60 days of signature."},
		{"OK/InsertAtStartAndEnd", "Also, Ukraine will receive security guarantees within 30 days of signature.",
			"Ukraine will receive security guarantees within 30 days of signature. Europe pays.",
			"Also, Ukraine will receive security guarantees within 30 days of signature. Europe pays."},
		{"OK/DeletionApart", "Ukraine will receive guarantees within 30 days of signature.",
			"Ukraine will receive security guarantees within 30 days.",
			"Ukraine will receive guarantees within 30 days."},
		{"OK/LinesApart", base + "\n— first line\n— second line",
			"Ukraine will receive security guarantees within 60 days of signature.",
			"Ukraine will receive security guarantees within 60 days of signature.\n— first line\n— second line"},
		{"OK/NothingChanged", base, base, base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, conflicts := merge.Words(base, tc.yours, tc.theirs)
			if conflicts != nil || got != tc.want {
				t.Fatalf("merge:\n got %q (conflicts %+v)\nwant %q", got, conflicts, tc.want)
			}
		})
	}
	t.Run("OK/PunctuationSeparates", func(t *testing.T) {
		got, conflicts := merge.Words("Kyiv, Moscow", "Kiev, Moscow", "Kyiv, Washington")
		if conflicts != nil || got != "Kiev, Washington" {
			t.Fatalf("merge: got %q (conflicts %+v)", got, conflicts)
		}
	})
	for _, tc := range []struct {
		name, yours, theirs string
		want                []merge.Conflict
	}{
		{"ErrConflict/SameWord", "Ukraine will receive security guarantees within 60 days of signature.",
			"Ukraine will receive security guarantees within 90 days of signature.",
			[]merge.Conflict{{FirstWord: 7, LastWord: 7, Base: "30", Yours: "60", Theirs: "90"}}},
		{"ErrConflict/Overlap", "Ukraine will receive security guarantees within 60 days of ratification.",
			"Ukraine will receive security guarantees within 30 weeks.",
			[]merge.Conflict{{FirstWord: 7, LastWord: 10, Base: "30 days of signature", Yours: "60 days of ratification", Theirs: "30 weeks"}}},
		{"ErrConflict/NeighbourWords", "Ukraine will receive security guarantees within 60 days of signature.",
			"Ukraine will receive security guarantees within 30 weeks of signature.",
			[]merge.Conflict{{FirstWord: 7, LastWord: 8, Base: "30 days", Yours: "60 days", Theirs: "30 weeks"}}},
		{"ErrConflict/InsertInsideChange", "Ukraine will receive security guarantees within 30 calendar days of signature.",
			"Ukraine will receive security guarantees within a month of signature.",
			[]merge.Conflict{{FirstWord: 7, LastWord: 8, Base: "30 days", Yours: "30 calendar days", Theirs: "a month"}}},
		{"ErrConflict/TwoInsertsOnePlace", "Ukraine will receive security guarantees within 30 days of signature, binding.",
			"Ukraine will receive security guarantees within 30 days of signature, revocable.",
			[]merge.Conflict{{FirstWord: 11, LastWord: 10, Base: "", Yours: ", binding", Theirs: ", revocable"}}},
		{"ErrConflict/DeleteAll", "",
			"Ukraine will receive security guarantees within 60 days of signature.",
			[]merge.Conflict{{FirstWord: 1, LastWord: 10, Base: base, Yours: "", Theirs: "Ukraine will receive security guarantees within 60 days of signature."}}},
		{"ErrConflict/Two", "Russia will receive security guarantees within 60 days of signature.",
			"Europe will receive security guarantees within 90 days of signature.",
			[]merge.Conflict{
				{FirstWord: 1, LastWord: 1, Base: "Ukraine", Yours: "Russia", Theirs: "Europe"},
				{FirstWord: 7, LastWord: 7, Base: "30", Yours: "60", Theirs: "90"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, conflicts := merge.Words(base, tc.yours, tc.theirs)
			if got != "" || fmt.Sprintf("%+v", conflicts) != fmt.Sprintf("%+v", tc.want) {
				t.Fatalf("merge: got %q,\n conflicts %+v\n      want %+v", got, conflicts, tc.want)
			}
		})
	}
}

// TestWordsLongTexts checks that texts too different for an exact diff still
// merge correctly, only coarser: a change far from everything else merges, a
// rewrite of the whole middle conflicts with any change there.
func TestWordsLongTexts(t *testing.T) {
	var base, yours strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&base, "w%d ", i)
		if i%2 == 0 {
			fmt.Fprintf(&yours, "w%d ", i)
		} else {
			fmt.Fprintf(&yours, "y%d ", i)
		}
	}
	b, y := "Start. "+base.String()+"End of text.", "Start. "+yours.String()+"End of text."
	t.Run("OK", func(t *testing.T) {
		got, conflicts := merge.Words(b, y, strings.Replace(b, "text.", "document.", 1))
		if conflicts != nil || got != strings.Replace(y, "text.", "document.", 1) {
			t.Fatalf("far change: %d conflicts", len(conflicts))
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		_, conflicts := merge.Words(b, y, strings.Replace(b, "w2 ", "z2 ", 1))
		if len(conflicts) != 1 {
			t.Fatalf("change inside a rewrite: %d conflicts, want 1", len(conflicts))
		}
	})
}

// edit replaces words [from, to) of a text of unique words with fresh ones.
type edit struct {
	from, to int
	with     []string
}

// apply applies edits, which are sorted and apart, to words.
func apply(words []string, edits []edit) string {
	var out []string
	pos := 0
	for _, e := range edits {
		out = append(out, words[pos:e.from]...)
		out = append(out, e.with...)
		pos = e.to
	}
	return strings.Join(append(out, words[pos:]...), " ")
}

// TestWordsProperty checks the merge's promises on random texts: merging a
// change with no change gives the change, either way round; and two changes
// that leave at least one word between them merge into the text that
// applying both gives.
func TestWordsProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 40).Draw(t, "words")
		words := make([]string, n)
		for i := range words {
			words[i] = fmt.Sprintf("b%d", i)
		}
		// Cut the text into runs; every run is changed by yours, by theirs,
		// or by neither, and a run left unchanged lies between any two
		// changes.
		var yours, theirs []edit
		fresh := 0
		last := "none"
		for pos := 0; pos <= n; {
			size := rapid.IntRange(0, 4).Draw(t, "size")
			if pos+size > n {
				size = n - pos
			}
			who := rapid.SampledFrom([]string{"none", "yours", "theirs"}).Draw(t, "who")
			if last != "none" || (size == 0 && who == "none") {
				who = "none"
				if size == 0 {
					size = 1
				}
				if pos+size > n {
					break
				}
			}
			var with []string
			if who != "none" {
				for range rapid.IntRange(0, 3).Draw(t, "new") {
					with = append(with, fmt.Sprintf("n%d", fresh))
					fresh++
				}
				if size == 0 && len(with) == 0 {
					with = []string{fmt.Sprintf("n%d", fresh)}
					fresh++
				}
			}
			switch who {
			case "yours":
				yours = append(yours, edit{pos, pos + size, with})
			case "theirs":
				theirs = append(theirs, edit{pos, pos + size, with})
			}
			last = who
			pos += size
		}
		base, a, b := strings.Join(words, " "), apply(words, yours), apply(words, theirs)
		if got, c := merge.Words(base, a, base); c != nil || got != a {
			t.Fatalf("merge(base, a, base) = %q, %+v; want %q", got, c, a)
		}
		if got, c := merge.Words(base, base, b); c != nil || got != b {
			t.Fatalf("merge(base, base, b) = %q, %+v; want %q", got, c, b)
		}
		want := apply(words, sorted(append(append([]edit{}, yours...), theirs...)))
		if got, c := merge.Words(base, a, b); c != nil || got != want {
			t.Fatalf("merge(%q, %q, %q) = %q, %+v; want %q", base, a, b, got, c, want)
		}
	})
}

func sorted(edits []edit) []edit {
	for i := 1; i < len(edits); i++ {
		for j := i; j > 0 && edits[j].from < edits[j-1].from; j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
	return edits
}

// TestWordsPropertyAnyText checks on texts of few, repeated words and odd
// spacing, where many alignments are equally short, that a change merged
// with no change comes out whole, and that a change merged with itself does.
func TestWordsPropertyAnyText(t *testing.T) {
	text := rapid.Custom(func(t *rapid.T) string {
		parts := rapid.SliceOfN(rapid.SampledFrom([]string{"a", "b", "c", " ", "  ", ",", ".", "\n", "— ", "d-e"}), 0, 30).Draw(t, "parts")
		return strings.Join(parts, "")
	})
	rapid.Check(t, func(t *rapid.T) {
		base, a := text.Draw(t, "base"), text.Draw(t, "a")
		if got, c := merge.Words(base, a, base); c != nil || got != a {
			t.Fatalf("merge(%q, %q, base) = %q, %+v", base, a, got, c)
		}
		if got, c := merge.Words(base, base, a); c != nil || got != a {
			t.Fatalf("merge(%q, base, %q) = %q, %+v", base, a, got, c)
		}
		if got, c := merge.Words(base, a, a); c != nil || got != a {
			t.Fatalf("merge(%q, %q, %q) = %q, %+v", base, a, a, got, c)
		}
	})
}

// BenchmarkWordsLongest merges three point texts of the longest kind (16 KiB)
// that share nothing but their first and last words: the most work a merge
// does, bounded by MaxEdits.
func BenchmarkWordsLongest(b *testing.B) {
	long := func(prefix string) string {
		var s strings.Builder
		s.WriteString("First ")
		for i := 0; s.Len() < 16<<10-10; i++ {
			fmt.Fprintf(&s, "%s%d ", prefix, i%97)
		}
		return s.String() + "last."
	}
	base, yours, theirs := long("a"), long("b"), long("c")
	b.ReportAllocs()
	for b.Loop() {
		merge.Words(base, yours, theirs)
	}
}
