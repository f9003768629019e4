// Command parley-bench measures a Parley server: write throughput and latency
// under concurrent delegations, fan-out of events to many watchers, and the
// cost of reads on a large negotiation. Every figure is printed beside a
// ceiling measured in the same run on the same machine, so that the ratio is
// what counts on a noisy machine.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/parley-negotiation/parley/server/credential"
)

const usage = `Usage: parley-bench <mode> [flags]

Modes:
  load     CastVote (or a mix) from many clients, beside a no-op gRPC call and a bare bbolt write
  fanout   time from commit to delivery of events at many watchers
  scale    a negotiation of 10,000 points, 100,000 amendments, 1,000,000 events: reads, start, memory

Run 'parley-bench <mode> -h' for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(exitCode(run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// usageError is a mistake on the command line: exit 2, as flag does.
type usageError struct{ error }

// exitCode prints err and returns the exit code: 0 when help was asked
// for, 2 for a wrong command line, 1 when a measurement failed.
func exitCode(err error, stderr io.Writer) int {
	var usage usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		if usage.error != nil {
			fmt.Fprintln(stderr, "parley-bench:", err)
		}
		return 2
	}
	fmt.Fprintln(stderr, "parley-bench:", err)
	return 1
}

// parseFlags parses a mode's flags; flag has already printed what is wrong.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return usageError{}
	}
	return err
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("name a mode: load, fanout or scale")}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "load":
		return runLoad(ctx, args[1:], stdout, stderr)
	case "fanout":
		return runFanout(ctx, args[1:], stdout, stderr)
	case "scale":
		return runScale(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Errorf("unknown mode %q: use load, fanout or scale", args[0])}
}

// serverFlags are the flags that say which server to measure.
type serverFlags struct {
	target     string
	adminToken string
	parleyd    string
	data       string
	extra      string
}

func (s *serverFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.target, "target", "", "`address` of a running parleyd to measure; empty: start one")
	fs.StringVar(&s.adminToken, "admin-token", os.Getenv("PARLEY_ADMIN_TOKEN"), "admin `token` of the --target server (default $PARLEY_ADMIN_TOKEN)")
	fs.StringVar(&s.parleyd, "parleyd", "", "parleyd `binary` to start (default: parleyd beside this binary, then on PATH)")
	fs.StringVar(&s.data, "data", "", "data `folder` for the started server (default: a new temporary folder)")
	fs.StringVar(&s.extra, "server-flags", "--rate-limit=0 --watch-streams-per-token=0", "extra `flags` for the started server, space separated")
}

// server is the parleyd under measurement.
type server struct {
	addr       string
	adminToken string
	cmd        *exec.Cmd
	startTime  time.Duration // from exec to serving
	exited     chan struct{}
	cleanup    []func()
}

// start returns the server to measure: the --target one, or a parleyd it
// starts with fsync on, as in production.
func (s *serverFlags) start(ctx context.Context, stderr io.Writer) (*server, error) {
	if s.target != "" {
		if s.adminToken == "" {
			return nil, errors.New("--target needs --admin-token or PARLEY_ADMIN_TOKEN")
		}
		return &server{addr: s.target, adminToken: s.adminToken}, nil
	}
	bin, err := s.binary()
	if err != nil {
		return nil, err
	}
	srv := &server{}
	data := s.data
	if data == "" {
		if data, err = os.MkdirTemp("", "parley-bench-"); err != nil {
			return nil, err
		}
		srv.cleanup = append(srv.cleanup, func() { os.RemoveAll(data) })
	}
	srv.adminToken, _ = credential.NewToken()
	args := []string{"--listen", "127.0.0.1:0", "--data", data, "--log-level", "warn"}
	if s.extra != "" {
		args = append(args, strings.Fields(s.extra)...)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "PARLEY_ADMIN_TOKEN="+srv.adminToken)
	cmd.Stderr = stderr
	began := time.Now()
	if srv.addr, srv.exited, err = startServing(cmd, "parleyd"); err != nil {
		return nil, err
	}
	srv.cmd = cmd
	srv.startTime = time.Since(began)
	return srv, nil
}

func (s *serverFlags) binary() (string, error) {
	if s.parleyd != "" {
		return s.parleyd, nil
	}
	if path := findProgram("parleyd"); path != "" {
		return path, nil
	}
	return "", errors.New("no parleyd binary: build one with 'go build -o bin/ ./cmd/parleyd ./cmd/parley-bench' or pass --parleyd")
}

// findProgram finds a program beside this binary, then on PATH; "" if
// neither has it.
func findProgram(name string) string {
	if self, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(beside); err == nil {
			return beside
		}
	}
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	return ""
}

// startServing starts cmd and waits until it prints "<name>: serving on
// ADDR", for at most a minute. It returns ADDR and a channel closed when the
// process ends.
func startServing(cmd *exec.Cmd, name string) (string, chan struct{}, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), name+": serving on "); ok {
				addr <- a
			}
		}
	}()
	go func() { cmd.Wait(); close(exited) }()
	select {
	case a := <-addr:
		return a, exited, nil
	case <-exited:
		return "", nil, fmt.Errorf("%s exited before serving", name)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-exited
		return "", nil, fmt.Errorf("%s did not start within 60s", name)
	}
}

// pid returns the server's process id, or 0 for a --target server.
func (s *server) pid() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

func (s *server) stop() {
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	for _, f := range s.cleanup {
		f()
	}
}

// dial opens one connection, as one client would.
func (s *server) dial() (*grpc.ClientConn, error) {
	return grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)))
}

func as(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// writeJSON writes the results to path, if one was given.
func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// machine describes where the figures were measured.
func machine() map[string]any {
	host, _ := os.Hostname()
	cpu := ""
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimLeft(v, "\t :")
				break
			}
		}
	}
	return map[string]any{"host": host, "cpu": cpu, "cpus": numCPU(), "when": time.Now().UTC().Format(time.RFC3339)}
}
