package workflow

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a negotiation may hold. They bound memory, message sizes and
// the time of any single command.
const (
	MaxTitleBytes        = 200
	MaxDisplayNameBytes  = 100
	MaxParticipants      = 64
	MaxWeight            = 1_000_000
	MaxPoints            = 10_000
	MaxPointTextBytes    = 16 << 10
	MaxNumberedTextBytes = 4 << 20
	MaxRationaleBytes    = 4 << 10
	MaxReasonBytes       = 1 << 10
	MaxCommentBytes      = 4 << 10
	MaxComments          = 100_000 // per negotiation
	MaxParticipantID     = 63
	MaxMembers           = 100 // named members of one participant, besides its default member
)

// HashText returns the lowercase hex SHA-256 of s.
func HashText(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// RenderDocument returns the consolidated text: each point of the document as
// its number, ". ", its text and a newline. Its hash is the document hash.
func (n *Negotiation) RenderDocument() string {
	var b strings.Builder
	for i, id := range n.Order {
		writePointLine(&b, i+1, n.Points[id].Current().Text)
	}
	return b.String()
}

// NormalizeText turns CRLF and CR line ends into LF, removes white space at
// the end of each line and blank lines at the start and end, so that the same
// text typed on two systems hashes the same.
func NormalizeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = strings.TrimRightFunc(line, unicode.IsSpace)
	}
	s = strings.Join(lines, "\n")
	return strings.Trim(s, "\n")
}

// ValidatePointText checks a point's text after normalization: non-empty,
// valid UTF-8, no control characters but newline and tab, and at most
// MaxPointTextBytes. what names the text in the error message.
func ValidatePointText(what, text string) error {
	if !utf8.ValidString(text) {
		return Errorf(EINVALID, "TEXT_NOT_UTF8", "%s is not valid UTF-8", what)
	}
	if strings.TrimSpace(text) == "" {
		return Errorf(EINVALID, "TEXT_EMPTY", "%s is empty", what)
	}
	if len(text) > MaxPointTextBytes {
		return Errorf(EINVALID, "TEXT_TOO_LONG", "%s is %d bytes; the limit is %d", what, len(text), MaxPointTextBytes)
	}
	return checkControl(what, text)
}

// validateFreeText checks an optional free text (rationale, reason): valid
// UTF-8, no control characters but newline and tab, at most max bytes.
func validateFreeText(what, reasonTooLong, text string, max int) error {
	if !utf8.ValidString(text) {
		return Errorf(EINVALID, "TEXT_NOT_UTF8", "%s is not valid UTF-8", what)
	}
	if len(text) > max {
		return Errorf(EINVALID, reasonTooLong, "%s is %d bytes; the limit is %d", what, len(text), max)
	}
	return checkControl(what, text)
}

func checkControl(what, text string) error {
	for i, r := range text {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return Errorf(EINVALID, "TEXT_CONTROL_CHARACTER", "%s holds the control character %U at byte %d", what, r, i)
		}
	}
	return nil
}

// ParseNumberedText splits plain numbered text into point texts.
//
// A line that starts with the next number, a dot and white space ("1. ",
// "2. ", …) starts a point; every other line belongs to the point above it, so
// sub-items such as lines starting with an em dash stay with their point. A
// line that starts with any other number ("2022. was…") is text, not a new
// point, which keeps numbering unambiguous. Blank lines before the first point
// are ignored; any other text there is an error. Each point's text is
// normalized, stripped of white space at its start, and validated like any
// point text.
func ParseNumberedText(s string) ([]string, error) {
	if len(s) > MaxNumberedTextBytes {
		return nil, Errorf(EINVALID, "TEXT_TOO_LONG", "numbered text is %d bytes; the limit is %d", len(s), MaxNumberedTextBytes)
	}
	if !utf8.ValidString(s) {
		return nil, Errorf(EINVALID, "TEXT_NOT_UTF8", "numbered text is not valid UTF-8")
	}
	var points []string
	var current strings.Builder
	started := 0 // points started so far
	// A lone CR ends a line here as it does in NormalizeText: were it kept
	// inside a line, a point starting after it would come back as one when
	// the parsed points are written down again.
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	for lineNo, line := range strings.Split(s, "\n") {
		if rest, ok := startsPoint(line, started+1); ok {
			if started > 0 {
				points = append(points, pointText(current.String()))
			}
			current.Reset()
			current.WriteString(rest)
			started++
			continue
		}
		if started == 0 {
			if strings.TrimSpace(line) == "" {
				continue
			}
			return nil, Errorf(EINVALID, "NUMBERED_TEXT_INVALID", "line %d comes before point 1: %.40q", lineNo+1, line)
		}
		current.WriteByte('\n')
		current.WriteString(line)
	}
	if started == 0 {
		return nil, Errorf(EINVALID, "NUMBERED_TEXT_INVALID", "numbered text holds no point: the first point must start with \"1. \"")
	}
	points = append(points, pointText(current.String()))
	if len(points) > MaxPoints {
		return nil, Errorf(EINVALID, "TOO_MANY_POINTS", "numbered text holds %d points; the limit is %d", len(points), MaxPoints)
	}
	for i, text := range points {
		if err := ValidatePointText("point "+strconv.Itoa(i+1), text); err != nil {
			return nil, err
		}
	}
	return points, nil
}

// pointText normalizes the text gathered for one point. White space at its
// start goes too: it can only come from a first line below the number
// ("1." then "   text"), and written after "1. " it would be lost when the
// text is parsed again, giving another text and another hash.
func pointText(s string) string {
	return strings.TrimLeftFunc(NormalizeText(s), unicode.IsSpace)
}

// startsPoint reports whether line starts point number want, and returns the
// rest of the line after the number, the dot and the white space.
func startsPoint(line string, want int) (string, bool) {
	trimmed := strings.TrimLeft(line, " \t")
	prefix := strconv.Itoa(want) + "."
	if !strings.HasPrefix(trimmed, prefix) {
		return "", false
	}
	rest := trimmed[len(prefix):]
	if rest == "" {
		return "", true
	}
	r, size := utf8.DecodeRuneInString(rest)
	if !unicode.IsSpace(r) {
		return "", false
	}
	return strings.TrimLeftFunc(rest[size:], unicode.IsSpace), true
}
