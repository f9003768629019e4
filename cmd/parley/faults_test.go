package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-negotiation/parley/server/servertest"
)

// faultsLogin logs in to a new demo negotiation as ukraine, pinning the
// server's key, and verifies it once so that a checkpoint is trusted.
func faultsLogin(t *testing.T, c *cli, s *servertest.Server) string {
	t.Helper()
	n := s.CreateDemo(context.Background())
	tokens := c.demoTokens(s, n)
	c.ok("login", "--import", tokens, "--as", "ukraine")
	c.ok("verify")
	return n.Name
}

// TestVerify_Rollback: the server's database went back in time and its
// operator served it anyway; 'parley verify', which trusted a newer
// checkpoint, reports a rollback.
func TestVerify_Rollback(t *testing.T) {
	c := newCLI(t)
	s := servertest.Start(t)
	faultsLogin(t, c, s)
	s.Stop()
	s.DamageNewestMeta()
	if err := os.Remove(filepath.Join(s.DataDir, "parley.db.last-commit")); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	r := c.run("verify")
	if r.code != ExitUnverified || !strings.Contains(r.stderr, "(ROLLBACK)") || !strings.Contains(r.stderr, "--- trusted checkpoint ---") {
		t.Fatalf("verify after a rollback: exit %d, want %d and ROLLBACK with the evidence\n%s%s", r.code, ExitUnverified, r.stdout, r.stderr)
	}
}

// TestVerify_KeyRotation: the server's checkpoint key is lost and rotated;
// the profile that pinned the old key follows the rotation through its
// event, with a warning, and verifies.
func TestVerify_KeyRotation(t *testing.T) {
	c := newCLI(t)
	s := servertest.Start(t)
	name := faultsLogin(t, c, s)
	s.Stop()
	if err := os.Remove(filepath.Join(s.DataDir, "checkpoint-key")); err != nil {
		t.Fatal(err)
	}
	s.Args = append(s.Args, "--rotate-checkpoint-key")
	s.Restart()
	r := c.run("verify")
	if r.code != 0 || !strings.Contains(r.stderr, "WARNING: the server's operator ROTATED the key that signs the checkpoints of "+name) ||
		!strings.Contains(r.stdout, "key ROTATED  at event 35") || !strings.Contains(r.stdout, "\nverified\n") {
		t.Fatalf("verify after a key rotation: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The new key is kept: the next run says nothing more, and reading the
	// log through the profile works.
	if r := c.run("verify"); r.code != 0 || strings.Contains(r.stderr, "WARNING") {
		t.Fatalf("the second verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := c.ok("log", "--last", "1"); !strings.Contains(out, "ROTATED the server's checkpoint key") {
		t.Fatalf("the log's last event:\n%s", out)
	}
}
