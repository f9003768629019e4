package rpc

import (
	"context"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/workflow"
)

// ratelimitClock is a clock the test moves by hand.
type ratelimitClock struct{ t time.Time }

func (c *ratelimitClock) now() time.Time { return c.t }

func TestLimiter(t *testing.T) {
	clock := &ratelimitClock{t: time.Date(2025, 11, 20, 12, 0, 0, 0, time.UTC)}
	l := newLimiter(10, 3, clock.now) // 10 a second, bursts of 3

	t.Run("Burst", func(t *testing.T) {
		for i := range 3 {
			if ok, _ := l.allow("n/ukraine"); !ok {
				t.Fatalf("call %d of a burst of 3 refused", i+1)
			}
		}
		ok, wait := l.allow("n/ukraine")
		if ok {
			t.Fatal("the 4th call of a burst of 3 passed")
		}
		if wait != 100*time.Millisecond {
			t.Fatalf("wait %v, want 100ms at 10 a second", wait)
		}
	})

	t.Run("OtherCallersUnaffected", func(t *testing.T) {
		if ok, _ := l.allow("n/russia"); !ok {
			t.Fatal("another caller's call refused")
		}
		if ok, _ := l.allow("admin"); !ok {
			t.Fatal("the administrator's call refused")
		}
	})

	t.Run("Refill", func(t *testing.T) {
		clock.t = clock.t.Add(100 * time.Millisecond)
		if ok, _ := l.allow("n/ukraine"); !ok {
			t.Fatal("a call after the wait refused")
		}
		if ok, _ := l.allow("n/ukraine"); ok {
			t.Fatal("two calls passed after a wait worth one")
		}
		clock.t = clock.t.Add(time.Hour) // refills to the burst, not beyond
		for i := range 3 {
			if ok, _ := l.allow("n/ukraine"); !ok {
				t.Fatalf("call %d after a long pause refused", i+1)
			}
		}
		if ok, _ := l.allow("n/ukraine"); ok {
			t.Fatal("a long pause saved up more than the burst")
		}
	})

	t.Run("ClockStepsBack", func(t *testing.T) {
		clock.t = clock.t.Add(-time.Hour)
		if ok, _ := l.allow("n/ukraine"); ok {
			t.Fatal("a clock stepping back refilled the bucket")
		}
		clock.t = clock.t.Add(time.Hour)
	})

	t.Run("Sweep", func(t *testing.T) {
		clock.t = clock.t.Add(2 * sweepEvery)
		l.allow("n/europe") // sweeps first: every other bucket is full again
		if len(l.buckets) != 1 {
			t.Fatalf("%d buckets after a sweep, want only the new one", len(l.buckets))
		}
	})

	t.Run("Error", func(t *testing.T) {
		l := newLimiter(1, 1, clock.now)
		ctx := context.WithValue(context.Background(), callerKey{}, Caller{NegotiationID: "n", Participant: "ukraine"})
		if err := l.check(ctx); err != nil {
			t.Fatal(err)
		}
		err := l.check(ctx)
		if workflow.ErrorCode(err) != workflow.ERESOURCEEXHAUSTED || workflow.ErrorReason(err) != "RATE_LIMITED" {
			t.Fatalf("got %v, want RESOURCE_EXHAUSTED RATE_LIMITED", err)
		}
		if err := l.check(context.Background()); err != nil {
			t.Fatalf("a call without a caller (health, reflection) refused: %v", err)
		}
	})
}

// A rate of 0 installs no limiter, so that it costs nothing.
func TestWithRateLimit_Off(t *testing.T) {
	s := &Server{}
	WithRateLimit(0, 200)(s)
	if s.limiter != nil {
		t.Fatal("--rate-limit 0 built a limiter")
	}
	WithRateLimit(100, 0)(s)
	if s.limiter == nil || s.limiter.burst != 1 {
		t.Fatalf("a burst below 1 gave %+v, want a burst of 1", s.limiter)
	}
}
