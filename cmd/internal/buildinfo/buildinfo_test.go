package buildinfo_test

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/parley-negotiation/parley/cmd/internal/buildinfo"
)

func TestFrom(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		bi := &debug.BuildInfo{
			GoVersion: "go1.26.8",
			Main:      debug.Module{Path: "github.com/parley-negotiation/parley", Version: "v1.2.0"},
			Settings: []debug.BuildSetting{
				{Key: "GOOS", Value: "linux"},
				{Key: "GOARCH", Value: "arm64"},
				{Key: "vcs", Value: "git"},
				{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
				{Key: "vcs.time", Value: "2026-11-29T10:00:00Z"},
				{Key: "vcs.modified", Value: "true"},
			},
		}
		got := buildinfo.From(bi, true)
		want := buildinfo.Info{Version: "v1.2.0", Revision: "0123456789abcdef0123456789abcdef01234567",
			RevisionTime: "2026-11-29T10:00:00Z", Modified: true, GoVersion: "go1.26.8", Platform: "linux/arm64"}
		if got != want {
			t.Fatalf("From:\n got %+v\nwant %+v", got, want)
		}
		const line = "v1.2.0, commit 0123456789abcdef0123456789abcdef01234567 of 2026-11-29T10:00:00Z with uncommitted changes, go1.26.8 linux/arm64"
		if got.String() != line {
			t.Errorf("String:\n got %q\nwant %q", got.String(), line)
		}
	})
	t.Run("NoVCS", func(t *testing.T) {
		// go run, or a build outside a checkout: no vcs settings.
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/parley-negotiation/parley", Version: "(devel)"}}
		got := buildinfo.From(bi, true)
		if got.Revision != "" || got.Modified || got.Version != "(devel)" {
			t.Fatalf("From: %+v", got)
		}
		if want := "(devel), commit unknown, go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH; got.String() != want {
			t.Errorf("String: %q, want %q", got.String(), want)
		}
	})
	t.Run("NoBuildInfo", func(t *testing.T) {
		got := buildinfo.From(nil, false)
		if got.Version != "(devel)" || got.GoVersion != runtime.Version() || got.Platform != runtime.GOOS+"/"+runtime.GOARCH {
			t.Fatalf("From(nil): %+v", got)
		}
	})
}
