package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// Sign-off states of one delegation on one point.
const (
	signedCurrent = "SIGNED"  // at the current revision
	signedStale   = "STALE"   // only at an earlier revision
	signedNone    = "MISSING" // not at all
)

// statusView is the mediator's view: who signed what, what is pending, what
// blocks conclusion. It is also the JSON of 'parley status -o json'.
type statusView struct {
	Negotiation    string          `json:"negotiation"`
	Title          string          `json:"title"`
	State          string          `json:"state"` // NEGOTIATION_STATE_…
	LastSequence   int64           `json:"lastSequence,string"`
	DocumentSHA256 string          `json:"documentSha256"`
	Delegations    []string        `json:"delegations"`
	Points         []statusPoint   `json:"points"`
	Pending        []statusPending `json:"pendingAmendments"`
	Accepted       []string        `json:"accepted"`        // the current text
	AcceptedEarly  []string        `json:"acceptedEarlier"` // an earlier text only
	ConcludeTime   *string         `json:"concludeTime"`    // RFC 3339; null until concluded

	amendments []*parleyv1.Amendment
	concluded  *timestamppb.Timestamp
}

type statusPoint struct {
	Number            int32             `json:"number"`
	Name              string            `json:"name"`
	Revision          int64             `json:"revision,string"`
	Status            string            `json:"status"`   // POINT_STATUS_…
	SignOffs          map[string]string `json:"signOffs"` // delegation → SIGNED, STALE or MISSING
	PendingAmendments int32             `json:"pendingAmendmentCount"`
	Brackets          string            `json:"brackets"` // "[current | A: … | B: …]"; empty without alternatives
	Text              string            `json:"-"`
}

type statusPending struct {
	Name     string   `json:"name"`
	ID       string   `json:"shortId"`
	What     string   `json:"what"`
	State    string   `json:"state"` // AMENDMENT_STATE_OPEN or _PASSED
	Proposer string   `json:"proposer"`
	Waiting  []string `json:"waitingFor"` // delegations yet to vote
	// Deadline is when the server closes voting (RFC 3339), and TimeLeft
	// how long until then as a Go duration ("47h59m0s"); both null without
	// a deadline.
	Deadline *string `json:"votingDeadline"`
	TimeLeft *string `json:"timeLeft"`
}

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "The mediator's view: points × delegations, pending amendments, what blocks conclusion",
		Long: `status shows, for every point, whether each delegation has signed it off at the
current revision (✓), only at an earlier one (~, stale since the text changed),
or not at all (·), with the amendments pending on each point; then what still
blocks conclusion: missing sign-offs by delegation, amendments to vote on or to
apply or reject, and acceptances.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			v, err := a.status(ctx, doc)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, v)
			}
			a.printStatus(a.Stdout, v)
			return nil
		}),
	}
}

// staleFetchers bounds the GetPoint calls in flight for stale sign-offs.
const staleFetchers = 8

// status gathers the view. Only points past their first revision can hold
// stale sign-offs, so only those are read one by one.
func (a *app) status(ctx context.Context, doc *client.Document) (*statusView, error) {
	n := doc.Negotiation
	v := &statusView{Negotiation: n.GetName(), Title: n.GetTitle(), State: n.GetState().String(),
		LastSequence: n.GetLastSequence(), DocumentSHA256: doc.SHA256, Delegations: delegations(n),
		Accepted: []string{}, AcceptedEarly: []string{}, Pending: []statusPending{}, Points: []statusPoint{}}
	if n.GetState() == parleyv1.NegotiationState_NEGOTIATION_STATE_CONCLUDED {
		t := n.GetConcludeTime().AsTime().UTC().Format(time.RFC3339Nano)
		v.ConcludeTime, v.concluded = &t, n.GetConcludeTime()
	}

	stale := make([]map[string]bool, len(doc.Points))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, staleFetchers)
	)
	for i, p := range doc.Points {
		if p.GetRevision() <= 1 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			full, err := a.cl.Point(ctx, p.GetName())
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				return
			}
			stale[i] = map[string]bool{}
			for _, s := range full.GetStaleSignOffs() {
				stale[i][s.GetParticipant()] = true
			}
		}()
	}
	pending, err := a.cl.Amendments(ctx, &parleyv1.ListAmendmentsRequest{Negotiation: n.GetName(),
		States: []parleyv1.AmendmentState{parleyv1.AmendmentState_AMENDMENT_STATE_OPEN, parleyv1.AmendmentState_AMENDMENT_STATE_PASSED}})
	wg.Wait()
	if err = cmpErr(firstErr, err); err != nil {
		return nil, err
	}

	for i, p := range doc.Points {
		sp := statusPoint{Number: p.GetNumber(), Name: p.GetName(), Revision: p.GetRevision(),
			Status: p.GetStatus().String(), SignOffs: map[string]string{},
			PendingAmendments: p.GetPendingAmendmentCount(), Text: p.GetText(), Brackets: bracketChoice(p, bracketTextWidth)}
		for _, d := range v.Delegations {
			switch {
			case signedBy(p, d):
				sp.SignOffs[d] = signedCurrent
			case stale[i][d]:
				sp.SignOffs[d] = signedStale
			default:
				sp.SignOffs[d] = signedNone
			}
		}
		v.Points = append(v.Points, sp)
	}
	for _, am := range pending {
		sp := statusPending{ID: shortID(am.GetName()), Name: am.GetName(), What: describeAmendment(am),
			State: am.GetState().String(), Proposer: am.GetProposer(), Waiting: []string{}}
		if am.GetState() == parleyv1.AmendmentState_AMENDMENT_STATE_OPEN {
			voted := map[string]bool{}
			for _, vote := range am.GetVotes() {
				voted[vote.GetParticipant()] = true
			}
			for _, d := range v.Delegations {
				if !voted[d] {
					sp.Waiting = append(sp.Waiting, d)
				}
			}
		}
		if d := am.GetVotingDeadline(); d != nil && am.GetState() == parleyv1.AmendmentState_AMENDMENT_STATE_OPEN {
			at := d.AsTime().UTC().Format(time.RFC3339)
			left := max(time.Until(d.AsTime()), 0).Round(time.Second).String()
			sp.Deadline, sp.TimeLeft = &at, &left
		}
		v.Pending = append(v.Pending, sp)
	}
	v.amendments = pending
	for _, acc := range n.GetAcceptances() {
		if acc.GetCurrent() {
			v.Accepted = append(v.Accepted, acc.GetParticipant())
		} else {
			v.AcceptedEarly = append(v.AcceptedEarly, acc.GetParticipant())
		}
	}
	return v, nil
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// A long list of pending amendments is summarised: so many per point, so
// many in all, and a count of the rest with the command that lists them.
const (
	statusPendingPerPoint = 3
	statusPendingShown    = 20
)

// printPending lists the pending amendments, point by point in the order
// they were proposed, summarised when there are many.
func (a *app) printPending(w io.Writer, v *statusView) {
	var points []string // in order of the first amendment on each
	byPoint := map[string][]int{}
	for i, am := range v.amendments {
		key := am.GetPoint()
		if _, ok := byPoint[key]; !ok {
			points = append(points, key)
		}
		byPoint[key] = append(byPoint[key], i)
	}
	t := table(w)
	shown := 0
	var notes []string
	for _, key := range points {
		list := byPoint[key]
		for j, i := range list {
			if j == statusPendingPerPoint || shown == statusPendingShown {
				if rest := len(list) - j; shown < statusPendingShown {
					notes = append(notes, fmt.Sprintf("    … and %d more on %s", rest, pendingWhere(v.amendments[i])))
				}
				break
			}
			p := v.Pending[i]
			next := "to apply or reject (mediator)"
			if p.State == parleyv1.AmendmentState_AMENDMENT_STATE_OPEN.String() {
				next = fmt.Sprintf("%s  waiting for %s", votesText(v.amendments[i], len(v.Delegations)), strings.Join(p.Waiting, ", "))
				if p.TimeLeft != nil {
					next += "  · closes in " + *p.TimeLeft
				}
			}
			fmt.Fprintf(t, "    %s\t%s\t%s\t%s\n", p.ID, p.What, strings.TrimPrefix(p.State, "AMENDMENT_STATE_"), next)
			shown++
		}
	}
	t.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	if shown < len(v.Pending) {
		fmt.Fprintf(w, "    Shown: %d of %d; list them all with 'parley amendments --state pending' (or one point's with --point N).\n", shown, len(v.Pending))
	}
}

// pendingWhere names the place of an amendment for a summary line.
func pendingWhere(am *parleyv1.Amendment) string {
	if isPackage(am) {
		return "points " + pointText(am)
	}
	if am.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT {
		return "insertions " + pointText(am)
	}
	return "point " + pointText(am)
}

// statusTextWidth is how much of each point's text the matrix shows.
const statusTextWidth = 44

func (a *app) printStatus(w io.Writer, v *statusView) {
	st := a.st
	agreed := 0
	for _, p := range v.Points {
		if p.Status == parleyv1.PointStatus_POINT_STATUS_AGREED.String() {
			agreed++
		}
	}
	fmt.Fprintf(w, "%s\n", st.bold(v.Title))
	fmt.Fprintf(w, "%s · last event %d · document sha256 %s\n", strings.TrimPrefix(v.State, "NEGOTIATION_STATE_"), v.LastSequence, v.DocumentSHA256)
	fmt.Fprintf(w, "%d points, %d agreed · %s pending · accepted by %d of %d delegations\n\n", len(v.Points), agreed,
		plural(len(v.Pending), "amendment", "amendments"), len(v.Accepted), len(v.Delegations))

	numWidth := max(len(fmt.Sprint(len(v.Points))), 1)
	revWidth := 3
	widths := make([]int, len(v.Delegations))
	var head strings.Builder
	head.WriteString(padLeft("#", numWidth) + "  " + padLeft("rev", revWidth))
	for i, d := range v.Delegations {
		widths[i] = max(len([]rune(d)), 3)
		head.WriteString("  " + d)
	}
	head.WriteString("  amend  text")
	fmt.Fprintln(w, st.bold(head.String()))
	for _, p := range v.Points {
		var row strings.Builder
		row.WriteString(padLeft(fmt.Sprint(p.Number), numWidth) + "  " + padLeft(fmt.Sprint(p.Revision), revWidth))
		for i, d := range v.Delegations {
			var mark string
			switch p.SignOffs[d] {
			case signedCurrent:
				mark = st.green(center("✓", widths[i]))
			case signedStale:
				mark = st.yellow(center("~", widths[i]))
			default:
				mark = st.dim(center("·", widths[i]))
			}
			row.WriteString("  " + mark)
		}
		amend := ""
		if p.PendingAmendments > 0 {
			amend = fmt.Sprint(p.PendingAmendments)
		}
		row.WriteString("  " + center(amend, 5) + "  " + firstLine(p.Text, statusTextWidth))
		fmt.Fprintln(w, strings.TrimRight(row.String(), " "))
	}
	fmt.Fprintf(w, "%s\n\n", st.dim("✓ signed at the current revision   ~ signed an earlier revision only (stale)   · not signed"))

	if v.ConcludeTime != nil {
		fmt.Fprintf(w, "CONCLUDED at %s: every delegation accepted this text, which is now frozen.\n", timeText(v.concluded))
		return
	}
	switch v.State {
	case parleyv1.NegotiationState_NEGOTIATION_STATE_ABANDONED.String():
		fmt.Fprintln(w, "ABANDONED: the negotiation ended without agreement; it takes no more changes.")
		return
	case parleyv1.NegotiationState_NEGOTIATION_STATE_SUSPENDED.String():
		fmt.Fprintln(w, st.bold("SUSPENDED: nothing is proposed, voted, signed off or accepted, and voting deadlines wait, until it resumes."))
	}
	fmt.Fprintln(w, st.bold("Still blocking conclusion:"))
	blocked := false
	if agreed < len(v.Points) {
		blocked = true
		fmt.Fprintf(w, "  Sign-offs missing (%d of %d points not agreed):\n", len(v.Points)-agreed, len(v.Points))
		t := table(w)
		for _, d := range v.Delegations {
			var missing, stale []int
			for _, p := range v.Points {
				switch p.SignOffs[d] {
				case signedStale:
					stale = append(stale, int(p.Number))
					missing = append(missing, int(p.Number))
				case signedNone:
					missing = append(missing, int(p.Number))
				}
			}
			if len(missing) == 0 {
				continue
			}
			note := ""
			if len(stale) > 0 {
				note = fmt.Sprintf(" (stale: %s)", numberRanges(stale))
			}
			fmt.Fprintf(t, "    %s\t%s\t%s%s\n", d, padLeft(plural(len(missing), "point", "points"), 9), numberRanges(missing), note)
		}
		t.Flush()
	}
	if len(v.Pending) > 0 {
		blocked = true
		fmt.Fprintf(w, "  Amendments pending (%d):\n", len(v.Pending))
		a.printPending(w, v)
	}
	var bracketed []statusPoint
	for _, p := range v.Points {
		if p.Brackets != "" {
			bracketed = append(bracketed, p)
		}
	}
	if len(bracketed) > 0 {
		fmt.Fprintf(w, "  In brackets, a text to choose (%s):\n", plural(len(bracketed), "point", "points"))
		for _, p := range bracketed {
			fmt.Fprintf(w, "    point %d  %s\n", p.Number, p.Brackets)
		}
	}
	accepted := map[string]bool{}
	for _, d := range v.Accepted {
		accepted[d] = true
	}
	var waiting []string
	for _, d := range v.Delegations {
		if !accepted[d] {
			waiting = append(waiting, d)
		}
	}
	switch {
	case blocked && len(v.Accepted) == 0:
		fmt.Fprintln(w, "  Acceptance: none yet; possible once every point is agreed and no amendment is pending.")
	case blocked:
		fmt.Fprintf(w, "  Acceptance: %s accepted this text; still to accept: %s.\n", strings.Join(v.Accepted, ", "), strings.Join(waiting, ", "))
	default:
		fmt.Fprintf(w, "  Only acceptances remain: every point is agreed and no amendment is pending; still to accept: %s.\n", strings.Join(waiting, ", "))
	}
	if len(v.AcceptedEarly) > 0 {
		fmt.Fprintf(w, "  Accepted an earlier text, to accept again: %s.\n", strings.Join(v.AcceptedEarly, ", "))
	}
}
