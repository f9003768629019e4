package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// pointNumbers names points in events by their current number. Events
// carry point ids; a point inserted after the document was read is looked
// up again once.
type pointNumbers struct {
	numbers map[string]int32
	reload  func() (*client.Document, error)
	tried   map[string]bool
}

func newPointNumbers(doc *client.Document, reload func() (*client.Document, error)) *pointNumbers {
	p := &pointNumbers{reload: reload, tried: map[string]bool{}}
	p.load(doc)
	return p
}

func (p *pointNumbers) load(doc *client.Document) {
	p.numbers = map[string]int32{}
	for _, pt := range doc.Points {
		p.numbers[pt.GetId()] = pt.GetNumber()
	}
}

// name returns "point 6", or "a deleted point" for one no longer in the
// document.
func (p *pointNumbers) name(id string) string {
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
		return fmt.Sprintf("proposed %s: %s", shortID(p.GetAmendmentId()), what)
	case ev.GetVoteCast() != nil:
		v := ev.GetVoteCast()
		s := fmt.Sprintf("voted %s on %s", choiceName(v.GetChoice()), shortID(v.GetAmendmentId()))
		if v.GetReason() != "" {
			s += ": " + firstLine(v.GetReason(), 60)
		}
		return s
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
		return fmt.Sprintf("signed off %s at revision %d", points.name(s.GetPointId()), s.GetRevision())
	case ev.GetSignOffRevoked() != nil:
		r := ev.GetSignOffRevoked()
		return fmt.Sprintf("revoked the sign-off of %s (revision %d)", points.name(r.GetPointId()), r.GetRevision())
	case ev.GetDocumentAccepted() != nil:
		return "accepted the document, sha256 " + shortHash(ev.GetDocumentAccepted().GetDocumentSha256())
	case ev.GetNegotiationConcluded() != nil:
		return "CONCLUDED: every delegation accepted sha256 " + shortHash(ev.GetNegotiationConcluded().GetDocumentSha256())
	case ev.GetCredentialIssued() != nil:
		return "issued a token to " + ev.GetCredentialIssued().GetParticipant()
	case ev.GetCredentialRevoked() != nil:
		return "revoked the token of " + ev.GetCredentialRevoked().GetParticipant()
	case ev.GetCheckpointKeyRotated() != nil:
		return "ROTATED the server's checkpoint key: checkpoints are now signed by " + ev.GetCheckpointKeyRotated().GetVerifierKey()
	}
	return "an event of a kind this client does not know"
}

func (a *app) printEvent(w io.Writer, rec *parleyv1.EventRecord, points *pointNumbers) error {
	if a.json() {
		return printJSONLine(w, rec)
	}
	ev := rec.GetEvent()
	_, err := fmt.Fprintf(w, "%6d  %s  %-14s  %s\n", rec.GetSequence(), a.st.dim(timeText(ev.GetTime())), ev.GetActor(), describeEvent(ev, points))
	return err
}

func (a *app) logCommand() *cobra.Command {
	var after, last int64
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the audit log: every event, in order",
		Long: `log lists the negotiation's events: sequence number, time (UTC), who acted,
and what happened. Points are named by their current number. With -o json,
each event is one line of JSON holding the exact bytes the server stored
(leaf), for anyone who wants to check them.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			if last > 0 {
				after = max(doc.Negotiation.GetLastSequence()-last, 0)
			}
			points := newPointNumbers(doc, nil)
			for rec, err := range a.cl.Events(ctx, doc.Negotiation.GetName(), after) {
				if err != nil {
					return err
				}
				if err := a.printEvent(a.Stdout, rec, points); err != nil {
					return err
				}
			}
			return nil
		}),
	}
	cmd.Flags().Int64Var(&after, "after", 0, "only events after this sequence number")
	cmd.Flags().Int64Var(&last, "last", 0, "only the last N events")
	return cmd
}

func (a *app) watchCommand() *cobra.Command {
	var after int64
	var untilConcluded bool
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Follow the audit log live",
		Long: `watch prints events as they are committed, until Ctrl-C. It starts with the
next event (or after --after N; --after 0 replays the whole log first). If the
connection drops or the server restarts, it reconnects and resumes after the
last event it printed: no event is missed or printed twice.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			// Ride out a server restart or a short outage.
			a.retry = client.RetryPolicy{MaxAttempts: 30, InitialBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second}
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			name := doc.Negotiation.GetName()
			if !a.flagChanged("after") {
				after = doc.Negotiation.GetLastSequence()
				if !a.json() {
					fmt.Fprintf(a.Stderr, "Watching %s from event %d; Ctrl-C to stop.\n", name, after+1)
				}
			}
			points := newPointNumbers(doc, func() (*client.Document, error) { return a.cl.Document(ctx, name) })
			for rec, err := range a.cl.Watch(ctx, name, after) {
				if err != nil {
					return err
				}
				if err := a.printEvent(a.Stdout, rec, points); err != nil {
					return err
				}
				if untilConcluded && rec.GetEvent().GetNegotiationConcluded() != nil {
					return nil
				}
			}
			return nil
		}),
	}
	cmd.Flags().Int64Var(&after, "after", 0, "start after this sequence number (default: the newest event)")
	cmd.Flags().BoolVar(&untilConcluded, "until-concluded", false, "stop when the negotiation concludes")
	return cmd
}

// flagChanged reports whether the running command's flag was set.
func (a *app) flagChanged(name string) bool {
	return a.current != nil && a.current.Flags().Changed(name)
}
