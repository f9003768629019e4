package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/cmd/internal/buildinfo"
)

// versionCommand prints which build this parley is, from what the Go
// toolchain stamped into the binary: enough for a bug report.
func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print parley's version: module version, commit, Go toolchain",
		Long: `Print parley's version, read from the build information the Go toolchain puts in
every binary: the module version (a release tag, a pseudo-version made of the
commit's date and hash, or "(devel)"), the commit it was built from and whether
that checkout had uncommitted changes, and the Go toolchain and platform.

With -o json the same fields are one JSON object with lowerCamel keys:
version, revision, revisionTime, modified, goVersion, platform.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(_ context.Context, _ []string) error {
			info := buildinfo.Read()
			if a.json() {
				enc := json.NewEncoder(a.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			_, err := fmt.Fprintf(a.Stdout, "parley %s\n", info)
			return err
		}),
	}
}
