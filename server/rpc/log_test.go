package rpc_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// An operator reading the log must see who made each call: the line of a
// call, unary or streamed, allowed or refused, names its caller (never its
// token).
func TestLog_NamesTheCaller(t *testing.T) {
	var out servertest.Buffer
	e := newEnvLogging(t, slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	n := e.createDemo()
	ukraine := n.tokens["ukraine"]

	if _, err := e.svc.GetNegotiation(e.as(ukraine), &parleyv1.GetNegotiationRequest{Name: n.name}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CloseVoting(e.as(ukraine), &parleyv1.CloseVotingRequest{RequestId: rid(),
		Amendment: n.name + "/amendments/00000000-0000-0000-0000-000000000000"}); err == nil {
		t.Fatal("a delegation closed voting")
	}
	ctx, cancel := context.WithCancel(e.as(ukraine))
	watch, err := e.svc.WatchEvents(ctx, &parleyv1.WatchEventsRequest{Negotiation: n.name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	for !strings.Contains(out.String(), "/parley.v1.NegotiationService/WatchEvents ") {
		time.Sleep(5 * time.Millisecond) // the stream's line is written once the server sees it end
	}

	wantCaller := "caller=" + strings.TrimPrefix(n.name, "negotiations/") + "/ukraine"
	for _, method := range []string{"GetNegotiation", "CloseVoting", "WatchEvents"} {
		line := ""
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, "/parley.v1.NegotiationService/"+method+" ") {
				line = l
			}
		}
		if line == "" {
			t.Fatalf("no log line for %s in:\n%s", method, out.String())
		}
		if !strings.Contains(line+" ", wantCaller+" ") {
			t.Errorf("the log line of %s does not say %s: %s", method, wantCaller, line)
		}
		if strings.Contains(line, ukraine) {
			t.Errorf("the log line of %s holds the token: %s", method, line)
		}
	}
}
