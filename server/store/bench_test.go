package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// benchVotes sets up the 28-point plan with open amendments that only three
// of the four delegations vote on, so voting never closes.
func benchVotes(b *testing.B) (*store.DB, string, []string) {
	db := MustOpenDB(b)
	id, points := mustCreatePlan(b, db)
	var amendments []string
	for i := range 64 {
		aid := uuid.NewString()
		mustExec(b, db, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{
			AmendmentID: aid, Kind: workflow.KindInsert, PointID: points[i%len(points)], Text: "New point."}})
		amendments = append(amendments, aid)
	}
	return db, id, amendments
}

// vote returns the i-th vote of the benchmark: it always changes a vote, so
// that each one is a real write with a request record, like a CastVote call.
func vote(id string, amendments []string, i int64) store.Exec {
	voter := delegations[1+i%3]
	choice := workflow.ChoiceApprove
	if (i/int64(3*len(amendments)))%2 == 1 {
		choice = workflow.ChoiceAbstain
	}
	aid := amendments[(i/3)%int64(len(amendments))]
	return store.Exec{NegotiationID: id, Principal: id + "/" + voter, RequestID: fmt.Sprint(i),
		RequestHash: sha256.Sum256([]byte(fmt.Sprint(i))), Actor: voter,
		Command: workflow.CastVote{AmendmentID: aid, Choice: choice},
		// The reply CastVote gives without vote_only: the amendment with its
		// votes, converted once for the reply and the stored projection.
		AmendmentID: aid,
		AmendmentReply: func(a *parleyv1.Amendment, _ *workflow.Negotiation, _ []workflow.Event) (proto.Message, error) {
			return &parleyv1.CastVoteResponse{Amendment: a}, nil
		}}
}

// BenchmarkExecute measures durable votes through the store, fsync on: one
// writer alone (each waits for its own commit), and many writers sharing
// commits.
//
//	go test ./server/store -run '^$' -bench Execute
func BenchmarkExecute(b *testing.B) {
	b.Run("writers=1", func(b *testing.B) {
		db, id, amendments := benchVotes(b)
		defer reportPages(b, db)()
		var i int64
		for b.Loop() {
			if _, err := db.Execute(context.Background(), vote(id, amendments, i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("writers=64", func(b *testing.B) {
		db, id, amendments := benchVotes(b)
		var next atomic.Int64
		b.SetParallelism(32) // × GOMAXPROCS goroutines
		defer reportPages(b, db)()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := db.Execute(context.Background(), vote(id, amendments, next.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// reportPages reports, when the returned function is called at the end of
// the benchmark, the pages bbolt wrote per vote (each its own pwrite).
func reportPages(b *testing.B, db *store.DB) func() {
	writes := db.PageWrites()
	return func() {
		b.ReportMetric(float64(db.PageWrites()-writes)/float64(b.N), "pages/vote")
	}
}

// BenchmarkApplyBatch measures votes applied as raft entries, fsync on: one
// transaction per entry (Apply), and one per batch of 64 (ApplyBatch, raft's
// largest batch by default).
//
//	go test ./server/store -run '^$' -bench ApplyBatch
func BenchmarkApplyBatch(b *testing.B) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	for _, size := range []int{1, 64} {
		b.Run(fmt.Sprintf("entries=%d", size), func(b *testing.B) {
			db, id, amendments := benchVotes(b)
			defer reportPages(b, db)()
			var index uint64
			entries := make([]store.Entry, 0, size)
			for b.Loop() {
				index++
				entries = append(entries, store.Entry{Index: index, At: at, Exec: vote(id, amendments, int64(index))})
				if len(entries) < size {
					continue
				}
				for _, a := range db.ApplyBatch(entries) {
					if a.Err != nil {
						b.Fatal(a.Err)
					}
				}
				entries = entries[:0]
			}
		})
	}
}
