package client

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
)

// RetryPolicy says how calls are retried after transient failures.
//
// A call is retried when it fails with UNAVAILABLE (the server could not be
// reached or is restarting), with RESOURCE_EXHAUSTED / RATE_LIMITED (the
// server refused it before doing anything), or with DEADLINE_EXCEEDED when
// only the attempt's own timeout (AttemptTimeout) ran out and the caller's
// context still has time. Every attempt of a mutating call carries the same
// request_id, so the server acts at most once however many attempts reach it:
// a retry of a call that did act gets the first reply back.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of one call, the first included. For
	// a watch, it bounds the reconnections in a row that receive nothing.
	MaxAttempts int
	// InitialBackoff is the wait before the second attempt; each further
	// wait doubles, up to MaxBackoff. Each wait is drawn at random between
	// half and all of that ("equal jitter"), so that clients that failed
	// together do not come back together.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// AttemptTimeout, if positive, bounds each attempt, so that an attempt
	// stuck on a dead connection is abandoned and retried while the
	// caller's deadline still allows. Zero leaves attempts to the caller's
	// context. It does not apply to watches.
	AttemptTimeout time.Duration
}

// DefaultRetryPolicy is used where a RetryPolicy is left zero: five attempts
// over about three seconds.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second}

// NoRetry makes every call a single attempt.
var NoRetry = RetryPolicy{MaxAttempts: 1}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		d := DefaultRetryPolicy
		d.AttemptTimeout = p.AttemptTimeout
		return d
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = DefaultRetryPolicy.InitialBackoff
	}
	if p.MaxBackoff < p.InitialBackoff {
		p.MaxBackoff = max(p.InitialBackoff, DefaultRetryPolicy.MaxBackoff)
	}
	return p
}

// backoff returns the wait after the given number of failed attempts (1 or
// more).
func (p RetryPolicy) backoff(failures int) time.Duration {
	d := p.InitialBackoff
	for i := 1; i < failures && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// retryable reports whether a failed attempt may be tried again: the
// failure is transient and the caller still waits.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	switch CodeOf(err) {
	case codes.Unavailable:
		return true
	case codes.ResourceExhausted:
		// Over the caller's rate, or the server's memory for replies in
		// flight: both pass shortly.
		return ReasonOf(err) == "RATE_LIMITED" || ReasonOf(err) == "SERVER_BUSY"
	case codes.DeadlineExceeded:
		// The caller's context is alive, so the attempt's own timeout ran out.
		return true
	}
	return false
}

// do runs attempt until it succeeds, fails for good, runs out of attempts or
// the context ends. It returns an *Error.
func (c *Client) do(ctx context.Context, attempt func(ctx context.Context) error) error {
	p := c.retry
	for n := 1; ; n++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if p.AttemptTimeout > 0 {
			actx, cancel = context.WithTimeout(ctx, p.AttemptTimeout)
		}
		err := attempt(actx)
		cancel()
		if err == nil {
			return nil
		}
		err = toError(err)
		if n >= p.MaxAttempts || !retryable(ctx, err) {
			return err
		}
		if sleep(ctx, c.waitToRetry(n, err)) != nil {
			return err // the caller gave up; the last failure says more than "cancelled"
		}
	}
}

// waitToRetry returns the wait before another attempt, after telling the
// OnRetry hook.
func (c *Client) waitToRetry(failures int, err error) time.Duration {
	wait := c.retry.backoff(failures)
	if c.onRetry != nil {
		c.onRetry(failures, wait, toError(err))
	}
	return wait
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type requestIDKey struct{}

// WithRequestID returns a context whose next mutating call uses id as its
// request_id instead of a fresh one. A program that records the id before
// calling can repeat the call after its own crash, and the server will not
// act twice. Use a context made this way for one mutating call only.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestID returns the request id for a mutating call: the context's, or a
// new one.
func (c *Client) requestID(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && id != "" {
		return id
	}
	return c.newID()
}

func newRequestID() string { return uuid.NewString() }
