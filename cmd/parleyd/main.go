// Command parleyd is the Parley server: it serves negotiations over gRPC from
// a bbolt file in its data folder.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/parley-negotiation/parley/server/cluster"
	"github.com/parley-negotiation/parley/server/credential"
	"github.com/parley-negotiation/parley/server/deadline"
	"github.com/parley-negotiation/parley/server/metrics"
	"github.com/parley-negotiation/parley/server/rpc"
	"github.com/parley-negotiation/parley/server/store"
)

func main() {
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:], os.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "parleyd:", err)
		os.Exit(2)
	}
	if m.Config.ShowVersion {
		printVersion(m.Stdout)
		os.Exit(0)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		m.fail(err)
		m.Close()
		os.Exit(1)
	}
	<-ctx.Done()
	stop()
	m.Logger.Info("shutting down")
	if err := m.Close(); err != nil {
		m.fail(err)
		os.Exit(1)
	}
}

// Config is parleyd's configuration, from flags and the environment.
type Config struct {
	Listen         string
	DataDir        string
	AdminToken     string // from PARLEY_ADMIN_TOKEN
	AdminTokenFile string
	Demo           bool
	LogLevel       slog.Level
	LogFormat      string // text or json
	ShowVersion    bool   // print the version and exit
	AllowPlaintext bool   // serve without TLS on a non-loopback address
	KeyName        string // name of the checkpoint signing key
	StopTimeout    time.Duration

	// TLS: a certificate and its key in PEM files turn TLS on; a client CA
	// then also requires every client to present a certificate it signed.
	TLSCert     string
	TLSKey      string
	TLSClientCA string

	// RateLimit is the calls a second each token may make on average, with
	// bursts of RateBurst; 0 disables the limit.
	RateLimit float64
	RateBurst int

	// AuthFailureLimit is the failed authentications a second each peer
	// address may make on average, with bursts of AuthFailureBurst; 0
	// disables the limit.
	AuthFailureLimit float64
	AuthFailureBurst int

	// Verify checks the whole database before serving.
	Verify bool

	// RotateCheckpointKey allows a new checkpoint key for a database whose
	// checkpoints were signed by another; the rotation is logged.
	RotateCheckpointKey bool

	// MetricsListen, if set, serves Prometheus metrics on /metrics and Go's
	// profiles on /debug/pprof/ there, over plain HTTP.
	MetricsListen string

	// HTTPListen, if set, serves the API over Connect, gRPC-Web and gRPC,
	// and the board, over HTTP; HTTPAllowedOrigins may call it from other
	// origins. See web.go.
	HTTPListen         string
	HTTPAllowedOrigins []string

	// MemoryLimit, if positive, is a soft limit on the Go heap: the garbage
	// collector works harder as the heap nears it (runtime/debug).
	MemoryLimit int64

	// WriteAheadLog makes commits durable in a write-ahead log, one fsync
	// each, with bbolt synced by checkpoints (docs/write-path.md).
	WriteAheadLog bool

	// Memory in flight: the bytes of replies being built and sent at once,
	// and per watcher the bytes of events waiting for a client that is not
	// reading, how long they may wait, and the streams one token may open.
	ReplyMemory          int64
	WatchBacklog         int64
	WatchStall           time.Duration
	WatchStreamsPerToken int

	// Cluster, with a node id, makes parleyd one node of a raft cluster.
	Cluster ClusterConfig
}

// Default rate limit: far above what a person or a client tool does, well
// below what a runaway script does.
const (
	DefaultRateLimit = 100
	DefaultRateBurst = 200

	// A client with a wrong token fails a few times and stops; a guesser
	// does not.
	DefaultAuthFailureLimit = 10
	DefaultAuthFailureBurst = 100
)

// Main runs parleyd: open the database, serve, and stop gracefully.
type Main struct {
	Config Config
	Stdout io.Writer // where the demo and start-up notes go
	Stderr io.Writer // logs

	Logger *slog.Logger
	DB     *store.DB
	// Node is this server's place in its cluster; nil on a single node.
	Node   *cluster.Node
	Server *rpc.Server
	// Deadlines closes votes whose deadlines passed, from the start on.
	Deadlines *deadline.Scheduler
	GRPC      *grpc.Server
	Listener  net.Listener
	// MetricsListener serves /metrics, with --metrics-listen.
	MetricsListener net.Listener
	metricsServer   *http.Server
	preloaded       chan struct{} // closed when the background load of negotiations ends
	stopPreload     func()

	// HTTPListener serves the board and the API over HTTP, with --http-listen.
	HTTPListener net.Listener
	webServer    *http.Server
	webURL       string // the board's address for people, without a trailing slash
	// webDefaultPort: --demo chose the HTTP address, so another will do if
	// it is taken.
	webDefaultPort bool
}

// NewMain returns a Main with default configuration.
func NewMain() *Main {
	return &Main{
		Config: Config{Listen: "127.0.0.1:50051", DataDir: "parley-data", StopTimeout: 10 * time.Second, KeyName: "parley",
			RateLimit: DefaultRateLimit, RateBurst: DefaultRateBurst,
			AuthFailureLimit: DefaultAuthFailureLimit, AuthFailureBurst: DefaultAuthFailureBurst,
			ReplyMemory: rpc.DefaultReplyMemory, WatchBacklog: rpc.DefaultWatchBacklog, WatchStall: rpc.DefaultWatchStall,
			WatchStreamsPerToken: rpc.DefaultWatchStreamsPerToken},
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}
}

// ParseFlags reads the command line and the environment.
func (m *Main) ParseFlags(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("parleyd", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	c := &m.Config
	fs.StringVar(&c.Listen, "listen", c.Listen, "`address` to serve gRPC on; plaintext is only allowed on loopback unless --allow-plaintext")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "`folder` holding the database, the admin token and the demo's tokens")
	fs.StringVar(&c.AdminTokenFile, "admin-token-file", "", "`file` holding the admin token (default: <data>/admin-token, created with mode 0600 if absent); PARLEY_ADMIN_TOKEN overrides it")
	fs.BoolVar(&c.Demo, "demo", false, "create the 28-point demo negotiation (once) and write its participants' tokens to <data>/demo-tokens.json")
	fs.BoolVar(&c.AllowPlaintext, "allow-plaintext", false, "allow serving without TLS on an address that is not loopback")
	fs.StringVar(&c.KeyName, "key-name", c.KeyName, "`name` of the key that signs checkpoints, used when the key is first created in <data>/checkpoint-key")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM `file` with the server's certificate (and any intermediates); with --tls-key, serve TLS only")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM `file` with the private key of --tls-cert")
	fs.StringVar(&c.TLSClientCA, "tls-client-ca", "", "PEM `file` of the CA certificates that sign clients' certificates: every client must then present one (mutual TLS)")
	fs.Float64Var(&c.RateLimit, "rate-limit", c.RateLimit, "`calls` a second each caller (the administrator, or one participant) may make on average; over it, RESOURCE_EXHAUSTED RATE_LIMITED; 0 disables the limit")
	fs.IntVar(&c.RateBurst, "rate-burst", c.RateBurst, "`calls` a caller may make at once before --rate-limit applies")
	fs.Float64Var(&c.AuthFailureLimit, "auth-failure-limit", c.AuthFailureLimit, "failed authentications a second each peer address may make on average; over it, every call from that address is refused with RESOURCE_EXHAUSTED AUTH_RATE_LIMITED until it refills; 0 disables the limit")
	fs.IntVar(&c.AuthFailureBurst, "auth-failure-burst", c.AuthFailureBurst, "failed authentications a peer address may make at once before --auth-failure-limit applies")
	fs.StringVar(&c.MetricsListen, "metrics-listen", "", "`address` to serve Prometheus metrics (/metrics) and Go profiles (/debug/pprof/) on, over plain HTTP; empty: off. Keep it on loopback or a private network")
	fs.BoolVar(&c.WriteAheadLog, "write-ahead-log", false, "make each commit durable with one fsync of a write-ahead log (<data>/parley.db.wal) instead of two of the database file; pays where a sync is slow (see docs/write-path.md); single node only")
	fs.Func("memory-limit", "soft limit on the server's memory, e.g. 200MiB or 1GiB: the garbage collector works harder near it; default: none (GOMEMLIMIT applies)", func(v string) error {
		n, err := parseBytes(v)
		c.MemoryLimit = n
		return err
	})
	fs.Func("reply-memory", "`bytes` of replies the server builds and sends at once, e.g. 64MiB; a read over it is refused with RESOURCE_EXHAUSTED SERVER_BUSY (default 64MiB)", func(v string) error {
		n, err := parseBytes(v)
		c.ReplyMemory = n
		return err
	})
	fs.Func("watch-backlog", "`bytes` of events a watch stream reads ahead of its client, e.g. 256KiB (default 256KiB)", func(v string) error {
		n, err := parseBytes(v)
		c.WatchBacklog = n
		return err
	})
	fs.DurationVar(&c.WatchStall, "watch-stall", c.WatchStall, "how long gRPC may leave a watch stream's next event waiting, its client not reading, before the stream is cut off with RESOURCE_EXHAUSTED WATCH_TOO_SLOW (the client resumes); 0: at once")
	fs.IntVar(&c.WatchStreamsPerToken, "watch-streams-per-token", c.WatchStreamsPerToken, "`streams` of WatchEvents one participant's token may have open; one more is refused with RESOURCE_EXHAUSTED TOO_MANY_WATCHES; 0: no cap")
	fs.BoolVar(&c.Verify, "verify", false, "before serving, check the whole database (every page, every negotiation's log against its state, the token index) and refuse to start if anything is wrong; takes time in proportion to its size")
	fs.BoolVar(&c.RotateCheckpointKey, "rotate-checkpoint-key", false, "if <data>/checkpoint-key is missing or is not the key on record, make or take the new key anyway and record the rotation as an event in every negotiation's log; without it parleyd refuses to start then")
	fs.DurationVar(&c.StopTimeout, "stop-timeout", c.StopTimeout, "how long a graceful stop waits for calls in flight")
	m.webFlags(fs)
	c.Cluster.clusterFlags(fs)
	level := fs.String("log-level", "info", "log `level`: debug (every call), info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", LogText, "log `format`: text (key=value lines) or json (one object a line, for log collectors)")
	fs.BoolVar(&c.ShowVersion, "version", false, "print the version (module version, commit, Go toolchain) and exit")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: parleyd [flags]\n\nServes Parley negotiations over gRPC and, with --http-listen (on with --demo), to browsers and HTTP clients\nover Connect, gRPC-Web and JSON, with the board.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := m.webFlagsParsed(fs); err != nil {
		return err
	}
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	if _, err := logHandler(io.Discard, c.LogFormat, c.LogLevel); err != nil {
		return err
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	case c.TLSClientCA != "" && c.TLSCert == "":
		return errors.New("--tls-client-ca needs TLS: give --tls-cert and --tls-key too")
	case c.RateLimit < 0:
		return fmt.Errorf("--rate-limit %g: must be 0 (no limit) or more", c.RateLimit)
	case c.RateLimit > 0 && c.RateBurst < 1:
		return fmt.Errorf("--rate-burst %d: must be 1 or more", c.RateBurst)
	case c.AuthFailureLimit < 0:
		return fmt.Errorf("--auth-failure-limit %g: must be 0 (no limit) or more", c.AuthFailureLimit)
	case c.AuthFailureLimit > 0 && c.AuthFailureBurst < 1:
		return fmt.Errorf("--auth-failure-burst %d: must be 1 or more", c.AuthFailureBurst)
	case c.ReplyMemory < rpc.MinReplyMemory:
		return fmt.Errorf("--reply-memory %d: must be at least %dMiB, room for the largest event", c.ReplyMemory, rpc.MinReplyMemory>>20)
	case c.WatchStall < 0:
		return fmt.Errorf("--watch-stall %s: must not be negative", c.WatchStall)
	case c.WatchStreamsPerToken < 0:
		return fmt.Errorf("--watch-streams-per-token %d: must be 0 (no cap) or more", c.WatchStreamsPerToken)
	}
	if err := c.Cluster.check(c); err != nil {
		return err
	}
	c.AdminToken = strings.TrimSpace(getenv("PARLEY_ADMIN_TOKEN"))
	return nil
}

// Run opens the database, starts serving and, with --demo, seeds the demo. It
// returns once the server is serving; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	c := m.Config
	handler, err := logHandler(m.Stderr, c.LogFormat, c.LogLevel)
	if err != nil {
		return err
	}
	m.Logger = slog.New(handler)
	if c.MemoryLimit > 0 {
		debug.SetMemoryLimit(c.MemoryLimit)
	}
	tlsConfig, err := loadTLS(c.TLSCert, c.TLSKey, c.TLSClientCA)
	if err != nil {
		return err
	}
	if err := checkPlaintext(c.Listen, c.AllowPlaintext || tlsConfig != nil); err != nil {
		return err
	}
	// Everything that can be checked is checked before anything is written
	// into the data folder: the admin token given, the folder, the
	// addresses to listen on, and bbolt's lock on the database.
	adminToken, adminTokenPath, err := m.readAdminToken()
	if err != nil {
		return err
	}
	if info, err := os.Stat(c.DataDir); err == nil && !info.IsDir() {
		return fmt.Errorf("--data %s is not a folder", c.DataDir)
	}
	if m.Listener, err = net.Listen("tcp", c.Listen); err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	if c.MetricsListen != "" {
		if m.MetricsListener, err = net.Listen("tcp", c.MetricsListen); err != nil {
			return fmt.Errorf("--metrics-listen: %w", err)
		}
	}
	if err := m.listenWeb(tlsConfig); err != nil {
		return err
	}
	var mx *metrics.Metrics
	storeOpts := store.Options{Logger: m.Logger, WriteAheadLog: c.WriteAheadLog}
	rpcOpts := []rpc.Option{rpc.WithRateLimit(c.RateLimit, c.RateBurst), rpc.WithAuthFailureLimit(c.AuthFailureLimit, c.AuthFailureBurst),
		rpc.WithReplyMemory(c.ReplyMemory), rpc.WithWatchLimits(int(c.WatchBacklog), c.WatchStall, c.WatchStreamsPerToken)}
	if c.MetricsListen != "" {
		mx = metrics.New()
		storeOpts.Observer = mx
		rpcOpts = append(rpcOpts, rpc.WithOuterInterceptors(mx.GRPC.UnaryServerInterceptor(), mx.GRPC.StreamServerInterceptor()))
	}
	if m.DB, err = store.Open(filepath.Join(c.DataDir, "parley.db"), storeOpts); err != nil {
		return err
	}
	if c.Verify {
		start := time.Now()
		if err := m.DB.VerifyAll(ctx); err != nil {
			return fmt.Errorf("--verify: the database does not verify, refusing to serve it: %w", err)
		}
		m.Logger.Info("database verified", "took", time.Since(start))
	}
	// The checkpoint key is checked against the database before anything
	// else is written.
	signer, err := m.checkpointSigner(ctx)
	if err != nil {
		return err
	}
	if adminToken == "" {
		if adminToken, err = m.createAdminToken(adminTokenPath); err != nil {
			return err
		}
	}
	fmt.Fprintf(m.Stdout, "parleyd: checkpoints are signed by %s\n", signer.VerifierKey())
	if c.Cluster.enabled() {
		node, opts, err := m.newClusterNode()
		if err != nil {
			return err
		}
		m.Node, rpcOpts = node, append(rpcOpts, opts...)
	}
	m.Server = rpc.New(m.DB, adminToken, m.Logger, append(rpcOpts, rpc.WithCheckpointSigner(signer))...)
	if m.Node != nil {
		// The leader alone closes votes at their deadlines, through raft.
		if err := m.Node.Start(m.Server); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		fmt.Fprintf(m.Stdout, "parleyd: cluster node %s, raft on %s\n", c.Cluster.NodeID, m.Node.Address())
	} else {
		// Votes that came due while the server was down close now, before
		// or while the first calls are served; the rules make each close
		// once.
		m.Deadlines = deadline.Start(m.DB, m.Logger)
	}
	var serverOpts []grpc.ServerOption
	if tlsConfig != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(tlsConfig)))
	}
	m.GRPC = m.Server.GRPCServer(serverOpts...)
	if mx != nil {
		m.serveMetrics(mx)
	}
	// The demo is made before serving (over a private in-memory server), so
	// that its token file is there when "serving on" is printed.
	if c.Demo {
		if err := m.seedDemo(ctx, adminToken); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	go func() {
		if err := m.GRPC.Serve(m.Listener); err != nil {
			m.Logger.Error("serve", "err", err)
		}
	}()
	m.Logger.Info("serving", "address", m.Listener.Addr().String(), "data", c.DataDir,
		"tls", tlsConfig != nil, "client_certificates", c.TLSClientCA != "", "rate_limit", c.RateLimit, "rate_burst", c.RateBurst)
	// Scripts and tests that listen on port 0 read the address from this line.
	fmt.Fprintf(m.Stdout, "parleyd: serving on %s\n", m.Listener.Addr())
	if err := m.serveWeb(tlsConfig); err != nil {
		return err
	}
	// Load every negotiation while already serving, so that the first call
	// to a large one need not wait for it (a call that comes first waits).
	preloadCtx, cancel := context.WithCancel(ctx)
	m.stopPreload = func() { cancel(); <-m.preloaded }
	m.preloaded = make(chan struct{})
	go func() {
		defer close(m.preloaded)
		start := time.Now()
		n, err := m.DB.Preload(preloadCtx)
		if err != nil && preloadCtx.Err() == nil {
			m.Logger.Error("preload", "err", err)
			return
		}
		m.Logger.Info("negotiations loaded", "count", n, "took", time.Since(start))
	}()
	return nil
}

// readAdminToken returns the administrator's token from the environment or
// from its file, refusing a weak one. If the file does not exist yet, it
// returns "" and the file's path, for createAdminToken.
func (m *Main) readAdminToken() (token, path string, err error) {
	if m.Config.AdminToken != "" {
		if err := credential.CheckStrength(m.Config.AdminToken); err != nil {
			return "", "", fmt.Errorf("PARLEY_ADMIN_TOKEN: %w", err)
		}
		return m.Config.AdminToken, "", nil
	}
	path = m.Config.AdminTokenFile
	if path == "" {
		path = filepath.Join(m.Config.DataDir, "admin-token")
	}
	token, err = credential.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", path, nil
	}
	if err == nil {
		err = credential.CheckStrength(token)
	}
	if err != nil {
		return "", "", fmt.Errorf("admin token %s: %w", path, err)
	}
	return token, path, nil
}

// createAdminToken makes the administrator's token file.
func (m *Main) createAdminToken(path string) (string, error) {
	token, _, err := credential.LoadOrCreate(path)
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	fmt.Fprintf(m.Stdout, "parleyd: created the admin token in %s (mode 0600)\n", path)
	return token, nil
}

// loadTLS returns the server's TLS configuration, or nil without a
// certificate. With a client CA, a client must present a certificate signed
// by it: the handshake fails otherwise, before any call. The files are read
// once, at start; a new certificate takes a restart.
func loadTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-client-ca: %s holds no PEM certificate", clientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// parseBytes reads a size such as 512MiB, 1GiB or 200000000.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		scale  int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("%q is not a size such as 200MiB", s)
			}
			return n * u.scale, nil
		}
	}
	return 0, fmt.Errorf("%q is not a size such as 200MiB", s)
}

// checkPlaintext refuses to serve without TLS on an address other than
// loopback unless allowed explicitly (or TLS is on).
func checkPlaintext(listen string, allowed bool) error {
	return checkPlaintextFlag("--listen", listen, allowed)
}

// checkPlaintextFlag is checkPlaintext for the address of any listener flag.
func checkPlaintextFlag(flagName, listen string, allowed bool) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("%s %q: %w", flagName, listen, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	if allowed {
		return nil
	}
	return fmt.Errorf("%s %s is not a loopback address: tokens would cross the network in plaintext; serve TLS with --tls-cert and --tls-key, or pass --allow-plaintext to do it anyway", flagName, listen)
}

// serveMetrics registers the server's own gauges and serves the metrics on
// the listener opened at start.
func (m *Main) serveMetrics(mx *metrics.Metrics) {
	mx.Initialize(m.GRPC)
	mx.Gauge("parley_watchers", "WatchEvents streams open now.", func() float64 { return float64(m.Server.Watchers()) })
	mx.Gauge("parley_store_file_bytes", "Size of the bbolt file.", func() float64 {
		info, err := os.Stat(m.DB.Path())
		if err != nil {
			return 0
		}
		return float64(info.Size())
	})
	m.metricsServer = &http.Server{Handler: mx.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go m.metricsServer.Serve(m.MetricsListener)
	fmt.Fprintf(m.Stdout, "parleyd: metrics on http://%s/metrics\n", m.MetricsListener.Addr())
}

// Close stops serving gracefully, waiting up to StopTimeout for calls in
// flight, then closes the database.
func (m *Main) Close() error {
	if m.stopPreload != nil {
		m.stopPreload()
	}
	if m.GRPC != nil {
		m.Server.Shutdown()
		m.stopWeb()
		stopped := make(chan struct{})
		go func() {
			m.GRPC.GracefulStop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(m.Config.StopTimeout):
			m.Logger.Warn("graceful stop timed out; closing remaining connections")
			m.GRPC.Stop()
			<-stopped
		}
	}
	if m.GRPC == nil && m.Listener != nil {
		m.Listener.Close() // a start that failed after listening
	}
	if m.webServer == nil && m.HTTPListener != nil {
		m.HTTPListener.Close()
	}
	if m.metricsServer != nil {
		m.metricsServer.Close()
	} else if m.MetricsListener != nil {
		m.MetricsListener.Close()
	}
	if m.Deadlines != nil {
		m.Deadlines.Stop()
	}
	if m.Node != nil {
		if err := m.Node.Close(); err != nil {
			m.Logger.Warn("cluster: stop raft", "err", err)
		}
	}
	if m.DB != nil {
		return m.DB.Close()
	}
	return nil
}
