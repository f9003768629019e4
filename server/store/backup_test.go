package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// A backup taken while writers go on opens as a database of its own, verifies,
// holds every write acknowledged before it started, and its log is a prefix of
// the live one.
func TestBackup_UnderLoad(t *testing.T) {
	db := MustOpenDB(t)
	id, points := mustCreatePlan(t, db)

	var (
		mu    sync.Mutex
		acked []string // amendment ids whose proposal was acknowledged
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				aid := uuid.NewString()
				_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Principal: id + "/" + delegations[w%4],
					RequestID: aid, Actor: delegations[w%4], Command: workflow.ProposeAmendment{AmendmentID: aid,
						Kind: workflow.KindReplace, PointID: points[(w+i)%len(points)], BaseRevision: 1,
						Text: fmt.Sprintf("Draft %d of writer %d.", i, w)}})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				acked = append(acked, aid)
				mu.Unlock()
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	// Let the writers get going, then take the backup while they run.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	size, err := db.Backup(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if info, err := os.Stat(path); err != nil || info.Size() != size {
		t.Fatalf("backup file: %v, size %d, want %d", err, info.Size(), size)
	}

	copyDB := mustOpenAt(t, path)
	if err := copyDB.VerifyAll(context.Background()); err != nil {
		t.Fatalf("the backup does not verify: %v", err)
	}
	checkProjections(t, copyDB, id)
	var missing int
	err = copyDB.View(id, func(n *workflow.Negotiation) error {
		for _, aid := range before {
			if _, ok := n.Amendments[aid]; !ok {
				missing++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if missing > 0 {
		t.Fatalf("%d of the %d proposals acknowledged before the backup are missing from it", missing, len(before))
	}

	// The backup's log is a prefix of the live log, byte for byte.
	copied, err := copyDB.Events(id, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	live, err := db.Events(id, 0, len(copied))
	if err != nil {
		t.Fatal(err)
	}
	for i := range copied {
		if copied[i].Sequence != live[i].Sequence || !bytes.Equal(copied[i].Leaf, live[i].Leaf) {
			t.Fatalf("event %d of the backup differs from the live log", copied[i].Sequence)
		}
	}
	t.Logf("backup of %d bytes holds %d events; %d proposals were acknowledged before it started", size, len(copied), len(before))
}

// Verify and VerifyAll find a gap in the log, a projection that differs from
// the fold of the log, a token index entry for a token that is no longer a
// credential or missing for one that is, and a Merkle tree that is not the
// tree of the log (a node missing, altered or added).
func TestVerify_FindsDamage(t *testing.T) {
	build := func(t *testing.T) (string, string) {
		path := filepath.Join(t.TempDir(), "parley.db")
		db, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		id, points := mustCreatePlan(t, db)
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: workflow.AdminActor, Command: workflow.IssueCredential{
			Participant: "ukraine", TokenHash: fmt.Sprintf("%064x", 1)}})
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.SignOffPoint{
			PointID: points[0], Revision: 1, TextHash: workflow.HashText("The sovereignty of Ukraine will be confirmed.")}})
		if err := db.VerifyAll(context.Background()); err != nil {
			t.Fatalf("an intact database does not verify: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return path, id
	}
	// damage opens the file with bbolt directly and changes it.
	damage := func(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
		b, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Update(fn); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	negotiation := func(tx *bolt.Tx, id string) *bolt.Bucket {
		return tx.Bucket([]byte("negotiations")).Bucket([]byte(id))
	}
	tests := []struct {
		name   string
		damage func(tx *bolt.Tx, id string) error
		reason string
	}{
		{"GapInLog", func(tx *bolt.Tx, id string) error {
			return negotiation(tx, id).Bucket([]byte("events")).Delete([]byte{0, 0, 0, 0, 0, 0, 0, 5})
		}, "LOG_CORRUPT"},
		{"EventUnderWrongSequence", func(tx *bolt.Tx, id string) error {
			events := negotiation(tx, id).Bucket([]byte("events"))
			return events.Put([]byte{0, 0, 0, 0, 0, 0, 0, 5}, bytes.Clone(events.Get([]byte{0, 0, 0, 0, 0, 0, 0, 6})))
		}, "LOG_CORRUPT"},
		{"ProjectionDiffers", func(tx *bolt.Tx, id string) error {
			// Drop a point's record: the fold still has it.
			points := negotiation(tx, id).Bucket([]byte("points"))
			k, _ := points.Cursor().First()
			return points.Delete(bytes.Clone(k))
		}, "STORE_CORRUPT"},
		{"RevokedTokenStillIndexed", func(tx *bolt.Tx, id string) error {
			return tx.Bucket([]byte("tokens")).Put([]byte(fmt.Sprintf("%064x", 2)), []byte(id+"\x00russia"))
		}, "STORE_CORRUPT"},
		{"TokenIndexedForAnotherParticipant", func(tx *bolt.Tx, id string) error {
			// Ukraine's token would open Russia's door.
			return tx.Bucket([]byte("tokens")).Put([]byte(fmt.Sprintf("%064x", 1)), []byte(id+"\x00russia"))
		}, "STORE_CORRUPT"},
		{"CredentialNotIndexed", func(tx *bolt.Tx, id string) error {
			// Ukraine's token would no longer open the door.
			return tx.Bucket([]byte("tokens")).Delete([]byte(fmt.Sprintf("%064x", 1)))
		}, "STORE_CORRUPT"},
		{"MerkleNodeMissing", func(tx *bolt.Tx, id string) error {
			nodes := negotiation(tx, id).Bucket([]byte("merkle"))
			k, _ := nodes.Cursor().Last()
			return nodes.Delete(bytes.Clone(k))
		}, "LOG_CORRUPT"},
		{"MerkleNodeAltered", func(tx *bolt.Tx, id string) error {
			nodes := negotiation(tx, id).Bucket([]byte("merkle"))
			k, v := nodes.Cursor().First()
			altered := bytes.Clone(v)
			altered[0] ^= 1
			return nodes.Put(bytes.Clone(k), altered)
		}, "LOG_CORRUPT"},
		{"MerkleLowNodeWrong", func(tx *bolt.Tx, id string) error {
			// A node below the stored levels, as a database written before
			// holds them, that is not the hash of its event.
			nodes := negotiation(tx, id).Bucket([]byte("merkle"))
			return nodes.Put(make([]byte, 9), make([]byte, 32))
		}, "LOG_CORRUPT"},
		{"MerkleNodeExtra", func(tx *bolt.Tx, id string) error {
			nodes := negotiation(tx, id).Bucket([]byte("merkle"))
			k, v := nodes.Cursor().Last()
			extra := bytes.Clone(k)
			extra[len(extra)-1]++
			return nodes.Put(extra, bytes.Clone(v))
		}, "LOG_CORRUPT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, id := build(t)
			damage(t, path, func(tx *bolt.Tx) error { return tt.damage(tx, id) })
			db := mustOpenAt(t, path)
			err := db.VerifyAll(context.Background())
			if workflow.ErrorReason(err) != tt.reason {
				t.Fatalf("VerifyAll: got %v, want reason %s", err, tt.reason)
			}
			if tt.name == "GapInLog" && !strings.Contains(err.Error(), "jumps from event 4 to 6") {
				t.Fatalf("VerifyAll: %v; want it to say where the log jumps", err)
			}
			if tt.reason == "LOG_CORRUPT" {
				if err := db.Verify(id); workflow.ErrorReason(err) != tt.reason {
					t.Fatalf("Verify: got %v, want reason %s", err, tt.reason)
				}
			}
		})
	}
}

// cutBeforeLastGrowth returns a bbolt file whose last commit grew it, cut to
// the size its previous commit needed: the older meta page says the file is
// whole, the newer one that it is not, and bbolt trusts the newer one.
func cutBeforeLastGrowth(t *testing.T, smallCommits int) []byte {
	path := filepath.Join(t.TempDir(), "grown.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	put := func(key string, size int) {
		err := b.Update(func(tx *bolt.Tx) error {
			bucket, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			return bucket.Put([]byte(key), make([]byte, size))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range smallCommits {
		put(fmt.Sprint("small", i), 10)
	}
	put("large", 1<<20)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Each meta page: a 16-byte page header, then magic, version, page size,
	// flags, root bucket, freelist, high water mark (at 40) and txid (at 48).
	meta := func(offset int) (need int, txid uint64) {
		m := data[offset+16:]
		pageSize := binary.NativeEndian.Uint32(m[8:])
		return int(binary.NativeEndian.Uint64(m[40:])) * int(pageSize), binary.NativeEndian.Uint64(m[48:])
	}
	need0, tx0 := meta(0)
	need1, tx1 := meta(int(binary.NativeEndian.Uint32(data[16+8:])))
	older, newer := need0, need1
	if tx0 > tx1 {
		older, newer = need1, need0
	}
	if older >= newer || newer > len(data) {
		t.Fatalf("the last commit did not grow the file: needs %d then %d bytes, has %d", older, newer, len(data))
	}
	return data[:older]
}

// Open refuses a file that is not a whole bbolt database, so that a damaged
// or half-copied backup cannot be served.
func TestOpen_RefusesDamagedFile(t *testing.T) {
	src := filepath.Join(t.TempDir(), "parley.db")
	db, err := store.Open(src, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustCreatePlan(t, db)
	var whole bytes.Buffer
	if _, err := db.Backup(&whole); err != nil {
		t.Fatal(err)
	}
	db.Close()
	garbled := bytes.Clone(whole.Bytes())
	for i := 0; i < 8192 && i < len(garbled); i += 7 {
		garbled[i] ^= 0x5a // both meta pages
	}
	zeroed := bytes.Clone(whole.Bytes())
	clear(zeroed[2*os.Getpagesize():]) // every page but the meta pages
	// Only the first meta page garbled, and the file cut short: the page
	// size must be found from the second meta page to see the truncation.
	firstGarbledTruncated := bytes.Clone(whole.Bytes()[:len(whole.Bytes())/2])
	for i := 16; i < 64; i++ {
		firstGarbledTruncated[i] ^= 0x5a
	}
	tests := []struct {
		name string
		data []byte
		says string // what the error must say, if the store's own check finds it
	}{
		// bbolt writes the meta pages in turn: the newest is the first in
		// one file and the second in the other.
		{"CutBeforeTheLastCommitGrewIt", cutBeforeLastGrowth(t, 1), "the file is truncated"},
		{"CutBeforeTheLastCommitGrewItOtherMeta", cutBeforeLastGrowth(t, 2), "the file is truncated"},
		{"Empty", nil, "the file is empty"},
		{"DataPagesZeroed", zeroed, ""},
		{"NotADatabase", bytes.Repeat([]byte("parley"), 4096), ""},
		{"MetaPagesGarbled", garbled, ""},
		{"Truncated", whole.Bytes()[:len(whole.Bytes())/2], "the file is truncated"},
		{"FirstMetaGarbledAndTruncated", firstGarbledTruncated, "the file is truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(path, store.Options{})
			if err == nil {
				verr := db.VerifyAll(context.Background())
				db.Close()
				t.Fatalf("Open accepted a damaged file (VerifyAll says %v)", verr)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Open: %v; want it to say %q", err, tt.says)
			}
			t.Logf("refused: %v", err)
		})
	}
}
