package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/parley-negotiation/parley/client/backup"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backupFake serves a fixed sequence of Backup messages.
type backupFake struct {
	parleyv1.AdminServiceClient
	msgs []*parleyv1.BackupResponse
}

func (f *backupFake) Backup(context.Context, *parleyv1.BackupRequest, ...grpc.CallOption) (grpc.ServerStreamingClient[parleyv1.BackupResponse], error) {
	return &backupStream{msgs: f.msgs}, nil
}

type backupStream struct {
	grpc.ClientStream
	msgs []*parleyv1.BackupResponse
}

func (s *backupStream) Recv() (*parleyv1.BackupResponse, error) {
	if len(s.msgs) == 0 {
		return nil, io.EOF
	}
	m := s.msgs[0]
	s.msgs = s.msgs[1:]
	return m, nil
}

func backupTrailer(data []byte) *parleyv1.BackupResponse {
	sum := sha256.Sum256(data)
	return &parleyv1.BackupResponse{SizeBytes: int64(len(data)), Sha256: hex.EncodeToString(sum[:])}
}

func TestDownload(t *testing.T) {
	data := []byte("a database, in two chunks")
	whole := []*parleyv1.BackupResponse{{Data: data[:10]}, {Data: data[10:]}, backupTrailer(data)}

	t.Run("OK", func(t *testing.T) {
		var got bytes.Buffer
		res, err := backup.Download(context.Background(), &backupFake{msgs: whole}, &got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), data) || res.Size != int64(len(data)) || res.SHA256 != backupTrailer(data).GetSha256() {
			t.Fatalf("got %q, %+v", got.Bytes(), res)
		}
	})

	t.Run("ErrIncomplete", func(t *testing.T) {
		other := append([]byte(nil), data...)
		other[0] ^= 1
		tests := map[string][]*parleyv1.BackupResponse{
			"NoTrailer":  whole[:2],
			"ChunkLost":  {whole[0], whole[2]},
			"HashDiffer": {whole[0], whole[1], backupTrailer(other)},
		}
		for name, msgs := range tests {
			t.Run(name, func(t *testing.T) {
				_, err := backup.Download(context.Background(), &backupFake{msgs: msgs}, io.Discard)
				if !errors.Is(err, backup.ErrIncomplete) {
					t.Fatalf("got %v, want ErrIncomplete", err)
				}
			})
		}
	})
}

func TestToFile(t *testing.T) {
	data := []byte("a database")
	dir := t.TempDir()

	t.Run("OK", func(t *testing.T) {
		path := filepath.Join(dir, "ok.db")
		if _, err := backup.ToFile(context.Background(), &backupFake{msgs: []*parleyv1.BackupResponse{{Data: data}, backupTrailer(data)}}, path); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("file holds %q, %v", got, err)
		}
		if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", info.Mode().Perm())
		}
	})

	t.Run("ErrExists", func(t *testing.T) {
		path := filepath.Join(dir, "ok.db")
		_, err := backup.ToFile(context.Background(), &backupFake{msgs: []*parleyv1.BackupResponse{{Data: []byte("other")}, backupTrailer([]byte("other"))}}, path)
		if err == nil {
			t.Fatal("overwrote an existing file")
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
			t.Fatalf("the existing file changed to %q", got)
		}
	})

	t.Run("ErrIncompleteLeavesNothing", func(t *testing.T) {
		path := filepath.Join(dir, "broken.db")
		_, err := backup.ToFile(context.Background(), &backupFake{msgs: []*parleyv1.BackupResponse{{Data: data}}}, path)
		if !errors.Is(err, backup.ErrIncomplete) {
			t.Fatalf("got %v, want ErrIncomplete", err)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name() != "ok.db" {
				t.Fatalf("a failed download left %s behind", e.Name())
			}
		}
	})
}
