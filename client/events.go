package client

import (
	"context"
	"errors"
	"io"
	"iter"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// EventVerifier checks each event of a negotiation's log as it arrives,
// before the caller sees it, in sequence order and exactly once per event:
// both Events and Watch pass every record through it. An error stops the
// listing or the watch and is returned to the caller. It is where a check of
// the log's Merkle proofs plugs in; rec.Leaf holds the exact bytes the server
// stored.
type EventVerifier interface {
	VerifyEvent(ctx context.Context, negotiation string, rec *parleyv1.EventRecord) error
}

// eventGate is the one way events come in. It checks that they follow each
// other without gap or repeat, decodes each event from its leaf (so the
// event the caller sees is the one whose bytes a verifier hashes), and runs
// the verifier.
type eventGate struct {
	negotiation string
	last        int64
	verifier    EventVerifier
}

func (c *Client) gate(negotiation string, after int64) *eventGate {
	return &eventGate{negotiation: negotiation, last: after, verifier: c.verifier}
}

func (g *eventGate) accept(ctx context.Context, rec *parleyv1.EventRecord) (*parleyv1.EventRecord, error) {
	switch seq := rec.GetSequence(); {
	case seq > g.last+1:
		return nil, dataLoss(ReasonSequenceGap, "events %d to %d are missing: the server sent %d after %d", g.last+1, seq-1, seq, g.last)
	case seq <= g.last:
		return nil, dataLoss(ReasonSequenceDuplicate, "the server sent event %d again after %d", seq, g.last)
	}
	ev := &parleyv1.Event{}
	if err := proto.Unmarshal(rec.GetLeaf(), ev); err != nil {
		return nil, dataLoss(ReasonEventInvalid, "event %d does not decode: %v", rec.GetSequence(), err)
	}
	if ev.GetSequence() != rec.GetSequence() || ev.GetNegotiation() != g.negotiation {
		return nil, dataLoss(ReasonEventInvalid, "event %d is event %d of %s", rec.GetSequence(), ev.GetSequence(), ev.GetNegotiation())
	}
	rec = &parleyv1.EventRecord{Sequence: rec.GetSequence(), Leaf: rec.GetLeaf(), Event: ev}
	if g.verifier != nil {
		if err := g.verifier.VerifyEvent(ctx, g.negotiation, rec); err != nil {
			return nil, err
		}
	}
	g.last = rec.GetSequence()
	return rec, nil
}

// Events yields the events of a negotiation's log after a sequence number
// (0 for the whole log), page after page, up to the end of the log as it is
// when the last page is read. Stop early by breaking out of the loop. After
// an error, nothing more is yielded.
//
//	for rec, err := range c.Events(ctx, negotiation, 0) {
//		if err != nil { return err }
//		…
//	}
func (c *Client) Events(ctx context.Context, negotiation string, after int64) iter.Seq2[*parleyv1.EventRecord, error] {
	return func(yield func(*parleyv1.EventRecord, error) bool) {
		g := c.gate(negotiation, after)
		for {
			// Each page starts after the last event checked, so pages need
			// no token and a retried page cannot skip anything.
			req := &parleyv1.ListEventsRequest{Negotiation: negotiation, AfterSequence: g.last, PageSize: 1000}
			resp, err := invoke(ctx, c, req, c.svc.ListEvents)
			if err != nil {
				yield(nil, err)
				return
			}
			if pv, ok := c.verifier.(PageVerifier); ok {
				if err := pv.VerifyPage(ctx, negotiation, resp.GetEvents()); err != nil {
					yield(nil, err)
					return
				}
			}
			for _, rec := range resp.GetEvents() {
				rec, err := g.accept(ctx, rec)
				if err != nil {
					yield(nil, err)
					return
				}
				if !yield(rec, nil) {
					return
				}
			}
			if resp.GetNextPageToken() == "" || len(resp.GetEvents()) == 0 {
				return
			}
		}
	}
}

// Watch yields the events of a negotiation's log after a sequence number (0
// for the whole log), then follows new ones as they are committed, until the
// context ends, the loop breaks, or an error that is not transient.
//
// When the stream breaks (the server restarts, the network drops), Watch
// reconnects with backoff and resumes after the last event it yielded; when
// the server cuts off a stream the caller read too slowly
// (ReasonWatchTooSlow), Watch resumes at once. Either way
// the caller sees every event once, in order, without gaps; anything else
// from the server is an error (codes.DataLoss, SEQUENCE_GAP or
// SEQUENCE_DUPLICATE). The retry policy's MaxAttempts bounds the
// reconnections in a row that bring no event. When the context ends, Watch
// returns without yielding an error.
func (c *Client) Watch(ctx context.Context, negotiation string, after int64) iter.Seq2[*parleyv1.EventRecord, error] {
	return func(yield func(*parleyv1.EventRecord, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		g := c.gate(negotiation, after)
		failures := 0
		for {
			err := c.watchOnce(ctx, g, func(rec *parleyv1.EventRecord) bool {
				failures = 0
				return yield(rec, nil)
			})
			switch {
			case err == errStopped || ctx.Err() != nil:
				return
			case failures == 0 && ReasonOf(toError(err)) == ReasonWatchTooSlow:
				// The server cut off a stream this client read too slowly,
				// after events it took: resume from the last one at once.
				continue
			case !watchRetryable(err):
				yield(nil, toError(err))
				return
			}
			failures++
			if failures >= c.retry.MaxAttempts {
				yield(nil, toError(err))
				return
			}
			if sleep(ctx, c.waitToRetry(failures, err)) != nil {
				return
			}
		}
	}
}

// errStopped says the caller broke out of the loop.
var errStopped = errors.New("stopped")

// watchOnce follows one stream until it breaks, passing each event through
// the gate to yield.
func (c *Client) watchOnce(ctx context.Context, g *eventGate, yield func(*parleyv1.EventRecord) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream when the caller stops
	stream, err := c.svc.WatchEvents(ctx, &parleyv1.WatchEventsRequest{Negotiation: g.negotiation, AfterSequence: g.last})
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		rec, err := g.accept(ctx, resp.GetEvent())
		if err != nil {
			return err
		}
		if !yield(rec) {
			return errStopped
		}
	}
}

// watchRetryable reports whether a broken stream should be opened again.
func watchRetryable(err error) bool {
	if errors.Is(err, io.EOF) {
		return true // the server ended the stream; it never should, so resume
	}
	var e *Error
	if errors.As(err, &e) {
		return false // the gate refused an event, or the verifier did
	}
	return CodeOf(err) == codes.Unavailable || ReasonOf(toError(err)) == ReasonWatchTooSlow
}

// ReasonWatchTooSlow is the server's reason, with codes.ResourceExhausted,
// for cutting off a watch stream whose client stopped reading: Watch resumes
// from the last event it yielded.
const ReasonWatchTooSlow = "WATCH_TOO_SLOW"
