package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parley-negotiation/parley/server/workflow"
)

// bucketDeadlines indexes the voting deadlines of OPEN amendments by time, so
// that the server finds the next one to close without reading any
// negotiation: key = deadline (8 bytes, big-endian Unix nanoseconds) ||
// negotiation id || "/" || amendment id; no value.
var bucketDeadlines = []byte("deadlines")

// Deadline is one voting deadline still to be closed.
type Deadline struct {
	At            time.Time
	NegotiationID string
	AmendmentID   string
}

func deadlineKey(at time.Time, negotiationID, amendmentID string) []byte {
	k := make([]byte, 8, 8+len(negotiationID)+1+len(amendmentID))
	binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
	k = append(k, negotiationID...)
	k = append(k, '/')
	return append(k, amendmentID...)
}

// Deadlines returns up to limit deadlines of OPEN amendments, earliest first,
// at or after from (zero: from the first).
func (db *DB) Deadlines(from time.Time, limit int) ([]Deadline, error) {
	var out []Deadline
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDeadlines)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var k []byte
		if from.IsZero() {
			k, _ = c.First()
		} else {
			start := make([]byte, 8)
			binary.BigEndian.PutUint64(start, uint64(from.UnixNano()))
			k, _ = c.Seek(start)
		}
		for ; k != nil && len(out) < limit; k, _ = c.Next() {
			if len(k) < 8 {
				return fmt.Errorf("deadline key %x is too short", k)
			}
			nid, aid, ok := bytes.Cut(k[8:], []byte("/"))
			if !ok {
				return fmt.Errorf("deadline key %x has no amendment", k)
			}
			out = append(out, Deadline{At: time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(),
				NegotiationID: string(nid), AmendmentID: string(aid)})
		}
		return nil
	})
	return out, err
}

// indexDeadlines updates the deadline index for the amendments a batch
// touched: an OPEN amendment of a negotiation that is not final has its
// deadline indexed; any other has none. Deadlines the batch replaced were
// removed as their events were written.
func (b *batch) indexDeadlines(tx *bolt.Tx, negotiationID string, d *dirty) error {
	index := tx.Bucket(bucketDeadlines)
	for id := range d.amendments {
		a := d.n.Amendments[id]
		if a == nil || a.Deadline.IsZero() {
			continue
		}
		key := deadlineKey(a.Deadline, negotiationID, id)
		var err error
		if a.State == workflow.AmendmentStateOpen && !d.n.State.Final() {
			err = index.Put(key, nil)
			if b.deadline.IsZero() || a.Deadline.Before(b.deadline) {
				b.deadline = a.Deadline
			}
		} else {
			err = index.Delete(key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// OnDeadline registers fn to run after every commit that indexed a voting
// deadline, with the earliest one it indexed, until the returned function
// unregisters it: a cluster node starts a deadline scheduler each time it
// becomes the leader, and stops it when it no longer is.
func (db *DB) OnDeadline(fn func(earliest time.Time)) (unregister func()) {
	key := &fn
	db.mu.Lock()
	defer db.mu.Unlock()
	hooks := maps.Clone(db.deadlineHooks)
	if hooks == nil {
		hooks = map[*func(time.Time)]func(time.Time){}
	}
	hooks[key] = fn
	db.deadlineHooks = hooks
	return func() {
		db.mu.Lock()
		defer db.mu.Unlock()
		if _, ok := db.deadlineHooks[key]; ok {
			hooks := maps.Clone(db.deadlineHooks)
			delete(hooks, key)
			db.deadlineHooks = hooks
		}
	}
}
