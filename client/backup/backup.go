// Package backup downloads a backup of a Parley server: the client side of
// AdminService.Backup, for the command-line client's `parley backup`.
//
// The download is checked against the size and SHA-256 the server sends last;
// a file is written only whole: to a temporary file in the same folder,
// synced, then linked into place, so a failed or interrupted download never
// leaves a partial backup under the name asked for.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// Result describes a downloaded backup.
type Result struct {
	Size   int64  // bytes
	SHA256 string // lowercase hex SHA-256 of the file
}

// ErrIncomplete is returned when the stream ends before the server's final
// message, or when the bytes received do not match it.
var ErrIncomplete = errors.New("backup incomplete or damaged in transit")

// Download calls Backup with ctx, which must carry the administrator's token,
// and writes the snapshot to w. It returns an error wrapping ErrIncomplete if
// what arrived is not what the server sent.
func Download(ctx context.Context, client parleyv1.AdminServiceClient, w io.Writer) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.Backup(ctx, &parleyv1.BackupRequest{})
	if err != nil {
		return Result{}, err
	}
	hash := sha256.New()
	var size int64
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return Result{}, fmt.Errorf("%w: the stream ended after %d bytes without the final size and hash", ErrIncomplete, size)
		}
		if err != nil {
			return Result{}, err
		}
		if msg.GetSha256() != "" {
			got := hex.EncodeToString(hash.Sum(nil))
			if msg.GetSizeBytes() != size || msg.GetSha256() != got {
				return Result{}, fmt.Errorf("%w: received %d bytes with SHA-256 %s; the server sent %d bytes with SHA-256 %s",
					ErrIncomplete, size, got, msg.GetSizeBytes(), msg.GetSha256())
			}
			return Result{Size: size, SHA256: got}, nil
		}
		if _, err := w.Write(msg.GetData()); err != nil {
			return Result{}, err
		}
		hash.Write(msg.GetData())
		size += int64(len(msg.GetData()))
	}
}

// ToFile downloads a backup into a new file at path, with mode 0600 since it
// holds every negotiation. It refuses to overwrite an existing file.
func ToFile(ctx context.Context, client parleyv1.AdminServiceClient, path string) (Result, error) {
	if _, err := os.Lstat(path); err == nil {
		return Result{}, fmt.Errorf("%s exists already; choose another name", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		return Result{}, err
	}
	res, err := Download(ctx, client, tmp)
	if err != nil {
		return Result{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Result{}, err
	}
	if err := tmp.Close(); err != nil {
		return Result{}, err
	}
	// A link, unlike a rename, fails if path appeared in the meantime.
	if err := os.Link(tmp.Name(), path); err != nil {
		return Result{}, err
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		dir.Sync() // make the new name durable too; not all systems can
		dir.Close()
	}
	return res, nil
}
