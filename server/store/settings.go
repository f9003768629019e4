package store

import (
	bolt "go.etcd.io/bbolt"
)

// The server's own records, beside the negotiations.
var (
	bucketServer        = []byte("server")
	keyCheckpointKey    = []byte("checkpoint-verifier-key")
	serverBucketsAtOpen = [][]byte{bucketNegotiations, bucketRequests, bucketTokens, bucketServer, bucketDeadlines}
)

// CheckpointKey returns the verifier key of the key that signs checkpoints,
// as last recorded, or "" if none is.
func (db *DB) CheckpointKey() (string, error) {
	var key string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		key = string(tx.Bucket(bucketServer).Get(keyCheckpointKey))
		return nil
	})
	return key, err
}

// SetCheckpointKey records the verifier key of the key that signs
// checkpoints, durably.
func (db *DB) SetCheckpointKey(verifierKey string) error {
	txid, err := db.updateUnlogged(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketServer).Put(keyCheckpointKey, []byte(verifierKey))
	})
	if err != nil {
		if classified := storageError(err); classified != nil {
			return classified
		}
		return err
	}
	return db.lastCommit.record(txid, "", 0)
}

// HasNegotiations reports whether the database holds any negotiation, and so
// history that checkpoints may have been signed for.
func (db *DB) HasNegotiations() (bool, error) {
	ids, err := db.NegotiationIDs("", 1)
	return len(ids) > 0, err
}
