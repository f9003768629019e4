package rpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// backupChunk is the most snapshot bytes one Backup message carries: well
// under the 4 MiB a gRPC client accepts by default.
const backupChunk = 1 << 20

// Backup streams a consistent snapshot of the database.
//
// The snapshot is first written to a spool file beside the database, then
// streamed from there. A bbolt read transaction must stay open for as long as
// its snapshot is being written, and while it is, a commit that needs to grow
// the database's memory map waits for it: writing to a local file keeps that
// window as short as the disk allows, whereas the network is as slow as the
// slowest client. The cost is free disk space for one copy of the database.
// The spool file is unlinked as soon as it is created, so it disappears when
// the call ends, even if the server crashes.
func (s *Server) Backup(_ *parleyv1.BackupRequest, stream parleyv1.AdminService_BackupServer) error {
	ctx := stream.Context()
	if err := callerFrom(ctx).requireAdmin(); err != nil {
		return err
	}
	start := time.Now()
	spool, err := os.CreateTemp(filepath.Dir(s.store.Path()), ".backup-spool-*")
	if err != nil {
		return fmt.Errorf("backup: create the spool file: %w", err)
	}
	defer spool.Close()
	if err := os.Remove(spool.Name()); err != nil {
		return fmt.Errorf("backup: unlink the spool file: %w", err)
	}
	size, err := s.store.Backup(ctxWriter{ctx: ctx, w: spool})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("backup: write the snapshot: %w", err)
	}
	snapshotTook := time.Since(start)
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("backup: rewind the spool file: %w", err)
	}
	// Hash what is sent, so that the client checks exactly the bytes it got.
	hash := sha256.New()
	var sent int64
	for sent < size {
		// A new buffer for each message: gRPC may still hold the last one.
		buf := make([]byte, min(backupChunk, size-sent))
		if _, err := io.ReadFull(spool, buf); err != nil {
			return fmt.Errorf("backup: read the spool file: %w", err)
		}
		hash.Write(buf)
		if err := stream.Send(&parleyv1.BackupResponse{Data: buf}); err != nil {
			return err
		}
		sent += int64(len(buf))
	}
	sum := hex.EncodeToString(hash.Sum(nil))
	s.logger.InfoContext(ctx, "backup", "bytes", size, "sha256", sum, "snapshot_took", snapshotTook, "took", time.Since(start))
	return stream.Send(&parleyv1.BackupResponse{SizeBytes: size, Sha256: sum})
}

// ctxWriter stops a write as soon as the call's context ends, so that a
// cancelled backup does not hold its read transaction to the end.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
