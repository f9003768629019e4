package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-negotiation/parley/server/servertest"
)

// TestPackageDealAndCounterProposal is the end-to-end test of issue 14's
// package deals, through the parley binary against a real parleyd: on the
// 28-point plan, Ukraine trades point 6 for point 19 in one package deal
// while Russia's rival text of point 19 waits in the brackets, and a
// counter-proposal on point 7 answers Ukraine's own text; the package is
// voted once and applied by one event (Russia's rival goes stale), the
// counter-proposal wins point 7, and the negotiation reaches CONCLUDED. Then
// the status, the export's record and the log show the package with all its
// parts, and the log verifies.
func TestPackageDealAndCounterProposal(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	delegations := []string{"ukraine", "russia", "united-states", "europe"}
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
	c.ok("login", "--server", s.Addr, "--token", s.AdminToken)
	c.ok("negotiations", "create", "--title", "28-point peace plan", "--file", planFile,
		"--delegation", "ukraine=Ukraine", "--delegation", "russia=Russia", "--delegation", "united-states=United States",
		"--delegation", "europe=Europe", "--mediator", "mediator=Mediator", "--rule", "consensus")
	c.ok(append([]string{"token", "issue", "mediator", "--save-profiles"}, delegations...)...)
	c.ok("use", "ukraine")

	// Russia drafts its own point 19 first; then Ukraine's package trades
	// point 6 for point 19.
	const six = "The size of the Armed Forces of Ukraine will be limited to 800,000 troops in peacetime."
	const nineteen = "The Zaporizhzhia nuclear power plant will be run under IAEA supervision, its electricity shared equally."
	rival := id(c.ok("--profile", "russia", "amend", "replace", "19", "--text", "The plant goes to Russia.", "-o", "json"))
	out := c.ok("amend", "package", "--part", "replace 6: "+six, "--part", "replace 19@1: "+nineteen,
		"--rationale", "We give on 19 if you give on 6.")
	contains("package proposed", out, "PACKAGE of 2: REPLACE point 6 + REPLACE point 19", "Part 1: REPLACE point 6 (against revision 1):",
		"{+800,000+}", "Part 2: REPLACE point 19 (against revision 1):", "vote on the whole package")
	pkg := strings.TrimSuffix(strings.Fields(strings.TrimPrefix(out, "Proposed "))[0], ":")

	// Bad packages are refused, by the command line or by the server.
	if line := c.fails(ExitUsage, "amend", "package", "--part", "replace 6: Alone."); !strings.Contains(line, "at least two parts") {
		t.Fatalf("a package of one part: %s", line)
	}
	if line := c.fails(ExitUsage, "amend", "package", "--part", "replace 6 Without a colon.", "--part", "delete 19"); !strings.Contains(line, "--part") {
		t.Fatalf("a part without its text: %s", line)
	}
	if line := c.fails(ExitFailed, "amend", "package", "--part", "replace 6: Six again.", "--part", "delete 6"); !strings.Contains(line, "PACKAGE_DUPLICATE_POINT") {
		t.Fatalf("two parts on point 6: %s", line)
	}
	parts := filepath.Join(c.dir, "parts.json")
	if err := os.WriteFile(parts, []byte(`[{"kind": "insert", "point": 28, "text": "Line one.\nLine two."}, {"kind": "delete", "point": "99"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if line := c.fails(ExitUsage, "amend", "package", "--parts-file", parts); !strings.Contains(line, "part 2") || !strings.Contains(line, "99") {
		t.Fatalf("a parts file naming point 99: %s", line)
	}

	// A package from a file, for a text of several lines; withdrawn again.
	if err := os.WriteFile(parts, []byte(`[{"kind": "insert", "point": 28, "text": "Line one.\nLine two."}, {"kind": "delete", "point": "27", "base_revision": 1}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	out = c.ok("amend", "package", "--parts-file", parts, "-o", "json")
	fromFile := id(out)
	contains("package from a file", out, `"text": "Line one.\nLine two."`, "AMENDMENT_KIND_DELETE")
	contains("withdraw", c.ok("withdraw", fromFile), "Withdrew")

	// A counter-proposal on point 7: Russia answers Ukraine's text.
	seven := id(c.ok("amend", "replace", "7", "--text", "Ukraine will not join NATO while this agreement holds.", "-o", "json"))
	counter := id(c.ok("--profile", "russia", "amend", "replace", "7", "--text", "Ukraine will never join NATO.", "--counter-to", seven, "-o", "json"))

	// The brackets of 6, 7 and 19; the lists show the package's parts.
	doc := c.ok("doc")
	contains("doc", doc, "(ukraine, "+pkg+", part of a package of 2)", "(russia, "+rival+")", "(russia, "+counter+", counter to A)")
	contains("amendments", c.ok("amendments", "--kind", "package"), "PACKAGE", "6, 19")
	contains("amendments of point 19", c.ok("amendments", "--point", "19"), rival, pkg)
	contains("amendment", c.ok("amendment", pkg), "PACKAGE of 2", "Part 1: REPLACE point 6", "Part 2: REPLACE point 19", "We give on 19")
	contains("status", c.ok("--profile", "mediator", "status"), "PACKAGE of 2: REPLACE point 6 + REPLACE point 19")

	// Voted once, applied at once.
	for _, d := range delegations {
		c.ok("--profile", d, "vote", "approve", pkg)
		c.ok("--profile", d, "vote", "approve", counter)
	}
	out = c.ok("--profile", "mediator", "apply", pkg)
	contains("apply the package", out, "all 2 parts at once", "point 6 is now at revision 2", "point 19 is now at revision 2", "Now stale", rival)
	contains("apply the counter", c.ok("--profile", "mediator", "apply", counter), "point 7 is now at revision 2", seven)
	for _, stale := range []string{rival, seven} {
		contains("stale "+stale, c.ok("amendment", stale), "STALE")
	}
	contains("doc after", c.ok("doc"), six, nineteen, "Ukraine will never join NATO.")

	// Everyone signs off and accepts: CONCLUDED.
	for _, d := range delegations {
		c.ok("--profile", d, "sign-off", "--all")
	}
	for _, d := range delegations[:3] {
		c.ok("--profile", d, "accept")
	}
	contains("last acceptance", c.ok("--profile", "europe", "accept"), "CONCLUDED")

	// The record, the log and the verification see the package whole.
	md := c.ok("export", "--format", "markdown")
	contains("markdown export", md, "PACKAGE of 2: REPLACE point 6 + REPLACE point 19 · APPLIED",
		"Part 1, REPLACE point 6 (against revision 1): "+six, "Part 2, REPLACE point 19 (against revision 1): "+nineteen,
		"Outcome: stale — A2 changed the point first")
	log := c.ok("log")
	contains("log", log, "PACKAGE of 2: REPLACE point 6 (revision 1) + REPLACE point 19 (revision 1)",
		"applied "+pkg+", all at once: point 6 now at revision 2; point 19 now at revision 2")
	contains("verify", c.ok("verify"), "\nverified\n")
}
