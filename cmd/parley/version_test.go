package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// parley version needs no profile and no server: it says which build this
// is, in words or as JSON with lowerCamel keys.
func TestVersion(t *testing.T) {
	c := newCLI(t)

	t.Run("JSON", func(t *testing.T) {
		out := c.ok("version", "-o", "json")
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		if want := "goVersion modified platform revision revisionTime version"; strings.Join(slices.Sorted(slices.Values(keys)), " ") != want {
			t.Fatalf("keys %v, want %s", keys, want)
		}
		if got["goVersion"] != runtime.Version() || got["platform"] != runtime.GOOS+"/"+runtime.GOARCH {
			t.Errorf("goVersion %v platform %v, want %s %s/%s", got["goVersion"], got["platform"], runtime.Version(), runtime.GOOS, runtime.GOARCH)
		}
		if v, _ := got["version"].(string); v == "" {
			t.Errorf("no module version: %v", got)
		}
		if _, ok := got["modified"].(bool); !ok {
			t.Errorf("modified is not a boolean: %v", got["modified"])
		}
		// When the toolchain recorded the commit (a clone, not a git
		// worktree, and -buildvcs not false), it is the checkout's HEAD.
		if rev, _ := got["revision"].(string); rev != "" {
			head, err := exec.Command("git", "-C", filepath.Join("..", ".."), "rev-parse", "HEAD").Output()
			if err == nil && strings.TrimSpace(string(head)) != rev {
				t.Errorf("revision %s, want HEAD %s", rev, head)
			}
		}
	})

	t.Run("Text", func(t *testing.T) {
		out := c.ok("version")
		pattern := `^parley \S+, commit ([0-9a-f]{40}( of \S+)?( with uncommitted changes)?|unknown), ` +
			regexp.QuoteMeta(runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) + "\n$"
		if !regexp.MustCompile(pattern).MatchString(out) {
			t.Errorf("parley version printed %q, want a line matching %s", out, pattern)
		}
		if flag := c.ok("--version"); flag != out {
			t.Errorf("parley --version printed %q, parley version %q", flag, out)
		}
	})

	t.Run("ErrArgs", func(t *testing.T) {
		c.fails(ExitUsage, "version", "extra")
	})
}
