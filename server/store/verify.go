package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// Backup writes a consistent snapshot of the whole database to w, as a
// bbolt file that Open can use as it is, and returns the number of bytes
// written. Writers go on while it runs: the snapshot is the state of one read
// transaction.
//
// The read transaction lasts until w has taken every byte. While it is open,
// bbolt cannot reuse the pages it sees and a commit that must grow the memory
// map waits for it, so w should be fast (a local file), not a slow network.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Verify checks one negotiation in the database file, bypassing the cache:
// its log holds events 1..N without gaps, each stored under its own sequence
// and belonging to this negotiation; the log folds without error; and the
// stored projections are exactly the state that the fold gives.
//
// It returns a *workflow.Error with reason LOG_CORRUPT or STORE_CORRUPT
// saying what is wrong, or the error of reading the file.
func (db *DB) Verify(negotiationID string) error {
	return db.bolt.View(func(tx *bolt.Tx) error { return verifyNegotiation(tx, negotiationID) })
}

// VerifyAll checks the whole file: bbolt's own consistency check of every
// page, then Verify of each negotiation, then the index of tokens against the
// credentials the logs say are current. It reads everything, so it takes time
// in proportion to the size of the database.
func (db *DB) VerifyAll(ctx context.Context) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		var pageErrs []error
		// Drain the channel to its end: leaving early would strand the
		// goroutine that walks the pages.
		for err := range tx.Check() {
			if len(pageErrs) < 10 {
				pageErrs = append(pageErrs, err)
			}
		}
		if len(pageErrs) > 0 {
			return workflow.Errorf(workflow.EINTERNAL, "STORE_CORRUPT", "the database file is damaged: %v", errors.Join(pageErrs...))
		}
		credentials := map[string]Principal{} // token hash → owner, as the logs say
		err := tx.Bucket(bucketNegotiations).ForEachBucket(func(k []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			id := string(k)
			if err := verifyNegotiation(tx, id); err != nil {
				return err
			}
			return tx.Bucket(bucketNegotiations).Bucket(k).Bucket(bucketCredentials).ForEach(func(participant, hash []byte) error {
				credentials[string(hash)] = Principal{NegotiationID: id, Participant: string(participant)}
				return nil
			})
		})
		if err != nil {
			return err
		}
		// Every token the index accepts must be a current credential, so that
		// no rotated or revoked token still opens the door, and every current
		// credential must be indexed.
		indexed := 0
		err = tx.Bucket(bucketTokens).ForEach(func(hash, owner []byte) error {
			indexed++
			want, ok := credentials[string(hash)]
			if !ok || decodePrincipal(owner) != want {
				return storeCorrupt("the token index holds a token that is not a current credential of %q", decodePrincipal(owner))
			}
			return nil
		})
		if err == nil && indexed != len(credentials) {
			err = storeCorrupt("the token index holds %d tokens, the credentials %d", indexed, len(credentials))
		}
		return err
	})
}

func storeCorrupt(format string, args ...any) error {
	return workflow.Errorf(workflow.EINTERNAL, "STORE_CORRUPT", format, args...)
}

func logCorrupt(format string, args ...any) error {
	return workflow.Errorf(workflow.EINTERNAL, "LOG_CORRUPT", format, args...)
}

// verifyNegotiation is Verify inside a read transaction.
func verifyNegotiation(tx *bolt.Tx, id string) error {
	nb := tx.Bucket(bucketNegotiations).Bucket([]byte(id))
	if nb == nil {
		return notFound(id)
	}
	folded := &workflow.Negotiation{}
	var leaves [][]byte
	want := int64(1)
	err := nb.Bucket(bucketEvents).ForEach(func(k, leaf []byte) error {
		if len(k) != 8 {
			return logCorrupt("negotiation %s: event key %x is not a sequence number", id, k)
		}
		if got := int64(binary.BigEndian.Uint64(k)); got != want {
			return logCorrupt("negotiation %s: the log jumps from event %d to %d", id, want-1, got)
		}
		e, _, err := wire.UnmarshalEvent(leaf)
		if err != nil {
			return logCorrupt("negotiation %s: event %d: %v", id, want, err)
		}
		if e.Sequence != want || e.NegotiationID != id {
			return logCorrupt("negotiation %s: event stored at %d says it is event %d of %s", id, want, e.Sequence, e.NegotiationID)
		}
		if err := folded.Apply(e); err != nil {
			return logCorrupt("negotiation %s: event %d does not fold: %v", id, want, err)
		}
		leaves = append(leaves, leaf)
		want++
		return nil
	})
	if err != nil {
		return err
	}
	if len(leaves) == 0 {
		return logCorrupt("negotiation %s has an empty log", id)
	}
	if err := verifyTree(nb, id, leaves); err != nil {
		return err
	}
	stored, _, err := load(tx, id)
	if err != nil {
		return storeCorrupt("negotiation %s: projections do not load: %v", id, err)
	}
	return sameState(folded, stored)
}

// verifyTree checks that the stored Merkle tree is exactly the tree of the
// stored leaves (the exact bytes of events 1..N, in order): every node the
// leaves give from lowestStoredLevel up is stored with its hash, and no other
// node is but the lower ones of a database written before they were left
// out, each of which must also be the one its leaves give. Checkpoints are
// signed from the stored tree, so this is what makes them vouch for the log
// as it is on disk.
func verifyTree(nb *bolt.Bucket, negotiationID string, leaves [][]byte) error {
	want := map[string][]byte{}
	stored := 0 // of the nodes the leaves give, those that must be stored
	tree := rangeFactory.NewEmptyRange(0)
	for _, leaf := range leaves {
		err := tree.Append(LeafHash(leaf), func(id compact.NodeID, hash []byte) {
			want[string(nodeKey(id))] = append([]byte(nil), hash...)
			if id.Level >= lowestStoredLevel {
				stored++
			}
		})
		if err != nil {
			return err
		}
	}
	found := 0
	err := nb.Bucket(bucketMerkle).ForEach(func(k, v []byte) error {
		if h, ok := want[string(k)]; !ok || !bytes.Equal(h, v) {
			return logCorrupt("negotiation %s: merkle node %x is not the one its leaves give", negotiationID, k)
		}
		if k[0] >= lowestStoredLevel {
			found++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if found != stored {
		return logCorrupt("negotiation %s: %d merkle nodes stored, the leaves give %d", negotiationID, found, stored)
	}
	return nil
}

// sameState reports where two states of a negotiation differ, comparing the
// deterministic encoding of every record the API shows and the store keeps:
// the header, the document order, every point with its history and sign-offs,
// every amendment with its votes, every comment, and the credentials.
func sameState(folded, stored *workflow.Negotiation) error {
	differ := func(what string) error {
		return storeCorrupt("negotiation %s: the stored %s differs from the fold of the log", folded.ID, what)
	}
	same := func(a, b proto.Message) bool {
		x, errA := wire.Deterministic.Marshal(a)
		y, errB := wire.Deterministic.Marshal(b)
		return errA == nil && errB == nil && bytes.Equal(x, y)
	}
	switch {
	case folded.ID != stored.ID:
		return differ("id")
	case folded.LastSequence != stored.LastSequence || !folded.LastEventAt.Equal(stored.LastEventAt):
		return differ("last event")
	case !same(wire.NegotiationToProto(folded), wire.NegotiationToProto(stored)):
		return differ("header")
	case !slices.Equal(folded.Order, stored.Order):
		return differ("document order")
	case !slices.Equal(folded.AmendmentOrder, stored.AmendmentOrder):
		return differ("amendment order")
	case !maps.Equal(folded.Credentials, stored.Credentials):
		return differ("credentials")
	case len(folded.Points) != len(stored.Points):
		return differ("number of points")
	case len(folded.Amendments) != len(stored.Amendments):
		return differ("number of amendments")
	case !slices.Equal(folded.CommentOrder, stored.CommentOrder):
		return differ("comments")
	}
	for id, c := range folded.Comments {
		if !same(wire.CommentToProto(folded, c), wire.CommentToProto(stored, stored.Comments[id])) {
			return differ(fmt.Sprintf("comment %s", id))
		}
	}
	for id, p := range folded.Points {
		q, ok := stored.Points[id]
		if !ok || !same(wire.PointRecord(folded, p), wire.PointRecord(stored, q)) {
			return differ(fmt.Sprintf("point %s", id))
		}
	}
	for id, a := range folded.Amendments {
		b, ok := stored.Amendments[id]
		if !ok || !same(wire.AmendmentToProto(folded, a), wire.AmendmentToProto(stored, b)) {
			return differ(fmt.Sprintf("amendment %s", id))
		}
	}
	return nil
}
