package deadline_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parley-negotiation/parley/server/deadline"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// TestMain fails the package's tests if the scheduler's goroutine outlives
// Stop.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const negotiationID = "0b6b4d5e-3a0c-4a44-9f35-1d6a1b6f7a10"

func open(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func exec(t *testing.T, db *store.DB, actor string, cmd workflow.Command) error {
	t.Helper()
	_, err := db.Execute(context.Background(), store.Exec{NegotiationID: negotiationID, Actor: actor, Command: cmd})
	return err
}

// newNegotiation creates a negotiation with two delegations and proposes an
// amendment whose vote closes at deadline; ukraine approves it.
func newNegotiation(t *testing.T, db *store.DB, deadline time.Time) {
	t.Helper()
	create := workflow.CreateNegotiation{NegotiationID: negotiationID, Title: "Plan",
		Participants: []workflow.Participant{{ID: "ukraine", Role: workflow.RoleDelegation}, {ID: "russia", Role: workflow.RoleDelegation}, {ID: "mediator", Role: workflow.RoleMediator}},
		Rule:         workflow.DecisionRule{Method: workflow.MethodConsensus},
		Points:       []workflow.NewPoint{{ID: "2a9d0b36-58b3-4c8e-8a1a-8f5f3b1c2d01", Text: "One."}}}
	if err := exec(t, db, workflow.AdminActor, create); err != nil {
		t.Fatal(err)
	}
	propose := workflow.ProposeAmendment{AmendmentID: "6f1c1f3e-9d8f-4f0e-a3b8-7e5c2d4b1a02", Kind: workflow.KindInsert, Text: "Two.", Deadline: deadline}
	if err := exec(t, db, "ukraine", propose); err != nil {
		t.Fatal(err)
	}
	if err := exec(t, db, "ukraine", workflow.CastVote{AmendmentID: propose.AmendmentID, Choice: workflow.ChoiceApprove}); err != nil {
		t.Fatal(err)
	}
}

// closings returns the VotingClosed events of the log.
func closings(t *testing.T, db *store.DB) []workflow.VotingClosed {
	t.Helper()
	stored, err := db.Events(negotiationID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []workflow.VotingClosed
	for _, s := range stored {
		e, _, err := wire.UnmarshalEvent(s.Leaf)
		if err != nil {
			t.Fatal(err)
		}
		if vc, ok := e.Payload.(workflow.VotingClosed); ok {
			out = append(out, vc)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for stop := time.Now().Add(10 * time.Second); time.Now().Before(stop); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestScheduler(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		db := open(t, filepath.Join(t.TempDir(), "parley.db"))
		defer db.Close()
		s := deadline.Start(db, nil)
		defer s.Stop()
		due := time.Now().Add(300 * time.Millisecond)
		newNegotiation(t, db, due)
		waitFor(t, "the vote to close", func() bool { return s.Closed() == 1 })
		got := closings(t, db)
		if len(got) != 1 || !got[0].Tally.ClosedByDeadline || got[0].Tally.Approve != 1 || got[0].Tally.NotVoted != 1 {
			t.Fatalf("closings = %+v", got)
		}
		if time.Now().Before(due) {
			t.Fatal("closed before the deadline")
		}
		if left, _ := db.Deadlines(time.Time{}, 10); len(left) != 0 {
			t.Fatalf("deadlines left in the index: %v", left)
		}
		if err := db.Verify(negotiationID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("AfterRestart", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		db := open(t, path)
		s := deadline.Start(db, nil)
		newNegotiation(t, db, time.Now().Add(200*time.Millisecond))
		s.Stop() // the server stops before the deadline
		db.Close()
		time.Sleep(400 * time.Millisecond)
		if closed := func() int { db := open(t, path); defer db.Close(); return len(closings(t, db)) }(); closed != 0 {
			t.Fatalf("%d closings while stopped", closed)
		}
		for restart := range 3 {
			db = open(t, path)
			s = deadline.Start(db, nil)
			if restart == 0 {
				waitFor(t, "the overdue vote to close at start", func() bool { return s.Closed() == 1 })
			} else {
				time.Sleep(100 * time.Millisecond)
			}
			s.Stop()
			if got := closings(t, db); len(got) != 1 {
				t.Fatalf("restart %d: %d closings, want exactly 1", restart, len(got))
			}
			db.Close()
		}
	})
	t.Run("RaceWithMediator", func(t *testing.T) {
		db := open(t, filepath.Join(t.TempDir(), "parley.db"))
		defer db.Close()
		due := time.Now().Add(200 * time.Millisecond)
		newNegotiation(t, db, due)
		s := deadline.Start(db, nil)
		defer s.Stop()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(due))
			exec(t, db, "mediator", workflow.CloseVoting{AmendmentID: "6f1c1f3e-9d8f-4f0e-a3b8-7e5c2d4b1a02"})
		}()
		wg.Wait()
		time.Sleep(200 * time.Millisecond)
		if got := closings(t, db); len(got) != 1 {
			t.Fatalf("%d closings, want exactly 1", len(got))
		}
	})
	t.Run("WaitsForResume", func(t *testing.T) {
		db := open(t, filepath.Join(t.TempDir(), "parley.db"))
		defer db.Close()
		s := deadline.Start(db, nil)
		defer s.Stop()
		newNegotiation(t, db, time.Now().Add(200*time.Millisecond))
		if err := exec(t, db, workflow.AdminActor, workflow.SuspendNegotiation{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		if got := closings(t, db); len(got) != 0 {
			t.Fatalf("closed during the pause: %+v", got)
		}
		if err := exec(t, db, workflow.AdminActor, workflow.ResumeNegotiation{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the vote to close after the resume", func() bool { return s.Closed() == 1 })
	})
	t.Run("ChangesStoredAsFolded", func(t *testing.T) {
		db := open(t, filepath.Join(t.TempDir(), "parley.db"))
		defer db.Close()
		newNegotiation(t, db, time.Now().Add(time.Hour))
		for _, step := range []struct {
			actor string
			cmd   workflow.Command
		}{
			{workflow.AdminActor, workflow.AddParticipant{Participant: workflow.Participant{ID: "europe", Role: workflow.RoleDelegation}}},
			{workflow.AdminActor, workflow.IssueCredential{Participant: "russia", TokenHash: workflow.HashText("t")}},
			{workflow.AdminActor, workflow.AddMember{Participant: "russia", Member: "aide", DisplayName: "Aide"}},
			{workflow.AdminActor, workflow.IssueCredential{Participant: "russia", Member: "aide", TokenHash: workflow.HashText("aide")}},
			{workflow.AdminActor, workflow.ChangeDecisionRule{Rule: workflow.DecisionRule{Method: workflow.MethodMajority}, Weights: map[string]int32{"europe": 3}}},
			{"russia", workflow.CastVote{AmendmentID: "6f1c1f3e-9d8f-4f0e-a3b8-7e5c2d4b1a02", Choice: workflow.ChoiceApprove}},
			{workflow.AdminActor, workflow.RenameNegotiation{Title: "Plan, second draft"}},
			{"mediator", workflow.SetVotingDeadline{AmendmentID: "6f1c1f3e-9d8f-4f0e-a3b8-7e5c2d4b1a02", Deadline: time.Now().Add(2 * time.Hour)}},
			{workflow.AdminActor, workflow.RemoveParticipant{Participant: "russia"}},
			{workflow.AdminActor, workflow.SuspendNegotiation{Reason: "Consultations."}},
			{workflow.AdminActor, workflow.ResumeNegotiation{}},
			{workflow.AdminActor, workflow.AbandonNegotiation{Reason: "No agreement."}},
		} {
			if err := exec(t, db, step.actor, step.cmd); err != nil {
				t.Fatalf("%T: %v", step.cmd, err)
			}
			if err := db.Verify(negotiationID); err != nil {
				t.Fatalf("after %T: %v", step.cmd, err)
			}
		}
		for _, token := range []string{"t", "aide"} {
			if owner, ok, _ := db.TokenOwner(workflow.HashText(token)); ok {
				t.Fatalf("a token of the removed participant's members still belongs to %v", owner)
			}
		}
		if left, _ := db.Deadlines(time.Time{}, 10); len(left) != 0 {
			t.Fatalf("an abandoned negotiation keeps deadlines in the index: %v", left)
		}
	})
}
