package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/parley-negotiation/parley/cmd/internal/buildinfo"
)

// manCommand writes a manual page for every command, made from the same
// text as --help, so the two never disagree. It is hidden: packagers and
// operators run it once at install time.
func (a *app) manCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:    "man --dir DIR",
		Short:  "Write a manual page (section 1) for every command into DIR",
		Hidden: true,
		Long: `man writes parley.1, parley-status.1, parley-amend-replace.1 … into DIR, one
page for every command, from the text of --help. Install them with, for
example, 'parley man --dir /usr/local/share/man/man1'. The pages are dated
$SOURCE_DATE_EPOCH when it is set (reproducible builds), else today.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(_ context.Context, _ []string) error {
			if a.json() {
				return usagef("man writes files and prints no JSON: leave out -o json")
			}
			if dir == "" {
				return usagef("give the folder to write the pages into with --dir")
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			date := time.Now()
			if s := a.Getenv("SOURCE_DATE_EPOCH"); s != "" {
				secs, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return usagef("SOURCE_DATE_EPOCH %q: not a number of seconds", s)
				}
				date = time.Unix(secs, 0).UTC()
			}
			header := &doc.GenManHeader{
				Section: "1",
				Source:  "Parley " + buildinfo.Read().Version,
				Manual:  "Parley Manual",
				Date:    &date,
			}
			root := a.current.Root()
			if err := doc.GenManTree(root, header, dir); err != nil {
				return err
			}
			_, err := fmt.Fprintf(a.Stdout, "Wrote the manual pages of %s into %s.\n", root.Name(), dir)
			return err
		}),
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder to write the pages into (created if absent)")
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}
