package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime/debug"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// load reads a negotiation's state from its projections (the records of its
// header, points and amendments, not its log) and its Merkle tree.
func load(tx *bolt.Tx, id string) (*workflow.Negotiation, *compact.Range, error) {
	nb := tx.Bucket(bucketNegotiations).Bucket([]byte(id))
	if nb == nil {
		return nil, nil, notFound(id)
	}
	n, err := loadState(nb, id)
	if err != nil {
		return nil, nil, err
	}
	tree, err := loadTree(nb, uint64(n.LastSequence))
	if err != nil {
		return nil, nil, fmt.Errorf("negotiation %s: merkle tree: %w", id, err)
	}
	if len(n.Amendments)+len(n.Points) >= largeNegotiation {
		// Decoding the records made garbage several times the size of the
		// state; give it back now rather than keep the process at its peak.
		debug.FreeOSMemory()
	}
	return n, tree, nil
}

// largeNegotiation is the number of points and amendments above which
// loading a negotiation returns its garbage to the system at once.
const largeNegotiation = 20_000

func loadState(nb *bolt.Bucket, id string) (*workflow.Negotiation, error) {
	r := wire.Records{Meta: &parleyv1.Negotiation{}, Credentials: map[string]string{}}
	if err := proto.Unmarshal(nb.Get(keyMeta), r.Meta); err != nil {
		return nil, fmt.Errorf("negotiation %s: decode header: %w", id, err)
	}
	var err error
	if r.Order, err = decodeOrder(nb.Get(keyOrder)); err != nil {
		return nil, fmt.Errorf("negotiation %s: %w", id, err)
	}
	err = nb.Bucket(bucketPoints).ForEach(func(k, v []byte) error {
		p := &parleyv1.Point{}
		r.Points = append(r.Points, p)
		return proto.Unmarshal(v, p)
	})
	if err != nil {
		return nil, fmt.Errorf("negotiation %s: decode point: %w", id, err)
	}
	err = nb.Bucket(bucketAmendments).ForEach(func(k, v []byte) error {
		a := &parleyv1.Amendment{}
		r.Amendments = append(r.Amendments, a)
		return proto.Unmarshal(v, a)
	})
	if err != nil {
		return nil, fmt.Errorf("negotiation %s: decode amendment: %w", id, err)
	}
	if comments := nb.Bucket(bucketComments); comments != nil {
		err = comments.ForEach(func(k, v []byte) error {
			c := &parleyv1.Comment{}
			r.Comments = append(r.Comments, c)
			return proto.Unmarshal(v, c)
		})
		if err != nil {
			return nil, fmt.Errorf("negotiation %s: decode comment: %w", id, err)
		}
	}
	err = nb.Bucket(bucketCredentials).ForEach(func(k, v []byte) error {
		r.Credentials[string(k)] = string(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, leaf := nb.Bucket(bucketEvents).Cursor().Last(); leaf != nil {
		last, _, err := wire.UnmarshalEvent(leaf)
		if err != nil {
			return nil, fmt.Errorf("negotiation %s: last event: %w", id, err)
		}
		r.LastSequence, r.LastEventAt = last.Sequence, last.At
	}
	return wire.NegotiationFromRecords(r)
}

// Preload loads every negotiation's state into memory, so that the first
// call to each does not wait for it. It stops at the first error or when ctx
// ends, and returns how many it loaded.
func (db *DB) Preload(ctx context.Context) (int, error) {
	loaded, after := 0, ""
	for ctx.Err() == nil {
		ids, err := db.NegotiationIDs(after, 100)
		if err != nil || len(ids) == 0 {
			return loaded, err
		}
		for _, id := range ids {
			if err := db.View(id, func(*workflow.Negotiation) error { return nil }); err != nil {
				return loaded, err
			}
			loaded++
		}
		after = ids[len(ids)-1]
	}
	return loaded, ctx.Err()
}

// Rebuild folds a negotiation's whole log into a fresh state, without the
// projections or the cache. Comparing it with the served state checks that the
// stored state is what the log says.
func (db *DB) Rebuild(negotiationID string) (*workflow.Negotiation, error) {
	n := &workflow.Negotiation{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketNegotiations).Bucket([]byte(negotiationID))
		if nb == nil {
			return notFound(negotiationID)
		}
		return nb.Bucket(bucketEvents).ForEach(func(k, leaf []byte) error {
			e, _, err := wire.UnmarshalEvent(leaf)
			if err != nil {
				return err
			}
			if want := int64(binary.BigEndian.Uint64(k)); e.Sequence != want {
				return workflow.Errorf(workflow.EINTERNAL, "LOG_CORRUPT", "event stored at %d says it is %d", want, e.Sequence)
			}
			return n.Apply(e)
		})
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// LoadProjections reads a negotiation's state from its stored projections,
// bypassing the cache.
func (db *DB) LoadProjections(negotiationID string) (*workflow.Negotiation, error) {
	var n *workflow.Negotiation
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		n, _, err = load(tx, negotiationID)
		return err
	})
	return n, err
}

// encodeOrder writes point ids as uvarint-length-prefixed strings.
func encodeOrder(ids []string) []byte {
	size := 0
	for _, id := range ids {
		size += binary.MaxVarintLen64 + len(id)
	}
	out := make([]byte, 0, size)
	for _, id := range ids {
		out = binary.AppendUvarint(out, uint64(len(id)))
		out = append(out, id...)
	}
	return out
}

func decodeOrder(b []byte) ([]string, error) {
	var ids []string
	for len(b) > 0 {
		n, size := binary.Uvarint(b)
		if size <= 0 || uint64(len(b)-size) < n {
			return nil, fmt.Errorf("document order record is corrupt")
		}
		ids = append(ids, string(b[size:size+int(n)]))
		b = b[size+int(n):]
	}
	return ids, nil
}

func encodePrincipal(p Principal) []byte {
	return []byte(p.NegotiationID + "\x00" + p.Participant)
}

func decodePrincipal(b []byte) Principal {
	for i, c := range b {
		if c == 0 {
			return Principal{NegotiationID: string(b[:i]), Participant: string(b[i+1:])}
		}
	}
	return Principal{}
}
