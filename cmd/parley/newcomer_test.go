package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// importTokens saves a profile for each participant of n, as the demo's
// token file does, and makes as the current one.
func importTokens(t *testing.T, c *cli, s *servertest.Server, n servertest.Negotiation, as string) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"server": s.Addr, "negotiation": n.Name, "tokens": n.Tokens})
	path := filepath.Join(c.dir, "tokens-"+lastPart(n.Name)+".json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("login", "--import", path, "--as", as)
}

// lastSequence reads the negotiation's last event, to check that a refused
// command changed nothing.
func lastSequence(t *testing.T, c *cli, args ...string) int64 {
	t.Helper()
	var n struct {
		LastSequence string `json:"lastSequence"`
	}
	if err := json.Unmarshal([]byte(c.ok(append(args, "status", "-o", "json")...)), &n); err != nil {
		t.Fatal(err)
	}
	var seq int64
	fmt.Sscan(n.LastSequence, &seq)
	return seq
}

// smallNegotiation has three weighted delegations, a mediator and two
// points; a qualified majority needs 60 % of the weight.
func smallNegotiation(t *testing.T, s *servertest.Server) servertest.Negotiation {
	t.Helper()
	return s.Create(context.Background(), &parleyv1.CreateNegotiationRequest{Title: "Small",
		Participants: []*parleyv1.Participant{
			{Id: "north", Role: parleyv1.Role_ROLE_DELEGATION, Weight: 1},
			{Id: "south", Role: parleyv1.Role_ROLE_DELEGATION, Weight: 1},
			{Id: "east", Role: parleyv1.Role_ROLE_DELEGATION, Weight: 3},
			{Id: "chair", Role: parleyv1.Role_ROLE_MEDIATOR}},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_QUALIFIED, ThresholdBasisPoints: 6000},
		NumberedText: "1. One.\n2. Two.\n"})
}

// TestCommandLineMistakes checks that what a newcomer gets wrong exits with
// the right code and says why, and that a refused change changes nothing.
func TestCommandLineMistakes(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	n := s.CreateDemo(context.Background())
	importTokens(t, c, s, n, "ukraine")
	c.ok("login", "--server", s.Addr, "--token", s.AdminToken, "--name", "admin")
	c.ok("use", "ukraine")
	before := lastSequence(t, c)

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		// Typing mistakes look like mistakes, with a suggestion.
		{[]string{"amend", "replce", "6"}, ExitUsage, `unknown command "replce" for "parley amend": did you mean "parley amend replace"?`},
		{[]string{"token", "isue", "alpha"}, ExitUsage, `unknown command "isue" for "parley token": did you mean "parley token issue"?`},
		{[]string{"negotiations", "craete"}, ExitUsage, `did you mean "parley negotiations create"?`},
		{[]string{"stauts"}, ExitUsage, `unknown command "stauts" for "parley": did you mean "parley status"?`},
		{[]string{"amend", "frobnicate"}, ExitUsage, `unknown command "frobnicate" for "parley amend": use delete, insert, package, rebase, replace`},
		{[]string{"log", "--last", "0"}, ExitUsage, "--last 0: give how many of the latest events to show, 1 or more"},
		{[]string{"log", "--last", "-1"}, ExitUsage, "--last -1"},
		{[]string{"log", "--after", "-3"}, ExitUsage, "--after -3: give a sequence number, 0 or more"},
		{[]string{"log", "--numbering", "then"}, ExitUsage, `--numbering "then": use now`},
		{[]string{"--token", "", "status"}, ExitUsage, "--token is empty: give a value, or leave the flag out"},
		{[]string{"--server=", "status"}, ExitUsage, "--server is empty"},
		// Wrong diagnoses, made right.
		{[]string{"accept", "--hash", "deadbeef"}, ExitUsage, `--hash "deadbeef" is not a SHA-256`},
		{[]string{"amend", "replace", "6", "--base-revision", "5", "--text", "Another text."}, ExitFailed,
			"point 6 has no revision 5: it is at revision 1 (INVALID_ARGUMENT REVISION_UNKNOWN)"},
		{[]string{"--profile", "admin", "-n", "negotiations/1b4e28ba-2fa1-11d2-883f-0016d3cca427", "status"}, ExitConfig,
			"negotiation 1b4e28ba-2fa1-11d2-883f-0016d3cca427 not found (NOT_FOUND NEGOTIATION_NOT_FOUND); list the negotiations you may read with 'parley negotiations'"},
		// A delegation is not told whether another negotiation exists.
		{[]string{"-n", "negotiations/1b4e28ba-2fa1-11d2-883f-0016d3cca427", "status"}, ExitAuth, "(PERMISSION_DENIED NOT_A_MEMBER)"},
		{[]string{"reject", "abcd"}, ExitUsage, "only a mediator rejects an amendment that passed; a delegation votes against an amendment with 'parley vote reject"},
		{[]string{"negotiations", "create", "--title", "T", "--file", planFile, "--delegation", "a"}, ExitUsage,
			"create needs --title, --file, at least one --delegation and at least one --mediator"},
	} {
		if tc.args[0] == "reject" {
			// A real amendment, so that the id resolves.
			out := c.ok("-o", "json", "amend", "replace", "7", "--text", "Another seventh point.")
			tc.args[1] = lastPart(jsonField(t, out, "name"))
			before++
		}
		if line := c.fails(tc.code, tc.args...); !strings.Contains(line, tc.want) {
			t.Errorf("parley %s:\n got %s\nwant %s", strings.Join(tc.args, " "), line, tc.want)
		}
	}
	// Commands that cannot print JSON refuse -o json, in JSON.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "-o", "json"}, "-o json: export writes markdown or html"},
		{[]string{"doc", "--text", "-o", "json"}, "-o json: --text prints the text exactly as hashed"},
		{[]string{"--profile", "admin", "token", "revoke", "ukraine", "-o", "json"}, "-o json: token revoke prints only a confirmation"},
	} {
		r := c.run(tc.args...)
		var e struct {
			Error failure `json:"error"`
		}
		if err := json.Unmarshal([]byte(r.stderr), &e); err != nil || r.code != ExitUsage || e.Error.Reason != "USAGE" || !strings.Contains(e.Error.Message, tc.want) {
			t.Errorf("parley %s: exit %d, %q", strings.Join(tc.args, " "), r.code, r.stderr)
		}
	}
	if after := lastSequence(t, c); after != before {
		t.Fatalf("refused commands changed the log: last event %d, was %d", after, before)
	}

	// A help request is not a mistake: exit 0, help on standard output.
	if out := c.ok("amend"); !strings.Contains(out, "Available Commands:") {
		t.Fatalf("parley amend:\n%s", out)
	}

	// A local failure is not labelled as the server's.
	file := filepath.Join(c.dir, "taken.db")
	os.WriteFile(file, []byte("x"), 0o600)
	if line := c.fails(ExitFailed, "--profile", "admin", "backup", file); strings.Contains(line, "UNKNOWN") || !strings.Contains(line, "exists already") {
		t.Fatalf("backup to an existing file: %s", line)
	}

	// A delegation that tries 'reject' with a reason is pointed to 'vote
	// reject' by the server's refusal.
	out := c.ok("--profile", "ukraine", "-o", "json", "amend", "replace", "8", "--text", "Another eighth point.")
	id := lastPart(jsonField(t, out, "name"))
	if line := c.fails(ExitAuth, "--profile", "ukraine", "reject", id, "--reason", "no"); !strings.Contains(line, "ROLE_NOT_ALLOWED); a delegation votes against an amendment with 'parley vote reject "+id[:shortIDLen]) {
		t.Fatalf("reject by a delegation: %s", line)
	}
}

// TestJSONConvention checks that every command's -o json follows the one
// convention of docs/cli.md: one JSON object (one per line for log), names
// in lowerCamelCase, enums by their full UPPER_SNAKE name, 64-bit numbers as
// strings; and that errors are JSON on standard error.
func TestJSONConvention(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	n := s.CreateDemo(context.Background())
	importTokens(t, c, s, n, "ukraine")
	c.ok("--profile", "russia", "sign-off", "6")
	am := jsonField(t, c.ok("-o", "json", "amend", "replace", "6", "--text", "The size of the Armed Forces of Ukraine will be limited to 800,000 troops."), "name")

	snake := regexp.MustCompile(`"[a-z0-9]+_[a-z0-9_]*":`)
	object := func(args ...string) map[string]any {
		t.Helper()
		out := c.ok(append(args, "-o", "json")...)
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("parley %s -o json is not one JSON object: %v\n%s", strings.Join(args, " "), err, out)
		}
		if k := snake.FindString(out); k != "" {
			t.Errorf("parley %s -o json has the snake_case name %s", strings.Join(args, " "), k)
		}
		return m
	}
	status := object("status")
	if status["state"] != "NEGOTIATION_STATE_OPEN" || status["lastSequence"] == nil || fmt.Sprintf("%T", status["lastSequence"]) != "string" {
		t.Errorf("status: state %v, lastSequence %#v", status["state"], status["lastSequence"])
	}
	point6 := status["points"].([]any)[5].(map[string]any)
	if point6["status"] != "POINT_STATUS_PENDING" || point6["revision"] != "1" || point6["signOffs"].(map[string]any)["russia"] != "SIGNED" {
		t.Errorf("status, point 6: %v", point6)
	}
	if p := status["pendingAmendments"].([]any)[0].(map[string]any); p["name"] != am || p["state"] != "AMENDMENT_STATE_OPEN" {
		t.Errorf("status, pending: %v", p)
	}
	if d := object("doc"); d["documentSha256"] == "" || d["points"].([]any)[0].(map[string]any)["status"] != "POINT_STATUS_PENDING" {
		t.Errorf("doc: %v", d["points"].([]any)[0])
	}
	object("point", "6")
	object("amendments")
	object("amendment", am)
	object("negotiations")
	object("negotiations", "show")
	object("whoami")
	if p := object("profiles"); p["current"] != "ukraine" || len(p["profiles"].([]any)) != 5 ||
		p["profiles"].([]any)[0].(map[string]any)["role"] != "ROLE_DELEGATION" {
		t.Errorf("profiles: %v", p)
	}
	object("use", "ukraine")
	object("diff")
	if d := object("diff", "6", "--from", "1", "--to", "1"); d["changes"].([]any)[0].(map[string]any)["kind"] != "CHANGED" {
		t.Errorf("diff 6: %v", d)
	}
	if v := object("verify"); v["verified"] != true || fmt.Sprintf("%T", v["events"]) != "string" {
		t.Errorf("verify: %v", v)
	}
	if so := object("sign-off", "1", "2"); len(so["points"].([]any)) != 2 {
		t.Errorf("sign-off: %v", so)
	}
	object("revoke", "2")
	object("vote", "approve", am)

	// The administrator rotates a token: JSON, and "rotated" in the log.
	c.ok("login", "--server", s.Addr, "--token", s.AdminToken, "--name", "admin")
	tokens := object("--profile", "admin", "-n", n.Name, "token", "rotate", "europe")
	if tk := tokens["tokens"].([]any)[0].(map[string]any); tk["participant"] != "europe" || !strings.HasPrefix(tk["token"].(string), "prl_") || tk["tokenSha256"] == "" {
		t.Errorf("token rotate: %v", tokens)
	}
	if out := c.ok("--profile", "ukraine", "log", "--last", "1"); !strings.Contains(out, "admin           rotated the token of europe") {
		t.Errorf("a rotation in the log:\n%s", out)
	}
	backup := object("--profile", "admin", "backup", filepath.Join(c.dir, "backup.db"))
	if fmt.Sprintf("%T", backup["sizeBytes"]) != "string" {
		t.Errorf("backup: %v", backup)
	}

	// log: one object per line.
	out := c.ok("--profile", "ukraine", "log", "--last", "3", "-o", "json")
	if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); len(lines) != 3 {
		t.Fatalf("log -o json: %d lines\n%s", len(lines), out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || fmt.Sprintf("%T", rec["sequence"]) != "string" {
			t.Fatalf("log -o json line %q: %v", line, err)
		}
	}

	// Errors: one JSON object on standard error, with the exit code.
	for _, tc := range []struct {
		args               []string
		exit               int
		code, reason, want string
	}{
		{[]string{"--profile", "ukraine", "vote", "maybe", am}, ExitUsage, "INVALID_ARGUMENT", "USAGE", `vote "maybe"`},
		{[]string{"--profile", "ukraine", "apply", am}, ExitAuth, "PERMISSION_DENIED", "ROLE_NOT_ALLOWED", ""},
		{[]string{"--profile", "nobody", "status"}, ExitConfig, "FAILED_PRECONDITION", "CONFIG", `no profile named "nobody"`},
		{[]string{"--profile", "ukraine", "amendment", "ffffffff"}, ExitFailed, "NOT_FOUND", "AMENDMENT_NOT_FOUND", ""},
	} {
		r := c.run(append(tc.args, "-o", "json")...)
		var e struct {
			Error failure `json:"error"`
		}
		if err := json.Unmarshal([]byte(r.stderr), &e); err != nil || r.code != tc.exit || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("parley %s -o json: exit %d, stderr %q: %v", strings.Join(tc.args, " "), r.code, r.stderr, err)
		}
		if e.Error.ExitCode != tc.exit || e.Error.Code != tc.code || e.Error.Reason != tc.reason || !strings.Contains(e.Error.Message, tc.want) {
			t.Errorf("parley %s -o json: error %+v", strings.Join(tc.args, " "), e.Error)
		}
	}
}

// TestWording checks the messages the issue found wrong: weights in a
// weighted tally, stale sign-offs named only when there were some, a long
// list of pending amendments summarised, and the numbering log names.
func TestWording(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	n := smallNegotiation(t, s)
	importTokens(t, c, s, n, "north")

	// 2 of 3 delegations approve, but only 2 of 5 of the weight.
	am := lastPart(jsonField(t, c.ok("-o", "json", "amend", "replace", "1", "--text", "Uno."), "name"))
	c.ok("vote", "approve", am)
	c.ok("--profile", "south", "vote", "approve", am)
	out := c.ok("--profile", "east", "vote", "reject", am, "--reason", "no")
	if !strings.Contains(out, "Voting closed: FAILED (approve 2, reject 1, abstain 0, not voted 0; weight approving 2 of 5 (40.0%)).") {
		t.Fatalf("weighted tally:\n%s", out)
	}

	// An insertion after point 1 that passes; point 2 becomes point 3.
	c.ok("sign-off", "2")
	ins := lastPart(jsonField(t, c.ok("-o", "json", "amend", "insert", "--after", "1", "--text", "One and a half."), "name"))
	for _, d := range []string{"north", "south", "east"} {
		c.ok("--profile", d, "vote", "approve", ins)
	}
	c.ok("--profile", "chair", "apply", ins)
	// Replacing point 3 (once 2), which north signed off: its sign-off is
	// named as stale. Replacing point 1, which nobody signed: nothing is.
	rep := lastPart(jsonField(t, c.ok("-o", "json", "amend", "replace", "3", "--text", "Deux."), "name"))
	one := lastPart(jsonField(t, c.ok("-o", "json", "amend", "replace", "1", "--text", "Un."), "name"))
	for _, id := range []string{rep, one} {
		for _, d := range []string{"north", "south", "east"} {
			c.ok("--profile", d, "vote", "approve", id)
		}
	}
	if out := c.ok("--profile", "chair", "apply", rep); !strings.Contains(out, "The sign-offs of north are now stale: they sign off point 3 again.") {
		t.Fatalf("apply over a sign-off:\n%s", out)
	}
	if out := c.ok("--profile", "chair", "apply", one); strings.Contains(out, "stale") {
		t.Fatalf("apply over no sign-off speaks of stale sign-offs:\n%s", out)
	}

	// The sign-off of the second point happened when it was point 2.
	r := c.run("log")
	if !strings.Contains(r.stdout, "north           signed off point 3 at revision 1") || !strings.Contains(r.stderr, "Points are named by their number now") {
		t.Fatalf("log names points by their number now:\n%s\n%s", r.stdout, r.stderr)
	}
	r = c.run("log", "--numbering", "event")
	if !strings.Contains(r.stdout, "north           signed off point 2 at revision 1") || !strings.Contains(r.stderr, "by their number when each event happened") {
		t.Fatalf("log --numbering event:\n%s\n%s", r.stdout, r.stderr)
	}
	if last := c.ok("log", "--numbering", "event", "--last", "2"); !strings.Contains(last, "applied "+one[:shortIDLen]+": point 1 now at revision 2") {
		t.Fatalf("log --numbering event --last 2:\n%s", last)
	}

	// Many pending amendments are summarised.
	ctx := context.Background()
	svc := parleyv1.NewNegotiationServiceClient(s.Conn())
	doc, err := svc.GetDocument(servertest.As(ctx, n.Tokens["north"]), &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		p := doc.GetPoints()[0]
		if i >= 25 {
			p = doc.GetPoints()[1]
		}
		if _, err := svc.ProposeAmendment(servertest.As(ctx, n.Tokens["south"]), &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name,
			Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p.GetName(), BaseRevision: p.GetRevision(), Text: fmt.Sprintf("Text %d.", i)}); err != nil {
			t.Fatal(err)
		}
	}
	out = c.ok("--profile", "chair", "status")
	for _, want := range []string{"Amendments pending (30):", "… and 22 more on point 1", "… and 2 more on point 2",
		"Shown: 6 of 30; list them all with 'parley amendments --state pending'"} {
		if !strings.Contains(out, want) {
			t.Fatalf("status lacks %q:\n%s", want, out)
		}
	}
}

// TestWatchEnds checks that watch does not hang: --until-concluded on a
// concluded negotiation ends at once, and an unreachable server is said to
// be retried until it is back.
func TestWatchEnds(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	n := s.Create(context.Background(), &parleyv1.CreateNegotiationRequest{Title: "One point",
		Participants: []*parleyv1.Participant{{Id: "solo", Role: parleyv1.Role_ROLE_DELEGATION}, {Id: "chair", Role: parleyv1.Role_ROLE_MEDIATOR}},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS},
		NumberedText: "1. One.\n"})
	importTokens(t, c, s, n, "solo")

	// A watcher from before the conclusion stops at it; the server goes
	// away in between and the watcher says it retries, then reconnects.
	watch := exec.Command(c.bin, "watch", "--until-concluded")
	watch.Env, watch.Dir = c.env, c.dir
	stdout, _ := watch.StdoutPipe()
	stderr, _ := watch.StderrPipe()
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer watch.Process.Kill()
	// Standard output and error arrive on two pipes, in no set order
	// between them: wait for each line among everything printed so far.
	var mu sync.Mutex
	var printed strings.Builder
	for _, r := range []io.Reader{stdout, stderr} {
		go func() {
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				mu.Lock()
				printed.WriteString(sc.Text() + "\n")
				mu.Unlock()
			}
		}()
	}
	waitFor := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			all := printed.String()
			mu.Unlock()
			if strings.Contains(all, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("watch never printed %q; it printed:\n%s", want, all)
			}
		}
	}
	waitFor("Watching " + n.Name)
	s.Kill()
	waitFor("cannot reach the server at " + s.Addr)
	waitFor("retrying in")
	s.Restart()
	c.ok("sign-off", "--all")
	waitFor("reconnected to " + s.Addr + "; resuming after event")
	waitFor("solo            signed off point 1 at revision 1")
	c.ok("accept")
	waitFor("CONCLUDED: every delegation accepted")
	done := make(chan error, 1)
	go func() { done <- watch.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watch --until-concluded: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("watch --until-concluded did not end at the conclusion")
	}

	// Started after the conclusion, it ends at once: nothing more will come.
	start := time.Now()
	r := c.run("watch", "--until-concluded")
	if r.code != 0 || !strings.Contains(r.stderr, "concluded at") || r.stdout != "" || time.Since(start) > 15*time.Second {
		t.Fatalf("watch --until-concluded on a concluded negotiation: exit %d after %v\n%s%s", r.code, time.Since(start), r.stdout, r.stderr)
	}
	// With --after, it prints the rest of the log first.
	if out := c.ok("watch", "--until-concluded", "--after", "0"); !strings.Contains(out, "CONCLUDED: every delegation accepted") {
		t.Fatalf("watch --until-concluded --after 0:\n%s", out)
	}
}
