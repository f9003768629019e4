package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

type fanoutConfig struct {
	server      serverFlags
	watchers    int
	connections int
	rate        int
	duration    time.Duration
	jsonPath    string
}

func runFanout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := fanoutConfig{}
	fs := flag.NewFlagSet("parley-bench fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.server.register(fs)
	fs.IntVar(&c.watchers, "watchers", 1000, "watchers of the negotiation")
	fs.IntVar(&c.connections, "connections", 10, "connections the watchers share")
	fs.IntVar(&c.rate, "rate", 20, "events committed per second while measuring")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long events are committed")
	fs.StringVar(&c.jsonPath, "json", "", "also write the results as JSON to this `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if c.watchers < 1 || c.connections < 1 || c.rate < 1 {
		return errors.New("--watchers, --connections and --rate must be positive")
	}
	srv, err := c.server.start(ctx, stderr)
	if err != nil {
		return err
	}
	defer srv.stop()
	fx, err := newFixture(ctx, srv, 3, 28, 1)
	if err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	fmt.Fprintf(stdout, "parley-bench fanout: %d watchers on %d connections, %d events/s for %s\n", c.watchers, c.connections, c.rate, c.duration)
	one, err := fx.fanout(ctx, stderr, 1, 1, c.rate, c.duration)
	if err != nil {
		return err
	}
	many, err := fx.fanout(ctx, stderr, c.watchers, c.connections, c.rate, c.duration)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	printFigures(stdout, []Figure{one, many})
	ratios := []Ratio{
		{Name: fmt.Sprintf("commit → delivery p99 ms, %d watchers, beside 100 ms", c.watchers), Value: many.P99Millis, Ceiling: 100,
			Target: "<= 100 ms", Met: many.P99Millis <= 100},
		{Name: fmt.Sprintf("commit → delivery p99 ms, %d watchers, beside one watcher's", c.watchers), Value: many.P99Millis,
			Ceiling: one.P99Millis, Target: "(information)", Met: true},
	}
	for i := range ratios {
		ratios[i].Ratio = ratios[i].Value / ratios[i].Ceiling
	}
	printRatios(stdout, ratios)
	if many.Errors > 0 {
		return fmt.Errorf("%d watchers missed, repeated or reordered events: %s", many.Errors, many.LastError)
	}
	return writeJSON(c.jsonPath, map[string]any{"mode": "fanout", "machine": machine(), "config": map[string]any{
		"watchers": c.watchers, "connections": c.connections, "rate": c.rate, "duration_s": c.duration.Seconds()},
		"figures": []Figure{one, many}, "ratios": ratios})
}

// fanout starts watchers from the current end of the log, commits votes at
// the given rate, and records for every delivery the time from the event's
// commit timestamp to its arrival. A watcher that sees a gap, a repeat or a
// reordering counts as an error.
func (fx *fixture) fanout(ctx context.Context, stderr io.Writer, watchers, connections, rate int, d time.Duration) (Figure, error) {
	name := fmt.Sprintf("commit → delivery, %d watcher(s)", watchers)
	conns := make([]*grpc.ClientConn, connections)
	for i := range conns {
		conn, err := fx.srv.dial()
		if err != nil {
			return Figure{}, err
		}
		defer conn.Close()
		conns[i] = conn
	}
	api := parleyv1.NewNegotiationServiceClient(conns[0])
	neg, err := api.GetNegotiation(as(ctx, fx.tokens[0]), &parleyv1.GetNegotiationRequest{Name: fx.negotiation})
	if err != nil {
		return Figure{}, err
	}
	start := neg.GetNegotiation().GetLastSequence()
	rec := &recorder{}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ready sync.WaitGroup
	var wg sync.WaitGroup
	seen := make([]atomic.Int64, watchers) // the last sequence each watcher received
	for i := range watchers {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream, err := parleyv1.NewNegotiationServiceClient(conns[i%connections]).WatchEvents(as(wctx, fx.tokens[0]),
				&parleyv1.WatchEventsRequest{Negotiation: fx.negotiation, AfterSequence: start})
			ready.Done()
			if err != nil {
				rec.add(0, err)
				return
			}
			want := start + 1
			for {
				resp, err := stream.Recv()
				if err != nil {
					if wctx.Err() == nil {
						rec.add(0, err)
					}
					return
				}
				ev := resp.GetEvent()
				if ev.GetSequence() != want {
					rec.add(0, fmt.Errorf("watcher %d got event %d, want %d", i, ev.GetSequence(), want))
					return
				}
				want++
				rec.add(time.Since(ev.GetEvent().GetTime().AsTime()), nil)
				seen[i].Store(ev.GetSequence())
			}
		}()
	}
	ready.Wait()
	time.Sleep(500 * time.Millisecond) // let every stream reach the server
	stopProgress := showProgress(stderr, name, rec)
	writer := parleyv1.NewNegotiationServiceClient(conns[0])
	tick := time.NewTicker(time.Second / time.Duration(rate))
	began := time.Now()
	choice := parleyv1.VoteChoice_VOTE_CHOICE_APPROVE
	var seq int64
	for time.Since(began) < d && ctx.Err() == nil {
		<-tick.C
		r, err := writer.CastVote(as(ctx, fx.tokens[1]), &parleyv1.CastVoteRequest{Amendment: fx.amendments[0], Choice: choice, VoteOnly: true})
		if err != nil {
			tick.Stop()
			stopProgress()
			return Figure{}, fmt.Errorf("writer: %w", err)
		}
		seq = r.GetVote().GetSequence()
		choice = 4 - choice // APPROVE (1) ⇄ ABSTAIN (3)
	}
	tick.Stop()
	elapsed := time.Since(began)
	deadline := time.Now().Add(30 * time.Second)
	for behind := watchers; behind > 0; time.Sleep(10 * time.Millisecond) {
		behind = 0
		for i := range seen {
			if seen[i].Load() < seq {
				behind++
			}
		}
		if behind > 0 && time.Now().After(deadline) {
			rec.add(0, fmt.Errorf("%d watchers did not receive every event within 30s", behind))
			break
		}
	}
	cancel()
	wg.Wait()
	stopProgress()
	f := rec.figure(name, watchers, elapsed)
	f.PerSecond = float64(f.Ops) / elapsed.Seconds() // deliveries per second
	f.Annotation = fmt.Sprintf("%d events, each to %d watchers", seq-start, watchers)
	return f, ctx.Err()
}
