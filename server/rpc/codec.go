package rpc

import (
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"

	"github.com/parley-negotiation/parley/server/workflow"
)

// grpc-go answers every request it cannot decode with INTERNAL, before any
// interceptor runs. Bytes that do not decode, or a string field that is not
// UTF-8, are the client's error, not the server's, so requestCodec lets such
// a request through, marked with its refusal, and the interceptors refuse it
// with INVALID_ARGUMENT before any handler sees it.

// undecodable holds the request messages that did not decode, with their
// refusal, until an interceptor takes them out.
var undecodable sync.Map

type requestCodec struct{ encoding.CodecV2 }

func newRequestCodec() requestCodec { return requestCodec{encoding.GetCodecV2(proto.Name)} }

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "invalid UTF-8"):
		undecodable.Store(v, errNotUTF8)
	default:
		undecodable.Store(v, errUndecodable)
	}
	return nil
}

var (
	errNotUTF8     = workflow.Errorf(workflow.EINVALID, "TEXT_NOT_UTF8", "a string field of the request is not valid UTF-8")
	errUndecodable = workflow.Errorf(workflow.EINVALID, "REQUEST_UNDECODABLE", "the request's bytes are not a valid encoding of the method's request message")
)

// takeUndecodable returns the refusal of a request that did not decode, and
// unmarks it; nil for a request that decoded.
func takeUndecodable(req any) error {
	err, marked := undecodable.LoadAndDelete(req)
	if !marked {
		return nil
	}
	return err.(error)
}

// decodedStream refuses a streamed request that was marked when it is
// received.
type decodedStream struct{ grpc.ServerStream }

func (s decodedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return takeUndecodable(m)
}
