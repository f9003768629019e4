package main

import (
	"fmt"
	"io"

	"github.com/parley-negotiation/parley/cmd/internal/buildinfo"
)

// printVersion writes the line of --version: which build this parleyd is.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "parleyd %s\n", buildinfo.Read())
}
