// Package web serves Parley to browsers and plain HTTP clients: the API over
// Connect, gRPC-Web and gRPC, translated in process to the one gRPC server so
// that every call meets the same interceptors, and the board's static files,
// all behind a strict Content-Security-Policy.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"connectrpc.com/vanguard/vanguardgrpc"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/server/rpc"
)

// MaxRequestBytes bounds the body of one HTTP request: four times gRPC's
// limit on a received message, to leave room for JSON's longer encoding.
// gRPC's own limit then refuses a message too large with RESOURCE_EXHAUSTED,
// as on the gRPC listener.
const MaxRequestBytes = 32 << 20

// contentSecurityPolicy lets the board load only its own files: no inline
// script or style, no eval, nothing from another host, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Headers a listed origin may send and read, for Connect and gRPC-Web.
var (
	corsAllowHeaders = strings.Join([]string{"Authorization", "Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms",
		"Grpc-Timeout", "X-Grpc-Web", "X-User-Agent"}, ", ")
	corsExposeHeaders = strings.Join([]string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin"}, ", ")
)

// Options configures the handler.
type Options struct {
	// Assets are the board's built files, index.html at the root; nil serves
	// no board.
	Assets fs.FS
	// AllowedOrigins are other origins whose pages may call the API, such as
	// "https://board.example.org". None by default: the board is same-origin.
	AllowedOrigins []string
	// MaxResponseBytes bounds a reply that must be buffered to be translated
	// (JSON, or a protocol other than gRPC); 0 means no bound beyond gRPC's own.
	MaxResponseBytes uint32
}

// Handler serves the API of g and the board.
type Handler struct {
	api      http.Handler
	services []string // "/parley.v1.NegotiationService/", …
	assets   map[string]*asset
	origins  []string
}

// NewHandler returns a handler for the services registered on g.
func NewHandler(g *grpc.Server, opts Options) (*Handler, error) {
	topts := []vanguard.TranscoderOption{vanguard.WithCodec(func(res vanguard.TypeResolver) vanguard.Codec {
		return jsonCodec{vanguard.NewJSONCodec(res)}
	})}
	if opts.MaxResponseBytes > 0 {
		topts = append(topts, vanguard.WithDefaultServiceOptions(vanguard.WithMaxMessageBufferBytes(opts.MaxResponseBytes)))
	}
	api, err := vanguardgrpc.NewTranscoder(g, topts...)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	h := &Handler{api: api, assets: map[string]*asset{}, origins: slices.Clone(opts.AllowedOrigins)}
	for name := range g.GetServiceInfo() {
		h.services = append(h.services, "/"+name+"/")
	}
	if opts.Assets != nil {
		if err := h.loadAssets(opts.Assets); err != nil {
			return nil, fmt.Errorf("web: the board's files: %w", err)
		}
	}
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	header := w.Header()
	header.Set("Content-Security-Policy", contentSecurityPolicy)
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("Referrer-Policy", "no-referrer")
	header.Set("X-Frame-Options", "DENY")
	header.Set("Cross-Origin-Opener-Policy", "same-origin")
	header.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.TLS != nil {
		header.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if !h.isAPI(r) {
		h.serveAsset(w, r)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		header.Add("Vary", "Origin")
		if slices.Contains(h.origins, origin) {
			header.Set("Access-Control-Allow-Origin", origin)
			header.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		if r.Method == http.MethodOptions {
			h.preflight(w, r, origin)
			return
		}
	}
	if r.Method == http.MethodPost && r.Header.Get("Connect-Protocol-Version") == "" {
		// A plain JSON or proto POST to a method's path is Connect's unary
		// protocol: say so, as curl does not, rather than let it be taken for
		// a REST call, of which there are none.
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" || ct == "application/proto" {
			r.Header.Set("Connect-Protocol-Version", "1")
		}
	}
	if r.ContentLength > MaxRequestBytes {
		refuseTooLarge(w, r)
		return
	}
	r.Body = &boundedBody{ReadCloser: r.Body, left: MaxRequestBytes}
	h.api.ServeHTTP(w, r)
}

// refuseTooLarge answers a request whose declared body is over the bound
// with RESOURCE_EXHAUSTED in its own protocol, without reading it: in gRPC's
// and gRPC-Web's headers, or as a Connect error. (A body that only turns out
// too large while it is read is cut off by boundedBody.)
func refuseTooLarge(w http.ResponseWriter, r *http.Request) {
	msg := fmt.Sprintf("the request body is %d bytes; the limit is %d", r.ContentLength, MaxRequestBytes)
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/grpc") {
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Grpc-Status", "8") // RESOURCE_EXHAUSTED
		w.Header().Set("Grpc-Message", url.PathEscape(msg))
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests) // Connect's status for resource_exhausted
	body, _ := json.Marshal(map[string]string{"code": "resource_exhausted", "message": msg})
	w.Write(body)
}

// errRequestMalformed refuses a JSON body that does not parse as the
// method's request. Over gRPC an undecodable message is refused by grpc-go
// itself, as INTERNAL; JSON is typed by people, so it gets a reason.
func errRequestMalformed(err error) error {
	ce := connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("the request body is not the method's request in JSON: %w", err))
	if d, derr := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: "REQUEST_MALFORMED", Domain: rpc.ErrorDomain}); derr == nil {
		ce.AddDetail(d)
	}
	return ce
}

// jsonCodec is vanguard's JSON codec, with errors in a request's JSON
// refused as INVALID_ARGUMENT rather than reported as the server's fault.
type jsonCodec struct{ *vanguard.JSONCodec }

func (c jsonCodec) Unmarshal(data []byte, msg proto.Message) error {
	if err := c.JSONCodec.Unmarshal(data, msg); err != nil {
		return errRequestMalformed(err)
	}
	return nil
}

// boundedBody ends a request body that grows past its bound with
// RESOURCE_EXHAUSTED, the code of a message over gRPC's limit.
type boundedBody struct {
	io.ReadCloser
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("the request body is over %d bytes", MaxRequestBytes))
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// isAPI reports whether a request is for a service's method.
func (h *Handler) isAPI(r *http.Request) bool {
	for _, prefix := range h.services {
		if strings.HasPrefix(r.URL.Path, prefix) {
			return true
		}
	}
	return false
}

// preflight answers a CORS preflight: a grant for a listed origin, 403 for
// any other.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	if !slices.Contains(h.origins, origin) || r.Header.Get("Access-Control-Request-Method") == "" {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	header := w.Header()
	header.Set("Access-Control-Allow-Methods", "POST, GET")
	header.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	header.Set("Access-Control-Max-Age", "7200")
	w.WriteHeader(http.StatusNoContent)
}

// asset is one of the board's files, read once at start, with its gzipped
// form when that is smaller.
type asset struct {
	name        string
	contentType string
	etag        string
	plain, gz   []byte
}

// modTime is the time every asset claims: the files are embedded and change
// only with the binary, which the ETag covers.
var modTime = time.Unix(0, 0)

func (h *Handler) loadAssets(assets fs.FS) error {
	return fs.WalkDir(assets, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(assets, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a := &asset{name: name, plain: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
			contentType: mime.TypeByExtension(path.Ext(name))}
		if a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if gz.Len() < len(body) {
			a.gz = gz.Bytes()
		}
		h.assets["/"+name] = a
		return nil
	})
}

// serveAsset serves one of the board's files: "/" is index.html; there are
// no directory listings.
func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := r.URL.Path
	if name == "/" {
		name = "/index.html"
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	header := w.Header()
	header.Set("Content-Type", a.contentType)
	// The names are not versioned: revalidate each time (a 304 is cheap).
	header.Set("Cache-Control", "no-cache")
	header.Set("Vary", "Accept-Encoding")
	body, etag := a.plain, a.etag
	if a.gz != nil && acceptsGzip(r) {
		header.Set("Content-Encoding", "gzip")
		body, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
	}
	header.Set("ETag", etag)
	r.Header.Del("Range") // the files are small; a range of a gzipped body would be of no use
	http.ServeContent(w, r, a.name, modTime, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
