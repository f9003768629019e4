package main_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/parley-negotiation/parley/server/servertest"
)

// logRecords parses a log written with --log-format json: every line must
// be one JSON object with a time, a level and a message.
func logRecords(t *testing.T, log string) []map[string]any {
	t.Helper()
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line is not JSON (%v): %q\nthe whole log:\n%s", err, line, log)
		}
		for _, key := range []string{"time", "level", "msg"} {
			if _, ok := rec[key]; !ok {
				t.Fatalf("a log record has no %q: %q", key, line)
			}
		}
		records = append(records, rec)
	}
	return records
}

func TestLogFormat(t *testing.T) {
	t.Run("JSON", func(t *testing.T) {
		s := servertest.Start(t, "--log-format", "json", "--log-level", "debug")
		if _, err := s.Health().Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatal(err)
		}
		s.Stop()
		var serving, stopping bool
		for _, rec := range logRecords(t, s.Stderr.String()) {
			switch rec["msg"] {
			case "serving":
				serving = true
				if rec["level"] != "INFO" || rec["address"] != s.Addr || rec["tls"] != false {
					t.Errorf("the serving record: %v, want level INFO, address %s, tls false", rec, s.Addr)
				}
			case "shutting down":
				stopping = true
			}
		}
		if !serving || !stopping {
			t.Errorf("no record of serving (%v) or of shutting down (%v):\n%s", serving, stopping, s.Stderr)
		}
	})

	t.Run("TextByDefault", func(t *testing.T) {
		s := servertest.Start(t)
		s.Stop()
		log := s.Stderr.String()
		if !regexp.MustCompile(`(?m)^time=\S+ level=INFO msg=serving address=` + regexp.QuoteMeta(s.Addr) + ` `).MatchString(log) {
			t.Errorf("no key=value line for serving on %s:\n%s", s.Addr, log)
		}
		if !strings.Contains(log, `msg="shutting down"`) {
			t.Errorf("no line for shutting down:\n%s", log)
		}
	})

	t.Run("ErrUnknownFormat", func(t *testing.T) {
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		cmd := exec.Command(servertest.Binary(t), "--log-format", "xml", "--data", data, "--listen", "127.0.0.1:0")
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); err == nil || code != 2 {
			t.Fatalf("exit %d (%v), want 2:\n%s", code, err, out)
		}
		if want := "parleyd: --log-format \"xml\": use text or json\n"; string(out) != want {
			t.Errorf("output %q, want %q", out, want)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("a refused start created the data folder (%v)", err)
		}
	})
}

func TestVersion(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(servertest.Binary(t), "--version")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0") // a -race binary otherwise sleeps a second at exit
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("parleyd --version: %v\n%s", err, stderr.String())
	}
	line := string(out)
	if !strings.HasPrefix(line, "parleyd ") || strings.Count(line, "\n") != 1 || stderr.Len() != 0 {
		t.Fatalf("parleyd --version printed %q, and on stderr %q: want one line", line, stderr.String())
	}
	if want := ", " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"; !strings.HasSuffix(line, want) {
		t.Errorf("%q does not end with the toolchain and platform %q", line, want)
	}
	// The binary was built from this checkout: when the toolchain recorded
	// the commit (a clone, not a git worktree, and -buildvcs not false), it
	// is the checkout's HEAD.
	if m := regexp.MustCompile(`commit ([0-9a-f]{40})`).FindStringSubmatch(line); m != nil {
		head, err := exec.Command("git", "-C", filepath.Join("..", ".."), "rev-parse", "HEAD").Output()
		if err == nil && strings.TrimSpace(string(head)) != m[1] {
			t.Errorf("commit %s, want HEAD %s", m[1], head)
		}
	} else if !strings.Contains(line, "commit unknown") {
		t.Errorf("%q names no commit and does not say it is unknown", line)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("--version wrote %d files in its folder", len(entries))
	}
}
