package main

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
)

// The HTTP listener's flags: off by default, on with --demo, refused in
// plaintext off loopback, origins checked.
func TestParseFlags_Web(t *testing.T) {
	parse := func(args ...string) (Config, error) {
		m := NewMain()
		m.Stderr = io.Discard
		err := m.ParseFlags(args, func(string) string { return "" })
		return m.Config, err
	}
	for _, tt := range []struct {
		name   string
		args   []string
		listen string
	}{
		{"OffByDefault", nil, ""},
		{"OnWithDemo", []string{"--demo"}, DemoHTTPListen},
		{"OffWithDemo", []string{"--demo", "--http-listen", "off"}, ""},
		{"EmptyIsOff", []string{"--demo", "--http-listen", ""}, ""},
		{"Given", []string{"--http-listen", "127.0.0.1:9090"}, "127.0.0.1:9090"},
		{"NetworkWithTLS", []string{"--http-listen", "0.0.0.0:443", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, "0.0.0.0:443"},
		{"NetworkAllowed", []string{"--http-listen", "0.0.0.0:8080", "--allow-plaintext"}, "0.0.0.0:8080"},
	} {
		t.Run("OK"+tt.name, func(t *testing.T) {
			c, err := parse(tt.args...)
			if err != nil || c.HTTPListen != tt.listen {
				t.Errorf("%v: --http-listen %q, %v; want %q", tt.args, c.HTTPListen, err, tt.listen)
			}
		})
	}
	t.Run("OKOrigins", func(t *testing.T) {
		c, err := parse("--http-allowed-origin", "https://board.example.org/", "--http-allowed-origin", "http://localhost:3000")
		if err != nil || strings.Join(c.HTTPAllowedOrigins, " ") != "https://board.example.org http://localhost:3000" {
			t.Errorf("origins %q, %v", c.HTTPAllowedOrigins, err)
		}
	})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--http-listen", "0.0.0.0:8080"}, "--http-listen 0.0.0.0:8080 is not a loopback address"},
		{[]string{"--http-listen", "8080"}, "--http-listen"},
		{[]string{"--http-allowed-origin", "board.example.org"}, "not an origin"},
		{[]string{"--http-allowed-origin", "https://board.example.org/path"}, "not an origin"},
		{[]string{"--http-allowed-origin", "*"}, "not an origin"},
	} {
		if _, err := parse(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want an error with %q", tt.args, err, tt.want)
		}
	}
}

// TestWeb_DemoPortTaken starts the demo while its default HTTP port is
// taken: it serves on another and says where, rather than failing.
func TestWeb_DemoPortTaken(t *testing.T) {
	if taken, err := net.Listen("tcp", DemoHTTPListen); err == nil {
		defer taken.Close()
	} // else something else holds it already, which serves the test as well
	m := newMain(t, t.TempDir(), nil, "--demo")
	mustRun(t, m)
	if m.HTTPListener == nil || m.HTTPListener.Addr().String() == DemoHTTPListen {
		t.Fatalf("the demo serves HTTP on %v", m.HTTPListener)
	}
	if want := "parleyd: serving HTTP on http://" + m.HTTPListener.Addr().String(); !strings.Contains(m.stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, m.stdout)
	}

	t.Run("ErrGivenAddressTaken", func(t *testing.T) {
		other := newMain(t, t.TempDir(), nil, "--http-listen", m.HTTPListener.Addr().String())
		err := other.Run(context.Background())
		defer other.Close()
		if err == nil || !strings.Contains(err.Error(), "--http-listen") {
			t.Errorf("an --http-listen address that is taken: %v, want an error naming the flag", err)
		}
	})
}
