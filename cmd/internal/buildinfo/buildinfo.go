// Package buildinfo says which build of Parley a binary is: the module
// version, the commit it was built from and whether the tree had local
// changes, and the Go toolchain. It reads what the Go toolchain stamps into
// every binary (runtime/debug.ReadBuildInfo), so nothing has to be passed
// with -ldflags.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is the build information of a binary. The JSON keys are lowerCamel,
// like the protojson output of every other `-o json`.
type Info struct {
	// Version is the main module's version: a release tag such as v1.2.0, a
	// pseudo-version derived from the commit, or "(devel)" when the toolchain
	// knew no better (go run, or a build outside a git checkout).
	Version string `json:"version"`
	// Revision is the commit the binary was built from, "" if unknown (built
	// outside a checkout, or with -buildvcs=false).
	Revision string `json:"revision"`
	// RevisionTime is when that commit was made, RFC 3339, "" if unknown.
	RevisionTime string `json:"revisionTime"`
	// Modified says the checkout had uncommitted changes at build time: the
	// binary is not exactly Revision.
	Modified bool `json:"modified"`
	// GoVersion is the toolchain that built the binary, e.g. go1.26.8.
	GoVersion string `json:"goVersion"`
	// Platform is the target, GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	return From(bi, ok)
}

// From returns the build information held by bi; ok false (no information
// embedded) gives what the runtime alone knows.
func From(bi *debug.BuildInfo, ok bool) Info {
	info := Info{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok || bi == nil {
		return info
	}
	if v := bi.Main.Version; v != "" {
		info.Version = v
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.RevisionTime = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		info.Platform = goos + "/" + goarch
	}
	return info
}

// String is the one line a version command prints, after the program's
// name: "v1.2.0, commit 0123abcd… (modified), go1.26.8 linux/amd64".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString(i.Version)
	if i.Revision != "" {
		fmt.Fprintf(&b, ", commit %s", i.Revision)
		if i.RevisionTime != "" {
			fmt.Fprintf(&b, " of %s", i.RevisionTime)
		}
		if i.Modified {
			b.WriteString(" with uncommitted changes")
		}
	} else {
		b.WriteString(", commit unknown")
	}
	fmt.Fprintf(&b, ", %s %s", i.GoVersion, i.Platform)
	return b.String()
}
