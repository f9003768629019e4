package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// parseWhen reads a time given on the command line: RFC 3339
// (2026-12-04T17:00:00Z) or a duration from now (48h, 90m).
func parseWhen(flag, s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("%s %q: give an RFC 3339 time (2026-12-04T17:00:00Z) or a duration from now (48h)", flag, s)
	}
	return t, nil
}

// parseRule reads a decision rule from the command line's words.
func parseRule(rule string, quorum int32, threshold float64) (*parleyv1.DecisionRule, error) {
	method, ok := map[string]parleyv1.DecisionMethod{
		"consensus": parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS,
		"unanimity": parleyv1.DecisionMethod_DECISION_METHOD_UNANIMITY,
		"majority":  parleyv1.DecisionMethod_DECISION_METHOD_MAJORITY,
		"qualified": parleyv1.DecisionMethod_DECISION_METHOD_QUALIFIED,
	}[strings.ToLower(rule)]
	if !ok {
		return nil, usagef("--rule %q: use consensus, unanimity, majority or qualified", rule)
	}
	r := &parleyv1.DecisionRule{Method: method, Quorum: quorum}
	if method == parleyv1.DecisionMethod_DECISION_METHOD_QUALIFIED {
		if threshold <= 0 || threshold > 100 {
			return nil, usagef("--rule qualified needs --threshold PERCENT, above 0 and at most 100")
		}
		r.ThresholdBasisPoints = int32(threshold*100 + 0.5)
	} else if threshold != 0 {
		return nil, usagef("--threshold goes with --rule qualified")
	}
	return r, nil
}

// negotiationChange is a subcommand of 'parley negotiations' that changes
// the negotiation and prints it after the change.
func (a *app) negotiationChange(use, short string, nargs int, argsWhat string, act func(ctx context.Context, name string, args []string) (*parleyv1.Negotiation, string, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args(nargs, nargs, argsWhat),
		RunE: a.run(func(ctx context.Context, args []string) error {
			name, err := a.negotiationName(ctx)
			if err != nil {
				return err
			}
			n, done, err := act(a.mutationContext(ctx, ""), name, args)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, n)
			}
			fmt.Fprintf(a.Stdout, "%s %s is %s.\n", done, n.GetName(), negotiationState(n.GetState()))
			return nil
		}),
	}
}

// changeCommands are the subcommands of 'parley negotiations' that change a
// negotiation while it runs: the administrator's, or a mediator's where the
// negotiation allows it.
func (a *app) changeCommands() []*cobra.Command {
	var role string
	var weight int32
	add := a.negotiationChange("add-participant ID[=NAME] --role delegation|mediator|observer [--weight N]",
		"Add a participant (administrator, or a mediator where allowed)", 1, "a participant: ID or ID=NAME",
		func(ctx context.Context, name string, args []string) (*parleyv1.Negotiation, string, error) {
			r, ok := parleyv1.Role_value["ROLE_"+strings.ToUpper(role)]
			if !ok || r == 0 {
				return nil, "", usagef("--role %q: use delegation, mediator or observer", role)
			}
			p, err := parseParticipant(args[0], parleyv1.Role(r))
			if err != nil {
				return nil, "", err
			}
			p.Weight = weight
			n, err := a.cl.AddParticipant(ctx, name, p)
			return n, "Added " + p.GetId() + " to", err
		})
	add.Flags().StringVar(&role, "role", "delegation", "delegation, mediator or observer")
	add.Flags().Int32Var(&weight, "weight", 0, "a delegation's weight under a qualified majority (default 1)")

	remove := a.negotiationChange("remove-participant ID", "Remove a participant; its token stops working, its open votes are dropped", 1, "a participant id",
		func(ctx context.Context, name string, args []string) (*parleyv1.Negotiation, string, error) {
			n, err := a.cl.RemoveParticipant(ctx, name, args[0])
			return n, "Removed " + args[0] + " from", err
		})

	var rule string
	var quorum int32
	var threshold float64
	var weights []string
	setRule := a.negotiationChange("set-rule --rule RULE [--quorum N] [--threshold PERCENT] [--weight ID=N]...",
		"Change the decision rule, quorum or weights for amendments proposed from now on", 0, "",
		func(ctx context.Context, name string, _ []string) (*parleyv1.Negotiation, string, error) {
			r, err := parseRule(rule, quorum, threshold)
			if err != nil {
				return nil, "", err
			}
			w := map[string]int32{}
			for _, spec := range weights {
				id, value, ok := strings.Cut(spec, "=")
				n, err := strconv.Atoi(value)
				if !ok || err != nil || n < 1 {
					return nil, "", usagef("--weight %q: give ID=N with N a whole number, 1 or more", spec)
				}
				w[strings.TrimSpace(id)] = int32(n)
			}
			n, err := a.cl.SetDecisionRule(ctx, name, r, w)
			return n, "Rule now " + ruleText(n.GetDecisionRule()) + " for new amendments of", err
		})
	setRule.Flags().StringVar(&rule, "rule", "", "consensus, unanimity, majority or qualified")
	setRule.Flags().Int32Var(&quorum, "quorum", 0, "delegations that must vote for a vote to count (0: none)")
	setRule.Flags().Float64Var(&threshold, "threshold", 0, "for --rule qualified: the percentage of the weight that must approve")
	setRule.Flags().StringArrayVar(&weights, "weight", nil, "a delegation's new weight, ID=N (repeat)")

	rename := a.negotiationChange("rename TITLE", "Change the negotiation's title", 1, "the new title",
		func(ctx context.Context, name string, args []string) (*parleyv1.Negotiation, string, error) {
			n, err := a.cl.RenameNegotiation(ctx, name, args[0])
			return n, fmt.Sprintf("Renamed to %q:", n.GetTitle()), err
		})

	var reason string
	suspend := a.negotiationChange("suspend [--reason WHY]", "Pause the negotiation: nothing is proposed, voted, signed or accepted until it resumes", 0, "",
		func(ctx context.Context, name string, _ []string) (*parleyv1.Negotiation, string, error) {
			n, err := a.cl.SuspendNegotiation(ctx, name, reason)
			return n, "Suspended:", err
		})
	resume := a.negotiationChange("resume", "End a pause; deadlines that passed during it close now", 0, "",
		func(ctx context.Context, name string, _ []string) (*parleyv1.Negotiation, string, error) {
			n, err := a.cl.ResumeNegotiation(ctx, name)
			return n, "Resumed:", err
		})
	abandon := a.negotiationChange("abandon --reason WHY", "End the negotiation without agreement (final)", 0, "",
		func(ctx context.Context, name string, _ []string) (*parleyv1.Negotiation, string, error) {
			n, err := a.cl.AbandonNegotiation(ctx, name, reason)
			return n, "Abandoned:", err
		})
	for _, c := range []*cobra.Command{suspend, abandon} {
		c.Flags().StringVar(&reason, "reason", "", "why")
	}
	requireSignatures := a.negotiationChange("require-signatures", "Require every vote, sign-off and acceptance from now on to be signed by its member's key (final)", 0, "",
		func(ctx context.Context, name string, _ []string) (*parleyv1.Negotiation, string, error) {
			n, err := a.cl.RequireSignatures(ctx, name)
			return n, "Signatures required from now on:", err
		})
	return []*cobra.Command{add, remove, setRule, rename, suspend, resume, abandon, requireSignatures}
}

// deadlineCommand sets voting deadlines.
func (a *app) deadlineCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "deadline", Short: "Set the voting deadline of an open amendment (mediators)"}
	set := &cobra.Command{Use: "set ID WHEN", Short: "Set or move when the server closes voting: an RFC 3339 time or a duration from now (48h)",
		Args: args(2, 2, "an amendment id and a time (RFC 3339, or a duration from now such as 48h)")}
	set.RunE = a.run(func(ctx context.Context, args []string) error {
		at, err := parseWhen("WHEN", args[1])
		if err != nil {
			return err
		}
		name, err := a.resolveAmendment(ctx, args[0])
		if err != nil {
			return err
		}
		am, err := a.cl.SetVotingDeadline(a.mutationContext(ctx, ""), name, at)
		if err != nil {
			return err
		}
		if a.json() {
			return printJSON(a.Stdout, am)
		}
		fmt.Fprintf(a.Stdout, "Voting on %s (%s) closes at %s, in %s.\n", shortID(am.GetName()), describeAmendment(am),
			timeText(am.GetVotingDeadline()), max(time.Until(am.GetVotingDeadline().AsTime()), 0).Round(time.Second))
		return nil
	})
	cmd.AddCommand(set)
	return cmd
}
