package rpc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

const (
	// watchBatch is how many events a watcher takes at a time, at most: it
	// takes fewer when they would pass its backlog in bytes.
	watchBatch = 256
	// tailSize is how many of each negotiation's newest events the hub
	// keeps decoded for its watchers, and tailBytes how many bytes of them
	// at most (they are held twice once decoded): a negotiation of long
	// texts keeps fewer.
	tailSize  = 1024
	tailBytes = 4 << 20
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
	wake  chan struct{} // closed and replaced at each commit
	tail  []*tailEvent  // the newest events, in order, without gaps
	bytes int           // of the tail's leaves
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
			t.tail, t.bytes = t.tail[:0], 0 // cannot happen: commits come in order; start a new tail
		}
		t.tail = append(t.tail, &tailEvent{stored: e})
		t.bytes += len(e.Leaf)
	}
	drop := 0
	for drop < len(t.tail) && (len(t.tail)-drop > tailSize || t.bytes > tailBytes) {
		t.bytes -= len(t.tail[drop].stored.Leaf)
		drop++
	}
	if drop > 0 {
		// Dropped in place, not copied to a new slice at every commit (8 KiB
		// each time once the tail is full): append reallocates the tail only
		// when it reaches the end of its array, and the events dropped meanwhile
		// are released now.
		clear(t.tail[:drop])
		t.tail = t.tail[drop:]
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

// restart drops every tail and wakes every watcher, which reads on from the
// log: the store's content was replaced (a cluster restored a snapshot).
func (h *hub) restart() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.topics {
		t.tail, t.bytes = nil, 0
		close(t.wake)
		t.wake = make(chan struct{})
	}
}

func (h *hub) close() { h.once.Do(func() { close(h.closed) }) }

// record returns the event's record, decoding it on first use.
func (s *Server) record(e *tailEvent) *parleyv1.EventRecord {
	e.once.Do(func() { e.rec = s.eventRecord(e.stored) })
	return e.rec
}

var errShuttingDown = workflow.Errorf(workflow.EUNAVAILABLE, "SHUTTING_DOWN", "the server is shutting down; reconnect and resume from the last sequence received")

// Defaults of the watch limits (WithWatchLimits).
const (
	DefaultWatchBacklog         = 256 << 10
	DefaultWatchStall           = 10 * time.Second
	DefaultWatchStreamsPerToken = 16
)

// watchLimits bound what each watcher holds and how many one token opens.
type watchLimits struct {
	// backlog is the bytes of events a watcher may hold read but not yet
	// taken by gRPC, which takes them only as fast as the client reads.
	backlog int
	// stall is how long gRPC may leave one of a watcher's events waiting,
	// its client not reading, before the watcher is cut off.
	stall time.Duration
	// perToken caps the streams open at once with one participant's token.
	perToken int

	mu   sync.Mutex
	open map[string]int // token hash → streams open now
}

func defaultWatchLimits() watchLimits {
	return watchLimits{backlog: DefaultWatchBacklog, stall: DefaultWatchStall, perToken: DefaultWatchStreamsPerToken, open: map[string]int{}}
}

// WithWatchLimits bounds each WatchEvents stream. backlog is the bytes of
// events a watcher may read ahead of gRPC (which takes them as the client
// reads); a watcher whose next event gRPC leaves waiting for stall is cut off
// with RESOURCE_EXHAUSTED, reason WATCH_TOO_SLOW, and resumes from its last
// sequence (stall 0: at the first check that finds one waiting; checks come
// every stall/4, between 5 ms and 1 s). perToken caps the streams one
// participant's token may have open; one more is refused with
// RESOURCE_EXHAUSTED, reason TOO_MANY_WATCHES. Values below 0 leave the
// default; backlog 0 means one event at a time, perToken 0 no cap.
func WithWatchLimits(backlog int, stall time.Duration, perToken int) Option {
	return func(s *Server) {
		if backlog >= 0 {
			s.watches.backlog = backlog
		}
		if stall >= 0 {
			s.watches.stall = stall
		}
		if perToken >= 0 {
			s.watches.perToken = perToken
		}
	}
}

// enter counts a stream of the caller's, refusing one over the cap. The
// administrator is not capped: it is the operator, not a party.
func (w *watchLimits) enter(c Caller) (leave func(), err error) {
	if c.Admin || w.perToken == 0 {
		return func() {}, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open[c.tokenHash] >= w.perToken {
		return nil, workflow.Errorf(workflow.ERESOURCEEXHAUSTED, "TOO_MANY_WATCHES",
			"this token has %d WatchEvents streams open, the most allowed; close one first", w.perToken)
	}
	w.open[c.tokenHash]++
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.open[c.tokenHash]--; w.open[c.tokenHash] <= 0 {
			delete(w.open, c.tokenHash)
		}
	}, nil
}

// WatchEvents streams a negotiation's events after a sequence, then live
// ones. A follower goroutine reads events, from the hub's tail or the log, in
// batches bounded in bytes, and sends them; gRPC takes a message only as fast
// as the client reads, so the follower of a client that stops reading blocks
// in Send holding at most one batch. This goroutine, the stream's own, watches
// it and cuts the stream off once one Send has waited for the stall time: only
// the handler's return ends a gRPC stream.
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
	leave, err := s.watches.enter(c)
	if err != nil {
		return err
	}
	defer leave()
	s.hub.watchers.Add(1)
	defer s.hub.watchers.Add(-1)

	f := &follower{s: s, stream: stream, caller: c, negotiation: nid, from: after, batchBytes: max(s.watches.backlog, 1)}
	f.sent.Store(after)
	done := make(chan error, 1)
	go func() { done <- f.follow(ctx) }()
	stall := s.watches.stall
	tick := time.NewTicker(min(max(stall/4, 5*time.Millisecond), time.Second))
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			if f.stalled(stall) {
				return workflow.Errorf(workflow.ERESOURCEEXHAUSTED, "WATCH_TOO_SLOW",
					"this watcher stopped reading: an event waited %s for it; resume from sequence %d", stall, f.sent.Load())
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-s.hub.closed:
			return errShuttingDown
		}
	}
}

// follower reads a watcher's events and sends them.
type follower struct {
	s           *Server
	stream      parleyv1.NegotiationService_WatchEventsServer
	caller      Caller
	negotiation string
	from        int64 // the sequence the stream started after
	batchBytes  int   // the backlog: bytes of events read ahead of gRPC

	sent      atomic.Int64 // the last sequence gRPC took
	sendStart atomic.Int64 // when the Send in progress began (Unix ns); 0 if none
}

// follow sends every event after f.from, then live ones, until the stream
// or the server ends.
func (f *follower) follow(ctx context.Context) error {
	after := f.from
	for {
		wake := f.s.hub.wake(f.negotiation)
		batch, full, err := f.s.watchBatch(f.negotiation, after, f.batchBytes)
		if err != nil {
			return err
		}
		for _, rec := range batch {
			if err := f.send(rec); err != nil {
				return err
			}
			after = rec.GetSequence()
		}
		if full {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-f.s.hub.closed:
			return errShuttingDown
		}
	}
}

func (f *follower) send(rec *parleyv1.EventRecord) error {
	f.sendStart.Store(time.Now().UnixNano())
	err := f.stream.Send(&parleyv1.WatchEventsResponse{Event: rec})
	f.sendStart.Store(0)
	if err != nil {
		return err
	}
	f.sent.Store(rec.GetSequence())
	if touchesCredential(rec.GetEvent(), f.caller) {
		if _, err := f.s.authenticateHash(f.caller.tokenHash); err != nil {
			return workflow.Errorf(workflow.EUNAUTHENTICATED, "TOKEN_INVALID", "this watcher's token was rotated or revoked")
		}
	}
	return nil
}

// stalled reports whether gRPC has left a Send waiting for the stall time,
// its client not reading. Not before the stream has taken one event, so that
// each stream a client opens moves it forward.
func (f *follower) stalled(stall time.Duration) bool {
	start := f.sendStart.Load()
	return start != 0 && time.Since(time.Unix(0, start)) >= stall && f.sent.Load() != f.from
}

// watchBatch reads the events after a sequence, from the tail when it
// reaches back that far and from the log otherwise, up to watchBatch events
// and about maxBytes of them (at least one). full says more may follow at
// once.
func (s *Server) watchBatch(nid string, after int64, maxBytes int) (batch []*parleyv1.EventRecord, full bool, err error) {
	if tail, ok := s.hub.since(nid, after, watchBatch); ok {
		size := 0
		for _, e := range tail {
			if len(batch) > 0 && size+2*len(e.stored.Leaf) > maxBytes {
				return batch, true, nil
			}
			size += 2 * len(e.stored.Leaf) // a record holds its leaf and its decoding
			batch = append(batch, s.record(e))
		}
		return batch, len(tail) == watchBatch, nil
	}
	stored, more, err := s.store.EventsWithin(nid, after, watchBatch, max(maxBytes/2, 1))
	if err != nil {
		return nil, false, err
	}
	for _, e := range stored {
		batch = append(batch, s.eventRecord(e))
	}
	return batch, more, nil
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
