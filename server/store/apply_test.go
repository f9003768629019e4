package store_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// createExec is the command that creates a small negotiation, with ids fixed
// as a raft entry carries them.
func createExec(id string) store.Exec {
	return store.Exec{NegotiationID: id, Actor: workflow.AdminActor, Principal: workflow.AdminActor, RequestID: "create-" + id,
		Command: workflow.CreateNegotiation{NegotiationID: id, Title: "Applied", Participants: planParticipants(),
			Rule:   workflow.DecisionRule{Method: workflow.MethodConsensus},
			Points: []workflow.NewPoint{{ID: "p1", Text: "One."}, {ID: "p2", Text: "Two."}}}}
}

func TestApply(t *testing.T) {
	at := time.Date(2026, 11, 30, 1, 2, 3, 4, time.UTC)
	id := uuid.NewString()

	t.Run("OK", func(t *testing.T) {
		// Two stores applying the same entries hold the same bytes: events
		// stamped with the entry's time, not the clock's.
		a, b := MustOpenDB(t), MustOpenDB(t)
		for _, db := range []*store.DB{a, b} {
			if _, err := db.Apply(7, at, createExec(id)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Apply(9, at.Add(time.Second), store.Exec{NegotiationID: id, Actor: "ukraine", Member: "ukraine", Principal: id + "/ukraine",
				Command: workflow.ProposeAmendment{AmendmentID: "a1", Kind: workflow.KindReplace, PointID: "p1", BaseRevision: 1, Text: "Uno."}}); err != nil {
				t.Fatal(err)
			}
			if got, err := db.AppliedIndex(); err != nil || got != 9 {
				t.Errorf("applied index %d, %v; want 9", got, err)
			}
		}
		ea, _ := a.Events(id, 0, 100)
		eb, _ := b.Events(id, 0, 100)
		if len(ea) == 0 || len(ea) != len(eb) {
			t.Fatalf("%d and %d events", len(ea), len(eb))
		}
		for i := range ea {
			if !bytes.Equal(ea[i].Leaf, eb[i].Leaf) {
				t.Fatalf("event %d differs between the stores", i+1)
			}
		}
		_, rootA, errA := a.TreeHead(id)
		_, rootB, errB := b.TreeHead(id)
		if errA != nil || errB != nil || !bytes.Equal(rootA, rootB) {
			t.Errorf("Merkle roots %x and %x (%v, %v), want the same", rootA, rootB, errA, errB)
		}
		a.View(id, func(n *workflow.Negotiation) error {
			if !n.LastEventAt.Equal(at.Add(time.Second)) {
				t.Errorf("last event at %s, want the entry's time %s", n.LastEventAt, at.Add(time.Second))
			}
			return nil
		})
	})

	t.Run("ErrAlreadyApplied", func(t *testing.T) {
		db := MustOpenDB(t)
		if _, err := db.Apply(3, at, createExec(id)); err != nil {
			t.Fatal(err)
		}
		before := lastSequence(t, db, id)
		for _, index := range []uint64{2, 3} {
			_, err := db.Apply(index, at, store.Exec{NegotiationID: id, Actor: workflow.AdminActor,
				Command: workflow.RenameNegotiation{Title: "Replayed"}})
			if !errors.Is(err, store.ErrAlreadyApplied) {
				t.Errorf("entry %d again: %v, want ErrAlreadyApplied", index, err)
			}
		}
		if got := lastSequence(t, db, id); got != before {
			t.Errorf("replayed entries appended events: %d, want %d", got, before)
		}
	})

	t.Run("RefusalRecordsIndex", func(t *testing.T) {
		db := MustOpenDB(t)
		if _, err := db.Apply(1, at, createExec(id)); err != nil {
			t.Fatal(err)
		}
		_, err := db.Apply(2, at, store.Exec{NegotiationID: id, Actor: "observer-nobody", Command: workflow.RenameNegotiation{Title: "No"}})
		var refusal *workflow.Error
		if !errors.As(err, &refusal) {
			t.Fatalf("refused entry: %v, want the rules' refusal", err)
		}
		if got, _ := db.AppliedIndex(); got != 2 {
			t.Errorf("applied index after a refusal %d, want 2", got)
		}
	})
}

func TestSnapshotRestore(t *testing.T) {
	at := time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC)
	src, dst := MustOpenDB(t), MustOpenDB(t)
	id, other := uuid.NewString(), uuid.NewString()
	if _, err := src.Apply(5, at, createExec(id)); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Apply(1, at, createExec(other)); err != nil { // content the restore replaces
		t.Fatal(err)
	}
	dst.View(other, func(*workflow.Negotiation) error { return nil }) // cached before the restore
	restored := 0
	dst.OnRestore(func() { restored++ })

	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if snap.AppliedIndex() != 5 {
		t.Errorf("snapshot's applied index %d, want 5", snap.AppliedIndex())
	}
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	if err := dst.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if restored != 1 {
		t.Errorf("OnRestore ran %d times, want once", restored)
	}
	if got, _ := dst.AppliedIndex(); got != 5 {
		t.Errorf("applied index after restore %d, want 5", got)
	}
	if err := dst.View(other, func(*workflow.Negotiation) error { return nil }); workflow.ErrorReason(err) != "NEGOTIATION_NOT_FOUND" {
		t.Errorf("a negotiation the snapshot lacks: %v, want NEGOTIATION_NOT_FOUND", err)
	}
	want, _ := src.Events(id, 0, 100)
	got, err := dst.Events(id, 0, 100)
	if err != nil || len(got) != len(want) {
		t.Fatalf("restored log: %d events, %v; want %d", len(got), err, len(want))
	}
	if err := dst.Verify(id); err != nil {
		t.Errorf("restored negotiation does not verify: %v", err)
	}
	// The restored store goes on applying after the snapshot's index.
	if _, err := dst.Apply(6, at, store.Exec{NegotiationID: id, Actor: workflow.AdminActor, Command: workflow.RenameNegotiation{Title: "After"}}); err != nil {
		t.Fatal(err)
	}
}
