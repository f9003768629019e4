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

var _ raft.BatchingFSM = (*fsm)(nil)

func (f *fsm) Apply(l *raft.Log) any {
	defer f.advance(l.Index)
	e, err := decodeEntry(l.Data)
	if err != nil {
		// Every node refuses it alike; the store does not move, and a
		// restart refuses it again.
		f.logger.Error("raft entry does not decode", "index", l.Index, "err", err)
		return applied{err: fmt.Errorf("raft entry %d: %w", l.Index, err)}
	}
	return f.apply(l.Index, e)
}

// ApplyBatch applies the entries raft committed together: each run of calls
// that rpc.Batchable allows in one store transaction (one fsync for the run
// instead of one per entry), the others one by one, in the log's order. The
// store ends as applying every entry alone would leave it, whatever the
// batches, which differ from node to node.
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	var run []int // positions in logs of the calls waiting for one transaction
	var stamps []rpc.Stamp
	var calls []rpc.Call
	flush := func() {
		if len(run) == 0 {
			return
		}
		for j, a := range f.server.ApplyCalls(stamps, calls) {
			out[run[j]] = f.settle(stamps[j].Index, applied{reply: a.Reply, err: a.Err})
			f.advance(stamps[j].Index)
		}
		run, stamps, calls = run[:0], stamps[:0], calls[:0]
	}
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue // a configuration: raft's alone
		}
		e, err := decodeEntry(l.Data)
		if err == nil && e.Kind == kindCall && e.Call != nil && rpc.Batchable(*e.Call) {
			run = append(run, i)
			stamps = append(stamps, stampOf(l.Index, e))
			calls = append(calls, *e.Call)
			continue
		}
		flush()
		out[i] = f.Apply(l)
	}
	flush()
	if len(logs) > 0 {
		f.advance(logs[len(logs)-1].Index)
	}
	return out
}

func stampOf(index uint64, e entry) rpc.Stamp {
	return rpc.Stamp{Index: index, At: time.Unix(0, e.At).UTC(), Seed: e.Seed}
}

// apply applies one decoded entry in a transaction of its own.
func (f *fsm) apply(index uint64, e entry) any {
	stamp := stampOf(index, e)
	var out applied
	switch e.Kind {
	case kindCall:
		if e.Call == nil {
			out.err = fmt.Errorf("raft entry %d: a call without the call", index)
			break
		}
		out.reply, out.err = f.server.ApplyCall(stamp, *e.Call)
	case kindDeadline:
		_, out.err = f.db.Apply(index, stamp.At, store.Exec{NegotiationID: e.Negotiation, Actor: workflow.AdminActor,
			Command: workflow.CloseVotingAtDeadline{AmendmentID: e.Amendment}})
	default:
		out.err = fmt.Errorf("raft entry %d of unknown kind %q", index, e.Kind)
	}
	return f.settle(index, out)
}

// settle logs an entry that failed for another reason than the rules.
func (f *fsm) settle(index uint64, out applied) any {
	if errors.Is(out.err, store.ErrAlreadyApplied) {
		return applied{err: out.err}
	}
	var refusal *workflow.Error
	if out.err != nil && (!errors.As(out.err, &refusal) || refusal.Code == workflow.EINTERNAL) {
		f.logger.Error("raft entry not applied", "index", index, "err", out.err)
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
