package rpc

import (
	"context"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/credential"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// credentialRequest is what the three AdminService requests share.
type credentialRequest interface {
	mutation
	GetNegotiation() string
	GetParticipant() string
}

// issue gives a participant a new token, replacing its current one if rotate.
func issue[T proto.Message](ctx context.Context, s *Server, req credentialRequest, rotate bool, reply func(token, hash string) T) (T, error) {
	var zero T
	if err := callerFrom(ctx).requireAdmin(); err != nil {
		return zero, err
	}
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return zero, err
	}
	token, hash := credential.NewToken()
	cmd := workflow.IssueCredential{Participant: req.GetParticipant(), TokenHash: hash, Rotate: rotate}
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
	if err := callerFrom(ctx).requireAdmin(); err != nil {
		return nil, err
	}
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	return executeAs[*parleyv1.RevokeTokenResponse](ctx, s, req, nid, workflow.RevokeCredential{Participant: req.GetParticipant()},
		func(*workflow.Negotiation, []workflow.Event) proto.Message { return &parleyv1.RevokeTokenResponse{} })
}
