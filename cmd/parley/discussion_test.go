package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-negotiation/parley/server/servertest"
)

// TestCounterProposalAndDiscussion plays, through the parley binary against a
// real parleyd, a counter-proposal on point 7 answered by a mediator's
// compromise, with a discussion around it, to CONCLUDED; then checks the
// brackets, the discussion, the record in the export, and that the log
// verifies.
func TestCounterProposalAndDiscussion(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	text := filepath.Join(c.dir, "text.txt")
	var b strings.Builder
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, "%d. Point %d as drafted.\n", i, i)
	}
	if err := os.WriteFile(text, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("login", "--server", s.Addr, "--token", s.AdminToken)
	c.ok("negotiations", "create", "--title", "Eight points", "--file", text, "--delegation", "ukraine=Ukraine",
		"--delegation", "russia=Russia", "--mediator", "mediator=Mediator", "--observer", "press=Press", "--rule", "consensus")
	c.ok("token", "issue", "ukraine", "russia", "mediator", "press", "--save-profiles")
	c.ok("use", "ukraine")
	id := func(out string) string {
		t.Helper()
		return lastPart(jsonField(t, out, "name"))[:shortIDLen]
	}
	contains := func(what, out string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Fatalf("%s lacks %q:\n%s", what, w, out)
			}
		}
	}

	// Ukraine proposes a text for point 7; Russia answers with another; the
	// mediator answers Russia with a compromise.
	a := id(c.ok("amend", "replace", "7", "--text", "Point 7, as Ukraine would have it.", "-o", "json"))
	r := id(c.ok("--profile", "russia", "amend", "replace", "7", "--text", "Point 7, as Russia would have it.", "--counter-to", a, "-o", "json"))
	out := c.ok("--profile", "mediator", "amend", "replace", "7", "--text", "Point 7, a compromise.", "--counter-to", r,
		"--rationale", "Between the two")
	contains("the mediator's proposal", out, ", countering "+r, "marked as the mediator's proposal")
	m := strings.Fields(strings.TrimPrefix(out, "Proposed "))[0]
	m = strings.TrimSuffix(m, ":")
	// A counter to what is not there is refused.
	if line := c.fails(ExitFailed, "--profile", "russia", "amend", "replace", "6", "--text", "Six.", "--counter-to", a); !strings.Contains(line, "COUNTER_POINT_MISMATCH") {
		t.Fatalf("counter on another point: %s", line)
	}

	// The brackets: doc, status and point show the competing texts.
	contains("doc", c.ok("doc"), "[current | A: “Point 7, as Ukraine would have it.” (ukraine, "+a+")",
		"| B: “Point 7, as Russia would have it.” (russia, "+r+", counter to A)",
		"| C: “Point 7, a compromise.” (mediator's proposal (mediator), "+m+", counter to B)]")
	contains("status", c.ok("--profile", "mediator", "status"), "In brackets, a text to choose (1 point):", "point 7  [current | A: ")
	contains("amendments", c.ok("amendments", "--point", "7"), "russia ↩"+a, "mediator (mediator) ↩"+r)

	// The discussion: a question, a reply, a remark on the compromise, and a
	// comment retracted by its author.
	q := id(c.ok("--profile", "russia", "comment", "--point", "7", "Why should point 7 change at all?", "-o", "json"))
	c.ok("comment", "--reply", q, "Because it is vague.")
	c.ok("--profile", "mediator", "comment", "--amendment", m, "This keeps both concerns.")
	oops := id(c.ok("comment", "--point", "7", "A remark made in haste.", "-o", "json"))
	if line := c.fails(ExitAuth, "--profile", "russia", "retract", oops); !strings.Contains(line, "NOT_AUTHOR") {
		t.Fatalf("retracting another's comment: %s", line)
	}
	if line := c.fails(ExitAuth, "--profile", "press", "comment", "--point", "7", "Our view."); !strings.Contains(line, "ROLE_NOT_ALLOWED") {
		t.Fatalf("an observer comments: %s", line)
	}
	contains("retract", c.ok("retract", oops), "Retracted "+oops)
	if line := c.fails(ExitFailed, "--profile", "russia", "comment", "--reply", oops, "And?"); !strings.Contains(line, "COMMENT_RETRACTED") {
		t.Fatalf("reply to a retracted comment: %s", line)
	}
	contains("comments of point 7", c.ok("--profile", "press", "comments", "--point", "7"),
		"On point 7", q+" russia", "↳ ", "ukraine", "Because it is vague.", oops+" ukraine", "(retracted by its author)")
	if out := c.ok("--profile", "press", "comments", "--point", "7"); strings.Contains(out, "in haste") {
		t.Fatalf("a retracted comment's text is listed:\n%s", out)
	}
	contains("amendment", c.ok("amendment", m), "the mediator's proposal", "Counter-proposal to "+r, "Discussion:", "This keeps both concerns.")

	// The delegations take the compromise; applying it makes the rest stale.
	c.ok("vote", "approve", m)
	c.ok("--profile", "russia", "vote", "approve", m)
	contains("apply", c.ok("--profile", "mediator", "apply", m), "point 7 is now at revision 2")
	for _, stale := range []string{a, r} {
		contains("stale "+stale, c.ok("amendment", stale), "STALE")
	}
	if out := c.ok("doc"); strings.Contains(out, "[current") {
		t.Fatalf("brackets left after the choice:\n%s", out)
	}
	for _, d := range []string{"ukraine", "russia"} {
		c.ok("--profile", d, "sign-off", "--all")
	}
	c.ok("accept")
	contains("last acceptance", c.ok("--profile", "russia", "accept"), "CONCLUDED")

	// The record: every amendment with its votes, discussion and outcome.
	md := c.ok("export", "--format", "markdown")
	contains("markdown export", md, "## Annex: the record of amendments",
		"### A1 · REPLACE point 7 · STALE", "Outcome: stale — A3 changed the point first",
		"### A2 · REPLACE point 7 · STALE", "Counter-proposal to A1",
		"### A3 · REPLACE point 7 · APPLIED", "Proposed by mediator (the mediator's proposal)", "Counter-proposal to A2",
		"Rationale: Between the two", "ukraine: APPROVE", "Outcome: applied to the text",
		"mediator (event ", "This keeps both concerns.",
		"## Annex: the discussion of points", "### Point 7", "russia (event ", "Why should point 7 change at all?",
		"reply: ukraine (event ", "(retracted by its author)")
	if strings.Contains(md, "in haste") {
		t.Fatal("the export shows a retracted comment's text")
	}
	contains("html export", c.ok("export", "--format", "html"), "<h2>Annex: the record of amendments</h2>", "This keeps both concerns.")

	// The log, comments included, verifies and rebuilds the served state.
	contains("verify", c.ok("verify"), "\nverified\n")
	log := c.ok("log")
	contains("log", log, "commented "+q+" on point 7: Why should point 7 change at all?", "retracted the comment "+oops, ", countering "+a)
}
