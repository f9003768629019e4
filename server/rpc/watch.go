package rpc

import (
	"sync"
	"sync/atomic"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

const (
	// watchBatch is how many events a watcher takes at a time.
	watchBatch = 256
	// tailSize is how many of each negotiation's newest events the hub
	// keeps decoded for its watchers.
	tailSize = 1024
)

// hub tells the watchers of a negotiation of each commit and keeps the
// newest events, each decoded once for all of them. A watcher reads from its
// own position, in the tail when the tail reaches back that far and in the
// log otherwise, so none can skip or reorder events, and a slow one holds up
// nobody.
type hub struct {
	watchers atomic.Int64 // streams open now

	mu     sync.RWMutex
	topics map[string]*topic
	closed chan struct{}
	once   sync.Once
}

// topic is one negotiation's wake-up channel and tail.
type topic struct {
	wake chan struct{} // closed and replaced at each commit
	tail []*tailEvent  // the newest events, in order, without gaps
}

// tailEvent is a committed event whose record is decoded at most once.
type tailEvent struct {
	stored store.StoredEvent
	once   sync.Once
	rec    *parleyv1.EventRecord
}

func newHub() *hub {
	return &hub{topics: map[string]*topic{}, closed: make(chan struct{})}
}

func (h *hub) topic(negotiationID string) *topic {
	t, ok := h.topics[negotiationID]
	if !ok {
		t = &topic{wake: make(chan struct{})}
		h.topics[negotiationID] = t
	}
	return t
}

// publish runs after a commit that appended events to a negotiation.
func (h *hub) publish(negotiationID string, events []store.StoredEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topic(negotiationID)
	for _, e := range events {
		if n := len(t.tail); n > 0 && t.tail[n-1].stored.Sequence != e.Sequence-1 {
			t.tail = t.tail[:0] // cannot happen: commits come in order; start a new tail
		}
		t.tail = append(t.tail, &tailEvent{stored: e})
	}
	if over := len(t.tail) - tailSize; over > 0 {
		t.tail = append(t.tail[:0:0], t.tail[over:]...)
	}
	close(t.wake)
	t.wake = make(chan struct{})
}

// wake returns a channel closed at the next commit of the negotiation. Take
// it before reading, so that no commit goes unnoticed.
func (h *hub) wake(negotiationID string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.topic(negotiationID).wake
}

// since returns up to limit events after a sequence from the tail, and
// whether the tail reaches back to it; if not, read the log.
func (h *hub) since(negotiationID string, after int64, limit int) ([]*tailEvent, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	t, ok := h.topics[negotiationID]
	if !ok || len(t.tail) == 0 || t.tail[0].stored.Sequence > after+1 {
		return nil, false
	}
	i := int(after + 1 - t.tail[0].stored.Sequence)
	if i >= len(t.tail) {
		return nil, true
	}
	return t.tail[i:min(len(t.tail), i+limit)], true
}

func (h *hub) close() { h.once.Do(func() { close(h.closed) }) }

// record returns the event's record, decoding it on first use.
func (s *Server) record(e *tailEvent) *parleyv1.EventRecord {
	e.once.Do(func() { e.rec = s.eventRecord(e.stored) })
	return e.rec
}

var errShuttingDown = workflow.Errorf(workflow.EUNAVAILABLE, "SHUTTING_DOWN", "the server is shutting down; reconnect and resume from the last sequence received")

func (s *Server) WatchEvents(req *parleyv1.WatchEventsRequest, stream parleyv1.NegotiationService_WatchEventsServer) error {
	ctx := stream.Context()
	c := callerFrom(ctx)
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return err
	}
	if err := c.member(nid); err != nil {
		return err
	}
	after := req.GetAfterSequence()
	if after < 0 {
		return workflow.Errorf(workflow.EINVALID, "SEQUENCE_INVALID", "after_sequence must not be negative")
	}
	s.hub.watchers.Add(1)
	defer s.hub.watchers.Add(-1)
	send := func(rec *parleyv1.EventRecord) error {
		if err := stream.Send(&parleyv1.WatchEventsResponse{Event: rec}); err != nil {
			return err
		}
		after = rec.GetSequence()
		if touchesCredential(rec.GetEvent(), c) {
			if _, err := s.authenticateHash(c.tokenHash); err != nil {
				return workflow.Errorf(workflow.EUNAUTHENTICATED, "TOKEN_INVALID", "this watcher's token was rotated or revoked")
			}
		}
		return nil
	}
	for {
		wake := s.hub.wake(nid)
		n := 0
		if tail, ok := s.hub.since(nid, after, watchBatch); ok {
			for _, e := range tail {
				if err := send(s.record(e)); err != nil {
					return err
				}
			}
			n = len(tail)
		} else {
			stored, err := s.store.Events(nid, after, watchBatch)
			if err != nil {
				return err
			}
			for _, e := range stored {
				if err := send(s.eventRecord(e)); err != nil {
					return err
				}
			}
			n = len(stored)
		}
		if n == watchBatch {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.hub.closed:
			return errShuttingDown
		}
	}
}

// touchesCredential reports whether an event issues or revokes a token of
// the watching participant, after which its own token may no longer be valid.
func touchesCredential(e *parleyv1.Event, c Caller) bool {
	if c.Admin {
		return false
	}
	return e.GetCredentialIssued().GetParticipant() == c.Participant ||
		e.GetCredentialRevoked().GetParticipant() == c.Participant
}
