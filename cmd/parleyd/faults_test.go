package main_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// faultsRun runs parleyd on a data folder until it serves (then kills it and
// returns -1) or exits (its status), with its output.
func faultsRun(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(servertest.Binary(t), append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var errBuf, outBuf strings.Builder
	cmd.Stderr = &errBuf
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	served := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			outBuf.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "parleyd: serving on ") {
				served <- true
				return
			}
		}
		served <- false
	}()
	select {
	case ok := <-served:
		if ok {
			cmd.Process.Kill()
			cmd.Wait()
			return -1, outBuf.String(), errBuf.String()
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("parleyd neither served nor exited within 60s:\n%s", errBuf.String())
	}
	cmd.Wait()
	return cmd.ProcessState.ExitCode(), outBuf.String(), errBuf.String()
}

// eventCount returns how many events a negotiation's log holds.
func eventCount(t *testing.T, ctx context.Context, api parleyv1.NegotiationServiceClient, name string) int64 {
	t.Helper()
	got, err := api.GetNegotiation(ctx, &parleyv1.GetNegotiationRequest{Name: name})
	if err != nil {
		t.Fatalf("GetNegotiation: %v", err)
	}
	return got.GetNegotiation().GetLastSequence()
}

// TestFaults_StorageFull fills the disk under a running parleyd: a write is
// refused with RESOURCE_EXHAUSTED STORAGE_FULL and changes nothing, and once
// space is freed the same write succeeds, without a restart. The disk is a
// small tmpfs, so the test needs to be root where mount works.
func TestFaults_StorageFull(t *testing.T) { testStorageFull(t) }

// TestFaults_StorageFull_WriteAheadLog fills the disk under a parleyd that
// commits through its write-ahead log: a write that finds no room in the log,
// or whose bbolt commit finds none after its record was written (which is
// then erased), is refused alike, and succeeds once space is back.
func TestFaults_StorageFull_WriteAheadLog(t *testing.T) { testStorageFull(t, "--write-ahead-log") }

func testStorageFull(t *testing.T, serverFlags ...string) {
	t.Parallel()
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data := filepath.Join(mnt, "data")
	s := servertest.Start(t, append([]string{"--data", data}, serverFlags...)...) // the last --data wins
	n := s.CreateDemo(ctx)
	api := parleyv1.NewNegotiationServiceClient(s.Conn())
	ukraine := servertest.As(ctx, n.Tokens["ukraine"])
	doc, err := api.GetDocument(ukraine, &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	point := doc.GetPoints()[0]
	propose := func(i int) *parleyv1.ProposeAmendmentRequest {
		return &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name, RequestId: fmt.Sprintf("full-%d", i),
			Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: point.GetName(), BaseRevision: point.GetRevision(),
			Text: strings.Repeat(fmt.Sprintf("text %d of a long amendment. ", i), 300), Rationale: "fill the disk"}
	}

	// Fill the file system, leaving parleyd no room to grow its file.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	f.Close()

	// Some writes may still fit in pages the file already holds; the disk
	// being full, one soon does not.
	var failed *parleyv1.ProposeAmendmentRequest
	for i := 0; i < 200 && failed == nil; i++ {
		before := eventCount(t, ukraine, api, n.Name)
		req := propose(i)
		_, err := api.ProposeAmendment(ukraine, req)
		if err == nil {
			continue
		}
		wantError(t, "a write on a full disk", err, codes.ResourceExhausted, "STORAGE_FULL")
		if after := eventCount(t, ukraine, api, n.Name); after != before {
			t.Fatalf("a refused write changed the log: %d events, then %d", before, after)
		}
		failed = req
	}
	if failed == nil {
		t.Fatal("200 writes of 9 KB fitted on a full 4 MiB disk")
	}
	if !strings.Contains(s.Stderr.String(), "no space left on device") {
		t.Errorf("the log does not give the cause:\n%s", s.Stderr.String())
	}

	// Space comes back: the same request now succeeds, on the same process.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	before := eventCount(t, ukraine, api, n.Name)
	if _, err := api.ProposeAmendment(ukraine, failed); err != nil {
		t.Fatalf("the write once space is back: %v", err)
	}
	if after := eventCount(t, ukraine, api, n.Name); after != before+1 {
		t.Fatalf("after the write: %d events, want %d", after, before+1)
	}
	select {
	case <-s.Exited():
		t.Fatal("parleyd exited")
	default:
	}
	s.Stop()
	s.Args = append(s.Args, "--verify")
	s.Restart()
	if got := eventCount(t, ukraine, parleyv1.NewNegotiationServiceClient(s.Conn()), n.Name); got != before+1 {
		t.Fatalf("after a restart: %d events, want %d", got, before+1)
	}
}

// TestFaults_GoneBackInTime damages the newest meta page of a stopped
// server's database: parleyd refuses to serve it, with or without --verify,
// naming the last event it knew. An operator who accepts the older state
// anyway (by deleting the record) gets a server that clients which trusted
// a newer checkpoint report as rolled back.
func TestFaults_GoneBackInTime(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := servertest.Start(t)
	n := s.CreateDemo(ctx)
	conn := s.Conn()
	api := parleyv1.NewNegotiationServiceClient(conn)
	ukraine := servertest.As(ctx, n.Tokens["ukraine"])
	doc, err := api.GetDocument(ukraine, &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.GetPoints()[:3] {
		if _, err := api.SignOffPoint(ukraine, &parleyv1.SignOffPointRequest{Point: p.GetName(), Revision: p.GetRevision(), TextSha256: p.GetTextSha256(), RequestId: rid()}); err != nil {
			t.Fatal(err)
		}
	}
	last := eventCount(t, ukraine, api, n.Name)
	key, err := parleyv1.NewAuditServiceClient(conn).GetVerifierKey(ukraine, &parleyv1.GetVerifierKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	trust := &client.TrustStore{Dir: t.TempDir()}
	audit, err := client.NewAuditLog(conn, n.Name, key.GetVerifierKey(), trust)
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := audit.Sync(ukraine); err != nil || cp.Size != uint64(last) {
		t.Fatalf("trust the checkpoint of %d events: %v %v", last, cp, err)
	}
	s.Stop()
	db := filepath.Join(s.DataDir, "parley.db")
	s.DamageNewestMeta()

	env := []string{"PARLEY_ADMIN_TOKEN=" + s.AdminToken}
	for _, args := range [][]string{{"--data", s.DataDir}, {"--data", s.DataDir, "--verify"}} {
		code, _, stderr := faultsRun(t, env, args...)
		want := fmt.Sprintf("negotiation %s had reached event %d", strings.TrimPrefix(n.Name, "negotiations/"), last)
		if code != 1 || !strings.Contains(stderr, "gone back in time") || !strings.Contains(stderr, want) || !strings.Contains(stderr, "backup") {
			t.Errorf("parleyd %v on a database gone back in time: exit %d, stderr:\n%s\nwant exit 1, %q and how to recover", args, code, stderr, want)
		}
	}

	// The operator accepts the older state: the client that trusted the
	// newer checkpoint says the log was rolled back.
	if err := os.Remove(db + ".last-commit"); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	conn = s.Conn()
	if got := eventCount(t, ukraine, parleyv1.NewNegotiationServiceClient(conn), n.Name); got != last-1 {
		t.Fatalf("the damaged file serves %d events, want %d (one transaction back)", got, last-1)
	}
	again, err := client.NewAuditLog(conn, n.Name, key.GetVerifierKey(), trust)
	if err != nil {
		t.Fatal(err)
	}
	_, err = again.Sync(ukraine)
	var logErr *client.LogError
	if !errors.As(err, &logErr) || logErr.Reason != "ROLLBACK" {
		t.Fatalf("a client that trusted %d events, on a log of %d: %v, want a ROLLBACK LogError", last, last-1, err)
	}
}

// TestFaults_StartUp checks what parleyd refuses before it serves, and that
// a refused start writes nothing into a new data folder.
func TestFaults_StartUp(t *testing.T) {
	t.Parallel()
	strong := "PARLEY_ADMIN_TOKEN=prl_startup-test-admin-token-0123456789"

	t.Run("ErrDataFolderInUse", func(t *testing.T) {
		s := servertest.Start(t)
		code, _, stderr := faultsRun(t, []string{strong}, "--data", s.DataDir)
		want := fmt.Sprintf("in use by process %d", s.Pid())
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("a second parleyd on the same data folder: exit %d, stderr:\n%s\nwant exit 1 and %q", code, stderr, want)
		}
	})

	t.Run("ErrAddressInUse", func(t *testing.T) {
		s := servertest.Start(t)
		fresh := filepath.Join(t.TempDir(), "data")
		code, _, stderr := faultsRun(t, nil, "--data", fresh, "--listen", s.Addr)
		if code != 1 || !strings.Contains(stderr, "address already in use") {
			t.Errorf("parleyd on a port in use: exit %d, stderr:\n%s", code, stderr)
		}
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Errorf("the refused start made the data folder (admin token, key...): %v", err)
		}
	})

	t.Run("ErrHTTPAddressInUse", func(t *testing.T) {
		s := servertest.Start(t)
		fresh := filepath.Join(t.TempDir(), "data")
		code, _, stderr := faultsRun(t, nil, "--data", fresh, "--listen", "127.0.0.1:0", "--http-listen", strings.TrimPrefix(s.HTTPURL, "http://"))
		if code != 1 || !strings.Contains(stderr, "--http-listen") || !strings.Contains(stderr, "address already in use") {
			t.Errorf("parleyd on an HTTP port in use: exit %d, stderr:\n%s", code, stderr)
		}
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Errorf("the refused start made the data folder (admin token, key...): %v", err)
		}
	})

	t.Run("ErrWeakAdminToken", func(t *testing.T) {
		dir := t.TempDir()
		code, _, stderr := faultsRun(t, []string{"PARLEY_ADMIN_TOKEN=x"}, "--data", dir)
		if code != 1 || !strings.Contains(stderr, "PARLEY_ADMIN_TOKEN: the token is too short") {
			t.Errorf("a one-character admin token: exit %d, stderr:\n%s", code, stderr)
		}
		if err := os.WriteFile(filepath.Join(dir, "admin-token"), []byte("0123456789abcdef0123456789abcde\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr = faultsRun(t, nil, "--data", dir)
		if code != 1 || !strings.Contains(stderr, "at most 124 bits") {
			t.Errorf("an admin token file of 31 hex digits: exit %d, stderr:\n%s", code, stderr)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("refused starts left files: %v", entries)
		}
		if err := os.WriteFile(filepath.Join(dir, "admin-token"), []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := faultsRun(t, nil, "--data", dir); code != -1 {
			t.Errorf("an admin token of 32 hex digits: exit %d, stderr:\n%s", code, stderr)
		}
	})

	t.Run("ErrDemoTokensGone", func(t *testing.T) {
		s := servertest.Start(t, "--demo")
		for deadline := time.Now().Add(time.Minute); !strings.Contains(s.Stdout.String(), "demo negotiation"); {
			if time.Now().After(deadline) {
				t.Fatalf("the demo was not made:\n%s", s.Stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		s.Stop()
		if err := os.Remove(filepath.Join(s.DataDir, "demo-tokens.json")); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := faultsRun(t, []string{"PARLEY_ADMIN_TOKEN=" + s.AdminToken}, "--data", s.DataDir, "--demo")
		if code != 1 || !strings.Contains(stderr, "demo-tokens.json is gone") || !strings.Contains(stderr, "parley token rotate") {
			t.Errorf("--demo without its token file: exit %d, stderr:\n%s", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(s.DataDir, "demo-tokens.json")); !os.IsNotExist(err) {
			t.Errorf("the refused start wrote new tokens: %v", err)
		}
	})
}

// TestFaults_AuthFailureFlood sends a flood of calls with wrong tokens from
// one address: past the burst they are refused with RESOURCE_EXHAUSTED
// AUTH_RATE_LIMITED, another address is not affected, and the log holds a
// few lines with counts rather than a line a call.
func TestFaults_AuthFailureFlood(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := servertest.Start(t, "--auth-failure-limit", "5", "--auth-failure-burst", "20")
	n := s.CreateDemo(ctx)
	from := func(ip string) parleyv1.NegotiationServiceClient {
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return parleyv1.NewNegotiationServiceClient(s.Conn(grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, "tcp", addr)
		})))
	}
	flooder := from("127.0.0.1")
	const calls = 500
	limited := 0
	for i := 0; i < calls; i++ {
		_, err := flooder.GetCaller(servertest.As(ctx, fmt.Sprintf("prl_guess-%d", i)), &parleyv1.GetCallerRequest{})
		code, reason, _ := errorInfo(err)
		switch {
		case code == codes.ResourceExhausted && reason == "AUTH_RATE_LIMITED":
			limited++
		case code == codes.Unauthenticated:
		default:
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if limited < calls-100 {
		t.Errorf("%d of %d wrong tokens were refused as AUTH_RATE_LIMITED, want nearly all past the burst of 20", limited, calls)
	}
	// While the address is limited, even a valid token from it waits: the
	// token is not looked at.
	_, err := flooder.GetCaller(servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.GetCallerRequest{})
	wantError(t, "a valid token from the flooding address", err, codes.ResourceExhausted, "AUTH_RATE_LIMITED")
	// Another address is not affected.
	if _, err := from("127.0.0.2").GetCaller(servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.GetCallerRequest{}); err != nil {
		t.Errorf("a valid token from another address: %v", err)
	}
	// The flooding address recovers as its bucket refills; meanwhile the
	// log's period ends and it writes the count.
	time.Sleep(1200 * time.Millisecond)
	if _, err := flooder.GetCaller(servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.GetCallerRequest{}); err != nil {
		t.Errorf("a valid token from the flooding address once it refilled: %v", err)
	}

	s.Stop()
	logged := 0
	counted := 0
	for _, line := range strings.Split(s.Stderr.String(), "\n") {
		if !strings.Contains(line, "peer=127.0.0.1") {
			continue
		}
		logged++
		if i := strings.Index(line, " count="); i >= 0 {
			var c int
			fmt.Sscanf(line[i+len(" count="):], "%d", &c)
			counted += c
		} else {
			counted++
		}
	}
	if logged > 20 || counted != calls+1 {
		t.Errorf("%d refusals from 127.0.0.1 took %d log lines counting %d, want a few lines counting all of them:\n%s",
			calls+1, logged, counted, s.Stderr.String())
	}
	if !strings.Contains(s.Stderr.String(), "refusals in the last") {
		t.Errorf("no counted line in the log:\n%s", s.Stderr.String())
	}
}

// TestFaults_CheckpointKey removes the checkpoint key of a database with
// history: parleyd refuses to start, and writes no new key; with
// --rotate-checkpoint-key it makes one and records the rotation in the log,
// and a client that pinned the old key follows it, loudly, and keeps the new
// key for later runs.
func TestFaults_CheckpointKey(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := servertest.Start(t)
	n := s.CreateDemo(ctx)
	ukraine := servertest.As(ctx, n.Tokens["ukraine"])
	conn := s.Conn()
	old, err := parleyv1.NewAuditServiceClient(conn).GetVerifierKey(ukraine, &parleyv1.GetVerifierKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	trust := &client.TrustStore{Dir: t.TempDir()}
	audit, err := client.NewAuditLog(conn, n.Name, old.GetVerifierKey(), trust)
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := audit.Sync(ukraine)
	if err != nil {
		t.Fatal(err)
	}
	s.Stop()

	keyPath := filepath.Join(s.DataDir, "checkpoint-key")
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := faultsRun(t, []string{"PARLEY_ADMIN_TOKEN=" + s.AdminToken}, "--data", s.DataDir)
	if code != 1 || !strings.Contains(stderr, "checkpoint-key is missing") || !strings.Contains(stderr, old.GetVerifierKey()) ||
		!strings.Contains(stderr, "--rotate-checkpoint-key") {
		t.Errorf("parleyd without its checkpoint key: exit %d, stderr:\n%s\nwant a refusal naming the pinned key and the flag", code, stderr)
	}
	if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
		t.Fatalf("the refused start made a key: %v", err)
	}

	s.Args = append(s.Args, "--rotate-checkpoint-key")
	s.Restart()
	if !strings.Contains(s.Stdout.String(), "ROTATED the checkpoint key") {
		t.Errorf("the rotation is not announced:\n%s", s.Stdout.String())
	}
	conn = s.Conn()
	api := parleyv1.NewNegotiationServiceClient(conn)
	next, err := parleyv1.NewAuditServiceClient(conn).GetVerifierKey(ukraine, &parleyv1.GetVerifierKeyRequest{})
	if err != nil || next.GetVerifierKey() == old.GetVerifierKey() {
		t.Fatalf("the key after the rotation: %v %v", next, err)
	}
	events := listAllEvents(t, ukraine, api, n.Name, 1000)
	last := events[len(events)-1].GetEvent()
	if r := last.GetCheckpointKeyRotated(); last.GetSequence() != int64(trusted.Size)+1 || last.GetActor() != "admin" ||
		r.GetVerifierKey() != next.GetVerifierKey() || r.GetPreviousVerifierKey() != old.GetVerifierKey() {
		t.Fatalf("the last event: %v, want the rotation from the old key to the new one at %d", last, trusted.Size+1)
	}

	// The client that pinned the old key follows the rotation, and says so.
	var followed []client.KeyRotation
	pinnedOld, err := client.NewAuditLog(conn, n.Name, old.GetVerifierKey(), trust)
	if err != nil {
		t.Fatal(err)
	}
	pinnedOld.OnKeyRotation = func(r client.KeyRotation) { followed = append(followed, r) }
	cp, err := pinnedOld.Sync(ukraine)
	if err != nil {
		t.Fatalf("a client that pinned the old key: %v", err)
	}
	want := client.KeyRotation{Negotiation: n.Name, Sequence: int64(trusted.Size) + 1, From: old.GetVerifierKey(),
		To: next.GetVerifierKey(), TrustedSize: trusted.Size}
	if len(followed) != 1 || followed[0] != want || cp.Size != trusted.Size+1 {
		t.Fatalf("followed %+v to a checkpoint of %d, want %+v", followed, cp.Size, want)
	}
	// A later run starts from the key it learned: nothing to follow again.
	followed = nil
	again, err := client.NewAuditLog(conn, n.Name, old.GetVerifierKey(), trust)
	if err != nil {
		t.Fatal(err)
	}
	again.OnKeyRotation = pinnedOld.OnKeyRotation
	if _, err := again.Sync(ukraine); err != nil || len(followed) != 0 || again.Key() != next.GetVerifierKey() {
		t.Fatalf("the next run: %v, followed %v, key %s", err, followed, again.Key())
	}
	// A client that never trusted anything of this log, with the old key,
	// follows it from the start.
	fresh, err := client.NewAuditLog(conn, n.Name, old.GetVerifierKey(), &client.TrustStore{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Sync(ukraine); err != nil || fresh.Key() != next.GetVerifierKey() {
		t.Fatalf("a new client with the old key: %v", err)
	}

	// The key is now on record: a start without the flag serves, and one
	// with another key file is refused.
	s.Args = append(s.Args[:len(s.Args)-1], "--verify")
	s.Restart()
	if !strings.Contains(s.Stderr.String(), "database verified") {
		t.Errorf("--verify after the rotation:\n%s", s.Stderr.String())
	}
	s.Stop()
	if err := os.WriteFile(keyPath, []byte(mustKey(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = faultsRun(t, []string{"PARLEY_ADMIN_TOKEN=" + s.AdminToken}, "--data", s.DataDir)
	if code != 1 || !strings.Contains(stderr, "but the database's checkpoints are signed by "+next.GetVerifierKey()) {
		t.Errorf("parleyd with another key file: exit %d, stderr:\n%s", code, stderr)
	}
}

// mustKey returns a new note signing key.
func mustKey(t *testing.T) string {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, "other")
	if err != nil {
		t.Fatal(err)
	}
	return skey
}
