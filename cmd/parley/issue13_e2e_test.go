package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/servertest"
)

// TestIssue13RealNegotiation is the end-to-end test of issue 13's "Done
// when", through the parley binary against a real parleyd: the 28-point
// negotiation with two members per delegation (a head and an aide), a
// mediator added after creation, a rule change, a deadline that closes a vote
// while parleyd is stopped and restarted (closed once), a withdrawn
// acceptance, and a batch sign-off of all points per delegation, to
// CONCLUDED; then the log verifies.
func TestIssue13RealNegotiation(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	delegations := []string{"ukraine", "russia", "united-states", "europe"}
	sequence := func() int64 {
		t.Helper()
		var n struct {
			LastSequence string `json:"lastSequence"`
		}
		if err := json.Unmarshal([]byte(c.ok("--profile", "admin", "negotiations", "show", "-o", "json")), &n); err != nil {
			t.Fatal(err)
		}
		var seq int64
		for _, ch := range n.LastSequence {
			seq = seq*10 + int64(ch-'0')
		}
		return seq
	}

	c.ok("login", "--server", s.Addr, "--token", s.AdminToken)
	c.ok("negotiations", "create", "--title", "28-point peace plan", "--file", planFile,
		"--delegation", "ukraine=Ukraine", "--delegation", "russia=Russia", "--delegation", "united-states=United States",
		"--delegation", "europe=Europe", "--mediator", "mediator=Mediator", "--max-voting-duration", "24h")
	c.ok("token", "issue", "mediator", "--save-profiles")

	// Two members per delegation: a head, who alone signs off and accepts,
	// and an aide, who proposes and votes; each with its own token.
	for _, d := range delegations {
		c.ok("members", "add", d, "head", "--name", "Head of "+d, "--head")
		c.ok("members", "add", d, "aide", "--name", "Aide of "+d)
		c.ok("token", "issue", d, "--member", "head", "--save-profiles")
		c.ok("token", "issue", d, "--member", "aide", "--save-profiles")
	}
	// A mediator added after creation; a rule change.
	c.ok("negotiations", "add-participant", "co-mediator=Co-mediator", "--role", "mediator")
	c.ok("token", "issue", "co-mediator", "--save-profiles")
	c.ok("negotiations", "set-rule", "--rule", "majority")

	// Ukraine's aide proposes a new point 6 with a deadline; three aides
	// approve, Europe's does not vote.
	out := c.ok("--profile", "ukraine-aide", "amend", "replace", "6", "--text",
		"The size of the Armed Forces of Ukraine will be limited to 800,000 troops in peacetime.", "--deadline", "1h", "-o", "json")
	six := lastPart(jsonField(t, out, "name"))[:shortIDLen]
	for _, d := range []string{"ukraine", "russia", "united-states"} {
		c.ok("--profile", d+"-aide", "vote", "approve", six)
	}
	if out := c.ok("--profile", "mediator", "status"); !strings.Contains(out, "waiting for europe  · closes in ") {
		t.Fatalf("status:\n%s", out)
	}
	// The co-mediator brings the deadline forward; parleyd stops before it.
	c.ok("--profile", "co-mediator", "deadline", "set", six, "3s")
	deadline := time.Now().Add(3 * time.Second)
	s.Stop()
	time.Sleep(time.Until(deadline) + time.Second)
	s.Restart()
	var am struct {
		State string `json:"state"`
		Tally struct {
			ClosedByDeadline bool `json:"closedByDeadline"`
		} `json:"tally"`
	}
	for stop := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if err := json.Unmarshal([]byte(c.ok("--profile", "mediator", "amendment", six, "-o", "json")), &am); err != nil {
			t.Fatal(err)
		}
		if am.State != "AMENDMENT_STATE_OPEN" || time.Now().After(stop) {
			break
		}
	}
	if am.State != "AMENDMENT_STATE_PASSED" || !am.Tally.ClosedByDeadline {
		t.Fatalf("after the restart: %+v", am)
	}
	s.Restart()
	if log := c.ok("--profile", "mediator", "log"); strings.Count(log, "voting on "+six+" closed") != 1 {
		t.Fatalf("the vote closed other than once:\n%s", log)
	}
	c.ok("--profile", "co-mediator", "apply", six)

	// Each head signs off all 28 points in one call, one commit.
	for _, d := range delegations {
		before := sequence()
		if out := c.ok("--profile", d+"-head", "sign-off", "--all"); !strings.Contains(out, "Signed off 28 points") {
			t.Fatalf("%s sign-off --all:\n%s", d, out)
		}
		if after := sequence(); after != before+28 {
			t.Fatalf("%s sign-off --all: log from %d to %d, want 28 events", d, before, after)
		}
	}
	// Ukraine accepts, withdraws its acceptance, and accepts again.
	c.ok("--profile", "ukraine-head", "accept")
	if out := c.ok("--profile", "ukraine-head", "accept", "--withdraw"); !strings.Contains(out, "Withdrew your acceptance") {
		t.Fatalf("accept --withdraw:\n%s", out)
	}
	for _, d := range delegations {
		c.ok("--profile", d+"-head", "accept")
	}
	if out := c.ok("--profile", "mediator", "status"); !strings.Contains(out, "CONCLUDED at ") {
		t.Fatalf("status at the end:\n%s", out)
	}
	log := c.ok("--profile", "mediator", "log")
	for _, want := range []string{"added mediator co-mediator", "changed the decision rule to majority", "ukraine/aide",
		"ukraine/head", "WITHDREW its acceptance", "voting on " + six + " closed: PASSED", "CONCLUDED"} {
		if !strings.Contains(log, want) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
	}
	c.ok("--profile", "mediator", "verify")
}
