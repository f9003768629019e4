package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/parley-negotiation/parley/server/checkpoint"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// CheckpointKeyFile is the name of the checkpoint signing key in the data
// folder.
const CheckpointKeyFile = "checkpoint-key"

// checkpointSigner loads the key that signs checkpoints and checks it
// against the one the database has on record. Parties pin that key: parleyd
// never makes a new one silently for a database whose checkpoints may have
// been signed already. With --rotate-checkpoint-key it makes a new one and
// records the change in every negotiation's log, which is how clients that
// pinned the old key learn of the new one.
func (m *Main) checkpointSigner(ctx context.Context) (*checkpoint.Signer, error) {
	c := m.Config
	path := filepath.Join(c.DataDir, CheckpointKeyFile)
	onRecord, err := m.DB.CheckpointKey()
	if err != nil {
		return nil, err
	}
	history, err := m.DB.HasNegotiations()
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(path)
	exists := statErr == nil
	signedBy := "the key that signed them"
	if onRecord != "" {
		signedBy = onRecord
	}
	if !exists && history && !c.RotateCheckpointKey {
		return nil, fmt.Errorf("%s is missing, but the database holds negotiations whose checkpoints were signed by %s, "+
			"and the parties have pinned that key. Put the file back from where you keep it. If it is lost for good, "+
			"start once with --rotate-checkpoint-key: parleyd then makes a new key and records the rotation in every "+
			"negotiation's log, and clients that pinned the old key follow it with a warning (docs/operations.md)",
			path, signedBy)
	}
	signer, err := checkpoint.LoadOrCreate(path, c.KeyName)
	if err != nil {
		return nil, err
	}
	key := signer.VerifierKey()
	switch {
	case onRecord == key:
		if c.RotateCheckpointKey {
			m.Logger.Warn("--rotate-checkpoint-key: nothing to rotate: " + CheckpointKeyFile + " holds the key on record; to replace it, move the file away first")
		}
		return signer, nil
	case !history || (onRecord == "" && exists):
		// A new database, or one from before keys were on record: adopt
		// the key in the file.
		return signer, m.DB.SetCheckpointKey(key)
	case !c.RotateCheckpointKey:
		return nil, fmt.Errorf("%s holds the key %s, but the database's checkpoints are signed by %s, which the parties "+
			"have pinned. Put the right file back; or, to replace the key on purpose, start once with --rotate-checkpoint-key",
			path, key, onRecord)
	}
	n, err := rotateCheckpointKey(ctx, m.DB, onRecord, key)
	if err != nil {
		return nil, fmt.Errorf("--rotate-checkpoint-key: %w (start again with the flag to finish)", err)
	}
	if err := m.DB.SetCheckpointKey(key); err != nil {
		return nil, fmt.Errorf("--rotate-checkpoint-key: record the new key: %w (start again with the flag to finish)", err)
	}
	m.Logger.Warn("checkpoint key rotated", "from", onRecord, "to", key, "negotiations", n)
	fmt.Fprintf(m.Stdout, "parleyd: ROTATED the checkpoint key: %s replaces %s; the rotation is an event in the logs of %d negotiations\n",
		key, signedBy, n)
	return signer, nil
}

// rotateCheckpointKey appends a CheckpointKeyRotated event to the log of
// every negotiation that does not have it yet. Its request id is derived from
// the new key, so that a rotation interrupted and started again records the
// event once in each log.
func rotateCheckpointKey(ctx context.Context, db *store.DB, previous, next string) (int, error) {
	sum := sha256.Sum256([]byte("rotate checkpoint key\x00" + next))
	requestID := "rotate-checkpoint-key-" + hex.EncodeToString(sum[:8])
	const parallel = 64 // commits share fsyncs
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		count int
	)
	slots := make(chan struct{}, parallel)
	after := ""
	for {
		ids, err := db.NegotiationIDs(after, 1000)
		if err != nil {
			return 0, err
		}
		if len(ids) == 0 {
			break
		}
		after = ids[len(ids)-1]
		for _, id := range ids {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				_, err := db.Execute(ctx, store.Exec{NegotiationID: id, Principal: workflow.AdminActor, RequestID: requestID,
					RequestHash: sum, Actor: workflow.AdminActor,
					Command: workflow.RotateCheckpointKey{VerifierKey: next, PreviousVerifierKey: previous}})
				mu.Lock()
				defer mu.Unlock()
				if err != nil && first == nil {
					first = fmt.Errorf("negotiation %s: %w", id, err)
				}
				count++
			}()
		}
	}
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return count, nil
}
