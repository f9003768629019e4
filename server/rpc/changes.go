package rpc

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// changeNegotiation runs a command that changes a negotiation itself and
// replies with the negotiation after it.
func changeNegotiation[T proto.Message](ctx context.Context, s *Server, req mutation, name string, cmd workflow.Command, reply func(*parleyv1.Negotiation) T) (T, error) {
	nid, err := wire.ParseNegotiationName("negotiation", name)
	if err != nil {
		var zero T
		return zero, err
	}
	return executeAs[T](ctx, s, req, nid, cmd, func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return reply(wire.NegotiationToProto(n))
	})
}

func (s *Server) AddParticipant(ctx context.Context, req *parleyv1.AddParticipantRequest) (*parleyv1.AddParticipantResponse, error) {
	if req.GetParticipant() == nil {
		return nil, workflow.Errorf(workflow.EINVALID, "PARTICIPANT_REQUIRED", "participant is required")
	}
	cmd := workflow.AddParticipant{Participant: wire.Participants([]*parleyv1.Participant{req.GetParticipant()})[0]}
	return changeNegotiation(ctx, s, req, req.GetNegotiation(), cmd, func(n *parleyv1.Negotiation) *parleyv1.AddParticipantResponse {
		return &parleyv1.AddParticipantResponse{Negotiation: n}
	})
}

func (s *Server) RemoveParticipant(ctx context.Context, req *parleyv1.RemoveParticipantRequest) (*parleyv1.RemoveParticipantResponse, error) {
	cmd := workflow.RemoveParticipant{Participant: req.GetParticipant()}
	return changeNegotiation(ctx, s, req, req.GetNegotiation(), cmd, func(n *parleyv1.Negotiation) *parleyv1.RemoveParticipantResponse {
		return &parleyv1.RemoveParticipantResponse{Negotiation: n}
	})
}

func (s *Server) RenameNegotiation(ctx context.Context, req *parleyv1.RenameNegotiationRequest) (*parleyv1.RenameNegotiationResponse, error) {
	cmd := workflow.RenameNegotiation{Title: req.GetTitle()}
	return changeNegotiation(ctx, s, req, req.GetNegotiation(), cmd, func(n *parleyv1.Negotiation) *parleyv1.RenameNegotiationResponse {
		return &parleyv1.RenameNegotiationResponse{Negotiation: n}
	})
}

func (s *Server) SetDecisionRule(ctx context.Context, req *parleyv1.SetDecisionRuleRequest) (*parleyv1.SetDecisionRuleResponse, error) {
	cmd := workflow.ChangeDecisionRule{Rule: wire.Rule(req.GetDecisionRule()), Weights: req.GetWeights()}
	return changeNegotiation(ctx, s, req, req.GetNegotiation(), cmd, func(n *parleyv1.Negotiation) *parleyv1.SetDecisionRuleResponse {
		return &parleyv1.SetDecisionRuleResponse{Negotiation: n}
	})
}

func (s *Server) SuspendNegotiation(ctx context.Context, req *parleyv1.SuspendNegotiationRequest) (*parleyv1.SuspendNegotiationResponse, error) {
	cmd := workflow.SuspendNegotiation{Reason: req.GetReason()}
	return changeNegotiation(ctx, s, req, req.GetNegotiation(), cmd, func(n *parleyv1.Negotiation) *parleyv1.SuspendNegotiationResponse {
		return &parleyv1.SuspendNegotiationResponse{Negotiation: n}
	})
}

func (s *Server) ResumeNegotiation(ctx context.Context, req *parleyv1.ResumeNegotiationRequest) (*parleyv1.ResumeNegotiationResponse, error) {
	return changeNegotiation(ctx, s, req, req.GetNegotiation(), workflow.ResumeNegotiation{}, func(n *parleyv1.Negotiation) *parleyv1.ResumeNegotiationResponse {
		return &parleyv1.ResumeNegotiationResponse{Negotiation: n}
	})
}

func (s *Server) AbandonNegotiation(ctx context.Context, req *parleyv1.AbandonNegotiationRequest) (*parleyv1.AbandonNegotiationResponse, error) {
	cmd := workflow.AbandonNegotiation{Reason: req.GetReason()}
	return changeNegotiation(ctx, s, req, req.GetNegotiation(), cmd, func(n *parleyv1.Negotiation) *parleyv1.AbandonNegotiationResponse {
		return &parleyv1.AbandonNegotiationResponse{Negotiation: n}
	})
}

func (s *Server) SetVotingDeadline(ctx context.Context, req *parleyv1.SetVotingDeadlineRequest) (*parleyv1.SetVotingDeadlineResponse, error) {
	nid, aid, err := amendmentCall(req.GetAmendment())
	if err != nil {
		return nil, err
	}
	deadline, err := deadlineOf("voting_deadline", req.GetVotingDeadline(), true)
	if err != nil {
		return nil, err
	}
	cmd := workflow.SetVotingDeadline{AmendmentID: aid, Deadline: deadline}
	return executeOnAmendment[*parleyv1.SetVotingDeadlineResponse](ctx, s, req, nid, cmd, aid, func(a *parleyv1.Amendment, _ *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.SetVotingDeadlineResponse{Amendment: a}
	})
}

// deadlineOf checks a deadline given in a request; unset gives the zero time,
// which is refused if required.
func deadlineOf(field string, ts *timestamppb.Timestamp, required bool) (time.Time, error) {
	if ts == nil {
		if required {
			return time.Time{}, workflow.Errorf(workflow.EINVALID, "DEADLINE_REQUIRED", "%s is required", field)
		}
		return time.Time{}, nil
	}
	if !ts.IsValid() {
		return time.Time{}, workflow.Errorf(workflow.EINVALID, "DEADLINE_INVALID", "%s is not a valid timestamp", field)
	}
	return ts.AsTime().UTC(), nil
}

// durationOf checks a duration given in a request; unset gives 0.
func durationOf(field string, d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if !d.IsValid() {
		return 0, workflow.Errorf(workflow.EINVALID, "VOTING_DURATION_INVALID", "%s is not a valid duration", field)
	}
	return d.AsDuration(), nil
}

// withTimeLeft fills in the time left to vote on an OPEN amendment with a
// deadline, as of now.
func withTimeLeft(a *parleyv1.Amendment, now time.Time) *parleyv1.Amendment {
	if a.GetState() == parleyv1.AmendmentState_AMENDMENT_STATE_OPEN && a.GetVotingDeadline() != nil {
		a.VotingTimeLeft = durationpb.New(max(a.GetVotingDeadline().AsTime().Sub(now), 0))
	}
	return a
}
