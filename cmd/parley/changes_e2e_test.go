package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/servertest"
)

// TestChangingNegotiation plays the 28-point negotiation through the parley
// binary against a real parleyd while the negotiation changes: a mediator
// added after creation, a rule change, a delegation added and removed, a
// pause, and a deadline that closes a vote while parleyd is stopped, closed
// once when it restarts; then sign-off of every point and acceptance, to
// CONCLUDED.
func TestChangingNegotiation(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	delegations := []string{"ukraine", "russia", "united-states", "europe"}

	c.ok("login", "--server", s.Addr, "--token", s.AdminToken)
	out := c.ok("negotiations", "create", "--title", "28-point peace plan", "--file", planFile,
		"--delegation", "ukraine=Ukraine", "--delegation", "russia=Russia", "--delegation", "united-states=United States",
		"--delegation", "europe=Europe", "--mediator", "mediator=Mediator", "--rule", "consensus",
		"--max-voting-duration", "24h", "-o", "json")
	name := jsonField(t, out, "name")
	c.ok("token", "issue", "ukraine", "russia", "united-states", "europe", "mediator", "--save-profiles")

	// A second mediator joins after creation, and acts.
	if out := c.ok("negotiations", "add-participant", "co-mediator=Co-mediator", "--role", "mediator"); !strings.Contains(out, "Added co-mediator to "+name) {
		t.Fatalf("add-participant:\n%s", out)
	}
	c.ok("token", "issue", "co-mediator", "--save-profiles")
	// The rule changes: a majority decides amendments proposed from now on.
	if out := c.ok("negotiations", "set-rule", "--rule", "majority"); !strings.Contains(out, "Rule now majority") {
		t.Fatalf("set-rule:\n%s", out)
	}
	// A rule no set of delegations could meet is refused, and changes nothing.
	if line := c.fails(ExitFailed, "negotiations", "set-rule", "--rule", "majority", "--quorum", "5"); !strings.Contains(line, "QUORUM_INVALID") {
		t.Fatalf("unmeetable rule: %s", line)
	}
	c.ok("negotiations", "rename", "28-point peace plan (Geneva draft)")

	// Ukraine proposes a new point 6 with a deadline, decided by the new
	// rule; three of four approve, Europe has not voted when voting closes.
	out = c.ok("--profile", "ukraine", "amend", "replace", "6", "--text",
		"The size of the Armed Forces of Ukraine will be limited to 800,000 troops in peacetime.", "--deadline", "1h", "-o", "json")
	six := lastPart(jsonField(t, out, "name"))[:shortIDLen]
	if jsonField(t, out, "votingDeadline") == "" || !strings.Contains(out, `"decisionRuleVersion": 2`) {
		t.Fatalf("amend --deadline: no deadline in\n%s", out)
	}
	if line := c.fails(ExitFailed, "--profile", "ukraine", "amend", "replace", "7", "--text", "Beyond the limit.", "--deadline", "48h"); !strings.Contains(line, "DEADLINE_TOO_FAR") {
		t.Fatalf("deadline beyond the limit: %s", line)
	}
	c.ok("--profile", "ukraine", "vote", "approve", six)
	c.ok("--profile", "russia", "vote", "approve", six)
	c.ok("--profile", "united-states", "vote", "approve", six)
	if out := c.ok("--profile", "mediator", "status"); !strings.Contains(out, "waiting for europe  · closes in ") {
		t.Fatalf("status shows neither who has not voted nor the time left:\n%s", out)
	}
	if out := c.ok("amendment", six); !strings.Contains(out, "Not voted yet: europe") || !strings.Contains(out, "Voting closes at ") {
		t.Fatalf("amendment:\n%s", out)
	}

	// A pause stops the votes; the negotiation resumes.
	c.ok("negotiations", "suspend", "--reason", "Consultations in capitals")
	if line := c.fails(ExitFailed, "--profile", "europe", "vote", "approve", six); !strings.Contains(line, "NEGOTIATION_SUSPENDED") {
		t.Fatalf("vote while suspended: %s", line)
	}
	if out := c.ok("status"); !strings.Contains(out, "SUSPENDED") {
		t.Fatalf("status while suspended:\n%s", out)
	}
	c.ok("negotiations", "resume")

	// The co-mediator brings the deadline forward, and parleyd stops before
	// it comes.
	c.ok("--profile", "co-mediator", "deadline", "set", six, "3s")
	deadline := time.Now().Add(3 * time.Second)
	var am struct {
		State          string `json:"state"`
		VotingDeadline string `json:"votingDeadline"`
		Tally          struct {
			ClosedByDeadline bool `json:"closedByDeadline"`
			Passed           bool `json:"passed"`
		} `json:"tally"`
	}
	if err := json.Unmarshal([]byte(c.ok("amendment", six, "-o", "json")), &am); err != nil || am.State != "AMENDMENT_STATE_OPEN" {
		t.Fatalf("before the stop: %+v %v", am, err)
	}
	s.Stop()
	time.Sleep(time.Until(deadline) + time.Second)
	s.Restart()
	// The vote closes at once after the start, and exactly once.
	for stop := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if err := json.Unmarshal([]byte(c.ok("amendment", six, "-o", "json")), &am); err != nil {
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
	if log := c.ok("log"); strings.Count(log, "voting on "+six+" closed") != 1 {
		t.Fatalf("the vote closed other than once:\n%s", log)
	}
	c.ok("--profile", "co-mediator", "apply", six)

	// A delegation joins and leaves; its token stops working.
	c.ok("negotiations", "add-participant", "poland=Poland")
	c.ok("token", "issue", "poland", "--save-profiles")
	c.ok("--profile", "poland", "whoami")
	c.ok("negotiations", "remove-participant", "poland")
	if line := c.fails(ExitAuth, "--profile", "poland", "status"); !strings.Contains(line, "TOKEN_INVALID") {
		t.Fatalf("removed participant's token: %s", line)
	}
	// The last mediators cannot all go.
	c.ok("negotiations", "remove-participant", "mediator")
	if line := c.fails(ExitFailed, "negotiations", "remove-participant", "co-mediator"); !strings.Contains(line, "LAST_MEDIATOR") {
		t.Fatalf("remove the last mediator: %s", line)
	}

	for _, d := range delegations {
		c.ok("--profile", d, "sign-off", "--all")
	}
	for _, d := range delegations {
		c.ok("--profile", d, "accept")
	}
	if out := c.ok("status"); !strings.Contains(out, "CONCLUDED at ") {
		t.Fatalf("status at the end:\n%s", out)
	}
	log := c.ok("log")
	for _, want := range []string{"added mediator co-mediator (Co-mediator)", "changed the decision rule to majority",
		`renamed the negotiation "28-point peace plan (Geneva draft)"`, "SUSPENDED the negotiation: Consultations in capitals",
		"resumed the negotiation", "set the voting deadline of " + six, "removed poland from the negotiation",
		"voting on " + six + " closed: PASSED", "CONCLUDED"} {
		if !strings.Contains(log, want) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
	}
	if out := c.ok("verify"); !strings.Contains(strings.ToLower(out), "verified") {
		t.Fatalf("verify:\n%s", out)
	}
}
