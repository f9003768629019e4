package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// NegotiationIDs pages through every negotiation in id order, each once.
func TestNegotiationIDs(t *testing.T) {
	db := MustOpenDB(t)
	var want []string
	for range 5 {
		id, _ := mustCreatePlan(t, db)
		want = append(want, id)
	}
	sort.Strings(want)
	var got []string
	for after := ""; ; {
		if len(got) > len(want) {
			t.Fatalf("paging does not end: %v", got)
		}
		page, err := db.NegotiationIDs(after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d ids, limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1]
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged ids %v, want %v", got, want)
	}
	// A page may start after an id that does not exist.
	if page, err := db.NegotiationIDs(want[2][:len(want[2])-1], 10); err != nil || !slices.Equal(page, want[2:]) {
		t.Fatalf("ids after a prefix of the third: %v %v, want %v", page, err, want[2:])
	}
}

// Events pages through a log in order, from the sequence after the one given.
func TestEvents(t *testing.T) {
	db := MustOpenDB(t)
	id, _ := mustCreatePlan(t, db)
	t.Run("OK", func(t *testing.T) {
		var seqs []int64
		for after := int64(0); ; {
			if len(seqs) > 29 {
				t.Fatalf("paging does not end: %v", seqs)
			}
			page, err := db.Events(id, after, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 10 {
				t.Fatalf("page of %d events, limit 10", len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				seqs = append(seqs, e.Sequence)
			}
			after = page[len(page)-1].Sequence
		}
		if len(seqs) != 29 || seqs[0] != 1 || seqs[28] != 29 || !slices.IsSorted(seqs) {
			t.Fatalf("paged sequences %v, want 1 to 29", seqs)
		}
	})
	t.Run("ErrNegotiationNotFound", func(t *testing.T) {
		if _, err := db.Events(uuid.NewString(), 0, 10); workflow.ErrorReason(err) != "NEGOTIATION_NOT_FOUND" {
			t.Fatalf("got %v", err)
		}
	})
}

// The token index follows issue, rotation and revocation: only the current
// token of a participant finds its owner.
func TestTokenOwner(t *testing.T) {
	db := MustOpenDB(t)
	id, _ := mustCreatePlan(t, db)
	first, second := fmt.Sprintf("%064x", 1), fmt.Sprintf("%064x", 2)
	owner := func(hash string) (store.Principal, bool) {
		t.Helper()
		p, ok, err := db.TokenOwner(hash)
		if err != nil {
			t.Fatal(err)
		}
		return p, ok
	}
	mustExec(t, db, store.Exec{NegotiationID: id, Actor: workflow.AdminActor, Command: workflow.IssueCredential{Participant: "russia", TokenHash: first}})
	if p, ok := owner(first); !ok || p != (store.Principal{NegotiationID: id, Participant: "russia"}) {
		t.Fatalf("owner of the issued token: %+v %v", p, ok)
	}
	mustExec(t, db, store.Exec{NegotiationID: id, Actor: workflow.AdminActor, Command: workflow.IssueCredential{Participant: "russia", TokenHash: second, Rotate: true}})
	if _, ok := owner(first); ok {
		t.Fatalf("the rotated-out token still has an owner")
	}
	if p, ok := owner(second); !ok || p.Participant != "russia" {
		t.Fatalf("owner of the new token: %+v %v", p, ok)
	}
	mustExec(t, db, store.Exec{NegotiationID: id, Actor: workflow.AdminActor, Command: workflow.RevokeCredential{Participant: "russia"}})
	if _, ok := owner(second); ok {
		t.Fatalf("the revoked token still has an owner")
	}
	if err := db.VerifyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A reply holding a secret is not kept: a retry of its request is refused
// rather than shown the token again, and changes nothing.
func TestExecute_SecretReply(t *testing.T) {
	db := MustOpenDB(t)
	id, _ := mustCreatePlan(t, db)
	issue := store.Exec{NegotiationID: id, Principal: "admin", RequestID: "issue-1", RequestHash: sha256.Sum256([]byte("issue")),
		Actor: workflow.AdminActor, SecretReply: true,
		Command: workflow.IssueCredential{Participant: "europe", TokenHash: fmt.Sprintf("%064x", 7)},
		Reply: func(*workflow.Negotiation, []workflow.Event) (proto.Message, error) {
			return wrapperspb.String("the token"), nil
		}}
	res := mustExec(t, db, issue)
	if msg, ok := res.Message.(*wrapperspb.StringValue); !ok || msg.GetValue() != "the token" {
		t.Fatalf("first reply %v, want the token", res.Message)
	}
	seq := lastSequence(t, db, id)
	_, err := db.Execute(context.Background(), issue)
	if workflow.ErrorCode(err) != workflow.EALREADYEXISTS || workflow.ErrorReason(err) != "TOKEN_ALREADY_SHOWN" {
		t.Fatalf("retry: %v, want already_exists/TOKEN_ALREADY_SHOWN", err)
	}
	if got := lastSequence(t, db, id); got != seq {
		t.Fatalf("retry appended events: %d → %d", seq, got)
	}
}

// A command whose caller gave up before the committer reached it is not
// committed.
func TestExecute_Cancelled(t *testing.T) {
	db := MustOpenDB(t)
	id, points := mustCreatePlan(t, db)
	before := lastSequence(t, db, id)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := db.Execute(ctx, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{
		AmendmentID: uuid.NewString(), Kind: workflow.KindReplace, PointID: points[0], BaseRevision: 1, Text: "Cancelled."}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	// The next command is committed after it, if it was queued at all.
	mustExec(t, db, store.Exec{NegotiationID: id, Actor: "russia", Command: workflow.ProposeAmendment{
		AmendmentID: uuid.NewString(), Kind: workflow.KindReplace, PointID: points[1], BaseRevision: 1, Text: "Kept."}})
	if got := lastSequence(t, db, id); got != before+1 {
		t.Fatalf("%d events after a cancelled and a good command, want %d", got, before+1)
	}
}

// If the clock steps back, the events keep the time of the last one rather
// than go back in time.
func TestExecute_ClockStepsBack(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	db, err := store.Open(t.TempDir()+"/parley.db", store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id, points := mustCreatePlan(t, db)
	now = now.Add(-time.Hour)
	res := mustExec(t, db, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{
		AmendmentID: uuid.NewString(), Kind: workflow.KindReplace, PointID: points[0], BaseRevision: 1, Text: "Later."}})
	if at := res.Events[0].At; !at.Equal(now.Add(time.Hour)) {
		t.Fatalf("event after the clock stepped back is at %v, want the last event's time %v", at, now.Add(time.Hour))
	}
	now = now.Add(2 * time.Hour)
	res = mustExec(t, db, store.Exec{NegotiationID: id, Actor: "russia", Command: workflow.ProposeAmendment{
		AmendmentID: uuid.NewString(), Kind: workflow.KindReplace, PointID: points[1], BaseRevision: 1, Text: "Later still."}})
	if at := res.Events[0].At; !at.Equal(now) {
		t.Fatalf("event is at %v, want the clock's %v", at, now)
	}
}

// A reply that cannot be built fails its command like a failed commit:
// nothing of it is stored.
func TestExecute_ReplyFails(t *testing.T) {
	db := MustOpenDB(t)
	id, points := mustCreatePlan(t, db)
	before := lastSequence(t, db, id)
	errReply := errors.New("reply cannot be built")
	_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Principal: id + "/ukraine", RequestID: "r-1",
		Actor: "ukraine", Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(), Kind: workflow.KindReplace,
			PointID: points[0], BaseRevision: 1, Text: "Unreplied."},
		Reply: func(*workflow.Negotiation, []workflow.Event) (proto.Message, error) { return nil, errReply }})
	if !errors.Is(err, errReply) || workflow.ErrorCode(err) != workflow.EINTERNAL {
		t.Fatalf("got %v, want the internal error of the reply", err)
	}
	if got := lastSequence(t, db, id); got != before {
		t.Fatalf("%d events after a failed reply, want %d", got, before)
	}
	checkProjections(t, db, id)
}

// Close lets the commands already queued finish and refuses later ones with
// SHUTTING_DOWN: every command acknowledged is in the file when it reopens.
// Closing twice is harmless.
func TestClose(t *testing.T) {
	path := t.TempDir() + "/parley.db"
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, points := mustCreatePlan(t, db)
	var wg sync.WaitGroup
	var acked atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: delegations[w%4],
					Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(), Kind: workflow.KindReplace,
						PointID: points[w], BaseRevision: 1, Text: fmt.Sprintf("Draft %d.", i)}})
				switch {
				case err == nil:
					acked.Add(1)
				case errors.Is(err, store.ErrClosed) && workflow.ErrorReason(err) == "SHUTTING_DOWN":
					return
				default:
					t.Errorf("Execute while closing: %v", err)
					return
				}
			}
		}()
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	db = mustOpenAt(t, path)
	if got, want := lastSequence(t, db, id), 29+acked.Load(); got != want {
		t.Fatalf("%d events after reopening, want %d: 29 and the %d acknowledged", got, want, acked.Load())
	}
}

// VerifyAll stops when its context ends.
func TestVerifyAll_Cancelled(t *testing.T) {
	db := MustOpenDB(t)
	mustCreatePlan(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.VerifyAll(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("VerifyAll with an ended context: %v, want context.Canceled", err)
	}
}
