package rpc

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	protov2 "google.golang.org/protobuf/proto"

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

// requestCodec is gRPC's proto codec, but for those requests; it also counts
// the large replies it encodes against the server's reply memory until gRPC
// has written them out: a reply a client is slow to read stays in gRPC's
// buffers after its call has ended, and such bytes are what one
// participant's reads once piled up without bound.
type requestCodec struct {
	encoding.CodecV2
	pool encodedPool
}

func newRequestCodec(m *replyMemory) requestCodec {
	return requestCodec{CodecV2: encoding.GetCodecV2(proto.Name), pool: encodedPool{m: m}}
}

// Marshal encodes as gRPC's own codec does (computing the size once, then
// encoding with it), except a reply the store has already encoded, which it
// sends as it is. A message of countFrom bytes or more gets a buffer of its
// own, counted until gRPC gives it back.
func (c requestCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(encodedReply); ok {
		return mem.BufferSlice{mem.SliceBuffer(r.encoded)}, nil
	}
	msg, ok := v.(protov2.Message)
	if !ok {
		return c.CodecV2.Marshal(v)
	}
	size := protov2.Size(msg)
	encode := protov2.MarshalOptions{UseCachedSize: true} // safe: the size was just computed
	if mem.IsBelowBufferPoolingThreshold(size) {
		buf, err := encode.Marshal(msg)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(buf)}, nil
	}
	var pool mem.BufferPool = c.pool
	if size < countFrom {
		pool = mem.DefaultBufferPool()
	}
	buf := pool.Get(size)
	if _, err := encode.MarshalAppend((*buf)[:0], msg); err != nil {
		pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// countFrom is the size from which an encoded message is counted: smaller
// ones, the replies of the write path among them, take gRPC's pooled buffers
// as before, and each stream's write quota bounds what they hold.
const countFrom = 32 << 10

// encodedPool hands out buffers allocated to size (gRPC's pool would hand
// out its next size up, 1 MiB for anything over 32 KiB: a watcher's queued
// events of 33 KiB then held 1 MiB apiece) and counts them until they come
// back. gRPC gives a buffer back once written, but drops without giving back
// those still queued on a connection that closes: the garbage collector's
// cleanup then uncounts them.
type encodedPool struct{ m *replyMemory }

// countedBuffer is a buffer and whether it is still counted; data comes
// first, so that the *[]byte gRPC holds is also the *countedBuffer.
type countedBuffer struct {
	data    []byte
	counted *atomic.Bool
}

func (p encodedPool) Get(n int) *[]byte {
	b := &countedBuffer{data: make([]byte, n), counted: new(atomic.Bool)}
	b.counted.Store(true)
	p.m.encoded.Add(int64(n))
	runtime.AddCleanup(b, func(counted *atomic.Bool) {
		if counted.Swap(false) {
			p.m.encoded.Add(-int64(n))
		}
	}, b.counted)
	return &b.data
}

func (p encodedPool) Put(buf *[]byte) {
	b := (*countedBuffer)(unsafe.Pointer(buf))
	if b.counted.Swap(false) {
		p.m.encoded.Add(-int64(cap(b.data)))
	}
}

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
