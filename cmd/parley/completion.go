package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// completionTimeout bounds what a completion may ask the server: a shell
// waiting on a Tab key must get an answer, even an empty one, quickly.
const completionTimeout = 5 * time.Second

// completer is a cobra completion function.
type completer = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective)

// registerCompletions teaches the shell completion (`parley completion
// bash|zsh|fish`) the arguments that only the profile file and the server
// know: profile names, point numbers and amendment ids, each with a short
// description. A command missing from the tree is skipped: the completion
// test lists the ones that must have it.
func (a *app) registerCompletions(root *cobra.Command) {
	find := func(path ...string) *cobra.Command {
		c, rest, err := root.Find(path)
		if err != nil || len(rest) > 0 || c == root {
			return nil
		}
		return c
	}
	setArgs := func(fn completer, path ...string) {
		if c := find(path...); c != nil {
			c.ValidArgsFunction = fn
		}
	}
	setFlag := func(c *cobra.Command, flag string, fn completer) {
		if c != nil && (c.Flags().Lookup(flag) != nil || c.PersistentFlags().Lookup(flag) != nil) {
			_ = c.RegisterFlagCompletionFunc(flag, fn)
		}
	}

	// Global flags.
	setFlag(root, "profile", a.completeProfiles(false))
	setFlag(root, "output", fixedChoices("table\thuman-readable", "json\tone JSON object, or one a line for log and watch"))
	setFlag(root, "color", fixedChoices("auto\ton a terminal, unless NO_COLOR", "always", "never"))
	setFlag(root, "negotiation", a.completeNegotiations)

	// Profiles.
	setArgs(a.completeProfiles(true), "use")
	setArgs(a.completeProfiles(true), "logout")

	// Points, by number.
	setArgs(a.completePoints(1), "point")
	setArgs(a.completePoints(1), "diff")
	setArgs(a.completePoints(-1), "sign-off")
	setArgs(a.completePoints(-1), "revoke")
	setArgs(a.completePoints(1), "amend", "replace")
	setArgs(a.completePoints(1), "amend", "delete")
	setFlag(find("amend", "insert"), "after", a.completePoints(-1))
	setFlag(find("amendments"), "point", a.completePoints(-1))

	// Amendments, by id, offering those the command can act on.
	open, passed := parleyv1.AmendmentState_AMENDMENT_STATE_OPEN, parleyv1.AmendmentState_AMENDMENT_STATE_PASSED
	setArgs(a.completeAmendments(0, false), "amendment")
	setArgs(a.completeAmendments(0, false, open), "close-vote")
	setArgs(a.completeAmendments(0, false, passed), "apply")
	setArgs(a.completeAmendments(0, false, passed), "reject")
	// vote CHOICE ID: the choice first, then an open amendment.
	if vote := find("vote"); vote != nil {
		choices := fixedChoices("approve", "reject\tneeds --reason", "abstain")
		amendments := a.completeAmendments(1, false, open)
		vote.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return choices(cmd, args, toComplete)
			}
			return amendments(cmd, args, toComplete)
		}
	}
	setArgs(a.completeAmendments(0, true, open, passed), "withdraw") // one's own only
}

// fixedChoices completes from a fixed list ("value\tdescription").
func fixedChoices(choices ...string) completer {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, c := range choices {
			if strings.HasPrefix(c, toComplete) {
				out = append(out, c)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completionContext bounds a completion's calls to the server.
func completionContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, completionTimeout)
}

// noCompletion is the answer when the server or the profile file cannot be
// read: no candidates (rather than file names), and the reason in cobra's
// debug log (BASH_COMP_DEBUG_FILE).
func noCompletion(err error) ([]string, cobra.ShellCompDirective) {
	cobra.CompDebugln("parley: "+err.Error(), true)
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// completeProfiles completes profile names from the profile file, for a
// flag (positional false) or for a command's one positional argument.
func (a *app) completeProfiles(positional bool) completer {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if positional && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		_, file, err := a.profiles()
		if err != nil {
			return noCompletion(err)
		}
		var out []string
		for _, name := range file.names() {
			if strings.HasPrefix(name, toComplete) {
				out = append(out, name+"\t"+file.Profiles[name].String())
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeNegotiations completes --negotiation with the negotiations the
// caller may read.
func (a *app) completeNegotiations(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel := completionContext(cmd)
	defer cancel()
	cl, err := a.client()
	if err != nil {
		return noCompletion(err)
	}
	list, err := cl.Negotiations(ctx)
	if err != nil {
		return noCompletion(err)
	}
	var out []string
	for _, n := range list {
		if strings.HasPrefix(n.GetName(), toComplete) || strings.HasPrefix(lastPart(n.GetName()), toComplete) {
			out = append(out, n.GetName()+"\t"+oneLine(n.GetTitle()))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completePoints completes point numbers from the current document, with
// the start of each point's text; max is how many numbers the command takes
// as arguments (-1: any number, each once, or a flag's value).
func (a *app) completePoints(max int) completer {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if max >= 0 && len(args) >= max {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := completionContext(cmd)
		defer cancel()
		doc, err := a.document(ctx)
		if err != nil {
			return noCompletion(err)
		}
		var out []string
		for _, p := range doc.Points {
			n := strconv.Itoa(int(p.GetNumber()))
			if strings.HasPrefix(n, toComplete) && !slices.Contains(args, n) {
				out = append(out, n+"\t"+oneLine(p.GetText()))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
	}
}

// completeAmendments completes amendment ids: the whole id (a prefix could
// become ambiguous as amendments accumulate), described by what it does,
// its state and its proposer. position is the argument it completes; mine
// keeps the caller's own amendments only; states, if any, keeps those.
func (a *app) completeAmendments(position int, mine bool, states ...parleyv1.AmendmentState) completer {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) != position {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := completionContext(cmd)
		defer cancel()
		n, err := a.negotiationName(ctx)
		if err != nil {
			return noCompletion(err)
		}
		var me string
		if mine {
			if me, err = a.me(ctx); err != nil {
				return noCompletion(err)
			}
		}
		list, err := a.cl.Amendments(ctx, &parleyv1.ListAmendmentsRequest{Negotiation: n, States: states})
		if err != nil {
			return noCompletion(err)
		}
		prefix := strings.ToLower(toComplete)
		var out []string
		for _, am := range list {
			id := lastPart(am.GetName())
			if !strings.HasPrefix(id, prefix) || (mine && am.GetProposer() != me) {
				continue
			}
			out = append(out, fmt.Sprintf("%s\t%s, %s, by %s", id, describeAmendment(am), stateName(am.GetState()), am.GetProposer()))
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
	}
}

// oneLine shortens a text to the start of its first line, for a
// completion's description.
func oneLine(s string) string {
	const width = 60
	s, _, cut := strings.Cut(s, "\n")
	if r := []rune(s); len(r) > width {
		s, cut = string(r[:width]), true
	}
	if cut {
		s += "…"
	}
	return s
}
