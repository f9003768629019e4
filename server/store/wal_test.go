package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/wal"
	"github.com/parley-negotiation/parley/server/workflow"
)

// openLogged opens the database at path in log mode with no checkpoint but
// the ones a test takes (and the one Open takes), so that the test knows
// what the last checkpoint's sync left on disk.
func openLogged(tb testing.TB, path string) *store.DB {
	tb.Helper()
	db, err := store.Open(path, store.WithManualCheckpoints(store.Options{WriteAheadLog: true}))
	if err != nil {
		tb.Fatal(err)
	}
	if !db.Logging() {
		tb.Fatal("the database is not in log mode")
	}
	return db
}

// writeSome proposes amendments and casts votes with request ids: events,
// projections, Merkle nodes and request records, on pages freed and taken
// again from one commit to the next.
func writeSome(tb testing.TB, db *store.DB, id string, points []string, round, count int) {
	tb.Helper()
	for i := range count {
		aid := uuid.NewString()
		mustExec(tb, db, store.Exec{NegotiationID: id, Principal: id + "/ukraine", RequestID: fmt.Sprintf("p-%d-%d", round, i),
			RequestHash: sha256.Sum256([]byte(aid)), Actor: "ukraine",
			Command: workflow.ProposeAmendment{AmendmentID: aid, Kind: workflow.KindReplace, PointID: points[i%len(points)],
				BaseRevision: 1, Text: fmt.Sprintf("Point text of round %d, amendment %d. %s", round, i, strings.Repeat("x", i*37%300))}})
		for _, voter := range []string{"russia", "united-states"} {
			mustExec(tb, db, store.Exec{NegotiationID: id, Principal: id + "/" + voter, RequestID: fmt.Sprintf("v-%d-%d", round, i),
				RequestHash: sha256.Sum256([]byte(voter + aid)), Actor: voter,
				Command: workflow.CastVote{AmendmentID: aid, Choice: workflow.ChoiceApprove}})
		}
	}
}

// A killed server loses nothing it acknowledged: the file holds every
// commit (the page cache had them), and the log is applied again from its
// last checkpoint onto a file put back to that checkpoint.
func TestRecovery(t *testing.T) {
	t.Run("OK/killed", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		db := openLogged(t, path)
		id, points := mustCreatePlan(t, db)
		writeSome(t, db, id, points, 1, 20)
		if err := db.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		writeSome(t, db, id, points, 2, 20)
		want, wantSeq := dump(t, db), lastSequence(t, db, id)
		size, root, err := db.TreeHead(id)
		if err != nil {
			t.Fatal(err)
		}
		db.Crash()
		if entries, _ := os.ReadDir(path + ".wal"); len(entries) == 0 {
			t.Fatal("a crashed database left no write-ahead log")
		}

		db = openLogged(t, path)
		sameDump(t, want, dump(t, db))
		if s, r, err := db.TreeHead(id); err != nil || s != size || !bytes.Equal(r, root) {
			t.Fatalf("tree head after recovery: %d %x %v, want %d %x", s, r, err, size, root)
		}
		if err := db.VerifyAll(context.Background()); err != nil {
			t.Fatalf("verify after recovery: %v", err)
		}
		checkProjections(t, db, id)
		// The log goes on where it was.
		writeSome(t, db, id, points, 3, 2)
		if got := lastSequence(t, db, id); got != wantSeq+6 {
			t.Fatalf("after recovery and 6 more events: last sequence %d, want %d", got, wantSeq+6)
		}
		after := dump(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path + ".wal"); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a database closed cleanly kept its write-ahead log: %v", err)
		}
		db = mustOpenAt(t, path)
		sameDump(t, after, dump(t, db))
	})

	t.Run("OK/killed while checkpoints run", func(t *testing.T) {
		// Checkpoints every 32 commits, taken while 8 writers commit.
		path := filepath.Join(t.TempDir(), "parley.db")
		db, err := store.Open(path, store.Options{WriteAheadLog: true})
		if err != nil {
			t.Fatal(err)
		}
		id, points := mustCreatePlan(t, db)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() { writeSome(t, db, id, points, 10+w, 25) })
		}
		wg.Wait()
		want := dump(t, db)
		db.Crash()
		db = openLogged(t, path)
		defer db.Close()
		sameDump(t, want, dump(t, db))
		if err := db.VerifyAll(context.Background()); err != nil {
			t.Fatalf("verify after recovery: %v", err)
		}
	})

	t.Run("OK/log mode off after a crash", func(t *testing.T) {
		// A server restarted without --write-ahead-log after a crash in
		// log mode applies the log, then drops it.
		path := filepath.Join(t.TempDir(), "parley.db")
		db := openLogged(t, path)
		id, points := mustCreatePlan(t, db)
		writeSome(t, db, id, points, 1, 10)
		want := dump(t, db)
		db.Crash()
		db, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if db.Logging() {
			t.Fatal("opened in log mode without WriteAheadLog")
		}
		if _, err := os.Stat(path + ".wal"); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the log outlived its recovery: %v", err)
		}
		sameDump(t, want, dump(t, db))
		writeSome(t, db, id, points, 2, 1)
	})

	t.Run("OK/power cut", func(t *testing.T) {
		// What a power cut leaves: the file as the last checkpoint's sync
		// left it, with any of the pages written since (none, some or all,
		// a meta page torn), and the log as its fdatasyncs left it.
		dir := t.TempDir()
		path := filepath.Join(dir, "parley.db")
		db := openLogged(t, path)
		id, points := mustCreatePlan(t, db)
		writeSome(t, db, id, points, 1, 15)
		if err := db.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		synced, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		writeSome(t, db, id, points, 2, 25)
		want := dump(t, db)
		db.Crash()
		cached, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pageSize := os.Getpagesize()
		changed := 0
		for i := 0; i < len(cached); i += pageSize {
			if i+pageSize > len(synced) || !bytes.Equal(synced[i:i+pageSize], cached[i:i+pageSize]) {
				changed++
			}
		}
		if changed < 10 {
			t.Fatalf("only %d pages changed since the checkpoint: the test would prove little", changed)
		}
		for seed := range uint64(12) {
			rng := rand.New(rand.NewPCG(seed, 7))
			cut := make([]byte, len(cached))
			for i := 0; i < len(cut); i += pageSize {
				page := cut[i : i+pageSize]
				if i+pageSize <= len(synced) && bytes.Equal(synced[i:i+pageSize], cached[i:i+pageSize]) {
					copy(page, synced[i:i+pageSize]) // not written since the sync
					continue
				}
				switch rng.IntN(3) {
				case 0: // never written back
					if i+pageSize <= len(synced) {
						copy(page, synced[i:i+pageSize])
					}
				case 1: // written back
					copy(page, cached[i:i+pageSize])
				default: // torn
					copy(page, cached[i:i+pageSize])
					for j := rng.IntN(pageSize); j < pageSize; j++ {
						page[j] = byte(rng.Uint32())
					}
				}
			}
			cutDir := filepath.Join(t.TempDir(), "data")
			if err := os.CopyFS(cutDir, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cutDir, "parley.db"), cut, 0o600); err != nil {
				t.Fatal(err)
			}
			// The last-commit record is not synced either: it may be lost.
			os.Remove(filepath.Join(cutDir, "parley.db.last-commit"))
			recovered, err := store.Open(filepath.Join(cutDir, "parley.db"), store.WithManualCheckpoints(store.Options{WriteAheadLog: true}))
			if err != nil {
				t.Fatalf("seed %d: open after a power cut: %v", seed, err)
			}
			sameDump(t, want, dump(t, recovered))
			if err := recovered.VerifyAll(context.Background()); err != nil {
				t.Fatalf("seed %d: verify after a power cut: %v", seed, err)
			}
			recovered.Close()
		}
	})

	t.Run("OK/a failed commit is not applied again", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		db := openLogged(t, path)
		id, points := mustCreatePlan(t, db)
		writeSome(t, db, id, points, 1, 3)
		want := dump(t, db)
		failCommits(db, 1)
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: "ukraine",
			Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(), Kind: workflow.KindReplace, PointID: points[0],
				BaseRevision: 1, Text: "Refused by the disk."}})
		if err == nil {
			t.Fatal("the failing commit succeeded")
		}
		db.Crash()
		db = openLogged(t, path)
		defer db.Close()
		sameDump(t, want, dump(t, db))
	})

	t.Run("ErrFileReplaced", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "parley.db")
		db := openLogged(t, path)
		id, points := mustCreatePlan(t, db)
		older, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		writeSome(t, db, id, points, 1, 5)
		if err := db.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		writeSome(t, db, id, points, 2, 5)
		db.Crash()
		// An operator puts an older copy in place, with the log of the
		// crashed server still beside it.
		if err := os.WriteFile(path, older, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Remove(path + ".last-commit")
		_, err = store.Open(path, store.Options{WriteAheadLog: true})
		if err == nil || !strings.Contains(err.Error(), "does not describe") || !strings.Contains(err.Error(), ".wal") {
			t.Fatalf("open of a replaced file beside a log: %v, want a refusal naming the log", err)
		}
		if now, _ := os.ReadFile(path); !bytes.Equal(now, older) {
			t.Fatal("the refused open wrote the file")
		}
	})
}

// A log that recovery cannot make sense of stops the open, with the file
// left as it was.
func TestRecovery_ErrLog(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind byte
		data []byte
		want string
	}{
		{"ErrNoCheckpoint", 1, []byte{5, 0, 0}, "no checkpoint before them"}, // transaction 5, nothing in it
		{"ErrUnknownKind", 9, []byte{1}, "unknown kind 9"},
		{"ErrTruncatedRecord", 1, []byte{5, 3}, "record 1"}, // three negotiations announced, none there
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			db := mustOpenAt(t, path)
			id, _ := mustCreatePlan(t, db)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			log, err := wal.Open(path+".wal", 1, wal.Options{SegmentSize: 1 << 16})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := log.Append(tc.kind, tc.data); err != nil {
				t.Fatal(err)
			}
			log.Close()
			for _, opts := range []store.Options{{}, {WriteAheadLog: true}} {
				if _, err := store.Open(path, opts); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("open (log mode %v): %v, want an error with %q", opts.WriteAheadLog, err, tc.want)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Fatal("the refused open wrote the database file")
			}
			// Set aside, the log no longer stands in the way.
			if err := os.Rename(path+".wal", path+".wal.aside"); err != nil {
				t.Fatal(err)
			}
			db = mustOpenAt(t, path)
			if got := lastSequence(t, db, id); got == 0 {
				t.Fatal("the negotiation is gone")
			}
		})
	}
}

// A database that outgrows the space mapped for log mode leaves it at the
// next checkpoint, and its commits go on, synced by bbolt.
func TestRecovery_LeavesLogMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := store.Open(path, store.WithMmapSize(store.WithManualCheckpoints(store.Options{WriteAheadLog: true}), 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, points := mustCreatePlan(t, db)
	// A little at a time, with a checkpoint after each: a remap while the
	// pin is held would wait for it for ever.
	for round := 1; db.Logging(); round++ {
		if round > 100 {
			t.Fatal("100 rounds of writes and still in log mode with a 1 MiB mapping")
		}
		writeSome(t, db, id, points, round, 4)
		if err := db.Checkpoint(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path + ".wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the log outlived log mode: %v", err)
	}
	writeSome(t, db, id, points, 100, 40) // past the 1 MiB mapping: a remap
	want := dump(t, db)
	db.Crash()
	db = mustOpenAt(t, path)
	sameDump(t, want, dump(t, db))
}

func sameDump(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%d keys, want %d", len(got), len(want))
	}
	bad := 0
	for k, v := range want {
		if w, ok := got[k]; !ok || !bytes.Equal(v, w) {
			if bad++; bad <= 5 {
				t.Errorf("key %q: %x, want %x", k, w, v)
			}
		}
	}
	if bad > 0 {
		t.FailNow()
	}
}
