package main

import (
	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/cmd/internal/buildinfo"
)

// addToolCommands adds what operators and shells use rather than
// negotiators: version, manual pages, and completion of the arguments that
// come from the server (profile names, point numbers, amendment ids).
func (a *app) addToolCommands(root *cobra.Command) {
	version := a.versionCommand()
	version.GroupID = "setup"
	root.AddCommand(version)
	root.Version = buildinfo.Read().String()
	root.SetVersionTemplate("parley {{.Version}}\n")
	root.AddCommand(a.manCommand())
	a.registerCompletions(root)
}
