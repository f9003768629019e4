package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// bbolt's file format (version 2): each of the first two pages holds a page
// header of 16 bytes, then the meta record. The fields this file reads are at
// fixed offsets in the meta record, in the machine's byte order.
const (
	boltPageHeader   = 16
	boltMetaSize     = 64 // up to and with the checksum
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltMetaChecksum = 56 // offset of the checksum; the checksum covers what precedes it
)

type boltMeta struct {
	pageSize   uint32
	highWater  uint64 // pgid: the number of pages the file must hold
	txid       uint64
	validFound bool
}

// checkFile refuses a database file that bbolt would accept and then fail on
// or crash with: an existing empty file, which bbolt would silently turn into
// a new empty database, and a file shorter than its newest valid meta page
// says, such as a half-copied backup, which makes bbolt read past the end of
// the file. Other damage to the meta pages is left to bbolt, which refuses it
// with its own error.
func checkFile(path string) error {
	f, err := openIfExists(path)
	if f == nil || err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.Size() == 0 {
		return errors.New("the file is empty, not a database: restore it from a backup, or delete it to start with an empty database")
	}
	m := newestMeta(f, info.Size())
	if !m.validFound {
		return nil
	}
	if need := int64(m.highWater) * int64(m.pageSize); info.Size() < need {
		return fmt.Errorf("the file is truncated: its last commit needs %d bytes and it has %d; restore it from an intact backup", need, info.Size())
	}
	return nil
}

// newestMeta returns the valid meta record with the highest transaction id,
// as bbolt chooses it. The second meta page sits one page in, and the page
// size is read from the first, or else found by trying the sizes bbolt tries.
func newestMeta(f io.ReaderAt, size int64) boltMeta {
	first := readMeta(f, 0)
	sizes := []int64{int64(first.pageSize)}
	if !first.validFound {
		sizes = sizes[:0]
		for i := 0; i <= 14; i++ {
			sizes = append(sizes, 1024<<i)
		}
	}
	best := first
	for _, ps := range sizes {
		if ps >= size {
			break
		}
		second := readMeta(f, ps)
		if second.validFound && (!best.validFound || second.txid > best.txid) {
			best = second
		}
		if second.validFound {
			break
		}
	}
	return best
}

func readMeta(f io.ReaderAt, offset int64) boltMeta {
	var buf [boltPageHeader + boltMetaSize]byte
	if _, err := f.ReadAt(buf[:], offset); err != nil {
		return boltMeta{}
	}
	meta := buf[boltPageHeader:]
	le := binary.NativeEndian
	h := fnv.New64a()
	h.Write(meta[:boltMetaChecksum])
	if le.Uint32(meta[0:]) != boltMagic || le.Uint32(meta[4:]) != boltVersion || le.Uint64(meta[boltMetaChecksum:]) != h.Sum64() {
		return boltMeta{}
	}
	// magic, version, page size, flags (4 bytes each), root bucket (16),
	// freelist page (8), high water mark (8), transaction id (8).
	return boltMeta{pageSize: le.Uint32(meta[8:]), highWater: le.Uint64(meta[40:]), txid: le.Uint64(meta[48:]), validFound: true}
}

// openBolt opens the file with bbolt, turning a panic or a memory fault on a
// damaged file into an error, so that the server refuses to start with a
// message instead of a crash. After such a failure the file stays open and
// locked by this process, which is about to exit anyway.
func openBolt(path string, opts *bolt.Options) (b *bolt.DB, err error) {
	if err := checkFile(path); err != nil {
		return nil, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("the database file is damaged: %v", r)
		}
	}()
	return bolt.Open(path, 0o600, opts)
}

// lockedElsewhere reports, as Open would, a file another process holds open
// with bbolt: recovery must not write a file that a running server uses.
func lockedElsewhere(path string, timeout time.Duration) error {
	f, err := openIfExists(path)
	if f == nil || err != nil {
		return err
	}
	defer f.Close()
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			return inUse(path, berrors.ErrTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openIfExists opens path for reading: nil and no error if there is no file.
func openIfExists(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return f, err
}
