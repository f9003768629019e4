package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/parley-negotiation/parley/server/servertest"
)

// TestMembers drives members through the CLI against a real parleyd: the
// administrator adds a head and an aide to Ukraine and issues their tokens
// as profiles; the aide may propose but not sign off; the head signs off all
// 28 points in one call, accepts and withdraws the acceptance; the log names
// the member who acted.
func TestMembers(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	n := s.CreateDemo(context.Background())
	importTokens(t, c, s, n, "ukraine")
	c.ok("login", "--server", s.Addr, "--token", s.AdminToken)
	neg := "--negotiation=" + n.Name

	c.ok("--profile", "admin", neg, "members", "add", "ukraine", "head", "--name", "Head of delegation", "--head")
	out := c.ok("--profile", "admin", neg, "members", "add", "ukraine", "aide", "-o", "json")
	var p struct {
		Members []struct {
			ID   string `json:"id"`
			Head bool   `json:"head"`
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || len(p.Members) != 2 || !p.Members[0].Head || p.Members[1].ID != "aide" {
		t.Fatalf("members add -o json: %v\n%s", err, out)
	}
	if line := c.fails(ExitFailed, "--profile", "admin", neg, "members", "add", "ukraine", "aide"); !strings.Contains(line, "MEMBER_EXISTS") {
		t.Fatalf("duplicate member: %s", line)
	}
	if line := c.fails(ExitFailed, "--profile", "admin", neg, "token", "issue", "ukraine", "--member", "nobody"); !strings.Contains(line, "MEMBER_NOT_FOUND") {
		t.Fatalf("token for an unknown member: %s", line)
	}
	out = c.ok("--profile", "admin", neg, "token", "issue", "ukraine", "--member", "head", "--save-profiles")
	if !strings.Contains(out, "ukraine-head") {
		t.Fatalf("token issue --member:\n%s", out)
	}
	c.ok("--profile", "admin", neg, "token", "issue", "ukraine", "--member", "aide", "--save-profiles")
	if out := c.ok("--profile", "admin", neg, "members"); !strings.Contains(out, "aide") || !strings.Contains(out, "Head of delegation") {
		t.Fatalf("members:\n%s", out)
	}
	if out := c.ok("--profile", "ukraine-aide", "whoami"); !strings.HasPrefix(out, "member aide (aide) of ukraine") {
		t.Fatalf("whoami as the aide: %s", out)
	}

	// The aide may not sign off for Ukraine, which has a head: nothing is
	// recorded.
	before := lastSequence(t, c, "--profile", "ukraine-head")
	if line := c.fails(ExitAuth, "--profile", "ukraine-aide", "sign-off", "--all"); !strings.Contains(line, "MEMBER_NOT_ALLOWED") {
		t.Fatalf("sign-off by the aide: %s", line)
	}
	if after := lastSequence(t, c, "--profile", "ukraine-head"); after != before {
		t.Fatalf("a refused sign-off moved the log from %d to %d", before, after)
	}

	// sign-off --all is one call and one commit of 28 sign-offs.
	out = c.ok("--profile", "ukraine-head", "sign-off", "--all")
	if !strings.Contains(out, "Signed off 28 points") {
		t.Fatalf("sign-off --all:\n%s", out)
	}
	if after := lastSequence(t, c, "--profile", "ukraine-head"); after != before+28 {
		t.Fatalf("sign-off --all: log at %d, want %d", after, before+28)
	}
	for _, d := range []string{"russia", "united-states", "europe"} {
		c.ok("--profile", d, "sign-off", "--all")
	}
	c.ok("--profile", "ukraine-head", "accept")
	out = c.ok("--profile", "ukraine-head", "accept", "--withdraw")
	if !strings.Contains(out, "Withdrew your acceptance; 0 of 4 delegations have accepted") {
		t.Fatalf("accept --withdraw:\n%s", out)
	}
	log := c.ok("--profile", "ukraine", "log", "--after", "0")
	if !strings.Contains(log, "ukraine/head") || !strings.Contains(log, "WITHDREW its acceptance") || !strings.Contains(log, "added member head of ukraine (Head of delegation) as a head") {
		t.Fatalf("log:\n%s", log)
	}
	c.ok("--profile", "ukraine", "verify")
}
