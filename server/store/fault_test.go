package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// errDiskFailed stands for a commit that fails for a reason the store does
// not recognise as a full or failing disk (those are STORAGE_FULL and
// STORAGE_FAILED, tested apart): the caller gets the commit's internal error.
var errDiskFailed = errors.New("injected: the commit failed")

// failCommits makes the next count commits of db fail as a failed write
// would, and the ones after succeed.
func failCommits(db *store.DB, count int) {
	var mu sync.Mutex
	db.SetCommitHook(func() error {
		mu.Lock()
		defer mu.Unlock()
		if count > 0 {
			count--
			return errDiskFailed
		}
		return nil
	})
}

// commitLog records what the store reports of its commits.
type commitLog struct {
	mu        sync.Mutex
	failed    int
	succeeded int
	announced int64 // events announced to OnCommit
}

func (l *commitLog) ObserveCommit(commands, events int, took time.Duration, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if failed {
		l.failed++
	} else {
		l.succeeded++
	}
}

func (l *commitLog) counts() (failed, succeeded int, announced int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed, l.succeeded, l.announced
}

// A commit that fails is rolled back, and the store then serves and keeps
// the committed state: not the state the failed batch had built in memory.
func TestExecute_FailedCommit(t *testing.T) {
	t.Run("OK/the rolled-back command is neither served nor stored", func(t *testing.T) {
		log := &commitLog{}
		db, err := store.Open(t.TempDir()+"/parley.db", store.Options{Observer: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.OnCommit(func(_ string, events []store.StoredEvent) {
			log.mu.Lock()
			defer log.mu.Unlock()
			log.announced += int64(len(events))
		})
		id, points := mustCreatePlan(t, db)
		before := lastSequence(t, db, id)
		size, root, err := db.TreeHead(id)
		if err != nil {
			t.Fatal(err)
		}

		amendment := uuid.NewString()
		propose := store.Exec{NegotiationID: id, Principal: id + "/ukraine", RequestID: "req-1",
			RequestHash: sha256.Sum256([]byte("propose")), Actor: "ukraine",
			Command: workflow.ProposeAmendment{AmendmentID: amendment, Kind: workflow.KindReplace, PointID: points[0],
				BaseRevision: 1, Text: "The sovereignty of Ukraine is confirmed."}}
		failCommits(db, 1)
		_, err = db.Execute(context.Background(), propose)
		if !errors.Is(err, errDiskFailed) || workflow.ErrorCode(err) != workflow.EINTERNAL {
			t.Fatalf("Execute during a failing commit: %v, want the internal error of the commit", err)
		}

		err = db.View(id, func(n *workflow.Negotiation) error {
			if _, ok := n.Amendments[amendment]; ok || n.LastSequence != before || n.PendingAmendments() != 0 {
				t.Errorf("after the failed commit the served state has the amendment %v, %d events, %d pending; want none of it",
					ok, n.LastSequence, n.PendingAmendments())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if events, err := db.Events(id, before, 10); err != nil || len(events) != 0 {
			t.Errorf("the log after the failed commit: %d new events, %v", len(events), err)
		}
		if s, r, err := db.TreeHead(id); err != nil || s != size || string(r) != string(root) {
			t.Errorf("tree head after the failed commit: %d %x %v, want %d %x", s, r, err, size, root)
		}
		checkProjections(t, db, id)
		if failed, succeeded, announced := log.counts(); failed != 1 || succeeded != 1 || announced != before {
			t.Errorf("observer saw %d failed and %d good commits, OnCommit %d events; want the creation's commit of %d events and 1 failed commit",
				failed, succeeded, announced, before)
		}

		// The retry with the same request id runs afresh (its record was
		// rolled back too) and its event follows the last committed one.
		res, err := db.Execute(context.Background(), propose)
		if err != nil {
			t.Fatal(err)
		}
		if res.Replayed || len(res.Events) != 1 || res.Events[0].Sequence != before+1 {
			t.Fatalf("retry: replayed %v, %d events; want the amendment proposed now as event %d", res.Replayed, len(res.Events), before+1)
		}
		checkProjections(t, db, id)
		if err := db.VerifyAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if failed, succeeded, announced := log.counts(); failed != 1 || succeeded != 2 || announced != before+1 {
			t.Errorf("observer saw %d failed and %d good commits, OnCommit %d events; want 1 failed, 2 good and %d events",
				failed, succeeded, announced, before+1)
		}
	})

	t.Run("OK/a failed creation leaves no negotiation", func(t *testing.T) {
		db := MustOpenDB(t)
		texts := []workflow.NewPoint{{ID: "p1", Text: "The only point."}}
		id := uuid.NewString()
		create := store.Exec{NegotiationID: id, Principal: "admin", Actor: workflow.AdminActor, Command: workflow.CreateNegotiation{
			NegotiationID: id, Title: "Short plan", Participants: planParticipants(),
			Rule: workflow.DecisionRule{Method: workflow.MethodConsensus}, Points: texts}}
		failCommits(db, 1)
		if _, err := db.Execute(context.Background(), create); !errors.Is(err, errDiskFailed) {
			t.Fatalf("Execute during a failing commit: %v", err)
		}
		if err := db.View(id, func(*workflow.Negotiation) error { return nil }); workflow.ErrorReason(err) != "NEGOTIATION_NOT_FOUND" {
			t.Fatalf("View after the failed creation: %v, want NEGOTIATION_NOT_FOUND", err)
		}
		if ids, err := db.NegotiationIDs("", 10); err != nil || len(ids) != 0 {
			t.Fatalf("negotiations after the failed creation: %v, %v", ids, err)
		}
		// A command on it is told it does not exist, and creates nothing.
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: "ukraine",
			Command: workflow.SignOffPoint{PointID: "p1", Revision: 1, TextHash: workflow.HashText("The only point.")}})
		if workflow.ErrorReason(err) != "NEGOTIATION_NOT_FOUND" {
			t.Fatalf("sign-off on the negotiation whose creation failed: %v, want NEGOTIATION_NOT_FOUND", err)
		}
		mustExec(t, db, create)
		if got := lastSequence(t, db, id); got != 2 {
			t.Fatalf("created again: %d events, want 2", got)
		}
		checkProjections(t, db, id)
	})

	t.Run("OK/every command of a failed batch fails, and the next batch succeeds", func(t *testing.T) {
		db := MustOpenDB(t)
		id, points := mustCreatePlan(t, db)
		before := lastSequence(t, db, id)
		failCommits(db, 1<<30)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: delegations[i%4],
					Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(), Kind: workflow.KindReplace,
						PointID: points[i], BaseRevision: 1, Text: "Redrafted."}})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if !errors.Is(err, errDiskFailed) {
				t.Errorf("command %d: %v, want the commit's error", i, err)
			}
		}
		if got := lastSequence(t, db, id); got != before {
			t.Fatalf("%d events after commits that all failed, want %d", got, before)
		}
		failCommits(db, 0)
		for i := range 8 {
			mustExec(t, db, store.Exec{NegotiationID: id, Actor: delegations[i%4],
				Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(), Kind: workflow.KindReplace,
					PointID: points[i], BaseRevision: 1, Text: "Redrafted."}})
		}
		if got := lastSequence(t, db, id); got != before+8 {
			t.Fatalf("%d events, want %d", got, before+8)
		}
		checkProjections(t, db, id)
	})

	t.Run("OK/a refusal in a failed batch stays a refusal", func(t *testing.T) {
		// A command the rules refuse changed nothing; the caller must hear
		// why, not that the disk failed.
		db := MustOpenDB(t)
		id, _ := mustCreatePlan(t, db)
		failCommits(db, 1)
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: "ukraine",
			Command: workflow.CastVote{AmendmentID: uuid.NewString(), Choice: workflow.ChoiceApprove}})
		if workflow.ErrorReason(err) != "AMENDMENT_NOT_FOUND" {
			t.Fatalf("got %v, want AMENDMENT_NOT_FOUND", err)
		}
	})
}

// A negotiation whose stored records are damaged is refused with an internal
// error on every read and write, changes nothing, and leaves the other
// negotiations of the file working; --verify names the damage.
func TestLoad_CorruptRecords(t *testing.T) {
	garbage := []byte{0xff, 0xff, 0xff, 0xff}
	negotiation := func(tx *bolt.Tx, id string) *bolt.Bucket {
		return tx.Bucket([]byte("negotiations")).Bucket([]byte(id))
	}
	firstOf := func(tx *bolt.Tx, id, bucket string) (*bolt.Bucket, []byte) {
		b := negotiation(tx, id).Bucket([]byte(bucket))
		k, _ := b.Cursor().First()
		return b, bytes.Clone(k)
	}
	tests := []struct {
		name   string
		damage func(tx *bolt.Tx, id string) error
		verify string // what VerifyAll says
	}{
		{"HeaderGarbled", func(tx *bolt.Tx, id string) error {
			return negotiation(tx, id).Put([]byte("meta"), garbage)
		}, "STORE_CORRUPT"},
		{"OrderTruncated", func(tx *bolt.Tx, id string) error {
			nb := negotiation(tx, id)
			order := nb.Get([]byte("order"))
			return nb.Put([]byte("order"), bytes.Clone(order[:len(order)-1]))
		}, "STORE_CORRUPT"},
		{"PointGarbled", func(tx *bolt.Tx, id string) error {
			b, k := firstOf(tx, id, "points")
			return b.Put(k, garbage)
		}, "STORE_CORRUPT"},
		{"AmendmentGarbled", func(tx *bolt.Tx, id string) error {
			b, k := firstOf(tx, id, "amendments")
			return b.Put(k, garbage)
		}, "STORE_CORRUPT"},
		{"LastEventGarbled", func(tx *bolt.Tx, id string) error {
			events := negotiation(tx, id).Bucket([]byte("events"))
			k, _ := events.Cursor().Last()
			return events.Put(bytes.Clone(k), garbage)
		}, "LOG_CORRUPT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			db, err := store.Open(path, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			id, points := mustCreatePlan(t, db)
			other, otherPoints := mustCreatePlan(t, db)
			mustExec(t, db, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{
				AmendmentID: uuid.NewString(), Kind: workflow.KindReplace, PointID: points[0], BaseRevision: 1, Text: "Redrafted."}})
			db.Close()
			b, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Update(func(tx *bolt.Tx) error { return tt.damage(tx, id) }); err != nil {
				t.Fatal(err)
			}
			b.Close()

			db = mustOpenAt(t, path)
			stored, err := db.Events(id, 0, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			// A server that preloads at start refuses to serve the file.
			if _, err := db.Preload(context.Background()); err == nil || workflow.ErrorCode(err) != workflow.EINTERNAL {
				t.Fatalf("Preload of a file with a damaged negotiation: %v, want an internal error", err)
			}
			for range 2 { // the failure is not cached as a state
				err := db.View(id, func(*workflow.Negotiation) error { return nil })
				if err == nil || workflow.ErrorCode(err) != workflow.EINTERNAL {
					t.Fatalf("View of the damaged negotiation: %v, want an internal error", err)
				}
			}
			_, err = db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: "europe", Command: workflow.SignOffPoint{
				PointID: points[1], Revision: 1, TextHash: workflow.HashText("x")}})
			if err == nil || workflow.ErrorCode(err) != workflow.EINTERNAL {
				t.Fatalf("Execute on the damaged negotiation: %v, want an internal error", err)
			}
			if after, err := db.Events(id, 0, 1<<20); err != nil || len(after) != len(stored) {
				t.Fatalf("the damaged negotiation's log went from %d to %d events (%v)", len(stored), len(after), err)
			}
			// The other negotiation of the file is served and written as before.
			mustExec(t, db, store.Exec{NegotiationID: other, Actor: "ukraine", Command: workflow.ProposeAmendment{
				AmendmentID: uuid.NewString(), Kind: workflow.KindReplace, PointID: otherPoints[0], BaseRevision: 1, Text: "Redrafted."}})
			checkProjections(t, db, other)
			if err := db.VerifyAll(context.Background()); workflow.ErrorReason(err) != tt.verify {
				t.Fatalf("VerifyAll: %v, want %s", err, tt.verify)
			}
		})
	}
}

// A damaged request record makes the retry of its request fail with an
// internal error rather than replay garbage or run the command again.
func TestExecute_RequestRecordDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, points := mustCreatePlan(t, db)
	propose := store.Exec{NegotiationID: id, Principal: id + "/ukraine", RequestID: "req-1", RequestHash: sha256.Sum256([]byte("one")),
		Actor: "ukraine", Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(), Kind: workflow.KindReplace,
			PointID: points[0], BaseRevision: 1, Text: "Redrafted."}}
	mustExec(t, db, propose)
	db.Close()
	for _, tt := range []struct {
		name   string
		record []byte
	}{
		{"Truncated", []byte{1, 0, 2, 3}},
		{"UnknownVersion", append([]byte{9, 0}, make([]byte, sha256.Size)...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = b.Update(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("requests")).Put([]byte(id+"/ukraine\x00req-1"), tt.record)
			})
			b.Close()
			if err != nil {
				t.Fatal(err)
			}
			log := &commitLog{}
			db, err := store.Open(path, store.Options{Observer: log})
			if err != nil {
				t.Fatal(err)
			}
			before := lastSequence(t, db, id)
			_, err = db.Execute(context.Background(), propose)
			if err == nil || workflow.ErrorCode(err) != workflow.EINTERNAL {
				t.Fatalf("retry with a damaged record: %v, want an internal error", err)
			}
			// The record fails its own command, not the commit it shares
			// with others.
			if failed, _, _ := log.counts(); failed != 0 {
				t.Errorf("%d commits failed over a damaged request record", failed)
			}
			if got := lastSequence(t, db, id); got != before {
				t.Fatalf("retry with a damaged record appended events: %d → %d", before, got)
			}
			db.Close()
		})
	}
}

// holdCommitter runs first, a command, and holds the commit that takes it
// inside its transaction, so that the commands sent meanwhile queue up and
// share the commits after it. release waits until queued commands are
// waiting, calls before, and lets the held commit go on.
func holdCommitter(t *testing.T, db *store.DB, first func()) (release func(queued int, before func())) {
	t.Helper()
	held, hold := make(chan struct{}), make(chan struct{})
	var once sync.Once
	db.SetCommitHook(func() error {
		once.Do(func() { close(held); <-hold })
		return nil
	})
	go first()
	<-held
	return func(queued int, before func()) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); db.Queued() < queued; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				close(hold)
				t.Fatalf("only %d of %d commands queued", db.Queued(), queued)
			}
		}
		if before != nil {
			before()
		}
		close(hold)
	}
}

// Commands of one batch that change several credentials of one negotiation
// each reach the stored state and the token index.
func TestExecute_BatchedCredentials(t *testing.T) {
	db := MustOpenDB(t)
	id, _ := mustCreatePlan(t, db)
	issue := func(participant string, n int) error {
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: workflow.AdminActor,
			Command: workflow.IssueCredential{Participant: participant, TokenHash: fmt.Sprintf("%064x", n)}})
		return err
	}
	errs := make(chan error, len(delegations)+1)
	release := holdCommitter(t, db, func() { errs <- issue("mediator", 100) })
	for i, d := range delegations {
		go func() { errs <- issue(d, i+1) }()
	}
	release(len(delegations), nil)
	for range len(delegations) + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	checkProjections(t, db, id)
	for i, d := range delegations {
		if p, ok, err := db.TokenOwner(fmt.Sprintf("%064x", i+1)); err != nil || !ok || p.Participant != d {
			t.Fatalf("token of %s: owner %+v, %v, %v", d, p, ok, err)
		}
	}
	if err := db.VerifyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// batchLog records how many commands each commit took.
type batchLog struct {
	mu    sync.Mutex
	sizes []int
}

func (l *batchLog) ObserveCommit(commands, events int, took time.Duration, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sizes = append(l.sizes, commands)
}

// Commands that wait while a commit runs share the next one, up to MaxBatch
// commands a commit: many writers share one fsync, and no batch holds the
// write lock for long.
func TestExecute_GroupCommit(t *testing.T) {
	log := &batchLog{}
	db, err := store.Open(filepath.Join(t.TempDir(), "parley.db"), store.Options{Observer: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id, points := mustCreatePlan(t, db)
	before := lastSequence(t, db, id)

	propose := func(i int) error {
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: delegations[i%4],
			Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(), Kind: workflow.KindReplace,
				PointID: points[i%len(points)], BaseRevision: 1, Text: fmt.Sprintf("Draft %d.", i)}})
		return err
	}
	const waiting = store.MaxBatch + 44
	errs := make(chan error, waiting+1)
	release := holdCommitter(t, db, func() { errs <- propose(3) })
	for i := range waiting {
		go func() { errs <- propose(i) }()
	}
	release(waiting, func() {
		log.mu.Lock()
		defer log.mu.Unlock()
		log.sizes = nil
	})
	for range waiting + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	log.mu.Lock()
	sizes := slices.Clone(log.sizes)
	log.mu.Unlock()
	if want := []int{1, store.MaxBatch, waiting - store.MaxBatch}; !slices.Equal(sizes, want) {
		t.Fatalf("commits of %v commands, want %v: the held one, then the waiting ones in batches of at most %d", sizes, want, store.MaxBatch)
	}
	if got := lastSequence(t, db, id); got != before+waiting+1 {
		t.Fatalf("%d events, want %d", got, before+waiting+1)
	}
	checkProjections(t, db, id)
}

// Commands on a damaged negotiation fail alone, each with the error of its
// loading: the commands they share a commit with, on other negotiations, go
// through.
func TestExecute_DamagedNeighbour(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	damaged, damagedPoints := mustCreatePlan(t, db)
	healthy, points := mustCreatePlan(t, db)
	db.Close()
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("negotiations")).Bucket([]byte(damaged)).Put([]byte("meta"), []byte{0xff, 0xff, 0xff, 0xff})
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}

	db = mustOpenAt(t, path)
	before := lastSequence(t, db, healthy)
	propose := func(id, point string) error {
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{
			AmendmentID: uuid.NewString(), Kind: workflow.KindReplace, PointID: point, BaseRevision: 1, Text: "Redrafted."}})
		return err
	}
	first := make(chan error, 1)
	release := holdCommitter(t, db, func() { first <- propose(healthy, points[0]) })
	results := make(chan error, 3)
	go func() { results <- propose(damaged, damagedPoints[0]) }()
	go func() { results <- propose(damaged, damagedPoints[1]) }()
	go func() { results <- propose(healthy, points[1]) }()
	release(3, nil)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	var failed, succeeded int
	for range 3 {
		if err := <-results; err == nil {
			succeeded++
		} else if workflow.ErrorCode(err) == workflow.EINTERNAL {
			failed++
		} else {
			// Not NEGOTIATION_NOT_FOUND, say, for the second command on the
			// damaged negotiation: it exists, and does not load.
			t.Fatalf("unexpected refusal: %v", err)
		}
	}
	if failed != 2 || succeeded != 1 {
		t.Fatalf("%d commands failed and %d succeeded; want only the two on the damaged negotiation to fail", failed, succeeded)
	}
	if got := lastSequence(t, db, healthy); got != before+2 {
		t.Fatalf("the healthy negotiation has %d events, want %d", got, before+2)
	}
	checkProjections(t, db, healthy)
}
