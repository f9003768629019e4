package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// Numberings of the points named in log and watch lines.
const (
	numberingNow   = "now"   // the number a point has when the line is printed
	numberingEvent = "event" // the number it had when the event happened
)

// pointNumbers names points in events: events carry point ids, people read
// numbers, and an insertion or deletion renumbers the points after it.
//
// With numberingNow it uses the document read when the command started,
// read again when an event names a point it does not know or, for a watch,
// after an event that renumbers. With numberingEvent it folds the log from
// its start, as the server does, and names each point by its number just
// after the event (just before, for a point the event deleted).
type pointNumbers struct {
	numbers map[string]int32
	reload  func() (*client.Document, error)
	tried   map[string]bool

	state  *workflow.Negotiation // numberingEvent: the log folded up to the event being described
	before map[string]int        // numberingEvent: the numbers of the event's points just before it
}

func newPointNumbers(doc *client.Document, reload func() (*client.Document, error)) *pointNumbers {
	p := &pointNumbers{reload: reload, tried: map[string]bool{}}
	p.load(doc)
	return p
}

// newEventNumbers returns the numbering at each event; feed it every event
// from the first with advance.
func newEventNumbers() *pointNumbers {
	return &pointNumbers{state: &workflow.Negotiation{}}
}

func (p *pointNumbers) load(doc *client.Document) {
	p.numbers = map[string]int32{}
	for _, pt := range doc.Points {
		p.numbers[pt.GetId()] = pt.GetNumber()
	}
}

// advance folds the next event of the log into the numbering at each event;
// it does nothing for the numbering of now.
func (p *pointNumbers) advance(rec *parleyv1.EventRecord) error {
	if p.state == nil {
		return nil
	}
	e, _, err := wire.UnmarshalEvent(rec.GetLeaf())
	if err != nil {
		return fmt.Errorf("event %d: %w", rec.GetSequence(), err)
	}
	p.before = map[string]int{}
	for _, id := range eventPointIDs(rec.GetEvent()) {
		p.before[id] = p.state.PointNumber(id)
	}
	if err := p.state.Apply(e); err != nil {
		return fmt.Errorf("event %d does not follow the events before it: %w", rec.GetSequence(), err)
	}
	return nil
}

// renumbered tells a watch's numbering of now that an event may have
// renumbered the points: the next name reads the document again.
func (p *pointNumbers) renumbered(ev *parleyv1.Event) {
	if a := ev.GetAmendmentApplied(); a != nil && a.GetRevision() <= 1 && p.state == nil && p.reload != nil {
		if doc, err := p.reload(); err == nil {
			p.load(doc)
		}
	}
}

// eventPointIDs returns the ids of the points an event names.
func eventPointIDs(ev *parleyv1.Event) []string {
	switch {
	case ev.GetPointAdded() != nil:
		return []string{ev.GetPointAdded().GetPointId()}
	case ev.GetAmendmentProposed() != nil:
		return []string{ev.GetAmendmentProposed().GetPointId()}
	case ev.GetAmendmentApplied() != nil:
		return []string{ev.GetAmendmentApplied().GetPointId()}
	case ev.GetPointSignedOff() != nil:
		return []string{ev.GetPointSignedOff().GetPointId()}
	case ev.GetSignOffRevoked() != nil:
		return []string{ev.GetSignOffRevoked().GetPointId()}
	}
	return nil
}

// name returns "point 6", or "a deleted point" for one no longer in the
// document.
func (p *pointNumbers) name(id string) string {
	if p.state != nil {
		if n := p.state.PointNumber(id); n > 0 {
			return fmt.Sprintf("point %d", n)
		}
		if n := p.before[id]; n > 0 {
			return fmt.Sprintf("point %d", n)
		}
		return "a deleted point (" + shortID(id) + ")"
	}
	if n, ok := p.numbers[id]; ok {
		return fmt.Sprintf("point %d", n)
	}
	if p.reload != nil && !p.tried[id] {
		p.tried[id] = true
		if doc, err := p.reload(); err == nil {
			p.load(doc)
			if n, ok := p.numbers[id]; ok {
				return fmt.Sprintf("point %d", n)
			}
		}
	}
	return "a deleted point (" + shortID(id) + ")"
}

// describeEvent says what an event did, in a few words.
func describeEvent(ev *parleyv1.Event, points *pointNumbers) string {
	switch {
	case ev.GetNegotiationCreated() != nil:
		c := ev.GetNegotiationCreated()
		return fmt.Sprintf("created the negotiation %q (%s, rule %s)", c.GetTitle(),
			plural(len(c.GetParticipants()), "participant", "participants"), ruleText(c.GetDecisionRule()))
	case ev.GetPointAdded() != nil:
		return "added " + points.name(ev.GetPointAdded().GetPointId())
	case ev.GetAmendmentProposed() != nil:
		p := ev.GetAmendmentProposed()
		what := kindName(p.GetKind()) + " "
		switch {
		case p.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT && p.GetPointId() == "":
			what += "at start"
		case p.GetKind() == parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT:
			what += "after " + points.name(p.GetPointId())
		default:
			what += fmt.Sprintf("%s (revision %d)", points.name(p.GetPointId()), p.GetBaseRevision())
		}
		if p.GetCounterTo() != "" {
			what += ", countering " + shortID(p.GetCounterTo())
		}
		return fmt.Sprintf("proposed %s: %s", shortID(p.GetAmendmentId()), what)
	case ev.GetVoteCast() != nil:
		v := ev.GetVoteCast()
		s := fmt.Sprintf("voted %s on %s", choiceName(v.GetChoice()), shortID(v.GetAmendmentId()))
		if v.GetReason() != "" {
			s += ": " + firstLine(v.GetReason(), 60)
		}
		return s + signedText(v.GetConsent())
	case ev.GetVotingClosed() != nil:
		c := ev.GetVotingClosed()
		return fmt.Sprintf("voting on %s closed: %s (%s)", shortID(c.GetAmendmentId()), passedText(c.GetTally()), tallyText(c.GetTally()))
	case ev.GetAmendmentApplied() != nil:
		x := ev.GetAmendmentApplied()
		switch {
		case x.GetRevision() == 0:
			return fmt.Sprintf("applied %s: deleted %s", shortID(x.GetAmendmentId()), points.name(x.GetPointId()))
		case x.GetRevision() == 1:
			return fmt.Sprintf("applied %s: inserted %s", shortID(x.GetAmendmentId()), points.name(x.GetPointId()))
		}
		return fmt.Sprintf("applied %s: %s now at revision %d", shortID(x.GetAmendmentId()), points.name(x.GetPointId()), x.GetRevision())
	case ev.GetAmendmentRejected() != nil:
		r := ev.GetAmendmentRejected()
		return fmt.Sprintf("rejected %s: %s", shortID(r.GetAmendmentId()), firstLine(r.GetReason(), 60))
	case ev.GetAmendmentWithdrawn() != nil:
		return "withdrew " + shortID(ev.GetAmendmentWithdrawn().GetAmendmentId())
	case ev.GetAmendmentStaled() != nil:
		s := ev.GetAmendmentStaled()
		return fmt.Sprintf("%s went stale: %s changed its point first", shortID(s.GetAmendmentId()), shortID(s.GetCauseAmendmentId()))
	case ev.GetPointSignedOff() != nil:
		s := ev.GetPointSignedOff()
		return fmt.Sprintf("signed off %s at revision %d", points.name(s.GetPointId()), s.GetRevision()) + signedText(s.GetConsent())
	case ev.GetSignOffRevoked() != nil:
		r := ev.GetSignOffRevoked()
		return fmt.Sprintf("revoked the sign-off of %s (revision %d)", points.name(r.GetPointId()), r.GetRevision())
	case ev.GetDocumentAccepted() != nil:
		return "accepted the document, sha256 " + shortHash(ev.GetDocumentAccepted().GetDocumentSha256()) + signedText(ev.GetDocumentAccepted().GetConsent())
	case ev.GetNegotiationConcluded() != nil:
		return "CONCLUDED: every delegation accepted sha256 " + shortHash(ev.GetNegotiationConcluded().GetDocumentSha256())
	case ev.GetCredentialIssued().GetRotated():
		return "rotated the token of " + memberText(ev.GetCredentialIssued().GetParticipant(), ev.GetCredentialIssued().GetMember())
	case ev.GetCredentialIssued() != nil:
		return "issued a token to " + memberText(ev.GetCredentialIssued().GetParticipant(), ev.GetCredentialIssued().GetMember())
	case ev.GetCredentialRevoked() != nil:
		return "revoked the token of " + memberText(ev.GetCredentialRevoked().GetParticipant(), ev.GetCredentialRevoked().GetMember())
	case ev.GetMemberAdded() != nil:
		m := ev.GetMemberAdded()
		s := fmt.Sprintf("added %s (%s)", memberText(m.GetParticipant(), m.GetMember()), m.GetDisplayName())
		if m.GetHead() {
			s += " as a head"
		}
		return s
	case ev.GetMemberRemoved() != nil:
		return "removed " + memberText(ev.GetMemberRemoved().GetParticipant(), ev.GetMemberRemoved().GetMember())
	case ev.GetAcceptanceWithdrawn() != nil:
		return "WITHDREW its acceptance of sha256 " + shortHash(ev.GetAcceptanceWithdrawn().GetDocumentSha256())
	case ev.GetCommentPosted() != nil:
		c := ev.GetCommentPosted()
		on := "on " + points.name(c.GetPointId())
		if c.GetAmendmentId() != "" {
			on = "on " + shortID(c.GetAmendmentId())
		}
		if c.GetParentId() != "" {
			on = "replying to " + shortID(c.GetParentId()) + " " + on
		}
		return fmt.Sprintf("commented %s %s: %s", shortID(c.GetCommentId()), on, firstLine(c.GetText(), 60))
	case ev.GetCommentRetracted() != nil:
		return "retracted the comment " + shortID(ev.GetCommentRetracted().GetCommentId())
	case ev.GetCheckpointKeyRotated() != nil:
		return "ROTATED the server's checkpoint key: checkpoints are now signed by " + ev.GetCheckpointKeyRotated().GetVerifierKey()
	case ev.GetParticipantAdded() != nil:
		p := ev.GetParticipantAdded().GetParticipant()
		return fmt.Sprintf("added %s %s (%s)", roleWord(p.GetRole()), p.GetId(), p.GetDisplayName())
	case ev.GetParticipantRemoved() != nil:
		return "removed " + ev.GetParticipantRemoved().GetParticipant() + " from the negotiation"
	case ev.GetNegotiationRenamed() != nil:
		return fmt.Sprintf("renamed the negotiation %q", ev.GetNegotiationRenamed().GetTitle())
	case ev.GetDecisionRuleChanged() != nil:
		return "changed the decision rule to " + ruleText(ev.GetDecisionRuleChanged().GetDecisionRule()) + " for amendments proposed from now on"
	case ev.GetNegotiationSuspended() != nil:
		return withReason("SUSPENDED the negotiation", ev.GetNegotiationSuspended().GetReason())
	case ev.GetNegotiationResumed() != nil:
		return "resumed the negotiation"
	case ev.GetNegotiationAbandoned() != nil:
		return withReason("ABANDONED the negotiation", ev.GetNegotiationAbandoned().GetReason())
	case ev.GetVotingDeadlineSet() != nil:
		d := ev.GetVotingDeadlineSet()
		return fmt.Sprintf("set the voting deadline of %s to %s", shortID(d.GetAmendmentId()), timeText(d.GetVotingDeadline()))
	case ev.GetKeyRegistered().GetReplaces() != "":
		k := ev.GetKeyRegistered()
		return fmt.Sprintf("rotated its signing key %s to %s", shortHash(k.GetReplaces()), shortHash(k.GetKeyId()))
	case ev.GetKeyRegistered() != nil:
		return "registered its signing key " + shortHash(ev.GetKeyRegistered().GetKeyId())
	case ev.GetKeyRevoked() != nil:
		k := ev.GetKeyRevoked()
		return fmt.Sprintf("REVOKED the signing key %s of %s", shortHash(k.GetKeyId()), memberText(k.GetParticipant(), k.GetMember()))
	case ev.GetSignaturesRequired() != nil:
		return "REQUIRED signed votes, sign-offs and acceptances from now on"
	}
	return "an event of a kind this client does not know"
}

// signedText marks a consent signed by its member's key.
func signedText(c *parleyv1.Consent) string {
	if c == nil {
		return ""
	}
	return ", signed with key " + shortHash(c.GetKeyId())
}

func (a *app) printEvent(w io.Writer, rec *parleyv1.EventRecord, points *pointNumbers) error {
	if a.json() {
		return printJSONLine(w, rec)
	}
	ev := rec.GetEvent()
	_, err := fmt.Fprintf(w, "%6d  %s  %-14s  %s\n", rec.GetSequence(), a.st.dim(timeText(ev.GetTime())), actorText(ev), describeEvent(ev, points))
	return err
}

// actorText names who acted: the participant, and the member when it is a
// named one ("ukraine/olena").
func actorText(ev *parleyv1.Event) string {
	if m := ev.GetMember(); m != "" && m != ev.GetActor() {
		return ev.GetActor() + "/" + m
	}
	return ev.GetActor()
}

// memberText names a participant's member: "member olena of ukraine", or
// the participant alone for its default member.
func memberText(participant, member string) string {
	if member == "" || member == participant {
		return participant
	}
	return "member " + member + " of " + participant
}

// numberingNote says on standard error which numbering the lines use.
func (a *app) numberingNote(numbering string) {
	if a.json() {
		return // JSON names points by their ids
	}
	if numbering == numberingEvent {
		fmt.Fprintln(a.Stderr, "Points are named by their number when each event happened.")
		return
	}
	fmt.Fprintln(a.Stderr, "Points are named by their number now; '--numbering event' names them by their number when each event happened.")
}

// printEvents prints the log's events after a sequence number, to its end,
// each with the point numbers the numbering gives.
func (a *app) printEvents(ctx context.Context, negotiation string, after int64, points *pointNumbers) error {
	for rec, err := range a.cl.Events(ctx, negotiation, after) {
		if err != nil {
			return err
		}
		if err := points.advance(rec); err != nil {
			return err
		}
		if err := a.printEvent(a.Stdout, rec, points); err != nil {
			return err
		}
	}
	return nil
}

// eventNumbers returns the numbering asked for. The numbering at each event
// folds the log from its start: the events up to after are read, not printed.
func (a *app) eventNumbers(ctx context.Context, doc *client.Document, numbering string, after int64,
	reload func() (*client.Document, error)) (*pointNumbers, error) {
	if numbering == numberingNow {
		return newPointNumbers(doc, reload), nil
	}
	points := newEventNumbers()
	if after == 0 {
		return points, nil
	}
	for rec, err := range a.cl.Events(ctx, doc.Negotiation.GetName(), 0) {
		if err != nil {
			return nil, err
		}
		if err := points.advance(rec); err != nil {
			return nil, err
		}
		if rec.GetSequence() >= after {
			break
		}
	}
	return points, nil
}

func checkNumbering(numbering string) error {
	if numbering != numberingNow && numbering != numberingEvent {
		return usagef("--numbering %q: use now (the number a point has now) or event (its number when the event happened)", numbering)
	}
	return nil
}

const numberingHelp = "how points are numbered: now (their number now) or event (their number when the event happened; reads the log from its start)"

func (a *app) logCommand() *cobra.Command {
	var after, last int64
	var numbering string
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the audit log: every event, in order",
		Long: `log lists the negotiation's events: sequence number, time (UTC), who acted,
and what happened. An insertion or deletion renumbers the points after it, so
a point may have had another number when an event happened: points are named
by their number now, or with --numbering event by their number at the time
(standard error says which). With -o json, each event is one line of JSON
holding the exact bytes the server stored (leaf), for anyone who wants to
check them; points are named there by their ids.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			switch {
			case a.flagChanged("last") && a.flagChanged("after"):
				return usagef("give --last N or --after SEQUENCE, not both")
			case a.flagChanged("last") && last < 1:
				return usagef("--last %d: give how many of the latest events to show, 1 or more", last)
			case after < 0:
				return usagef("--after %d: give a sequence number, 0 or more", after)
			}
			if err := checkNumbering(numbering); err != nil {
				return err
			}
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			if last > 0 {
				after = max(doc.Negotiation.GetLastSequence()-last, 0)
			}
			points, err := a.eventNumbers(ctx, doc, numbering, after, nil)
			if err != nil {
				return err
			}
			a.numberingNote(numbering)
			return a.printEvents(ctx, doc.Negotiation.GetName(), after, points)
		}),
	}
	cmd.Flags().Int64Var(&after, "after", 0, "only events after this sequence number")
	cmd.Flags().Int64Var(&last, "last", 0, "only the last N events (N ≥ 1)")
	cmd.Flags().StringVar(&numbering, "numbering", numberingNow, numberingHelp)
	return cmd
}

func (a *app) watchCommand() *cobra.Command {
	var after int64
	var untilConcluded bool
	var numbering string
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Follow the audit log live",
		Long: `watch prints events as they are committed, until Ctrl-C. It starts with the
next event (or after --after N; --after 0 replays the whole log first). If the
server cannot be reached, or the connection drops or the server restarts, it
says so on standard error, retries, and resumes after the last event it
printed: no event is missed or printed twice. --until-concluded stops when
the negotiation concludes, at once if it already has.

Points are named by their number now (a watch reads the document again after
an insertion or deletion, so a new event names them as they are numbered when
it happens), or with --numbering event by their number when each event
happened, replayed ones included.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			if after < 0 {
				return usagef("--after %d: give a sequence number, 0 or more", after)
			}
			if err := checkNumbering(numbering); err != nil {
				return err
			}
			// Ride out a server restart or a short outage, and say so.
			a.retry = client.RetryPolicy{MaxAttempts: 30, InitialBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second}
			var retrying atomic.Bool // set by the client's retries
			a.onRetry = func(failures int, wait time.Duration, err error) {
				retrying.Store(true)
				a.notice("retry", fmt.Sprintf("cannot reach the server at %s (%s); retrying in %s (attempt %d of %d)",
					a.conn.Server, shortCause(err), wait.Round(10*time.Millisecond), failures+1, a.retry.MaxAttempts),
					map[string]any{"server": a.conn.Server, "failures": failures, "waitSeconds": wait.Seconds(),
						"code": client.CodeName(client.CodeOf(err)), "message": err.Error()})
			}
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			if retrying.Swap(false) {
				a.notice("connected", fmt.Sprintf("connected to %s", a.conn.Server), map[string]any{"server": a.conn.Server})
			}
			name := doc.Negotiation.GetName()
			if !a.flagChanged("after") {
				after = doc.Negotiation.GetLastSequence()
			}
			concluded := doc.Negotiation.GetState() == parleyv1.NegotiationState_NEGOTIATION_STATE_CONCLUDED
			points, err := a.eventNumbers(ctx, doc, numbering, after, func() (*client.Document, error) { return a.cl.Document(ctx, name) })
			if err != nil {
				return err
			}
			if untilConcluded && concluded {
				// Nothing more will come: print what is left of the log and stop.
				if !a.json() {
					fmt.Fprintf(a.Stderr, "%s concluded at %s (event %d is the last).\n", name, timeText(doc.Negotiation.GetConcludeTime()), doc.Negotiation.GetLastSequence())
				}
				return a.printEvents(ctx, name, after, points)
			}
			if !a.json() {
				fmt.Fprintf(a.Stderr, "Watching %s from event %d; Ctrl-C to stop.\n", name, after+1)
			}
			a.numberingNote(numbering)
			for rec, err := range a.cl.Watch(ctx, name, after) {
				if err != nil {
					return err
				}
				if retrying.Swap(false) {
					a.notice("reconnected", fmt.Sprintf("reconnected to %s; resuming after event %d", a.conn.Server, rec.GetSequence()-1),
						map[string]any{"server": a.conn.Server, "afterSequence": fmt.Sprint(rec.GetSequence() - 1)})
				}
				if err := points.advance(rec); err != nil {
					return err
				}
				if err := a.printEvent(a.Stdout, rec, points); err != nil {
					return err
				}
				points.renumbered(rec.GetEvent())
				if untilConcluded && rec.GetEvent().GetNegotiationConcluded() != nil {
					return nil
				}
			}
			return nil
		}),
	}
	cmd.Flags().Int64Var(&after, "after", 0, "start after this sequence number (default: the newest event)")
	cmd.Flags().BoolVar(&untilConcluded, "until-concluded", false, "stop when the negotiation concludes (at once if it has)")
	cmd.Flags().StringVar(&numbering, "numbering", numberingNow, numberingHelp)
	return cmd
}

// notice tells the user on standard error what a long command is doing:
// one line, or with -o json one JSON object {"<kind>": fields}.
func (a *app) notice(kind, text string, fields map[string]any) {
	if a.json() {
		printJSONLine(a.Stderr, map[string]any{kind: fields})
		return
	}
	fmt.Fprintf(a.Stderr, "parley: %s: %s\n", a.current.Name(), text)
}

// shortCause names a failure in a few words: "UNAVAILABLE: connection refused".
func shortCause(err error) string {
	var e *client.Error
	if errors.As(err, &e) && e.Reason == "" {
		return client.CodeName(e.Code) + ": " + transportCause(e.Message)
	}
	return err.Error()
}

// flagChanged reports whether the running command's flag was set.
func (a *app) flagChanged(name string) bool {
	return a.current != nil && a.current.Flags().Changed(name)
}

// withReason appends a reason, when there is one, to what happened.
func withReason(what, reason string) string {
	if reason == "" {
		return what
	}
	return what + ": " + firstLine(reason, 60)
}

// roleWord names a role in lowercase, as sentences use it.
func roleWord(r parleyv1.Role) string {
	switch r {
	case parleyv1.Role_ROLE_DELEGATION:
		return "delegation"
	case parleyv1.Role_ROLE_MEDIATOR:
		return "mediator"
	case parleyv1.Role_ROLE_OBSERVER:
		return "observer"
	}
	return "participant"
}
