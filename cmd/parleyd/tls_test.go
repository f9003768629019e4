package main_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// tlsPKI is a certificate authority made for one test, with a server
// certificate for the loopback addresses and a client certificate, all in
// PEM files.
type tlsPKI struct {
	CAFile                string
	ServerCert, ServerKey string
	ClientCert, ClientKey string
	pool                  *x509.CertPool
	client                tls.Certificate
}

// tlsNewPKI makes a CA and the certificates it signs.
func tlsNewPKI(t *testing.T, name string) *tlsPKI {
	t.Helper()
	dir := t.TempDir()
	caKey := tlsKey(t)
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name + " test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := &tlsPKI{CAFile: filepath.Join(dir, "ca.pem"), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	tlsWritePEM(t, p.CAFile, "CERTIFICATE", caDER)

	issue := func(serial int64, template *x509.Certificate, certFile, keyFile string) tls.Certificate {
		key := tlsKey(t)
		template.SerialNumber = big.NewInt(serial)
		template.NotBefore, template.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
		template.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		tlsWritePEM(t, certFile, "CERTIFICATE", der)
		tlsWritePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		return pair
	}
	p.ServerCert, p.ServerKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	issue(2, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "parleyd"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, p.ServerCert, p.ServerKey)
	p.ClientCert, p.ClientKey = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	p.client = issue(3, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "parley client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, p.ClientCert, p.ClientKey)
	return p
}

func tlsKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func tlsWritePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsCreds returns transport credentials that trust roots (nil: the system's)
// and present the given client certificates.
func tlsCreds(roots *x509.CertPool, certs ...tls.Certificate) grpc.DialOption {
	return grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: certs, MinVersion: tls.VersionTLS12}))
}

// tlsHealth checks the server's health over a new connection with opts and
// returns the call's error.
func tlsHealth(t *testing.T, s *servertest.Server, opts ...grpc.DialOption) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := healthpb.NewHealthClient(s.Conn(opts...)).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

// tlsRun runs parleyd with args until it exits or starts serving, and
// returns its exit code (-1 if it served) and what it wrote to stderr.
func tlsRun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(servertest.Binary(t), append([]string{"--data", t.TempDir()}, args...)...)
	cmd.Env = append(os.Environ(), "PARLEY_ADMIN_TOKEN=prl_tls-test-admin-0123456789")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	served := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "parleyd: serving on ") {
				served <- true
				break
			}
		}
		close(served)
	}()
	select {
	case ok := <-served:
		if ok {
			cmd.Process.Kill()
			cmd.Wait()
			return -1, stderr.String()
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("parleyd %v neither served nor exited within 30s", args)
	}
	cmd.Wait()
	return cmd.ProcessState.ExitCode(), stderr.String()
}

func TestTLS(t *testing.T) {
	pki := tlsNewPKI(t, "server")
	s := servertest.Start(t, "--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey)
	s.DialOptions = []grpc.DialOption{tlsCreds(pki.pool)}

	t.Run("OK", func(t *testing.T) {
		if err := tlsHealth(t, s); err != nil {
			t.Fatalf("health over TLS with the CA: %v", err)
		}
		ctx := context.Background()
		n := s.CreateDemo(ctx) // the administrator's calls go over TLS too
		caller, err := parleyv1.NewNegotiationServiceClient(s.Conn()).GetCaller(servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.GetCallerRequest{})
		if err != nil || caller.GetParticipant().GetId() != "ukraine" {
			t.Fatalf("GetCaller over TLS: %v, %v", caller, err)
		}
	})

	t.Run("ErrUnknownAuthority", func(t *testing.T) {
		err := tlsHealth(t, s, tlsCreds(nil)) // the system's roots do not hold the test CA
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("a client that does not trust the CA: got %v, want UNAVAILABLE about the certificate", err)
		}
	})

	t.Run("ErrPlaintextClient", func(t *testing.T) {
		err := tlsHealth(t, s, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("a plaintext client: got %v, want UNAVAILABLE", err)
		}
	})

	t.Run("AnyAddressWithTLS", func(t *testing.T) {
		// With TLS, an address that is not loopback needs no --allow-plaintext.
		code, stderr := tlsRun(t, "--listen", "0.0.0.0:0", "--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey)
		if code != -1 {
			t.Fatalf("parleyd with TLS on 0.0.0.0 exited with %d instead of serving:\n%s", code, stderr)
		}
	})

	t.Run("ErrPlaintextOnNetwork", func(t *testing.T) {
		code, stderr := tlsRun(t, "--listen", "0.0.0.0:0")
		if code != 1 || !strings.Contains(stderr, "--tls-cert") || !strings.Contains(stderr, "--allow-plaintext") {
			t.Fatalf("plaintext on 0.0.0.0: exit %d, stderr:\n%s\nwant exit 1 naming --tls-cert and --allow-plaintext", code, stderr)
		}
		if code, stderr := tlsRun(t, "--listen", "0.0.0.0:0", "--allow-plaintext"); code != -1 {
			t.Fatalf("plaintext on 0.0.0.0 with --allow-plaintext exited with %d:\n%s", code, stderr)
		}
	})

	t.Run("ErrBadFlags", func(t *testing.T) {
		other := tlsNewPKI(t, "other")
		missing := filepath.Join(t.TempDir(), "missing.pem")
		tests := []struct {
			name string
			args []string
			code int
			want string
		}{
			{"CertWithoutKey", []string{"--tls-cert", pki.ServerCert}, 2, "go together"},
			{"KeyWithoutCert", []string{"--tls-key", pki.ServerKey}, 2, "go together"},
			{"ClientCAWithoutTLS", []string{"--tls-client-ca", pki.CAFile}, 2, "needs TLS"},
			{"MissingCert", []string{"--tls-cert", missing, "--tls-key", pki.ServerKey}, 1, "--tls-cert/--tls-key"},
			{"KeyOfAnotherCert", []string{"--tls-cert", pki.ServerCert, "--tls-key", other.ServerKey}, 1, "--tls-cert/--tls-key"},
			{"MissingClientCA", []string{"--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey, "--tls-client-ca", missing}, 1, "--tls-client-ca"},
			{"ClientCANotPEM", []string{"--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey, "--tls-client-ca", pki.ServerKey}, 1, "no PEM certificate"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, stderr := tlsRun(t, append([]string{"--listen", "127.0.0.1:0"}, tt.args...)...)
				if code != tt.code || !strings.Contains(stderr, tt.want) {
					t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tt.code, tt.want)
				}
			})
		}
	})
}

func TestMutualTLS(t *testing.T) {
	pki := tlsNewPKI(t, "server")
	s := servertest.Start(t, "--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey, "--tls-client-ca", pki.CAFile, "--demo")
	s.DialOptions = []grpc.DialOption{tlsCreds(pki.pool, pki.client)}

	t.Run("OK", func(t *testing.T) {
		if err := tlsHealth(t, s); err != nil {
			t.Fatalf("health with a client certificate: %v", err)
		}
		// --demo seeded its negotiation although parleyd holds no client
		// certificate, and its tokens work over mutual TLS. It seeds after
		// it starts serving, and says when it is done.
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(s.Stdout.String(), "parleyd: demo negotiation"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the demo was not seeded within 30s:\n%s", s.Stderr.String())
			}
		}
		raw, err := os.ReadFile(filepath.Join(s.DataDir, "demo-tokens.json"))
		if err != nil {
			t.Fatal(err)
		}
		var demo struct{ Tokens map[string]string }
		if err := json.Unmarshal(raw, &demo); err != nil {
			t.Fatal(err)
		}
		caller, err := parleyv1.NewNegotiationServiceClient(s.Conn()).GetCaller(
			servertest.As(context.Background(), demo.Tokens["mediator"]), &parleyv1.GetCallerRequest{})
		if err != nil || caller.GetParticipant().GetId() != "mediator" {
			t.Fatalf("GetCaller with a demo token: %v, %v", caller, err)
		}
	})

	t.Run("ErrTokenStillNeeded", func(t *testing.T) {
		// A client certificate opens the connection, not the API.
		_, err := parleyv1.NewNegotiationServiceClient(s.Conn()).GetCaller(context.Background(), &parleyv1.GetCallerRequest{})
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("no token over mutual TLS: got %v, want UNAUTHENTICATED", err)
		}
	})

	t.Run("ErrNoClientCertificate", func(t *testing.T) {
		if err := tlsHealth(t, s, tlsCreds(pki.pool)); status.Code(err) != codes.Unavailable {
			t.Fatalf("a client without a certificate: got %v, want UNAVAILABLE", err)
		}
	})

	t.Run("ErrCertificateOfAnotherCA", func(t *testing.T) {
		other := tlsNewPKI(t, "other")
		if err := tlsHealth(t, s, tlsCreds(pki.pool, other.client)); status.Code(err) != codes.Unavailable {
			t.Fatalf("a client with a certificate of another CA: got %v, want UNAVAILABLE", err)
		}
	})
}
