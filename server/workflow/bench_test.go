package workflow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/workflow"
)

// benchNegotiation folds a negotiation of 16 delegations, a mediator (a
// negotiation needs one), 28 points and 256 open amendments, as
// parley-bench's load sets up.
func benchNegotiation(b *testing.B) (*workflow.Negotiation, []string) {
	b.Helper()
	create := workflow.CreateNegotiation{NegotiationID: "bench", Title: "bench", Rule: workflow.DecisionRule{Method: workflow.MethodConsensus}}
	for i := range 16 {
		create.Participants = append(create.Participants, workflow.Participant{ID: fmt.Sprintf("d%03d", i), Role: workflow.RoleDelegation})
	}
	create.Participants = append(create.Participants, workflow.Participant{ID: "mediator", Role: workflow.RoleMediator})
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

// BenchmarkPropose measures the rules' share of a proposal: a single change,
// and package deals of 2 and 28 parts (every point of the plan), each
// decided and folded on a negotiation with 256 open amendments.
//
//	go test ./server/workflow -run '^$' -bench Propose
func BenchmarkPropose(b *testing.B) {
	for _, size := range []int{1, 2, 28} {
		b.Run(fmt.Sprintf("parts=%d", size), func(b *testing.B) {
			n, _ := benchNegotiation(b)
			at := time.Unix(1_800_000_001, 0).UTC()
			i := 0
			for b.Loop() {
				cmd := workflow.ProposeAmendment{AmendmentID: fmt.Sprintf("new-%d", i), Kind: workflow.KindReplace, PointID: "p00", BaseRevision: 1, Text: "Another text."}
				if size > 1 {
					cmd = workflow.ProposeAmendment{AmendmentID: cmd.AmendmentID}
					for p := range size {
						cmd.Parts = append(cmd.Parts, workflow.Part{Kind: workflow.KindReplace, PointID: fmt.Sprintf("p%02d", p), BaseRevision: 1, Text: "Another text."})
					}
				}
				events, err := workflow.Decide(n, workflow.Meta{Actor: "d001", At: at}, cmd)
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
		})
	}
}
