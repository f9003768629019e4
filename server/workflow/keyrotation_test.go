package workflow_test

import (
	"testing"

	"github.com/parley-negotiation/parley/server/workflow"
)

// TestRotateCheckpointKey checks that a key rotation is one event, taken
// even after conclusion, that changes nothing of the negotiation.
func TestRotateCheckpointKey(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		f.conclude()
		hash, state := f.n.DocumentHash(), f.n.State
		events := f.do(admin, workflow.RotateCheckpointKey{VerifierKey: "parley+1234abcd+new", PreviousVerifierKey: "parley+1234abcd+old"})
		if len(events) != 1 {
			t.Fatalf("%d events, want 1", len(events))
		}
		want := workflow.CheckpointKeyRotated{VerifierKey: "parley+1234abcd+new", PreviousVerifierKey: "parley+1234abcd+old"}
		if got, ok := events[0].Payload.(workflow.CheckpointKeyRotated); !ok || got != want || events[0].Actor != workflow.AdminActor {
			t.Errorf("event %+v, want %+v by the administrator", events[0], want)
		}
		if f.n.DocumentHash() != hash || f.n.State != state {
			t.Errorf("the rotation changed the negotiation: %s %s", f.n.State, f.n.DocumentHash())
		}
	})
}
