package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parley-negotiation/parley/server/servertest"
)

// lockedWriter takes writes from several goroutines: the progress lines and
// the started parleyd's standard error.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// TestModes runs each mode briefly against the real parleyd and checks the
// figures it writes: operations done, none failed, each beside a ceiling.
func TestModes(t *testing.T) {
	parleyd := servertest.Binary(t)
	// etcd is measured when PARLEY_BENCH_ETCD names an etcdbench binary
	// (built from its own module, cmd/parley-bench/etcdbench, as CI does).
	etcd, etcdFigures := "off", []string(nil)
	if bin := os.Getenv("PARLEY_BENCH_ETCD"); bin != "" {
		etcd, etcdFigures = bin, []string{"etcd Put (256 B, distinct keys)", "etcd Put, one client alone"}
	}
	for _, tc := range []struct {
		mode    string
		args    []string
		figures []string // names of figures that must have run without errors
	}{
		{"load", []string{"--clients", "4", "--delegations", "3", "--amendments", "8", "--duration", "1s", "--warmup", "100ms", "--solo", "500ms",
			"--mix", "vote:4,propose:1,signoff:1,read:1", "--etcd", etcd, "--rounds", "2"},
			append([]string{"no-op gRPC call (health check)", "workload: vote:4,propose:1,signoff:1,read:1", "CastVote, one client alone",
				"CastVote unsigned, 4 clients", "CastVote signed, 4 clients", "CastVote signed, one client alone"}, etcdFigures...)},
		{"load", []string{"--cluster", "3", "--failovers", "1", "--clients", "4", "--delegations", "3", "--amendments", "8", "--duration", "500ms",
			"--warmup", "100ms", "--solo", "300ms", "--rounds", "2"},
			[]string{"no-op gRPC call, single node", "CastVote, 4 clients, single node", "CastVote, 4 clients, cluster leader",
				"CastVote, 4 clients, cluster follower", "CastVote, one client alone, cluster follower"}},
		{"fanout", []string{"--watchers", "20", "--connections", "2", "--rate", "20", "--duration", "500ms"},
			[]string{"commit → delivery, 1 watcher(s)", "commit → delivery, 20 watcher(s)"}},
		{"scale", []string{"--points", "50", "--amendments", "200", "--delegations", "3", "--requests", "5"},
			[]string{"GetDocument, 50 points, text only (omit_alternatives)", "GetDocument, 50 points with alternatives, every page", "ListEvents, page of 1000 at a random place"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "figures.json")
			var stdout bytes.Buffer
			args := append([]string{tc.mode, "--parleyd", parleyd, "--json", out}, tc.args...)
			if err := run(context.Background(), args, &stdout, &lockedWriter{}); err != nil {
				t.Fatalf("%v\n%s", err, stdout.String())
			}
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var result struct {
				Figures []Figure `json:"figures"`
				Ratios  []Ratio  `json:"ratios"`
			}
			if err := json.Unmarshal(raw, &result); err != nil {
				t.Fatal(err)
			}
			for _, name := range tc.figures {
				found := false
				for _, f := range result.Figures {
					if f.Name == name {
						found = true
						if f.Ops == 0 || f.Errors != 0 {
							t.Errorf("%s: %d operations, %d errors (%s)", name, f.Ops, f.Errors, f.LastError)
						}
						if tc.mode == "load" && f.Rounds != 2 {
							t.Errorf("%s: measured over %d rounds, want 2", name, f.Rounds)
						}
					}
				}
				if !found {
					t.Errorf("no figure %q in %s", name, raw)
				}
			}
			if len(result.Ratios) == 0 || !strings.Contains(stdout.String(), "figure beside its ceiling") {
				t.Errorf("no figure beside its ceiling:\n%s", stdout.String())
			}
		})
	}
}

// TestCommandLine checks what a newcomer types first: help is shown and
// exits 0; a missing or unknown mode is a usage error (exit 2).
func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		stdout   string // printed on standard output, if not empty
		stderror string // printed on standard error, if not empty
	}{
		{[]string{"--help"}, 0, "Usage: parley-bench <mode> [flags]", ""},
		{[]string{"-h"}, 0, "Modes:", ""},
		{[]string{"help"}, 0, "Modes:", ""},
		{[]string{"load", "-h"}, 0, "", "Usage of parley-bench load:"},
		{nil, 2, "", "name a mode: load, fanout or scale"},
		{[]string{"lod"}, 2, "", `unknown mode "lod": use load, fanout or scale`},
		{[]string{"scale", "--points", "many"}, 2, "", `invalid value "many" for flag -points`},
		{[]string{"load", "--cluster", "3", "--target", "127.0.0.1:1"}, 2, "", "--cluster needs"},
	} {
		t.Run(strings.Join(append([]string{"args"}, tc.args...), " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := exitCode(run(context.Background(), tc.args, &stdout, &stderr), &stderr)
			if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderror) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
		})
	}
}
