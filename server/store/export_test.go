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
