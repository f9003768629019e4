// Package demo holds the reference negotiation: the public 28-point draft
// peace plan of November 2025 and its parties.
package demo

import (
	_ "embed"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// PlanText is the 28-point plan as plain numbered text.
//
//go:embed 28-point-plan.txt
var PlanText string

// Title is the demo negotiation's title.
const Title = "28-point peace plan (draft of November 2025)"

// RequestID creates the demo negotiation idempotently: starting the demo again
// on the same data folder finds the negotiation instead of making a copy.
const RequestID = "parley-demo-28-point-plan-v1"

// Delegations are the ids of the four delegations.
var Delegations = []string{"ukraine", "russia", "united-states", "europe"}

// Mediator is the id of the mediator.
const Mediator = "mediator"

// Participants returns the four delegations and the mediator.
func Participants() []*parleyv1.Participant {
	names := map[string]string{"ukraine": "Ukraine", "russia": "Russia", "united-states": "United States", "europe": "Europe"}
	var out []*parleyv1.Participant
	for _, id := range Delegations {
		out = append(out, &parleyv1.Participant{Id: id, DisplayName: names[id], Role: parleyv1.Role_ROLE_DELEGATION})
	}
	return append(out, &parleyv1.Participant{Id: Mediator, DisplayName: "Mediator", Role: parleyv1.Role_ROLE_MEDIATOR})
}

// CreateRequest returns the request that creates the demo negotiation.
func CreateRequest() *parleyv1.CreateNegotiationRequest {
	return &parleyv1.CreateNegotiationRequest{
		RequestId:    RequestID,
		Title:        Title,
		Participants: Participants(),
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS},
		NumberedText: PlanText,
	}
}
