// Package store keeps negotiations in bbolt: each negotiation's event log,
// the projections of its state, the idempotency records of requests and the
// index of credentials.
//
// All writes go through one committer goroutine. It takes every command that
// is waiting, decides each against the negotiation's state, writes the events,
// projections and request records of all of them in one transaction, commits
// (one fsync), and only then answers the callers and announces the new events.
// A lone writer therefore waits for one fsync, and many writers share one; a
// writer that finds no commit running and nobody waiting commits on its own
// goroutine, the same way.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/parley-negotiation/parley/server/workflow"
)

// Bucket and key names. Each negotiation has its own bucket under
// negotiations, named by its id.
var (
	bucketNegotiations = []byte("negotiations")
	bucketRequests     = []byte("requests")
	bucketTokens       = []byte("tokens")

	bucketEvents      = []byte("events")
	bucketPoints      = []byte("points")
	bucketAmendments  = []byte("amendments")
	bucketCredentials = []byte("credentials")
	bucketComments    = []byte("comments") // made by the first comment: older databases lack it
	keyMeta           = []byte("meta")
	keyOrder          = []byte("order")
)

// MaxBatch bounds the commands that share one transaction, so that one batch
// cannot hold the write lock for long.
const MaxBatch = 256

// DB is an open Parley database.
type DB struct {
	path     string
	bolt     *bolt.DB
	logger   *slog.Logger
	now      func() time.Time
	observer CommitObserver

	lastCommit *lastCommitFile // written by the committer after each commit
	tokens     tokenCache      // owners of tokens looked up lately

	mu        sync.Mutex
	cache     map[string]*entry // loaded negotiations by id
	committed []func(negotiationID string, events []StoredEvent)

	// deadlineHooks is replaced, never changed, so that a commit may run
	// the hooks of its copy outside mu (see OnDeadline).
	deadlineHooks map[*func(earliest time.Time)]func(earliest time.Time)
	restored      []func() // see OnRestore

	commitMu   sync.Mutex   // held for each commit: by the committer, or by a lone writer (commitAlone)
	waiting    atomic.Int64 // commands sent to the committer and not yet taken into a batch
	sendMu     sync.RWMutex // held to send on queue; Close takes it to close queue
	closed     bool
	queue      chan *op
	stopped    chan struct{} // closed when the committer has returned
	commitHook func() error  // tests: runs inside each write transaction, before commit; an error rolls it back

	wal *writeLog // nil unless in log mode (see wal.go)
}

// entry guards one negotiation's state. The committer holds the write lock
// from deciding a command until its transaction is committed, so readers
// only ever see committed state.
type entry struct {
	mu   sync.RWMutex
	n    *workflow.Negotiation // nil until loaded, and after a failed commit
	tree *compact.Range        // the log's Merkle tree, loaded with n
}

// Options configure Open.
type Options struct {
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
	// Now gives the time of commits; nil means time.Now.
	Now func() time.Time
	// LockTimeout bounds the wait for another process's lock on the file.
	LockTimeout time.Duration
	// Observer, if set, hears of every commit.
	Observer CommitObserver
	// WriteAheadLog makes a commit durable by appending it to a write-ahead
	// log (one fsync) instead of syncing bbolt's file (two); see
	// docs/write-path.md for when that pays. Whatever it says, a log left
	// by a crash is applied at open, and then dropped if it is off.
	WriteAheadLog bool
	// CheckpointInterval is how often the database file is synced in log
	// mode, while there are commits; zero means DefaultCheckpointInterval.
	CheckpointInterval time.Duration

	mmapSize          int  // tests: the address space mapped in log mode; zero means walMmapSize
	manualCheckpoints bool // tests: no checkpoint but at open and those a test takes
}

// CommitObserver hears of every commit: how many commands shared it, how
// many events they appended, how long it took, and whether it failed.
type CommitObserver interface {
	ObserveCommit(commands, events int, took time.Duration, failed bool)
}

// Open opens or creates the database file at path.
func Open(path string, opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	_, statErr := os.Stat(path)
	existed := statErr == nil
	boltOpts := &bolt.Options{
		Timeout:      opts.LockTimeout,
		FreelistType: bolt.FreelistMapType,
	}
	w, pending, next, err := prepareLog(path, opts)
	if err != nil {
		return nil, err
	}
	if w != nil {
		boltOpts.InitialMmapSize = w.mmapSize
	}
	b, err := openBolt(path, boltOpts)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, inUse(path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{
		path:     path,
		bolt:     b,
		logger:   opts.Logger,
		now:      opts.Now,
		observer: opts.Observer,
		cache:    map[string]*entry{},
		queue:    make(chan *op, 4*MaxBatch),
		stopped:  make(chan struct{}),
	}
	var pin *bolt.Tx
	if w != nil {
		if pin, err = db.recoverLog(pending); err == nil && !opts.WriteAheadLog {
			err, pin, w = db.leaveRecovery(w, pin), nil, nil
		}
		if err != nil {
			if pin != nil {
				pin.Rollback()
			}
			b.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	// Checked under bbolt's lock, so that no other process commits between
	// reading the file's transaction id and the record.
	var fileTxid uint64
	b.View(func(tx *bolt.Tx) error { fileTxid = uint64(tx.ID()); return nil })
	fail := func(err error) (*DB, error) {
		if pin != nil {
			pin.Rollback()
		}
		b.Close()
		return nil, err
	}
	if err := checkNotRolledBack(path, fileTxid, existed); err != nil {
		return fail(err)
	}
	lastCommit, err := openLastCommit(path)
	if err == nil {
		err = writeOwner(path)
	}
	if err != nil {
		return fail(err)
	}
	var txid uint64
	err = b.Update(func(tx *bolt.Tx) error {
		txid = uint64(tx.ID())
		for _, name := range serverBucketsAtOpen {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = lastCommit.record(txid, "", 0)
	}
	if err == nil && w != nil {
		if w.file, err = os.Open(path); err == nil {
			w.pin = pin
			pin = nil
			if err = db.startLog(w, next); err != nil {
				w.file.Close()
				if w.pin != nil {
					w.pin.Rollback()
				}
				db.wal = nil
			}
		}
	}
	if err != nil {
		lastCommit.close()
		removeOwner(path)
		if classified := storageError(err); classified != nil {
			err = fmt.Errorf("%w: %w", classified, err)
		}
		return fail(fmt.Errorf("initialize %s: %w", path, err))
	}
	db.lastCommit = lastCommit
	go db.commitLoop()
	return db, nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// OnCommit registers fn to be called after every commit, once for each
// negotiation the commit changed, with the events it appended, in order. fn
// runs after each commit, in commit order, one at a time (on the committer
// goroutine, or on a lone writer's), and must not block nor keep the slice
// (it may keep its elements).
func (db *DB) OnCommit(fn func(negotiationID string, events []StoredEvent)) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.committed = append(db.committed, fn)
}

// Close waits for queued commands to finish, then closes the file.
func (db *DB) Close() error {
	db.sendMu.Lock()
	if db.closed {
		db.sendMu.Unlock()
		<-db.stopped
		return nil
	}
	db.closed = true
	close(db.queue)
	db.sendMu.Unlock()
	<-db.stopped
	var logErr error
	if db.wal != nil {
		logErr = db.closeLog()
	}
	db.lastCommit.close()
	removeOwner(db.path) // before the lock goes, so as never to remove the next owner's file
	return errors.Join(logErr, db.bolt.Close())
}

// entry returns the cache entry of a negotiation, creating an empty one.
func (db *DB) entry(id string) *entry {
	db.mu.Lock()
	defer db.mu.Unlock()
	e, ok := db.cache[id]
	if !ok {
		e = &entry{}
		db.cache[id] = e
	}
	return e
}

// forget drops a cache entry whose negotiation is not loaded, so that looking
// up ids that do not exist does not grow the cache. The caller holds e's lock,
// or held it when it saw the entry empty.
func (db *DB) forget(id string, e *entry) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.cache[id] == e {
		delete(db.cache, id)
	}
}

// View calls fn with the committed state of a negotiation, under a read lock.
// fn must neither modify the state nor keep any part of it after returning.
func (db *DB) View(negotiationID string, fn func(n *workflow.Negotiation) error) error {
	return db.viewEntry(negotiationID, func(e *entry) error { return fn(e.n) })
}

// viewEntry calls fn with a negotiation's loaded entry under its read lock.
func (db *DB) viewEntry(negotiationID string, fn func(e *entry) error) error {
	e := db.entry(negotiationID)
	e.mu.RLock()
	if e.n != nil {
		defer e.mu.RUnlock()
		return fn(e)
	}
	e.mu.RUnlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		err := db.bolt.View(func(tx *bolt.Tx) (err error) {
			e.n, e.tree, err = load(tx, negotiationID)
			return err
		})
		if err != nil {
			db.forget(negotiationID, e)
			return err
		}
	}
	return fn(e)
}

func notFound(id string) error {
	return workflow.Errorf(workflow.ENOTFOUND, "NEGOTIATION_NOT_FOUND", "negotiation %s not found", id)
}

// NegotiationIDs returns up to limit ids of negotiations, in order, after the
// given id ("" for the first).
func (db *DB) NegotiationIDs(after string, limit int) ([]string, error) {
	var ids []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketNegotiations).Cursor()
		k, _ := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, _ = c.Next()
		}
		for ; k != nil && len(ids) < limit; k, _ = c.Next() {
			ids = append(ids, string(k))
		}
		return nil
	})
	return ids, err
}

// StoredEvent is one event as the log holds it.
type StoredEvent struct {
	Sequence int64
	Leaf     []byte // the exact stored bytes
}

// Events returns up to limit events of a negotiation with sequence numbers
// after the given one, in order.
func (db *DB) Events(negotiationID string, after int64, limit int) ([]StoredEvent, error) {
	events, _, err := db.EventsWithin(negotiationID, after, limit, 0)
	return events, err
}

// EventsWithin returns up to limit events after a sequence, stopping before
// the one that would take their leaves past maxBytes (0: no byte limit); the
// first event is returned whatever its size. more reports whether the log
// holds events after the last one returned. It bounds what one read holds in
// memory however large the events are.
func (db *DB) EventsWithin(negotiationID string, after int64, limit, maxBytes int) (events []StoredEvent, more bool, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketNegotiations).Bucket([]byte(negotiationID))
		if nb == nil {
			return notFound(negotiationID)
		}
		size := 0
		c := nb.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
			if len(events) == limit || (maxBytes > 0 && len(events) > 0 && size+len(v) > maxBytes) {
				more = true
				break
			}
			size += len(v)
			events = append(events, StoredEvent{Sequence: int64(binary.BigEndian.Uint64(k)), Leaf: append([]byte(nil), v...)})
		}
		return nil
	})
	return events, more, err
}

// Principal is who a token belongs to.
type Principal struct {
	NegotiationID string
	Participant   string // the member's workflow.MemberKey: "participant" or "participant/member"
}

// TokenOwner returns the participant whose current token has the given
// SHA-256 (lowercase hex).
func (db *DB) TokenOwner(tokenHash string) (Principal, bool, error) {
	if p, ok := db.tokens.get(tokenHash); ok {
		return p, true, nil
	}
	gen := db.tokens.generation()
	var p Principal
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTokens).Get([]byte(tokenHash))
		if v == nil {
			return nil
		}
		found = true
		p = decodePrincipal(v)
		return nil
	})
	if found && err == nil {
		db.tokens.put(tokenHash, p, gen)
	}
	return p, found, err
}

// tokenCache keeps the owners of the tokens looked up lately, so that
// authenticating a call does not take a read transaction of its own (every
// call authenticates). A commit that changes the index of tokens empties it
// before anyone hears of the commit, and a lookup that read the index before
// such a commit does not fill it afterwards: a revoked or rotated token stops
// working by the time its revocation is acknowledged, as without the cache.
// Unknown tokens are never kept, so guessing cannot fill it.
type tokenCache struct {
	mu     sync.RWMutex
	gen    uint64 // counts the invalidations
	owners map[string]Principal
}

// maxCachedTokens bounds the cache; when full it starts again empty.
const maxCachedTokens = 1 << 16

func (c *tokenCache) get(hash string) (Principal, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.owners[hash]
	return p, ok
}

func (c *tokenCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put keeps an owner read from the index, unless the index has changed since
// gen was taken, before the read.
func (c *tokenCache) put(hash string, p Principal, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.owners == nil || len(c.owners) >= maxCachedTokens {
		c.owners = map[string]Principal{}
	}
	c.owners[hash] = p
}

// invalidate empties the cache after a commit that changed the index.
func (c *tokenCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.owners = nil
}

// ErrClosed is returned for commands submitted after Close.
var ErrClosed = workflow.Errorf(workflow.EUNAVAILABLE, "SHUTTING_DOWN", "the server is shutting down")

func seqKey(seq int64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(seq))
	return k
}

// isNotFound reports whether err says a negotiation does not exist.
func isNotFound(err error) bool {
	var e *workflow.Error
	return errors.As(err, &e) && e.Reason == "NEGOTIATION_NOT_FOUND"
}
