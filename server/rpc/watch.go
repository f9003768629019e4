package rpc

import (
	"sync"
	"sync/atomic"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// watchBatch is how many stored events a watcher reads at a time.
const watchBatch = 256

// hub wakes the watchers of a negotiation when a commit adds events to it.
// It carries no events: each watcher reads the log from where it is, so none
// can skip or reorder events, and a slow one holds up nobody.
type hub struct {
	watchers atomic.Int64 // streams open now

	mu     sync.Mutex
	wakes  map[string]chan struct{} // closed and replaced at each commit
	closed chan struct{}
	once   sync.Once
}

func newHub() *hub {
	return &hub{wakes: map[string]chan struct{}{}, closed: make(chan struct{})}
}

// publish runs after a commit that changed a negotiation.
func (h *hub) publish(negotiationID string, _ int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch, ok := h.wakes[negotiationID]; ok {
		close(ch)
		delete(h.wakes, negotiationID)
	}
}

// wake returns a channel closed at the next commit of the negotiation. Take
// it before reading the log, so that no commit goes unnoticed.
func (h *hub) wake(negotiationID string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, ok := h.wakes[negotiationID]
	if !ok {
		ch = make(chan struct{})
		h.wakes[negotiationID] = ch
	}
	return ch
}

func (h *hub) close() { h.once.Do(func() { close(h.closed) }) }

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
	for {
		wake := s.hub.wake(nid)
		stored, err := s.store.Events(nid, after, watchBatch)
		if err != nil {
			return err
		}
		for _, e := range stored {
			rec := s.eventRecord(e)
			if err := stream.Send(&parleyv1.WatchEventsResponse{Event: rec}); err != nil {
				return err
			}
			after = e.Sequence
			if touchesCredential(rec.GetEvent(), c) {
				if _, err := s.authenticateHash(c.tokenHash); err != nil {
					return workflow.Errorf(workflow.EUNAUTHENTICATED, "TOKEN_INVALID", "this watcher's token was rotated or revoked")
				}
			}
		}
		if len(stored) == watchBatch {
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
