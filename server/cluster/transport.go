package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// The first byte of a node-to-node connection says what it carries.
const (
	connRaft byte = 'R' // raft's own transport
	connRPC  byte = 'G' // gRPC between nodes: forwarded calls, read indexes
)

// handshakeTimeout bounds the TLS handshake and the first byte of an
// accepted connection, so that a peer that says nothing holds nothing.
const handshakeTimeout = 10 * time.Second

// TLSFiles are the PEM files of a node's identity in the cluster.
type TLSFiles struct {
	CA   string // the cluster's CA: it signs every node's certificate
	Cert string // this node's certificate, for its raft address
	Key  string // its private key
}

// LoadTLS returns the mutual TLS configuration of a node: it presents its
// certificate, and accepts only peers whose certificate the cluster's CA
// signed, as servers and as clients.
func LoadTLS(files TLSFiles) (*tls.Config, error) {
	if files.CA == "" || files.Cert == "" || files.Key == "" {
		return nil, errors.New("cluster mode needs --cluster-ca, --cluster-cert and --cluster-key: nodes talk over mutual TLS")
	}
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		return nil, fmt.Errorf("--cluster-cert, --cluster-key: %w", err)
	}
	pem, err := os.ReadFile(files.CA)
	if err != nil {
		return nil, fmt.Errorf("--cluster-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--cluster-ca %s: no PEM certificate in it", files.CA)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

// mux serves raft's transport and the node-to-node gRPC service on one TLS
// listener, telling them apart by the first byte of each connection.
type mux struct {
	ln        net.Listener
	advertise net.Addr
	tls       *tls.Config

	raft, rpc *chanListener
	done      chan struct{}
	closeOnce sync.Once
}

func newMux(ln net.Listener, advertise net.Addr, config *tls.Config) *mux {
	m := &mux{ln: tls.NewListener(ln, config), advertise: advertise, tls: config, done: make(chan struct{})}
	m.raft = &chanListener{conns: make(chan net.Conn), m: m}
	m.rpc = &chanListener{conns: make(chan net.Conn), m: m}
	go m.serve()
	return m
}

func (m *mux) serve() {
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return
		}
		go m.route(conn)
	}
}

func (m *mux) route(conn net.Conn) {
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	var kind [1]byte
	if _, err := conn.Read(kind[:]); err != nil { // the TLS handshake happens here
		conn.Close()
		return
	}
	conn.SetDeadline(time.Time{})
	target := m.raft
	switch kind[0] {
	case connRaft:
	case connRPC:
		target = m.rpc
	default:
		conn.Close()
		return
	}
	select {
	case target.conns <- conn:
	case <-m.done:
		conn.Close()
	}
}

func (m *mux) close() {
	m.closeOnce.Do(func() {
		close(m.done)
		m.ln.Close()
	})
}

// dial opens a connection of the given kind to a node.
func (m *mux) dial(ctx context.Context, address string, kind byte) (net.Conn, error) {
	d := tls.Dialer{Config: m.tls}
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write([]byte{kind}); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// chanListener is a net.Listener of the connections the mux routes to it.
type chanListener struct {
	conns chan net.Conn
	m     *mux
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.m.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { l.m.close(); return nil }
func (l *chanListener) Addr() net.Addr { return l.m.advertise }

// streamLayer is raft's view of the mux.
type streamLayer struct{ *chanListener }

var _ raft.StreamLayer = streamLayer{}

func (s streamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.m.dial(ctx, string(address), connRaft)
}
