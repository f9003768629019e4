// Package wal keeps an append-only log of records in numbered segment files,
// each append made durable by one fdatasync before it returns.
//
// A record is written as its length, a CRC-32C, its kind, its sequence
// number and its data. Segments are preallocated, so that an fdatasync after
// an append has no file size to record. A crash may leave the record being
// written torn: reading stops at the first record that is short, zero or
// fails its checksum, in every segment, and a log that reopens always starts
// a new segment rather than write after such a tail. Sequence numbers run on
// from one segment to the next; a gap between segments is corruption.
package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

const (
	headerSize = 4 + 4 + 1 + 8 // length, checksum, kind, sequence
	// MaxRecord bounds one record's data, so that a damaged length cannot
	// make a reader allocate without limit.
	MaxRecord     = 1 << 30
	segmentSuffix = ".wal"
	// DefaultSegmentSize is the space preallocated for each segment: about
	// two seconds of records at the highest write rate measured, so that a
	// data folder holds little more than 32 MiB of log (the segment and its
	// spare), and tests that start many servers at once do not fill a disk.
	DefaultSegmentSize = 16 << 20
)

// ErrCorrupt reports a log whose segments do not follow on from each other.
var ErrCorrupt = errors.New("write-ahead log is corrupt")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record is one entry of the log.
type Record struct {
	Seq  uint64
	Kind byte
	Data []byte
}

// Options configure Open.
type Options struct {
	// SegmentSize is the space preallocated for each segment; a record that
	// does not fit in what is left of one still goes there, growing it.
	// Zero means DefaultSegmentSize.
	SegmentSize int64
}

// Log is a log open for appending. Its methods may be called from several
// goroutines.
type Log struct {
	dir  string
	opts Options

	prepareMu sync.Mutex // one segment made at a time
	mu        sync.Mutex
	file      *os.File
	index     uint64            // the current segment's number
	allocated int64             // the space preallocated for the current segment
	offset    int64             // where the next record goes in the current segment
	lastStart int64             // where the last record of the current segment starts; -1: none
	next      uint64            // the next record's sequence number
	last      map[uint64]uint64 // segment number → the last sequence number it holds (0: none)
	spare     *segment          // the next segment, made ahead of need (see Prepare)
	reserved  uint64            // the highest segment number taken so far
	failed    error
	scratch   []byte
}

type segment struct {
	file      *os.File
	index     uint64
	allocated int64
}

// Read calls fn with every intact record of the log in dir, in order. A
// missing folder is an empty log. fn must not keep rec.Data.
func Read(dir string, fn func(rec Record) error) error {
	segments, err := listSegments(dir)
	if err != nil {
		return err
	}
	var prev uint64
	var seen bool
	for _, index := range segments {
		err := readSegment(segmentPath(dir, index), func(rec Record) error {
			if seen && rec.Seq != prev+1 {
				return fmt.Errorf("%w: record %d follows record %d (segment %d)", ErrCorrupt, rec.Seq, prev, index)
			}
			prev, seen = rec.Seq, true
			return fn(rec)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Open opens the log in dir for appending, creating the folder if needed.
// It starts a new segment after the existing ones; next is the sequence
// number of the first record it appends, normally one more than the last
// record Read gave.
func Open(dir string, next uint64, opts Options) (*Log, error) {
	if next == 0 {
		return nil, errors.New("write-ahead log: sequence numbers start at 1") // a zero header marks the end
	}
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create write-ahead log folder: %w", err)
	}
	segments, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opts: opts, next: next, last: map[uint64]uint64{}}
	for _, index := range segments {
		// Unknown is as good as "everything before next" for Remove.
		l.last[index] = next - 1
		l.index = index
	}
	seg, err := l.createSegment(l.index + 1)
	if err != nil {
		return nil, err
	}
	l.use(seg)
	return l, nil
}

func (l *Log) use(seg *segment) {
	l.file, l.index, l.allocated, l.offset, l.lastStart = seg.file, seg.index, seg.allocated, 0, -1
	l.last[seg.index] = 0
	l.reserved = max(l.reserved, seg.index)
}

// reserveLocked takes a segment number above every one taken so far, so
// that a segment made ahead (Prepare) and one made on the spot never share
// a number. The caller holds l.mu.
func (l *Log) reserveLocked() uint64 {
	l.reserved++
	return l.reserved
}

// rollLocked moves appends to the next segment: the spare if there is one
// made after the current segment, else a new one made now. The caller holds
// l.mu.
func (l *Log) rollLocked() error {
	seg := l.spare
	l.spare = nil
	if seg != nil && seg.index < l.index {
		seg.file.Close()
		os.Remove(seg.file.Name())
		seg = nil
	}
	if seg == nil {
		var err error
		if seg, err = l.createSegment(l.reserveLocked()); err != nil {
			return err
		}
	}
	old := l.file
	l.use(seg)
	return old.Close()
}

// NeedsSpare reports whether the current segment is past half full with no
// next segment made yet: the moment to call Prepare, off the append path.
func (l *Log) NeedsSpare() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.file != nil && l.spare == nil && l.offset > l.opts.SegmentSize/2
}

// Append writes one record and waits until it is durable. It returns the
// record's sequence number. After a failed append the log's tail is unknown,
// so every later append fails with the same error.
func (l *Log) Append(kind byte, data []byte) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed != nil {
		return 0, l.failed
	}
	if l.file == nil {
		return 0, errors.New("write-ahead log is closed")
	}
	if len(data) > MaxRecord {
		return 0, fmt.Errorf("write-ahead log: a record of %d bytes is over the %d allowed", len(data), MaxRecord)
	}
	seq := l.next
	need := headerSize + len(data)
	if l.offset > 0 && l.offset+int64(need) > l.opts.SegmentSize {
		if err := l.rollLocked(); err != nil {
			return 0, fmt.Errorf("write-ahead log: next segment: %w", err)
		}
	}
	if cap(l.scratch) < need {
		l.scratch = make([]byte, need)
	}
	buf := l.scratch[:need]
	binary.LittleEndian.PutUint32(buf[0:], uint32(len(data)))
	buf[8] = kind
	binary.LittleEndian.PutUint64(buf[9:], seq)
	copy(buf[headerSize:], data)
	binary.LittleEndian.PutUint32(buf[4:], crc32.Checksum(buf[8:], castagnoli))
	if _, err := l.file.WriteAt(buf, l.offset); err != nil {
		err = fmt.Errorf("write-ahead log: write: %w", err)
		l.erase(l.offset, int64(need), err)
		return 0, err
	}
	if err := fdatasync(l.file); err != nil {
		// What reached the disk is unknown, and the kernel may have
		// dropped the pages it failed to write: nothing can be trusted
		// after this but a restart that reads the log again.
		l.failed = fmt.Errorf("write-ahead log: sync: %w", err)
		return 0, l.failed
	}
	l.lastStart = l.offset
	l.offset += int64(need)
	l.next++
	l.last[l.index] = seq
	if len(l.scratch) > 1<<20 {
		l.scratch = nil // one large record does not pin its buffer
	}
	return seq, nil
}

// erase removes what a failed write may have left at [offset, offset+n): a
// full disk then leaves the log as it was, and the next append may succeed
// once space is back. If even that fails, the log fails for good with cause.
func (l *Log) erase(offset, n int64, cause error) {
	var err error
	if inside := min(n, l.allocated-offset); inside > 0 {
		_, err = l.file.WriteAt(make([]byte, inside), offset)
	}
	if err == nil {
		err = l.file.Truncate(max(offset, l.allocated))
	}
	if err == nil {
		err = fdatasync(l.file)
	}
	if err != nil {
		l.failed = fmt.Errorf("%w; then erasing it: %v", cause, err)
	}
}

// Retract erases the record seq, which must be the last one appended to the
// current segment: its caller could not apply it, and it must not be
// replayed. After a failure to erase it the log fails for good.
func (l *Log) Retract(seq uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed != nil {
		return l.failed
	}
	if seq+1 != l.next || l.lastStart < 0 {
		return fmt.Errorf("write-ahead log: record %d is not the last of the current segment", seq)
	}
	if _, err := l.file.WriteAt(make([]byte, l.offset-l.lastStart), l.lastStart); err != nil {
		l.failed = fmt.Errorf("write-ahead log: retract record %d: %w", seq, err)
		return l.failed
	}
	if err := fdatasync(l.file); err != nil {
		l.failed = fmt.Errorf("write-ahead log: retract record %d: %w", seq, err)
		return l.failed
	}
	l.offset, l.lastStart = l.lastStart, -1
	l.next--
	l.last[l.index] = 0 // unknown, and only RemoveThrough reads it: keep the segment
	if l.offset > 0 {
		l.last[l.index] = seq - 1
	}
	return nil
}

// Next returns the sequence number the next record will have.
func (l *Log) Next() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

// Prepare makes the next segment ahead of Cut, so that Cut itself is quick.
// It may be called at any time, from any goroutine.
func (l *Log) Prepare() error {
	l.prepareMu.Lock()
	defer l.prepareMu.Unlock()
	l.mu.Lock()
	if l.spare != nil || l.failed != nil || l.file == nil {
		l.mu.Unlock()
		return nil
	}
	index := l.reserveLocked()
	l.mu.Unlock()
	seg, err := l.createSegment(index)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spare != nil || l.file == nil || index < l.index {
		seg.file.Close()
		os.Remove(seg.file.Name())
		return nil
	}
	l.spare = seg
	return nil
}

// Cut starts a new segment: records appended from now on go there. On a
// segment that holds no record yet it does nothing. Appends start a new
// segment by themselves once one is full; Cut is for starting one earlier.
func (l *Log) Cut() error {
	l.mu.Lock()
	empty := l.file != nil && l.offset == 0
	l.mu.Unlock()
	if empty {
		return nil
	}
	if err := l.Prepare(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed != nil {
		return l.failed
	}
	if l.file == nil {
		return errors.New("write-ahead log: closed")
	}
	return l.rollLocked()
}

// RemoveThrough deletes every segment but the current one whose records all
// have sequence numbers up to seq: they are no longer needed.
func (l *Log) RemoveThrough(seq uint64) error {
	l.mu.Lock()
	var doomed []uint64
	for index, last := range l.last {
		if index != l.index && last <= seq {
			doomed = append(doomed, index)
		}
	}
	for _, index := range doomed {
		delete(l.last, index)
	}
	l.mu.Unlock()
	sort.Slice(doomed, func(i, j int) bool { return doomed[i] < doomed[j] })
	for _, index := range doomed {
		if err := os.Remove(segmentPath(l.dir, index)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("write-ahead log: remove segment: %w", err)
		}
	}
	if len(doomed) > 0 {
		return syncDir(l.dir)
	}
	return nil
}

// Close closes the current segment.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spare != nil {
		l.spare.file.Close()
		os.Remove(l.spare.file.Name())
		l.spare = nil
	}
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file = nil
	return err
}

// createSegment makes segment index and preallocates its space. Where the
// disk has no room for that (or the file system cannot preallocate), the
// segment grows as records come instead.
func (l *Log) createSegment(index uint64) (*segment, error) {
	path := segmentPath(l.dir, index)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write-ahead log: create segment: %w", err)
	}
	seg := &segment{file: f, index: index, allocated: l.opts.SegmentSize}
	if preallocate(f, seg.allocated) != nil {
		seg.allocated = 0
		if err := f.Truncate(0); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("write-ahead log: create segment: %w", err)
		}
	}
	err = f.Sync()
	if err == nil {
		err = syncDir(l.dir)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("write-ahead log: create segment: %w", err)
	}
	return seg, nil
}

func segmentPath(dir string, index uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x%s", index, segmentSuffix))
}

func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read write-ahead log folder: %w", err)
	}
	var segments []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok || e.IsDir() || len(name) != 16 {
			continue
		}
		index, err := strconv.ParseUint(name, 16, 64)
		if err != nil {
			continue
		}
		segments = append(segments, index)
	}
	sort.Slice(segments, func(i, j int) bool { return segments[i] < segments[j] })
	return segments, nil
}

// readSegment calls fn for each intact record of one segment, up to the
// first that is not.
func readSegment(path string, fn func(Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("write-ahead log: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("write-ahead log: %w", err)
	}
	size := info.Size()
	var header [headerSize]byte
	var data []byte
	for offset := int64(0); offset+headerSize <= size; {
		if _, err := f.ReadAt(header[:], offset); err != nil {
			return fmt.Errorf("write-ahead log: read %s: %w", filepath.Base(path), err)
		}
		length := int64(binary.LittleEndian.Uint32(header[0:]))
		if header == ([headerSize]byte{}) || length > MaxRecord || offset+headerSize+length > size {
			return nil // the preallocated tail, or a torn record
		}
		if cap(data) < int(length) {
			data = make([]byte, length)
		}
		data = data[:length]
		if _, err := f.ReadAt(data, offset+headerSize); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("write-ahead log: read %s: %w", filepath.Base(path), err)
		}
		sum := crc32.Update(crc32.Checksum(header[8:], castagnoli), castagnoli, data)
		if sum != binary.LittleEndian.Uint32(header[4:]) {
			return nil // torn
		}
		if err := fn(Record{Seq: binary.LittleEndian.Uint64(header[9:]), Kind: header[8], Data: data}); err != nil {
			return err
		}
		offset += headerSize + length
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
