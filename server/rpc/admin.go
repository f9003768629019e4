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
func (s *Server) issue(ctx context.Context, req credentialRequest, rotate bool, out proto.Message, reply func(token, hash string) proto.Message) error {
	if err := callerFrom(ctx).requireAdmin(); err != nil {
		return err
	}
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return err
	}
	token, hash := credential.NewToken()
	cmd := workflow.IssueCredential{Participant: req.GetParticipant(), TokenHash: hash, Rotate: rotate}
	return s.run(ctx, req, nid, cmd, out, func(*workflow.Negotiation, []workflow.Event) proto.Message {
		return reply(token, hash)
	}, true)
}

func (s *Server) IssueToken(ctx context.Context, req *parleyv1.IssueTokenRequest) (*parleyv1.IssueTokenResponse, error) {
	out := &parleyv1.IssueTokenResponse{}
	return out, s.issue(ctx, req, false, out, func(token, hash string) proto.Message {
		return &parleyv1.IssueTokenResponse{Token: token, TokenSha256: hash}
	})
}

func (s *Server) RotateToken(ctx context.Context, req *parleyv1.RotateTokenRequest) (*parleyv1.RotateTokenResponse, error) {
	out := &parleyv1.RotateTokenResponse{}
	return out, s.issue(ctx, req, true, out, func(token, hash string) proto.Message {
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
	out := &parleyv1.RevokeTokenResponse{}
	return out, s.execute(ctx, req, nid, workflow.RevokeCredential{Participant: req.GetParticipant()}, out,
		func(*workflow.Negotiation, []workflow.Event) proto.Message { return &parleyv1.RevokeTokenResponse{} })
}
