package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) backupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Download a consistent copy of the server's database (administrator)",
		Long: `Downloads a snapshot of the whole database, taken while the server keeps serving, and
writes it to FILE (mode 0600) only once its size and SHA-256 match what the server sent.
To restore it, stop parleyd, put the file in place of <data>/parley.db, and start parleyd
with --verify (docs/operations.md). No --timeout applies: a large database takes its time.`,
		Args: args(1, 1, "the FILE to write"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			res, err := cl.Backup(ctx, args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, struct {
					File      string `json:"file"`
					SizeBytes int64  `json:"sizeBytes,string"`
					SHA256    string `json:"sha256"`
				}{args[0], res.Size, res.SHA256})
			}
			fmt.Fprintf(a.Stdout, "Wrote %s: %d bytes, sha256 %s\n", args[0], res.Size, res.SHA256)
			return nil
		}),
	}
}
