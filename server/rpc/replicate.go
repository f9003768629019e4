package rpc

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/credential"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// Call is one mutating call as a cluster replicates it: the method, the
// request's bytes and the caller as the node the client called authenticated
// it. Every node carries it out the same way (ApplyCall).
type Call struct {
	Method      string `json:"method"`
	Request     []byte `json:"request"`
	Admin       bool   `json:"admin,omitempty"`
	Negotiation string `json:"negotiation,omitempty"`
	Participant string `json:"participant,omitempty"`
	Member      string `json:"member,omitempty"`
	// TokenHash is, for IssueToken and RotateToken, the SHA-256 of the new
	// token: the token itself stays on the node the client called.
	TokenHash string `json:"token_hash,omitempty"`
	// Idempotent says the request has a request id, so that sending it
	// again after a failure of unknown outcome cannot apply it twice.
	Idempotent bool `json:"-"`
}

// Stamp is what the leader chooses once for every node when it appends a
// call to the raft log.
type Stamp struct {
	Index uint64    // the raft entry's index
	At    time.Time // the commit time of the command's events
	Seed  [16]byte  // every id the handler draws derives from it
}

// Replicator carries calls out through a cluster (server/cluster).
type Replicator interface {
	// Replicate has the cluster's leader append the call to the raft log and
	// returns the reply or refusal of its application.
	Replicate(ctx context.Context, call Call) (proto.Message, error)
	// ReadBarrier returns once this node has applied every entry committed
	// when it was called, so that a read after it is linearizable.
	ReadBarrier(ctx context.Context) error
}

// WithReplicator makes the server one node of a cluster: mutations go
// through r, and reads and watches wait for r's read barrier unless the call
// asks for a stale read.
func WithReplicator(r Replicator) Option {
	return func(s *Server) { s.replicator = r }
}

// ReadConsistencyHeader is the request metadata that relaxes a read in a
// cluster: with the value "stale", the node serves what it has applied
// without asking the leader. Without it, reads are linearizable.
const ReadConsistencyHeader = "parley-read-consistency"

// staleRead reports whether the call asked for a stale read.
func staleRead(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get(ReadConsistencyHeader) {
		if strings.EqualFold(strings.TrimSpace(v), "stale") {
			return true
		}
	}
	return false
}

// secretMethods draw a token: the node the client called draws it, and the
// log carries its hash only.
var secretMethods = map[string]bool{
	parleyv1.AdminService_IssueToken_FullMethodName:  true,
	parleyv1.AdminService_RotateToken_FullMethodName: true,
}

// clusterUnary replicates mutations and puts a read barrier before reads.
func (s *Server) clusterUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if public(info.FullMethod) || clusterLocalMethods[info.FullMethod] {
		return handler(ctx, req)
	}
	m, ok := req.(mutation)
	if !ok {
		if !staleRead(ctx) {
			if err := s.replicator.ReadBarrier(ctx); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
	request, err := proto.Marshal(m)
	if err != nil {
		return nil, workflow.Errorf(workflow.EINVALID, "REQUEST_UNDECODABLE", "the request does not encode: %v", err)
	}
	c := callerFrom(ctx)
	call := Call{Method: info.FullMethod, Request: request, Admin: c.Admin, Negotiation: c.NegotiationID, Participant: c.Participant, Member: c.Member,
		Idempotent: m.GetRequestId() != ""}
	var token string
	if secretMethods[info.FullMethod] {
		token, call.TokenHash = credential.NewToken()
	}
	reply, err := s.replicator.Replicate(ctx, call)
	if err != nil {
		return nil, err
	}
	if token != "" {
		showToken(reply, token, call.TokenHash)
	}
	return reply, nil
}

// showToken puts the token into a reply that was built without it, on a node
// that knew only its hash.
func showToken(reply proto.Message, token, hash string) {
	r := reply.ProtoReflect()
	fields := r.Descriptor().Fields()
	tokenField, hashField := fields.ByName("token"), fields.ByName("token_sha256")
	if tokenField != nil && hashField != nil && r.Get(hashField).String() == hash {
		r.Set(tokenField, protoreflect.ValueOfString(token))
	}
}

// clusterStream puts a read barrier before a stream (WatchEvents), so that a
// watcher resuming on another node after a failover finds every event it saw.
func (s *Server) clusterStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !public(info.FullMethod) && !staleRead(ss.Context()) {
		if err := s.replicator.ReadBarrier(ss.Context()); err != nil {
			return err
		}
	}
	return handler(srv, ss)
}

// ErrorStatus maps an error to the gRPC status a client gets for it, as the
// server's interceptors do: for a node that answers for another.
func (s *Server) ErrorStatus(ctx context.Context, method string, err error) error {
	return toStatus(ctx, s.logger, method, err)
}

// applying is what a handler carried out by ApplyCall takes from the raft
// entry instead of choosing it.
type applying struct {
	stamp     Stamp
	tokenHash string

	mu      sync.Mutex
	counter uint64

	// park, in a batch (ApplyCalls), takes the handler's command to the
	// batch's transaction instead of a transaction of its own.
	park chan<- *parked
}

// parked is a handler's command waiting in a batch for its transaction.
type parked struct {
	x      store.Exec
	done   chan struct{} // closed once applied
	result store.Applied
}

type applyingKey struct{}

func applyingFrom(ctx context.Context) *applying {
	a, _ := ctx.Value(applyingKey{}).(*applying)
	return a
}

// Read fills p from the entry's seed: SHA-256(seed ‖ counter) blocks.
func (a *applying) Read(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for n < len(p) {
		var block [24]byte
		copy(block[:16], a.stamp.Seed[:])
		binary.BigEndian.PutUint64(block[16:], a.counter)
		a.counter++
		sum := sha256.Sum256(block[:])
		n += copy(p[n:], sum[:])
	}
	return n, nil
}

// newID returns a new uuid: at random, or derived from the raft entry's seed
// when a cluster applies a call, so that every node draws the same.
func newID(ctx context.Context) string {
	if a := applyingFrom(ctx); a != nil {
		return uuid.Must(uuid.NewRandomFromReader(a)).String()
	}
	return uuid.NewString()
}

// newToken returns a new token and its hash. A cluster applying a call knows
// the hash only; the node the client called puts the token into the reply.
func newToken(ctx context.Context) (token, hash string) {
	if a := applyingFrom(ctx); a != nil {
		return "", a.tokenHash
	}
	return credential.NewToken()
}

// execute runs x in the store: as the raft entry being applied, or at once.
func (s *Server) execute(ctx context.Context, x store.Exec) (store.Result, error) {
	if a := applyingFrom(ctx); a != nil {
		if a.park != nil {
			p := &parked{x: x, done: make(chan struct{})}
			a.park <- p
			a.park = nil // a handler executes one command
			<-p.done
			return p.result.Result, p.result.Err
		}
		return s.store.Apply(a.stamp.Index, a.stamp.At, x)
	}
	return s.store.Execute(ctx, x)
}

// unaryMethods maps full method names to the generated handlers of the
// services whose calls a cluster replicates.
func (s *Server) unaryMethods() map[string]func(ctx context.Context, dec func(any) error) (any, error) {
	out := map[string]func(ctx context.Context, dec func(any) error) (any, error){}
	for _, svc := range []struct {
		desc *grpc.ServiceDesc
		impl any
	}{{&parleyv1.NegotiationService_ServiceDesc, s}, {&parleyv1.AdminService_ServiceDesc, s}, {&parleyv1.AuditService_ServiceDesc, auditServer{s: s}}} {
		for _, m := range svc.desc.Methods {
			handler, impl := m.Handler, svc.impl
			out["/"+svc.desc.ServiceName+"/"+m.MethodName] = func(ctx context.Context, dec func(any) error) (any, error) {
				return handler(impl, ctx, dec, nil)
			}
		}
	}
	return out
}

var errUnknownMethod = errors.New("the raft entry names a method this server does not have")

// ApplyCall carries out a replicated call as the raft entry stamp.Index: the
// same handler as for a call on a single node, with the caller of the call and
// the time and ids of the stamp, so that every node writes the same events and
// request record and builds the same reply. An entry the store holds already
// returns store.ErrAlreadyApplied.
func (s *Server) ApplyCall(stamp Stamp, call Call) (proto.Message, error) {
	return s.applyCall(stamp, call, nil)
}

func (s *Server) applyCall(stamp Stamp, call Call, park chan<- *parked) (proto.Message, error) {
	s.methodsOnce.Do(func() { s.methods = s.unaryMethods() })
	handler := s.methods[call.Method]
	if handler == nil {
		return nil, errUnknownMethod
	}
	ctx := context.WithValue(context.Background(), applyingKey{}, &applying{stamp: stamp, tokenHash: call.TokenHash, park: park})
	ctx = withCaller(ctx, Caller{Admin: call.Admin, NegotiationID: call.Negotiation, Participant: call.Participant, Member: call.Member})
	grant := &replyGrant{m: &s.replyMemory}
	defer func() { grant.m.give(grant.bytes.Load()) }()
	ctx = context.WithValue(ctx, grantKey{}, grant)
	resp, err := handler(ctx, func(v any) error { return proto.Unmarshal(call.Request, v.(proto.Message)) })
	if err != nil {
		return nil, err
	}
	msg, ok := resp.(proto.Message)
	if !ok {
		return nil, errUnknownMethod
	}
	return msg, nil
}

// Batchable reports whether ApplyCalls may carry the call out in one
// transaction with its neighbours: its handler reads nothing from the store
// before its command runs, so that it decides the same in a batch as after
// its predecessors' commit. A CastVote with a consent looks its checkpoint up
// in the store, and so do the calls left out here.
func Batchable(call Call) bool {
	switch call.Method {
	case parleyv1.NegotiationService_CastVote_FullMethodName:
		var req parleyv1.CastVoteRequest
		return proto.Unmarshal(call.Request, &req) == nil && req.GetConsent() == nil
	case parleyv1.NegotiationService_ProposeAmendment_FullMethodName:
		var req parleyv1.ProposeAmendmentRequest
		return proto.Unmarshal(call.Request, &req) == nil && req.GetRebaseOf() == ""
	case parleyv1.NegotiationService_WithdrawAmendment_FullMethodName,
		parleyv1.NegotiationService_CloseVoting_FullMethodName,
		parleyv1.NegotiationService_RejectAmendment_FullMethodName,
		parleyv1.NegotiationService_RevokeSignOff_FullMethodName:
		return true
	}
	return false
}

// Applied is the reply or refusal of one replicated call.
type Applied struct {
	Reply proto.Message
	Err   error
}

// ApplyCalls carries out consecutive replicated calls, each Batchable, as
// the raft entries stamps[i].Index, in one store transaction
// (store.ApplyBatch): each call's reply and refusal, and the store's bytes,
// are those ApplyCall would give one by one. Each handler runs on its own
// goroutine, one after the other: the next starts once the previous one has
// handed its command over or returned, so the commands keep the entries'
// order; they all resume once the transaction commits.
func (s *Server) ApplyCalls(stamps []Stamp, calls []Call) []Applied {
	out := make([]Applied, len(calls))
	var waiting []*parked
	var entries []store.Entry
	var handlers sync.WaitGroup
	for i := range calls {
		park := make(chan *parked, 1)
		returned := make(chan struct{})
		handlers.Add(1)
		go func() {
			defer handlers.Done()
			defer close(returned)
			out[i].Reply, out[i].Err = s.applyCall(stamps[i], calls[i], park)
		}()
		select {
		case p := <-park:
			waiting = append(waiting, p)
			entries = append(entries, store.Entry{Index: stamps[i].Index, At: stamps[i].At, Exec: p.x})
		case <-returned: // refused before its command, or ran none
		}
	}
	if len(entries) > 0 {
		for j, a := range s.store.ApplyBatch(entries) {
			waiting[j].result = a
			close(waiting[j].done)
		}
	}
	handlers.Wait()
	return out
}
