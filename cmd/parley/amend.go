package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// minPrefix is the shortest amendment id prefix taken from the command line.
const minPrefix = 4

// resolveAmendment finds an amendment from its resource name, its id, or a
// unique prefix of its id.
func (a *app) resolveAmendment(ctx context.Context, arg string) (string, error) {
	n, err := a.negotiationName(ctx)
	if err != nil {
		return "", err
	}
	if strings.Contains(arg, "/amendments/") {
		return arg, nil
	}
	id := strings.ToLower(arg)
	if len(id) == 36 {
		return n + "/amendments/" + id, nil
	}
	if len(id) < minPrefix {
		return "", usagef("amendment %q: give at least %d characters of its id", arg, minPrefix)
	}
	all, err := a.cl.Amendments(ctx, &parleyv1.ListAmendmentsRequest{Negotiation: n})
	if err != nil {
		return "", err
	}
	var matches []string
	for _, am := range all {
		if strings.HasPrefix(lastPart(am.GetName()), id) {
			matches = append(matches, am.GetName())
		}
	}
	switch len(matches) {
	case 0:
		return "", &client.Error{Code: codes.NotFound, Reason: "AMENDMENT_NOT_FOUND",
			Message: fmt.Sprintf("no amendment id starts with %q (list them with 'parley amendments')", arg)}
	case 1:
		return matches[0], nil
	}
	var ids []string
	for _, m := range matches {
		ids = append(ids, lastPart(m)[:min(len(id)+4, 36)])
	}
	return "", usagef("amendment %q is ambiguous: it starts %s; give more characters", arg, strings.Join(ids, ", "))
}

// pointText names the point an amendment is about.
func pointText(am *parleyv1.Amendment) string {
	if isPackage(am) {
		return packagePointText(am)
	}
	num := am.GetPointNumber()
	switch {
	case am.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT && am.GetPoint() == "":
		return "at start"
	case am.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT && num == 0:
		return "after a deleted point"
	case am.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT:
		return fmt.Sprintf("after %d", num)
	case num == 0:
		return "deleted point"
	}
	return fmt.Sprintf("%d", num)
}

// describeAmendment says what an amendment does: "REPLACE point 6".
func describeAmendment(am *parleyv1.Amendment) string {
	if isPackage(am) {
		return describeParts(am)
	}
	where := pointText(am)
	if am.GetKind() != parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT && am.GetPointNumber() != 0 {
		where = "point " + where
	}
	return kindName(am.GetKind()) + " " + where
}

// votesText counts votes: "✓2 ✗1 ○0 ·1" (approve, reject, abstain, not
// voted).
func votesText(am *parleyv1.Amendment, delegations int) string {
	var approve, reject, abstain int
	for _, v := range am.GetVotes() {
		switch v.GetChoice() {
		case parleyv1.VoteChoice_VOTE_CHOICE_APPROVE:
			approve++
		case parleyv1.VoteChoice_VOTE_CHOICE_REJECT:
			reject++
		case parleyv1.VoteChoice_VOTE_CHOICE_ABSTAIN:
			abstain++
		}
	}
	return fmt.Sprintf("✓%d ✗%d ○%d ·%d", approve, reject, abstain, max(delegations-len(am.GetVotes()), 0))
}

func tallyText(t *parleyv1.Tally) string {
	s := fmt.Sprintf("approve %d, reject %d, abstain %d, not voted %d", t.GetApprove(), t.GetReject(), t.GetAbstain(), t.GetNotVoted())
	if heads := int64(t.GetApprove() + t.GetReject() + t.GetAbstain() + t.GetNotVoted()); t.GetTotalWeight() > 0 && t.GetTotalWeight() != heads {
		// Weighted delegations: a qualified majority counts weight, not heads.
		s += fmt.Sprintf("; weight approving %d of %d (%s%%)", t.GetApprovingWeight(), t.GetTotalWeight(),
			strconv.FormatFloat(float64(t.GetApprovingWeight())*100/float64(t.GetTotalWeight()), 'f', 1, 64))
	}
	if !t.GetQuorumMet() {
		s += "; quorum not met"
	}
	return s
}

func (a *app) printAmendments(w io.Writer, doc *client.Document, list []*parleyv1.Amendment) {
	dels := len(delegations(doc.Negotiation))
	t := table(w)
	fmt.Fprintln(t, "  ID\tKIND\tPOINT\tSTATE\tBY\tVOTES\tTEXT")
	for _, am := range list {
		text := am.GetText()
		if am.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE {
			text = "(delete) " + am.GetRationale()
		}
		if isPackage(am) {
			text = packageText(am)
		}
		fmt.Fprintf(t, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", shortID(am.GetName()), kindText(am), pointText(am),
			stateName(am.GetState()), proposerText(am), votesText(am, dels), firstLine(text, 50))
	}
	t.Flush()
}

// proposerText names an amendment's proposer, marking a mediator's proposal
// and a counter-proposal: "mediator (mediator) ↩1a2b3c4d".
func proposerText(am *parleyv1.Amendment) string {
	s := am.GetProposer()
	if am.GetByMediator() {
		s += " (mediator)"
	}
	if am.GetCounterTo() != "" {
		s += " ↩" + shortID(am.GetCounterTo())
	}
	return s
}

func (a *app) amendCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "amend",
		Short: "Propose an amendment: replace, insert or delete a point (delegations and mediators)",
		Long: `amend proposes an amendment, which the delegations then vote on. A mediator
may propose too: its compromise text is marked as the mediator's.

'amend package' proposes a package deal: changes of several points in one
amendment, voted once and applied together ("we give on 6 if you give on 19").

--counter-to ID answers a pending amendment of the same point with another
text (for an insert, another insert after the same point): the competing
texts are shown as a bracketed choice [current | A | B] by 'parley doc',
'parley status' and 'parley export', and applying one makes the others stale.

'parley amend rebase ID' re-proposes your STALE amendment on the point's
current text, merged word by word with the change applied since.`,
	}
	var text, file, rationale, after, counter, deadline string
	var base int64
	var atStart bool
	propose := func(kind parleyv1.AmendmentKind) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error {
			req := &parleyv1.ProposeAmendmentRequest{Kind: kind, Rationale: rationale}
			if err := a.fillProposal(ctx, req, counter, deadline); err != nil {
				return err
			}
			if kind != parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE {
				switch {
				case text != "" && file != "":
					return usagef("give the new text with --text or --file, not both")
				case file != "":
					t, err := a.readText(file)
					if err != nil {
						return err
					}
					req.Text = t
				case text != "":
					req.Text = text
				default:
					return usagef("give the new text with --text TEXT or --file FILE")
				}
			}
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			req.Negotiation = doc.Negotiation.GetName()
			var target *parleyv1.Point
			if kind == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT {
				switch {
				case after != "" && atStart, after == "" && !atStart:
					return usagef("say where the new point goes: --after N or --at-start")
				case after != "":
					if target, err = pointArg(doc, after); err != nil {
						return err
					}
					req.Point = target.GetName()
				}
			} else {
				if target, err = pointArg(doc, args[0]); err != nil {
					return err
				}
				// The amendment is drafted against the revision read now,
				// unless the author says which one they read.
				req.Point, req.BaseRevision = target.GetName(), target.GetRevision()
				if base != 0 {
					req.BaseRevision = base
				}
			}
			am, err := a.cl.ProposeAmendment(a.mutationContext(ctx, ""), req)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, am)
			}
			printProposed(a.Stdout, am)
			if am.GetByMediator() {
				fmt.Fprintln(a.Stdout, "It is marked as the mediator's proposal; the delegations vote on it like any other.")
			}
			if kind == parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE || kind == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT {
				segs, err := a.amendmentRedline(ctx, am.GetName())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.Stdout, "\n%s\n\n", renderRedline(segs, a.st.redlineFormat()))
			}
			fmt.Fprintf(a.Stdout, "Delegations vote with: parley vote approve|reject|abstain %s\n", shortID(am.GetName()))
			return nil
		}
	}
	textFlags := func(c *cobra.Command) {
		c.Flags().StringVar(&text, "text", "", "the new text")
		c.Flags().StringVar(&file, "file", "", "read the new text from a file (- for standard input)")
	}
	replace := &cobra.Command{Use: "replace N (--text TEXT | --file FILE)", Short: "Propose a new text for point N",
		Args: args(1, 1, "a point number"), RunE: a.run(propose(parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE))}
	textFlags(replace)
	insert := &cobra.Command{Use: "insert (--after N | --at-start) (--text TEXT | --file FILE)", Short: "Propose a new point",
		Args: args(0, 0, ""), RunE: a.run(propose(parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT))}
	textFlags(insert)
	insert.Flags().StringVar(&after, "after", "", "insert after point N")
	insert.Flags().BoolVar(&atStart, "at-start", false, "insert before point 1")
	del := &cobra.Command{Use: "delete N", Short: "Propose to delete point N",
		Args: args(1, 1, "a point number"), RunE: a.run(propose(parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE))}
	for _, c := range []*cobra.Command{replace, insert, del} {
		c.Flags().StringVar(&rationale, "rationale", "", "why you propose it")
		c.Flags().StringVar(&counter, "counter-to", "", "answer this pending amendment of the same point with another text")
		c.Flags().StringVar(&deadline, "deadline", "", "when the server closes voting: an RFC 3339 time or a duration from now (48h); default: the negotiation's, if any")
	}
	for _, c := range []*cobra.Command{replace, del} {
		c.Flags().Int64Var(&base, "base-revision", 0, "the revision you drafted against (default: the current one); if the point changed since, the server refuses")
	}
	cmd.AddCommand(replace, insert, del, a.rebaseCommand(), a.packageCommand())
	return cmd
}

func (a *app) packageCommand() *cobra.Command {
	var parts []string
	var partsFile, rationale, counter, deadline string
	cmd := &cobra.Command{
		Use:   "package --part 'replace N: TEXT' --part 'delete M' ...",
		Short: "Propose a package deal: changes of several points, voted once and applied together",
		Long: `package proposes one amendment of several parts, a trade such as "we give on
point 6 if you give on point 19": the delegations vote on it once, and a
mediator applies all its parts at once or none. Give each part with --part:

  --part 'replace 6: New text of point 6'
  --part 'replace 6@2: ...'         (drafted against revision 2 of point 6)
  --part 'delete 19'
  --part 'insert after 7: Text of a new point after point 7'
  --part 'insert at start: Text of a new first point'

or, for texts of several lines, all parts in a JSON file with --parts-file:

  [{"kind": "replace", "point": 6, "text": "..."}, {"kind": "delete", "point": 19}]

A package has 2 to 32 parts, each on another point. It goes stale if any of
its points changes before it is applied.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			var specs []partSpec
			for _, p := range parts {
				spec, err := parsePartFlag(p)
				if err != nil {
					return err
				}
				specs = append(specs, spec)
			}
			if partsFile != "" {
				more, err := a.readPartsFile(partsFile)
				if err != nil {
					return err
				}
				specs = append(specs, more...)
			}
			if len(specs) < 2 {
				return usagef("a package deal has at least two parts: give them with --part or --parts-file")
			}
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			req := &parleyv1.ProposeAmendmentRequest{Negotiation: doc.Negotiation.GetName(), Rationale: rationale}
			if req.Parts, err = partsRequest(doc, specs); err != nil {
				return err
			}
			if err := a.fillProposal(ctx, req, counter, deadline); err != nil {
				return err
			}
			am, err := a.cl.ProposeAmendment(a.mutationContext(ctx, ""), req)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, am)
			}
			printProposed(a.Stdout, am) // a package has no base revision of its own: its parts do
			if err := a.printPackageRedlines(ctx, a.Stdout, am); err != nil {
				return err
			}
			fmt.Fprintf(a.Stdout, "\nDelegations vote on the whole package with: parley vote approve|reject|abstain %s\n", shortID(am.GetName()))
			return nil
		}),
	}
	cmd.Flags().StringArrayVar(&parts, "part", nil, "one part: 'replace N: TEXT', 'delete N', 'insert after N: TEXT' or 'insert at start: TEXT' (repeat it)")
	cmd.Flags().StringVar(&partsFile, "parts-file", "", "read parts from a JSON file (- for standard input): a list of {kind, point, base_revision, text}")
	cmd.Flags().StringVar(&rationale, "rationale", "", "why you propose it")
	cmd.Flags().StringVar(&counter, "counter-to", "", "answer this pending amendment, which changes one of the package's points")
	cmd.Flags().StringVar(&deadline, "deadline", "", "when the server closes voting: an RFC 3339 time or a duration from now (48h); default: the negotiation's, if any")
	return cmd
}

func (a *app) amendmentsCommand() *cobra.Command {
	var point, states, proposer, kind string
	cmd := &cobra.Command{
		Use:   "amendments",
		Short: "List amendments, optionally filtered",
		Long: `amendments lists amendments in the order they were proposed. Filter with
--point N, --state open,passed (open, passed, failed, applied, rejected,
withdrawn, stale, or pending for open and passed), --by DELEGATION and
--kind replace|insert|delete|package (a package deal shows under the point
of each of its parts, and under --kind of any of its parts' kinds).`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			req := &parleyv1.ListAmendmentsRequest{Negotiation: doc.Negotiation.GetName()}
			if point != "" {
				p, err := pointArg(doc, point)
				if err != nil {
					return err
				}
				req.Point = p.GetName()
			}
			if states != "" {
				for _, s := range strings.Split(states, ",") {
					s = strings.ToUpper(strings.TrimSpace(s))
					if s == "PENDING" {
						req.States = append(req.States, parleyv1.AmendmentState_AMENDMENT_STATE_OPEN, parleyv1.AmendmentState_AMENDMENT_STATE_PASSED)
						continue
					}
					v, ok := parleyv1.AmendmentState_value["AMENDMENT_STATE_"+s]
					if !ok || v == 0 {
						return usagef("--state %q: use open, passed, failed, applied, rejected, withdrawn, stale or pending", s)
					}
					req.States = append(req.States, parleyv1.AmendmentState(v))
				}
			}
			var wantKind parleyv1.AmendmentKind
			wantPackage := strings.EqualFold(kind, "package")
			if kind != "" && !wantPackage {
				v, ok := parleyv1.AmendmentKind_value["AMENDMENT_KIND_"+strings.ToUpper(kind)]
				if !ok || v == 0 {
					return usagef("--kind %q: use replace, insert, delete or package", kind)
				}
				wantKind = parleyv1.AmendmentKind(v)
			}
			all, err := a.cl.Amendments(ctx, req)
			if err != nil {
				return err
			}
			list := all[:0]
			for _, am := range all {
				if (proposer == "" || am.GetProposer() == proposer) && (wantKind == 0 || hasKind(am, wantKind)) && (!wantPackage || isPackage(am)) {
					list = append(list, am)
				}
			}
			if a.json() {
				return printJSON(a.Stdout, &parleyv1.ListAmendmentsResponse{Amendments: list})
			}
			if len(list) == 0 {
				fmt.Fprintln(a.Stdout, "No amendments.")
				return nil
			}
			a.printAmendments(a.Stdout, doc, list)
			return nil
		}),
	}
	cmd.Flags().StringVar(&point, "point", "", "only amendments of point N (or inserting after it)")
	cmd.Flags().StringVar(&states, "state", "", "only these states, comma-separated")
	cmd.Flags().StringVar(&proposer, "by", "", "only those proposed by this delegation")
	cmd.Flags().StringVar(&kind, "kind", "", "only replace, insert, delete or package")
	return cmd
}

func (a *app) amendmentCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "amendment ID",
		Short: "Show an amendment: its text, redline, votes and outcome",
		Args:  args(1, 1, "an amendment id or a unique prefix"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			name, err := a.resolveAmendment(ctx, args[0])
			if err != nil {
				return err
			}
			am, err := a.cl.Amendment(ctx, name)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, am)
			}
			return a.printAmendment(ctx, a.Stdout, am)
		}),
	}
}

func (a *app) printAmendment(ctx context.Context, w io.Writer, am *parleyv1.Amendment) error {
	by := am.GetProposer()
	if am.GetByMediator() {
		by += ", the mediator's proposal"
	}
	fmt.Fprintf(w, "%s %s · %s · proposed by %s\n", a.st.bold("Amendment "+shortID(am.GetName())), describeAmendment(am),
		stateName(am.GetState()), by)
	fmt.Fprintf(w, "%s\n", am.GetName())
	if am.GetCounterTo() != "" {
		fmt.Fprintf(w, "Counter-proposal to %s\n", shortID(am.GetCounterTo()))
	}
	if am.GetRebasedFrom() != "" {
		fmt.Fprintf(w, "Re-proposed on the current text from %s, which went stale\n", shortID(am.GetRebasedFrom()))
	}
	if am.GetRationale() != "" {
		fmt.Fprintf(w, "\nRationale: %s\n", am.GetRationale())
	}
	if isPackage(am) {
		if err := a.printPackageRedlines(ctx, w, am); err != nil {
			return err
		}
	}
	switch am.GetKind() {
	case parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE:
		segs, err := a.amendmentRedline(ctx, am.GetName())
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nAgainst revision %d:\n%s\n", am.GetBaseRevision(), renderRedline(segs, a.st.redlineFormat()))
	case parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT:
		fmt.Fprintf(w, "\nNew point:\n%s\n", am.GetText())
	}
	fmt.Fprintln(w, "\nVotes:")
	if len(am.GetVotes()) == 0 {
		fmt.Fprintln(w, "  none yet")
	}
	t := table(w)
	for _, v := range am.GetVotes() {
		reason := ""
		if v.GetReason() != "" {
			reason = "— " + v.GetReason()
		}
		fmt.Fprintf(t, "  %s\t%s\t%s\n", v.GetParticipant(), choiceName(v.GetChoice()), reason)
	}
	t.Flush()
	if am.GetState() == parleyv1.AmendmentState_AMENDMENT_STATE_OPEN {
		if nv := am.GetNotVoted(); len(nv) > 0 {
			fmt.Fprintf(w, "\nNot voted yet: %s\n", strings.Join(nv, ", "))
		}
		if d := am.GetVotingDeadline(); d != nil {
			fmt.Fprintf(w, "Voting closes at %s (in %s).\n", timeText(d), max(time.Until(d.AsTime()), 0).Round(time.Second))
		}
	}
	if am.GetTally() != nil {
		by := "every delegation voted"
		switch {
		case am.GetTally().GetClosedByMediator():
			by = "closed by a mediator"
		case am.GetTally().GetClosedByDeadline():
			by = "closed by the server at its deadline, " + timeText(am.GetVotingDeadline())
		}
		fmt.Fprintf(w, "\nOutcome: %s (%s; %s)\n", passedText(am.GetTally()), tallyText(am.GetTally()), by)
	}
	switch {
	case am.GetRejectionReason() != "":
		fmt.Fprintf(w, "Rejected by the mediator: %s\n", am.GetRejectionReason())
	case am.GetStaledBy() != "":
		what := "the point"
		if isPackage(am) {
			what = "one of its points"
		}
		fmt.Fprintf(w, "Stale: amendment %s changed %s first; propose again against the new text.\n", shortID(am.GetStaledBy()), what)
	}
	if am.GetCommentCount() > 0 {
		comments, err := a.cl.Comments(ctx, &parleyv1.ListCommentsRequest{Negotiation: strings.Split(am.GetName(), "/amendments/")[0], Amendment: am.GetName()})
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "\nDiscussion:")
		_, threads := commentThreads(comments)
		for _, tc := range threads[am.GetName()] {
			writeComment(w, tc, "  ")
		}
	}
	return nil
}

func passedText(t *parleyv1.Tally) string {
	if t.GetPassed() {
		return "PASSED"
	}
	return "FAILED"
}

func (a *app) voteCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "vote approve|reject|abstain ID [--reason WHY]",
		Short: "Vote on an amendment, or change your vote while voting is open (delegations)",
		Args:  args(2, 2, "a choice (approve, reject or abstain) and an amendment id"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			v, ok := parleyv1.VoteChoice_value["VOTE_CHOICE_"+strings.ToUpper(args[0])]
			if !ok || v == 0 {
				return usagef("vote %q: choose approve, reject or abstain", args[0])
			}
			choice := parleyv1.VoteChoice(v)
			if choice == parleyv1.VoteChoice_VOTE_CHOICE_REJECT && strings.TrimSpace(reason) == "" {
				return usagef("a reject vote needs --reason")
			}
			name, err := a.resolveAmendment(ctx, args[1])
			if err != nil {
				return err
			}
			am, err := a.cl.CastVote(a.mutationContext(ctx, ""), name, choice, reason)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, am)
			}
			fmt.Fprintf(a.Stdout, "Voted %s on %s (%s).\n", choiceName(choice), shortID(am.GetName()), describeAmendment(am))
			a.printVotingState(am)
			return nil
		}),
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why; required to reject")
	return cmd
}

// printVotingState says where voting on an amendment stands.
func (a *app) printVotingState(am *parleyv1.Amendment) {
	if t := am.GetTally(); t != nil {
		fmt.Fprintf(a.Stdout, "Voting closed: %s (%s).\n", passedText(t), tallyText(t))
		if t.GetPassed() {
			fmt.Fprintf(a.Stdout, "A mediator applies it with 'parley apply %s' or rejects it with 'parley reject %s --reason WHY'.\n",
				shortID(am.GetName()), shortID(am.GetName()))
		}
		return
	}
	fmt.Fprintf(a.Stdout, "Voting is open: %s.\n", plural(len(am.GetVotes()), "delegation has voted", "delegations have voted"))
}

// amendmentAction is a command that acts on one amendment.
func (a *app) amendmentAction(use, short string, act func(ctx context.Context, name string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args(1, 1, "an amendment id or a unique prefix"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			name, err := a.resolveAmendment(ctx, args[0])
			if err != nil {
				return err
			}
			return act(a.mutationContext(ctx, ""), name)
		}),
	}
}

func (a *app) closeVoteCommand() *cobra.Command {
	return a.amendmentAction("close-vote ID", "Close voting on an amendment and compute the outcome (mediators)",
		func(ctx context.Context, name string) error {
			am, err := a.cl.CloseVoting(ctx, name)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, am)
			}
			fmt.Fprintf(a.Stdout, "Closed voting on %s (%s).\n", shortID(am.GetName()), describeAmendment(am))
			a.printVotingState(am)
			return nil
		})
}

func (a *app) applyCommand() *cobra.Command {
	return a.amendmentAction("apply ID", "Apply an amendment that passed to the document (mediators)",
		func(ctx context.Context, name string) error {
			// Read first to name a deleted point (its number is gone after)
			// and the sign-offs a replacement makes stale.
			before, err := a.cl.Amendment(ctx, name)
			if err != nil {
				return err
			}
			var signedBefore []string
			if before.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE {
				p, err := a.cl.Point(ctx, before.GetPoint())
				if err != nil {
					return err
				}
				for _, s := range p.GetSignOffs() {
					signedBefore = append(signedBefore, s.GetParticipant())
				}
			}
			resp, err := a.cl.ApplyAmendment(ctx, name)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, resp)
			}
			am, p := resp.GetAmendment(), resp.GetPoint()
			if isPackage(am) {
				fmt.Fprintf(a.Stdout, "Applied %s, all %d parts at once:\n", shortID(am.GetName()), len(am.GetParts()))
				for i, part := range before.GetParts() {
					after := resp.GetPoints()[i]
					switch part.GetKind() {
					case parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE:
						fmt.Fprintf(a.Stdout, "  point %d is now at revision %d (text sha256 %s)\n", after.GetNumber(), after.GetRevision(), shortHash(after.GetTextSha256()))
					case parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT:
						fmt.Fprintf(a.Stdout, "  inserted point %d\n", after.GetNumber())
					case parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE:
						fmt.Fprintf(a.Stdout, "  deleted point %d\n", part.GetPointNumber())
					}
				}
				fmt.Fprintln(a.Stdout, "Sign-offs of the changed points are now stale; the points are renumbered where points came or went.")
			}
			switch am.GetKind() {
			case parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE:
				fmt.Fprintf(a.Stdout, "Applied %s: point %d is now at revision %d (text sha256 %s).\n", shortID(am.GetName()),
					p.GetNumber(), p.GetRevision(), shortHash(p.GetTextSha256()))
				if len(signedBefore) > 0 {
					fmt.Fprintf(a.Stdout, "The sign-offs of %s are now stale: they sign off point %d again.\n", strings.Join(signedBefore, ", "), p.GetNumber())
				}
			case parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT:
				fmt.Fprintf(a.Stdout, "Applied %s: inserted point %d; the points after it are renumbered.\n", shortID(am.GetName()), p.GetNumber())
			case parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE:
				fmt.Fprintf(a.Stdout, "Applied %s: deleted point %d; the points after it are renumbered.\n", shortID(am.GetName()), before.GetPointNumber())
			}
			if s := resp.GetStaledAmendments(); len(s) > 0 {
				var ids []string
				for _, n := range s {
					ids = append(ids, shortID(n))
				}
				fmt.Fprintf(a.Stdout, "Now stale, to be proposed again against the new text: %s.\n", strings.Join(ids, ", "))
			}
			return nil
		})
}

func (a *app) rejectCommand() *cobra.Command {
	var reason string
	cmd := a.amendmentAction("reject ID --reason WHY", "Reject an amendment that passed (mediators)",
		func(ctx context.Context, name string) error {
			voteHint := fmt.Sprintf("a delegation votes against an amendment with 'parley vote reject %s --reason WHY'", shortID(name))
			if strings.TrimSpace(reason) == "" {
				if a.conn.Role == "delegation" {
					return usagef("only a mediator rejects an amendment that passed; %s", voteHint)
				}
				return usagef("rejecting needs --reason")
			}
			am, err := a.cl.RejectAmendment(ctx, name, reason)
			if client.ReasonOf(err) == "ROLE_NOT_ALLOWED" {
				return fmt.Errorf("%w; %s", err, voteHint)
			}
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, am)
			}
			fmt.Fprintf(a.Stdout, "Rejected %s (%s): %s\n", shortID(am.GetName()), describeAmendment(am), am.GetRejectionReason())
			return nil
		})
	cmd.Flags().StringVar(&reason, "reason", "", "why the mediator rejects it (required)")
	return cmd
}

func (a *app) withdrawCommand() *cobra.Command {
	return a.amendmentAction("withdraw ID", "Withdraw your own amendment while it is open or passed (delegations)",
		func(ctx context.Context, name string) error {
			am, err := a.cl.WithdrawAmendment(ctx, name)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, am)
			}
			fmt.Fprintf(a.Stdout, "Withdrew %s (%s).\n", shortID(am.GetName()), describeAmendment(am))
			return nil
		})
}

// fillProposal sets what every way of proposing takes the same way: the
// amendment it counters (--counter-to, resolved to a name) and its voting
// deadline (--deadline); empty flags leave them unset.
func (a *app) fillProposal(ctx context.Context, req *parleyv1.ProposeAmendmentRequest, counter, deadline string) error {
	if counter != "" {
		var err error
		if req.CounterTo, err = a.resolveAmendment(ctx, counter); err != nil {
			return err
		}
	}
	if deadline != "" {
		at, err := parseWhen("--deadline", deadline)
		if err != nil {
			return err
		}
		req.VotingDeadline = timestamppb.New(at)
	}
	return nil
}

// printProposed says what was proposed, against which revision, countering
// what, and how its vote stands.
func printProposed(w io.Writer, am *parleyv1.Amendment) {
	fmt.Fprintf(w, "Proposed %s: %s", shortID(am.GetName()), describeAmendment(am))
	if am.GetBaseRevision() > 0 {
		fmt.Fprintf(w, " (against revision %d)", am.GetBaseRevision())
	}
	if am.GetCounterTo() != "" {
		fmt.Fprintf(w, ", countering %s", shortID(am.GetCounterTo()))
	}
	fmt.Fprintf(w, ". Voting is %s", stateName(am.GetState()))
	if d := am.GetVotingDeadline(); d != nil {
		fmt.Fprintf(w, " until %s", timeText(d))
	}
	fmt.Fprintln(w, ".")
}
