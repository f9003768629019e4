package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProfileFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "profiles.json")
	f, err := loadProfiles(path)
	if err != nil || len(f.Profiles) != 0 {
		t.Fatalf("missing file: %v, %v", f, err)
	}
	if name, p, err := f.pick("", path); name != "" || p != nil || err != nil {
		t.Fatalf("pick from nothing: %q %v %v", name, p, err)
	}
	f.Profiles["ukraine"] = &Profile{Server: "127.0.0.1:1", Token: "t1", Participant: "ukraine"}
	if err := f.save(path); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Dir(path)} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Fatalf("%s has mode %04o", p, perm)
		}
	}
	f, err = loadProfiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if name, p, err := f.pick("", path); name != "ukraine" || p.Token != "t1" || err != nil {
		t.Fatalf("the only profile: %q %v %v", name, p, err)
	}
	f.Profiles["russia"] = &Profile{Server: "127.0.0.1:1", Token: "t2"}
	if _, _, err := f.pick("", path); err == nil || !strings.Contains(err.Error(), "none chosen") {
		t.Fatalf("two profiles, none current: %v", err)
	}
	f.Current = "russia"
	if name, _, _ := f.pick("", path); name != "russia" {
		t.Fatalf("current: %q", name)
	}
	if name, _, _ := f.pick("ukraine", path); name != "ukraine" {
		t.Fatalf("named: %q", name)
	}
	if _, _, err := f.pick("europe", path); err == nil || !strings.Contains(err.Error(), "there are: russia, ukraine") {
		t.Fatalf("unknown name: %v", err)
	}
	os.Chmod(path, 0o640)
	if _, err := loadProfiles(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable file: %v", err)
	}
}

// TestMain_InProcess drives Main without a binary, for what needs no
// server: the command line's own errors and the exit codes.
func TestMain_InProcess(t *testing.T) {
	env := map[string]string{"PARLEY_CONFIG": filepath.Join(t.TempDir(), "profiles.json")}
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }}
		return m.Run(context.Background(), args), stdout.String(), stderr.String()
	}
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"frobnicate"}, ExitUsage, `parley: unknown command "frobnicate" for "parley" (see 'parley --help')`},
		{[]string{"status", "--bogus"}, ExitUsage, "parley: status: unknown flag: --bogus (see 'parley status --help')"},
		{[]string{"-o", "yaml", "doc"}, ExitUsage, `parley: doc: -o "yaml": use table or json (see 'parley doc --help')`},
		{[]string{"doc"}, ExitConfig, "parley: doc: no profile: " + loginHint},
		{[]string{"--server", "127.0.0.1:1", "doc"}, ExitConfig, "parley: doc: no token: pass --token TOKEN, or " + loginHint},
		{[]string{"use", "nobody"}, ExitConfig, `parley: use: no profile named "nobody": ` + env["PARLEY_CONFIG"] + " has none; " + loginHint},
	} {
		code, _, stderr := run(tc.args...)
		if code != tc.code || stderr != tc.err+"\n" {
			t.Errorf("parley %s: exit %d, %q; want %d, %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.err)
		}
	}
	if code, stdout, _ := run("--help"); code != 0 || !strings.Contains(stdout, "Exit codes:") {
		t.Errorf("--help: %d\n%s", code, stdout)
	}
}
