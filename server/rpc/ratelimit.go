package rpc

import (
	"context"
	"math"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/parley-negotiation/parley/server/workflow"
)

// WithRateLimit limits each caller (the administrator, or one participant of
// one negotiation) to perSecond calls a second on average, with bursts of up
// to burst calls. A call over the limit is refused with RESOURCE_EXHAUSTED,
// reason RATE_LIMITED, before it does anything. Health checks and reflection
// are not limited; a stream counts once, when it opens. perSecond <= 0
// disables the limit, and then no interceptor runs at all.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(s *Server) {
		if perSecond <= 0 {
			s.limiter = nil
			return
		}
		s.limiter = newLimiter(perSecond, max(burst, 1), time.Now)
	}
}

// limiter is one token bucket per caller. Buckets of callers that have been
// idle long enough to be full again are dropped now and then, so the map holds
// only recent callers.
type limiter struct {
	rate  float64 // tokens added per second
	burst float64 // bucket size
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	nextSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// sweepEvery bounds how often the limiter looks for idle buckets.
const sweepEvery = time.Minute

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}, nextSweep: now().Add(sweepEvery)}
}

// allow takes a token from key's bucket. If there is none, it returns false
// and how long until there is one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.After(l.nextSweep) {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// sweep drops the buckets that would be full by now: a new bucket is the same.
func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for key, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, key)
		}
	}
	l.nextSweep = now.Add(sweepEvery)
}

// check refuses a call of the caller in ctx if its bucket is empty. Calls
// without a caller (health, reflection) pass.
func (l *limiter) check(ctx context.Context) error {
	c, ok := callerOf(ctx)
	if !ok {
		return nil
	}
	if ok, wait := l.allow(c.key()); !ok {
		return workflow.Errorf(workflow.ERESOURCEEXHAUSTED, "RATE_LIMITED",
			"too many calls with this token: the limit is %g a second, with bursts of %g; retry in %v",
			l.rate, l.burst, wait.Round(time.Millisecond)+time.Millisecond)
	}
	return nil
}

func (s *Server) rateUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := s.limiter.check(ctx); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) rateStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := s.limiter.check(ss.Context()); err != nil {
		return err
	}
	return handler(srv, ss)
}
