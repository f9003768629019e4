// Package servertest runs the real parleyd binary for tests: built once per
// test binary, started on a free loopback port with a temporary data folder,
// and reached over gRPC.
package servertest

import (
	"bufio"
	"context"
	binenc "encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
)

var (
	buildMu  sync.Mutex
	binary   string
	buildErr error
)

// moduleRoot is the repository's root, found from this file's path.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Binary builds parleyd once per test process and returns its path. With
// -race in the test flags, the binary is built with the race detector too. If
// the binary has gone since (a cleaner of the temporary folder on a shared
// machine), it is built again rather than failing every later test.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	if binary != "" {
		if _, err := os.Stat(binary); err == nil {
			return binary
		}
	}
	removeStaleBinaries()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("parleyd-bin-%d", os.Getpid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		buildErr = err
		tb.Fatal(buildErr)
	}
	binary = filepath.Join(dir, "parleyd")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/parleyd")...)
	cmd.Dir = moduleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build parleyd: %v\n%s", err, out)
		tb.Fatal(buildErr)
	}
	return binary
}

// removeStaleBinaries deletes the binaries built by test processes that have
// ended: a test binary has no hook at exit, so each one cleans up after the
// ones before it. Only folders named after a process that no longer exists
// are removed; anything else may belong to someone running now.
func removeStaleBinaries() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "parleyd-bin-*"))
	for _, dir := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), "parleyd-bin-"))
		if err == nil && syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(dir)
		}
	}
}

// Server is a running parleyd process.
type Server struct {
	tb   testing.TB
	Addr string // host:port it serves gRPC on
	// HTTPURL is where it serves HTTP (the API over Connect, gRPC-Web and
	// gRPC, and the board), such as "http://127.0.0.1:41234"; every server
	// has one, on a free port unless Args give --http-listen.
	HTTPURL    string
	DataDir    string
	AdminToken string
	Args       []string // extra flags it was started with
	// DialOptions are added to every connection Conn makes, after its own:
	// set them, for instance to TLS credentials, before calling Conn,
	// Create or CreateDemo.
	DialOptions []grpc.DialOption
	Stdout      *Buffer
	Stderr      *Buffer

	cmd    *exec.Cmd
	exited chan struct{}
	conns  []*grpc.ClientConn
}

// Start starts parleyd on a free port with a new data folder. Extra flags
// are passed on. The server is killed at the end of the test if still up.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	return StartIn(tb, tb.TempDir(), "prl_test-admin-token-"+fmt.Sprint(time.Now().UnixNano()), args...)
}

// StartIn starts parleyd as Start does, but on the given data folder and
// with the given admin token: the nodes of a cluster share the token, and
// their folders are prepared beforehand (the checkpoint key they share).
func StartIn(tb testing.TB, dataDir, adminToken string, args ...string) *Server {
	tb.Helper()
	s := &Server{tb: tb, DataDir: dataDir, AdminToken: adminToken, Args: args}
	s.start()
	tb.Cleanup(func() {
		s.Kill()
		for _, c := range s.conns {
			c.Close()
		}
	})
	return s
}

// Signal sends a signal to the running process (SIGSTOP, SIGCONT...).
func (s *Server) Signal(sig syscall.Signal) {
	if s.cmd != nil {
		s.cmd.Process.Signal(sig)
	}
}

func (s *Server) start() {
	s.tb.Helper()
	args := append([]string{"--listen", "127.0.0.1:0", "--data", s.DataDir}, s.Args...)
	if s.Addr != "" {
		args[1] = s.Addr // a restart keeps its address, so open connections reconnect
	}
	i := slices.IndexFunc(s.Args, func(a string) bool { return a == "--http-listen" || strings.HasPrefix(a, "--http-listen=") })
	expectHTTP := true
	if i >= 0 {
		value, given := strings.CutPrefix(s.Args[i], "--http-listen=")
		if !given && i+1 < len(s.Args) {
			value = s.Args[i+1]
		}
		expectHTTP = value != "" && value != "off"
	} else {
		httpListen := "127.0.0.1:0"
		if s.HTTPURL != "" {
			httpListen = s.HTTPURL[strings.Index(s.HTTPURL, "://")+3:] // a restart keeps this address too
		}
		args = append(args, "--http-listen", httpListen)
	}
	cmd := exec.Command(Binary(s.tb), args...)
	cmd.Env = append(os.Environ(), "PARLEY_ADMIN_TOKEN="+s.AdminToken)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.tb.Fatal(err)
	}
	s.Stdout, s.Stderr = &Buffer{}, &Buffer{}
	cmd.Stderr = s.Stderr
	if err := cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	addr, httpURL := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.Stdout.Write([]byte(line + "\n"))
			if a, ok := strings.CutPrefix(line, "parleyd: serving HTTP on "); ok {
				httpURL <- a
			}
			if a, ok := strings.CutPrefix(line, "parleyd: serving on "); ok {
				addr <- a
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		cmd.Wait()
		close(s.exited)
	}()
	select {
	case s.Addr = <-addr:
	case <-s.exited:
		s.tb.Fatalf("parleyd exited before serving:\n%s", s.Stderr.String())
	case <-time.After(30 * time.Second):
		s.tb.Fatalf("parleyd did not start within 30s:\n%s", s.Stderr.String())
	}
	if !expectHTTP {
		return
	}
	select {
	case s.HTTPURL = <-httpURL:
	case <-s.exited:
		s.tb.Fatalf("parleyd exited before serving HTTP:\n%s", s.Stderr.String())
	case <-time.After(30 * time.Second):
		s.tb.Fatalf("parleyd did not serve HTTP within 30s:\n%s", s.Stderr.String())
	}
}

// Stop sends SIGTERM and waits for a graceful exit.
func (s *Server) Stop() {
	s.tb.Helper()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.tb.Fatalf("parleyd did not stop within 30s")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		s.tb.Fatalf("parleyd exited with %d:\n%s", code, s.Stderr.String())
	}
	s.cmd = nil
}

// Kill kills the process with SIGKILL, as a crash would.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart starts the server again on the same data folder and address.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	s.start()
}

// DamageNewestMeta corrupts the checksum of the newest bbolt meta page of the
// stopped server's database, as a bad sector would: bbolt then opens the file
// as it was one transaction earlier. bbolt keeps two meta pages, in pages 0
// and 1; the newest has the higher transaction id.
func (s *Server) DamageNewestMeta() {
	s.tb.Helper()
	if s.cmd != nil {
		s.tb.Fatal("DamageNewestMeta: stop the server first")
	}
	DamageNewestMeta(s.tb, filepath.Join(s.DataDir, "parley.db"))
}

// DamageNewestMeta corrupts the newest meta page of the bbolt file at path,
// which no process may have open.
func DamageNewestMeta(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	// Offsets in a meta page: a page header of 16 bytes, then the meta
	// record, with the page size at 8, the transaction id at 48 and the
	// checksum at 56, in the machine's byte order.
	const header, pageSizeAt, txidAt, checksumAt = 16, 8, 48, 56
	read := func(off int64, n int) []byte {
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, off); err != nil {
			tb.Fatal(err)
		}
		return buf
	}
	pageSize := int64(binenc.NativeEndian.Uint32(read(header+pageSizeAt, 4)))
	newest := int64(0)
	if binenc.NativeEndian.Uint64(read(pageSize+header+txidAt, 8)) > binenc.NativeEndian.Uint64(read(header+txidAt, 8)) {
		newest = pageSize
	}
	sum := read(newest+header+checksumAt, 1)
	if _, err := f.WriteAt([]byte{^sum[0]}, newest+header+checksumAt); err != nil {
		tb.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		tb.Fatal(err)
	}
}

// Pid returns the process id of the running server, 0 if it is not running.
func (s *Server) Pid() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Race reports whether parleyd is built with the race detector, which
// multiplies its memory: tests of the server's memory bounds skip then.
const Race = raceEnabled

// Exited is closed when the process ends.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Conn returns a new client connection to the server, closed at the end of
// the test. It is plaintext unless DialOptions or opts say otherwise; opts
// come last.
func (s *Server) Conn(opts ...grpc.DialOption) *grpc.ClientConn {
	s.tb.Helper()
	all := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256 << 20))}
	all = append(append(all, s.DialOptions...), opts...)
	conn, err := grpc.NewClient(s.Addr, all...)
	if err != nil {
		s.tb.Fatal(err)
	}
	s.conns = append(s.conns, conn)
	return conn
}

// Health returns the server's health client.
func (s *Server) Health() healthpb.HealthClient { return healthpb.NewHealthClient(s.Conn()) }

// As returns ctx carrying a bearer token.
func As(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// Negotiation is a negotiation created for a test, with a token for each
// participant.
type Negotiation struct {
	Name   string
	Tokens map[string]string // participant id → token
}

// CreateDemo creates the 28-point demo negotiation on the server, issues a
// token to each participant and returns them.
func (s *Server) CreateDemo(ctx context.Context) Negotiation {
	s.tb.Helper()
	req := demo.CreateRequest()
	req.RequestId = ""
	return s.Create(ctx, req)
}

// Create creates a negotiation as the administrator and issues a token to
// each of its participants.
func (s *Server) Create(ctx context.Context, req *parleyv1.CreateNegotiationRequest) Negotiation {
	s.tb.Helper()
	conn := s.Conn()
	admin := As(ctx, s.AdminToken)
	created, err := parleyv1.NewNegotiationServiceClient(conn).CreateNegotiation(admin, req)
	if err != nil {
		s.tb.Fatalf("create negotiation: %v", err)
	}
	n := Negotiation{Name: created.GetNegotiation().GetName(), Tokens: map[string]string{}}
	for _, p := range created.GetNegotiation().GetParticipants() {
		r, err := parleyv1.NewAdminServiceClient(conn).IssueToken(admin, &parleyv1.IssueTokenRequest{
			Negotiation: n.Name, Participant: p.GetId()})
		if err != nil {
			s.tb.Fatalf("issue token to %s: %v", p.GetId(), err)
		}
		n.Tokens[p.GetId()] = r.GetToken()
	}
	return n
}

// Buffer is a bytes buffer safe for concurrent writes and reads: a process's
// output, or a log that a server writes while its test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
