package store

import (
	"encoding/binary"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	bolt "go.etcd.io/bbolt"

	"github.com/parley-negotiation/parley/server/workflow"
)

// Each negotiation's events are the leaves of an RFC 6962 Merkle tree: leaf
// i is event i+1. Every node of a perfect subtree from lowestStoredLevel up is
// stored in the negotiation's merkle bucket when it is completed, in the
// transaction that appends its last leaf, so an append costs at most
// O(log n) writes (and most appends none) and a proof reads O(log n) nodes,
// never the log.
//
// A node below lowestStoredLevel covers fewer than 2^lowestStoredLevel
// events: it is computed from them when a proof or the tree at start needs
// it, a read of at most 15 stored events beside the node it replaces. Storing
// those nodes cost most of a commit: a leaf and its parents land at the end of
// a different key range per level, each on its own page of the bucket, and
// bbolt reads, rewrites and writes every page a commit touches. Databases
// written before keep their low nodes; nothing reads them, and Verify still
// checks them against the log.

var bucketMerkle = []byte("merkle")

// lowestStoredLevel is the lowest level of the Merkle nodes that are stored:
// a node of that level covers 16 events.
const lowestStoredLevel = 4

var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// LeafHash returns the RFC 6962 hash of a leaf: SHA-256(0x00 || leaf).
func LeafHash(leaf []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(leaf) }

func nodeKey(id compact.NodeID) []byte {
	k := make([]byte, 9)
	k[0] = byte(id.Level)
	binary.BigEndian.PutUint64(k[1:], id.Index)
	return k
}

// appendLeaf adds a leaf to the tree and stores every node it completes.
func appendLeaf(nb *bolt.Bucket, tree *compact.Range, leaf []byte) error {
	nodes := nb.Bucket(bucketMerkle)
	var putErr error
	err := tree.Append(LeafHash(leaf), func(id compact.NodeID, hash []byte) {
		if putErr == nil && id.Level >= lowestStoredLevel {
			putErr = nodes.Put(nodeKey(id), append([]byte(nil), hash...))
		}
	})
	if err != nil {
		return err
	}
	return putErr
}

// loadTree rebuilds the compact range of the first size leaves from the
// stored nodes.
func loadTree(nb *bolt.Bucket, size uint64) (*compact.Range, error) {
	ids := compact.RangeNodes(0, size, nil)
	hashes, err := readNodes(nb, ids)
	if err != nil {
		return nil, err
	}
	return rangeFactory.NewRange(0, size, hashes)
}

func readNodes(nb *bolt.Bucket, ids []compact.NodeID) ([][]byte, error) {
	nodes := nb.Bucket(bucketMerkle)
	hashes := make([][]byte, len(ids))
	for i, id := range ids {
		if id.Level < lowestStoredLevel {
			h, err := subtreeHash(nb.Bucket(bucketEvents), id)
			if err != nil {
				return nil, err
			}
			hashes[i] = h
			continue
		}
		h := nodes.Get(nodeKey(id))
		if len(h) != 32 {
			return nil, workflow.Errorf(workflow.EINTERNAL, "LOG_CORRUPT", "merkle node %d/%d is missing", id.Level, id.Index)
		}
		hashes[i] = append([]byte(nil), h...)
	}
	return hashes, nil
}

// subtreeHash computes a node of the tree from the events it covers.
func subtreeHash(events *bolt.Bucket, id compact.NodeID) ([]byte, error) {
	begin, end := id.Index<<id.Level, (id.Index+1)<<id.Level
	r := rangeFactory.NewEmptyRange(begin)
	c := events.Cursor()
	next := begin
	for k, v := c.Seek(seqKey(int64(begin) + 1)); k != nil && next < end; k, v = c.Next() {
		if binary.BigEndian.Uint64(k) != next+1 {
			break
		}
		if err := r.Append(LeafHash(v), nil); err != nil {
			return nil, err
		}
		next++
	}
	if hashes := r.Hashes(); next != end || len(hashes) != 1 {
		return nil, workflow.Errorf(workflow.EINTERNAL, "LOG_CORRUPT", "event %d, under merkle node %d/%d, is missing", next+1, id.Level, id.Index)
	}
	return r.Hashes()[0], nil
}

// TreeHead returns the size and root hash of a negotiation's log as
// committed.
func (db *DB) TreeHead(negotiationID string) (size uint64, root []byte, err error) {
	err = db.viewEntry(negotiationID, func(e *entry) error {
		size = e.tree.End()
		root, err = e.tree.GetRootHash(nil)
		return err
	})
	return size, root, err
}

// logView runs fn on a negotiation's bucket in a read transaction, with the
// number of events committed.
func (db *DB) logView(negotiationID string, fn func(nb *bolt.Bucket, size uint64) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketNegotiations).Bucket([]byte(negotiationID))
		if nb == nil {
			return notFound(negotiationID)
		}
		var size uint64
		if k, _ := nb.Bucket(bucketEvents).Cursor().Last(); k != nil {
			size = binary.BigEndian.Uint64(k)
		}
		return fn(nb, size)
	})
}

func sizeError(format string, args ...any) error {
	return workflow.Errorf(workflow.EINVALID, "TREE_SIZE_INVALID", format, args...)
}

// RootAt returns the root hash of a negotiation's log at an earlier size.
func (db *DB) RootAt(negotiationID string, size uint64) ([]byte, error) {
	var root []byte
	err := db.logView(negotiationID, func(nb *bolt.Bucket, current uint64) error {
		if size > current {
			return sizeError("tree size %d is larger than the log, which has %d events", size, current)
		}
		tree, err := loadTree(nb, size)
		if err != nil {
			return err
		}
		root, err = tree.GetRootHash(nil)
		return err
	})
	return root, err
}

// InclusionProof returns the audit path of leaf index in the tree of the
// given size.
func (db *DB) InclusionProof(negotiationID string, index, size uint64) ([][]byte, error) {
	var hashes [][]byte
	err := db.logView(negotiationID, func(nb *bolt.Bucket, current uint64) error {
		if size > current || index >= size {
			return sizeError("need leaf index < tree size <= %d; got index %d, size %d", current, index, size)
		}
		nodes, err := proof.Inclusion(index, size)
		if err != nil {
			return fmt.Errorf("inclusion proof: %w", err)
		}
		hashes, err = rehash(nb, nodes)
		return err
	})
	return hashes, err
}

// ConsistencyProof returns the proof that the tree of size1 is a prefix of
// the tree of size2.
func (db *DB) ConsistencyProof(negotiationID string, size1, size2 uint64) ([][]byte, error) {
	var hashes [][]byte
	err := db.logView(negotiationID, func(nb *bolt.Bucket, current uint64) error {
		if size1 < 1 || size1 > size2 || size2 > current {
			return sizeError("need 1 <= from size <= to size <= %d; got %d and %d", current, size1, size2)
		}
		nodes, err := proof.Consistency(size1, size2)
		if err != nil {
			return fmt.Errorf("consistency proof: %w", err)
		}
		hashes, err = rehash(nb, nodes)
		return err
	})
	return hashes, err
}

func rehash(nb *bolt.Bucket, nodes proof.Nodes) ([][]byte, error) {
	hashes, err := readNodes(nb, nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
}
