package workflow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/workflow"
)

// benchNegotiation folds a negotiation of 16 delegations, 28 points and 256
// open amendments, as parley-bench's load sets up.
func benchNegotiation(b *testing.B) (*workflow.Negotiation, []string) {
	b.Helper()
	create := workflow.CreateNegotiation{NegotiationID: "bench", Title: "bench", Rule: workflow.DecisionRule{Method: workflow.MethodConsensus}}
	for i := range 16 {
		create.Participants = append(create.Participants, workflow.Participant{ID: fmt.Sprintf("d%03d", i), Role: workflow.RoleDelegation})
	}
	for i := range 28 {
		create.Points = append(create.Points, workflow.NewPoint{ID: fmt.Sprintf("p%02d", i), Text: fmt.Sprintf("Point %d.", i+1)})
	}
	at := time.Unix(1_800_000_000, 0).UTC()
	events, err := workflow.Decide(nil, workflow.Meta{Actor: workflow.AdminActor, At: at}, create)
	if err != nil {
		b.Fatal(err)
	}
	n, err := workflow.Fold(events)
	if err != nil {
		b.Fatal(err)
	}
	var amendments []string
	for i := range 256 {
		id := fmt.Sprintf("a%03d", i)
		evs, err := workflow.Decide(n, workflow.Meta{Actor: "d000", At: at}, workflow.ProposeAmendment{
			AmendmentID: id, Kind: workflow.KindReplace, PointID: fmt.Sprintf("p%02d", i%28), BaseRevision: 1, Text: "New text."})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range evs {
			if err := n.Apply(e); err != nil {
				b.Fatal(err)
			}
		}
		amendments = append(amendments, id)
	}
	return n, amendments
}

// BenchmarkCastVote measures the rules' share of a vote: deciding it and
// folding its event.
//
//	go test ./server/workflow -run '^$' -bench CastVote
func BenchmarkCastVote(b *testing.B) {
	n, amendments := benchNegotiation(b)
	at := time.Unix(1_800_000_001, 0).UTC()
	choices := []workflow.VoteChoice{workflow.ChoiceApprove, workflow.ChoiceAbstain}
	i := 0
	for b.Loop() {
		cmd := workflow.CastVote{AmendmentID: amendments[i%len(amendments)], Choice: choices[(i/len(amendments))%2]}
		events, err := workflow.Decide(n, workflow.Meta{Actor: fmt.Sprintf("d%03d", 1+i%15), At: at}, cmd)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range events {
			if err := n.Apply(e); err != nil {
				b.Fatal(err)
			}
		}
		i++
	}
}
