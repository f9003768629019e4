package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/parley-negotiation/parley/server/web"
)

func newHandler(t *testing.T, origins ...string) http.Handler {
	t.Helper()
	g := grpc.NewServer()
	healthpb.RegisterHealthServer(g, health.NewServer())
	assets := fstest.MapFS{
		"index.html":    {Data: []byte("<!doctype html><title>Board</title>" + strings.Repeat("<p>text</p>", 100))},
		"board.js":      {Data: []byte("console.log(1)")},
		"sub/other.css": {Data: []byte("body{}")},
	}
	h, err := web.NewHandler(g, web.Options{Assets: assets, AllowedOrigins: origins})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func serve(h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandler_Assets(t *testing.T) {
	h := newHandler(t)
	t.Run("OK", func(t *testing.T) {
		rec := serve(h, http.MethodGet, "/")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(rec.Body.String(), "<title>Board") {
			t.Fatalf("GET /: %d %v", rec.Code, rec.Header())
		}
		if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src 'self'") || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("security headers: %v", rec.Header())
		}
		if js := serve(h, http.MethodGet, "/board.js"); js.Code != http.StatusOK || !strings.HasPrefix(js.Header().Get("Content-Type"), "text/javascript") {
			t.Errorf("GET /board.js: %d %q", js.Code, js.Header().Get("Content-Type"))
		}
		if css := serve(h, http.MethodGet, "/sub/other.css"); css.Code != http.StatusOK {
			t.Errorf("GET /sub/other.css: %d", css.Code)
		}
	})
	t.Run("OKGzipWhenSmaller", func(t *testing.T) {
		if rec := serve(h, http.MethodGet, "/", "Accept-Encoding", "br, gzip"); rec.Header().Get("Content-Encoding") != "gzip" {
			t.Errorf("a large page is not gzipped: %v", rec.Header())
		}
		if rec := serve(h, http.MethodGet, "/", "Accept-Encoding", "gzip;q=0"); rec.Header().Get("Content-Encoding") != "" {
			t.Error("gzipped although the client refuses gzip")
		}
		if rec := serve(h, http.MethodGet, "/board.js", "Accept-Encoding", "gzip"); rec.Header().Get("Content-Encoding") != "" {
			t.Error("a file gzip makes larger is gzipped")
		}
	})
	t.Run("OKNotModified", func(t *testing.T) {
		etag := serve(h, http.MethodGet, "/").Header().Get("ETag")
		if rec := serve(h, http.MethodGet, "/", "If-None-Match", etag); rec.Code != http.StatusNotModified {
			t.Errorf("GET / with its ETag: %d", rec.Code)
		}
	})
	for _, path := range []string{"/sub", "/sub/", "/missing", "/index.html/x"} {
		t.Run("ErrNotFound"+path, func(t *testing.T) {
			if rec := serve(h, http.MethodGet, path); rec.Code != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404 (no directory listings)", path, rec.Code)
			}
		})
	}
	t.Run("ErrMethod", func(t *testing.T) {
		if rec := serve(h, http.MethodDelete, "/"); rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("DELETE /: %d", rec.Code)
		}
	})
}

func TestHandler_CORS(t *testing.T) {
	h := newHandler(t, "https://ok.example")
	preflight := func(origin string) *httptest.ResponseRecorder {
		return serve(h, http.MethodOptions, "/grpc.health.v1.Health/Check", "Origin", origin, "Access-Control-Request-Method", "POST")
	}
	if rec := preflight("https://ok.example"); rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "https://ok.example" {
		t.Errorf("preflight of a listed origin: %d %v", rec.Code, rec.Header())
	}
	if rec := preflight("https://other.example"); rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight of another origin: %d %v", rec.Code, rec.Header())
	}
}
