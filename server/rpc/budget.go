package rpc

import (
	"context"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/server/workflow"
)

// Bounds on what one reply, and all replies together, may hold in memory.
const (
	// MaxPageBytes bounds a page of any list, encoded: under the 4 MiB that
	// gRPC clients accept by default, with room for the page's other fields.
	// A page ends before the item that would take it past this, and always
	// holds at least one item if any is left.
	MaxPageBytes = 3 << 20
	// DefaultReplyMemory is the default budget of reply bytes in flight
	// across all calls (WithReplyMemory).
	DefaultReplyMemory = 64 << 20
	// MinReplyMemory is the smallest budget that can send any single item:
	// the largest event holds a whole request (MaxRecvMsgBytes), and its
	// record carries it twice, as stored bytes and decoded.
	MinReplyMemory = 2 * MaxRecvMsgBytes
)

// errServerBusy refuses a read when the replies in flight already hold the
// whole budget: the caller retries shortly, as it would after RATE_LIMITED.
var errServerBusy = workflow.Errorf(workflow.ERESOURCEEXHAUSTED, "SERVER_BUSY",
	"the server is sending as many large replies as its memory budget allows; retry shortly")

// WithReplyMemory sets the server-wide budget, in bytes, of the replies that
// reads build and send at a time (pages of events, amendments, points,
// negotiations, a point's history). A page that finds the budget spent ends
// early; a read that cannot get room for a single item is refused with
// RESOURCE_EXHAUSTED, reason SERVER_BUSY. bytes <= 0 leaves the default; a
// budget under MinReplyMemory could never send the largest items, but tests
// use one to make the budget run out.
func WithReplyMemory(bytes int64) Option {
	return func(s *Server) {
		if bytes > 0 {
			s.replyMemory.limit = bytes
		}
	}
}

// replyMemory counts the bytes of the replies in flight against a limit:
// those being built, which a call takes as it builds its reply and gives
// back when its handler returns, and those encoded that gRPC has not written
// out yet, which the codec counts until gRPC frees them. A reply a client is slow
// to read thus stays counted after its call has ended.
type replyMemory struct {
	limit   int64
	used    atomic.Int64 // taken by calls building replies
	encoded atomic.Int64 // encoded messages not yet written out
}

// take reserves n bytes if they fit under the limit.
func (m *replyMemory) take(n int64) bool {
	for {
		used := m.used.Load()
		if used+m.encoded.Load()+n > m.limit {
			return false
		}
		if m.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

func (m *replyMemory) give(n int64) { m.used.Add(-n) }

// InFlightReplyBytes returns the reply bytes the calls in progress hold now,
// being built or waiting to be written out.
func (s *Server) InFlightReplyBytes() int64 {
	return s.replyMemory.used.Load() + s.replyMemory.encoded.Load()
}

// replyGrant is what one call holds of the reply memory.
type replyGrant struct {
	m     *replyMemory
	bytes atomic.Int64
	// message is the call's reply and encoded its encoding, when the store
	// encoded it: see setEncodedReply.
	message proto.Message
	encoded []byte
}

func (g *replyGrant) take(n int64) bool {
	if g == nil {
		return true // not served through gRPC: nothing to bound
	}
	if !g.m.take(n) {
		return false
	}
	g.bytes.Add(n)
	return true
}

type grantKey struct{}

func grantFrom(ctx context.Context) *replyGrant {
	if slot := slotFrom(ctx); slot != nil && slot.grant != nil {
		return slot.grant
	}
	g, _ := ctx.Value(grantKey{}).(*replyGrant)
	return g
}

// replyUnary gives each call a grant of reply memory and takes it back when
// the handler returns. gRPC encodes the reply right after, and the codec
// counts a large encoding from then until it is written out. A reply the
// store has already encoded goes out as those bytes (encodedReply).
func (s *Server) replyUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	var g *replyGrant
	if slot := slotFrom(ctx); slot != nil {
		slot.grantStore.m = &s.replyMemory
		g, slot.grant = &slot.grantStore, &slot.grantStore
	} else {
		g = &replyGrant{m: &s.replyMemory}
		ctx = context.WithValue(ctx, grantKey{}, g)
	}
	defer func() { g.m.give(g.bytes.Load()) }()
	resp, err := handler(ctx, req)
	if err == nil && g.encoded != nil && resp == any(g.message) {
		return encodedReply{Message: g.message, encoded: g.encoded}, nil
	}
	return resp, err
}

// encodedReply is a reply with its encoding, as the store recorded it for
// retries of the request: the codec sends those bytes rather than encoding
// the reply again. It is also the reply itself, for any code that looks at
// it as a message.
type encodedReply struct {
	proto.Message
	encoded []byte
}

// setEncodedReply notes a reply of the call and its encoding, if the call
// has a grant (it is served by gRPC) and the encoding is small enough to go
// uncounted by the reply memory.
func setEncodedReply(ctx context.Context, msg proto.Message, encoded []byte) {
	if g := grantFrom(ctx); g != nil && msg != nil && encoded != nil && len(encoded) < countFrom {
		g.message, g.encoded = msg, encoded
	}
}

// page fills one reply of a list: it admits items while the page stays
// within MaxPageBytes and the server's reply memory has room for them.
type page struct {
	grant *replyGrant
	bytes int
	items int
	// starved says the page ended early because the server's reply memory
	// was spent, not at its own limit: such a page is not worth caching.
	starved bool
}

func newPage(ctx context.Context) *page { return &page{grant: grantFrom(ctx)} }

// itemOverhead is what a repeated field adds to each item: its tag and length.
const itemOverhead = 6

// admit reports whether item goes on the page. The first item always does,
// unless the server's reply memory has no room for it: then the call is
// refused with SERVER_BUSY. A later item that does not fit ends the page.
func (p *page) admit(item proto.Message) (bool, error) {
	return p.admitBytes(proto.Size(item) + itemOverhead)
}

func (p *page) admitBytes(n int) (bool, error) {
	if p.items > 0 && p.bytes+n > MaxPageBytes {
		return false, nil
	}
	if !p.grant.take(int64(n)) {
		if p.items == 0 {
			return false, errServerBusy
		}
		p.starved = true
		return false, nil
	}
	p.bytes += n
	p.items++
	return true, nil
}
