package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-negotiation/parley/server/servertest"
)

// TestRebaseThroughCLI re-proposes stale amendments through the parley
// binary against a real parleyd: one whose change is apart from the change
// applied since merges, is voted and applied, and the log verifies; one that
// overlaps is refused with its conflict shown, in words and in JSON.
func TestRebaseThroughCLI(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	text := filepath.Join(c.dir, "text.txt")
	if err := os.WriteFile(text, []byte("1. The ceasefire starts on signature.\n2. Prisoners are exchanged.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("login", "--server", s.Addr, "--token", s.AdminToken)
	c.ok("negotiations", "create", "--title", "Two points", "--file", text, "--delegation", "ukraine=Ukraine",
		"--delegation", "russia=Russia", "--mediator", "mediator=Mediator", "--rule", "consensus")
	c.ok("token", "issue", "ukraine", "russia", "mediator", "--save-profiles")
	c.ok("use", "ukraine")
	id := func(out string) string {
		t.Helper()
		return lastPart(jsonField(t, out, "name"))[:shortIDLen]
	}
	apart := id(c.ok("amend", "replace", "1", "--text", "The full ceasefire starts on signature.", "--rationale", "Say it is full.", "-o", "json"))
	overlapping := id(c.ok("amend", "replace", "1", "--text", "The ceasefire starts on ratification.", "-o", "json"))
	theirs := id(c.ok("--profile", "russia", "amend", "replace", "1", "--text", "The ceasefire starts on signature by all parties.", "-o", "json"))
	c.ok("vote", "approve", theirs)
	c.ok("--profile", "russia", "vote", "approve", theirs)
	c.ok("--profile", "mediator", "apply", theirs)

	out := c.ok("amend", "rebase", apart)
	for _, want := range []string{"Re-proposed " + apart + " as ", "merged onto revision 2", "Voting is OPEN", "parley vote approve"} {
		if !strings.Contains(out, want) {
			t.Fatalf("rebase output lacks %q:\n%s", want, out)
		}
	}
	rebased := strings.TrimSuffix(strings.Fields(out)[3], ":")

	r := c.run("amend", "rebase", overlapping)
	if r.code != ExitFailed {
		t.Fatalf("overlapping rebase: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"overlap in 1 place", "at word 5", `it read:  "signature"`, `yours:    "ratification"`,
		`theirs:   "signature by all parties"`, "Redraft against revision 2 with 'parley amend replace 1'", "REBASE_CONFLICT"} {
		if !strings.Contains(r.stderr, want) {
			t.Fatalf("conflict shown lacks %q:\n%s", want, r.stderr)
		}
	}
	r = c.run("amend", "rebase", overlapping, "-o", "json")
	if r.code != ExitFailed || !strings.Contains(r.stderr, `"reason":"REBASE_CONFLICT"`) || !strings.Contains(r.stderr, `"conflict1Yours":"ratification"`) {
		t.Fatalf("overlapping rebase in JSON: exit %d\n%s", r.code, r.stderr)
	}
	if line := c.fails(ExitAuth, "--profile", "russia", "amend", "rebase", apart); !strings.Contains(line, "NOT_PROPOSER") {
		t.Fatalf("russia rebases ukraine's: %s", line)
	}

	c.ok("vote", "approve", rebased)
	c.ok("--profile", "russia", "vote", "approve", rebased)
	c.ok("--profile", "mediator", "apply", rebased)
	if doc := c.ok("doc"); !strings.Contains(doc, "The full ceasefire starts on signature by all parties.") {
		t.Fatalf("document after the rebased amendment:\n%s", doc)
	}
	c.ok("verify")
}
