package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// style colours output for a terminal, and does nothing otherwise.
type style struct{ color bool }

func (s style) wrap(code, text string) string {
	if !s.color || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) bold(t string) string   { return s.wrap("1", t) }
func (s style) dim(t string) string    { return s.wrap("2", t) }
func (s style) green(t string) string  { return s.wrap("32", t) }
func (s style) yellow(t string) string { return s.wrap("33", t) }

// The output of -o json follows one convention, the API's own JSON mapping
// (protojson), for every command (docs/cli.md): field names in lowerCamelCase,
// enumerated values in UPPER_SNAKE (the API's enums by their full name),
// 64-bit integers as strings, times in RFC 3339, every field present. A
// command prints one JSON object; log and watch print one object per line.
// Views the API has no message for (status, diff, verify, profiles) are Go
// structs whose tags follow the same rules.

// printJSON writes v, a proto message or a struct following the convention,
// as one indented JSON object.
func printJSON(w io.Writer, v any) error {
	raw, err := marshalJSON(v)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// printJSONLine writes v as one line of JSON, for streams.
func printJSONLine(w io.Writer, v any) error {
	raw, err := marshalJSON(v)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

func marshalJSON(v any) ([]byte, error) {
	if m, ok := v.(proto.Message); ok {
		return protoJSON.Marshal(m)
	}
	return json.Marshal(v)
}

var protoJSON = protojson.MarshalOptions{EmitUnpopulated: true}

// apiJSON embeds an API message in a struct printed with printJSON.
type apiJSON struct{ proto.Message }

func (m apiJSON) MarshalJSON() ([]byte, error) { return protoJSON.Marshal(m.Message) }

// apiJSONList embeds a list of API messages.
func apiJSONList[M proto.Message](list []M) []apiJSON {
	out := make([]apiJSON, len(list))
	for i, m := range list {
		out[i] = apiJSON{m}
	}
	return out
}

// table returns a tab-separated table writer; call Flush.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// lastPart returns the id at the end of a resource name.
func lastPart(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// shortIDLen is how much of an amendment id is shown, as git shows commits.
const shortIDLen = 8

// shortID returns the first characters of the id at the end of a name.
func shortID(name string) string {
	id := lastPart(name)
	if len(id) > shortIDLen {
		return id[:shortIDLen]
	}
	return id
}

// shortHash abbreviates a SHA-256 for tables; full hashes appear where a
// person is asked to compare or accept one.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func kindName(k parleyv1.AmendmentKind) string {
	return strings.TrimPrefix(k.String(), "AMENDMENT_KIND_")
}

func stateName(s parleyv1.AmendmentState) string {
	return strings.TrimPrefix(s.String(), "AMENDMENT_STATE_")
}

func choiceName(c parleyv1.VoteChoice) string {
	return strings.TrimPrefix(c.String(), "VOTE_CHOICE_")
}

func roleName(r parleyv1.Role) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "ROLE_"))
}

func negotiationState(s parleyv1.NegotiationState) string {
	return strings.TrimPrefix(s.String(), "NEGOTIATION_STATE_")
}

func pointStatus(s parleyv1.PointStatus) string {
	return strings.TrimPrefix(s.String(), "POINT_STATUS_")
}

// ruleText describes a decision rule.
func ruleText(r *parleyv1.DecisionRule) string {
	s := strings.ToLower(strings.TrimPrefix(r.GetMethod().String(), "DECISION_METHOD_"))
	if r.GetMethod() == parleyv1.DecisionMethod_DECISION_METHOD_QUALIFIED {
		s += fmt.Sprintf(" (%s%% of the weight)", strconv.FormatFloat(float64(r.GetThresholdBasisPoints())/100, 'f', -1, 64))
	}
	if r.GetQuorum() > 0 {
		s += fmt.Sprintf(", quorum %d", r.GetQuorum())
	}
	return s
}

// timeText shows a time in UTC to the second.
func timeText(t *timestamppb.Timestamp) string {
	if t == nil {
		return "-"
	}
	return t.AsTime().UTC().Format(time.DateTime + "Z")
}

// delegations returns the ids of a negotiation's delegations, in order.
func delegations(n *parleyv1.Negotiation) []string {
	var out []string
	for _, p := range n.GetParticipants() {
		if p.GetRole() == parleyv1.Role_ROLE_DELEGATION {
			out = append(out, p.GetId())
		}
	}
	return out
}

// firstLine returns the first line of a text, cut to max characters.
func firstLine(text string, max int) string {
	line, _, more := strings.Cut(text, "\n")
	return truncate(line, max, more)
}

// truncate cuts s to max characters, marking a cut with an ellipsis; more
// says that s was already cut from a longer text.
func truncate(s string, max int, more bool) string {
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	if more {
		return s + " …"
	}
	return s
}

// pad pads s with spaces to width characters, counting runes.
func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// padLeft right-aligns s in width characters.
func padLeft(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return strings.Repeat(" ", width-n) + s
	}
	return s
}

// center centres s in width characters.
func center(s string, width int) string {
	n := utf8.RuneCountInString(s)
	if n >= width {
		return s
	}
	left := (width - n) / 2
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", width-n-left)
}

// numberRanges writes sorted numbers compactly: "2-5, 7, 9-28".
func numberRanges(nums []int) string {
	var parts []string
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(nums[i]))
		default:
			parts = append(parts, fmt.Sprintf("%d-%d", nums[i], nums[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// plural returns "1 point" or "2 points".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// ofCount returns "1 of 4 delegations has" or "2 of 4 delegations have":
// the verb agrees with the first number.
func ofCount(n, total int, one, many string) string {
	noun, verb, _ := strings.Cut(many, " ")
	if n == 1 {
		_, verb, _ = strings.Cut(one, " ")
	}
	return fmt.Sprintf("%d of %d %s %s", n, total, noun, verb)
}

// indent prefixes every line but the first of text.
func indent(text, prefix string) string {
	return strings.ReplaceAll(text, "\n", "\n"+prefix)
}
