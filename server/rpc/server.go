// Package rpc serves Parley over gRPC: it authenticates callers, checks that
// they belong to the negotiation they touch, maps requests to the rules'
// commands and the rules' errors to status codes, and streams committed
// events to watchers.
package rpc

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/checkpoint"
	"github.com/parley-negotiation/parley/server/credential"
	"github.com/parley-negotiation/parley/server/store"
)

// Limits on the wire. The largest legitimate request is a numbered text of
// workflow.MaxNumberedTextBytes; the largest reply a full page of a document
// at its largest.
const (
	MaxRecvMsgBytes = 8 << 20
	MaxSendMsgBytes = 256 << 20
)

// Server implements NegotiationService and AdminService.
type Server struct {
	parleyv1.UnimplementedNegotiationServiceServer
	parleyv1.UnimplementedAdminServiceServer

	store          *store.DB
	logger         *slog.Logger
	adminTokenHash string
	signer         *checkpoint.Signer
	hub            *hub
	health         *health.Server
	limiter        *limiter // nil: no rate limit
	authFailures   *limiter // per peer address; nil: no limit
	refusals       *refusalLog
	outerUnary     []grpc.UnaryServerInterceptor
	outerStream    []grpc.StreamServerInterceptor
	documents      sync.Map // negotiation id → documentPages: the pages of its document served lately
	replyMemory    replyMemory
	watches        watchLimits

	replicator   Replicator   // nil on a single node
	clusterAdmin ClusterAdmin // nil on a single node
	methodsOnce  sync.Once
	methods      map[string]func(ctx context.Context, dec func(any) error) (any, error) // see ApplyCall
}

// documentPage is a GetDocument reply and the version and page it is of.
// Replies are never modified once built, so one can be sent to many callers.
type documentPage struct {
	sequence    int64
	start, size int
	bare        bool // without the points' alternatives
	reply       *parleyv1.GetDocumentResponse
	bytes       int // its size, as counted against the reply memory
}

// maxCachedDocumentPages bounds the pages of one negotiation's document kept
// for the next caller. A page stops at MaxPageBytes, so a large document
// takes several; keeping only the last page served made a client reading
// every page in turn miss at each call. Four pages hold a 10,000-point
// document without its brackets (two pages; six with them, which miss as
// before) at a bounded cost: a page kept costs several times its encoded
// size in memory.
const maxCachedDocumentPages = 4

// documentPages are pages of one version (sequence) of a document, oldest
// first. A value is never modified once stored: a new page makes a new value.
type documentPages []documentPage

// find returns the page of key's version, start, size and form.
func (ps documentPages) find(key documentPage) (documentPage, bool) {
	for _, p := range ps {
		if p.sequence == key.sequence && p.start == key.start && p.size == key.size && p.bare == key.bare {
			return p, true
		}
	}
	return documentPage{}, false
}

// with returns the pages with page added: the pages of an older version are
// dropped, and the oldest page beyond maxCachedDocumentPages.
func (ps documentPages) with(page documentPage) documentPages {
	out := make(documentPages, 0, maxCachedDocumentPages)
	for _, p := range ps {
		if p.sequence == page.sequence {
			out = append(out, p)
		}
	}
	if len(out) == maxCachedDocumentPages {
		out = out[1:]
	}
	return append(out, page)
}

// WithOuterInterceptors adds interceptors right inside the recovery one,
// before logging and authentication, so that they see every call: metrics,
// for instance.
func WithOuterInterceptors(unary grpc.UnaryServerInterceptor, stream grpc.StreamServerInterceptor) Option {
	return func(s *Server) {
		s.outerUnary = append(s.outerUnary, unary)
		s.outerStream = append(s.outerStream, stream)
	}
}

// Watchers returns the number of WatchEvents streams open now.
func (s *Server) Watchers() int { return int(s.hub.watchers.Load()) }

// Option configures a Server.
type Option func(*Server)

// WithCheckpointSigner sets the key that signs checkpoints of the audit log.
// Without it, a key is made for the life of the process, which suits tests
// only: parties pin the key.
func WithCheckpointSigner(signer *checkpoint.Signer) Option {
	return func(s *Server) { s.signer = signer }
}

// New returns a server over db. adminToken is the administrator's bearer
// token. With no options, no rate limit applies.
func New(db *store.DB, adminToken string, logger *slog.Logger, opts ...Option) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		store:          db,
		logger:         logger,
		adminTokenHash: credential.Hash(adminToken),
		hub:            newHub(),
		health:         health.NewServer(),
		refusals:       newRefusalLog(logger),
		replyMemory:    replyMemory{limit: DefaultReplyMemory},
		watches:        defaultWatchLimits(),
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.signer == nil {
		s.signer = ephemeralSigner()
	}
	db.OnCommit(s.hub.publish)
	db.OnRestore(func() {
		s.documents.Clear()
		s.hub.restart()
	})
	return s
}

func ephemeralSigner() *checkpoint.Signer {
	skey, _, err := note.GenerateKey(rand.Reader, "parley-ephemeral")
	if err != nil {
		panic(err)
	}
	signer, err := checkpoint.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	return signer
}

// StreamWorkers is the number of goroutines kept to run calls: enough for
// the calls a busy server has in flight at once (64 clients each waiting
// for a commit), few enough to cost nothing idle.
const StreamWorkers = 128

// GRPCServer returns a grpc.Server with Parley's services, health and
// reflection registered, and its interceptors chained: recovery outermost,
// then logging and error mapping, then authentication, then the rate limit if
// there is one (it counts by caller, so it needs the caller), then the grant
// of reply memory for unary calls.
func (s *Server) GRPCServer(extra ...grpc.ServerOption) *grpc.Server {
	unary := append(append([]grpc.UnaryServerInterceptor{s.recoverUnary}, s.outerUnary...), s.logUnary, s.authUnary)
	stream := append(append([]grpc.StreamServerInterceptor{s.recoverStream}, s.outerStream...), s.logStream, s.authStream)
	if s.limiter != nil {
		unary = append(unary, s.rateUnary)
		stream = append(stream, s.rateStream)
	}
	unary = append(unary, s.replyUnary)
	if s.replicator != nil {
		unary = append(unary, s.clusterUnary)
		stream = append(stream, s.clusterStream)
	}
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.ForceServerCodecV2(newRequestCodec(&s.replyMemory)),
		grpc.MaxRecvMsgSize(MaxRecvMsgBytes),
		grpc.MaxSendMsgSize(MaxSendMsgBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Minute, Timeout: 20 * time.Second}),
		// Calls run on long-lived goroutines whose stacks have already grown,
		// instead of a new goroutine per call that grows its stack again on
		// every call (runtime.newstack took about a tenth of the server's CPU
		// under load). A call that finds every worker busy gets its own
		// goroutine, as without workers.
		grpc.NumStreamWorkers(StreamWorkers),
	}
	g := grpc.NewServer(append(opts, extra...)...)
	parleyv1.RegisterNegotiationServiceServer(g, s)
	parleyv1.RegisterAdminServiceServer(g, s)
	parleyv1.RegisterAuditServiceServer(g, auditServer{s: s})
	healthpb.RegisterHealthServer(g, s.health)
	reflection.Register(g)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for _, name := range []string{parleyv1.NegotiationService_ServiceDesc.ServiceName, parleyv1.AdminService_ServiceDesc.ServiceName,
		parleyv1.AuditService_ServiceDesc.ServiceName} {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	return g
}

// Shutdown marks the server as not serving and ends every watch stream, so
// that a graceful stop does not wait for watchers that never leave.
func (s *Server) Shutdown() {
	s.health.Shutdown()
	s.hub.close()
	s.refusals.close()
}

// public reports whether a method needs no token: health checks and
// reflection, so that probes and grpcurl work out of the box.
func public(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.") || strings.HasPrefix(method, "/grpc.reflection.")
}

func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.ErrorContext(ctx, "panic", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error; the server's log has the details")
		}
	}()
	return handler(ctx, req)
}

func (s *Server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("panic", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error; the server's log has the details")
		}
	}()
	return handler(srv, ss)
}

func (s *Server) logUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	ctx, slot := withCallerSlot(ctx)
	var resp any
	var err error
	if err = takeUndecodable(req); err == nil {
		resp, err = handler(ctx, req)
	}
	err = toStatus(ctx, s.logger, info.FullMethod, err)
	s.logCall(ctx, info.FullMethod, start, slot.caller, err)
	return resp, err
}

func (s *Server) logStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	ctx, slot := withCallerSlot(ss.Context())
	err := toStatus(ctx, s.logger, info.FullMethod, handler(srv, decodedStream{&callerStream{ServerStream: ss, ctx: ctx}}))
	s.logCall(ctx, info.FullMethod, start, slot.caller, err)
	return err
}

// logCall logs successful calls at debug level, so that a busy server's log
// holds what went wrong, and refusals at info level with their reason.
func (s *Server) logCall(ctx context.Context, method string, start time.Time, c Caller, err error) {
	if err == nil && !s.logger.Enabled(ctx, slog.LevelDebug) {
		return // the common case, without building a status to log
	}
	st := status.Convert(err)
	level := slog.LevelDebug
	if st.Code() != codes.OK {
		level = slog.LevelInfo
	}
	if !s.logger.Enabled(ctx, level) {
		return
	}
	attrs := []any{"method", method, "code", st.Code().String(), "took", time.Since(start)}
	if c.Admin || c.Participant != "" {
		attrs = append(attrs, "caller", c.key())
	}
	if st.Code() != codes.OK {
		attrs = append(attrs, "message", st.Message())
	}
	if st.Code() == codes.Unauthenticated || st.Code() == codes.ResourceExhausted || st.Code() == codes.InvalidArgument {
		// Anyone can cause these at will, without a token (undecodable
		// requests are refused before authentication): log them at a
		// bounded rate.
		if reason := reasonOf(st); st.Code() == codes.Unauthenticated || floodReasons[reason] {
			s.refusals.note(ctx, append(attrs, "reason", reason, "peer", peerAddress(ctx)))
			return
		}
	}
	s.logger.Log(ctx, level, "call", attrs...)
}

// floodReasons are the refusals, besides UNAUTHENTICATED, that a caller
// without a valid token can cause as often as it likes.
var floodReasons = map[string]bool{"AUTH_RATE_LIMITED": true, "RATE_LIMITED": true, "REQUEST_UNDECODABLE": true, "TEXT_NOT_UTF8": true}

// reasonOf returns the ErrorInfo reason of a status, if it has one.
func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if public(info.FullMethod) {
		return handler(ctx, req)
	}
	c, err := s.authenticateLimited(ctx)
	if err != nil {
		return nil, err
	}
	return handler(withCaller(ctx, c), req)
}

func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if public(info.FullMethod) {
		return handler(srv, ss)
	}
	c, err := s.authenticateLimited(ss.Context())
	if err != nil {
		return err
	}
	return handler(srv, &callerStream{ServerStream: ss, ctx: withCaller(ss.Context(), c)})
}

// callerStream carries the authenticated caller in its context.
type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *callerStream) Context() context.Context { return s.ctx }
