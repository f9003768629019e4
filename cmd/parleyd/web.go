package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/parley-negotiation/parley/client/web"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/rpc"
	serverweb "github.com/parley-negotiation/parley/server/web"
)

// DemoHTTPListen is where --demo serves the board unless --http-listen says
// otherwise.
const DemoHTTPListen = "127.0.0.1:8080"

// webFlags adds the HTTP listener's flags.
func (m *Main) webFlags(fs *flag.FlagSet) {
	c := &m.Config
	fs.StringVar(&c.HTTPListen, "http-listen", "", "`address` to serve the board and the API over HTTP on (Connect, gRPC-Web, gRPC, JSON); \"\" or off: none (default: off, "+DemoHTTPListen+" with --demo); plaintext is only allowed on loopback unless --allow-plaintext")
	fs.Func("http-allowed-origin", "an `origin` (scheme://host[:port]) whose pages may call the API from a browser (CORS); repeat for more; default: none, the board is same-origin", func(v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return fmt.Errorf("%q is not an origin such as https://board.example.org", v)
		}
		c.HTTPAllowedOrigins = append(c.HTTPAllowedOrigins, u.Scheme+"://"+u.Host)
		return nil
	})
}

// webFlagsParsed applies the HTTP listener's defaults once the flags are
// read, and refuses plaintext HTTP off loopback as for gRPC, before anything
// is served.
func (m *Main) webFlagsParsed(fs *flag.FlagSet) error {
	c := &m.Config
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "http-listen" })
	switch {
	case !set && c.Demo:
		c.HTTPListen = DemoHTTPListen
		m.webDefaultPort = true
	case c.HTTPListen == "off":
		c.HTTPListen = ""
	}
	if c.HTTPListen == "" {
		return nil
	}
	return checkPlaintextFlag("--http-listen", c.HTTPListen, c.AllowPlaintext || c.TLSCert != "")
}

// serveWeb starts the HTTP listener, if there is one: the same gRPC server's
// services through vanguard, and the board.
func (m *Main) serveWeb(tlsConfig *tls.Config) error {
	c := m.Config
	if c.HTTPListen == "" {
		return nil
	}
	handler, err := serverweb.NewHandler(m.GRPC, serverweb.Options{Assets: web.Assets(), AllowedOrigins: c.HTTPAllowedOrigins,
		MaxResponseBytes: rpc.MaxSendMsgBytes})
	if err != nil {
		return err
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	if tlsConfig == nil {
		protocols.SetUnencryptedHTTP2(true) // h2c, for gRPC and for HTTP/2 clients without TLS
	}
	m.webServer = &http.Server{
		Handler:           handler,
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No read or write timeout: WatchEvents streams last as long as the
		// watcher wants.
	}
	if m.HTTPListener, err = net.Listen("tcp", c.HTTPListen); err != nil && m.webDefaultPort {
		// The demo's default port is taken (another demo, a test): any free
		// port will do, since the line below says which.
		m.Logger.Warn("the demo's default HTTP address is taken; serving on a free port", "address", c.HTTPListen, "err", err)
		m.HTTPListener, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return fmt.Errorf("--http-listen: %w", err)
	}
	scheme := "http"
	serve := func() error { return m.webServer.Serve(m.HTTPListener) }
	if tlsConfig != nil {
		scheme = "https"
		m.webServer.TLSConfig = tlsConfig.Clone()
		serve = func() error { return m.webServer.ServeTLS(m.HTTPListener, "", "") }
	}
	go func() {
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("serve HTTP", "err", err)
		}
	}()
	m.webURL = scheme + "://" + browserAddress(m.HTTPListener.Addr(), c.HTTPListen)
	m.Logger.Info("serving HTTP", "address", m.HTTPListener.Addr().String(), "tls", tlsConfig != nil, "allowed_origins", c.HTTPAllowedOrigins)
	// Scripts and tests that listen on port 0 read the address from this line.
	fmt.Fprintf(m.Stdout, "parleyd: serving HTTP on %s://%s\n", scheme, m.HTTPListener.Addr())
	return nil
}

// browserAddress is the host:port a browser on this machine reaches the
// listener at: an unspecified address (0.0.0.0, ::) becomes localhost; a name
// given in the flag is kept, so that a certificate's name matches.
func browserAddress(bound net.Addr, configured string) string {
	_, port, _ := net.SplitHostPort(bound.String())
	host, _, _ := net.SplitHostPort(configured)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// printSignInLinks prints the board's address and, for each participant of
// the demo, a link that signs in with its token. The token is in the URL's
// fragment, which browsers never send to a server; the board moves it to the
// tab's session storage and out of the address bar.
func (m *Main) printSignInLinks(tokens map[string]string) {
	if m.webURL == "" {
		return
	}
	fmt.Fprintf(m.Stdout, "parleyd: the board: %s/\n", m.webURL)
	// In the demo's order: the delegations, then the mediator.
	var ids []string
	for _, p := range demo.Participants() {
		if _, ok := tokens[p.GetId()]; ok {
			ids = append(ids, p.GetId())
		}
	}
	for _, id := range ids {
		fmt.Fprintf(m.Stdout, "parleyd: sign in as %s: %s/#token=%s\n", id, m.webURL, url.QueryEscape(tokens[id]))
	}
}

// stopWeb stops the HTTP listener gracefully: it waits, up to StopTimeout,
// for the calls in flight to end and write their status, then closes what
// remains. It runs before the gRPC server's graceful stop, which would cut
// the HTTP calls' transports before their status is written.
func (m *Main) stopWeb() {
	if m.webServer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.StopTimeout)
	defer cancel()
	if err := m.webServer.Shutdown(ctx); err != nil {
		m.Logger.Warn("graceful stop of the HTTP listener timed out; closing remaining connections")
		m.webServer.Close()
	}
}
