package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// membersCommand lists and manages participants' named members: the people
// who act for a participant, each with its own token.
func (a *app) membersCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "members",
		Short: "List participants' members; add or remove them (administrator; a head for its own)",
		Long: `Every participant acts through members, each with its own token: its default
member (the participant's own token, whose id is the participant's) and the
named members added here. Votes, sign-offs and acceptances stay the
participant's; the log names the member who acted. Once a participant has a
head (add --head, administrator only), only its heads and its default member
sign off and accept for it. Issue a member its token with
'parley token issue PARTICIPANT --member MEMBER'.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			n, err := a.negotiationName(ctx)
			if err != nil {
				return err
			}
			neg, err := a.cl.Negotiation(ctx, n)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, map[string]any{"participants": apiJSONList(neg.GetParticipants())})
			}
			w := table(a.Stdout)
			fmt.Fprintln(w, "PARTICIPANT\tMEMBER\tNAME\tHEAD\tTOKEN")
			yes := map[bool]string{true: "yes", false: "-"}
			for _, p := range neg.GetParticipants() {
				fmt.Fprintf(w, "%s\t%s (default)\t%s\t-\t%s\n", p.GetId(), p.GetId(), p.GetDisplayName(), yes[p.GetHasCredential()])
				for _, m := range p.GetMembers() {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.GetId(), m.GetId(), m.GetDisplayName(), yes[m.GetHead()], yes[m.GetHasCredential()])
				}
			}
			return w.Flush()
		}),
	}
	var name string
	var head bool
	add := &cobra.Command{
		Use:   "add PARTICIPANT MEMBER [--name NAME] [--head]",
		Short: "Add a named member to a participant",
		Args:  args(2, 2, "a participant id and a new member id"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			n, err := a.negotiationName(ctx)
			if err != nil {
				return err
			}
			p, err := a.cl.AddMember(a.mutationContext(ctx, args[1]), &parleyv1.AddMemberRequest{Negotiation: n,
				Participant: args[0], Member: args[1], DisplayName: name, Head: head})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, p)
			}
			fmt.Fprintf(a.Stdout, "Added member %s to %s; it has %s. Issue its token with 'parley token issue %s --member %s'.\n",
				args[1], args[0], plural(len(p.GetMembers()), "named member", "named members"), args[0], args[1])
			return nil
		}),
	}
	add.Flags().StringVar(&name, "name", "", "the member's name as people read it (default: its id)")
	add.Flags().BoolVar(&head, "head", false, "make the member a head: it manages the other members, and only heads sign off and accept")
	remove := &cobra.Command{
		Use:   "remove PARTICIPANT MEMBER",
		Short: "Remove a named member; its token stops working at once",
		Args:  args(2, 2, "a participant id and a member id"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			n, err := a.negotiationName(ctx)
			if err != nil {
				return err
			}
			p, err := a.cl.RemoveMember(a.mutationContext(ctx, args[1]), n, args[0], args[1])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, p)
			}
			fmt.Fprintf(a.Stdout, "Removed member %s of %s; its token no longer works.\n", args[1], args[0])
			return nil
		}),
	}
	cmd.AddCommand(add, remove)
	return cmd
}
