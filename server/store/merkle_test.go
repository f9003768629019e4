package store_test

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// mth is the Merkle Tree Hash of RFC 6962 section 2.1, written from the RFC
// and not from the library the store uses, so that the two check each other.
func mth(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		sum := sha256.Sum256(nil)
		return sum[:]
	case 1:
		sum := sha256.Sum256(append([]byte{0}, leaves[0]...))
		return sum[:]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	sum := sha256.Sum256(append(append([]byte{1}, mth(leaves[:k])...), mth(leaves[k:])...))
	return sum[:]
}

// mustLeaves returns every stored leaf of a negotiation, in order.
func mustLeaves(tb testing.TB, db *store.DB, id string) [][]byte {
	tb.Helper()
	var leaves [][]byte
	for {
		page, err := db.Events(id, int64(len(leaves)), 1000)
		if err != nil {
			tb.Fatal(err)
		}
		if len(page) == 0 {
			return leaves
		}
		for _, e := range page {
			leaves = append(leaves, e.Leaf)
		}
	}
}

func TestMerkleProofs(t *testing.T) {
	db := MustOpenDB(t)
	id, points := mustCreatePlan(t, db)
	for i := range 70 {
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: delegations[i%4], Command: workflow.ProposeAmendment{
			AmendmentID: uuid.NewString(), Kind: workflow.KindInsert, PointID: points[i%len(points)], Text: "New point."}})
	}
	leaves := mustLeaves(t, db, id)
	n := uint64(len(leaves))

	t.Run("TreeHead", func(t *testing.T) {
		size, root, err := db.TreeHead(id)
		if err != nil {
			t.Fatal(err)
		}
		if size != n || !bytes.Equal(root, mth(leaves)) {
			t.Fatalf("tree head (%d, %x), want (%d, %x)", size, root, n, mth(leaves))
		}
	})

	t.Run("RootAtTheWholeLog", func(t *testing.T) {
		// The newest checkpoint a client can hold is of the whole log.
		root, err := db.RootAt(id, n)
		if err != nil || !bytes.Equal(root, mth(leaves)) {
			t.Fatalf("root at %d: %x %v, want %x", n, root, err, mth(leaves))
		}
		hashes, err := db.InclusionProof(id, n-1, n)
		if err != nil || proof.VerifyInclusion(rfc6962.DefaultHasher, n-1, n, rfc6962.DefaultHasher.HashLeaf(leaves[n-1]), hashes, mth(leaves)) != nil {
			t.Fatalf("inclusion of the last event in the whole log: %v", err)
		}
		hashes, err = db.ConsistencyProof(id, 1, n)
		if err != nil || proof.VerifyConsistency(rfc6962.DefaultHasher, 1, n, hashes, mth(leaves[:1]), mth(leaves)) != nil {
			t.Fatalf("consistency of the first event with the whole log: %v", err)
		}
	})

	rng := rand.New(rand.NewPCG(1, 2))
	t.Run("Inclusion", func(t *testing.T) {
		for range 200 {
			size := 1 + rng.Uint64N(n)
			index := rng.Uint64N(size)
			hashes, err := db.InclusionProof(id, index, size)
			if err != nil {
				t.Fatal(err)
			}
			leafHash := rfc6962.DefaultHasher.HashLeaf(leaves[index])
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leafHash, hashes, mth(leaves[:size])); err != nil {
				t.Fatalf("inclusion of %d in %d: %v", index, size, err)
			}
			// The same proof must not vouch for another leaf.
			other := (index + 1) % size
			if other != index && proof.VerifyInclusion(rfc6962.DefaultHasher, index, size,
				rfc6962.DefaultHasher.HashLeaf(leaves[other]), hashes, mth(leaves[:size])) == nil {
				t.Fatalf("proof of %d in %d also verifies leaf %d", index, size, other)
			}
		}
	})

	t.Run("Consistency", func(t *testing.T) {
		for range 200 {
			size2 := 1 + rng.Uint64N(n)
			size1 := 1 + rng.Uint64N(size2)
			hashes, err := db.ConsistencyProof(id, size1, size2)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, hashes, mth(leaves[:size1]), mth(leaves[:size2])); err != nil {
				t.Fatalf("consistency %d → %d: %v", size1, size2, err)
			}
			root, err := db.RootAt(id, size1)
			if err != nil || !bytes.Equal(root, mth(leaves[:size1])) {
				t.Fatalf("root at %d: %x %v, want %x", size1, root, err, mth(leaves[:size1]))
			}
		}
	})

	t.Run("ErrTreeSize", func(t *testing.T) {
		for _, call := range []func() error{
			func() error { _, err := db.InclusionProof(id, 0, n+1); return err },
			func() error { _, err := db.InclusionProof(id, n, n); return err },
			func() error { _, err := db.ConsistencyProof(id, 2, 1); return err },
			func() error { _, err := db.ConsistencyProof(id, 0, 1); return err },
			func() error { _, err := db.RootAt(id, n+1); return err },
		} {
			if err := call(); workflow.ErrorReason(err) != "TREE_SIZE_INVALID" {
				t.Fatalf("got %v, want TREE_SIZE_INVALID", err)
			}
		}
	})
}

// TestMerkleTreeAfterReopen checks the tree a restarted store loads, from
// the stored nodes and the nodes computed from the newest events, at log
// sizes on either side of the stored levels' boundaries.
func TestMerkleTreeAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, points := mustCreatePlan(t, db)
	for _, size := range []int{31, 32, 33, 47, 48, 63, 64, 65} {
		for range size - int(lastSequence(t, db, id)) {
			mustExec(t, db, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{
				AmendmentID: uuid.NewString(), Kind: workflow.KindInsert, PointID: points[0], Text: "New point."}})
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if db, err = store.Open(path, store.Options{}); err != nil {
			t.Fatal(err)
		}
		leaves := mustLeaves(t, db, id)
		got, root, err := db.TreeHead(id)
		if err != nil || got != uint64(size) || len(leaves) != size || !bytes.Equal(root, mth(leaves)) {
			t.Fatalf("after reopening at %d events: tree head (%d, %x) %v, want (%d, %x)", size, got, root, err, size, mth(leaves))
		}
		if err := db.Verify(id); err != nil {
			t.Fatalf("verify at %d events: %v", size, err)
		}
	}
	db.Close()
}
