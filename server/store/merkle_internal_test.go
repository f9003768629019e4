package store

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkAppendLeaf measures the Merkle tree's share of an append: hashing
// the leaf and storing the nodes it completes, in one transaction per 256
// leaves as a busy batch would.
//
//	go test ./server/store -run '^$' -bench AppendLeaf
func BenchmarkAppendLeaf(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "merkle.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	leaf := make([]byte, 170)
	tree := rangeFactory.NewEmptyRange(0)
	b.ResetTimer()
	for done := 0; done < b.N; {
		err := db.Update(func(tx *bolt.Tx) error {
			nb, err := tx.CreateBucketIfNotExists([]byte("n"))
			if err != nil {
				return err
			}
			if _, err := nb.CreateBucketIfNotExists(bucketMerkle); err != nil {
				return err
			}
			for i := 0; i < 256 && done < b.N; i++ {
				leaf[0], leaf[1] = byte(done), byte(done>>8)
				if err := appendLeaf(nb, tree, leaf); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
