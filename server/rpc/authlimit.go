package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc/peer"

	"github.com/parley-negotiation/parley/server/workflow"
)

// WithAuthFailureLimit limits failed authentications per peer address: each
// failure takes a token from the address's bucket, which refills at
// perSecond with room for burst. While it is empty, every call from that
// address that needs a token is refused with RESOURCE_EXHAUSTED
// AUTH_RATE_LIMITED before its token is even looked at, so guessing tokens
// from one address is slow and cheap for the server. perSecond <= 0
// disables the limit.
func WithAuthFailureLimit(perSecond float64, burst int) Option {
	return func(s *Server) {
		if perSecond <= 0 {
			s.authFailures = nil
			return
		}
		s.authFailures = newLimiter(perSecond, max(burst, 1), time.Now)
	}
}

// peerAddress is the caller's network address without its port: the IP
// address for TCP, or for IPv6 its /64 prefix, which one host usually holds
// whole (counting its addresses one by one would let it pass the limit, and
// grow the limiter's map, at will).
func peerAddress(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return p.Addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
	}
	return host
}

// authenticateLimited authenticates a call unless its address has failed
// too often, and counts its failure.
func (s *Server) authenticateLimited(ctx context.Context) (Caller, error) {
	if s.authFailures == nil {
		return s.authenticate(ctx)
	}
	addr := peerAddress(ctx)
	if empty, wait := s.authFailures.empty(addr); empty {
		return Caller{}, workflow.Errorf(workflow.ERESOURCEEXHAUSTED, "AUTH_RATE_LIMITED",
			"too many failed authentications from this address: the limit is %g a second, with bursts of %g; retry in %v",
			s.authFailures.rate, s.authFailures.burst, wait.Round(time.Millisecond)+time.Millisecond)
	}
	c, err := s.authenticate(ctx)
	if workflow.ErrorCode(err) == workflow.EUNAUTHENTICATED {
		s.authFailures.allow(addr)
	}
	return c, err
}

// empty reports whether key's bucket has no token left, without taking one,
// and how long until it has one.
func (l *limiter) empty(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return false, 0
	}
	tokens := min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	if tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - tokens) / l.rate * float64(time.Second))
}

// refusalLog writes refusals that anyone can cause at will (calls without a
// valid token, calls over a rate limit) at a bounded rate: the first after a
// quiet spell at once, then one line per period with the count of the
// refusals in it and the details of the last. A flood of bad calls thus
// costs the log a line a second, not a line a call.
type refusalLog struct {
	logger *slog.Logger
	every  time.Duration

	mu     sync.Mutex
	count  int       // refusals since the window opened, not yet logged
	opened time.Time // when the current window opened
	last   []any     // the attributes of the last refusal counted
	timer  *time.Timer
	closed bool
}

// refusalLogEvery is the period of the bounded refusal log.
const refusalLogEvery = time.Second

func newRefusalLog(logger *slog.Logger) *refusalLog {
	return &refusalLog{logger: logger, every: refusalLogEvery}
}

// note logs or counts one refusal.
func (r *refusalLog) note(ctx context.Context, attrs []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer == nil && !r.closed {
		r.logger.InfoContext(ctx, "call", attrs...)
		r.opened = time.Now()
		r.timer = time.AfterFunc(r.every, r.flush)
		return
	}
	r.count++
	r.last = attrs
}

// flush logs the refusals counted in the window that ends now, and opens
// another if there were any.
func (r *refusalLog) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count == 0 || r.closed {
		r.timer = nil
		return
	}
	took := time.Since(r.opened).Round(time.Millisecond)
	attrs := append([]any{"count", r.count, "period", took}, r.last...)
	r.logger.Info(fmt.Sprintf("%d refusals in the last %v; the last one:", r.count, took), attrs...)
	r.count, r.last, r.opened = 0, nil, time.Now()
	r.timer = time.AfterFunc(r.every, r.flush)
}

// close logs what is counted and stops the timer.
func (r *refusalLog) close() {
	r.mu.Lock()
	closed := r.closed
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
	}
	count, last := r.count, r.last
	r.mu.Unlock()
	if !closed && count > 0 {
		r.logger.Info(fmt.Sprintf("%d refusals before shutting down; the last one:", count), append([]any{"count", count}, last...)...)
	}
}
