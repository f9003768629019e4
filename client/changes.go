package client

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// AddParticipant adds a participant to a negotiation (the administrator, or
// a mediator where the negotiation allows it; so for every call of this file
// but SetVotingDeadline).
func (c *Client) AddParticipant(ctx context.Context, negotiation string, p *parleyv1.Participant) (*parleyv1.Negotiation, error) {
	req := &parleyv1.AddParticipantRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Participant: p}
	resp, err := invoke(ctx, c, req, c.svc.AddParticipant)
	return resp.GetNegotiation(), err
}

// RemoveParticipant removes a participant; its token stops working.
func (c *Client) RemoveParticipant(ctx context.Context, negotiation, participant string) (*parleyv1.Negotiation, error) {
	req := &parleyv1.RemoveParticipantRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Participant: participant}
	resp, err := invoke(ctx, c, req, c.svc.RemoveParticipant)
	return resp.GetNegotiation(), err
}

// RenameNegotiation changes a negotiation's title.
func (c *Client) RenameNegotiation(ctx context.Context, negotiation, title string) (*parleyv1.Negotiation, error) {
	req := &parleyv1.RenameNegotiationRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Title: title}
	resp, err := invoke(ctx, c, req, c.svc.RenameNegotiation)
	return resp.GetNegotiation(), err
}

// SetDecisionRule changes the decision rule, and optionally some weights, for
// amendments proposed from now on.
func (c *Client) SetDecisionRule(ctx context.Context, negotiation string, rule *parleyv1.DecisionRule, weights map[string]int32) (*parleyv1.Negotiation, error) {
	req := &parleyv1.SetDecisionRuleRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, DecisionRule: rule, Weights: weights}
	resp, err := invoke(ctx, c, req, c.svc.SetDecisionRule)
	return resp.GetNegotiation(), err
}

// SuspendNegotiation pauses a negotiation.
func (c *Client) SuspendNegotiation(ctx context.Context, negotiation, reason string) (*parleyv1.Negotiation, error) {
	req := &parleyv1.SuspendNegotiationRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Reason: reason}
	resp, err := invoke(ctx, c, req, c.svc.SuspendNegotiation)
	return resp.GetNegotiation(), err
}

// ResumeNegotiation ends a pause.
func (c *Client) ResumeNegotiation(ctx context.Context, negotiation string) (*parleyv1.Negotiation, error) {
	req := &parleyv1.ResumeNegotiationRequest{RequestId: c.requestID(ctx), Negotiation: negotiation}
	resp, err := invoke(ctx, c, req, c.svc.ResumeNegotiation)
	return resp.GetNegotiation(), err
}

// AbandonNegotiation ends a negotiation without agreement.
func (c *Client) AbandonNegotiation(ctx context.Context, negotiation, reason string) (*parleyv1.Negotiation, error) {
	req := &parleyv1.AbandonNegotiationRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Reason: reason}
	resp, err := invoke(ctx, c, req, c.svc.AbandonNegotiation)
	return resp.GetNegotiation(), err
}

// SetVotingDeadline sets or moves the voting deadline of an OPEN amendment
// (mediators only).
func (c *Client) SetVotingDeadline(ctx context.Context, amendment string, deadline time.Time) (*parleyv1.Amendment, error) {
	req := &parleyv1.SetVotingDeadlineRequest{RequestId: c.requestID(ctx), Amendment: amendment, VotingDeadline: timestamppb.New(deadline)}
	resp, err := invoke(ctx, c, req, c.svc.SetVotingDeadline)
	return resp.GetAmendment(), err
}
