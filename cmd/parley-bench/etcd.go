package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"
)

// etcdServer is a single-node etcd started from the etcdbench program (its
// own Go module, under cmd/parley-bench/etcdbench, so that etcd's
// dependencies stay out of Parley's): the store people would pick instead,
// measured by the same clients in the same run.
type etcdServer struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	phases int // run so far: each writes keys of its own
}

// etcdBinary finds etcdbench: the --etcd flag, beside this binary, then on
// PATH. It returns "" when etcd is not to be measured.
func etcdBinary(flagValue string) (string, error) {
	switch flagValue {
	case "off":
		return "", nil
	case "auto":
		return findProgram("etcdbench"), nil
	}
	if _, err := os.Stat(flagValue); err != nil {
		return "", fmt.Errorf("--etcd: %w", err)
	}
	return flagValue, nil
}

func startEtcd(ctx context.Context, bin string, stderr io.Writer) (*etcdServer, error) {
	cmd := exec.CommandContext(ctx, bin)
	cmd.Stderr = stderr
	addr, exited, err := startServing(cmd, "etcdbench")
	if err != nil {
		return nil, err
	}
	return &etcdServer{addr: addr, cmd: cmd, exited: exited}, nil
}

func (e *etcdServer) stop() {
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(15 * time.Second):
		e.cmd.Process.Kill()
		<-e.exited
	}
}

// putPhase measures etcd Puts of size bytes, each to a key of its own, from
// clients on a connection each, as the Parley phases do.
func (e *etcdServer) putPhase(ctx context.Context, stderr io.Writer, name string, clients, size int, warmup, d time.Duration) (Figure, error) {
	e.phases++
	ops := make([]opFunc, clients)
	value := make([]byte, size)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	for i := range ops {
		conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return Figure{}, err
		}
		defer conn.Close()
		n := 0
		ops[i] = func(ctx context.Context) error {
			n++
			return etcdPut(ctx, conn, fmt.Appendf(nil, "parley-bench/%03d/%04d/%012d", e.phases, i, n), value)
		}
	}
	return phase(ctx, stderr, name, e.cmd.Process.Pid, ops, warmup, d)
}

// etcdPut calls etcd's KV.Put with the request encoded by hand (key is field
// 1, value field 2 of etcdserverpb.PutRequest), so that this module needs
// none of etcd's code. etcd replies once the entry is in its fsynced log
// and applied.
func etcdPut(ctx context.Context, conn *grpc.ClientConn, key, value []byte) error {
	req := protowire.AppendTag(nil, 1, protowire.BytesType)
	req = protowire.AppendBytes(req, key)
	req = protowire.AppendTag(req, 2, protowire.BytesType)
	req = protowire.AppendBytes(req, value)
	var reply rawMessage
	return conn.Invoke(ctx, "/etcdserverpb.KV/Put", rawMessage(req), &reply, grpc.ForceCodec(rawCodec{}))
}

// rawMessage is a message already encoded.
type rawMessage []byte

// rawCodec sends and receives messages as they are encoded, under the
// "proto" content type.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(rawMessage)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot send %T", v)
	}
	return m, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("rawCodec: cannot receive into %T", v)
	}
	*m = append((*m)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }
