package rpc

import (
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	protov2 "google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/server/workflow"
)

// grpc-go answers every request it cannot decode with INTERNAL, before any
// interceptor runs. A string field that is not UTF-8 is the client's error,
// not the server's, so requestCodec lets such a request through, marked, and
// the interceptors refuse it with INVALID_ARGUMENT / TEXT_NOT_UTF8.

// notUTF8 holds the request messages that held invalid UTF-8, until an
// interceptor takes them out.
var notUTF8 sync.Map

// It also counts the replies it encodes against the server's reply memory
// until gRPC has written them out: a reply a client is slow to read stays in
// gRPC's buffers after its call has ended, and those bytes are what one
// participant's reads piled up without bound.
type requestCodec struct {
	encoding.CodecV2
	pool encodedPool
}

func newRequestCodec(m *replyMemory) requestCodec {
	return requestCodec{CodecV2: encoding.GetCodecV2(proto.Name), pool: encodedPool{m: m}}
}

// Marshal encodes as gRPC's own codec does, with buffers from a pool that
// counts them until gRPC gives them back.
func (c requestCodec) Marshal(v any) (mem.BufferSlice, error) {
	msg, ok := v.(protov2.Message)
	if !ok {
		return c.CodecV2.Marshal(v)
	}
	size := protov2.Size(msg) // then UseCachedSize, as gRPC's codec does
	if mem.IsBelowBufferPoolingThreshold(size) {
		return c.CodecV2.Marshal(v)
	}
	buf := c.pool.Get(size)
	if _, err := (protov2.MarshalOptions{UseCachedSize: true}).MarshalAppend((*buf)[:0], msg); err != nil {
		c.pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, c.pool)}, nil
}

// encodedPool counts the bytes of the buffers out. Small ones come from
// gRPC's pool; larger ones are allocated to size, because gRPC's pool hands
// out its next size up, 1 MiB for any message over 32 KiB, and a watcher's
// queued events of 33 KiB each then held 1 MiB apiece.
type encodedPool struct{ m *replyMemory }

// pooledUpTo is the largest buffer taken from gRPC's pool.
const pooledUpTo = 32 << 10

func (p encodedPool) Get(n int) *[]byte {
	var buf *[]byte
	if n <= pooledUpTo {
		buf = mem.DefaultBufferPool().Get(n)
	} else {
		b := make([]byte, n)
		buf = &b
	}
	p.m.encoded.Add(int64(cap(*buf)))
	return buf
}

func (p encodedPool) Put(buf *[]byte) {
	p.m.encoded.Add(-int64(cap(*buf)))
	if cap(*buf) <= pooledUpTo {
		mem.DefaultBufferPool().Put(buf)
	}
}

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
