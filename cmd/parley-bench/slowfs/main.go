// Command slowfs mounts a folder again elsewhere, through FUSE, with every
// fsync and fdatasync made to take at least a given time: a disk whose syncs
// are slow, to measure the write path on one (docs/performance.md, "Fourth
// pass"). It is a Go module of its own, so that go-fuse stays out of
// Parley's dependencies. It mounts with mount(2) rather than fusermount, so
// it runs as root, where /dev/fuse exists.
//
//	slowfs --sync 1ms BACKING MOUNTPOINT   # until SIGINT or SIGTERM
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var syncDelay time.Duration

// slowNode is a loopback node whose files sync slowly.
type slowNode struct{ fs.LoopbackNode }

// Fsync syncs the file, then waits out the rest of the delay.
func (n *slowNode) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	start := time.Now()
	var errno syscall.Errno
	if syncer, ok := f.(fs.FileFsyncer); ok {
		errno = syncer.Fsync(ctx, flags)
	}
	time.Sleep(syncDelay - time.Since(start))
	return errno
}

func main() {
	flag.DurationVar(&syncDelay, "sync", time.Millisecond, "the least time each fsync and fdatasync takes")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: slowfs [--sync DURATION] BACKING MOUNTPOINT")
		os.Exit(2)
	}
	backing, mountpoint := flag.Arg(0), flag.Arg(1)
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		fmt.Fprintln(os.Stderr, "slowfs:", err)
		os.Exit(1)
	}
	rootData := &fs.LoopbackRoot{Path: backing, Dev: uint64(st.Dev)}
	rootData.NewNode = func(rd *fs.LoopbackRoot, _ *fs.Inode, _ string, _ *syscall.Stat_t) fs.InodeEmbedder {
		return &slowNode{LoopbackNode: fs.LoopbackNode{RootData: rd}}
	}
	root := rootData.NewNode(rootData, nil, "", &st)
	rootData.RootNode = root
	server, err := fs.Mount(mountpoint, root, &fs.Options{MountOptions: fuse.MountOptions{DirectMountStrict: true, FsName: "slowfs"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "slowfs:", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() { <-stop; server.Unmount() }()
	fmt.Printf("slowfs: %s on %s, each sync at least %s\n", backing, mountpoint, syncDelay)
	server.Wait()
}
