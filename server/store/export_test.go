package store

// SetCommitHook makes every write transaction call fn just before it commits.
// An error from fn rolls the transaction back, as a failed write or fsync
// would; fn may also block to hold the committer. Set it while no command is
// in flight.
func (db *DB) SetCommitHook(fn func() error) { db.commitHook = fn }

// CachedNegotiations returns the number of negotiations the cache holds an
// entry for, loaded or not.
func (db *DB) CachedNegotiations() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return len(db.cache)
}

// Queued returns the number of commands waiting for a commit: in the queue,
// or taken from it by the committer while it waits for the running commit.
func (db *DB) Queued() int { return int(db.waiting.Load()) }

// PageWrites returns the number of page writes bbolt has made since the
// file was opened.
func (db *DB) PageWrites() int64 {
	s := db.bolt.Stats()
	return s.TxStats.GetWrite()
}

// DeadlineHooks returns the number of functions registered with OnDeadline.
func (db *DB) DeadlineHooks() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return len(db.deadlineHooks)
}

// Crash abandons the database as a killed process would: the committer
// stops, and the file is closed with no last checkpoint and no sync, the
// write-ahead log left for the next Open.
func (db *DB) Crash() {
	db.sendMu.Lock()
	db.closed = true
	close(db.queue)
	db.sendMu.Unlock()
	<-db.stopped
	if w := db.wal; w != nil {
		close(w.stop)
		<-w.stopped
		w.mu.Lock()
		if w.pin != nil {
			w.pin.Rollback()
		}
		if w.log != nil {
			w.log.Close()
		}
		w.file.Close()
		w.mu.Unlock()
	}
	db.lastCommit.close()
	removeOwner(db.path)
	db.bolt.Close()
}

// Checkpoint takes a checkpoint now, if anything was logged since the last.
func (db *DB) Checkpoint() error { return db.checkpoint() }

// Logging reports whether commits go to the write-ahead log.
func (db *DB) Logging() bool {
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	return db.logging()
}

// WithMmapSize sets the address space mapped in log mode.
func WithMmapSize(o Options, size int) Options {
	o.mmapSize = size
	return o
}

// WithManualCheckpoints makes the database take no checkpoint but the one at
// open and those of Checkpoint.
func WithManualCheckpoints(o Options) Options {
	o.manualCheckpoints = true
	return o
}
