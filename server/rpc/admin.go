package rpc

import (
	"context"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// credentialRequest is what the three token requests share.
type credentialRequest interface {
	mutation
	GetNegotiation() string
	GetParticipant() string
	GetMember() string
}

// memberManager checks that the caller may manage members of a negotiation:
// the administrator, or a participant of it (whether it is a head of the
// right participant is the rules' to say).
func memberManager(ctx context.Context, negotiation string) (string, error) {
	nid, err := wire.ParseNegotiationName("negotiation", negotiation)
	if err != nil {
		return "", err
	}
	c := callerFrom(ctx)
	if !c.Admin && c.NegotiationID != nid {
		return "", workflow.Errorf(workflow.EPERMISSION, "ADMIN_ONLY", "only the administrator or a head of the participant can do this")
	}
	return nid, nil
}

// issue gives a participant a new token, replacing its current one if rotate.
func issue[T proto.Message](ctx context.Context, s *Server, req credentialRequest, rotate bool, reply func(token, hash string) T) (T, error) {
	var zero T
	nid, err := memberManager(ctx, req.GetNegotiation())
	if err != nil {
		return zero, err
	}
	token, hash := newToken(ctx)
	cmd := workflow.IssueCredential{Participant: req.GetParticipant(), Member: req.GetMember(), TokenHash: hash, Rotate: rotate}
	return runAs[T](ctx, s, req, nid, cmd, func(*workflow.Negotiation, []workflow.Event) proto.Message {
		return reply(token, hash)
	}, true)
}

func (s *Server) IssueToken(ctx context.Context, req *parleyv1.IssueTokenRequest) (*parleyv1.IssueTokenResponse, error) {
	return issue(ctx, s, req, false, func(token, hash string) *parleyv1.IssueTokenResponse {
		return &parleyv1.IssueTokenResponse{Token: token, TokenSha256: hash}
	})
}

func (s *Server) RotateToken(ctx context.Context, req *parleyv1.RotateTokenRequest) (*parleyv1.RotateTokenResponse, error) {
	return issue(ctx, s, req, true, func(token, hash string) *parleyv1.RotateTokenResponse {
		return &parleyv1.RotateTokenResponse{Token: token, TokenSha256: hash}
	})
}

func (s *Server) RevokeToken(ctx context.Context, req *parleyv1.RevokeTokenRequest) (*parleyv1.RevokeTokenResponse, error) {
	nid, err := memberManager(ctx, req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	return executeAs[*parleyv1.RevokeTokenResponse](ctx, s, req, nid, workflow.RevokeCredential{Participant: req.GetParticipant(), Member: req.GetMember()},
		func(*workflow.Negotiation, []workflow.Event) proto.Message { return &parleyv1.RevokeTokenResponse{} })
}

// participantReply returns the participant as it is after a command.
func participantReply(id string) replyFunc {
	return func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
		p, _ := n.Participant(id)
		return wire.ParticipantToProto(n, p)
	}
}

func (s *Server) AddMember(ctx context.Context, req *parleyv1.AddMemberRequest) (*parleyv1.AddMemberResponse, error) {
	nid, err := memberManager(ctx, req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	cmd := workflow.AddMember{Participant: req.GetParticipant(), Member: req.GetMember(), DisplayName: req.GetDisplayName(), Head: req.GetHead()}
	participant := participantReply(req.GetParticipant())
	return executeAs[*parleyv1.AddMemberResponse](ctx, s, req, nid, cmd, func(n *workflow.Negotiation, events []workflow.Event) proto.Message {
		return &parleyv1.AddMemberResponse{Participant: participant(n, events).(*parleyv1.Participant)}
	})
}

func (s *Server) RemoveMember(ctx context.Context, req *parleyv1.RemoveMemberRequest) (*parleyv1.RemoveMemberResponse, error) {
	nid, err := memberManager(ctx, req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	cmd := workflow.RemoveMember{Participant: req.GetParticipant(), Member: req.GetMember()}
	participant := participantReply(req.GetParticipant())
	return executeAs[*parleyv1.RemoveMemberResponse](ctx, s, req, nid, cmd, func(n *workflow.Negotiation, events []workflow.Event) proto.Message {
		return &parleyv1.RemoveMemberResponse{Participant: participant(n, events).(*parleyv1.Participant)}
	})
}
