package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/servertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the output of this run")

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// parleyBinary builds the parley command once per test process, with the
// race detector if the tests run with it.
func parleyBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "parley")
		args := []string{"build", "-o", binary}
		if raceEnabled {
			args = append(args, "-race")
		}
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", append(args, ".")...)
		cmd.Dir = filepath.Dir(file)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build parley: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binary
}

// cli runs the built parley binary with its own profile file and home.
type cli struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	env := []string{"PARLEY_CONFIG=" + filepath.Join(dir, "profiles.json"), "HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		// A binary built with -race sleeps a second at exit unless told not to.
		"GORACE=atexit_sleep_ms=0 halt_on_error=1"}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "PARLEY_CONFIG", "PARLEY_PROFILE", "PARLEY_SERVER", "PARLEY_TOKEN", "PARLEY_SIGNING_KEY_FILE", "HOME", "XDG_CONFIG_HOME", "NO_COLOR", "GORACE":
			continue
		}
		env = append(env, kv)
	}
	return &cli{t: t, bin: parleyBinary(t), dir: dir, env: env}
}

// demoTokens writes the tokens of demo negotiation n on server s as parleyd
// --demo writes them (demo-tokens.json, mode 0600), for 'parley login
// --import', and returns the file's path.
func (c *cli) demoTokens(s *servertest.Server, n servertest.Negotiation) string {
	c.t.Helper()
	raw, err := json.Marshal(map[string]any{"server": s.Addr, "negotiation": n.Name, "tokens": n.Tokens})
	if err != nil {
		c.t.Fatal(err)
	}
	path := filepath.Join(c.dir, "demo-tokens.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// result is what one run printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if d := time.Since(start); d > time.Second {
		c.t.Logf("slow: parley %s took %v", strings.Join(args, " "), d)
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			c.t.Fatalf("parley %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

// ok runs a command that must succeed and returns its output.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("parley %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must fail with an exit code, and returns its
// one line of error.
func (c *cli) fails(code int, args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code {
		c.t.Fatalf("parley %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasPrefix(r.stderr, "parley: ") {
		c.t.Fatalf("parley %s: the error is not one line starting \"parley: \": %q", strings.Join(args, " "), r.stderr)
	}
	return strings.TrimSuffix(r.stderr, "\n")
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the output (run with -update to accept it):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// normalizer replaces what changes from run to run (names, ids, times) with
// stable placeholders of the same width, so that goldens keep their layout.
type normalizer struct {
	pairs []string
}

var (
	uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timePattern = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`)
)

// id registers an amendment's id under a readable placeholder.
func (n *normalizer) id(id, label string) {
	n.pairs = append(n.pairs, id, label, id[:shortIDLen], label[:shortIDLen])
}

func (n *normalizer) apply(s string) string {
	s = strings.NewReplacer(n.pairs...).Replace(s)
	s = uuidPattern.ReplaceAllString(s, "00000000-0000-0000-0000-000000000000")
	return timePattern.ReplaceAllString(s, "2025-11-20 12:00:00Z")
}
