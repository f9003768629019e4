package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// The reliability flags: their defaults, and the combinations refused before
// anything starts.
func TestParseFlags_Reliability(t *testing.T) {
	noEnv := func(string) string { return "" }
	parse := func(args ...string) (Config, error) {
		m := NewMain()
		m.Stderr = io.Discard
		err := m.ParseFlags(args, noEnv)
		return m.Config, err
	}

	t.Run("Defaults", func(t *testing.T) {
		c, err := parse()
		if err != nil {
			t.Fatal(err)
		}
		if c.RateLimit != DefaultRateLimit || c.RateBurst != DefaultRateBurst {
			t.Fatalf("rate limit %g burst %d, want %d and %d", c.RateLimit, c.RateBurst, DefaultRateLimit, DefaultRateBurst)
		}
		if c.TLSCert != "" || c.TLSKey != "" || c.TLSClientCA != "" || c.Verify || c.WriteAheadLog {
			t.Fatalf("TLS, --verify or --write-ahead-log on by default: %+v", c)
		}
	})

	t.Run("OK", func(t *testing.T) {
		c, err := parse("--rate-limit", "0", "--rate-burst", "0", "--tls-cert", "c.pem", "--tls-key", "k.pem",
			"--tls-client-ca", "ca.pem", "--verify", "--write-ahead-log")
		if err != nil {
			t.Fatal(err)
		}
		if c.RateLimit != 0 || c.TLSCert != "c.pem" || c.TLSKey != "k.pem" || c.TLSClientCA != "ca.pem" || !c.Verify || !c.WriteAheadLog {
			t.Fatalf("got %+v", c)
		}
	})

	t.Run("Err", func(t *testing.T) {
		tests := []struct {
			args []string
			want string
		}{
			{[]string{"--rate-limit", "-1"}, "--rate-limit"},
			{[]string{"--rate-limit", "5", "--rate-burst", "0"}, "--rate-burst"},
			{[]string{"--rate-limit", "many"}, "invalid value"},
			{[]string{"--tls-cert", "c.pem"}, "go together"},
			{[]string{"--tls-key", "k.pem"}, "go together"},
			{[]string{"--tls-client-ca", "ca.pem"}, "needs TLS"},
			{[]string{"--node-id", "n1", "--raft-listen", "127.0.0.1:0", "--write-ahead-log"}, "--write-ahead-log is for a single node"},
		}
		for _, tt := range tests {
			if _, err := parse(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v: got %v, want an error with %q", tt.args, err, tt.want)
			}
		}
	})
}

// The memory flags: their defaults, sizes and durations parsed, and values
// that could not work refused before anything starts.
func TestParseFlags_Memory(t *testing.T) {
	parse := func(args ...string) (Config, error) {
		m := NewMain()
		m.Stderr = io.Discard
		err := m.ParseFlags(args, func(string) string { return "" })
		return m.Config, err
	}
	t.Run("Defaults", func(t *testing.T) {
		c, err := parse()
		if err != nil {
			t.Fatal(err)
		}
		if c.ReplyMemory != 64<<20 || c.WatchBacklog != 256<<10 || c.WatchStall != 10*time.Second || c.WatchStreamsPerToken != 16 {
			t.Fatalf("got reply memory %d, backlog %d, stall %s, streams %d", c.ReplyMemory, c.WatchBacklog, c.WatchStall, c.WatchStreamsPerToken)
		}
	})
	t.Run("OK", func(t *testing.T) {
		c, err := parse("--reply-memory", "16MiB", "--watch-backlog", "1B", "--watch-stall", "0", "--watch-streams-per-token", "0")
		if err != nil {
			t.Fatal(err)
		}
		if c.ReplyMemory != 16<<20 || c.WatchBacklog != 1 || c.WatchStall != 0 || c.WatchStreamsPerToken != 0 {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("Err", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--reply-memory", "15MiB"}, "--reply-memory"},
			{[]string{"--reply-memory", "lots"}, "not a size"},
			{[]string{"--watch-backlog", "0"}, "not a size"},
			{[]string{"--watch-stall", "-1s"}, "--watch-stall"},
			{[]string{"--watch-streams-per-token", "-1"}, "--watch-streams-per-token"},
		} {
			if _, err := parse(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v: got %v, want an error with %q", tt.args, err, tt.want)
			}
		}
	})
}
