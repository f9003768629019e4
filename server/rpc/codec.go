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
// interceptor runs. A string field that is not UTF-8 is the client's error,
// not the server's, so requestCodec lets such a request through, marked, and
// the interceptors refuse it with INVALID_ARGUMENT / TEXT_NOT_UTF8.

// notUTF8 holds the request messages that held invalid UTF-8, until an
// interceptor takes them out.
var notUTF8 sync.Map

type requestCodec struct{ encoding.CodecV2 }

func newRequestCodec() requestCodec { return requestCodec{encoding.GetCodecV2(proto.Name)} }

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err != nil && strings.Contains(err.Error(), "invalid UTF-8") {
		notUTF8.Store(v, struct{}{})
		return nil
	}
	return err
}

var errNotUTF8 = workflow.Errorf(workflow.EINVALID, "TEXT_NOT_UTF8", "a string field of the request is not valid UTF-8")

// takeNotUTF8 reports whether a decoded request was marked, and unmarks it.
func takeNotUTF8(req any) bool {
	_, marked := notUTF8.LoadAndDelete(req)
	return marked
}

// utf8Stream refuses a streamed request that was marked when it is received.
type utf8Stream struct{ grpc.ServerStream }

func (s utf8Stream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if takeNotUTF8(m) {
		return errNotUTF8
	}
	return nil
}
