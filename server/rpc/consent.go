package rpc

import (
	"bytes"
	"context"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// consentIn converts a consent of a request and checks the one thing the
// rules cannot: that the log had the checkpoint's root at its size. The
// rules check the rest (shape, key, signature). The log only grows, so a
// checkpoint of it stays one until the command runs.
func (s *Server) consentIn(negotiationID string, c *parleyv1.Consent) (*workflow.Consent, error) {
	return s.consentInCached(negotiationID, c, nil)
}

// consentInCached is consentIn with the roots already looked up for a
// batch, by tree size: the items of one batch mostly name one checkpoint.
func (s *Server) consentInCached(negotiationID string, c *parleyv1.Consent, roots map[int64][]byte) (*workflow.Consent, error) {
	out := wire.ConsentFromProto(c)
	if out == nil || out.Checkpoint == nil || out.Checkpoint.TreeSize < 1 || len(out.Checkpoint.RootHash) != 32 {
		return out, nil // nothing to look up; the rules refuse a malformed one
	}
	if root, ok := roots[out.Checkpoint.TreeSize]; ok && bytes.Equal(root, out.Checkpoint.RootHash) {
		return out, nil
	}
	root, err := s.store.RootAt(negotiationID, uint64(out.Checkpoint.TreeSize))
	if err == nil && roots != nil {
		roots[out.Checkpoint.TreeSize] = root
	}
	if workflow.ErrorReason(err) == "TREE_SIZE_INVALID" || (err == nil && !bytes.Equal(root, out.Checkpoint.RootHash)) {
		return nil, workflow.Errorf(workflow.EFAILEDPRECONDITION, "CHECKPOINT_UNKNOWN", "this log never had a root %x at size %d", out.Checkpoint.RootHash, out.Checkpoint.TreeSize)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) RegisterKey(ctx context.Context, req *parleyv1.RegisterKeyRequest) (*parleyv1.RegisterKeyResponse, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	cmd := workflow.RegisterKey{PublicKey: req.GetPublicKey(), Signature: req.GetSignature(), Replaces: req.GetReplaces(), ReplacesSignature: req.GetReplacesSignature()}
	return executeAs[*parleyv1.RegisterKeyResponse](ctx, s, req, nid, cmd, func(n *workflow.Negotiation, events []workflow.Event) proto.Message {
		reply := &parleyv1.RegisterKeyResponse{}
		for _, e := range events {
			if p, ok := e.Payload.(workflow.KeyRegistered); ok {
				k := n.SigningKeys[p.KeyID]
				reply.SigningKey = &parleyv1.SigningKey{KeyId: k.ID, PublicKey: k.PublicKey, Sequence: k.Sequence,
					Participant: k.Participant, Member: k.Member, EndSequence: k.EndSequence}
			}
		}
		return reply
	})
}

func (s *Server) RevokeKey(ctx context.Context, req *parleyv1.RevokeKeyRequest) (*parleyv1.RevokeKeyResponse, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	cmd := workflow.RevokeKey{KeyID: req.GetKeyId(), Signature: req.GetSignature(), Participant: req.GetParticipant(), Member: req.GetMember()}
	return executeAs[*parleyv1.RevokeKeyResponse](ctx, s, req, nid, cmd, func(*workflow.Negotiation, []workflow.Event) proto.Message {
		return &parleyv1.RevokeKeyResponse{}
	})
}

func (s *Server) RequireSignatures(ctx context.Context, req *parleyv1.RequireSignaturesRequest) (*parleyv1.RequireSignaturesResponse, error) {
	return changeNegotiation(ctx, s, req, req.GetNegotiation(), workflow.RequireSignatures{}, func(n *parleyv1.Negotiation) *parleyv1.RequireSignaturesResponse {
		return &parleyv1.RequireSignaturesResponse{Negotiation: n}
	})
}
