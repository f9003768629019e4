// Package client is the Go client of Parley: it dials a server with a bearer
// token, makes every mutating call idempotent with a request id so that
// transient failures can be retried without acting twice, turns errors into
// one typed *Error, pages through long lists, and follows the audit log
// without duplicates or gaps across reconnections.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// MaxRecvMsgBytes bounds a reply. The server sends up to 256 MiB (a full
// page of a document at its largest), so the client accepts as much.
const MaxRecvMsgBytes = 256 << 20

// Options configure a Client. The zero value dials a loopback server in
// plaintext, or any other server over TLS with the system's roots.
type Options struct {
	// Token is the bearer token sent with every call. Empty sends none,
	// which only health checks and reflection accept.
	Token string

	// TLS configures transport security. Nil means: plaintext to a loopback
	// target (127.0.0.0/8, ::1, localhost, a unix socket), TLS with the
	// system's root certificates to anything else.
	TLS *TLSOptions

	// Plaintext allows a connection without TLS to a target that is not
	// loopback. Tokens then cross the network in clear, so it must be asked
	// for. It cannot be combined with TLS.
	Plaintext bool

	// Retry is the retry policy; the zero value means DefaultRetryPolicy.
	Retry RetryPolicy

	// OnRetry, if set, is called before each wait for another attempt of a
	// call or a watch's reconnection: the number of attempts that failed so
	// far, the wait, and the last failure (an *Error). It lets a program
	// tell its user that it is retrying rather than hanging silently.
	OnRetry func(failures int, wait time.Duration, err error)

	// Verifier, if set, checks every event before the caller sees it (see
	// EventVerifier).
	Verifier EventVerifier

	// NewRequestID makes request ids; nil means random UUIDs.
	NewRequestID func() string

	// DialOptions are added after the client's own, for tests and special
	// transports.
	DialOptions []grpc.DialOption

	// Signer, if set, signs every vote, sign-off and acceptance the Client
	// sends with the member's key (see Signer).
	Signer *Signer
}

// TLSOptions configure TLS to the server.
type TLSOptions struct {
	// CAFile is a PEM file of the certificate authorities to trust instead
	// of the system's.
	CAFile string
	// CertFile and KeyFile are the client's certificate and key, in PEM,
	// for servers that require mutual TLS. Both or neither.
	CertFile string
	KeyFile  string
	// ServerName overrides the name checked in the server's certificate,
	// for servers reached by an address their certificate does not name.
	ServerName string
}

// Client calls a Parley server. It is safe for concurrent use.
type Client struct {
	conn     *grpc.ClientConn
	svc      parleyv1.NegotiationServiceClient
	admin    parleyv1.AdminServiceClient
	retry    RetryPolicy
	onRetry  func(failures int, wait time.Duration, err error)
	verifier EventVerifier
	newID    func() string
	target   string
	sign     *Signer
}

// New returns a client of the server at target ("host:port", or any gRPC
// target such as "dns:///host:port"). It does not connect: the first call
// does, so New fails only on bad options.
func New(target string, opts Options) (*Client, error) {
	if target == "" {
		return nil, errors.New("client: no server address")
	}
	transport, secure, err := transportCredentials(target, opts)
	if err != nil {
		return nil, err
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(transport),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxRecvMsgBytes)),
		// gRPC's own reconnection backoff starts at 1 s and grows to 2 min; a
		// restarted server should be found again within our retry budget.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 3 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
		// Notice a dead connection during a long, quiet watch. The server
		// allows pings every 10 s.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: false}),
		grpc.WithUserAgent("parley-go-client"),
	}
	if opts.Token != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer{token: opts.Token, secure: secure}))
	}
	dial = append(dial, opts.DialOptions...)
	conn, err := grpc.NewClient(target, dial...)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	c := &Client{
		conn:     conn,
		svc:      parleyv1.NewNegotiationServiceClient(conn),
		admin:    parleyv1.NewAdminServiceClient(conn),
		retry:    opts.Retry.withDefaults(),
		onRetry:  opts.OnRetry,
		verifier: opts.Verifier,
		sign:     opts.Signer,
		newID:    opts.NewRequestID,
		target:   target,
	}
	if c.newID == nil {
		c.newID = newRequestID
	}
	if v, ok := opts.Verifier.(*LogVerifier); ok {
		v.useConn(conn)
	}
	return c, nil
}

// Close closes the connection. Calls in flight fail.
func (c *Client) Close() error { return c.conn.Close() }

// Target returns the target the client dials.
func (c *Client) Target() string { return c.target }

// Conn returns the underlying connection, for services this package does
// not wrap (health, reflection).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Service returns the raw NegotiationService stub. Calls made through it get
// neither retries nor request ids nor typed errors.
func (c *Client) Service() parleyv1.NegotiationServiceClient { return c.svc }

// transportCredentials picks TLS or plaintext for a target, and reports
// whether the transport is secure.
func transportCredentials(target string, opts Options) (credentials.TransportCredentials, bool, error) {
	if opts.TLS != nil && opts.Plaintext {
		return nil, false, errors.New("client: TLS options and Plaintext exclude each other")
	}
	if opts.TLS == nil && (opts.Plaintext || IsLoopback(target)) {
		return insecure.NewCredentials(), false, nil
	}
	cfg, err := tlsConfig(opts.TLS)
	if err != nil {
		return nil, false, err
	}
	return credentials.NewTLS(cfg), true, nil
}

func tlsConfig(o *TLSOptions) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o == nil {
		return cfg, nil
	}
	cfg.ServerName = o.ServerName
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("client: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client: CA file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("client: a client certificate needs both a certificate file and a key file")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// IsLoopback reports whether a gRPC target names this machine only: a
// loopback address, localhost, or a unix socket.
func IsLoopback(target string) bool {
	if strings.HasPrefix(target, "unix:") || strings.HasPrefix(target, "unix-abstract:") {
		return true
	}
	// "dns:///host:port", "passthrough:///host:port" and "dns://authority/host:port".
	if i := strings.Index(target, "://"); i >= 0 {
		target = target[i+3:]
		if j := strings.Index(target, "/"); j >= 0 {
			target = target[j+1:]
		}
	}
	host := target
	if h, _, err := net.SplitHostPort(target); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bearer sends the token in the authorization metadata of every call.
type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity is false only for a plaintext transport, which
// transportCredentials chose for loopback or because it was asked to.
func (b bearer) RequireTransportSecurity() bool { return b.secure }
