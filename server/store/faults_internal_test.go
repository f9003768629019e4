package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkLastCommitRecord measures what the last-commit record adds to
// each commit: one write in place to the page cache, no fsync.
//
//	go test ./server/store -run '^$' -bench LastCommitRecord
func BenchmarkLastCommitRecord(b *testing.B) {
	l, err := openLastCommit(filepath.Join(b.TempDir(), "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.close()
	txid := uint64(1)
	for b.Loop() {
		txid++
		if err := l.record(txid, "6f1c2a4e-8a8e-4d59-9d3b-1c0f2d6c9e11", int64(txid)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLastCommitRoundTrip(t *testing.T) {
	want := lastCommit{Txid: 1 << 40, Negotiation: "6f1c2a4e-8a8e-4d59-9d3b-1c0f2d6c9e11", Sequence: 1 << 50}
	raw := encodeLastCommit(want)
	if len(raw) != lastCommitRecSize {
		t.Fatalf("a record of %d bytes, want %d", len(raw), lastCommitRecSize)
	}
	got, err := decodeLastCommit(raw)
	if err != nil || got != want {
		t.Fatalf("decode: %+v %v, want %+v", got, err, want)
	}
	raw[30] ^= 1
	if _, err := decodeLastCommit(raw); err == nil {
		t.Fatal("a damaged record decodes")
	}
}

func TestStorageError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{&os.PathError{Op: "write", Path: "parley.db", Err: syscall.ENOSPC}, ErrStorageFull},
		{fmt.Errorf("file resize error: %s", syscall.EDQUOT), ErrStorageFull}, // bbolt's %s
		{&os.PathError{Op: "write", Path: "parley.db", Err: syscall.EIO}, ErrStorageFailed},
		{fmt.Errorf("file sync error: %s", syscall.EROFS), ErrStorageFailed},
		{errors.New("panic in commit: a bug"), nil},
	} {
		if got := storageError(tc.err); got != tc.want {
			t.Errorf("storageError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
