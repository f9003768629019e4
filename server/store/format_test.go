package store_test

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// The database under testdata/format-v1 was written by the store as it was
// before the write path was made leaner (issue 16), by writeFormatFixture
// below: run
//
//	PARLEY_FORMAT_FIXTURE=$PWD/server/store/testdata/format-v1/parley.db go test ./server/store -run TestWriteFormatFixture
//
// on that version to write it again. Whatever the store's layout becomes, a
// database of that version must still open, verify, replay its requests and
// take new commands.
const (
	fixtureNegotiation = "0b6c1f8e-5f2a-4a8e-9d3c-2f1e7a9b4c10"
	fixtureAmendment   = "7d2e4c1a-9b3f-4e6d-8a1c-5f0b2d3e4a21"
)

func fixtureVote(voter, requestID string, choice workflow.VoteChoice) store.Exec {
	return store.Exec{NegotiationID: fixtureNegotiation, Principal: fixtureNegotiation + "/" + voter, RequestID: requestID,
		RequestHash: sha256.Sum256([]byte(requestID)), Actor: voter,
		Command: workflow.CastVote{AmendmentID: fixtureAmendment, Choice: choice},
		Reply: func(n *workflow.Negotiation, _ []workflow.Event) (proto.Message, error) {
			return &parleyv1.CastVoteResponse{Amendment: wire.AmendmentToProto(n, n.Amendments[fixtureAmendment])}, nil
		}}
}

func TestWriteFormatFixture(t *testing.T) {
	path := os.Getenv("PARLEY_FORMAT_FIXTURE")
	if path == "" {
		t.Skip("set PARLEY_FORMAT_FIXTURE to the file to write")
	}
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	db, err := store.Open(path, store.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	point := "a1b2c3d4-0000-4000-8000-000000000001"
	mustExec(t, db, store.Exec{NegotiationID: fixtureNegotiation, Principal: "admin", Actor: workflow.AdminActor,
		Command: workflow.CreateNegotiation{NegotiationID: fixtureNegotiation, Title: "format fixture", Participants: planParticipants(),
			Rule: workflow.DecisionRule{Method: workflow.MethodConsensus},
			Points: []workflow.NewPoint{{ID: point, Text: "The parties agree."},
				{ID: "a1b2c3d4-0000-4000-8000-000000000002", Text: "It takes effect at once."}}}})
	mustExec(t, db, store.Exec{NegotiationID: fixtureNegotiation, Principal: "admin", Actor: workflow.AdminActor,
		Command: workflow.IssueCredential{Participant: "russia", TokenHash: "5b2f0c9d1e3a4b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4"}})
	mustExec(t, db, store.Exec{NegotiationID: fixtureNegotiation, Principal: fixtureNegotiation + "/ukraine", RequestID: "propose-1",
		RequestHash: sha256.Sum256([]byte("propose-1")), Actor: "ukraine",
		Command: workflow.ProposeAmendment{AmendmentID: fixtureAmendment, Kind: workflow.KindReplace, PointID: point, BaseRevision: 1,
			Text: "The parties agree in full."}})
	mustExec(t, db, fixtureVote("russia", "vote-1", workflow.ChoiceApprove))
	mustExec(t, db, fixtureVote("europe", "vote-2", workflow.ChoiceAbstain))
}

// TestOpen_DatabaseOfEarlierVersion opens a copy of the database written by
// the store before issue 16 and checks that everything in it still works.
func TestOpen_DatabaseOfEarlierVersion(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, filepath.Join("testdata", "format-v1"), dir)
	path := filepath.Join(dir, "parley.db")
	db := mustOpenAt(t, path)
	t.Run("OK", func(t *testing.T) {
		if err := db.VerifyAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkProjections(t, db, fixtureNegotiation)
		// A retry of a request committed by the earlier version gets the
		// reply that version stored, and changes nothing.
		before := lastSequence(t, db, fixtureNegotiation)
		res := mustExec(t, db, fixtureVote("russia", "vote-1", workflow.ChoiceApprove))
		var reply parleyv1.CastVoteResponse
		if err := proto.Unmarshal(res.Reply, &reply); err != nil {
			t.Fatal(err)
		}
		votes := reply.GetAmendment().GetVotes()
		if !res.Replayed || len(votes) != 1 || votes[0].GetParticipant() != "russia" || votes[0].GetSequence() == 0 {
			t.Fatalf("replayed %v, reply %v: want the stored reply with russia's vote alone", res.Replayed, &reply)
		}
		if got := lastSequence(t, db, fixtureNegotiation); got != before {
			t.Fatalf("a replayed request moved the log from %d to %d events", before, got)
		}
		// New commands go on from there.
		res = mustExec(t, db, fixtureVote("united-states", "vote-3", workflow.ChoiceApprove))
		if err := proto.Unmarshal(res.Reply, &reply); err != nil || len(reply.GetAmendment().GetVotes()) != 3 {
			t.Fatalf("new vote: reply %v (%v), want 3 votes", &reply, err)
		}
	})
	t.Run("ErrAlreadyExists", func(t *testing.T) {
		// The earlier version's request record still guards its id.
		x := fixtureVote("europe", "vote-2", workflow.ChoiceApprove)
		x.RequestHash = sha256.Sum256([]byte("another request"))
		_, err := db.Execute(context.Background(), x)
		if workflow.ErrorReason(err) != "REQUEST_ID_REUSED" {
			t.Fatalf("err = %v, want REQUEST_ID_REUSED", err)
		}
	})
	// What both versions wrote verifies once closed and opened again.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenAt(t, path)
	if err := db.VerifyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkProjections(t, db, fixtureNegotiation)
}

func copyDir(tb testing.TB, from, to string) {
	tb.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		src, err := os.Open(filepath.Join(from, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		dst, err := os.OpenFile(filepath.Join(to, e.Name()), os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			_, err = io.Copy(dst, src)
			if cerr := dst.Close(); err == nil {
				err = cerr
			}
		}
		src.Close()
		if err != nil {
			tb.Fatal(err)
		}
	}
}
