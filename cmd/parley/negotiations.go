package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

func (a *app) negotiationsCommand() *cobra.Command {
	list := a.run(func(ctx context.Context, _ []string) error {
		cl, err := a.client()
		if err != nil {
			return err
		}
		all, err := cl.Negotiations(ctx)
		if err != nil {
			return err
		}
		if a.json() {
			return printJSON(a.Stdout, &parleyv1.ListNegotiationsResponse{Negotiations: all})
		}
		w := table(a.Stdout)
		fmt.Fprintln(w, "NAME\tTITLE\tSTATE\tPOINTS\tAGREED\tPENDING\tACCEPTED")
		for _, n := range all {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d/%d\n", n.GetName(), truncate(n.GetTitle(), 50, false), negotiationState(n.GetState()),
				n.GetPointCount(), n.GetAgreedPointCount(), n.GetPendingAmendmentCount(), currentAcceptances(n), len(delegations(n)))
		}
		return w.Flush()
	})
	cmd := &cobra.Command{
		Use:   "negotiations",
		Short: "List, show or create negotiations",
		RunE:  list,
	}
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownSubcommand(c, args[0])
		}
		return nil
	}
	cmd.AddCommand(
		&cobra.Command{Use: "list", Short: "List the negotiations you may read", Args: args(0, 0, ""), RunE: list},
		&cobra.Command{Use: "show [NAME]", Short: "Show a negotiation: rule, participants, counts, acceptances",
			Args: args(0, 1, "at most one negotiation name"),
			RunE: a.run(func(ctx context.Context, args []string) error {
				if len(args) == 1 {
					a.negotiation = args[0]
				}
				name, err := a.negotiationName(ctx)
				if err != nil {
					return err
				}
				n, err := a.cl.Negotiation(ctx, name)
				if err != nil {
					return err
				}
				if a.json() {
					return printJSON(a.Stdout, n)
				}
				return a.printNegotiation(a.Stdout, n)
			})},
		a.createCommand(),
	)
	cmd.AddCommand(a.changeCommands()...)
	return cmd
}

// currentAcceptances counts the acceptances of the current text.
func currentAcceptances(n *parleyv1.Negotiation) int {
	count := 0
	for _, acc := range n.GetAcceptances() {
		if acc.GetCurrent() {
			count++
		}
	}
	return count
}

func (a *app) printNegotiation(w io.Writer, n *parleyv1.Negotiation) error {
	fmt.Fprintf(w, "%s\n%s\n\n", a.st.bold(n.GetTitle()), n.GetName())
	t := table(w)
	fmt.Fprintf(t, "state\t%s\n", negotiationState(n.GetState()))
	if n.GetState() == parleyv1.NegotiationState_NEGOTIATION_STATE_CONCLUDED {
		fmt.Fprintf(t, "concluded\t%s\n", timeText(n.GetConcludeTime()))
	}
	fmt.Fprintf(t, "decision rule\t%s\n", ruleText(n.GetDecisionRule()))
	if versions := n.GetDecisionRuleVersions(); len(versions) > 1 {
		fmt.Fprintf(t, "\t(version %d; amendments keep the rule they were proposed under)\n", len(versions))
	}
	if d := n.GetDefaultVotingDuration(); d != nil {
		fmt.Fprintf(t, "voting\tcloses %s after a proposal by default\n", d.AsDuration())
	}
	if d := n.GetMaxVotingDuration(); d != nil {
		fmt.Fprintf(t, "deadlines\tat most %s after a proposal\n", d.AsDuration())
	}
	if n.GetMediatorsMayChange() {
		fmt.Fprintf(t, "changes\tby the administrator or a mediator\n")
	}
	if n.GetSignaturesRequired() {
		fmt.Fprintf(t, "signatures\trequired since event %d\n", n.GetSignaturesRequiredSequence())
	}
	for _, k := range n.GetSigningKeys() {
		state := "current"
		if k.GetEndSequence() != 0 {
			state = fmt.Sprintf("ended at event %d", k.GetEndSequence())
		}
		fmt.Fprintf(t, "signing key\t%s of %s, registered at event %d, %s\n", shortHash(k.GetKeyId()), memberText(k.GetParticipant(), k.GetMember()), k.GetSequence(), state)
	}
	fmt.Fprintf(t, "created\t%s\n", timeText(n.GetCreateTime()))
	fmt.Fprintf(t, "document\t%d points, %d agreed, %s pending\n", n.GetPointCount(), n.GetAgreedPointCount(),
		plural(int(n.GetPendingAmendmentCount()), "amendment", "amendments"))
	fmt.Fprintf(t, "sha256\t%s\n", n.GetDocumentSha256())
	fmt.Fprintf(t, "last event\t%d\n", n.GetLastSequence())
	t.Flush()
	accepted := map[string]*parleyv1.Acceptance{}
	for _, acc := range n.GetAcceptances() {
		accepted[acc.GetParticipant()] = acc
	}
	fmt.Fprintln(w, "\nParticipants:")
	t = table(w)
	fmt.Fprintln(t, "  ID\tNAME\tROLE\tWEIGHT\tTOKEN\tACCEPTED")
	for _, p := range n.GetParticipants() {
		weight, acc := "-", "-"
		if p.GetRole() == parleyv1.Role_ROLE_DELEGATION {
			weight = strconv.Itoa(int(max(p.GetWeight(), 1)))
			acc = "no"
			if x, ok := accepted[p.GetId()]; ok {
				acc = "yes, sha256 " + shortHash(x.GetDocumentSha256())
				if !x.GetCurrent() {
					acc = "an earlier text"
				}
			}
		}
		token := "none"
		if p.GetHasCredential() {
			token = "issued"
		}
		fmt.Fprintf(t, "  %s\t%s\t%s\t%s\t%s\t%s\n", p.GetId(), p.GetDisplayName(), roleName(p.GetRole()), weight, token, acc)
	}
	for _, p := range n.GetRemovedParticipants() {
		fmt.Fprintf(t, "  %s\t%s\t%s\t-\tremoved\t-\n", p.GetId(), p.GetDisplayName(), roleName(p.GetRole()))
	}
	return t.Flush()
}

func (a *app) createCommand() *cobra.Command {
	var (
		title, file, rule string
		dels, meds, obs   []string
		quorum            int32
		threshold         float64
		observersComment  bool

		mediatorsMayChange                bool
		votingDuration, maxVotingDuration time.Duration
		requireSignatures                 bool
	)
	cmd := &cobra.Command{
		Use:   "create --title TITLE --file TEXT --delegation ID... --mediator ID... [--rule RULE]",
		Short: "Create a negotiation from a numbered text file (administrator)",
		Long: `create starts a negotiation from a plain numbered text: a line that starts with
the next number and a dot ("1. ", "2. ", …) starts a point; other lines belong
to the point above them, so sub-items stay with their point. --file - reads
standard input.

A negotiation needs at least one delegation and at least one mediator: only
delegations vote, sign off and accept, and only a mediator applies or rejects
an amendment that passed. Participants are given as ID, ID=Display Name, or
for a weighted delegation ID:WEIGHT=Display Name:

  parley negotiations create --title "28-point peace plan" --file plan.txt \
    --delegation ukraine=Ukraine --delegation russia=Russia \
    --delegation united-states="United States" --delegation europe=Europe \
    --mediator mediator=Mediator --rule consensus

Rules: consensus (no delegation rejects, one approves), unanimity, majority
(more than half approve), qualified (--threshold percent of the weight).`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			if title == "" || file == "" || len(dels) == 0 || len(meds) == 0 {
				return usagef("create needs --title, --file, at least one --delegation and at least one --mediator (only a mediator applies what passed)")
			}
			decisionRule, err := parseRule(rule, quorum, threshold)
			if err != nil {
				return err
			}
			req := &parleyv1.CreateNegotiationRequest{Title: title, DecisionRule: decisionRule, MediatorsMayChange: mediatorsMayChange,
				ObserversMayComment: observersComment, RequireSignatures: requireSignatures}
			if votingDuration > 0 {
				req.DefaultVotingDuration = durationpb.New(votingDuration)
			}
			if maxVotingDuration > 0 {
				req.MaxVotingDuration = durationpb.New(maxVotingDuration)
			}
			for _, group := range []struct {
				role  parleyv1.Role
				specs []string
			}{{parleyv1.Role_ROLE_DELEGATION, dels}, {parleyv1.Role_ROLE_MEDIATOR, meds}, {parleyv1.Role_ROLE_OBSERVER, obs}} {
				for _, spec := range group.specs {
					p, err := parseParticipant(spec, group.role)
					if err != nil {
						return err
					}
					req.Participants = append(req.Participants, p)
				}
			}
			text, err := a.readText(file)
			if err != nil {
				return err
			}
			req.NumberedText = text
			cl, err := a.client()
			if err != nil {
				return err
			}
			n, err := cl.CreateNegotiation(a.mutationContext(ctx, ""), req)
			if err != nil {
				return err
			}
			defaulted := a.adoptNegotiation(n.GetName())
			if a.json() {
				return printJSON(a.Stdout, n)
			}
			var ids []string
			for _, p := range n.GetParticipants() {
				ids = append(ids, p.GetId())
			}
			fmt.Fprintf(a.Stdout, "Created %s %q: %d points, %s, rule %s.\n", n.GetName(), n.GetTitle(), n.GetPointCount(),
				plural(len(delegations(n)), "delegation", "delegations"), ruleText(n.GetDecisionRule()))
			if defaulted {
				fmt.Fprintf(a.Stdout, "Profile %s now acts on it by default.\n", a.connName)
			}
			fmt.Fprintf(a.Stdout, "Next, issue the participants' tokens: parley token issue %s -n %s\n", strings.Join(ids, " "), n.GetName())
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&title, "title", "", "the negotiation's title")
	f.StringVar(&file, "file", "", "the numbered text (- for standard input)")
	f.StringArrayVar(&dels, "delegation", nil, "a delegation: ID, ID=NAME or ID:WEIGHT=NAME (repeat)")
	f.StringArrayVar(&meds, "mediator", nil, "a mediator: ID or ID=NAME (repeat)")
	f.StringArrayVar(&obs, "observer", nil, "an observer: ID or ID=NAME (repeat)")
	f.BoolVar(&observersComment, "observers-may-comment", false, "let observers comment too (by default they only read)")
	f.StringVar(&rule, "rule", "consensus", "decision rule: consensus, unanimity, majority or qualified")
	f.Int32Var(&quorum, "quorum", 0, "delegations that must vote for a vote to count (0: none)")
	f.Float64Var(&threshold, "threshold", 0, "for --rule qualified: the percentage of the weight that must approve")
	f.BoolVar(&mediatorsMayChange, "mediators-may-change", false, "let mediators add and remove participants, rename, change the rule, suspend, resume and abandon")
	f.DurationVar(&votingDuration, "voting-duration", 0, "default voting deadline of new amendments, after their proposal (e.g. 72h; 0: none)")
	f.BoolVar(&requireSignatures, "require-signatures", false, "require every vote, sign-off and acceptance to be signed by its member's registered key (see 'parley key')")
	f.DurationVar(&maxVotingDuration, "max-voting-duration", 0, "the latest any voting deadline may be, after the proposal (0: the server's 366 days)")
	return cmd
}

// adoptNegotiation makes a negotiation the default of the administrator's
// profile that created it, so that the next commands need no --negotiation.
func (a *app) adoptNegotiation(name string) bool {
	if a.connName == "" || a.conn.Role != "admin" || a.negotiation != "" {
		return false
	}
	path, file, err := a.profiles()
	if err != nil {
		return false
	}
	p, ok := file.Profiles[a.connName]
	if !ok || p.Token != a.conn.Token {
		return false
	}
	p.Negotiation = name
	return file.save(path) == nil
}

// parseParticipant reads ID, ID=NAME or ID:WEIGHT=NAME.
func parseParticipant(spec string, role parleyv1.Role) (*parleyv1.Participant, error) {
	left, name, _ := strings.Cut(spec, "=")
	id, weightText, weighted := strings.Cut(left, ":")
	p := &parleyv1.Participant{Id: strings.TrimSpace(id), DisplayName: strings.TrimSpace(name), Role: role}
	if weighted {
		w, err := strconv.Atoi(weightText)
		if err != nil || w < 1 {
			return nil, usagef("participant %q: the weight after ':' must be a whole number, 1 or more", spec)
		}
		if role != parleyv1.Role_ROLE_DELEGATION {
			return nil, usagef("participant %q: only delegations have a weight", spec)
		}
		p.Weight = int32(w)
	}
	if p.GetId() == "" {
		return nil, usagef("participant %q has no id", spec)
	}
	return p, nil
}

// readText reads a file, or standard input for "-".
func (a *app) readText(path string) (string, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(io.LimitReader(a.Stdin, 16<<20))
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return "", usagef("%v", err)
	}
	return string(raw), nil
}
