package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// Exec is one command to execute.
type Exec struct {
	// NegotiationID names the negotiation; for CreateNegotiation, the new one.
	NegotiationID string
	// Principal scopes RequestID: the same id from two callers is two requests.
	Principal string
	// RequestID, if not empty, makes the command idempotent: a second Exec
	// with the same Principal, RequestID and RequestHash returns the first
	// reply and changes nothing.
	RequestID string
	// RequestHash is the SHA-256 of the request, so that a request id used
	// again for a different request is refused rather than replayed.
	RequestHash [sha256.Size]byte
	// Actor is who acts: a participant id or workflow.AdminActor.
	Actor string
	// Member is the actor's member who acts; empty for the administrator.
	Member  string
	Command workflow.Command
	// Reply builds the reply from the state after the command and its
	// events. It runs on the committer goroutine, before the commit.
	Reply func(n *workflow.Negotiation, events []workflow.Event) (proto.Message, error)
	// AmendmentReply, used instead of Reply, builds a reply around the
	// amendment AmendmentID as the command left it (a vote's reply, for
	// one). The store converts that amendment once, for the reply and for
	// the projection it stores, unless a later command of the same commit
	// changes it again.
	AmendmentID    string
	AmendmentReply func(a *parleyv1.Amendment, n *workflow.Negotiation, events []workflow.Event) (proto.Message, error)
	// SecretReply marks a reply holding a secret (a token): the request
	// record keeps no copy of it, and a retry is refused with ALREADY_EXISTS
	// TOKEN_ALREADY_SHOWN instead of showing the secret again.
	SecretReply bool
}

// Result is what a committed command gave.
type Result struct {
	// Message is the reply as Exec.Reply built it, for a command that ran
	// now; Reply is its encoding (only when the request has an id, or it was
	// replayed), as stored for a retry.
	Message  proto.Message
	Reply    []byte
	Events   []workflow.Event
	Replayed bool // the reply is the stored one of an earlier identical request
}

type op struct {
	ctx    context.Context
	x      Exec
	at     time.Time // the time of its events, if not the batch's (ApplyBatch)
	entry  bool      // a raft entry of ApplyBatch: its projections written as Apply would
	done   chan struct{}
	result Result
	err    error
}

// Execute runs a command and returns once its effects are durable, or with
// the *workflow.Error that refused it. If ctx ends first, Execute returns
// ctx's error, and the command may or may not have been committed: retry it
// with the same request id to find out.
func (db *DB) Execute(ctx context.Context, x Exec) (Result, error) {
	o := &op{ctx: ctx, x: x, done: make(chan struct{})}
	committed, err := db.commitAlone(o)
	if err != nil {
		return Result{}, err
	}
	if committed {
		return o.result, o.err
	}
	if err := db.enqueue(ctx, o); err != nil {
		return Result{}, err
	}
	select {
	case <-o.done:
		return o.result, o.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// commitAlone commits o on the caller's goroutine when no other command is
// waiting and no commit is running: a lone writer then skips two hand-offs
// between goroutines (to the committer and back), each a wake-up that a busy
// machine can delay. It reports false, having done nothing, otherwise.
func (db *DB) commitAlone(o *op) (bool, error) {
	db.sendMu.RLock() // Close waits for this commit
	defer db.sendMu.RUnlock()
	if db.closed {
		return false, ErrClosed
	}
	if db.waiting.Load() > 0 || !db.commitMu.TryLock() {
		return false, nil
	}
	defer db.commitMu.Unlock()
	if db.waiting.Load() > 0 { // queued meanwhile: keep the order of arrival
		return false, nil
	}
	db.commit([]*op{o})
	return true, nil
}

func (db *DB) enqueue(ctx context.Context, o *op) error {
	db.sendMu.RLock()
	defer db.sendMu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	db.waiting.Add(1)
	select {
	case db.queue <- o:
		return nil
	case <-ctx.Done():
		db.waiting.Add(-1)
		return ctx.Err()
	}
}

// commitLoop takes every waiting command into one batch and commits it, then
// does it again: the next commit starts as soon as the previous one ends, so
// a lone writer never waits for company.
func (db *DB) commitLoop() {
	defer close(db.stopped)
	for first := range db.queue {
		// Locked before the batch leaves the count of waiting commands, so
		// that no lone commit (commitAlone) slips in ahead of it.
		db.commitMu.Lock()
		batch := []*op{first}
	drain:
		for len(batch) < MaxBatch {
			select {
			case o, ok := <-db.queue:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		db.waiting.Add(-int64(len(batch)))
		db.commit(batch)
		db.commitMu.Unlock()
	}
}

// batch is what one transaction has touched so far.
type batch struct {
	locked     map[string]*entry
	dirty      map[string]*dirty
	order      []string         // negotiation ids in the order first touched
	unloadable map[string]error // negotiations whose state did not load, and why
	deadline   time.Time        // the earliest voting deadline the batch indexed
	requests   [][2][]byte      // the request records written, key and value, for the log
}

// tokensChanged reports whether the batch changed the index of tokens: it
// does with every change of a member's credential.
func (b *batch) tokensChanged() bool {
	for _, d := range b.dirty {
		if len(d.credentials) > 0 {
			return true
		}
	}
	return false
}

// dirty lists the projections of one negotiation to rewrite before commit.
type dirty struct {
	n           *workflow.Negotiation
	tree        *compact.Range
	appended    []StoredEvent // the events the batch appended, in order
	meta, order bool
	points      map[string]bool
	amendments  map[string]bool
	credentials map[string]bool
	comments    map[string]bool
	// converted holds amendments converted for a reply that no event has
	// changed since, so that the projection written at flush reuses them.
	converted map[string]*parleyv1.Amendment
}

// forgetConversions drops the conversions an event may have made stale:
// those of its amendment for a vote or the end of a vote (which change
// nothing else an amendment shows), all of them for any other event.
func (d *dirty) forgetConversions(ev workflow.Event) {
	if len(d.converted) == 0 {
		return
	}
	switch p := ev.Payload.(type) {
	case workflow.VoteCast:
		delete(d.converted, p.AmendmentID)
	case workflow.VotingClosed:
		delete(d.converted, p.AmendmentID)
	default:
		clear(d.converted)
	}
}

// convertAmendment returns amendment id as the API shows it, converted once
// for a reply and the stored projection.
func (d *dirty) convertAmendment(id string) (*parleyv1.Amendment, error) {
	if m, ok := d.converted[id]; ok {
		return m, nil
	}
	a, ok := d.n.Amendments[id]
	if !ok {
		return nil, fmt.Errorf("amendment %s is not in the negotiation", id)
	}
	m := wire.AmendmentToProto(d.n, a)
	if d.converted == nil {
		d.converted = map[string]*parleyv1.Amendment{}
	}
	d.converted[id] = m
	return m, nil
}

func (db *DB) commit(ops []*op) { db.commitAt(ops, time.Time{}, nil) }

// commitAt commits ops as commit does, stamping their events with when (zero:
// the clock's time now); inTx, if set, writes more in the same transaction
// (see Apply).
func (db *DB) commitAt(ops []*op, when time.Time, inTx func(*bolt.Tx) error) {
	b := newBatch()
	start := db.now()
	at := start.UTC().Round(0)
	if !when.IsZero() {
		at = when.UTC().Round(0)
	}
	var txid, logged uint64
	err := db.bolt.Update(func(tx *bolt.Tx) (err error) {
		txid = uint64(tx.ID())
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic in commit: %v\n%s", r, debug.Stack())
			}
		}()
		for _, o := range ops {
			if err := o.ctx.Err(); err != nil {
				o.err = err
				continue
			}
			opAt := at
			if !o.at.IsZero() {
				opAt = o.at.UTC().Round(0)
			}
			if err := db.execute(tx, b, o, opAt); err != nil {
				return err
			}
			if o.entry {
				if err := b.flushEntry(tx); err != nil {
					return err
				}
			}
		}
		if err := b.flush(tx); err != nil {
			return err
		}
		if inTx != nil {
			if err := inTx(tx); err != nil {
				return err
			}
		}
		if inTx == nil && db.logging() {
			if logged, err = db.logBatch(txid, b); err != nil {
				return err
			}
		}
		if db.commitHook != nil {
			// After the record, as a failing write of bbolt's file would.
			if err := db.commitHook(); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && inTx != nil && db.logging() {
		// A raft entry's commit writes more than a record holds: it is
		// made durable by a checkpoint instead (see lockCommits).
		err = db.checkpointLocked()
	}
	if err != nil && logged != 0 {
		// bbolt could not commit what the log holds: erase the record,
		// or recovery would apply a batch its callers were told failed.
		if retractErr := db.wal.log.Retract(logged); retractErr != nil {
			db.logger.Error("write-ahead log: cannot erase the record of a failed commit; writes are refused until a restart",
				"err", retractErr)
		}
	}
	committed := err == nil
	if errors.Is(err, errNothingWritten) {
		err, committed = nil, false
	}
	if b.tokensChanged() {
		// Before any caller hears of the commit, and whether or not it
		// stood (a failed one changed nothing, but forgetting costs little).
		db.tokens.invalidate()
	}
	for id, e := range b.locked {
		if err != nil {
			// The state in memory holds effects that were rolled back:
			// forget it, and the next reader loads the committed state.
			e.n, e.tree = nil, nil
		}
		empty := e.n == nil
		e.mu.Unlock()
		if empty {
			db.forget(id, e)
		}
	}
	if db.observer != nil {
		events := 0
		for _, d := range b.dirty {
			events += len(d.appended)
		}
		db.observer.ObserveCommit(len(ops), events, db.now().Sub(start), err != nil)
	}
	if err != nil {
		db.logger.Error("commit failed; batch refused", "commands", len(ops), "err", err)
		refusal := storageError(err)
		if refusal == nil {
			refusal = fmt.Errorf("commit: %w", err)
		}
		for _, o := range ops {
			if o.err == nil {
				o.result = Result{}
				o.err = refusal
			}
		}
	} else {
		if committed {
			db.recordCommit(txid, b)
		}
		db.logger.Debug("commit", "commands", len(ops), "took", db.now().Sub(start))
		db.mu.Lock()
		callbacks := db.committed
		deadlineHooks := db.deadlineHooks
		db.mu.Unlock()
		if !b.deadline.IsZero() {
			for _, fn := range deadlineHooks {
				fn(b.deadline)
			}
		}
		for _, id := range b.order {
			if appended := b.dirty[id].appended; len(appended) > 0 {
				for _, fn := range callbacks {
					fn(id, appended)
				}
			}
		}
	}
	for _, o := range ops {
		close(o.done)
	}
}

// recordCommit notes the transaction just committed, and the last event it
// appended, in the last-commit record.
func (db *DB) recordCommit(txid uint64, b *batch) {
	negotiation, sequence := "", int64(0)
	for _, id := range b.order {
		if appended := b.dirty[id].appended; len(appended) > 0 {
			negotiation, sequence = id, appended[len(appended)-1].Sequence
		}
	}
	if err := db.lastCommit.record(txid, negotiation, sequence); err != nil {
		db.logger.Error("cannot write the last-commit record; a rollback of the database may go unnoticed", "err", err)
	}
}

// execute decides and writes one command inside the batch's transaction. A
// refusal is recorded in the op; an error returned is fatal to the batch.
func (db *DB) execute(tx *bolt.Tx, b *batch, o *op, at time.Time) error {
	x := o.x
	var reqKey []byte
	if x.RequestID != "" {
		reqKey = requestKey(x.Principal, x.RequestID)
		if v := tx.Bucket(bucketRequests).Get(reqKey); v != nil {
			o.result, o.err = replay(v, x.RequestHash)
			return nil
		}
	}
	_, creating := x.Command.(workflow.CreateNegotiation)
	e, err := b.lock(db, tx, x.NegotiationID, creating)
	if err != nil {
		// Nothing of this command is written yet, so it fails alone: a
		// negotiation that is missing or does not load must not fail the
		// commands of others that share its commit.
		o.err = err
		return nil
	}
	n := e.n
	meta := workflow.Meta{Actor: x.Actor, Member: x.Member, RequestID: x.RequestID, At: at}
	if n != nil && n.LastEventAt.After(at) {
		meta.At = n.LastEventAt // keep event times in order if the clock steps back
	}
	events, err := workflow.Decide(n, meta, x.Command)
	if err != nil {
		o.err = err
		return nil
	}
	if n == nil {
		n = &workflow.Negotiation{}
		e.n, e.tree = n, rangeFactory.NewEmptyRange(0)
	}
	d := b.touch(x.NegotiationID, e)
	for _, ev := range events {
		if err := writeEvent(tx, d, ev); err != nil {
			return err
		}
	}
	o.result.Events = events
	var rec []byte
	if reqKey != nil {
		rec = requestRecordHeader(x)
	}
	var msg proto.Message
	switch {
	case x.AmendmentReply != nil:
		a, err := d.convertAmendment(x.AmendmentID)
		if err != nil {
			return fmt.Errorf("build reply: %w", err)
		}
		if msg, err = x.AmendmentReply(a, n, events); err != nil {
			return fmt.Errorf("build reply: %w", err)
		}
	case x.Reply != nil:
		if msg, err = x.Reply(n, events); err != nil {
			return fmt.Errorf("build reply: %w", err)
		}
	}
	if msg != nil {
		o.result.Message = msg
		if reqKey != nil {
			// Encoded once, straight after the record's header: one
			// allocation for the reply and its record.
			if rec, err = wire.Deterministic.MarshalAppend(rec, msg); err != nil {
				return fmt.Errorf("encode reply: %w", err)
			}
			o.result.Reply = rec[requestRecordHeaderSize:]
			if x.SecretReply {
				rec = rec[:requestRecordHeaderSize] // the record keeps no copy of a secret
			}
		}
	}
	if reqKey != nil {
		if err := tx.Bucket(bucketRequests).Put(reqKey, rec); err != nil {
			return err
		}
		b.requests = append(b.requests, [2][]byte{reqKey, rec})
	}
	return nil
}

// lock returns the negotiation's entry, write-locked for the rest of the
// batch and loaded. For a negotiation being created, the entry's state is nil
// if it does not exist yet.
func (b *batch) lock(db *DB, tx *bolt.Tx, id string, creating bool) (*entry, error) {
	if err := b.unloadable[id]; err != nil {
		return nil, err
	}
	if e, ok := b.locked[id]; ok {
		if e.n == nil && !creating {
			return nil, notFound(id)
		}
		return e, nil
	}
	e := db.entry(id)
	e.mu.Lock()
	b.locked[id] = e
	if e.n == nil {
		n, tree, err := load(tx, id)
		switch {
		case err == nil:
			e.n, e.tree = n, tree
		case isNotFound(err) && creating:
		case isNotFound(err):
			return nil, err
		default:
			b.unloadable[id] = err
			return nil, err
		}
	}
	return e, nil
}

func (b *batch) touch(id string, e *entry) *dirty {
	d, ok := b.dirty[id]
	if !ok {
		d = &dirty{n: e.n, tree: e.tree, points: map[string]bool{}, amendments: map[string]bool{}, credentials: map[string]bool{}, comments: map[string]bool{}}
		b.dirty[id] = d
		b.order = append(b.order, id)
	}
	return d
}

// writeEvent folds one event into the state, appends its leaf to the log and
// notes which projections it changed.
func writeEvent(tx *bolt.Tx, d *dirty, ev workflow.Event) error {
	n := d.n
	nb, err := negotiationBucket(tx, ev.NegotiationID, ev.Sequence == 1)
	if err != nil {
		return err
	}
	switch p := ev.Payload.(type) {
	case workflow.CredentialIssued:
		key := workflow.MemberKey(p.Participant, p.Member)
		if err := reindexToken(tx, n.Credentials[key], p.TokenHash, ev.NegotiationID, key); err != nil {
			return err
		}
	case workflow.CredentialRevoked:
		key := workflow.MemberKey(p.Participant, p.Member)
		if err := reindexToken(tx, n.Credentials[key], "", ev.NegotiationID, key); err != nil {
			return err
		}
	case workflow.MemberRemoved:
		key := workflow.MemberKey(p.Participant, p.Member)
		if err := reindexToken(tx, n.Credentials[key], "", ev.NegotiationID, key); err != nil {
			return err
		}
	case workflow.ParticipantRemoved:
		// The tokens of the removed participant's members stop working with
		// its removal.
		for _, key := range n.CredentialKeys(p.Participant) {
			if err := reindexToken(tx, n.Credentials[key], "", ev.NegotiationID, key); err != nil {
				return err
			}
			d.credentials[key] = true
		}
		for _, id := range n.AmendmentOrder {
			if a := n.Amendments[id]; a.State == workflow.AmendmentStateOpen {
				if _, voted := a.Votes[p.Participant]; voted {
					d.amendments[id] = true // its vote is dropped
				}
			}
		}
	case workflow.VotingDeadlineSet:
		if a := n.Amendments[p.AmendmentID]; a != nil && !a.Deadline.IsZero() {
			if err := tx.Bucket(bucketDeadlines).Delete(deadlineKey(a.Deadline, ev.NegotiationID, a.ID)); err != nil {
				return err
			}
		}
	case workflow.NegotiationAbandoned, workflow.NegotiationResumed:
		// Abandoned: the deadlines leave the index. Resumed: they are indexed
		// again, which tells the server to look at those that came due
		// during the pause.
		for _, id := range n.AmendmentOrder {
			if a := n.Amendments[id]; a.State == workflow.AmendmentStateOpen && !a.Deadline.IsZero() {
				d.amendments[id] = true
			}
		}
	}
	if err := n.Apply(ev); err != nil {
		return fmt.Errorf("fold event %d: %w", ev.Sequence, err)
	}
	d.forgetConversions(ev)
	leaf, err := wire.MarshalEvent(ev)
	if err != nil {
		return fmt.Errorf("encode event %d: %w", ev.Sequence, err)
	}
	events := nb.Bucket(bucketEvents)
	events.FillPercent = 1 // append-only: pack pages full
	if err := events.Put(seqKey(ev.Sequence), leaf); err != nil {
		return err
	}
	if err := appendLeaf(nb, d.tree, leaf); err != nil {
		return fmt.Errorf("merkle append of event %d: %w", ev.Sequence, err)
	}
	d.appended = append(d.appended, StoredEvent{Sequence: ev.Sequence, Leaf: leaf})
	switch p := ev.Payload.(type) {
	case workflow.NegotiationCreated, workflow.DocumentAccepted, workflow.NegotiationConcluded,
		workflow.ParticipantAdded, workflow.ParticipantRemoved, workflow.NegotiationRenamed, workflow.DecisionRuleChanged,
		workflow.NegotiationSuspended, workflow.NegotiationResumed, workflow.NegotiationAbandoned,
		workflow.MemberAdded, workflow.AcceptanceWithdrawn,
		workflow.KeyRegistered, workflow.KeyRevoked, workflow.SignaturesRequired:
		d.meta = true
	case workflow.VotingDeadlineSet:
		d.amendments[p.AmendmentID] = true
	case workflow.MemberRemoved:
		d.meta = true
		d.credentials[workflow.MemberKey(p.Participant, p.Member)] = true
	case workflow.PointAdded:
		d.points[p.PointID] = true
		d.order = true
	case workflow.AmendmentProposed:
		d.amendments[p.AmendmentID] = true
	case workflow.VoteCast:
		d.amendments[p.AmendmentID] = true
	case workflow.VotingClosed:
		d.amendments[p.AmendmentID] = true
	case workflow.AmendmentApplied:
		d.amendments[p.AmendmentID] = true
		for _, id := range p.PointIDs() {
			d.points[id] = true
		}
		d.order = d.order || n.Amendments[p.AmendmentID].Reorders()
	case workflow.AmendmentRejected:
		d.amendments[p.AmendmentID] = true
	case workflow.AmendmentWithdrawn:
		d.amendments[p.AmendmentID] = true
	case workflow.AmendmentStaled:
		d.amendments[p.AmendmentID] = true
	case workflow.PointSignedOff:
		d.points[p.PointID] = true
	case workflow.SignOffRevoked:
		d.points[p.PointID] = true
	case workflow.CredentialIssued:
		d.credentials[workflow.MemberKey(p.Participant, p.Member)] = true
	case workflow.CredentialRevoked:
		d.credentials[workflow.MemberKey(p.Participant, p.Member)] = true
	case workflow.CommentPosted:
		d.comments[p.CommentID] = true
		d.meta = true // its comment count
	case workflow.CommentRetracted:
		d.comments[p.CommentID] = true
	}
	return nil
}

// reindexToken moves a member's entry in the token index from the old
// token hash to the new one; either may be empty.
func reindexToken(tx *bolt.Tx, oldHash, newHash, negotiationID, participant string) error {
	tokens := tx.Bucket(bucketTokens)
	if oldHash != "" {
		if err := tokens.Delete([]byte(oldHash)); err != nil {
			return err
		}
	}
	if newHash != "" {
		return tokens.Put([]byte(newHash), encodePrincipal(Principal{NegotiationID: negotiationID, Participant: participant}))
	}
	return nil
}

// flush rewrites every projection the batch changed, each once.
func (b *batch) flush(tx *bolt.Tx) error {
	for _, id := range b.order {
		d := b.dirty[id]
		nb, err := negotiationBucket(tx, id, false)
		if err != nil {
			return err
		}
		if err := writeProjections(nb, d); err != nil {
			return fmt.Errorf("negotiation %s: %w", id, err)
		}
		if err := b.indexDeadlines(tx, id, d); err != nil {
			return fmt.Errorf("negotiation %s: deadline index: %w", id, err)
		}
	}
	return nil
}

func writeProjections(nb *bolt.Bucket, d *dirty) error {
	n := d.n
	put := func(b *bolt.Bucket, key []byte, m proto.Message) error {
		v, err := wire.Deterministic.Marshal(m)
		if err != nil {
			return err
		}
		return b.Put(key, v)
	}
	if d.meta {
		if err := put(nb, keyMeta, wire.NegotiationToProto(n)); err != nil {
			return err
		}
	}
	if d.order {
		if err := nb.Put(keyOrder, encodeOrder(n.Order)); err != nil {
			return err
		}
	}
	points := nb.Bucket(bucketPoints)
	for id := range d.points {
		if err := put(points, []byte(id), wire.PointRecord(n, n.Points[id])); err != nil {
			return err
		}
	}
	amendments := nb.Bucket(bucketAmendments)
	scratch := voteScratches.Get().(*wire.VoteScratch)
	defer voteScratches.Put(scratch)
	for id := range d.amendments {
		m, ok := d.converted[id]
		if !ok {
			// Encoded and dropped at once: its votes' storage serves the next.
			m = wire.AmendmentToProtoReusing(n, n.Amendments[id], scratch)
		}
		if err := put(amendments, []byte(id), m); err != nil {
			return err
		}
	}
	if len(d.comments) > 0 {
		comments, err := nb.CreateBucketIfNotExists(bucketComments)
		if err != nil {
			return err
		}
		for id := range d.comments {
			if err := put(comments, []byte(id), wire.CommentToProto(n, n.Comments[id])); err != nil {
				return err
			}
		}
	}
	credentials := nb.Bucket(bucketCredentials)
	for participant := range d.credentials {
		var err error
		if hash, ok := n.Credentials[participant]; ok {
			err = credentials.Put([]byte(participant), []byte(hash))
		} else {
			err = credentials.Delete([]byte(participant))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// voteScratches hold the storage of the votes of amendments converted for
// their stored projection, reused from one commit to the next.
var voteScratches = sync.Pool{New: func() any { return new(wire.VoteScratch) }}

// negotiationBucket returns a negotiation's bucket, creating it with its
// sub-buckets if create is set.
func negotiationBucket(tx *bolt.Tx, id string, create bool) (*bolt.Bucket, error) {
	all := tx.Bucket(bucketNegotiations)
	if !create {
		if nb := all.Bucket([]byte(id)); nb != nil {
			return nb, nil
		}
		return nil, fmt.Errorf("bucket of negotiation %s is missing", id)
	}
	nb, err := all.CreateBucket([]byte(id))
	if err != nil {
		return nil, fmt.Errorf("create bucket of negotiation %s: %w", id, err)
	}
	for _, name := range [][]byte{bucketEvents, bucketPoints, bucketAmendments, bucketCredentials, bucketMerkle} {
		if _, err := nb.CreateBucket(name); err != nil {
			return nil, err
		}
	}
	return nb, nil
}

// Request records: a version byte, a flags byte, the request's SHA-256, then
// the encoded reply.
const (
	requestRecordVersion = 1
	flagSecretReply      = 1
)

func requestKey(principal, requestID string) []byte {
	return []byte(principal + "\x00" + requestID)
}

const requestRecordHeaderSize = 2 + sha256.Size

// requestRecordHeader returns a request record without its reply, which is
// appended to it.
func requestRecordHeader(x Exec) []byte {
	flags := byte(0)
	if x.SecretReply {
		flags = flagSecretReply
	}
	rec := make([]byte, 0, requestRecordHeaderSize)
	rec = append(rec, requestRecordVersion, flags)
	return append(rec, x.RequestHash[:]...)
}

func replay(rec []byte, hash [sha256.Size]byte) (Result, error) {
	if len(rec) < requestRecordHeaderSize || rec[0] != requestRecordVersion {
		return Result{}, fmt.Errorf("request record of unknown format")
	}
	if !bytes.Equal(rec[2:requestRecordHeaderSize], hash[:]) {
		return Result{}, workflow.Errorf(workflow.EALREADYEXISTS, "REQUEST_ID_REUSED",
			"this request_id was used for a different request; use a new one for each distinct request")
	}
	if rec[1]&flagSecretReply != 0 {
		return Result{}, workflow.Errorf(workflow.EALREADYEXISTS, "TOKEN_ALREADY_SHOWN",
			"this request already issued a token, which is shown only once; rotate the token with a new request_id")
	}
	return Result{Reply: append([]byte(nil), rec[requestRecordHeaderSize:]...), Replayed: true}, nil
}
