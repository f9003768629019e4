package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/server/rpc"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// entryVersion is the first byte of every raft entry Parley writes.
const entryVersion = 1

// Kinds of entry.
const (
	kindCall     = "call"     // a client's mutating call
	kindDeadline = "deadline" // voting closed at its deadline, by the leader's scheduler
)

// entry is one raft log entry: a call, or a closing at a deadline, with what
// the leader chose once for every node.
type entry struct {
	Kind string    `json:"kind"`
	At   int64     `json:"at"` // Unix nanoseconds: the commit time
	Seed [16]byte  `json:"seed"`
	Call *rpc.Call `json:"call,omitempty"`
	// A closing at a deadline.
	Negotiation string `json:"negotiation,omitempty"`
	Amendment   string `json:"amendment,omitempty"`
}

func encodeEntry(e entry) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return append([]byte{entryVersion}, body...), nil
}

func decodeEntry(data []byte) (entry, error) {
	var e entry
	if len(data) == 0 || data[0] != entryVersion {
		return e, errors.New("raft entry of unknown version")
	}
	return e, json.Unmarshal(data[1:], &e)
}

// applied is what applying an entry gave, for the node that proposed it.
type applied struct {
	reply proto.Message
	err   error
}

// fsm is raft's state machine: the store, through the same handlers as a
// single node's.
type fsm struct {
	db     *store.DB
	server *rpc.Server
	logger *slog.Logger

	index atomic.Uint64 // the last entry applied (or found applied)
	mu    sync.Mutex
	wake  chan struct{} // closed and replaced whenever index moves
}

func newFSM(db *store.DB, server *rpc.Server, logger *slog.Logger) (*fsm, error) {
	index, err := db.AppliedIndex()
	if err != nil {
		return nil, err
	}
	f := &fsm{db: db, server: server, logger: logger, wake: make(chan struct{})}
	f.index.Store(index)
	return f, nil
}

var _ raft.FSM = (*fsm)(nil)

func (f *fsm) Apply(l *raft.Log) any {
	defer f.advance(l.Index)
	e, err := decodeEntry(l.Data)
	if err != nil {
		// Every node refuses it alike; the store does not move, and a
		// restart refuses it again.
		f.logger.Error("raft entry does not decode", "index", l.Index, "err", err)
		return applied{err: fmt.Errorf("raft entry %d: %w", l.Index, err)}
	}
	stamp := rpc.Stamp{Index: l.Index, At: time.Unix(0, e.At).UTC(), Seed: e.Seed}
	var out applied
	switch e.Kind {
	case kindCall:
		if e.Call == nil {
			out.err = fmt.Errorf("raft entry %d: a call without the call", l.Index)
			break
		}
		out.reply, out.err = f.server.ApplyCall(stamp, *e.Call)
	case kindDeadline:
		_, out.err = f.db.Apply(l.Index, stamp.At, store.Exec{NegotiationID: e.Negotiation, Actor: workflow.AdminActor,
			Command: workflow.CloseVotingAtDeadline{AmendmentID: e.Amendment}})
	default:
		out.err = fmt.Errorf("raft entry %d of unknown kind %q", l.Index, e.Kind)
	}
	if errors.Is(out.err, store.ErrAlreadyApplied) {
		return applied{err: out.err}
	}

	var refusal *workflow.Error
	if out.err != nil && (!errors.As(out.err, &refusal) || refusal.Code == workflow.EINTERNAL) {
		f.logger.Error("raft entry not applied", "index", l.Index, "err", out.err)
	}
	return out
}

// advance notes that every entry up to index is applied.
func (f *fsm) advance(index uint64) {
	if index <= f.index.Load() {
		return
	}
	f.mu.Lock()
	f.index.Store(index)
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

// waitApplied returns once the entry at index is applied.
func (f *fsm) waitApplied(ctx context.Context, index uint64) error {
	for {
		f.mu.Lock()
		wake := f.wake
		f.mu.Unlock()
		if f.index.Load() >= index {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	s, err := f.db.Snapshot()
	if err != nil {
		return nil, err
	}
	return snapshot{s}, nil
}

func (f *fsm) Restore(r io.ReadCloser) error {
	defer r.Close()
	if err := f.db.Restore(r); err != nil {
		return err
	}
	index, err := f.db.AppliedIndex()
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.index.Store(index)
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
	f.logger.Info("restored a snapshot", "applied_index", index)
	return nil
}

// snapshot writes the store's file into raft's snapshot sink.
type snapshot struct{ s *store.Snapshot }

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.s.WriteTo(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s snapshot) Release() { s.s.Release() }
