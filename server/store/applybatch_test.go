package store_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// The amendments of batchEntries.
const (
	amendment1 = "0b5d3c4e-8f0a-4a53-9b55-2a1f3e6c7d01"
	amendment2 = "0b5d3c4e-8f0a-4a53-9b55-2a1f3e6c7d02"

	missingAmendment = "0b5d3c4e-8f0a-4a53-9b55-2a1f3e6c7dff"
)

// batchEntries returns raft entries 1..n of a negotiation id: its creation,
// two amendments, then votes, with refusals by the rules among them and a
// request sent twice; each entry stamped with its own time.
func batchEntries(id string) []store.Entry {
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	var out []store.Entry
	add := func(x store.Exec) {
		out = append(out, store.Entry{Index: uint64(len(out) + 1), At: at.Add(time.Duration(len(out)) * time.Millisecond), Exec: x})
	}
	add(createExec(id))
	for _, aid := range []string{amendment1, amendment2} {
		add(store.Exec{NegotiationID: id, Actor: "ukraine", Member: "ukraine", Principal: id + "/ukraine",
			Command: workflow.ProposeAmendment{AmendmentID: aid, Kind: workflow.KindReplace, PointID: "p1", BaseRevision: 1, Text: "Uno " + aid + "."}})
	}
	for i := range 12 {
		voter := delegations[1+i%3]
		aid := []string{amendment1, amendment2}[i%2]
		choice := workflow.ChoiceApprove
		if i%4 == 3 {
			choice = workflow.ChoiceAbstain
		}
		requestID := fmt.Sprint("vote-", i)
		if i == 7 {
			requestID = "vote-5" // sent again: the stored reply, nothing new
			voter, aid, choice = delegations[1+5%3], amendment2, workflow.ChoiceApprove
		}
		add(store.Exec{NegotiationID: id, Principal: id + "/" + voter, RequestID: requestID,
			RequestHash: sha256.Sum256([]byte(requestID)), Actor: voter,
			Command: workflow.CastVote{AmendmentID: aid, Choice: choice},
			Reply: func(n *workflow.Negotiation, _ []workflow.Event) (proto.Message, error) {
				return &parleyv1.CastVoteResponse{Amendment: wire.AmendmentToProto(n, n.Amendments[aid])}, nil
			}})
		if i == 4 {
			// Refused by the rules in the middle of a batch.
			add(store.Exec{NegotiationID: id, Actor: "observer-nobody", Command: workflow.RenameNegotiation{Title: "No"}})
			add(store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.CastVote{AmendmentID: missingAmendment, Choice: workflow.ChoiceApprove}})
		}
	}
	return out
}

func TestApplyBatch(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// The same entries applied one by one and in batches of every size
		// leave the same content, roots and replies.
		id := uuid.NewString()
		entries := batchEntries(id)
		one := MustOpenDB(t)
		var want []store.Applied
		for _, e := range entries {
			res, err := one.Apply(e.Index, e.At, e.Exec)
			want = append(want, store.Applied{Result: res, Err: err})
		}
		refused := 0
		for _, w := range want {
			if w.Err != nil {
				refused++
			}
		}
		if refused != 2 {
			t.Fatalf("%d entries refused one by one, want the 2 the test makes", refused)
		}
		for _, size := range []int{2, 3, 5, len(entries)} {
			t.Run(fmt.Sprint(size), func(t *testing.T) {
				batched := MustOpenDB(t)
				var got []store.Applied
				for from := 0; from < len(entries); from += size {
					got = append(got, batched.ApplyBatch(entries[from:min(from+size, len(entries))])...)
				}
				sameApplied(t, want, got)
				sameContent(t, one, batched)
				_, rootA, errA := one.TreeHead(id)
				_, rootB, errB := batched.TreeHead(id)
				if errA != nil || errB != nil || !bytes.Equal(rootA, rootB) {
					t.Errorf("Merkle roots %x and %x (%v, %v), want the same", rootA, rootB, errA, errB)
				}
				if index, err := batched.AppliedIndex(); err != nil || index != uint64(len(entries)) {
					t.Errorf("applied index %d, %v; want %d", index, err, len(entries))
				}
			})
		}
	})

	t.Run("ErrAlreadyApplied", func(t *testing.T) {
		// Raft replays the entries after its last snapshot: those the store
		// holds are skipped, the rest applied.
		id := uuid.NewString()
		entries := batchEntries(id)
		db := MustOpenDB(t)
		db.ApplyBatch(entries[:6])
		before := lastSequence(t, db, id)
		got := db.ApplyBatch(entries[3:9])
		for i, a := range got[:3] {
			if !errors.Is(a.Err, store.ErrAlreadyApplied) {
				t.Errorf("entry %d again: %v, want ErrAlreadyApplied", entries[3+i].Index, a.Err)
			}
		}
		if after := lastSequence(t, db, id); after <= before {
			t.Errorf("entries after the applied index appended nothing: sequence %d, was %d", after, before)
		}
		all := db.ApplyBatch(entries[:9])
		for i, a := range all {
			if !errors.Is(a.Err, store.ErrAlreadyApplied) {
				t.Errorf("entry %d of a replayed batch: %v, want ErrAlreadyApplied", entries[i].Index, a.Err)
			}
		}
		if index, _ := db.AppliedIndex(); index != 9 {
			t.Errorf("applied index %d, want 9", index)
		}
	})

	t.Run("RefusalAlone", func(t *testing.T) {
		// A refusal between two votes leaves both applied, and records the
		// batch's last index.
		id := uuid.NewString()
		db := MustOpenDB(t)
		entries := batchEntries(id)
		got := db.ApplyBatch(entries[:10])
		for i, a := range got {
			vote, _ := entries[i].Exec.Command.(workflow.CastVote)
			refused := entries[i].Exec.Actor == "observer-nobody" || vote.AmendmentID == missingAmendment
			var rules *workflow.Error
			if refused != errors.As(a.Err, &rules) {
				t.Errorf("entry %d: %v; refused by the rules: want %t", entries[i].Index, a.Err, refused)
			}
			if !refused && a.Err != nil {
				t.Errorf("entry %d: %v", entries[i].Index, a.Err)
			}
		}
		var votes int
		db.View(id, func(n *workflow.Negotiation) error {
			votes = len(n.Amendments[amendment1].Votes) + len(n.Amendments[amendment2].Votes)
			return nil
		})
		if votes != 5 {
			t.Errorf("%d votes stand, want the 5 around the refusals", votes)
		}
	})

	t.Run("ErrClosed", func(t *testing.T) {
		db := MustOpenDB(t)
		db.Close()
		for _, a := range db.ApplyBatch(batchEntries(uuid.NewString())[:2]) {
			if !errors.Is(a.Err, store.ErrClosed) {
				t.Errorf("batch on a closed store: %v, want ErrClosed", a.Err)
			}
		}
	})
}

func sameApplied(t *testing.T, want, got []store.Applied) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range want {
		if fmt.Sprint(want[i].Err) != fmt.Sprint(got[i].Err) {
			t.Errorf("entry %d: %v, want %v", i+1, got[i].Err, want[i].Err)
		}
		if !bytes.Equal(want[i].Result.Reply, got[i].Result.Reply) || want[i].Result.Replayed != got[i].Result.Replayed ||
			!proto.Equal(want[i].Result.Message, got[i].Result.Message) || len(want[i].Result.Events) != len(got[i].Result.Events) {
			t.Errorf("entry %d: reply %x (replayed %t, %d events), want %x (%t, %d)", i+1, got[i].Result.Reply, got[i].Result.Replayed,
				len(got[i].Result.Events), want[i].Result.Reply, want[i].Result.Replayed, len(want[i].Result.Events))
		}
	}
}

// sameContent compares every bucket, key and value of two stores.
func sameContent(t *testing.T, a, b *store.DB) {
	t.Helper()
	dumpA, dumpB := dump(t, a), dump(t, b)
	if len(dumpA) != len(dumpB) {
		t.Errorf("%d and %d keys", len(dumpA), len(dumpB))
	}
	for k, v := range dumpA {
		if w, ok := dumpB[k]; !ok || !bytes.Equal(v, w) {
			t.Errorf("key %q: %x and %x", k, v, w)
		}
	}
}

func dump(t *testing.T, db *store.DB) map[string][]byte {
	t.Helper()
	snap, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "snapshot.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = snap.WriteTo(f)
	snap.Release()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	out := map[string][]byte{}
	var walk func(prefix string, b *bolt.Bucket) error
	walk = func(prefix string, b *bolt.Bucket) error {
		out[prefix+"#sequence"] = []byte(fmt.Sprint(b.Sequence()))
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return walk(prefix+string(k)+"/", b.Bucket(k))
			}
			out[prefix+string(k)] = append([]byte(nil), v...)
			return nil
		})
	}
	if err := bdb.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(string(name)+"/", b) })
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
