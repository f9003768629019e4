package workflow_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/workflow"
)

// numbered renders point texts as numbered text, the way a person would
// write them down.
func numbered(points []string) string {
	var b strings.Builder
	for i, p := range points {
		fmt.Fprintf(&b, "%d. %s\n", i+1, p)
	}
	return b.String()
}

// parseCases go through ParseNumberedText; reason is empty for a success.
var parseCases = []struct {
	name   string
	input  string
	want   []string
	reason string
}{
	{name: "two points", input: "1. First.\n2. Second.", want: []string{"First.", "Second."}},
	{name: "sub-items stay with their point", input: "1. Guarantees:\n— one;\n— two.\n2. Next.",
		want: []string{"Guarantees:\n— one;\n— two.", "Next."}},
	{name: "a year at the start of a line is text", input: "1. The war that began in\n2022. was the year it all changed.\n2. Next.",
		want: []string{"The war that began in\n2022. was the year it all changed.", "Next."}},
	{name: "a number out of order is text", input: "1. First.\n3. Not yet.\n2. Second.",
		want: []string{"First.\n3. Not yet.", "Second."}},
	{name: "the same number again is text", input: "1. First.\n1. Again.", want: []string{"First.\n1. Again."}},
	{name: "a number without a space after the dot is text", input: "1. Growth of\n2.5 percent.\n2. Next.",
		want: []string{"Growth of\n2.5 percent.", "Next."}},
	{name: "a number alone on its line starts a point", input: "1.\nOn the next line.\n2. Next.",
		want: []string{"On the next line.", "Next."}},
	{name: "an indented number starts a point", input: "  1. First.\n\t2. Second.", want: []string{"First.", "Second."}},
	{name: "a tab after the dot", input: "1.\tFirst.\n2.\t\tSecond.", want: []string{"First.", "Second."}},
	{name: "point 10 is not point 1 again", input: numbered(strings.Split("a b c d e f g h i j k", " ")),
		want: strings.Split("a b c d e f g h i j k", " ")},
	{name: "CRLF line ends", input: "1. First:\r\n— one.\r\n2. Second.\r\n", want: []string{"First:\n— one.", "Second."}},
	{name: "CR line ends", input: "1. First:\r— one.\r2. Second.\r", want: []string{"First:\n— one.", "Second."}},
	{name: "blank lines around and between points", input: "\n \n\t\n1. First.\n\n\n2. Second.\n\n",
		want: []string{"First.", "Second."}},
	{name: "a blank line inside a point stays", input: "1. First:\n\n— one.\n2. Second.", want: []string{"First:\n\n— one.", "Second."}},
	{name: "trailing white space goes", input: "1. First.  \n— one. \t\n2. Second. ", want: []string{"First.\n— one.", "Second."}},
	{name: "a first line indented below its number", input: "1.\n   Indented.\n   — one.\n2. Second.",
		want: []string{"Indented.\n   — one.", "Second."}},
	{name: "text before point 1", input: "Preamble.\n1. First.", reason: "NUMBERED_TEXT_INVALID"},
	{name: "numbering from 2", input: "2. Second.\n3. Third.", reason: "NUMBERED_TEXT_INVALID"},
	{name: "empty", input: "", reason: "NUMBERED_TEXT_INVALID"},
	{name: "only blank lines", input: "\n \r\n\t\n", reason: "NUMBERED_TEXT_INVALID"},
	{name: "no number", input: "Just prose.", reason: "NUMBERED_TEXT_INVALID"},
	{name: "one byte too long", input: "1. " + strings.Repeat("a", workflow.MaxNumberedTextBytes-2), reason: "TEXT_TOO_LONG"},
	{name: "a point too long", input: "1. " + strings.Repeat("a", workflow.MaxPointTextBytes+1), reason: "TEXT_TOO_LONG"},
	{name: "not UTF-8", input: "1. Caf\xe9.", reason: "TEXT_NOT_UTF8"},
	{name: "the replacement character is text, not a control", input: "1. A name in an unknown script: \ufffd.",
		want: []string{"A name in an unknown script: \ufffd."}},
	{name: "a NUL", input: "1. First.\n2. Sec\x00ond.", reason: "TEXT_CONTROL_CHARACTER"},
	{name: "an escape sequence", input: "1. \x1b[1mBold\x1b[0m.", reason: "TEXT_CONTROL_CHARACTER"},
	{name: "an empty point", input: "1.\n2. Second.", reason: "TEXT_EMPTY"},
	{name: "one point too many", input: numbered(repeat("x", workflow.MaxPoints+1)), reason: "TOO_MANY_POINTS"},
}

func repeat(s string, count int) []string {
	out := make([]string, count)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestParseNumberedText(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := workflow.ParseNumberedText(tc.input)
			if tc.reason != "" {
				checkRefused(t, nil, err, workflow.EINVALID, tc.reason)
				if got != nil {
					t.Errorf("got %d points with the error", len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("points (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseNumberedTextLimit(t *testing.T) {
	points, err := workflow.ParseNumberedText(numbered(repeat("x", workflow.MaxPoints)))
	if err != nil || len(points) != workflow.MaxPoints {
		t.Fatalf("got %d points, error %v; want %d points", len(points), err, workflow.MaxPoints)
	}
}

func TestParseTheTwentyEightPoints(t *testing.T) {
	points, err := workflow.ParseNumberedText(demo.PlanText)
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 28 {
		t.Fatalf("got %d points, want 28", len(points))
	}
	subItems := func(text string) int {
		count := 0
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "—") {
				count++
			}
		}
		return count
	}
	for number, want := range map[int]int{1: 0, 10: 4, 12: 6, 13: 3, 21: 4, 24: 4, 28: 0} {
		if got := subItems(points[number-1]); got != want {
			t.Errorf("point %d has %d sub-items, want %d:\n%s", number, got, want, points[number-1])
		}
	}
	if want := "The sovereignty of Ukraine will be confirmed."; points[0] != want {
		t.Errorf("point 1 = %q, want %q", points[0], want)
	}
	if !strings.HasPrefix(points[27], "Once this memorandum is accepted by all parties") {
		t.Errorf("point 28 = %q", points[27])
	}
	// Every line of the file is in exactly one point, so the sub-items
	// counted over the points are those counted over the file.
	if got, want := subItems(strings.Join(points, "\n")), subItems(demo.PlanText); got != want {
		t.Errorf("points hold %d sub-items, the file %d", got, want)
	}
	// The file is written the way RenderDocument writes a document.
	if got := numbered(points); got != strings.TrimRight(demo.PlanText, "\n")+"\n" {
		t.Errorf("rendering the points does not give the file back")
	}
}

// FuzzParseNumberedText checks that parsing never panics, that every point it
// returns is a valid point text, and that writing the points down again as
// numbered text and parsing that gives the same points.
func FuzzParseNumberedText(f *testing.F) {
	f.Add(demo.PlanText)
	for _, tc := range parseCases {
		if len(tc.input) <= 1<<12 {
			f.Add(tc.input)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		points, err := workflow.ParseNumberedText(s)
		if err != nil {
			if code := workflow.ErrorCode(err); code != workflow.EINVALID {
				t.Fatalf("code %q: %v", code, err)
			}
			if points != nil {
				t.Fatalf("points returned with an error")
			}
			return
		}
		if len(points) == 0 {
			t.Fatalf("success without a point")
		}
		for i, p := range points {
			if err := workflow.ValidatePointText("point", p); err != nil {
				t.Fatalf("point %d %q: %v", i+1, p, err)
			}
			if n := workflow.NormalizeText(p); n != p {
				t.Fatalf("point %d %q is not normalized: %q", i+1, p, n)
			}
		}
		again, err := workflow.ParseNumberedText(numbered(points))
		if err != nil {
			t.Fatalf("parsing the rendered points: %v", err)
		}
		if d := cmp.Diff(points, again); d != "" {
			t.Fatalf("rendered and parsed again (-first +again):\n%s", d)
		}
	})
}

func TestNormalizeText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a", "a"},
		{"a\r\nb\rc\n", "a\nb\nc"},
		{"\n\n  \na  \t\nb\n\n", "a\nb"},
		{"a\n\n\nb", "a\n\n\nb"},
		{"  indented", "  indented"},
		{"", ""},
		{" \n\t\r\n", ""},
	} {
		if got := workflow.NormalizeText(tc.in); got != tc.want {
			t.Errorf("NormalizeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHashText(t *testing.T) {
	// The SHA-256 of the empty string and of "abc", from FIPS 180-2.
	for in, want := range map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	} {
		if got := workflow.HashText(in); got != want {
			t.Errorf("HashText(%q) = %s, want %s", in, got, want)
		}
	}
}

// numberedOfSize returns numbered text of exactly size bytes whose points are
// each valid: full points of 16,000 bytes, then what is left.
func numberedOfSize(tb testing.TB, size int) string {
	tb.Helper()
	var b strings.Builder
	for number := 1; ; number++ {
		prefix := fmt.Sprintf("%d. ", number)
		left := size - b.Len()
		if left-len(prefix) <= workflow.MaxPointTextBytes {
			b.WriteString(prefix + strings.Repeat("x", left-len(prefix)))
			break
		}
		// Leave at least a few bytes for the next point.
		text := min(16_000, left-len(prefix)-1-16)
		b.WriteString(prefix + strings.Repeat("x", text) + "\n")
	}
	if b.Len() != size {
		tb.Fatalf("numbered text of %d bytes, want %d", b.Len(), size)
	}
	return b.String()
}

// Every limit on a text is inclusive: a text of exactly the limit is taken,
// one byte more is refused with the limit's reason.
func TestTextLimits(t *testing.T) {
	create := func(mod func(c *workflow.CreateNegotiation, s string)) func(t *testing.T, s string) error {
		return func(t *testing.T, s string) error {
			c := validCreate()
			mod(&c, s)
			_, err := workflow.Decide(nil, workflow.Meta{Actor: admin}, c)
			return err
		}
	}
	// on runs a command made from s on a fresh fixture; prepare returns the
	// amendment the command acts on.
	on := func(actor string, prepare func(f *fixture) string, cmd func(id, s string) workflow.Command) func(t *testing.T, s string) error {
		return func(t *testing.T, s string) error {
			f := newFixture(t)
			id := ""
			if prepare != nil {
				id = prepare(f)
			}
			events, err := workflow.Decide(f.n, f.meta(actor), cmd(id, s))
			if err == nil && len(events) == 0 {
				t.Fatalf("no event and no error")
			}
			return err
		}
	}
	openAmendment := func(f *fixture) string { return f.propose(ukraine, workflow.KindReplace, "p1", "New.") }
	passedAmendment := func(f *fixture) string {
		id := openAmendment(f)
		f.pass(id)
		return id
	}
	tests := []struct {
		name   string
		limit  int
		reason string
		text   func(tb testing.TB, size int) string // nil: that many letters
		try    func(t *testing.T, s string) error
	}{
		{"title", workflow.MaxTitleBytes, "TITLE_INVALID", nil,
			create(func(c *workflow.CreateNegotiation, s string) { c.Title = s })},
		{"display name", workflow.MaxDisplayNameBytes, "DISPLAY_NAME_INVALID", nil,
			create(func(c *workflow.CreateNegotiation, s string) { c.Participants[0].DisplayName = s })},
		{"point text", workflow.MaxPointTextBytes, "TEXT_TOO_LONG", nil,
			create(func(c *workflow.CreateNegotiation, s string) { c.Points[1].Text = s })},
		{"amendment text", workflow.MaxPointTextBytes, "TEXT_TOO_LONG", nil,
			on(ukraine, nil, func(_, s string) workflow.Command {
				return workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindReplace, PointID: "p1", BaseRevision: 1, Text: s}
			})},
		{"rationale", workflow.MaxRationaleBytes, "RATIONALE_TOO_LONG", nil,
			on(ukraine, nil, func(_, s string) workflow.Command {
				return workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindReplace, PointID: "p1", BaseRevision: 1, Text: "New.", Rationale: s}
			})},
		{"reason of a vote", workflow.MaxReasonBytes, "REASON_TOO_LONG", nil,
			on(russia, openAmendment, func(id, s string) workflow.Command {
				return workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceReject, Reason: s}
			})},
		{"reason of a rejection", workflow.MaxReasonBytes, "REASON_TOO_LONG", nil,
			on(mediator, passedAmendment, func(id, s string) workflow.Command {
				return workflow.RejectAmendment{AmendmentID: id, Reason: s}
			})},
		{"numbered text", workflow.MaxNumberedTextBytes, "TEXT_TOO_LONG", numberedOfSize,
			func(t *testing.T, s string) error { _, err := workflow.ParseNumberedText(s); return err }},
	}
	for _, tt := range tests {
		text := tt.text
		if text == nil {
			text = func(_ testing.TB, size int) string { return strings.Repeat("é", size/2) + strings.Repeat("a", size%2) }
		}
		t.Run("OK/"+tt.name+" of the limit", func(t *testing.T) {
			s := text(t, tt.limit)
			if len(s) != tt.limit {
				t.Fatalf("test text of %d bytes, want %d", len(s), tt.limit)
			}
			if err := tt.try(t, s); err != nil {
				t.Fatalf("%s of exactly %d bytes: %v", tt.name, tt.limit, err)
			}
		})
		t.Run(errName(tt.reason)+"/"+tt.name+" one byte over", func(t *testing.T) {
			err := tt.try(t, text(t, tt.limit+1))
			checkRefused(t, nil, err, workflow.EINVALID, tt.reason)
		})
	}
}
