package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// testMain is a parleyd running in the test's process.
type testMain struct {
	*Main
	stdout *servertest.Buffer
	stderr *servertest.Buffer
}

// newMain parses flags for a server on a free loopback port over dataDir.
// env stands in for the environment.
func newMain(t *testing.T, dataDir string, env map[string]string, args ...string) *testMain {
	t.Helper()
	m := &testMain{Main: NewMain(), stdout: &servertest.Buffer{}, stderr: &servertest.Buffer{}}
	m.Stdout, m.Stderr = m.stdout, m.stderr
	args = append([]string{"--listen", "127.0.0.1:0", "--data", dataDir}, args...)
	if err := m.ParseFlags(args, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("ParseFlags: %v", err)
	}
	return m
}

// mustRun runs m and closes it at the end of the test (Close is safe to call
// twice).
func mustRun(t *testing.T, m *testMain) {
	t.Helper()
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, m.stderr)
	}
	t.Cleanup(func() { m.Close() })
}

func (m *testMain) dial(t *testing.T) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(m.Listener.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func bearer(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s has mode %v, want %v", filepath.Base(path), got, want)
	}
}

func TestMain_Serves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data") // not there yet: Run creates it
	m := newMain(t, dir, nil)
	mustRun(t, m)
	conn := m.dial(t)

	// Health needs no token, so that probes work.
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", h, err)
	}
	tokenPath := filepath.Join(dir, "admin-token")
	wantMode(t, tokenPath, 0o600)
	wantMode(t, filepath.Join(dir, "parley.db"), 0o600)
	if !strings.Contains(m.stdout.String(), "created the admin token") {
		t.Errorf("stdout does not say the admin token was created:\n%s", m.stdout)
	}
	adminToken := readToken(t, tokenPath)
	svc := parleyv1.NewNegotiationServiceClient(conn)
	c, err := svc.GetCaller(bearer(ctx, adminToken), &parleyv1.GetCallerRequest{})
	if err != nil || !c.GetAdmin() {
		t.Fatalf("GetCaller with the admin token: %v %v", c, err)
	}
	if _, err := svc.GetCaller(ctx, &parleyv1.GetCallerRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("GetCaller without a token: %v, want UNAUTHENTICATED", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// A second start keeps the token and the database (bbolt's lock was
	// released by Close).
	again := newMain(t, dir, nil)
	mustRun(t, again)
	if strings.Contains(again.stdout.String(), "created the admin token") {
		t.Errorf("the second start created another admin token")
	}
	if got := readToken(t, tokenPath); got != adminToken {
		t.Errorf("the admin token changed across restarts")
	}
	c, err = parleyv1.NewNegotiationServiceClient(again.dial(t)).GetCaller(bearer(ctx, adminToken), &parleyv1.GetCallerRequest{})
	if err != nil || !c.GetAdmin() {
		t.Fatalf("GetCaller after a restart: %v %v", c, err)
	}
}

func TestMain_AdminTokenFromEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := newMain(t, dir, map[string]string{"PARLEY_ADMIN_TOKEN": " from-the-environment-0123456789\n"})
	mustRun(t, m)
	c, err := parleyv1.NewNegotiationServiceClient(m.dial(t)).GetCaller(bearer(context.Background(), "from-the-environment-0123456789"), &parleyv1.GetCallerRequest{})
	if err != nil || !c.GetAdmin() {
		t.Fatalf("GetCaller with the token from the environment: %v %v", c, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "admin-token")); !os.IsNotExist(err) {
		t.Errorf("an admin-token file was written although the environment gave the token: %v", err)
	}
}

func TestMain_AdminTokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets", "admin")
	m := newMain(t, filepath.Join(dir, "data"), nil, "--admin-token-file", path)
	mustRun(t, m)
	wantMode(t, path, 0o600)
	if _, err := os.Stat(filepath.Join(dir, "data", "admin-token")); !os.IsNotExist(err) {
		t.Errorf("the default admin-token file was written although --admin-token-file was given: %v", err)
	}
	m.Close()

	// A token file others can read is refused before anything is opened.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "fresh")
	loose := newMain(t, fresh, nil, "--admin-token-file", path)
	if err := loose.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Run with a readable admin token file: %v, want a refusal", err)
	}
	loose.Close()
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused start created the data folder: %v", err)
	}
}

func TestMain_DemoTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	tokensPath := filepath.Join(dir, DemoTokensFile)
	first := newMain(t, dir, nil, "--demo")
	mustRun(t, first)
	wantMode(t, tokensPath, 0o600)
	raw, err := os.ReadFile(tokensPath)
	if err != nil {
		t.Fatal(err)
	}
	var tokens DemoTokens
	if err := json.Unmarshal(raw, &tokens); err != nil {
		t.Fatal(err)
	}
	if len(tokens.Tokens) != 5 {
		t.Fatalf("demo tokens for %d participants, want 5", len(tokens.Tokens))
	}
	checkCaller := func(m *testMain, token, want string) error {
		t.Helper()
		c, err := parleyv1.NewNegotiationServiceClient(m.dial(t)).GetCaller(bearer(ctx, token), &parleyv1.GetCallerRequest{})
		if err != nil {
			return err
		}
		if c.GetParticipant().GetId() != want || c.GetNegotiation() != tokens.Negotiation {
			t.Errorf("GetCaller: %v, want %s of %s", c, want, tokens.Negotiation)
		}
		return nil
	}
	if err := checkCaller(first, tokens.Tokens["ukraine"], "ukraine"); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := newMain(t, dir, nil, "--demo")
	mustRun(t, second)
	adminToken := readToken(t, filepath.Join(dir, "admin-token"))
	list, err := parleyv1.NewNegotiationServiceClient(second.dial(t)).ListNegotiations(bearer(ctx, adminToken), &parleyv1.ListNegotiationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetNegotiations()) != 1 || list.GetNegotiations()[0].GetName() != tokens.Negotiation {
		t.Fatalf("after two --demo starts: %d negotiations, want the one", len(list.GetNegotiations()))
	}
	if again, err := os.ReadFile(tokensPath); err != nil || !bytes.Equal(again, raw) {
		t.Errorf("the second --demo start rewrote the token file (%v)", err)
	}
	wantMode(t, tokensPath, 0o600)
	for id, token := range tokens.Tokens {
		if err := checkCaller(second, token, id); err != nil {
			t.Errorf("%s's token after the second start: %v", id, err)
		}
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}

	// Without the file, a third start with --demo does not replace the
	// tokens behind their holders' backs: it refuses, and says how to issue
	// new ones. The old tokens still work.
	if err := os.Remove(tokensPath); err != nil {
		t.Fatal(err)
	}
	third := newMain(t, dir, nil, "--demo")
	err = third.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), DemoTokensFile+" is gone") || !strings.Contains(err.Error(), "parley token rotate --negotiation "+tokens.Negotiation) {
		t.Fatalf("--demo without its token file: %v, want a refusal naming the file and the command", err)
	}
	third.Close()
	if _, err := os.Stat(tokensPath); !os.IsNotExist(err) {
		t.Errorf("the refused start wrote %s: %v", DemoTokensFile, err)
	}
	fourth := newMain(t, dir, nil)
	mustRun(t, fourth)
	if err := checkCaller(fourth, tokens.Tokens["ukraine"], "ukraine"); err != nil {
		t.Errorf("ukraine's token after the refused start: %v", err)
	}
}

func TestMain_PlaintextOffLoopback(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:50051", "[::]:0"} {
		m := NewMain()
		m.Stdout, m.Stderr = &servertest.Buffer{}, &servertest.Buffer{}
		if err := m.ParseFlags([]string{"--listen", addr, "--data", dir}, func(string) string { return "" }); err != nil {
			t.Fatal(err)
		}
		err := m.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "--allow-plaintext") {
			t.Errorf("--listen %s without --allow-plaintext: %v, want a refusal naming the flag", addr, err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close after a refused Run: %v", err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused start left files behind: %v", entries)
	}
	// Only the decision is tested for what may serve: binding every
	// interface from a test is not polite.
	for _, c := range []struct {
		addr    string
		allowed bool
		ok      bool
	}{
		{"127.0.0.1:50051", false, true}, {"127.1.2.3:0", false, true}, {"[::1]:0", false, true}, {"localhost:0", false, true},
		{"0.0.0.0:50051", true, true}, {"example.org:50051", false, false}, {"nonsense", true, false},
	} {
		if err := checkPlaintext(c.addr, c.allowed); (err == nil) != c.ok {
			t.Errorf("checkPlaintext(%q, allowed=%v) = %v, want ok=%v", c.addr, c.allowed, err, c.ok)
		}
	}
}

func TestMain_ParseFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"extra"}, {"--log-level", "loud"}, {"--no-such-flag"}} {
		m := NewMain()
		m.Stderr = &servertest.Buffer{}
		if err := m.ParseFlags(args, func(string) string { return "" }); err == nil {
			t.Errorf("ParseFlags(%q) accepted it", args)
		}
	}
}

// TestMain_CloseWithWatcher checks that a watcher, whose stream never ends on
// its own, does not hold up a graceful stop: Close ends it with UNAVAILABLE
// long before the stop timeout.
func TestMain_CloseWithWatcher(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	m := newMain(t, dir, nil, "--demo", "--stop-timeout", "1m")
	mustRun(t, m)
	raw, err := os.ReadFile(filepath.Join(dir, DemoTokensFile))
	if err != nil {
		t.Fatal(err)
	}
	var tokens DemoTokens
	if err := json.Unmarshal(raw, &tokens); err != nil {
		t.Fatal(err)
	}
	stream, err := parleyv1.NewNegotiationServiceClient(m.dial(t)).WatchEvents(bearer(ctx, tokens.Tokens["europe"]),
		&parleyv1.WatchEventsRequest{Negotiation: tokens.Negotiation})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("first event: %v", err)
	}

	start := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waiting after 10s with a watcher open")
	}
	t.Logf("Close took %v with a watcher open", time.Since(start))
	for {
		_, err := stream.Recv()
		if err == nil {
			continue // the rest of the backlog
		}
		st := status.Convert(err)
		reason := ""
		for _, d := range st.Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok {
				reason = info.GetReason()
			}
		}
		if st.Code() != codes.Unavailable || reason != "SHUTTING_DOWN" {
			t.Errorf("the watcher ended with %v %q, want UNAVAILABLE SHUTTING_DOWN", st.Code(), reason)
		}
		break
	}
}

// TestMain_Metrics serves Prometheus metrics that count calls and commits.
func TestMain_Metrics(t *testing.T) {
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	dir := t.TempDir()
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data", dir, "--metrics-listen", "127.0.0.1:0", "--demo"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	resp, err := http.Get("http://" + m.MetricsListener.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="CreateNegotiation",grpc_service="parley.v1.NegotiationService",grpc_type="unary"} 1`,
		"parley_store_commit_seconds_count ",
		"parley_store_events_appended_total 34", // the demo: creation, 28 points, 5 tokens
		"parley_watchers 0",
		"parley_store_file_bytes ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"200MiB": 200 << 20, "1GiB": 1 << 30, "4096": 4096, "64KiB": 64 << 10, "10B": 10} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-5MiB", "ten", "0"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) took it", in)
		}
	}
}
