package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/servertest"
)

// planFile is the 28-point plan the demo uses.
var planFile, _ = filepath.Abs(filepath.Join("..", "..", "server", "demo", "28-point-plan.txt"))

// jsonField reads one top-level string field of a JSON object.
func jsonField(t *testing.T, raw, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}
	s, _ := m[field].(string)
	return s
}

// TestNegotiation drives a short negotiation end to end with the parley
// binary against a real parleyd: create from the 28-point file, issue
// tokens, amend, vote, close, apply, sign off, accept.
func TestNegotiation(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	norm := &normalizer{}
	amendID := func(out string, label string) string {
		t.Helper()
		name := jsonField(t, out, "name")
		id := lastPart(name)
		norm.id(id, fmt.Sprintf("%s-0000-0000-0000-000000000000", label))
		return id[:shortIDLen]
	}

	// The administrator logs in and creates the negotiation.
	out := c.ok("login", "--server", s.Addr, "--token", s.AdminToken)
	if !strings.Contains(out, "as the administrator") || !strings.Contains(out, `Saved profile "admin"`) {
		t.Fatalf("admin login:\n%s", out)
	}
	out = c.ok("negotiations", "create", "--title", "28-point peace plan", "--file", planFile,
		"--delegation", "ukraine=Ukraine", "--delegation", "russia=Russia", "--delegation", "united-states=United States",
		"--delegation", "europe=Europe", "--mediator", "mediator=Mediator", "--rule", "consensus", "-o", "json")
	name := jsonField(t, out, "name")
	if !strings.HasPrefix(name, "negotiations/") {
		t.Fatalf("create: %s", out)
	}
	out = c.ok("token", "issue", "ukraine", "russia", "united-states", "europe", "mediator", "--save-profiles")
	if strings.Count(out, "prl_") != 5 {
		t.Fatalf("token issue:\n%s", out)
	}
	out = c.ok("negotiations")
	if !strings.Contains(out, name) || !strings.Contains(out, "28-point peace plan") {
		t.Fatalf("negotiations:\n%s", out)
	}
	c.ok("use", "ukraine")
	if out := c.ok("whoami"); !strings.HasPrefix(out, "ukraine (Ukraine), delegation in "+name) {
		t.Fatalf("whoami: %s", out)
	}

	// The mediator watches the log from the start until the negotiation
	// concludes, as JSON lines.
	watch := exec.Command(c.bin, "--profile", "mediator", "watch", "--after", "0", "--until-concluded", "-o", "json")
	watch.Env, watch.Dir = c.env, c.dir
	watchOut, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer watch.Process.Kill()
	watched := make(chan []int64, 1)
	go func() {
		var seqs []int64
		sc := bufio.NewScanner(watchOut)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var rec struct {
				Sequence string `json:"sequence"`
			}
			json.Unmarshal(sc.Bytes(), &rec)
			var n int64
			fmt.Sscan(rec.Sequence, &n)
			seqs = append(seqs, n)
		}
		watched <- seqs
	}()

	// Russia signs off point 6 as it stands; the amendment will make that stale.
	c.ok("--profile", "russia", "sign-off", "6")

	// Ukraine proposes to replace point 6; every delegation approves.
	out = c.ok("amend", "replace", "6", "--text", "The size of the Armed Forces of Ukraine will be limited to 800,000 troops in peacetime.",
		"--rationale", "600,000 leaves the country exposed", "-o", "json")
	six := amendID(out, "amend001")
	for _, d := range []string{"russia", "united-states", "europe"} {
		c.ok("--profile", d, "vote", "approve", six)
	}
	if out := c.ok("vote", "approve", six); !strings.Contains(out, "Voting closed: PASSED (approve 4, reject 0, abstain 0, not voted 0)") {
		t.Fatalf("last vote:\n%s", out)
	}
	// Too late to vote: one line, the reason, a non-zero exit.
	if line := c.fails(ExitFailed, "--profile", "russia", "vote", "reject", six, "--reason", "on reflection, no"); line !=
		"parley: vote: voting on this amendment has closed: it is PASSED (FAILED_PRECONDITION VOTING_CLOSED)" {
		t.Fatalf("late vote: %s", line)
	}

	// Russia proposes to delete point 9; the mediator closes the vote early.
	del := amendID(c.ok("--profile", "russia", "amend", "delete", "9", "--rationale", "Not a matter for this text", "-o", "json"), "amend002")
	c.ok("--profile", "ukraine", "vote", "approve", del)
	if out := c.ok("--profile", "mediator", "close-vote", del); !strings.Contains(out, "Voting closed: PASSED") {
		t.Fatalf("close-vote:\n%s", out)
	}
	// Europe proposes a new point after 12; all approve.
	ins := amendID(c.ok("--profile", "europe", "amend", "insert", "--after", "12", "--text",
		"An independent board audits the use of every reconstruction fund.", "-o", "json"), "amend003")
	for _, d := range []string{"ukraine", "russia", "united-states", "europe"} {
		c.ok("--profile", d, "vote", "approve", ins)
	}
	// Europe proposes to change point 21; Russia rejects, so it fails.
	failed := amendID(c.ok("--profile", "europe", "amend", "replace", "21", "--text", "Territories: to be settled by negotiation.", "-o", "json"), "amend004")
	c.ok("--profile", "russia", "vote", "reject", failed, "--reason", "The territorial clauses stay as drafted")
	for _, d := range []string{"ukraine", "united-states"} {
		c.ok("--profile", d, "vote", "approve", failed)
	}
	if out := c.ok("--profile", "europe", "vote", "approve", failed); !strings.Contains(out, "Voting closed: FAILED") {
		t.Fatalf("vote on 21:\n%s", out)
	}
	// A mediator cannot apply what failed.
	if line := c.fails(ExitFailed, "--profile", "mediator", "apply", failed); !strings.Contains(line, "(FAILED_PRECONDITION AMENDMENT_NOT_PASSED)") {
		t.Fatalf("apply a failed amendment: %s", line)
	}
	// A delegation cannot apply anything.
	if line := c.fails(ExitAuth, "apply", six); !strings.Contains(line, "PERMISSION_DENIED ROLE_NOT_ALLOWED") {
		t.Fatalf("delegation applies: %s", line)
	}

	// The mediator applies the three that passed.
	if out := c.ok("--profile", "mediator", "apply", six); !strings.Contains(out, "point 6 is now at revision 2") ||
		!strings.Contains(out, "The sign-offs of russia are now stale: they sign off point 6 again.") {
		t.Fatalf("apply replace:\n%s", out)
	}
	if out := c.ok("--profile", "mediator", "apply", del); !strings.Contains(out, "deleted point 9") {
		t.Fatalf("apply delete:\n%s", out)
	}
	if out := c.ok("--profile", "mediator", "apply", ins); !strings.Contains(out, "inserted point 12") {
		t.Fatalf("apply insert:\n%s", out)
	}

	// Sign-offs under way, and one amendment still open, for the status view.
	c.ok("sign-off", "--all")
	c.ok("--profile", "europe", "sign-off", "1", "2", "3", "6")
	pending := amendID(c.ok("--profile", "united-states", "amend", "replace", "25", "--text",
		"Ukraine will hold elections within 180 days.", "-o", "json"), "amend005")
	c.ok("--profile", "ukraine", "vote", "approve", pending)

	golden(t, "status.golden", norm.apply(c.ok("--profile", "mediator", "status")))
	golden(t, "diff-point.golden", c.ok("diff", "6"))
	golden(t, "diff-document.golden", c.ok("diff"))
	if out := c.ok("diff", "6", "--color", "always"); !strings.Contains(out, "\x1b[31;9m600,000\x1b[0m\x1b[32;4m800,000\x1b[0m") {
		t.Fatalf("coloured diff: %q", out)
	}
	if out := c.ok("amendments", "--state", "open"); !strings.Contains(out, pending) || strings.Contains(out, six) {
		t.Fatalf("amendments --state open:\n%s", out)
	}
	if out := c.ok("amendment", pending[:5]); !strings.Contains(out, "[-in 100-]{+within 180+} days") {
		t.Fatalf("amendment by prefix:\n%s", out)
	}
	if out := c.ok("point", "6"); !strings.Contains(out, "Stale, at earlier revisions:  russia (r1)") {
		t.Fatalf("point 6:\n%s", out)
	}

	// Acceptance is refused while something blocks it.
	if line := c.fails(ExitFailed, "accept"); !strings.Contains(line, "AMENDMENTS_PENDING") {
		t.Fatalf("early accept: %s", line)
	}
	c.ok("--profile", "united-states", "withdraw", pending)
	for _, d := range []string{"ukraine", "russia", "united-states", "europe"} {
		c.ok("--profile", d, "sign-off", "--all")
	}

	// The document hash is the SHA-256 of the consolidated text.
	var doc struct {
		Points []struct {
			Status string `json:"status"`
		} `json:"points"`
		DocumentSha256 string `json:"documentSha256"`
	}
	if err := json.Unmarshal([]byte(c.ok("doc", "-o", "json")), &doc); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(c.ok("doc", "--text")))
	if len(doc.Points) != 28 || doc.Points[27].Status != "POINT_STATUS_AGREED" || hex.EncodeToString(sum[:]) != doc.DocumentSha256 {
		t.Fatalf("doc: %d points, last %s, hash %s vs text %x", len(doc.Points), doc.Points[27].Status, doc.DocumentSha256, sum)
	}
	// Accepting a hash other than the current one is refused.
	if line := c.fails(ExitConflict, "accept", "--hash", strings.Repeat("0", 64)); !strings.Contains(line, "DOCUMENT_HASH_MISMATCH") {
		t.Fatalf("accept a stale hash: %s", line)
	}
	for i, d := range []string{"ukraine", "russia", "united-states"} {
		out := c.ok("--profile", d, "accept", "--hash", doc.DocumentSha256)
		verb := map[bool]string{true: "has", false: "have"}[i == 0]
		if !strings.Contains(out, doc.DocumentSha256) || !strings.Contains(out, fmt.Sprintf("%d of 4 delegations %s accepted", i+1, verb)) {
			t.Fatalf("%s accepts:\n%s", d, out)
		}
	}
	if out := c.ok("--profile", "europe", "accept"); !strings.Contains(out, "CONCLUDED") {
		t.Fatalf("last acceptance:\n%s", out)
	}
	golden(t, "export.md.golden", norm.apply(c.ok("export", "--format", "markdown")))
	html := c.ok("export", "--format", "html")
	if !strings.Contains(html, "<del>600,000</del><ins>800,000</ins>") || !strings.Contains(html, "<title>28-point peace plan</title>") {
		t.Fatalf("html export lacks the redline:\n%s", html)
	}
	if out := c.ok("status"); !strings.Contains(out, "CONCLUDED at ") {
		t.Fatalf("status after conclusion:\n%s", out)
	}
	if line := c.fails(ExitFailed, "amend", "replace", "1", "--text", "Too late."); !strings.Contains(line, "(FAILED_PRECONDITION NEGOTIATION_CONCLUDED)") {
		t.Fatalf("amend after conclusion: %s", line)
	}
	log := c.ok("log")
	for _, want := range []string{"created the negotiation \"28-point peace plan\"", "proposed " + six + ": REPLACE point 6 (revision 1)",
		"voted REJECT on " + failed + ": The territorial clauses stay as drafted", "applied " + ins + ": inserted point 12",
		"withdrew " + pending, "CONCLUDED: every delegation accepted sha256 " + doc.DocumentSha256[:12]} {
		if !strings.Contains(log, want) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
	}

	// The watcher saw every event once, in order, and stopped at the end.
	lastSeq := int64(strings.Count(log, "\n"))
	select {
	case seqs := <-watched:
		if int64(len(seqs)) != lastSeq {
			t.Fatalf("watch saw %d events, the log has %d", len(seqs), lastSeq)
		}
		for i, seq := range seqs {
			if seq != int64(i+1) {
				t.Fatalf("watch: event %d has sequence %d", i+1, seq)
			}
		}
	case <-time.After(20 * time.Second):
		t.Fatal("watch --until-concluded did not end")
	}
	if err := watch.Wait(); err != nil {
		t.Fatalf("watch: %v", err)
	}
}

// TestSetup checks what a user meets before negotiating: no profile, a
// server that is down, a profile file others can read, a bad token, the
// demo's token file.
func TestSetup(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)

	if line := c.fails(ExitConfig, "status"); !strings.Contains(line, "no profile: log in first: 'parley login --server HOST:PORT --token TOKEN'") {
		t.Fatalf("no profile: %s", line)
	}
	if line := c.fails(ExitUsage, "login", "--server", s.Addr); !strings.Contains(line, "login needs --server HOST:PORT and --token TOKEN") {
		t.Fatalf("login without token: %s", line)
	}
	if line := c.fails(ExitAuth, "login", "--server", s.Addr, "--token", "prl_wrong"); !strings.Contains(line, "UNAUTHENTICATED TOKEN_INVALID") {
		t.Fatalf("login with a bad token: %s", line)
	}

	// Import the demo's token file in one command.
	n := s.CreateDemo(context.Background())
	tokens := c.demoTokens(s, n)
	out := c.ok("login", "--import", tokens, "--as", "ukraine")
	if !strings.Contains(out, "Imported 5 profiles") || !strings.Contains(out, "Current profile: ukraine") {
		t.Fatalf("import:\n%s", out)
	}
	info, err := os.Stat(filepath.Join(c.dir, "profiles.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("profile file: %v, %v", info.Mode(), err)
	}
	var list struct {
		Profiles []struct {
			Name    string `json:"name"`
			Current bool   `json:"current"`
			Role    string `json:"role"`
		} `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(c.ok("profiles", "-o", "json")), &list); err != nil || len(list.Profiles) != 5 {
		t.Fatalf("profiles: %v %v", list, err)
	}
	if strings.Contains(c.ok("profiles"), "prl_") {
		t.Fatal("profiles shows tokens")
	}
	if out := c.ok("whoami"); !strings.HasPrefix(out, "ukraine (Ukraine), delegation in "+n.Name) {
		t.Fatalf("whoami: %s", out)
	}
	c.env = append(c.env, "PARLEY_PROFILE=mediator")
	if out := c.ok("whoami"); !strings.HasPrefix(out, "mediator (Mediator), mediator") {
		t.Fatalf("PARLEY_PROFILE: %s", out)
	}
	if line := c.fails(ExitConfig, "--profile", "nobody", "status"); !strings.Contains(line, `no profile named "nobody"`) {
		t.Fatalf("unknown profile: %s", line)
	}
	if line := c.fails(ExitUsage, "vote", "maybe", "abcd"); !strings.Contains(line, `vote "maybe": choose approve, reject or abstain`) {
		t.Fatalf("bad choice: %s", line)
	}
	if line := c.fails(ExitUsage, "point", "29"); line != "parley: point: there is no point 29: the document has points 1 to 28" {
		t.Fatalf("point 29: %s", line)
	}

	// A profile file others can read is refused.
	if err := os.Chmod(filepath.Join(c.dir, "profiles.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if line := c.fails(ExitConfig, "status"); !strings.Contains(line, "can be read by others (mode 0644)") {
		t.Fatalf("readable profile file: %s", line)
	}
	os.Chmod(filepath.Join(c.dir, "profiles.json"), 0o600)

	// A server that is down says what to do.
	s.Kill()
	line := c.fails(ExitUnreachable, "--timeout", "5s", "doc")
	if !strings.Contains(line, "cannot reach the server at "+s.Addr) || !strings.Contains(line, "is parleyd running there?") {
		t.Fatalf("server down: %s", line)
	}
}
