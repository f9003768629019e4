package cluster

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/parley-negotiation/parley/server/rpc"
)

// The node-to-node service: a follower forwards a mutating call to the
// leader, and asks it for a read index. Its messages are raw bytes (a JSON
// rpc.Call, an encoded reply, an index), over the mutual TLS of the raft
// listener; it is not part of the public API.
const nodeServiceName = "parley.cluster.Node"

// rawCodec passes bytes through gRPC as they are.
type rawCodec struct{}

func (rawCodec) Name() string { return "parley-raw" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch b := v.(type) {
	case *[]byte:
		return *b, nil
	case []byte:
		return b, nil
	}
	return nil, fmt.Errorf("raw codec: cannot encode %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot decode into %T", v)
	}
	*b = append([]byte(nil), data...)
	return nil
}

type nodeService interface{}

var nodeServiceDesc = grpc.ServiceDesc{
	ServiceName: nodeServiceName,
	HandlerType: (*nodeService)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Forward", Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			var in []byte
			if err := dec(&in); err != nil {
				return nil, err
			}
			return srv.(*Node).serveForward(ctx, in)
		}},
		{MethodName: "ReadIndex", Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			var in []byte
			if err := dec(&in); err != nil {
				return nil, err
			}
			return srv.(*Node).serveReadIndex(ctx)
		}},
	},
}

// notLeaderReason marks a forwarded call that reached a node which no longer
// leads: nothing was appended, so the follower tries the new leader.
const notLeaderReason = "NOT_LEADER"

func notLeaderStatus() error {
	st, _ := status.New(codes.Unavailable, "this node does not lead the cluster").
		WithDetails(&errdetails.ErrorInfo{Reason: notLeaderReason, Domain: rpc.ErrorDomain})
	return st.Err()
}

func (n *Node) serveForward(ctx context.Context, in []byte) (*[]byte, error) {
	var call rpc.Call
	if err := json.Unmarshal(in, &call); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "forwarded call does not decode: %v", err)
	}
	reply, err := n.propose(ctx, entry{Kind: kindCall, Call: &call})
	if errors.Is(err, errNotLeader) {
		return nil, notLeaderStatus()
	}
	if err != nil {
		return nil, n.server.ErrorStatus(ctx, call.Method, err)
	}
	out, err := proto.Marshal(reply)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (n *Node) serveReadIndex(ctx context.Context) (*[]byte, error) {
	if !n.isLeader() {
		return nil, notLeaderStatus()
	}
	index, err := n.readIndex(ctx)
	if errors.Is(err, errNotLeader) {
		return nil, notLeaderStatus()
	}
	if err != nil {
		return nil, n.server.ErrorStatus(ctx, "ReadIndex", err)
	}
	out := binary.BigEndian.AppendUint64(nil, index)
	return &out, nil
}

// conn returns the connection to the node at a raft address.
func (n *Node) conn(addr string) (*grpc.ClientConn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.conns[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()), // the dialer below does mutual TLS
		// A node that comes back after a crash is reached again within
		// seconds, not after gRPC's default backoff of up to two minutes.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 2 * time.Second}),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) { return n.mux.dial(ctx, a, connRPC) }),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.MaxCallRecvMsgSize(rpc.MaxSendMsgBytes), grpc.MaxCallSendMsgSize(rpc.MaxRecvMsgBytes+1<<20)))
	if err != nil {
		return nil, err
	}
	n.conns[addr] = c
	return c, nil
}

// forward sends a call to the leader and returns its reply, trying the new
// leader when the one it reached no longer leads.
func (n *Node) forward(ctx context.Context, addr string, call rpc.Call) (proto.Message, error) {
	in, err := json.Marshal(call)
	if err != nil {
		return nil, err
	}
	until := time.Now().Add(leaderWait)
	for {
		c, err := n.conn(addr)
		if err != nil {
			return nil, err
		}
		var out []byte
		err = c.Invoke(ctx, "/"+nodeServiceName+"/Forward", &in, &out)
		if err == nil {
			reply, err := replyOf(call.Method)
			if err != nil {
				return nil, err
			}
			return reply, proto.Unmarshal(out, reply)
		}
		// Sent again only when the leader surely did not append it, or
		// when its request id makes a second append harmless: a call to a
		// leader that died a moment ago then reaches the next one.
		if !(isNotLeader(err) || call.Idempotent && status.Code(err) == codes.Unavailable) || time.Now().After(until) || ctx.Err() != nil {
			return nil, err
		}
		if addr, err = n.nextLeader(ctx, addr); err != nil {
			return nil, err
		}
		if n.isLeader() {
			return n.Replicate(ctx, call)
		}
	}
}

// remoteReadIndex asks the leader for its read index. Reading changes
// nothing, so it is tried again on the new leader after any failure.
func (n *Node) remoteReadIndex(ctx context.Context, addr string) (uint64, error) {
	until := time.Now().Add(leaderWait)
	for {
		c, err := n.conn(addr)
		if err != nil {
			return 0, err
		}
		in, out := []byte{}, []byte(nil)
		err = c.Invoke(ctx, "/"+nodeServiceName+"/ReadIndex", &in, &out)
		if err == nil && len(out) == 8 {
			return binary.BigEndian.Uint64(out), nil
		}
		if err == nil {
			err = errors.New("read index of the wrong size")
		}
		if ctx.Err() != nil || time.Now().After(until) {
			return 0, err
		}
		if addr, err = n.nextLeader(ctx, addr); err != nil {
			return 0, err
		}
		if n.isLeader() {
			return n.readIndex(ctx)
		}
	}
}

// nextLeader waits a little and returns the leader's address, which may be
// the same one.
func (n *Node) nextLeader(ctx context.Context, _ string) (string, error) {
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(50 * time.Millisecond):
	}
	return n.leader(ctx)
}

func (n *Node) isLeader() bool { return n.raft.State() == raft.Leader }

func isNotLeader(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		return false
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == notLeaderReason {
			return true
		}
	}
	return false
}

// replyOf returns an empty reply of a method, by its full name.
func replyOf(method string) (proto.Message, error) {
	service, name, ok := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	if !ok {
		return nil, fmt.Errorf("method %q", method)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, err
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a service", service)
	}
	md := sd.Methods().ByName(protoreflect.Name(name))
	if md == nil {
		return nil, fmt.Errorf("method %q", method)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return nil, err
	}
	return mt.New().Interface(), nil
}
