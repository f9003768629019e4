package main_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// wantCSP is the Content-Security-Policy every HTTP response carries.
const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// webPost sends a JSON body to a method, as curl would, and returns the
// response and its body.
func webPost(t *testing.T, s *servertest.Server, method, token, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.HTTPURL+"/parley.v1."+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return webDo(t, http1Client(t), req)
}

func webDo(t *testing.T, client *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// connectError is the JSON body of a Connect error.
type connectError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"details"`
}

// reason decodes the error's google.rpc.ErrorInfo, as a client would.
func (e connectError) reason(t *testing.T) (reason, domain string) {
	t.Helper()
	for _, d := range e.Details {
		if d.Type != "google.rpc.ErrorInfo" {
			continue
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(d.Value, "="))
		if err != nil {
			t.Fatalf("detail value %q: %v", d.Value, err)
		}
		var info errdetails.ErrorInfo
		if err := proto.Unmarshal(raw, &info); err != nil {
			t.Fatal(err)
		}
		return info.GetReason(), info.GetDomain()
	}
	return "", ""
}

func TestWeb_CurlJSON(t *testing.T) {
	s := servertest.Start(t, "--rate-limit", "0")
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	api := parleyv1.NewNegotiationServiceClient(s.Conn())
	logSize := func() int64 {
		t.Helper()
		r, err := api.GetNegotiation(servertest.As(ctx, s.AdminToken), &parleyv1.GetNegotiationRequest{Name: n.Name})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetNegotiation().GetLastSequence()
	}

	t.Run("OK", func(t *testing.T) {
		resp, body := webPost(t, s, "NegotiationService/GetCaller", n.Tokens["ukraine"], "{}")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GetCaller: %s %s\n%s", resp.Status, resp.Header.Get("Content-Type"), body)
		}
		var caller parleyv1.GetCallerResponse
		if err := protojson.Unmarshal(body, &caller); err != nil {
			t.Fatalf("%v\n%s", err, body)
		}
		if caller.GetParticipant().GetId() != "ukraine" || caller.GetNegotiation() != n.Name {
			t.Errorf("GetCaller as ukraine: %v", &caller)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != wantCSP {
			t.Errorf("the API's reply has CSP %q", got)
		}
	})

	t.Run("OKRedline", func(t *testing.T) {
		resp, body := webPost(t, s, "NegotiationService/GetRedline", n.Tokens["mediator"],
			`{"proposal":{"negotiation":"`+n.Name+`","kind":"AMENDMENT_KIND_INSERT","text":"A new point."}}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GetRedline: %s\n%s", resp.Status, body)
		}
		var r parleyv1.GetRedlineResponse
		if err := protojson.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.GetChanges()) != 1 || len(r.GetChanges()[0].GetSegments()) != 1 || r.GetChanges()[0].GetSegments()[0].GetText() != "A new point." {
			t.Errorf("GetRedline of a proposed INSERT: %v", &r)
		}
	})

	// Refusals: the HTTP status Connect gives the code, and the same
	// reason as over gRPC, and the log does not grow.
	before := logSize()
	for _, tt := range []struct {
		name, method, token, body string
		status                    int
		code, reason              string
	}{
		{"ErrNoToken", "NegotiationService/GetCaller", "", "{}", http.StatusUnauthorized, "unauthenticated", "TOKEN_MISSING"},
		{"ErrBadToken", "NegotiationService/GetCaller", "prl_nope", "{}", http.StatusUnauthorized, "unauthenticated", "TOKEN_INVALID"},
		{"ErrWrongRole", "NegotiationService/AcceptDocument", n.Tokens["mediator"],
			`{"negotiation":"` + n.Name + `","documentSha256":"` + strings.Repeat("0", 64) + `"}`,
			http.StatusForbidden, "permission_denied", "ROLE_NOT_ALLOWED"},
		{"ErrInvalid", "NegotiationService/GetDocument", n.Tokens["ukraine"], `{"negotiation":"nope"}`,
			http.StatusBadRequest, "invalid_argument", "NAME_INVALID"},
		{"ErrNotFound", "NegotiationService/GetNegotiation", s.AdminToken, `{"name":"negotiations/00000000-0000-4000-8000-000000000000"}`,
			http.StatusNotFound, "not_found", "NEGOTIATION_NOT_FOUND"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := webPost(t, s, tt.method, tt.token, tt.body)
			var e connectError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("%s: %v\n%s", resp.Status, err, body)
			}
			reason, domain := e.reason(t)
			if resp.StatusCode != tt.status || e.Code != tt.code || reason != tt.reason || domain != "parley.v1" || e.Message == "" {
				t.Errorf("got %s %s %s/%s %q, want %d %s %s", resp.Status, e.Code, reason, domain, e.Message, tt.status, tt.code, tt.reason)
			}
		})
	}
	if after := logSize(); after != before {
		t.Errorf("refused calls grew the log from %d to %d events", before, after)
	}

	t.Run("ErrUnknownMethod", func(t *testing.T) {
		resp, _ := webPost(t, s, "NegotiationService/DropEverything", s.AdminToken, "{}")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("an unknown method: %s, want 404", resp.Status)
		}
	})
}

func TestWeb_Board(t *testing.T) {
	s := servertest.Start(t)
	get := func(t *testing.T, path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.HTTPURL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return webDo(t, http1Client(t), req)
	}
	t.Run("OK", func(t *testing.T) {
		resp, body := get(t, "/")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("<title>")) {
			t.Fatalf("GET /: %s %s\n%s", resp.Status, resp.Header.Get("Content-Type"), body)
		}
		for name, want := range map[string]string{
			"Content-Security-Policy": wantCSP,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"Cache-Control":           "no-cache",
		} {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}
		for _, name := range []string{"Access-Control-Allow-Origin", "Set-Cookie", "Strict-Transport-Security"} {
			if got := resp.Header.Get(name); got != "" {
				t.Errorf("%s: %q, want none", name, got)
			}
		}
		again, _ := get(t, "/", "If-None-Match", resp.Header.Get("ETag"))
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET / with its ETag: %s, want 304", again.Status)
		}
	})
	t.Run("OKGzip", func(t *testing.T) {
		plain, body := get(t, "/index.html", "Accept-Encoding", "identity")
		resp, gz := get(t, "/index.html", "Accept-Encoding", "gzip")
		if plain.StatusCode != http.StatusOK || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s, %s", plain.Status, resp.Status)
		}
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Skip("index.html is too small to gain from gzip")
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, _ := io.ReadAll(zr)
		if !bytes.Equal(unzipped, body) || resp.Header.Get("ETag") == plain.Header.Get("ETag") {
			t.Errorf("the gzipped file differs from the plain one, or shares its ETag")
		}
	})
	for _, path := range []string{"/nope", "/dist/index.html", "/../go.mod", "/index.html/", "/parley.v1.NegotiationService"} {
		t.Run("ErrNotFound"+path, func(t *testing.T) {
			resp, _ := get(t, path)
			if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Security-Policy") != wantCSP {
				t.Errorf("GET %s: %s, CSP %q; want 404 with the CSP", path, resp.Status, resp.Header.Get("Content-Security-Policy"))
			}
		})
	}
	t.Run("ErrMethod", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, s.HTTPURL+"/", strings.NewReader("x"))
		if resp, _ := webDo(t, http1Client(t), req); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /: %s, want 405", resp.Status)
		}
	})
}

func TestWeb_CORS(t *testing.T) {
	const listed, other = "https://board.example.org", "https://evil.example"
	s := servertest.Start(t, "--http-allowed-origin", listed)
	n := s.CreateDemo(context.Background())
	preflight := func(t *testing.T, origin string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodOptions, s.HTTPURL+"/parley.v1.NegotiationService/GetCaller", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,connect-protocol-version")
		resp, _ := webDo(t, http1Client(t), req)
		return resp
	}
	t.Run("OKListed", func(t *testing.T) {
		resp := preflight(t, listed)
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != listed ||
			!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Errorf("preflight from a listed origin: %s %v", resp.Status, resp.Header)
		}
		if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Error("a CORS grant allows credentials (cookies)")
		}
		call, _ := webPost(t, s, "NegotiationService/GetCaller", n.Tokens["ukraine"], "{}", "Origin", listed)
		if call.StatusCode != http.StatusOK || call.Header.Get("Access-Control-Allow-Origin") != listed {
			t.Errorf("a call from a listed origin: %s, allow-origin %q", call.Status, call.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("ErrOtherOrigin", func(t *testing.T) {
		resp := preflight(t, other)
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from another origin: %s, allow-origin %q", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		call, _ := webPost(t, s, "NegotiationService/GetCaller", n.Tokens["ukraine"], "{}", "Origin", other)
		if call.Header.Get("Access-Control-Allow-Origin") != "" || call.Header.Get("Access-Control-Expose-Headers") != "" {
			t.Errorf("a call from another origin got CORS headers: %v", call.Header)
		}
	})
}

// TestWeb_Watch follows the log over each browser protocol: the stream sends
// the log so far, then an event committed after it started, as gRPC does.
func TestWeb_Watch(t *testing.T) {
	s := servertest.Start(t, "--rate-limit", "0")
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	overGRPC := parleyv1.NewNegotiationServiceClient(s.Conn())
	doc, err := overGRPC.GetDocument(servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	last := doc.GetNegotiation().GetLastSequence()
	for i, protocol := range webProtocols[1:] {
		t.Run(protocol.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			api := parleyv1.NewNegotiationServiceClient(protocol.dial(t, s))
			stream, err := api.WatchEvents(servertest.As(ctx, n.Tokens["russia"]), &parleyv1.WatchEventsRequest{Negotiation: n.Name})
			if err != nil {
				t.Fatal(err)
			}
			for want := int64(1); want <= last; want++ {
				got, err := stream.Recv()
				if err != nil || got.GetEvent().GetSequence() != want {
					t.Fatalf("event %d: %v %v", want, got.GetEvent().GetSequence(), err)
				}
			}
			// A sign-off over gRPC reaches the watcher live.
			p := doc.GetPoints()[i]
			if _, err := overGRPC.SignOffPoint(servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.SignOffPointRequest{
				Point: p.GetName(), Revision: p.GetRevision(), TextSha256: p.GetTextSha256()}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := stream.Recv()
			if err != nil || got.GetEvent().GetSequence() != last+1 || got.GetEvent().GetEvent().GetPointSignedOff() == nil {
				t.Fatalf("the live event: %v %v", got, err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("the live event took %v", took)
			}
			last++
		})
	}
}

// TestWeb_RateLimit checks the rate limit over every protocol: each
// refuses the call over the burst as gRPC does.
func TestWeb_RateLimit(t *testing.T) {
	const burst = 8 // the demo's seeding takes 6 of the administrator's
	s := servertest.Start(t, "--rate-limit", "0.001", "--rate-burst", "8")
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	participants := []string{"ukraine", "russia", "united-states", "europe", "mediator"}
	for i, protocol := range webProtocols {
		t.Run(protocol.name, func(t *testing.T) {
			api := parleyv1.NewNegotiationServiceClient(protocol.dial(t, s))
			who := servertest.As(ctx, n.Tokens[participants[i]])
			for call := 1; call <= burst; call++ {
				if _, err := api.GetCaller(who, &parleyv1.GetCallerRequest{}); err != nil {
					t.Fatalf("call %d within the burst: %v", call, err)
				}
			}
			_, err := api.GetCaller(who, &parleyv1.GetCallerRequest{})
			limitsWant(t, "the call over the burst", err, codes.ResourceExhausted, "RATE_LIMITED")
		})
	}
	t.Run("CurlSees429", func(t *testing.T) {
		resp, body := webPost(t, s, "NegotiationService/GetCaller", n.Tokens["ukraine"], "{}")
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("over the limit, curl sees %s, want 429\n%s", resp.Status, body)
		}
	})
}

// TestWeb_MessageSize sends a request over gRPC's message size limit over
// every protocol: each refuses it as gRPC does, and nothing is created.
func TestWeb_MessageSize(t *testing.T) {
	s := servertest.Start(t, "--rate-limit", "0")
	admin := servertest.As(context.Background(), s.AdminToken)
	count := func() int {
		t.Helper()
		r, err := parleyv1.NewNegotiationServiceClient(s.Conn()).ListNegotiations(admin, &parleyv1.ListNegotiationsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return len(r.GetNegotiations())
	}
	huge := limitsCreate(nil, 2)
	huge.NumberedText = "1. " + strings.Repeat("a", 9<<20)
	before := count()
	for _, protocol := range webProtocols {
		t.Run(protocol.name, func(t *testing.T) {
			_, err := parleyv1.NewNegotiationServiceClient(protocol.dial(t, s)).CreateNegotiation(admin, huge)
			limitsWant(t, "a 9 MiB request", err, codes.ResourceExhausted, "")
		})
	}
	t.Run("BodyOverTheHTTPBound", func(t *testing.T) {
		// Over the HTTP listener's own bound on a body: refused from its
		// declared length, before it is read, with the same code.
		body := `{"title":"` + strings.Repeat("a", 33<<20) + `"}`
		resp, reply := webPost(t, s, "NegotiationService/CreateNegotiation", s.AdminToken, body)
		var e connectError
		if err := json.Unmarshal(reply, &e); err != nil || resp.StatusCode != http.StatusTooManyRequests || e.Code != "resource_exhausted" {
			t.Errorf("a 33 MiB body: %s %s (%v)", resp.Status, reply, err)
		}
		for _, protocol := range webProtocols[1:] {
			_, err := parleyv1.NewNegotiationServiceClient(protocol.dial(t, s)).CreateNegotiation(admin,
				&parleyv1.CreateNegotiationRequest{Title: strings.Repeat("a", 33<<20)})
			limitsWant(t, protocol.name+": a 33 MiB request", err, codes.ResourceExhausted, "")
		}
	})
	t.Run("ErrMalformedJSON", func(t *testing.T) {
		resp, reply := webPost(t, s, "NegotiationService/GetCaller", s.AdminToken, "{not json")
		var e connectError
		if err := json.Unmarshal(reply, &e); err != nil {
			t.Fatalf("%s: %v\n%s", resp.Status, err, reply)
		}
		if reason, _ := e.reason(t); resp.StatusCode != http.StatusBadRequest || e.Code != "invalid_argument" || reason != "REQUEST_MALFORMED" {
			t.Errorf("a body that is not JSON: %s %s", resp.Status, reply)
		}
	})
	if after := count(); after != before {
		t.Errorf("refused requests created negotiations: %d, then %d", before, after)
	}
}

// TestWeb_DemoSignIn starts the demo and signs in with each printed link's
// token; the token is in the fragment, which browsers do not send.
func TestWeb_DemoSignIn(t *testing.T) {
	s := servertest.Start(t, "--demo")
	links := demoLinks(t, s)
	if len(links) != 5 {
		t.Fatalf("%d sign-in links, want 5:\n%s", len(links), s.Stdout.String())
	}
	if !strings.Contains(s.Stdout.String(), "parleyd: the board: "+s.HTTPURL+"/\n") {
		t.Errorf("the board's address is not printed:\n%s", s.Stdout.String())
	}
	api := parleyv1.NewNegotiationServiceClient(webProtocols[3].dial(t, s)) // Connect JSON, as the board
	for who, link := range links {
		token, ok := strings.CutPrefix(link, s.HTTPURL+"/#token=")
		if !ok {
			t.Fatalf("%s's link %q does not carry the token in the fragment of the board's address", who, link)
		}
		caller, err := api.GetCaller(servertest.As(context.Background(), token), &parleyv1.GetCallerRequest{})
		if err != nil || caller.GetParticipant().GetId() != who {
			t.Errorf("signing in with %s's link: %v %v", who, caller, err)
		}
	}
	// A restart prints the same links: the tokens are kept.
	s.Restart()
	again := demoLinks(t, s)
	for who, link := range links {
		if again[who] != link {
			t.Errorf("after a restart %s's link is %q, was %q", who, again[who], link)
		}
	}
}

// demoLinks waits for the demo's sign-in links and returns them by
// participant.
func demoLinks(t *testing.T, s *servertest.Server) map[string]string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out := s.Stdout.String()
		if strings.Count(out, "parleyd: sign in as ") >= 5 {
			links := map[string]string{}
			sc := bufio.NewScanner(strings.NewReader(out))
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(sc.Text(), "parleyd: sign in as "); ok {
					who, link, _ := strings.Cut(rest, ": ")
					links[who] = link
				}
			}
			return links
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sign-in links within 30s:\n%s", out)
		}
	}
}

func TestWeb_TLS(t *testing.T) {
	pki := tlsNewPKI(t, "server")
	t.Run("OK", func(t *testing.T) {
		s := servertest.Start(t, "--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey)
		if !strings.HasPrefix(s.HTTPURL, "https://") {
			t.Fatalf("with TLS, HTTP is served on %s", s.HTTPURL)
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool}, ForceAttemptHTTP2: true}}
		t.Cleanup(client.CloseIdleConnections)
		req, _ := http.NewRequest(http.MethodGet, s.HTTPURL+"/", nil)
		resp, _ := webDo(t, client, req)
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 || resp.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("GET / over TLS: %s %s, HSTS %q", resp.Status, resp.Proto, resp.Header.Get("Strict-Transport-Security"))
		}
		req, _ = http.NewRequest(http.MethodPost, s.HTTPURL+"/parley.v1.NegotiationService/GetCaller", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.AdminToken)
		if resp, body := webDo(t, client, req); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"admin":true`) {
			t.Errorf("GetCaller over HTTPS: %s\n%s", resp.Status, body)
		}
	})
	t.Run("ErrPlaintextOnNetwork", func(t *testing.T) {
		code, stderr := tlsRun(t, "--listen", "127.0.0.1:0", "--http-listen", "0.0.0.0:0")
		if code <= 0 || !strings.Contains(stderr, "--http-listen") || !strings.Contains(stderr, "--allow-plaintext") {
			t.Fatalf("HTTP in plaintext on 0.0.0.0: exit %d, stderr:\n%s\nwant a refusal naming --http-listen and --allow-plaintext", code, stderr)
		}
	})
}

// TestWeb_StopWithWatchers stops parleyd while browsers watch the log: the
// streams end with UNAVAILABLE and the server exits at once, not after the
// stop timeout.
func TestWeb_StopWithWatchers(t *testing.T) {
	s := servertest.Start(t, "--stop-timeout", "20s")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := s.CreateDemo(ctx)
	var streams []parleyv1.NegotiationService_WatchEventsClient
	for _, protocol := range webProtocols[1:] {
		stream, err := parleyv1.NewNegotiationServiceClient(protocol.dial(t, s)).WatchEvents(
			servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.WatchEventsRequest{Negotiation: n.Name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); err != nil {
			t.Fatalf("%s: %v", protocol.name, err)
		}
		streams = append(streams, stream)
	}
	start := time.Now()
	s.Stop()
	took := time.Since(start)
	t.Logf("stopped in %v", took)
	if took > 10*time.Second {
		t.Errorf("parleyd took %v to stop with watchers on the HTTP listener", took)
	}
	for i, stream := range streams {
		var err error
		for err == nil {
			_, err = stream.Recv()
		}
		if code := status.Code(err); code != codes.Unavailable || limitsReason(err) != "SHUTTING_DOWN" {
			t.Errorf("%s: the watch ended with %v, want UNAVAILABLE SHUTTING_DOWN", webProtocols[i+1].name, err)
		}
	}
}

// TestWeb_Metrics counts calls made on the HTTP listener with those made over
// gRPC: the metrics interceptor sees them all.
func TestWeb_Metrics(t *testing.T) {
	s := servertest.Start(t, "--metrics-listen", "127.0.0.1:0")
	var metricsURL string
	for _, line := range strings.Split(s.Stdout.String(), "\n") {
		if u, ok := strings.CutPrefix(line, "parleyd: metrics on "); ok {
			metricsURL = u
		}
	}
	if metricsURL == "" {
		t.Fatalf("no metrics address:\n%s", s.Stdout.String())
	}
	for _, protocol := range webProtocols {
		if _, err := parleyv1.NewNegotiationServiceClient(protocol.dial(t, s)).GetCaller(
			servertest.As(context.Background(), s.AdminToken), &parleyv1.GetCallerRequest{}); err != nil {
			t.Fatalf("%s: %v", protocol.name, err)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, metricsURL, nil)
	_, body := webDo(t, http1Client(t), req)
	want := fmt.Sprintf(`grpc_server_handled_total{grpc_code="OK",grpc_method="GetCaller",grpc_service="parley.v1.NegotiationService",grpc_type="unary"} %d`, len(webProtocols))
	if !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %q", want)
	}
}
