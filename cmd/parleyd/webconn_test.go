package main_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"connectrpc.com/connect"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/parley-negotiation/parley/server/servertest"
)

// webProtocol is one way to call the API: a connection the generated gRPC
// clients can use, whatever travels on the wire.
type webProtocol struct {
	name string
	dial func(t *testing.T, s *servertest.Server) grpc.ClientConnInterface
}

// webProtocols are every protocol parleyd serves, native gRPC first: the
// others are checked against it.
var webProtocols = []webProtocol{
	{"gRPC", func(t *testing.T, s *servertest.Server) grpc.ClientConnInterface { return s.Conn() }},
	{"GRPCOnHTTPListener", func(t *testing.T, s *servertest.Server) grpc.ClientConnInterface {
		return newConnectConn(t, s.HTTPURL, h2cClient(t), false, connect.WithGRPC())
	}},
	{"ConnectProto", func(t *testing.T, s *servertest.Server) grpc.ClientConnInterface {
		return newConnectConn(t, s.HTTPURL, http1Client(t), false)
	}},
	{"ConnectJSON", func(t *testing.T, s *servertest.Server) grpc.ClientConnInterface {
		return newConnectConn(t, s.HTTPURL, http1Client(t), true)
	}},
	{"GRPCWeb", func(t *testing.T, s *servertest.Server) grpc.ClientConnInterface {
		return newConnectConn(t, s.HTTPURL, http1Client(t), false, connect.WithGRPCWeb())
	}},
}

// http1Client speaks HTTP/1.1, as a browser often does to a server without
// TLS. Its connections are closed at the end of the test.
func http1Client(t *testing.T) *http.Client {
	var p http.Protocols
	p.SetHTTP1(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p, DialContext: trackedDialer(t)}}
}

// h2cClient speaks HTTP/2 without TLS, as gRPC clients do.
func h2cClient(t *testing.T) *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p, DialContext: trackedDialer(t)}}
}

// trackedDialer dials connections that are all closed at the end of the
// test, streams in flight included, so that no goroutine outlives it.
func trackedDialer(t *testing.T) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
		return c, err
	}
}

// connectConn is a grpc.ClientConnInterface that makes each call with
// connect-go's client, in Connect, gRPC-Web or gRPC, so that the generated
// gRPC stubs and every test written for them run over those protocols too.
// The authorization metadata of the outgoing context becomes a header, and
// errors come back as gRPC status errors with their details.
type connectConn struct {
	base    string
	http    *http.Client
	options []connect.ClientOption
	json    bool

	mu      sync.Mutex
	clients map[string]*connect.Client[rawMessage, rawMessage]
	streams []*connect.ServerStreamForClient[rawMessage]
}

// newConnectConn calls the server at base (http://host:port) with client;
// json sends and reads JSON instead of binary protobuf.
func newConnectConn(t *testing.T, base string, client *http.Client, json bool, options ...connect.ClientOption) *connectConn {
	t.Helper()
	if base == "" {
		t.Fatal("the server has no HTTP listener")
	}
	options = append(options, connect.WithCodec(passCodec{json: json}), connect.WithReadMaxBytes(256<<20))
	c := &connectConn{base: base, http: client, options: options, json: json, clients: map[string]*connect.Client[rawMessage, rawMessage]{}}
	// Streams a test leaves open end with it, as they do when a gRPC
	// connection closes.
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, s := range c.streams {
			s.Close()
		}
	})
	return c
}

func (c *connectConn) client(method string) *connect.Client[rawMessage, rawMessage] {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.clients[method]
	if !ok {
		cl = connect.NewClient[rawMessage, rawMessage](c.http, c.base+method, c.options...)
		c.clients[method] = cl
	}
	return cl
}

// rawMessage carries a message out and its encoded bytes back, so that one
// client type serves every method; RecvMsg decodes the bytes into the
// message the stub asks for.
type rawMessage struct {
	out  proto.Message
	data []byte
}

type passCodec struct{ json bool }

func (c passCodec) Name() string {
	if c.json {
		return "json"
	}
	return "proto"
}

// Marshal and Unmarshal take rawMessage for calls, and proto messages for
// what connect itself decodes (a gRPC status in trailers).
func (c passCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if raw, isRaw := v.(*rawMessage); isRaw {
		m, ok = raw.out, true
	}
	if !ok {
		return nil, fmt.Errorf("passCodec cannot marshal %T", v)
	}
	if c.json {
		return protojson.Marshal(m)
	}
	return proto.Marshal(m)
}

func (c passCodec) Unmarshal(data []byte, v any) error {
	if raw, ok := v.(*rawMessage); ok {
		raw.data = bytes.Clone(data)
		return nil
	}
	return c.decode(data, v)
}

func (c passCodec) decode(data []byte, into any) error {
	if c.json {
		return protojson.Unmarshal(data, into.(proto.Message))
	}
	return proto.Unmarshal(data, into.(proto.Message))
}

func (c *connectConn) request(ctx context.Context, msg any) *connect.Request[rawMessage] {
	req := connect.NewRequest(&rawMessage{out: msg.(proto.Message)})
	md, _ := metadata.FromOutgoingContext(ctx)
	for k, vs := range md {
		for _, v := range vs {
			req.Header().Add(k, v)
		}
	}
	return req
}

func (c *connectConn) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	res, err := c.client(method).CallUnary(ctx, c.request(ctx, args))
	if err != nil {
		return statusOf(err)
	}
	return c.codec().decode(res.Msg.data, reply)
}

func (c *connectConn) codec() passCodec { return passCodec{json: c.json} }

func (c *connectConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	if desc.ClientStreams {
		return nil, status.Error(codes.Unimplemented, "connectConn serves unary and server-streaming calls only")
	}
	return &connectStream{conn: c, ctx: ctx, method: method}, nil
}

// connectStream is a server stream: the request goes with SendMsg, the call
// starts at CloseSend, and RecvMsg reads the replies.
type connectStream struct {
	conn   *connectConn
	ctx    context.Context
	method string
	req    any
	stream *connect.ServerStreamForClient[rawMessage]
}

func (s *connectStream) SendMsg(m any) error { s.req = m; return nil }

func (s *connectStream) CloseSend() error {
	stream, err := s.conn.client(s.method).CallServerStream(s.ctx, s.conn.request(s.ctx, s.req))
	if err != nil {
		return statusOf(err)
	}
	s.stream = stream
	s.conn.mu.Lock()
	s.conn.streams = append(s.conn.streams, stream)
	s.conn.mu.Unlock()
	return nil
}

func (s *connectStream) RecvMsg(m any) error {
	if s.stream == nil {
		return status.Error(codes.Internal, "RecvMsg before CloseSend")
	}
	if s.stream.Receive() {
		return s.conn.codec().decode(s.stream.Msg().data, m)
	}
	defer s.stream.Close()
	if err := s.stream.Err(); err != nil {
		return statusOf(err)
	}
	return io.EOF
}

func (s *connectStream) Header() (metadata.MD, error) { return nil, nil }
func (s *connectStream) Trailer() metadata.MD         { return nil }
func (s *connectStream) Context() context.Context     { return s.ctx }

// statusOf turns a connect error into the gRPC status it stands for, with
// its details, so that tests read the code and the ErrorInfo as over gRPC.
func statusOf(err error) error {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return status.Error(codes.Unknown, err.Error())
	}
	st := &spb.Status{Code: int32(ce.Code()), Message: ce.Message()}
	for _, d := range ce.Details() {
		st.Details = append(st.Details, &anypb.Any{TypeUrl: "type.googleapis.com/" + d.Type(), Value: d.Bytes()})
	}
	return status.ErrorProto(st)
}
