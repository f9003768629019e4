package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// What a replicated store (server/cluster) adds: the index of the last raft
// entry applied, written in the same transaction as the entry's effects.
var (
	bucketRaft = []byte("raft")
	keyApplied = []byte("applied")
)

// ErrAlreadyApplied is returned by Apply for an entry at or below the
// applied index: its effects are in the store already.
var ErrAlreadyApplied = errors.New("raft entry applied already")

// AppliedIndex returns the index of the last raft entry the store applied; 0
// if none (a single-node database).
func (db *DB) AppliedIndex() (uint64, error) {
	var index uint64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		index = appliedIn(tx)
		return nil
	})
	return index, err
}

func appliedIn(tx *bolt.Tx) uint64 {
	if b := tx.Bucket(bucketRaft); b != nil {
		if v := b.Get(keyApplied); len(v) == 8 {
			return binary.BigEndian.Uint64(v)
		}
	}
	return 0
}

func putApplied(tx *bolt.Tx, index uint64) error {
	b, err := tx.CreateBucketIfNotExists(bucketRaft)
	if err != nil {
		return err
	}
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, index)
	return b.Put(keyApplied, v)
}

// Apply executes x as the raft entry of the given index, its events stamped
// with at (the time the leader chose for the entry, so that every node writes
// the same events), and records the index in the same transaction. An entry at
// or below the applied index changes nothing and returns ErrAlreadyApplied: raft
// replays the entries after its last snapshot when a node restarts. A refusal by
// the rules still records the index. Apply must not run beside Execute on the
// same database: a replicated store takes every command through Apply.
func (db *DB) Apply(index uint64, at time.Time, x Exec) (Result, error) {
	db.sendMu.RLock()
	defer db.sendMu.RUnlock()
	if db.closed {
		return Result{}, ErrClosed
	}
	defer db.lockCommits()()
	applied, err := db.AppliedIndex()
	if err != nil {
		return Result{}, err
	}
	if index <= applied {
		return Result{}, ErrAlreadyApplied
	}
	o := &op{ctx: context.Background(), x: x, done: make(chan struct{})}
	db.commitAt([]*op{o}, at, func(tx *bolt.Tx) error { return putApplied(tx, index) })
	return o.result, o.err
}

// Snapshot is a consistent, read-only view of the whole database, as of the
// moment it was taken, for a raft snapshot. Release it when done: while it is
// held, a commit that needs to grow the file's memory map waits for it.
type Snapshot struct{ tx *bolt.Tx }

// Snapshot opens a snapshot of the database.
func (db *DB) Snapshot() (*Snapshot, error) {
	tx, err := db.bolt.Begin(false)
	if err != nil {
		return nil, err
	}
	return &Snapshot{tx: tx}, nil
}

// WriteTo writes the snapshot as a bbolt file.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) { return s.tx.WriteTo(w) }

// AppliedIndex returns the raft index the snapshot holds.
func (s *Snapshot) AppliedIndex() uint64 { return appliedIn(s.tx) }

// Release ends the snapshot.
func (s *Snapshot) Release() { s.tx.Rollback() }

// Restore replaces the whole content of the database with a snapshot (a bbolt
// file as Snapshot.WriteTo writes it), in one write transaction: readers see
// the old content or the new, never a mix, and the file stays open. The cached
// negotiations are dropped and the functions registered with OnRestore run.
func (db *DB) Restore(r io.Reader) error {
	spool, err := os.CreateTemp(filepath.Dir(db.path), ".restore-*")
	if err != nil {
		return fmt.Errorf("restore: create the spool file: %w", err)
	}
	defer os.Remove(spool.Name())
	_, err = io.Copy(spool, r)
	if closeErr := spool.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("restore: read the snapshot: %w", err)
	}
	src, err := bolt.Open(spool.Name(), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("restore: open the snapshot: %w", err)
	}
	defer src.Close()

	db.sendMu.RLock()
	defer db.sendMu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	defer db.lockCommits()()
	var txid uint64
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		txid = uint64(tx.ID())
		var names [][]byte
		if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, append([]byte(nil), name...))
			return nil
		}); err != nil {
			return err
		}
		for _, name := range names {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return src.View(func(stx *bolt.Tx) error {
			return stx.ForEach(func(name []byte, b *bolt.Bucket) error {
				dst, err := tx.CreateBucket(name)
				if err != nil {
					return err
				}
				return copyBucket(dst, b)
			})
		})
	})
	if err == nil && db.logging() {
		err = db.checkpointLocked()
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The snapshot's token index replaced ours: a token revoked in it must
	// not stay known from the cache.
	db.tokens.invalidate()
	db.mu.Lock()
	entries := make([]*entry, 0, len(db.cache))
	for _, e := range db.cache {
		entries = append(entries, e)
	}
	hooks := db.restored
	db.mu.Unlock()
	for _, e := range entries {
		e.mu.Lock()
		e.n, e.tree = nil, nil
		e.mu.Unlock()
	}
	if err := db.lastCommit.record(txid, "", 0); err != nil {
		db.logger.Error("cannot write the last-commit record; a rollback of the database may go unnoticed", "err", err)
	}
	for _, fn := range hooks {
		fn()
	}
	return nil
}

func copyBucket(dst, src *bolt.Bucket) error {
	if err := dst.SetSequence(src.Sequence()); err != nil {
		return err
	}
	return src.ForEach(func(k, v []byte) error {
		if v != nil {
			return dst.Put(k, v)
		}
		nested, err := dst.CreateBucket(k)
		if err != nil {
			return err
		}
		return copyBucket(nested, src.Bucket(k))
	})
}

// OnRestore registers fn to run after each Restore, once the new content is
// committed: whoever keeps something derived from the store drops it.
func (db *DB) OnRestore(fn func()) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.restored = append(db.restored, fn)
}

// ResetAppliedIndex forgets the applied raft index: for a database that seeds
// a new cluster, whose raft log starts again from its first entry.
func (db *DB) ResetAppliedIndex() error {
	_, err := db.updateUnlogged(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketRaft); b != nil {
			return b.Delete(keyApplied)
		}
		return nil
	})
	return err
}

// Entry is one raft entry for ApplyBatch: its index, the time the leader
// chose for it and its command.
type Entry struct {
	Index uint64
	At    time.Time
	Exec  Exec
}

// Applied is what applying one entry of a batch gave: as Apply returns it.
type Applied struct {
	Result Result
	Err    error
}

// ApplyBatch applies entries, in the order given (their indexes increasing),
// in one transaction: one fsync for the batch instead of one per entry. Each
// entry's events are stamped with its own time and decided on the state its
// predecessors left, so the store ends exactly as applying them one by one
// (Apply) would leave it, and each gets the reply or refusal Apply would have
// given: a refusal by the rules affects its entry alone, and an entry at or
// below the applied index changes nothing and gets ErrAlreadyApplied. The
// applied index is written once, the last entry's. A failed commit fails
// every entry of the batch that the rules did not refuse.
func (db *DB) ApplyBatch(entries []Entry) []Applied {
	out := make([]Applied, len(entries))
	fail := func(err error) []Applied {
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	db.sendMu.RLock()
	defer db.sendMu.RUnlock()
	if db.closed {
		return fail(ErrClosed)
	}
	defer db.lockCommits()()
	applied, err := db.AppliedIndex()
	if err != nil {
		return fail(err)
	}
	ops := make([]*op, 0, len(entries))
	var last uint64
	for i, e := range entries {
		if e.Index <= applied || e.Index <= last {
			out[i].Err = ErrAlreadyApplied
			continue
		}
		last = e.Index
		ops = append(ops, &op{ctx: context.Background(), x: e.Exec, at: e.At, entry: true, done: make(chan struct{})})
	}
	if len(ops) == 0 {
		return out
	}
	db.commitAt(ops, ops[len(ops)-1].at, func(tx *bolt.Tx) error { return putApplied(tx, last) })
	j := 0
	for i := range out {
		if out[i].Err == ErrAlreadyApplied {
			continue
		}
		out[i] = Applied{Result: ops[j].result, Err: ops[j].err}
		j++
	}
	return out
}

// flushEntry writes the projections the entry just executed changed, as
// Apply would at its commit, and starts the next entry with none: a
// projection holds counts the next entries change without rewriting it (a
// negotiation's last sequence, a point's pending amendments), so writing it
// once at the end of a batch would store other bytes than applying the
// entries one by one, and a node's bytes would depend on how raft batched.
func (b *batch) flushEntry(tx *bolt.Tx) error {
	if err := b.flush(tx); err != nil {
		return err
	}
	for _, d := range b.dirty {
		d.meta, d.order = false, false
		clear(d.points)
		clear(d.amendments)
		clear(d.credentials)
		clear(d.comments)
	}
	return nil
}
