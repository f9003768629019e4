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

// callerSlot is what the interceptors of one call share, made once per call
// by the logging interceptor: the caller, which authentication (inside the
// logging interceptor) leaves for the line that the logging interceptor
// writes once the call has ended, and which the handler reads; and, for a
// unary call, its grant of reply memory. One allocation and one context value
// per call, rather than one of each for the caller and the grant.
type callerSlot struct {
	caller        Caller
	authenticated bool
	grant         *replyGrant // set by replyUnary, to grantStore
	grantStore    replyGrant
}

type callerSlotKey struct{}

// withCallerSlot returns ctx with an empty slot for the caller.
func withCallerSlot(ctx context.Context) (context.Context, *callerSlot) {
	slot := &callerSlot{}
	return context.WithValue(ctx, callerSlotKey{}, slot), slot
}

func slotFrom(ctx context.Context) *callerSlot {
	slot, _ := ctx.Value(callerSlotKey{}).(*callerSlot)
	return slot
}

// withCaller returns ctx carrying c: in the call's slot, or, for a context
// without one, as a value of its own.
func withCaller(ctx context.Context, c Caller) context.Context {
	if slot := slotFrom(ctx); slot != nil {
		slot.caller, slot.authenticated = c, true
		return ctx
	}
	return context.WithValue(ctx, callerKey{}, c)
}

func callerFrom(ctx context.Context) Caller {
	c, _ := callerOf(ctx)
	return c
}

// callerOf returns the caller of ctx, and whether the call was
// authenticated.
func callerOf(ctx context.Context) (Caller, bool) {
	if slot := slotFrom(ctx); slot != nil && slot.authenticated {
		return slot.caller, true
	}
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
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
	hash := credential.Hash(token) // once, for both lookups
	if credential.HashEqual(hash, s.adminTokenHash) {
		return Caller{Admin: true}, nil
	}
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
