package wal_test

import (
	"encoding/binary"
	"hash/crc32"
	"sync"
	"testing"

	"github.com/parley-negotiation/parley/server/wal"
)

func TestPrepareConcurrent(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, 1, small)
	defer l.Close()
	for round := range 30 {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 4 {
			wg.Go(func() {
				if err := l.Prepare(); err != nil {
					errs <- err
				}
			})
		}
		wg.Go(func() {
			if err := l.Cut(); err != nil {
				errs <- err
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

// zeroSum finds a sequence number whose empty record of kind 0 has a
// CRC-32C of zero, by solving the CRC's affine equations over GF(2).
func zeroSum(t *testing.T) uint64 {
	sum := func(seq uint64) uint32 {
		var b [9]byte
		binary.LittleEndian.PutUint64(b[1:], seq)
		return crc32.Checksum(b[:], crc32.MakeTable(crc32.Castagnoli))
	}
	base := sum(0)
	// rows: for each of 32 checksum bits, which seq bits flip it
	var cols [64]uint32
	for i := range 64 {
		cols[i] = sum(1<<i) ^ base
	}
	// Gaussian elimination on augmented rows [64 bits | 1 bit]
	type row struct {
		a uint64
		b uint32
	}
	var rows [32]row
	for r := range 32 {
		for i := range 64 {
			if cols[i]>>r&1 == 1 {
				rows[r].a |= 1 << i
			}
		}
		rows[r].b = base >> r & 1
	}
	pivots := make([]int, 0, 32)
	rank := 0
	for c := 0; c < 64 && rank < 32; c++ {
		p := -1
		for r := rank; r < 32; r++ {
			if rows[r].a>>c&1 == 1 {
				p = r
				break
			}
		}
		if p < 0 {
			continue
		}
		rows[rank], rows[p] = rows[p], rows[rank]
		for r := range 32 {
			if r != rank && rows[r].a>>c&1 == 1 {
				rows[r].a ^= rows[rank].a
				rows[r].b ^= rows[rank].b
			}
		}
		pivots = append(pivots, c)
		rank++
	}
	var seq uint64
	for r, c := range pivots {
		if rows[r].b == 1 {
			seq |= 1 << c
		}
	}
	if sum(seq) != 0 {
		t.Fatalf("no solution: sum(%d) = %x", seq, sum(seq))
	}
	return seq
}

func TestZeroChecksumRecord(t *testing.T) {
	seq := zeroSum(t)
	t.Logf("empty record of kind 0 with sequence number %d has checksum 0", seq)
	dir := t.TempDir()
	l := mustOpen(t, dir, seq, small)
	want := append([]wal.Record{}, mustAppend(t, l, 0, nil), mustAppend(t, l, 1, []byte("next")))
	mustClose(t, l)
	checkRecords(t, mustReadAll(t, dir), want)
}

func TestOpenRefusesSequenceZero(t *testing.T) {
	if _, err := wal.Open(t.TempDir(), 0, wal.Options{}); err == nil {
		t.Fatal("Open with next=0 succeeded: its first record would have an all-zero header when empty")
	}
}

// A record that does not fit in what is left of its segment starts the next
// one: the spare made ahead of need if there is one, else a new one.
func TestRollOver(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{SegmentSize: 4096}
	l := mustOpen(t, dir, 1, opts)
	var want []wal.Record
	for i := range 4 {
		want = append(want, mustAppend(t, l, 1, payload(i, 1500)))
	}
	if got := len(segments(t, dir)); got != 2 {
		t.Fatalf("four records of 1.5 KB in segments of 4 KiB: %d segments, want 2", got)
	}
	if !l.NeedsSpare() {
		t.Fatal("a segment past half full with no spare does not ask for one")
	}
	if err := l.Prepare(); err != nil {
		t.Fatal(err)
	}
	if l.NeedsSpare() {
		t.Fatal("asks for a spare once it has one")
	}
	spares := len(segments(t, dir))
	want = append(want, mustAppend(t, l, 1, payload(4, 3000))) // into the spare
	if got := len(segments(t, dir)); got != spares {
		t.Fatalf("the roll over made a segment (%d, want %d) where a spare was ready", got, spares)
	}
	want = append(want, mustAppend(t, l, 1, payload(5, 9000))) // larger than a segment: alone in one
	want = append(want, mustAppend(t, l, 1, payload(6, 10)))
	mustClose(t, l)
	checkRecords(t, mustReadAll(t, dir), want)
	if got := len(segments(t, dir)); got != spares+2 {
		t.Fatalf("%d segments, want %d", got, spares+2)
	}
}
