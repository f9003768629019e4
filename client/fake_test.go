package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// The tests in this file use a fake server in the test process, for what a
// real one cannot be made to do: misbehave, or speak TLS (until parleyd does).

// fakeServer answers GetCaller with what it saw of the call, and
// WatchEvents with a fixed list of sequence numbers.
type fakeServer struct {
	parleyv1.UnimplementedNegotiationServiceServer
	watchSeqs []int64
}

func (f *fakeServer) GetCaller(ctx context.Context, _ *parleyv1.GetCallerRequest) (*parleyv1.GetCallerResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	out := &parleyv1.GetCallerResponse{Participant: &parleyv1.Participant{}}
	if v := md.Get("authorization"); len(v) == 1 {
		out.Participant.DisplayName = v[0]
	}
	if p, ok := peer.FromContext(ctx); ok {
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(info.State.PeerCertificates) > 0 {
			out.Participant.Id = info.State.PeerCertificates[0].Subject.CommonName
		}
	}
	return out, nil
}

func (f *fakeServer) WatchEvents(req *parleyv1.WatchEventsRequest, stream parleyv1.NegotiationService_WatchEventsServer) error {
	for _, seq := range f.watchSeqs {
		leaf, _ := proto.Marshal(&parleyv1.Event{Negotiation: req.GetNegotiation(), Sequence: seq})
		if err := stream.Send(&parleyv1.WatchEventsResponse{Event: &parleyv1.EventRecord{Sequence: seq, Leaf: leaf}}); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return nil
}

func serveFake(t *testing.T, f *fakeServer, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	parleyv1.RegisterNegotiationServiceServer(g, f)
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

func TestWatch_RefusesGapsAndRepeats(t *testing.T) {
	for name, tc := range map[string]struct {
		seqs   []int64
		reason string
	}{
		"gap":    {[]int64{1, 2, 4}, client.ReasonSequenceGap},
		"repeat": {[]int64{1, 2, 2}, client.ReasonSequenceDuplicate},
	} {
		t.Run(name, func(t *testing.T) {
			addr := serveFake(t, &fakeServer{watchSeqs: tc.seqs})
			c := newClient(t, addr, "t", client.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var got []int64
			var err error
			for rec, e := range c.Watch(ctx, "negotiations/x", 0) {
				if e != nil {
					err = e
					break
				}
				got = append(got, rec.GetSequence())
			}
			if client.CodeOf(err) != codes.DataLoss || client.ReasonOf(err) != tc.reason {
				t.Fatalf("err = %v, want DATA_LOSS %s", err, tc.reason)
			}
			if len(got) != 2 || got[0] != 1 || got[1] != 2 {
				t.Fatalf("delivered %v before the error, want [1 2]", got)
			}
		})
	}
}

// verifierFunc adapts a function to client.EventVerifier.
type verifierFunc func(context.Context, string, *parleyv1.EventRecord) error

func (f verifierFunc) VerifyEvent(ctx context.Context, n string, rec *parleyv1.EventRecord) error {
	return f(ctx, n, rec)
}

func TestWatch_Verifier(t *testing.T) {
	addr := serveFake(t, &fakeServer{watchSeqs: []int64{1, 2, 3}})
	var seen []int64
	refuse := &client.Error{Code: codes.DataLoss, Reason: "NOT_IN_TREE", Message: "no inclusion proof"}
	c := newClient(t, addr, "t", client.Options{Verifier: verifierFunc(func(_ context.Context, n string, rec *parleyv1.EventRecord) error {
		seen = append(seen, rec.GetSequence())
		if n != "negotiations/x" || rec.GetEvent().GetSequence() != rec.GetSequence() {
			t.Errorf("verifier got %s / %v", n, rec)
		}
		if rec.GetSequence() == 3 {
			return refuse
		}
		return nil
	})})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var delivered int
	var err error
	for _, e := range c.Watch(ctx, "negotiations/x", 0) {
		if e != nil {
			err = e
			break
		}
		delivered++
	}
	if err != refuse || delivered != 2 || len(seen) != 3 {
		t.Fatalf("err %v, delivered %d, verified %v", err, delivered, seen)
	}
}

// pki is a certificate authority with a server and a client certificate.
type pki struct {
	caFile, serverCert, serverKey, clientCert, clientKey string
	caPool                                               *x509.CertPool
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Parley test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, dns ...string) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		return write(cn+".pem", "CERTIFICATE", der), write(cn+"-key.pem", "EC PRIVATE KEY", keyDER)
	}
	p := pki{caFile: write("ca.pem", "CERTIFICATE", caDER), caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	p.serverCert, p.serverKey = issue(2, "parley.test", x509.ExtKeyUsageServerAuth, "parley.test")
	p.clientCert, p.clientKey = issue(3, "ukraine", x509.ExtKeyUsageClientAuth)
	return p
}

// TestNew_TLS dials a server that requires mutual TLS, by an address its
// certificate does not name, and checks the token goes along.
func TestNew_TLS(t *testing.T) {
	p := newPKI(t)
	cert, err := tls.LoadX509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	addr := serveFake(t, &fakeServer{}, grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert}, ClientCAs: p.caPool, ClientAuth: tls.RequireAndVerifyClientCert})))
	ctx := context.Background()

	c := newClient(t, addr, "secret", client.Options{Retry: client.NoRetry, TLS: &client.TLSOptions{
		CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey, ServerName: "parley.test"}})
	got, err := c.Caller(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetParticipant().GetDisplayName() != "Bearer secret" || got.GetParticipant().GetId() != "ukraine" {
		t.Fatalf("server saw token %q and client certificate %q", got.GetParticipant().GetDisplayName(), got.GetParticipant().GetId())
	}

	// Without the server name override, the certificate does not match.
	wrongName := newClient(t, addr, "secret", client.Options{Retry: client.NoRetry, TLS: &client.TLSOptions{
		CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}})
	if _, err := wrongName.Caller(ctx); client.CodeOf(err) != codes.Unavailable {
		t.Fatalf("certificate for another name: %v", err)
	}
	// Plaintext to a TLS server fails.
	plain := newClient(t, addr, "secret", client.Options{Retry: client.NoRetry})
	if _, err := plain.Caller(ctx); err == nil {
		t.Fatal("plaintext call to a TLS server succeeded")
	}
}
