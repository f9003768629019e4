package rpc

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/peer"
)

func TestLimiterEmpty(t *testing.T) {
	clock := &ratelimitClock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	l := newLimiter(10, 2, clock.now) // 10 failures a second, bursts of 2
	if empty, _ := l.empty("192.0.2.1"); empty {
		t.Fatal("an address never seen is limited")
	}
	l.allow("192.0.2.1")
	l.allow("192.0.2.1")
	empty, wait := l.empty("192.0.2.1")
	if !empty || wait != 100*time.Millisecond {
		t.Fatalf("after its burst: empty=%v wait=%v, want limited for 100ms", empty, wait)
	}
	if empty, _ := l.empty("192.0.2.2"); empty {
		t.Error("another address is limited")
	}
	clock.t = clock.t.Add(100 * time.Millisecond)
	if empty, _ := l.empty("192.0.2.1"); empty {
		t.Error("still limited once a token came back")
	}
}

// lockedLog is a log destination the test reads while the log writes.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.buf.String()), "\n")
}

func TestRefusalLog(t *testing.T) {
	out := &lockedLog{}
	r := newRefusalLog(slog.New(slog.NewTextHandler(out, nil)))
	r.every = 20 * time.Millisecond
	for i := 0; i < 1000; i++ {
		r.note(context.Background(), []any{"peer", "192.0.2.1"})
	}
	if lines := out.lines(); len(lines) != 1 || !strings.Contains(lines[0], "msg=call") {
		t.Fatalf("after a burst, before the period ends: %q, want the first refusal alone", lines)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(out.lines()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if lines := out.lines(); len(lines) != 2 || !strings.Contains(lines[1], "999 refusals in the last") || !strings.Contains(lines[1], "count=999") {
		t.Fatalf("after the period: %q, want one line counting the other 999", lines)
	}
	// Quiet again: the next refusal is logged at once, after the timer saw
	// an empty period.
	time.Sleep(3 * r.every)
	r.note(context.Background(), []any{"peer", "192.0.2.9"})
	r.close()
	if lines := out.lines(); len(lines) != 3 || !strings.Contains(lines[2], "peer=192.0.2.9") {
		t.Fatalf("after a quiet spell: %q", lines)
	}
}

func TestPeerAddress(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:50123":              "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:50123": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::9]:1":     "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:50123":     "192.0.2.7",
	} {
		tcp, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: tcp})
		if got := peerAddress(ctx); got != want {
			t.Errorf("peerAddress(%s) = %q, want %q", addr, got, want)
		}
	}
}
