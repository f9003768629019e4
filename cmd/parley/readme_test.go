package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/servertest"
)

// walkthroughMarker precedes each fenced block of the README's "Using the
// CLI" section that the walkthrough test runs.
const walkthroughMarker = "<!-- walkthrough -->"

// walkthrough extracts the marked ```sh blocks of the README's "Using the
// CLI" section, in order.
func walkthrough(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var block *strings.Builder
	inSection, marked := false, false
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			inSection = line == "## Using the CLI"
		case !inSection:
		case block != nil && line == "```":
			blocks = append(blocks, block.String())
			block = nil
		case block != nil:
			block.WriteString(line + "\n")
		case line == walkthroughMarker:
			marked = true
		case marked && line == "```sh":
			block, marked = &strings.Builder{}, false
		case marked && strings.TrimSpace(line) != "":
			t.Fatalf("README.md: %s is followed by %q, not a ```sh block", walkthroughMarker, line)
		}
	}
	if block != nil {
		t.Fatal("README.md: a walkthrough block is not closed")
	}
	// The walkthrough logs in, amends, votes, applies, signs off and
	// accepts: fewer blocks means the markers or the section changed.
	if len(blocks) < 4 {
		t.Fatalf("README.md: found %d walkthrough blocks in \"## Using the CLI\", want at least 4", len(blocks))
	}
	return blocks
}

// TestReadmeWalkthrough runs the README's walkthrough exactly as written,
// with bash, against a fresh parleyd --demo: the commands of terminal 2
// after the build, with the built parley on PATH, in a folder whose
// parley-data is the server's. Then it starts the demo afresh, as the
// README says, and runs it again with the same profiles.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole walkthrough")
	}
	if _, err := exec.LookPath("jq"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the README's walkthrough needs jq: install it (apt-get install jq)")
		}
		t.Skip("the README's walkthrough needs jq, which is not installed")
	}
	script := "set -euo pipefail\n" + strings.Join(walkthrough(t), "")
	c := newCLI(t)
	// The last PATH of the list wins: the built parley comes first on it.
	env := append(c.env, "PATH="+filepath.Dir(c.bin)+string(os.PathListSeparator)+os.Getenv("PATH"))

	run := func(round string) {
		s := servertest.Start(t, "--demo")
		tokens := filepath.Join(s.DataDir, "demo-tokens.json")
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if _, err := os.Stat(tokens); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: parleyd --demo wrote no %s:\n%s", round, tokens, s.Stderr.String())
			}
		}
		dir := t.TempDir()
		if err := os.Symlink(s.DataDir, filepath.Join(dir, "parley-data")); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// -x traces each command, to show where it failed.
		cmd := exec.CommandContext(ctx, "bash", "-x", "-c", script)
		cmd.Dir, cmd.Env = dir, append(env, "PS4=+ README: ")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: the README's walkthrough failed: %v\n%s", round, err, out)
		}
		// What the reader is told to expect: the negotiation concluded, the
		// export written where the README says, the log ends with it.
		for _, want := range []string{"point 6 is now at revision 2", "Voting closed: PASSED",
			"CONCLUDED: every delegation accepted sha256"} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("%s: the walkthrough's output lacks %q:\n%s", round, want, out)
			}
		}
		plan, err := os.ReadFile(filepath.Join(dir, "plan.md"))
		if err != nil || !bytes.Contains(plan, []byte("800,000")) {
			t.Errorf("%s: plan.md: %v\n%s", round, err, plan)
		}
		s.Stop()
	}
	run("first run")
	run("afresh")
}
