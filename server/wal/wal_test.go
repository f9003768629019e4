package wal_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"pgregory.net/rapid"

	"github.com/parley-negotiation/parley/server/wal"
)

// headerSize is the size of a record's header on disk: length, checksum,
// kind and sequence number.
const headerSize = 4 + 4 + 1 + 8

// small segments hold every record these tests append (up to about 250 KB)
// without starting a new segment on their own, so that only Cut does.
var small = wal.Options{SegmentSize: 1 << 20}

// tb is what the helpers need of a *testing.T, *testing.B or *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// readAll returns the records Read gives, with their data copied, and Read's
// error.
func readAll(t tb, dir string) ([]wal.Record, error) {
	t.Helper()
	var got []wal.Record
	err := wal.Read(dir, func(rec wal.Record) error {
		got = append(got, wal.Record{Seq: rec.Seq, Kind: rec.Kind, Data: bytes.Clone(rec.Data)})
		return nil
	})
	return got, err
}

// mustReadAll is readAll for a log that must read without error.
func mustReadAll(t tb, dir string) []wal.Record {
	t.Helper()
	got, err := readAll(t, dir)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return got
}

func mustOpen(t tb, dir string, next uint64, opts wal.Options) *wal.Log {
	t.Helper()
	l, err := wal.Open(dir, next, opts)
	if err != nil {
		t.Fatalf("Open(next=%d): %v", next, err)
	}
	return l
}

// mustAppend appends one record, checks that it gets the sequence number
// Next announced, and returns the record as Read should give it back.
func mustAppend(t tb, l *wal.Log, kind byte, data []byte) wal.Record {
	t.Helper()
	want := l.Next()
	seq, err := l.Append(kind, data)
	if err != nil {
		t.Fatalf("Append(kind=%d, %d bytes): %v", kind, len(data), err)
	}
	if seq != want {
		t.Fatalf("Append returned sequence number %d, Next said %d", seq, want)
	}
	if next := l.Next(); next != seq+1 {
		t.Fatalf("after appending %d, Next is %d", seq, next)
	}
	return wal.Record{Seq: seq, Kind: kind, Data: bytes.Clone(data)}
}

func mustClose(t tb, l *wal.Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func mustCut(t tb, l *wal.Log) {
	t.Helper()
	if err := l.Cut(); err != nil {
		t.Fatalf("Cut: %v", err)
	}
}

// segments returns the paths of the log's segment files, in order.
func segments(t tb, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	return paths
}

func lastSegment(t tb, dir string) string {
	t.Helper()
	paths := segments(t, dir)
	if len(paths) == 0 {
		t.Fatalf("no segment in %s", dir)
	}
	return paths[len(paths)-1]
}

// payload returns n bytes that differ from record to record.
func payload(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seed*31 + i*7 + i>>8)
	}
	return b
}

func describe(recs []wal.Record) string {
	parts := make([]string, len(recs))
	for i, r := range recs {
		parts[i] = fmt.Sprintf("{seq %d kind %d %d bytes}", r.Seq, r.Kind, len(r.Data))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func checkRecords(t tb, got, want []wal.Record) {
	t.Helper()
	equal := slices.EqualFunc(got, want, func(a, b wal.Record) bool {
		return a.Seq == b.Seq && a.Kind == b.Kind && bytes.Equal(a.Data, b.Data)
	})
	if !equal {
		t.Fatalf("Read gave %d records %s\nwant %d records %s", len(got), describe(got), len(want), describe(want))
	}
}

// checkContinuous checks that records run on from first without a gap.
func checkContinuous(t tb, recs []wal.Record, first uint64) {
	t.Helper()
	for i, r := range recs {
		if r.Seq != first+uint64(i) {
			t.Fatalf("record %d has sequence number %d, want %d: %s", i, r.Seq, first+uint64(i), describe(recs))
		}
	}
}

func TestRoundTrip(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		const first = 7
		l := mustOpen(t, dir, first, small)
		if next := l.Next(); next != first {
			t.Fatalf("a new log's Next is %d, want %d", next, first)
		}
		sizes := []int{0, 1, 100, 5000, 0, 17, 4096 - headerSize, 4096, 1, 9000, 3}
		cutAfter := map[int]bool{1: true, 3: true, 4: true, 8: true}
		var want []wal.Record
		for i, n := range sizes {
			want = append(want, mustAppend(t, l, byte(i*37), payload(i, n)))
			if cutAfter[i] {
				mustCut(t, l)
			}
		}
		mustClose(t, l)
		if got := len(segments(t, dir)); got != 1+len(cutAfter) {
			t.Errorf("%d segment files after %d cuts, want %d", got, len(cutAfter), 1+len(cutAfter))
		}
		checkRecords(t, mustReadAll(t, dir), want)
		checkContinuous(t, want, first)
	})

	t.Run("ManyPerSegment", func(t *testing.T) {
		// More records than fit in one preallocated segment: the segment
		// grows and every record is still read back.
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		var want []wal.Record
		for i := range 60 {
			want = append(want, mustAppend(t, l, byte(i), payload(i, 90)))
		}
		mustClose(t, l)
		if got := len(segments(t, dir)); got != 1 {
			t.Errorf("%d segment files without a cut, want 1", got)
		}
		checkRecords(t, mustReadAll(t, dir), want)
	})

	t.Run("CutWithoutAppends", func(t *testing.T) {
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		mustCut(t, l)
		mustCut(t, l)
		if got := len(segments(t, dir)); got != 1 {
			t.Fatalf("cuts of a segment with no record made %d segments, want 1", got)
		}
		want := []wal.Record{mustAppend(t, l, 1, []byte("a"))}
		mustCut(t, l)
		mustClose(t, l)
		checkRecords(t, mustReadAll(t, dir), want)
	})

	t.Run("DataNotAliased", func(t *testing.T) {
		// Append must have written the data before it returns: changing the
		// caller's slice afterwards does not change the record.
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		data := []byte("original")
		want := mustAppend(t, l, 1, data)
		copy(data, "changed!")
		mustClose(t, l)
		checkRecords(t, mustReadAll(t, dir), []wal.Record{want})
	})
}

func TestReopen(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		var want []wal.Record
		for i := range 3 {
			want = append(want, mustAppend(t, l, 1, payload(i, 10*i)))
		}
		mustClose(t, l)

		got := mustReadAll(t, dir)
		checkRecords(t, got, want)
		last := got[len(got)-1].Seq
		before := len(segments(t, dir))

		l = mustOpen(t, dir, last+1, small)
		if next := l.Next(); next != last+1 {
			t.Fatalf("reopened log's Next is %d, want %d", next, last+1)
		}
		if after := len(segments(t, dir)); after != before+1 {
			t.Errorf("Open made %d segment files out of %d, want a new one", after, before)
		}
		for i := range 3 {
			want = append(want, mustAppend(t, l, 2, payload(10+i, 5000*(i%2))))
		}
		mustClose(t, l)
		got = mustReadAll(t, dir)
		checkRecords(t, got, want)
		checkContinuous(t, got, 1)
	})

	t.Run("EmptySession", func(t *testing.T) {
		// A session that appends nothing leaves an empty segment behind,
		// which does not disturb the sequence.
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		want := []wal.Record{mustAppend(t, l, 1, []byte("x"))}
		mustClose(t, l)
		mustClose(t, mustOpen(t, dir, 2, small))
		l = mustOpen(t, dir, 2, small)
		want = append(want, mustAppend(t, l, 1, []byte("y")))
		mustClose(t, l)
		checkRecords(t, mustReadAll(t, dir), want)
	})

	t.Run("CreatesFolder", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		l := mustOpen(t, dir, 1, small)
		want := []wal.Record{mustAppend(t, l, 3, []byte("z"))}
		mustClose(t, l)
		checkRecords(t, mustReadAll(t, dir), want)
	})
}

// writeLog appends records of the given sizes to a new log in dir, cutting
// after the indexes in cuts, and returns them.
func writeLog(t *testing.T, dir string, sizes []int, cuts ...int) []wal.Record {
	t.Helper()
	l := mustOpen(t, dir, 1, small)
	var recs []wal.Record
	for i, n := range sizes {
		recs = append(recs, mustAppend(t, l, byte(i+1), payload(i, n)))
		if slices.Contains(cuts, i) {
			mustCut(t, l)
		}
	}
	mustClose(t, l)
	return recs
}

func TestTornTail(t *testing.T) {
	// Records 0-1 go to the first segment, 2-4 to the second; the last
	// record starts after records 2 and 3 in the second segment.
	sizes := []int{30, 40, 50, 60, 70}
	lastOffset := int64(headerSize + sizes[2] + headerSize + sizes[3])
	lastEnd := lastOffset + headerSize + int64(sizes[4])

	for _, tc := range []struct {
		name    string
		corrupt func(t *testing.T, path string)
	}{
		{"FlippedDataByte", func(t *testing.T, path string) {
			flip(t, path, lastOffset+headerSize+int64(sizes[4])/2)
		}},
		{"FlippedLastByte", func(t *testing.T, path string) {
			flip(t, path, lastEnd-1)
		}},
		{"FlippedSequence", func(t *testing.T, path string) {
			flip(t, path, lastOffset+9)
		}},
		{"FlippedLength", func(t *testing.T, path string) {
			flip(t, path, lastOffset)
		}},
		{"HugeLength", func(t *testing.T, path string) {
			writeAt(t, path, lastOffset, []byte{0xff, 0xff, 0xff, 0xff})
		}},
		{"TruncatedInData", func(t *testing.T, path string) {
			truncate(t, path, lastOffset+headerSize+int64(sizes[4])/2)
		}},
		{"TruncatedInHeader", func(t *testing.T, path string) {
			truncate(t, path, lastOffset+5)
		}},
		{"TruncatedOneShort", func(t *testing.T, path string) {
			truncate(t, path, lastEnd-1)
		}},
		{"ZeroedData", func(t *testing.T, path string) {
			// Like a crash after the header reached the disk but the data
			// did not: the preallocated zeros remain.
			writeAt(t, path, lastOffset+headerSize, make([]byte, sizes[4]))
		}},
		{"ZeroedHeader", func(t *testing.T, path string) {
			writeAt(t, path, lastOffset, make([]byte, headerSize))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			all := writeLog(t, dir, sizes, 1)
			paths := segments(t, dir)
			if len(paths) != 2 {
				t.Fatalf("%d segment files, want 2", len(paths))
			}
			// The test's offsets are right if the file holds the last record
			// where they say.
			if got := readAt(t, paths[1], lastOffset+headerSize, sizes[4]); !bytes.Equal(got, all[4].Data) {
				t.Fatalf("last record's data is not at offset %d", lastOffset+headerSize)
			}
			tc.corrupt(t, paths[1])

			good := all[:4]
			got := mustReadAll(t, dir)
			checkRecords(t, got, good)

			// A new session runs on from the last intact record, in a new
			// segment.
			lastGood := got[len(got)-1].Seq
			l := mustOpen(t, dir, lastGood+1, small)
			more := []wal.Record{
				mustAppend(t, l, 9, []byte("after the tear")),
				mustAppend(t, l, 9, nil),
			}
			mustClose(t, l)
			if n := len(segments(t, dir)); n != 3 {
				t.Errorf("%d segment files after reopening, want 3", n)
			}
			got = mustReadAll(t, dir)
			checkRecords(t, got, append(slices.Clone(good), more...))
			checkContinuous(t, got, 1)
		})
	}

	t.Run("EarlierSegment", func(t *testing.T) {
		// A torn record in a segment that is not the last leaves a gap
		// before the next segment: that is corruption, not a torn tail.
		dir := t.TempDir()
		writeLog(t, dir, sizes, 2)
		paths := segments(t, dir)
		// Record 2 (the last of the first segment) starts after records 0 and 1.
		flip(t, paths[0], int64(headerSize+sizes[0]+headerSize+sizes[1]+headerSize))
		if _, err := readAll(t, dir); !errors.Is(err, wal.ErrCorrupt) {
			t.Fatalf("Read after tearing an earlier segment: %v, want ErrCorrupt", err)
		}
	})
}

func flip(t *testing.T, path string, offset int64) {
	t.Helper()
	b := readAt(t, path, offset, 1)
	writeAt(t, path, offset, []byte{^b[0]})
}

func readAt(t *testing.T, path string, offset int64, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, offset); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeAt(t *testing.T, path string, offset int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, offset); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func TestSequence(t *testing.T) {
	// Each case reopens a log holding records 1-3 with a different next.
	for _, tc := range []struct {
		name    string
		next    uint64
		corrupt bool
	}{
		{"OK", 4, false},
		{"ErrCorrupt", 4 + 4, true}, // a gap: records 4-7 are missing
		{"Overlap", 3, true},        // record 3 twice
		{"Backwards", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			first := writeLog(t, dir, []int{1, 2, 3})
			l := mustOpen(t, dir, tc.next, small)
			second := []wal.Record{mustAppend(t, l, 5, []byte("b")), mustAppend(t, l, 5, []byte("c"))}
			mustClose(t, l)

			got, err := readAll(t, dir)
			if !tc.corrupt {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				checkRecords(t, got, append(first, second...))
				return
			}
			if !errors.Is(err, wal.ErrCorrupt) {
				t.Fatalf("Read with records %d-%d after 1-3: %v, want an error wrapping ErrCorrupt", tc.next, tc.next+1, err)
			}
			// fn never sees the record that breaks the sequence.
			if len(got) > len(first) {
				t.Errorf("Read passed on %s, beyond the intact %s", describe(got), describe(first))
			}
		})
	}

	t.Run("WithinSegment", func(t *testing.T) {
		// A record whose sequence number has been rewritten, with a checksum
		// to match, cannot come from Append: this test builds one by
		// swapping two records of the same size between two segments.
		dir := t.TempDir()
		writeLog(t, dir, []int{4, 4, 4, 4}, 1)
		paths := segments(t, dir)
		a := readAt(t, paths[0], 0, headerSize+4)
		b := readAt(t, paths[1], 0, headerSize+4)
		writeAt(t, paths[0], 0, b)
		writeAt(t, paths[1], 0, a)
		if _, err := readAll(t, dir); !errors.Is(err, wal.ErrCorrupt) {
			t.Fatalf("Read of records 3 2 1 4: %v, want ErrCorrupt", err)
		}
	})
}

func TestReadCallbackError(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, []int{1, 2, 3, 4}, 1)
	stop := errors.New("stop")
	var seen []uint64
	err := wal.Read(dir, func(rec wal.Record) error {
		seen = append(seen, rec.Seq)
		if rec.Seq == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Read returned %v, want fn's error", err)
	}
	if !slices.Equal(seen, []uint64{1, 2}) {
		t.Fatalf("fn saw %v, want [1 2]: Read goes on after fn fails", seen)
	}
}

func TestReadMissingFolder(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"OK", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing") }},
		{"Empty", func(t *testing.T) string { return t.TempDir() }},
		{"OtherFiles", func(t *testing.T) string {
			dir := t.TempDir()
			for _, name := range []string{"notes.txt", "wal.wal.bak", "zz.tmp"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("hello"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			return dir
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := wal.Read(tc.dir(t), func(wal.Record) error { calls++; return nil })
			if err != nil || calls != 0 {
				t.Fatalf("Read: %d records, error %v; want none and no error", calls, err)
			}
		})
	}
}

func TestRemoveThrough(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		defer l.Close()
		var all []wal.Record
		// Segment A: 1-3, B: 4-5, D: 6-7 (current).
		var names []string
		newSegment := func() {
			t.Helper()
			paths := segments(t, dir)
			names = append(names, paths[len(paths)-1])
		}
		newSegment()
		for _, n := range []int{3, 2, 2} {
			for range n {
				all = append(all, mustAppend(t, l, 1, payload(len(all), 20)))
			}
			if len(names) < 3 {
				mustCut(t, l)
				newSegment()
			}
		}
		if got := segments(t, dir); !slices.Equal(got, names) {
			t.Fatalf("segment files %v, want %v", got, names)
		}
		A, B, D := names[0], names[1], names[2]

		for _, step := range []struct {
			seq    uint64
			remain []string
			first  uint64 // the first record Read gives
		}{
			{2, []string{A, B, D}, 1}, // A holds record 3
			{3, []string{B, D}, 4},
			{4, []string{B, D}, 4}, // record 5 keeps B
			{100, []string{D}, 6},  // the current segment stays
			{100, []string{D}, 6},
		} {
			if err := l.RemoveThrough(step.seq); err != nil {
				t.Fatalf("RemoveThrough(%d): %v", step.seq, err)
			}
			if got := segments(t, dir); !slices.Equal(got, step.remain) {
				t.Fatalf("after RemoveThrough(%d): segment files %v, want %v", step.seq, got, step.remain)
			}
			checkRecords(t, mustReadAll(t, dir), all[step.first-1:])
		}

		// The log goes on after removing.
		all = append(all, mustAppend(t, l, 2, []byte("more")))
		mustCut(t, l)
		all = append(all, mustAppend(t, l, 2, []byte("again")))
		checkRecords(t, mustReadAll(t, dir), all[5:])
		mustClose(t, l)

		// A new session counts the old segments as holding records before
		// its next, and removes them but not its own.
		l = mustOpen(t, dir, 10, small)
		all = append(all, mustAppend(t, l, 3, []byte("new")))
		if err := l.RemoveThrough(8); err != nil {
			t.Fatal(err)
		}
		if got := len(segments(t, dir)); got != 3 {
			t.Fatalf("RemoveThrough(8) before the new session's records left %d segments, want 3", got)
		}
		if err := l.RemoveThrough(9); err != nil {
			t.Fatal(err)
		}
		if got := len(segments(t, dir)); got != 1 {
			t.Fatalf("RemoveThrough(9) left %d segments, want only the current one", got)
		}
		checkRecords(t, mustReadAll(t, dir), all[len(all)-1:])
	})

	t.Run("Nothing", func(t *testing.T) {
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		defer l.Close()
		mustAppend(t, l, 1, []byte("a"))
		if err := l.RemoveThrough(1000); err != nil {
			t.Fatal(err)
		}
		if got := len(segments(t, dir)); got != 1 {
			t.Fatalf("RemoveThrough removed the current segment: %d left", got)
		}
	})
}

func TestClosed(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, 1, small)
	want := []wal.Record{mustAppend(t, l, 1, []byte("a"))}
	mustClose(t, l)
	if _, err := l.Append(1, []byte("b")); err == nil {
		t.Error("Append after Close succeeded")
	}
	if err := l.Cut(); err == nil {
		t.Error("Cut after Close succeeded")
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	checkRecords(t, mustReadAll(t, dir), want)
}

// TestWriteFailure makes a write fail part way, as on a full disk, by
// lowering the limit on file size: the failed append leaves the log as it
// was, and the next append that fits goes on from there.
func TestWriteFailure(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs RLIMIT_FSIZE and an ignored SIGXFSZ")
	}
	// The file size limit is the whole process's: lowered here, it would
	// fail the writes of whatever else runs (go test's own log among them).
	// The test runs in a child process of its own.
	if os.Getenv("WAL_WRITE_FAILURE_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriteFailure$", "-test.v")
		cmd.Env = append(os.Environ(), "WAL_WRITE_FAILURE_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestWriteFailure") {
			t.Fatalf("the test in its own process: %v\n%s", err, out)
		}
		return
	}
	dir := t.TempDir()
	tiny := wal.Options{SegmentSize: 4096} // preallocated below the file size limit
	l := mustOpen(t, dir, 1, tiny)
	defer l.Close()
	want := []wal.Record{mustAppend(t, l, 1, []byte("before"))}

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	const limit = 2 * 4096
	if old.Cur < limit {
		t.Skipf("file size limit %d already below %d", old.Cur, limit)
	}
	lowered := old
	lowered.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lowered); err != nil {
		t.Skip(err)
	}
	restore := sync.OnceFunc(func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Errorf("restore file size limit: %v", err)
		}
	})
	defer restore()

	big := payload(2, 3*4096)
	_, err := l.Append(1, big)
	if err == nil {
		restore()
		t.Fatal("Append past the file size limit succeeded")
	}
	if next := l.Next(); next != 2 {
		t.Errorf("after a failed append Next is %d, want 2", next)
	}
	// What the failed write left is gone: the segment is back to the
	// space preallocated for it, so a full disk gets its room back.
	if info, err := os.Stat(lastSegment(t, dir)); err != nil {
		t.Fatal(err)
	} else if info.Size() > tiny.SegmentSize {
		t.Errorf("after a failed append the segment holds %d bytes, more than the %d preallocated", info.Size(), tiny.SegmentSize)
	}
	want = append(want, mustAppend(t, l, 1, []byte("fits")))
	restore()
	want = append(want, mustAppend(t, l, 1, big))
	mustCut(t, l)
	want = append(want, mustAppend(t, l, 1, []byte("after")))
	mustClose(t, l)
	got := mustReadAll(t, dir)
	checkRecords(t, got, want)
}

func TestRetract(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		defer l.Close()
		want := []wal.Record{mustAppend(t, l, 1, []byte("one"))}
		mustCut(t, l)
		want = append(want, mustAppend(t, l, 1, []byte("two")))
		mustAppend(t, l, 1, []byte("three, retracted"))
		if err := l.Retract(3); err != nil {
			t.Fatalf("Retract(3): %v", err)
		}
		if next := l.Next(); next != 3 {
			t.Fatalf("after Retract(3) Next is %d, want 3", next)
		}
		checkRecords(t, mustReadAll(t, dir), want)
		want = append(want, mustAppend(t, l, 2, []byte("3")))
		checkRecords(t, mustReadAll(t, dir), want)
		mustClose(t, l)
		checkRecords(t, mustReadAll(t, dir), want)
	})

	t.Run("Big", func(t *testing.T) {
		// A record that grew the segment past its preallocated space.
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		defer l.Close()
		want := []wal.Record{mustAppend(t, l, 1, payload(1, 100))}
		mustAppend(t, l, 1, payload(2, 3*4096))
		if err := l.Retract(2); err != nil {
			t.Fatalf("Retract(2): %v", err)
		}
		checkRecords(t, mustReadAll(t, dir), want)
		want = append(want, mustAppend(t, l, 1, []byte("small")))
		mustClose(t, l)
		checkRecords(t, mustReadAll(t, dir), want)
	})

	t.Run("Reopen", func(t *testing.T) {
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		want := []wal.Record{mustAppend(t, l, 1, []byte("a"))}
		mustAppend(t, l, 1, []byte("b"))
		if err := l.Retract(2); err != nil {
			t.Fatal(err)
		}
		mustClose(t, l)
		got := mustReadAll(t, dir)
		checkRecords(t, got, want)
		l = mustOpen(t, dir, got[len(got)-1].Seq+1, small)
		want = append(want, mustAppend(t, l, 1, []byte("c")))
		mustClose(t, l)
		checkRecords(t, mustReadAll(t, dir), want)
	})

	t.Run("NotLast", func(t *testing.T) {
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		defer l.Close()
		want := []wal.Record{mustAppend(t, l, 1, []byte("a")), mustAppend(t, l, 1, []byte("b"))}
		for _, seq := range []uint64{1, 3, 0} {
			if err := l.Retract(seq); err == nil {
				t.Errorf("Retract(%d) with records 1-2 succeeded", seq)
			}
		}
		if next := l.Next(); next != 3 {
			t.Errorf("after refused retractions Next is %d, want 3", next)
		}
		checkRecords(t, mustReadAll(t, dir), want)
	})

	t.Run("OtherSegment", func(t *testing.T) {
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		defer l.Close()
		want := []wal.Record{mustAppend(t, l, 1, []byte("a"))}
		mustCut(t, l)
		if err := l.Retract(1); err == nil {
			t.Error("Retract of the last record of an earlier segment succeeded")
		}
		want = append(want, mustAppend(t, l, 1, []byte("b")))
		checkRecords(t, mustReadAll(t, dir), want)
	})

	t.Run("RemoveThrough", func(t *testing.T) {
		// A segment whose only record was retracted holds nothing.
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		defer l.Close()
		mustAppend(t, l, 1, []byte("a"))
		mustCut(t, l)
		mustAppend(t, l, 1, []byte("b"))
		if err := l.Retract(2); err != nil {
			t.Fatal(err)
		}
		mustCut(t, l)
		want := []wal.Record{mustAppend(t, l, 1, []byte("c"))}
		if err := l.RemoveThrough(1); err != nil {
			t.Fatal(err)
		}
		if n := len(segments(t, dir)); n != 1 {
			t.Errorf("RemoveThrough(1) left %d segments, want the current one", n)
		}
		checkRecords(t, mustReadAll(t, dir), want)
	})
}

func TestPrepare(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		defer l.Close()
		want := []wal.Record{mustAppend(t, l, 1, []byte("a"))}
		for range 2 {
			if err := l.Prepare(); err != nil {
				t.Fatalf("Prepare: %v", err)
			}
		}
		if n := len(segments(t, dir)); n > 2 {
			t.Errorf("two Prepares made %d segments, want at most 2", n)
		}
		// Appends still go to the current segment until the cut.
		want = append(want, mustAppend(t, l, 1, []byte("b")))
		mustCut(t, l)
		want = append(want, mustAppend(t, l, 1, []byte("c")))
		if n := len(segments(t, dir)); n != 2 {
			t.Errorf("%d segments after one cut, want 2", n)
		}
		checkRecords(t, mustReadAll(t, dir), want)
	})

	t.Run("Close", func(t *testing.T) {
		// Close removes a prepared segment that was never used.
		dir := t.TempDir()
		l := mustOpen(t, dir, 1, small)
		want := []wal.Record{mustAppend(t, l, 1, []byte("a"))}
		if err := l.Prepare(); err != nil {
			t.Fatal(err)
		}
		mustClose(t, l)
		if n := len(segments(t, dir)); n != 1 {
			t.Errorf("%d segments after Close, want 1", n)
		}
		if err := l.Prepare(); err != nil {
			t.Errorf("Prepare after Close: %v", err)
		}
		if n := len(segments(t, dir)); n != 1 {
			t.Errorf("Prepare after Close made a segment: %d", n)
		}
		checkRecords(t, mustReadAll(t, dir), want)
	})
}

func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, 1, small)
	const writers, each = 4, 25
	var mu sync.Mutex
	written := map[uint64][]byte{}
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				data := payload(w*1000+i, 1+(w*each+i)%300)
				seq, err := l.Append(byte(w), data)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if _, dup := written[seq]; dup {
					errs <- fmt.Errorf("sequence number %d given twice", seq)
				}
				written[seq] = data
				mu.Unlock()
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if err := l.Cut(); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		for range 5 {
			if err := l.RemoveThrough(0); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mustClose(t, l)

	got := mustReadAll(t, dir)
	if len(got) != writers*each {
		t.Fatalf("Read gave %d records, want %d", len(got), writers*each)
	}
	checkContinuous(t, got, 1)
	for _, r := range got {
		if !bytes.Equal(r.Data, written[r.Seq]) {
			t.Fatalf("record %d holds other data than was appended", r.Seq)
		}
	}
}

// TestRandomTornTail appends, cuts and reopens at random, then truncates the
// last segment at a random offset: Read must give exactly the records that
// lie wholly before the cut, and a new session must run on from them.
func TestRandomTornTail(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dir, err := os.MkdirTemp("", "wal-rapid-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)

		first := rapid.Uint64Range(1, 1<<40).Draw(t, "first")
		l := mustOpen(t, dir, first, small)
		var want []wal.Record
		var inLast []int64 // the end offsets of the records in the last segment
		newSegment := func() { inLast = inLast[:0] }
		steps := rapid.IntRange(0, 25).Draw(t, "steps")
		for range steps {
			switch rapid.IntRange(0, 9).Draw(t, "op") {
			case 0:
				mustCut(t, l)
				newSegment()
			case 1:
				mustClose(t, l)
				checkRecords(t, mustReadAll(t, dir), want)
				l = mustOpen(t, dir, first+uint64(len(want)), small)
				newSegment()
			default:
				var n int
				if rapid.IntRange(0, 9).Draw(t, "big") == 0 {
					n = rapid.IntRange(4000, 9000).Draw(t, "size")
				} else {
					n = rapid.IntRange(0, 300).Draw(t, "size")
				}
				data := rapid.SliceOfN(rapid.Byte(), n, n).Draw(t, "data")
				kind := rapid.Byte().Draw(t, "kind")
				want = append(want, mustAppend(t, l, kind, data))
				end := int64(headerSize + n)
				if len(inLast) > 0 {
					end += inLast[len(inLast)-1]
				}
				inLast = append(inLast, end)
			}
		}
		mustClose(t, l)

		path := lastSegment(t, dir)
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		at := rapid.Int64Range(0, info.Size()).Draw(t, "truncate at")
		if err := os.Truncate(path, at); err != nil {
			t.Fatal(err)
		}
		lost := 0
		for _, end := range inLast {
			if end > at {
				lost++
			}
		}
		intact := want[:len(want)-lost]
		got := mustReadAll(t, dir)
		checkRecords(t, got, intact)

		l = mustOpen(t, dir, first+uint64(len(intact)), small)
		more := mustAppend(t, l, 0, []byte("after"))
		mustClose(t, l)
		checkRecords(t, mustReadAll(t, dir), append(slices.Clone(intact), more))
	})
}

// TestSeededTornTail is TestRandomTornTail's truncation with flipped bytes
// instead, over a fixed seed: a flipped byte anywhere in the last record of
// the last segment loses that record and nothing else.
func TestSeededTornTail(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		dir := t.TempDir()
		sizes := make([]int, 1+rng.IntN(6))
		for j := range sizes {
			sizes[j] = rng.IntN(200)
		}
		all := writeLog(t, dir, sizes)
		var offset int64
		for _, n := range sizes[:len(sizes)-1] {
			offset += int64(headerSize + n)
		}
		at := offset + rng.Int64N(int64(headerSize+sizes[len(sizes)-1]))
		flip(t, lastSegment(t, dir), at)
		got := mustReadAll(t, dir)
		if !slices.EqualFunc(got, all[:len(all)-1], func(a, b wal.Record) bool {
			return a.Seq == b.Seq && a.Kind == b.Kind && bytes.Equal(a.Data, b.Data)
		}) {
			t.Fatalf("case %d: sizes %v, flipped byte %d of the last record: Read gave %s, want %s",
				i, sizes, at-offset, describe(got), describe(all[:len(all)-1]))
		}
	}
}

// BenchmarkAppend measures one Append, that is one write and one fdatasync
// of a record of the given size, on the file system of the temporary folder.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{256, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			l := mustOpen(b, b.TempDir(), 1, wal.Options{})
			defer l.Close()
			data := payload(1, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Append(1, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
