package store_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

func TestOnDeadline(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// An unregistered hook runs no more; the others still do.
		db := MustOpenDB(t)
		var kept, dropped atomic.Int32
		db.OnDeadline(func(time.Time) { kept.Add(1) })
		unregister := db.OnDeadline(func(time.Time) { dropped.Add(1) })
		id := uuid.NewString()
		mustExec(t, db, createExec(id))
		propose := func(aid string) {
			mustExec(t, db, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{AmendmentID: aid,
				Kind: workflow.KindReplace, PointID: "p1", BaseRevision: 1, Text: "Uno.", Deadline: time.Now().Add(time.Hour)}})
		}
		propose(uuid.NewString())
		if kept.Load() != 1 || dropped.Load() != 1 {
			t.Fatalf("hooks ran %d and %d times after a deadline, want once each", kept.Load(), dropped.Load())
		}
		unregister()
		unregister() // a second time changes nothing
		propose(uuid.NewString())
		if kept.Load() != 2 || dropped.Load() != 1 {
			t.Errorf("hooks ran %d and %d times, want 2 and 1: the unregistered one ran", kept.Load(), dropped.Load())
		}
	})

	t.Run("NoLeak", func(t *testing.T) {
		// A cluster node registers a hook each time it becomes the leader
		// and unregisters it when it no longer leads: the count stays flat.
		db := MustOpenDB(t)
		for range 1000 {
			db.OnDeadline(func(time.Time) {})()
		}
		if n := db.DeadlineHooks(); n != 0 {
			t.Errorf("%d hooks registered after 1000 registered and unregistered, want 0", n)
		}
	})
}
