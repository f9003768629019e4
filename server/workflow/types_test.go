package workflow_test

import (
	"fmt"
	"testing"

	"github.com/parley-negotiation/parley/server/workflow"
)

// The zero value of every enum is UNSPECIFIED, never a real state, role or
// choice: a record that lost its field must not read as OPEN, PASSED or
// APPROVE. Every named value prints as its name.
func TestEnums(t *testing.T) {
	tests := []struct {
		zero   fmt.Stringer
		values []fmt.Stringer
		names  []string
	}{
		{workflow.NegotiationState(0),
			[]fmt.Stringer{workflow.NegotiationStateOpen, workflow.NegotiationStateConcluded},
			[]string{"OPEN", "CONCLUDED"}},
		{workflow.Role(0),
			[]fmt.Stringer{workflow.RoleDelegation, workflow.RoleMediator, workflow.RoleObserver},
			[]string{"DELEGATION", "MEDIATOR", "OBSERVER"}},
		{workflow.DecisionMethod(0),
			[]fmt.Stringer{workflow.MethodConsensus, workflow.MethodUnanimity, workflow.MethodMajority, workflow.MethodQualified},
			[]string{"CONSENSUS", "UNANIMITY", "MAJORITY", "QUALIFIED"}},
		{workflow.AmendmentKind(0),
			[]fmt.Stringer{workflow.KindReplace, workflow.KindInsert, workflow.KindDelete},
			[]string{"REPLACE", "INSERT", "DELETE"}},
		{workflow.AmendmentState(0),
			[]fmt.Stringer{workflow.AmendmentStateOpen, workflow.AmendmentStatePassed, workflow.AmendmentStateFailed,
				workflow.AmendmentStateApplied, workflow.AmendmentStateRejected, workflow.AmendmentStateWithdrawn, workflow.AmendmentStateStale},
			[]string{"OPEN", "PASSED", "FAILED", "APPLIED", "REJECTED", "WITHDRAWN", "STALE"}},
		{workflow.VoteChoice(0),
			[]fmt.Stringer{workflow.ChoiceApprove, workflow.ChoiceReject, workflow.ChoiceAbstain},
			[]string{"APPROVE", "REJECT", "ABSTAIN"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T", tt.zero), func(t *testing.T) {
			if got := tt.zero.String(); got != "UNSPECIFIED" {
				t.Errorf("zero value prints as %s, want UNSPECIFIED", got)
			}
			for i, v := range tt.values {
				if got := v.String(); got != tt.names[i] {
					t.Errorf("value %d prints as %s, want %s", i+1, got, tt.names[i])
				}
			}
		})
	}
	if workflow.AmendmentState(0).Pending() {
		t.Errorf("an amendment without a state counts as pending")
	}
}
