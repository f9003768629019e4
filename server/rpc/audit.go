package rpc

import (
	"bytes"
	"context"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/checkpoint"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// auditServer implements AuditService on a Server.
type auditServer struct {
	parleyv1.UnimplementedAuditServiceServer
	s *Server
}

func (a auditServer) GetCheckpoint(ctx context.Context, req *parleyv1.GetCheckpointRequest) (*parleyv1.GetCheckpointResponse, error) {
	nid, err := a.s.readableNegotiation(ctx, req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	size, root, err := a.s.store.TreeHead(nid)
	if err != nil {
		return nil, err
	}
	signed, err := a.s.signer.Sign(checkpoint.Checkpoint{Origin: wire.NegotiationName(nid), Size: size, Root: root})
	if err != nil {
		return nil, err
	}
	return &parleyv1.GetCheckpointResponse{Checkpoint: signed, TreeSize: int64(size), RootHash: root}, nil
}

func (a auditServer) GetInclusionProof(ctx context.Context, req *parleyv1.GetInclusionProofRequest) (*parleyv1.GetInclusionProofResponse, error) {
	nid, err := a.s.readableNegotiation(ctx, req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	if req.GetSequence() < 1 || req.GetTreeSize() < req.GetSequence() {
		return nil, workflow.Errorf(workflow.EINVALID, "TREE_SIZE_INVALID", "need 1 <= sequence <= tree_size")
	}
	hashes, err := a.s.store.InclusionProof(nid, uint64(req.GetSequence()-1), uint64(req.GetTreeSize()))
	if err != nil {
		return nil, err
	}
	return &parleyv1.GetInclusionProofResponse{LeafIndex: req.GetSequence() - 1, TreeSize: req.GetTreeSize(), Hashes: hashes}, nil
}

func (a auditServer) GetConsistencyProof(ctx context.Context, req *parleyv1.GetConsistencyProofRequest) (*parleyv1.GetConsistencyProofResponse, error) {
	nid, err := a.s.readableNegotiation(ctx, req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	if req.GetFromSize() < 1 || req.GetToSize() < req.GetFromSize() {
		return nil, workflow.Errorf(workflow.EINVALID, "TREE_SIZE_INVALID", "need 1 <= from_size <= to_size")
	}
	hashes, err := a.s.store.ConsistencyProof(nid, uint64(req.GetFromSize()), uint64(req.GetToSize()))
	if err != nil {
		return nil, err
	}
	return &parleyv1.GetConsistencyProofResponse{Hashes: hashes}, nil
}

func (a auditServer) GetVerifierKey(context.Context, *parleyv1.GetVerifierKeyRequest) (*parleyv1.GetVerifierKeyResponse, error) {
	return &parleyv1.GetVerifierKeyResponse{VerifierKey: a.s.signer.VerifierKey(), KeyName: a.s.signer.Name()}, nil
}

// readableNegotiation parses a negotiation name the caller may read.
func (s *Server) readableNegotiation(ctx context.Context, name string) (string, error) {
	nid, err := wire.ParseNegotiationName("negotiation", name)
	if err != nil {
		return "", err
	}
	return nid, callerFrom(ctx).member(nid)
}

// checkpointRef checks a checkpoint note a delegation sent with a sign-off or
// an acceptance: signed by this server, of this negotiation, and a prefix of
// its log. The log only grows, so it stays a prefix until the command runs.
func (s *Server) checkpointRef(negotiationID, note string) (*workflow.CheckpointRef, error) {
	if note == "" {
		return nil, nil
	}
	c, err := checkpoint.Open(note, s.signer.Verifier())
	if err != nil {
		return nil, workflow.Errorf(workflow.EINVALID, "CHECKPOINT_INVALID", "checkpoint: %v", err)
	}
	if c.Origin != wire.NegotiationName(negotiationID) {
		return nil, workflow.Errorf(workflow.EINVALID, "CHECKPOINT_INVALID", "the checkpoint is of %.100q, not of this negotiation", c.Origin)
	}
	root, err := s.store.RootAt(negotiationID, c.Size)
	if workflow.ErrorReason(err) == "TREE_SIZE_INVALID" || (err == nil && !bytes.Equal(root, c.Root)) {
		return nil, workflow.Errorf(workflow.EFAILEDPRECONDITION, "CHECKPOINT_NOT_IN_LOG", "the checkpoint of size %d is not a prefix of this log", c.Size)
	}
	if err != nil {
		return nil, err
	}
	return &workflow.CheckpointRef{TreeSize: int64(c.Size), RootHash: c.Root}, nil
}
