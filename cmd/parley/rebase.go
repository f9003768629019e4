package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// rebaseCommand is 'parley amend rebase ID': re-propose a STALE amendment
// on its point's current text.
func (a *app) rebaseCommand() *cobra.Command {
	var rationale, deadline string
	cmd := &cobra.Command{
		Use:   "rebase ID",
		Short: "Re-propose your STALE amendment on the point's current text, merged word by word",
		Long: `rebase re-proposes an amendment of yours that went STALE because another
amendment changed its point first. The server merges, word by word, your change
(from the text you drafted against to your text) with the change applied since.
When they do not touch, a new amendment with the merged text opens for voting,
naming the stale one it comes from. When they overlap, or only white space lies
between them, nothing is proposed: the conflicts are shown (what the text read,
what yours makes of it, what it reads now) and you redraft with
'parley amend replace N'. Exit code 1 with the reason REBASE_CONFLICT.

A DELETE rebases only if the point reads again as when you drafted it; an
INSERT goes stale only when the point it follows is deleted, and is proposed
again with 'parley amend insert --after N'. The rationale is the stale
amendment's unless --rationale gives another.`,
		Args: args(1, 1, "an amendment id or a unique prefix"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			name, err := a.resolveAmendment(ctx, args[0])
			if err != nil {
				return err
			}
			negotiation, _, _ := strings.Cut(name, "/amendments/")
			req := &parleyv1.ProposeAmendmentRequest{Negotiation: negotiation, RebaseOf: name, Rationale: rationale}
			if err := a.fillProposal(ctx, req, "", deadline); err != nil {
				return err
			}
			am, err := a.cl.ProposeAmendment(a.mutationContext(ctx, ""), req)
			if err != nil {
				if shown, total, revision := client.RebaseConflicts(err); len(shown) > 0 && !a.json() {
					redraft := "parley amend replace N"
					if stale, err := a.cl.Amendment(ctx, name); err == nil && stale.GetPointNumber() > 0 {
						redraft = fmt.Sprintf("parley amend replace %d", stale.GetPointNumber())
					}
					writeConflicts(a, shown, total, revision, redraft)
				}
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, am)
			}
			fmt.Fprintf(a.Stdout, "Re-proposed %s as %s: %s, merged onto revision %d. Voting is %s",
				shortID(name), shortID(am.GetName()), describeAmendment(am), am.GetBaseRevision(), stateName(am.GetState()))
			if d := am.GetVotingDeadline(); d != nil {
				fmt.Fprintf(a.Stdout, " until %s", timeText(d))
			}
			fmt.Fprintln(a.Stdout, ".")
			if am.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE {
				segs, err := a.amendmentRedline(ctx, am.GetName())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.Stdout, "\n%s\n\n", renderRedline(segs, a.st.redlineFormat()))
			}
			fmt.Fprintf(a.Stdout, "Delegations vote with: parley vote approve|reject|abstain %s\n", shortID(am.GetName()))
			return nil
		}),
	}
	cmd.Flags().StringVar(&rationale, "rationale", "", "why you propose it (default: the stale amendment's rationale)")
	cmd.Flags().StringVar(&deadline, "deadline", "", "when the server closes voting: an RFC 3339 time or a duration from now (48h); default: the negotiation's, if any")
	return cmd
}

// writeConflicts shows a rebase's conflicts on standard error, one block
// each, before the error's line.
func writeConflicts(a *app, shown []client.RebaseConflict, total int, revision int64, redraft string) {
	w := a.Stderr
	fmt.Fprintf(w, "Your change and the one applied since overlap in %s:\n", plural(total, "place", "places"))
	show := func(s string) string {
		if s == "" {
			return "(nothing)"
		}
		return fmt.Sprintf("%q", s)
	}
	for _, c := range shown {
		fmt.Fprintf(w, "  at %s\n    it read:  %s\n    yours:    %s\n    theirs:   %s\n", c.Words, show(c.Base), show(c.Yours), show(c.Theirs))
	}
	if total > len(shown) {
		fmt.Fprintf(w, "  and %d more\n", total-len(shown))
	}
	fmt.Fprintf(w, "Redraft against revision %d with '%s'.\n", revision, redraft)
}
