package store

// The write-ahead log (see docs/write-path.md). A commit is durable once its
// record is in the log: one fdatasync of a preallocated file. bbolt commits
// the same transaction without syncing, which makes it visible to readers at
// once; the checkpointer syncs bbolt every so often and then notes in the log
// the transaction that sync covered, with a copy of its meta page.
//
// Recovery rests on one invariant: the pages of the last checkpoint's
// transaction stay on disk as that sync left them until the next checkpoint
// is durable. bbolt only ever writes a page no open reader can see, so a read
// transaction opened on the checkpoint's transaction (the pin) keeps them.
// Only its two meta pages are written meanwhile. On open, whatever a crash or
// a power cut left in the file, the checkpoint's meta page is written back,
// which makes the file exactly the checkpoint's transaction, and every record
// after it is applied again, each in a transaction of the same id as the one
// it was written for.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parley-negotiation/parley/server/wal"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

const (
	recordBatch      byte = 1 // the effects of one committed transaction
	recordCheckpoint byte = 2 // a sync of bbolt: its transaction id and meta page

	walSuffix = ".wal"
	// walMmapSize is the address space bbolt maps up front in log mode.
	// bbolt remaps a growing file only once it outgrows its mapping, and a
	// remap waits for every reader, the pin included: the checkpointer
	// leaves log mode well before the file gets there (see leaveLog).
	walMmapSize = (1 << 30) << (5 * (strconv.IntSize / 64)) // 32 GiB; 1 GiB where an int has 32 bits
	// DefaultCheckpointInterval is how often the checkpointer syncs bbolt
	// when there were commits since it last did.
	DefaultCheckpointInterval = time.Second
	// checkpointBytes starts a checkpoint early when this much was logged
	// since the last one, so that recovery has little to apply again.
	checkpointBytes = 16 << 20
	// checkpointCommits starts a checkpoint early after this many commits.
	// The pin keeps the pages each commit frees pending, and bbolt writes
	// every pending page into the freelist at each commit, and goes through
	// them at the start of each write transaction: a short pin keeps both
	// small. (bbolt's NoFreelistSync would not write them, but then scans
	// the whole file at open, and panics on a damaged one where no recover
	// can catch it.)
	checkpointCommits = 32
)

// ErrLogFailed refuses writes once the log could not be made durable: what
// reached its disk is unknown until a restart reads it again.
var ErrLogFailed = workflow.Errorf(workflow.EUNAVAILABLE, "STORAGE_FAILED",
	"the server could not make its write-ahead log durable: it refuses writes until its operator restarts it")

// errNothingWritten rolls back a transaction that wrote nothing: it needs no
// record and no sync.
var errNothingWritten = errors.New("nothing written")

// writeLog is the state of log mode, owned by the DB.
type writeLog struct {
	log      *wal.Log
	dir      string
	mmapSize int
	interval time.Duration
	buf      []byte // the record being encoded; used under commitMu

	mu      sync.Mutex // held by the checkpointer for a whole checkpoint
	pin     *bolt.Tx   // the read transaction on the last checkpoint
	since   int64      // bytes logged since the last checkpoint
	commits int        // commits logged since the last checkpoint
	manual  bool       // tests: no checkpoint but at open and those asked for
	broken  error      // a failed sync of bbolt: no checkpoint is trusted after it
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	file    *os.File // the database file, read for its meta pages
}

// batchRecord is what a record of a batch holds: the events appended to each
// negotiation, in order, and the request records written.
type batchRecord struct {
	txid         uint64
	negotiations []negotiationEvents
	requests     [][2][]byte
}

type negotiationEvents struct {
	id     string
	leaves [][]byte
}

// encodeBatch appends the record of batch b, committed as transaction txid,
// to buf; nil if the batch wrote nothing.
func encodeBatch(buf []byte, txid uint64, b *batch) []byte {
	events := 0
	for _, id := range b.order {
		events += len(b.dirty[id].appended)
	}
	if events == 0 && len(b.requests) == 0 {
		return nil
	}
	buf = binary.AppendUvarint(buf[:0], txid)
	buf = binary.AppendUvarint(buf, uint64(len(b.order)))
	for _, id := range b.order {
		appended := b.dirty[id].appended
		buf = appendBytes(buf, []byte(id))
		buf = binary.AppendUvarint(buf, uint64(len(appended)))
		for _, ev := range appended {
			buf = appendBytes(buf, ev.Leaf)
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(b.requests)))
	for _, kv := range b.requests {
		buf = appendBytes(buf, kv[0])
		buf = appendBytes(buf, kv[1])
	}
	return buf
}

func appendBytes(buf, b []byte) []byte {
	return append(binary.AppendUvarint(buf, uint64(len(b))), b...)
}

// decoder reads what encodeBatch and encodeCheckpoint wrote; the first
// error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("truncated number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errors.New("truncated bytes")
		return nil
	}
	v := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return v
}

// count reads a number of items, each at least one byte long.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errors.New("count larger than the record")
		return 0
	}
	return int(n)
}

func decodeBatch(data []byte) (batchRecord, error) {
	d := &decoder{b: data}
	r := batchRecord{txid: d.uvarint()}
	for range d.count() {
		ne := negotiationEvents{id: string(d.bytes())}
		for range d.count() {
			ne.leaves = append(ne.leaves, d.bytes())
		}
		r.negotiations = append(r.negotiations, ne)
	}
	for range d.count() {
		r.requests = append(r.requests, [2][]byte{d.bytes(), d.bytes()})
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("bytes after the record")
	}
	return r, d.err
}

// checkpointRecord notes that bbolt's file held transaction txid durably,
// with every batch record up to through applied.
type checkpointRecord struct {
	txid     uint64
	through  uint64 // the sequence number of the last record the transaction holds
	pageSize uint64
	meta     []byte // the meta page of txid, as the sync left it

	logged  int64 // bytes logged up to it (not encoded)
	commits int   // commits logged up to it (not encoded)
}

func encodeCheckpoint(c checkpointRecord) []byte {
	buf := binary.AppendUvarint(nil, c.txid)
	buf = binary.AppendUvarint(buf, c.through)
	buf = binary.AppendUvarint(buf, c.pageSize)
	return appendBytes(buf, c.meta)
}

func decodeCheckpoint(data []byte) (checkpointRecord, error) {
	d := &decoder{b: data}
	c := checkpointRecord{txid: d.uvarint(), through: d.uvarint(), pageSize: d.uvarint(), meta: d.bytes()}
	if d.err == nil && (uint64(len(c.meta)) != c.pageSize || c.pageSize < boltPageHeader+boltMetaSize) {
		d.err = errors.New("meta page of the wrong size")
	}
	return c, d.err
}

// prepareLog reads the log beside the database file at path and, if it holds
// a checkpoint, puts the file back to it. It returns the records to apply
// again and the sequence number of the next record; a nil writeLog if log
// mode is off and no log was left by a crash.
func prepareLog(path string, opts Options) (w *writeLog, pending []batchRecord, next uint64, err error) {
	if !opts.WriteAheadLog {
		if _, err := os.Stat(path + walSuffix); errors.Is(err, os.ErrNotExist) {
			return nil, nil, 1, nil
		}
	}
	w = &writeLog{dir: path + walSuffix, mmapSize: opts.mmapSize, interval: opts.CheckpointInterval, manual: opts.manualCheckpoints}
	if w.mmapSize == 0 {
		w.mmapSize = walMmapSize
	}
	if w.interval == 0 {
		w.interval = DefaultCheckpointInterval
	}
	// Another process's lock is looked for before the log is read or the
	// file written: bbolt takes it again at open.
	if err := lockedElsewhere(path, opts.LockTimeout); err != nil {
		return nil, nil, 0, err
	}
	last, pending, next, err := readLog(w.dir)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("open %s: %w", path, err)
	}
	if last != nil {
		lastLogged := last.txid
		if len(pending) > 0 {
			lastLogged = pending[len(pending)-1].txid
		}
		if err := restoreCheckpoint(path, last, lastLogged); err != nil {
			return nil, nil, 0, fmt.Errorf("open %s: %w", path, err)
		}
	}
	return w, pending, next, nil
}

// recoverLog applies the pending records again, and returns a pin on the
// transaction recovery started from: until the first checkpoint its pages
// must stay as they are, for recovery may have to start again from there.
func (db *DB) recoverLog(pending []batchRecord) (*bolt.Tx, error) {
	db.bolt.NoSync = true
	pin, err := db.bolt.Begin(false)
	if err != nil {
		return nil, err
	}
	for _, r := range pending {
		if err := db.replayOne(r); err != nil {
			pin.Rollback()
			return nil, fmt.Errorf("recover from the write-ahead log: transaction %d: %w", r.txid, err)
		}
	}
	if len(pending) > 0 {
		db.logger.Info("recovered from the write-ahead log", "transactions", len(pending))
	}
	return pin, nil
}

// leaveRecovery makes what recovery applied durable in bbolt's file and drops
// the log, for a database opened with log mode off.
func (db *DB) leaveRecovery(w *writeLog, pin *bolt.Tx) error {
	err := db.bolt.Sync()
	pin.Rollback()
	if err != nil {
		return fmt.Errorf("recover from the write-ahead log: sync: %w", err)
	}
	db.bolt.NoSync = false
	if err := os.RemoveAll(w.dir); err != nil {
		return fmt.Errorf("recover from the write-ahead log: remove it: %w", err)
	}
	db.logger.Info("write-ahead log applied and removed: log mode is off")
	return nil
}

// readLog reads the log in dir: its last checkpoint, and the batch records
// after it, in order.
func readLog(dir string) (last *checkpointRecord, after []batchRecord, next uint64, err error) {
	var batches []struct {
		seq uint64
		rec batchRecord
	}
	err = wal.Read(dir, func(rec wal.Record) error {
		next = rec.Seq + 1
		switch rec.Kind {
		case recordBatch:
			b, err := decodeBatch(rec.Data)
			if err != nil {
				return fmt.Errorf("write-ahead log record %d: %w", rec.Seq, err)
			}
			batches = append(batches, struct {
				seq uint64
				rec batchRecord
			}{rec.Seq, b})
		case recordCheckpoint:
			c, err := decodeCheckpoint(rec.Data)
			if err != nil {
				return fmt.Errorf("write-ahead log record %d: %w", rec.Seq, err)
			}
			last = &c
		default:
			return fmt.Errorf("write-ahead log record %d is of unknown kind %d", rec.Seq, rec.Kind)
		}
		return nil
	})
	if err != nil {
		return nil, nil, 0, err
	}
	if next == 0 {
		next = 1
	}
	if last == nil && len(batches) > 0 {
		return nil, nil, 0, fmt.Errorf("write-ahead log: %d records and no checkpoint before them", len(batches))
	}
	for _, b := range batches {
		if b.seq > last.through {
			after = append(after, b.rec)
		}
	}
	return last, after, next, nil
}

// restoreCheckpoint makes the file at path exactly the checkpoint's
// transaction again: both meta pages become its meta page. It refuses a file
// the log does not describe: one older than the checkpoint by more than the
// one meta page a crash may have damaged, or newer than anything logged.
func restoreCheckpoint(path string, c *checkpointRecord, lastLogged uint64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("recover from the write-ahead log: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	logged := readMetaPage(c.meta)
	if !logged.validFound || logged.txid != c.txid || uint64(logged.pageSize) != c.pageSize {
		return fmt.Errorf("the write-ahead log's checkpoint holds no valid meta page of transaction %d", c.txid)
	}
	current := newestMeta(f, info.Size())
	if current.validFound && (current.txid+1 < c.txid || current.txid > lastLogged) {
		return fmt.Errorf("the database file is at transaction %d, which its write-ahead log (%s) does not describe "+
			"(it covers transactions %d to %d): was the file replaced, by a backup for instance? "+
			"Move the %s folder aside to serve the file as it is",
			current.txid, path+walSuffix, c.txid, lastLogged, walSuffix)
	}
	if need := int64(logged.highWater) * int64(logged.pageSize); info.Size() < need {
		return fmt.Errorf("the database file is truncated: its last checkpoint needs %d bytes and it has %d", need, info.Size())
	}
	for index := range uint64(2) {
		page := append([]byte(nil), c.meta...)
		binary.NativeEndian.PutUint64(page[0:], index) // the page header's id
		if _, err := f.WriteAt(page, int64(index*c.pageSize)); err != nil {
			return fmt.Errorf("recover from the write-ahead log: %w", err)
		}
	}
	return f.Sync()
}

func readMetaPage(page []byte) boltMeta {
	return readMeta(bytes.NewReader(page), 0)
}

// replayOne applies one record again, in a transaction of the id it had.
func (db *DB) replayOne(r batchRecord) error {
	b := newBatch()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if uint64(tx.ID()) != r.txid {
			return fmt.Errorf("the database is at transaction %d, the log's next record is for %d", tx.ID()-1, r.txid)
		}
		for _, ne := range r.negotiations {
			if len(ne.leaves) == 0 {
				continue
			}
			first, _, err := wire.UnmarshalEvent(ne.leaves[0])
			if err != nil {
				return err
			}
			e, err := b.lock(db, tx, ne.id, first.Sequence == 1)
			if err != nil {
				return err
			}
			if e.n == nil {
				e.n, e.tree = &workflow.Negotiation{}, rangeFactory.NewEmptyRange(0)
			}
			d := b.touch(ne.id, e)
			for _, leaf := range ne.leaves {
				ev, _, err := wire.UnmarshalEvent(leaf)
				if err != nil {
					return err
				}
				if ev.Sequence != e.n.LastSequence+1 {
					return fmt.Errorf("negotiation %s: event %d follows event %d", ne.id, ev.Sequence, e.n.LastSequence)
				}
				if err := writeEvent(tx, d, ev); err != nil {
					return err
				}
				if string(d.appended[len(d.appended)-1].Leaf) != string(leaf) {
					return fmt.Errorf("negotiation %s: event %d encodes to other bytes than logged", ne.id, ev.Sequence)
				}
			}
		}
		if err := b.flush(tx); err != nil {
			return err
		}
		requests := tx.Bucket(bucketRequests)
		for _, kv := range r.requests {
			if err := requests.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	})
	for id, e := range b.locked {
		if err != nil {
			e.n, e.tree = nil, nil
		}
		e.mu.Unlock()
		if e.n == nil {
			db.forget(id, e)
		}
	}
	return err
}

func newBatch() *batch {
	return &batch{locked: map[string]*entry{}, dirty: map[string]*dirty{}, unloadable: map[string]error{}}
}

// startLog opens the log for appending after recovery, takes the first
// checkpoint and starts the checkpointer.
func (db *DB) startLog(w *writeLog, next uint64) error {
	log, err := wal.Open(w.dir, next, wal.Options{})
	if err != nil {
		return err
	}
	w.log = log
	w.wake, w.stop, w.stopped = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	db.wal = w
	db.commitMu.Lock()
	err = db.checkpointLocked()
	db.commitMu.Unlock()
	if err != nil {
		log.Close()
		return err
	}
	go db.checkpointLoop()
	return nil
}

// checkpointLoop syncs bbolt once a second while there are commits, and
// sooner after many commits or much logged.
func (db *DB) checkpointLoop() {
	w := db.wal
	defer close(w.stopped)
	ticker := time.NewTicker(w.interval)
	defer ticker.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-ticker.C:
			if w.manual {
				continue
			}
		case <-w.wake:
		}
		if err := db.checkpoint(); err != nil {
			db.logger.Error("write-ahead log: checkpoint failed; recovery will apply more of the log again", "err", err)
		}
	}
}

// checkpoint syncs bbolt, outside the commit lock so that commits go on
// meanwhile, then logs what the sync covered and moves the pin there.
func (db *DB) checkpoint() error {
	w := db.wal
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken != nil {
		return nil
	}
	db.commitMu.Lock()
	if w.log == nil || w.since == 0 {
		db.commitMu.Unlock()
		return nil
	}
	c, pin, err := db.checkpointStart()
	db.commitMu.Unlock()
	if err != nil {
		return err
	}
	if w.log.NeedsSpare() {
		if err := w.log.Prepare(); err != nil {
			pin.Rollback()
			return err
		}
	}
	if err := db.syncForCheckpoint(pin); err != nil {
		return err
	}
	db.commitMu.Lock()
	err = db.checkpointFinish(c, pin)
	db.commitMu.Unlock()
	if err != nil {
		return err
	}
	if err := w.log.RemoveThrough(c.through); err != nil {
		return err
	}
	if w.pin.Size() > int64(w.mmapSize)/2 {
		db.leaveLog()
	}
	return nil
}

// checkpointLocked takes a checkpoint with the commit lock held throughout:
// at open, and after a write that is not logged.
func (db *DB) checkpointLocked() error {
	w := db.wal
	if w.broken != nil {
		return w.broken
	}
	c, pin, err := db.checkpointStart()
	if err != nil {
		return err
	}
	if err := db.syncForCheckpoint(pin); err != nil {
		return err
	}
	if err := db.checkpointFinish(c, pin); err != nil {
		return err
	}
	return w.log.RemoveThrough(c.through)
}

// syncForCheckpoint syncs bbolt's file for the checkpoint pin stands for. A
// failed sync drops the pin and ends checkpoints for the process: the kernel
// may have dropped the pages it failed to write, so nothing after the last
// checkpoint is known to be on disk but through the log, which recovery
// applies again.
func (db *DB) syncForCheckpoint(pin *bolt.Tx) error {
	if err := db.bolt.Sync(); err != nil {
		pin.Rollback()
		db.wal.broken = fmt.Errorf("sync the database: %w", err)
		return db.wal.broken
	}
	return nil
}

// checkpointStart pins the last committed transaction and copies its meta
// page. The caller holds commitMu.
func (db *DB) checkpointStart() (checkpointRecord, *bolt.Tx, error) {
	pin, err := db.bolt.Begin(false)
	if err != nil {
		return checkpointRecord{}, nil, err
	}
	txid := uint64(pin.ID())
	pageSize := uint64(db.bolt.Info().PageSize)
	meta := make([]byte, pageSize)
	if _, err := db.wal.file.ReadAt(meta, int64((txid%2)*pageSize)); err != nil {
		pin.Rollback()
		return checkpointRecord{}, nil, fmt.Errorf("read the meta page: %w", err)
	}
	if m := readMetaPage(meta); !m.validFound || m.txid != txid {
		pin.Rollback()
		return checkpointRecord{}, nil, fmt.Errorf("the meta page of transaction %d holds transaction %d (valid %v)", txid, m.txid, m.validFound)
	}
	w := db.wal
	return checkpointRecord{txid: txid, through: w.log.Next() - 1, pageSize: pageSize, meta: meta, logged: w.since, commits: w.commits}, pin, nil
}

// checkpointFinish logs the checkpoint and moves the pin to it; the segments
// it made useless are the caller's to remove. The caller holds commitMu, so
// that no record falls between a batch's record and its commit (see
// Retract).
func (db *DB) checkpointFinish(c checkpointRecord, pin *bolt.Tx) error {
	w := db.wal
	if _, err := w.log.Append(recordCheckpoint, encodeCheckpoint(c)); err != nil {
		pin.Rollback()
		return err
	}
	if w.pin != nil {
		w.pin.Rollback()
	}
	w.pin = pin
	w.since -= c.logged // what was logged during the sync waits for the next one
	w.commits -= c.commits
	return nil
}

// lockCommits takes the commit lock for a write that the log does not hold,
// and in log mode first the checkpointer's lock, so that no checkpoint is
// half taken when the write's own checkpoint runs. It returns the unlock.
func (db *DB) lockCommits() (unlock func()) {
	w := db.wal
	if w != nil {
		w.mu.Lock() // before commitMu, as checkpoint takes them
	}
	db.commitMu.Lock()
	return func() {
		db.commitMu.Unlock()
		if w != nil {
			w.mu.Unlock()
		}
	}
}

// updateUnlogged runs fn in a write transaction that the log does not hold
// (the server's own settings), and in log mode takes a checkpoint before any
// commit can follow it: recovery would otherwise apply the next records to
// a file without it, and find their transaction ids one off.
func (db *DB) updateUnlogged(fn func(tx *bolt.Tx) error) (txid uint64, err error) {
	defer db.lockCommits()()
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		txid = uint64(tx.ID())
		return fn(tx)
	})
	if err == nil && db.logging() {
		err = db.checkpointLocked()
	}
	return txid, err
}

// logging reports whether commits go to the log. The caller holds commitMu.
func (db *DB) logging() bool { return db.wal != nil && db.wal.log != nil }

// logBatch writes the record of batch b, about to commit as transaction
// txid, and waits until it is durable. It returns the record's sequence
// number; 0 with errNothingWritten if the batch wrote nothing.
func (db *DB) logBatch(txid uint64, b *batch) (uint64, error) {
	w := db.wal
	record := encodeBatch(w.buf, txid, b)
	if record == nil {
		return 0, errNothingWritten
	}
	w.buf = record
	if cap(w.buf) > 1<<20 {
		w.buf = nil
	}
	seq, err := w.log.Append(recordBatch, record)
	if err != nil {
		if storageError(err) == nil {
			return 0, fmt.Errorf("%w: %w", ErrLogFailed, err)
		}
		return 0, err
	}
	w.since += int64(len(record))
	w.commits++
	if !w.manual && (w.since > checkpointBytes || w.commits == checkpointCommits) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return seq, nil
}

// closeLog takes the last checkpoint and removes the log: a database closed
// cleanly is whole in bbolt's file, and opens as one without a log (in an
// older parleyd too).
func (db *DB) closeLog() error {
	w := db.wal
	close(w.stop)
	<-w.stopped
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.log == nil {
		return nil
	}
	err := w.broken
	if err == nil {
		err = db.bolt.Sync()
	}
	if w.pin != nil {
		w.pin.Rollback()
		w.pin = nil
	}
	w.log.Close()
	w.log = nil
	w.file.Close()
	if err != nil {
		return fmt.Errorf("write-ahead log kept for recovery at the next start: %w", err)
	}
	return os.RemoveAll(w.dir)
}

// leaveLog turns log mode off for the rest of the process, with every
// commit synced by bbolt again, before the file outgrows the address space
// mapped for it. The caller holds w.mu.
func (db *DB) leaveLog() {
	w := db.wal
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	if err := db.bolt.Sync(); err != nil {
		db.logger.Error("write-ahead log: cannot leave log mode", "err", err)
		return
	}
	db.bolt.NoSync = false
	if w.pin != nil {
		w.pin.Rollback()
		w.pin = nil
	}
	w.log.Close()
	w.log = nil
	if err := os.RemoveAll(w.dir); err != nil {
		db.logger.Error("write-ahead log: cannot remove it", "err", err)
	}
	db.logger.Warn("write-ahead log: the database outgrew the space mapped for log mode; each commit now syncs the database file instead",
		"mapped", w.mmapSize)
}
