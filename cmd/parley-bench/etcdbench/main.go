// Command etcdbench runs a single-node etcd, embedded, as the ceiling beside
// which parley-bench measures parleyd's durable writes: same clients, same
// run, same machine. It lives in its own Go module so that etcd's
// dependencies stay out of Parley's.
//
// It prints "etcdbench: serving on ADDR" once etcd accepts gRPC calls on
// ADDR, and stops on SIGTERM or SIGINT, removing its data unless --data was
// given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "etcdbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("etcdbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data `folder` (default: a new temporary folder, removed at exit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := *data
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "etcdbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	client, err := freeLoopbackURL()
	if err != nil {
		return err
	}
	peer, err := freeLoopbackURL()
	if err != nil {
		return err
	}
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.Name = "etcdbench"
	// etcd's defaults otherwise, as an operator would run it: fsync of the
	// WAL on every commit, batched by raft.
	cfg.LogLevel = "error"
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		return err
	case <-time.After(60 * time.Second):
		return errors.New("etcd was not ready within 60s")
	}
	fmt.Fprintf(stdout, "etcdbench: serving on %s\n", client.Host)
	select {
	case <-ctx.Done():
		return nil
	case err := <-e.Err():
		return err
	}
}

// freeLoopbackURL returns an http URL on a loopback port that was free a
// moment ago: etcd needs its ports before it listens.
func freeLoopbackURL() (url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return url.URL{}, err
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}, nil
}
