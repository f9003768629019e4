package rpc

import (
	"context"
	"strings"

	"google.golang.org/grpc/metadata"

	"github.com/parley-negotiation/parley/server/credential"
	"github.com/parley-negotiation/parley/server/workflow"
)

// Caller is who makes a call, as its token says.
type Caller struct {
	Admin         bool
	NegotiationID string // the participant's negotiation; empty for the administrator
	Participant   string // empty for the administrator
	Member        string // the participant's member; the participant's id for its default member
	tokenHash     string
}

// Actor returns the caller's id in commands and events.
func (c Caller) Actor() string {
	if c.Admin {
		return workflow.AdminActor
	}
	return c.Participant
}

// key scopes the caller's request ids: each member has its own, and the
// default member keeps the participant's.
func (c Caller) key() string {
	if c.Admin {
		return workflow.AdminActor
	}
	return c.NegotiationID + "/" + workflow.MemberKey(c.Participant, c.Member)
}

// member checks that the caller may act on or read a negotiation: the
// administrator may, and a participant only in its own.
func (c Caller) member(negotiationID string) error {
	if c.Admin || c.NegotiationID == negotiationID {
		return nil
	}
	return workflow.Errorf(workflow.EPERMISSION, "NOT_A_MEMBER", "%s is not a participant of that negotiation", c.Participant)
}

func (c Caller) requireAdmin() error {
	if c.Admin {
		return nil
	}
	return workflow.Errorf(workflow.EPERMISSION, "ADMIN_ONLY", "only the administrator can do this")
}

type callerKey struct{}

// callerSlot is where authentication, inside the logging interceptor, leaves
// the caller for the line that the logging interceptor writes once the call
// has ended: the context it holds is not the one the handler got.
type callerSlot struct{ caller Caller }

type callerSlotKey struct{}

// withCallerSlot returns ctx with an empty slot for the caller.
func withCallerSlot(ctx context.Context) (context.Context, *callerSlot) {
	slot := &callerSlot{}
	return context.WithValue(ctx, callerSlotKey{}, slot), slot
}

// withCaller returns ctx carrying c, and leaves c in the call's slot.
func withCaller(ctx context.Context, c Caller) context.Context {
	if slot, ok := ctx.Value(callerSlotKey{}).(*callerSlot); ok {
		slot.caller = c
	}
	return context.WithValue(ctx, callerKey{}, c)
}

func callerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// authenticate finds the caller of a call from its bearer token.
func (s *Server) authenticate(ctx context.Context) (Caller, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get("authorization")
	if len(values) == 0 {
		return Caller{}, workflow.Errorf(workflow.EUNAUTHENTICATED, "TOKEN_MISSING", "send a bearer token in the authorization metadata: \"authorization: Bearer <token>\"")
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if len(values) > 1 || !ok || !strings.EqualFold(scheme, "bearer") || token == "" {
		return Caller{}, workflow.Errorf(workflow.EUNAUTHENTICATED, "TOKEN_INVALID", "the authorization metadata must be one \"Bearer <token>\"")
	}
	if credential.Equal(token, s.adminTokenHash) {
		return Caller{Admin: true}, nil
	}
	hash := credential.Hash(token)
	c, err := s.authenticateHash(hash)
	if workflow.ErrorReason(err) == "TOKEN_INVALID" && s.replicator != nil && !staleRead(ctx) {
		// A token issued a moment ago may not have reached this node yet.
		if s.replicator.ReadBarrier(ctx) == nil {
			c, err = s.authenticateHash(hash)
		}
	}
	return c, err
}

// authenticateHash finds the participant whose current token has this hash.
func (s *Server) authenticateHash(hash string) (Caller, error) {
	owner, found, err := s.store.TokenOwner(hash)
	if err != nil {
		return Caller{}, err
	}
	if !found {
		return Caller{}, workflow.Errorf(workflow.EUNAUTHENTICATED, "TOKEN_INVALID", "the token is not valid: it is unknown, rotated or revoked")
	}
	participant, member, named := strings.Cut(owner.Participant, "/")
	if !named {
		member = participant
	}
	return Caller{NegotiationID: owner.NegotiationID, Participant: participant, Member: member, tokenHash: hash}, nil
}
