package main_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// dbcheckOpen opens a database file that no server is using, checks it the
// way an auditor would, and returns the state of one negotiation as its log
// folds it. The checks: bbolt's page check, every negotiation's log 1..N
// without gaps and folding into exactly its stored projections, the token
// index (store.VerifyAll); and, for the negotiation asked for, the fold
// compared field by field with the projections, and their document hashes.
func dbcheckOpen(t *testing.T, path, negotiationID string) (*store.DB, *workflow.Negotiation) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.VerifyAll(context.Background()); err != nil {
		t.Fatalf("the database does not verify: %v", err)
	}
	folded, err := db.Rebuild(negotiationID)
	if err != nil {
		t.Fatalf("rebuild from the log: %v", err)
	}
	stored, err := db.LoadProjections(negotiationID)
	if err != nil {
		t.Fatalf("load the projections: %v", err)
	}
	if diff := cmp.Diff(folded, stored, cmpopts.IgnoreUnexported(workflow.Negotiation{}), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("the stored state differs from the fold of the log (-fold +stored):\n%s", diff)
	}
	if folded.DocumentHash() != stored.DocumentHash() {
		t.Fatalf("document hash: fold %s, stored %s", folded.DocumentHash(), stored.DocumentHash())
	}
	return db, folded
}
