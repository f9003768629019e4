package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// Asking for negotiations that do not exist, by reading or by writing, leaves
// nothing behind in memory: a client that tries random ids cannot grow the
// server.
func TestCache_UnknownNegotiations(t *testing.T) {
	db := MustOpenDB(t)
	for range 50 {
		id := uuid.NewString()
		if err := db.View(id, func(*workflow.Negotiation) error { return nil }); workflow.ErrorReason(err) != "NEGOTIATION_NOT_FOUND" {
			t.Fatalf("View: %v", err)
		}
		if _, _, err := db.TreeHead(id); workflow.ErrorReason(err) != "NEGOTIATION_NOT_FOUND" {
			t.Fatalf("TreeHead: %v", err)
		}
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: "ukraine",
			Command: workflow.RevokeSignOff{PointID: uuid.NewString()}})
		if workflow.ErrorReason(err) != "NEGOTIATION_NOT_FOUND" {
			t.Fatalf("Execute: %v", err)
		}
	}
	failCommits(db, 1)
	id := uuid.NewString()
	_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Principal: "admin", Actor: workflow.AdminActor,
		Command: workflow.CreateNegotiation{NegotiationID: id, Title: "Lost", Participants: planParticipants(),
			Rule: workflow.DecisionRule{Method: workflow.MethodConsensus}, Points: []workflow.NewPoint{{ID: "p1", Text: "One."}}}})
	if err == nil {
		t.Fatal("a creation whose commit failed succeeded")
	}
	if got := db.CachedNegotiations(); got != 0 {
		t.Fatalf("%d negotiations cached after looking up only ones that do not exist", got)
	}
	mustCreatePlan(t, db)
	if got := db.CachedNegotiations(); got != 1 {
		t.Fatalf("%d negotiations cached after creating one", got)
	}
}

// OnCommit hears of every commit that appended events, once per negotiation,
// with exactly those events in order; a command that appends nothing (refused,
// or restating what is true) is not announced.
func TestOnCommit(t *testing.T) {
	db := MustOpenDB(t)
	type call struct {
		id   string
		seqs []int64
	}
	var (
		mu    sync.Mutex
		calls []call
	)
	db.OnCommit(func(id string, events []store.StoredEvent) {
		c := call{id: id}
		for _, e := range events {
			c.seqs = append(c.seqs, e.Sequence)
		}
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, c)
	})
	took := func() []call {
		mu.Lock()
		defer mu.Unlock()
		out := calls
		calls = nil
		return out
	}
	id, points := mustCreatePlan(t, db)
	if got := took(); len(got) != 1 || got[0].id != id || len(got[0].seqs) != 29 || got[0].seqs[0] != 1 || got[0].seqs[28] != 29 {
		t.Fatalf("creation announced as %v, want events 1 to 29 of %s", got, id)
	}
	signOff := store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.SignOffPoint{PointID: points[0], Revision: 1,
		TextHash: workflow.HashText("The sovereignty of Ukraine will be confirmed.")}}
	mustExec(t, db, signOff)
	if got := took(); len(got) != 1 || len(got[0].seqs) != 1 || got[0].seqs[0] != 30 {
		t.Fatalf("sign-off announced as %v, want event 30", got)
	}
	if res := mustExec(t, db, signOff); len(res.Events) != 0 {
		t.Fatalf("the same sign-off again appended %d events", len(res.Events))
	}
	if _, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: "ukraine",
		Command: workflow.RevokeSignOff{PointID: points[1]}}); workflow.ErrorReason(err) != "NOT_SIGNED_OFF" {
		t.Fatalf("revoking a sign-off never made: %v", err)
	}
	if got := took(); len(got) != 0 {
		t.Fatalf("commands that appended nothing were announced: %v", got)
	}
}
