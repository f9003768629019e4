package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// MustOpenDB opens a database in a temporary folder and closes it at the end
// of the test.
func MustOpenDB(tb testing.TB) *store.DB {
	tb.Helper()
	return mustOpenAt(tb, filepath.Join(tb.TempDir(), "parley.db"))
}

// mustOpenAt opens the database at path, in log mode when
// PARLEY_TEST_WRITE_AHEAD_LOG is set: CI runs the store's tests both ways.
func mustOpenAt(tb testing.TB, path string) *store.DB {
	tb.Helper()
	db, err := store.Open(path, store.Options{WriteAheadLog: os.Getenv("PARLEY_TEST_WRITE_AHEAD_LOG") != ""})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var delegations = []string{"ukraine", "russia", "united-states", "europe"}

func planParticipants() []workflow.Participant {
	ps := []workflow.Participant{}
	for _, d := range delegations {
		ps = append(ps, workflow.Participant{ID: d, Role: workflow.RoleDelegation})
	}
	return append(ps, workflow.Participant{ID: "mediator", Role: workflow.RoleMediator})
}

// mustCreatePlan creates the 28-point negotiation and returns its id and the
// ids of its points.
func mustCreatePlan(tb testing.TB, db *store.DB) (string, []string) {
	tb.Helper()
	texts, err := workflow.ParseNumberedText(demo.PlanText)
	if err != nil {
		tb.Fatal(err)
	}
	id := uuid.NewString()
	cmd := workflow.CreateNegotiation{NegotiationID: id, Title: "28-point plan", Participants: planParticipants(),
		Rule: workflow.DecisionRule{Method: workflow.MethodConsensus}}
	var pointIDs []string
	for _, t := range texts {
		pointIDs = append(pointIDs, uuid.NewString())
		cmd.Points = append(cmd.Points, workflow.NewPoint{ID: pointIDs[len(pointIDs)-1], Text: t})
	}
	mustExec(tb, db, store.Exec{NegotiationID: id, Principal: "admin", Actor: workflow.AdminActor, Command: cmd})
	return id, pointIDs
}

func mustExec(tb testing.TB, db *store.DB, x store.Exec) store.Result {
	tb.Helper()
	res, err := db.Execute(context.Background(), x)
	if err != nil {
		tb.Fatalf("%T by %s: %v", x.Command, x.Actor, err)
	}
	return res
}

func lastSequence(tb testing.TB, db *store.DB, id string) int64 {
	tb.Helper()
	var seq int64
	if err := db.View(id, func(n *workflow.Negotiation) error { seq = n.LastSequence; return nil }); err != nil {
		tb.Fatal(err)
	}
	return seq
}

// sameState compares two states on everything but derived indexes.
func sameState(tb testing.TB, what string, want, got *workflow.Negotiation) {
	tb.Helper()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(workflow.Negotiation{}), cmpopts.EquateEmpty()); diff != "" {
		tb.Fatalf("%s differs (-want +got):\n%s", what, diff)
	}
	if want.DocumentHash() != got.DocumentHash() {
		tb.Fatalf("%s: document hash %s, want %s", what, got.DocumentHash(), want.DocumentHash())
	}
}

// checkProjections asserts that the served state, the stored projections and
// the fold of the log are the same.
func checkProjections(tb testing.TB, db *store.DB, id string) {
	tb.Helper()
	folded, err := db.Rebuild(id)
	if err != nil {
		tb.Fatal(err)
	}
	loaded, err := db.LoadProjections(id)
	if err != nil {
		tb.Fatal(err)
	}
	sameState(tb, "stored projections", folded, loaded)
	err = db.View(id, func(n *workflow.Negotiation) error {
		sameState(tb, "served state", folded, n)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	leaves := mustLeaves(tb, db, id)
	size, root, err := db.TreeHead(id)
	if err != nil {
		tb.Fatal(err)
	}
	if size != uint64(len(leaves)) || string(root) != string(mth(leaves)) {
		tb.Fatalf("merkle tree head (%d, %x) is not that of the %d stored events", size, root, len(leaves))
	}
}

func TestExecute(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		db := mustOpenAt(t, path)
		id, points := mustCreatePlan(t, db)
		if got := lastSequence(t, db, id); got != 29 {
			t.Fatalf("after creation the log has %d events, want 29", got)
		}
		six := workflow.HashText("The size of the Armed Forces of Ukraine will be limited to 600,000 troops.")
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: "europe", Command: workflow.SignOffPoint{PointID: points[5], Revision: 1, TextHash: six}})
		amendment := uuid.NewString()
		newSix := "The size of the Armed Forces of Ukraine will be limited to 800,000 troops in peacetime."
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{
			AmendmentID: amendment, Kind: workflow.KindReplace, PointID: points[5], BaseRevision: 1, Text: newSix}})
		for _, d := range delegations {
			mustExec(t, db, store.Exec{NegotiationID: id, Actor: d, Command: workflow.CastVote{AmendmentID: amendment, Choice: workflow.ChoiceApprove}})
		}
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: "mediator", Command: workflow.ApplyAmendment{AmendmentID: amendment, NewPointID: uuid.NewString()}})
		// Signing the new revision keeps the old sign-off as history.
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: "europe", Command: workflow.SignOffPoint{PointID: points[5], Revision: 2, TextHash: workflow.HashText(newSix)}})
		db.View(id, func(n *workflow.Negotiation) error {
			if h := n.Points[points[5]].History; len(h) != 1 || h[0].Revision != 1 || h[0].Participant != "europe" {
				t.Fatalf("history of point 6's sign-offs: %+v, want europe's sign-off of revision 1", h)
			}
			return nil
		})
		first := workflow.HashText("The sovereignty of Ukraine will be confirmed.")
		for _, d := range delegations {
			mustExec(t, db, store.Exec{NegotiationID: id, Actor: d, Command: workflow.SignOffPoint{PointID: points[0], Revision: 1, TextHash: first}})
		}
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: "russia", Command: workflow.RevokeSignOff{PointID: points[0]}})
		checkProjections(t, db, id)

		// The same holds after a restart, when nothing is cached.
		before := lastSequence(t, db, id)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = mustOpenAt(t, path)
		if got := lastSequence(t, db, id); got != before {
			t.Fatalf("after restart the log has %d events, want %d", got, before)
		}
		checkProjections(t, db, id)
	})

	t.Run("OK/inserts and deletes change the stored document", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		db := mustOpenAt(t, path)
		id, points := mustCreatePlan(t, db)
		apply := func(kind workflow.AmendmentKind, point, text string) string {
			t.Helper()
			var base int64
			if kind != workflow.KindInsert {
				base = 1
			}
			amendment, newPoint := uuid.NewString(), uuid.NewString()
			mustExec(t, db, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{
				AmendmentID: amendment, Kind: kind, PointID: point, BaseRevision: base, Text: text}})
			for _, d := range delegations {
				mustExec(t, db, store.Exec{NegotiationID: id, Actor: d, Command: workflow.CastVote{AmendmentID: amendment, Choice: workflow.ChoiceApprove}})
			}
			mustExec(t, db, store.Exec{NegotiationID: id, Actor: "mediator", Command: workflow.ApplyAmendment{AmendmentID: amendment, NewPointID: newPoint}})
			return newPoint
		}
		inserted := apply(workflow.KindInsert, "", "A preamble.")
		apply(workflow.KindDelete, points[27], "")
		checkProjections(t, db, id)
		// After a restart the document is the one the log says.
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = mustOpenAt(t, path)
		checkProjections(t, db, id)
		err := db.View(id, func(n *workflow.Negotiation) error {
			if len(n.Order) != 28 || n.Order[0] != inserted || n.PointNumber(points[0]) != 2 || n.PointNumber(points[27]) != 0 {
				t.Errorf("after restart: %d points, first %s, point 1 numbered %d, deleted point numbered %d",
					len(n.Order), n.Order[0], n.PointNumber(points[0]), n.PointNumber(points[27]))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("OK/a package deal is stored whole", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		db := mustOpenAt(t, path)
		id, points := mustCreatePlan(t, db)
		pkg, single := uuid.NewString(), uuid.NewString()
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: "russia", Command: workflow.ProposeAmendment{
			AmendmentID: single, Kind: workflow.KindReplace, PointID: points[18], BaseRevision: 1, Text: "Russia's point 19."}})
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{AmendmentID: pkg, Parts: []workflow.Part{
			{Kind: workflow.KindReplace, PointID: points[5], BaseRevision: 1, Text: "Armed Forces of 800,000."},
			{Kind: workflow.KindReplace, PointID: points[18], BaseRevision: 1, Text: "Point 19, as traded."},
			{Kind: workflow.KindInsert, PointID: points[6], Text: "A new point after 7."},
			{Kind: workflow.KindDelete, PointID: points[27], BaseRevision: 1},
		}}})
		checkProjections(t, db, id)
		for _, d := range delegations {
			mustExec(t, db, store.Exec{NegotiationID: id, Actor: d, Command: workflow.CastVote{AmendmentID: pkg, Choice: workflow.ChoiceApprove}})
		}
		newPoint := uuid.NewString()
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: "mediator", Command: workflow.ApplyAmendment{AmendmentID: pkg, NewPointIDs: []string{newPoint}}})
		checkProjections(t, db, id)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = mustOpenAt(t, path)
		checkProjections(t, db, id)
		err := db.View(id, func(n *workflow.Negotiation) error {
			if len(n.Order) != 28 || n.PointNumber(newPoint) != 8 || n.PointNumber(points[27]) != 0 ||
				n.Points[points[5]].Current().Revision != 2 || n.Amendments[single].State != workflow.AmendmentStateStale {
				t.Errorf("after restart: %d points, new point numbered %d, point 28 numbered %d, point 6 at revision %d, the rival of point 19 %s",
					len(n.Order), n.PointNumber(newPoint), n.PointNumber(points[27]), n.Points[points[5]].Current().Revision, n.Amendments[single].State)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		db := MustOpenDB(t)
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: uuid.NewString(), Actor: "ukraine",
			Command: workflow.CastVote{AmendmentID: uuid.NewString(), Choice: workflow.ChoiceApprove}})
		if workflow.ErrorReason(err) != "NEGOTIATION_NOT_FOUND" {
			t.Fatalf("got %v, want NEGOTIATION_NOT_FOUND", err)
		}
	})
}

func TestExecute_RequestID(t *testing.T) {
	db := MustOpenDB(t)
	id, points := mustCreatePlan(t, db)
	propose := func(requestHash [32]byte, text string) (store.Result, error) {
		return db.Execute(context.Background(), store.Exec{
			NegotiationID: id, Principal: id + "/ukraine", RequestID: "req-1", RequestHash: requestHash, Actor: "ukraine",
			Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(), Kind: workflow.KindReplace,
				PointID: points[0], BaseRevision: 1, Text: text},
			Reply: func(n *workflow.Negotiation, events []workflow.Event) (proto.Message, error) {
				return wrapperspb.String(events[0].Payload.(workflow.AmendmentProposed).AmendmentID), nil
			},
		})
	}
	hash := sha256.Sum256([]byte("request one"))
	first, err := propose(hash, "The sovereignty of Ukraine is confirmed.")
	if err != nil {
		t.Fatal(err)
	}
	seq := lastSequence(t, db, id)

	t.Run("OK", func(t *testing.T) {
		again, err := propose(hash, "The sovereignty of Ukraine is confirmed.")
		if err != nil {
			t.Fatal(err)
		}
		if !again.Replayed || string(again.Reply) != string(first.Reply) {
			t.Fatalf("retry: replayed=%v reply=%x, want the first reply %x", again.Replayed, again.Reply, first.Reply)
		}
		// The stored reply is the one the first call built, whole.
		var replayed wrapperspb.StringValue
		if err := proto.Unmarshal(again.Reply, &replayed); err != nil || replayed.GetValue() != first.Message.(*wrapperspb.StringValue).GetValue() || replayed.GetValue() == "" {
			t.Fatalf("replayed reply %q (%v), want %v", replayed.GetValue(), err, first.Message)
		}
		if got := lastSequence(t, db, id); got != seq {
			t.Fatalf("retry appended events: %d → %d", seq, got)
		}
	})

	t.Run("OK/without a reply", func(t *testing.T) {
		// A command whose caller needs no reply is still recorded, and its
		// retry is still answered from the record.
		x := store.Exec{NegotiationID: id, Principal: id + "/russia", RequestID: "req-2", RequestHash: sha256.Sum256([]byte("two")),
			Actor: "russia", Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(), Kind: workflow.KindReplace,
				PointID: points[1], BaseRevision: 1, Text: "A second text."}}
		mustExec(t, db, x)
		seq := lastSequence(t, db, id)
		again, err := db.Execute(context.Background(), x)
		if err != nil || !again.Replayed || len(again.Reply) != 0 {
			t.Fatalf("retry: %+v, %v; want an empty reply replayed", again, err)
		}
		if got := lastSequence(t, db, id); got != seq {
			t.Fatalf("retry appended events: %d → %d", seq, got)
		}
	})

	t.Run("ErrRecordNotWritten", func(t *testing.T) {
		// A request record bbolt cannot take (its key is longer than bbolt
		// allows) fails the command: without its record, a retry would
		// apply it twice.
		seq := lastSequence(t, db, id)
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Principal: id + "/europe",
			RequestID: strings.Repeat("r", 40_000), Actor: "europe", Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(),
				Kind: workflow.KindReplace, PointID: points[2], BaseRevision: 1, Text: "A third text."}})
		if err == nil || workflow.ErrorCode(err) != workflow.EINTERNAL {
			t.Fatalf("got %v, want an internal error", err)
		}
		if got := lastSequence(t, db, id); got != seq {
			t.Fatalf("a command without its request record appended events: %d → %d", seq, got)
		}
	})

	t.Run("ErrReused", func(t *testing.T) {
		seq := lastSequence(t, db, id)
		_, err := propose(sha256.Sum256([]byte("another request")), "Another text.")
		if workflow.ErrorReason(err) != "REQUEST_ID_REUSED" {
			t.Fatalf("got %v, want REQUEST_ID_REUSED", err)
		}
		if got := lastSequence(t, db, id); got != seq {
			t.Fatalf("reused id appended events: %d → %d", seq, got)
		}
	})
}

// Concurrent writers share commits, and every acknowledged write is in the log
// exactly once.
func TestExecute_Concurrent(t *testing.T) {
	db := MustOpenDB(t)
	id, points := mustCreatePlan(t, db)
	const writers, each = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: delegations[w%4],
					Command: workflow.ProposeAmendment{AmendmentID: uuid.NewString(), Kind: workflow.KindReplace,
						PointID: points[w%len(points)], BaseRevision: 1, Text: fmt.Sprintf("Text %d of writer %d.", i, w)}})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, want := lastSequence(t, db, id), int64(29+writers*each); got != want {
		t.Fatalf("log has %d events, want %d", got, want)
	}
	checkProjections(t, db, id)
}

// Commands of one commit that each reply with the amendment they changed
// get it as they left it, and the stored projection is the amendment as the
// last of them left it: the conversion shared by a reply and the projection
// is not reused once an event changes the amendment again.
func TestExecute_BatchedAmendmentReplies(t *testing.T) {
	db := MustOpenDB(t)
	id, points := mustCreatePlan(t, db)
	a, b := uuid.NewString(), uuid.NewString()
	for _, aid := range []string{a, b} {
		mustExec(t, db, store.Exec{NegotiationID: id, Actor: "ukraine", Command: workflow.ProposeAmendment{
			AmendmentID: aid, Kind: workflow.KindReplace, PointID: points[0], BaseRevision: 1, Text: "Draft " + aid + "."}})
	}
	type reply struct {
		voter string
		a     *parleyv1.Amendment
		err   error
	}
	replies := make(chan reply, 8)
	vote := func(voter, aid string, choice workflow.VoteChoice) {
		var got *parleyv1.Amendment
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: voter,
			Command: workflow.CastVote{AmendmentID: aid, Choice: choice}, AmendmentID: aid,
			AmendmentReply: func(a *parleyv1.Amendment, _ *workflow.Negotiation, _ []workflow.Event) (proto.Message, error) {
				got = proto.Clone(a).(*parleyv1.Amendment)
				return a, nil
			}})
		replies <- reply{voter, got, err}
	}
	release := holdCommitter(t, db, func() { vote("europe", b, workflow.ChoiceApprove) })
	go vote("ukraine", a, workflow.ChoiceApprove)
	go vote("russia", a, workflow.ChoiceAbstain)
	go vote("united-states", a, workflow.ChoiceApprove)
	go vote("ukraine", b, workflow.ChoiceAbstain)
	go func() {
		_, err := db.Execute(context.Background(), store.Exec{NegotiationID: id, Actor: "russia", Command: workflow.ProposeAmendment{
			AmendmentID: uuid.NewString(), Kind: workflow.KindReplace, PointID: points[1], BaseRevision: 1, Text: "Another draft."}})
		replies <- reply{voter: "proposal", err: err}
	}()
	release(5, nil)
	for range 6 {
		r := <-replies
		if r.err != nil {
			t.Fatalf("%s: %v", r.voter, r.err)
		}
		if r.a == nil {
			continue
		}
		if !slices.ContainsFunc(r.a.GetVotes(), func(v *parleyv1.Vote) bool { return v.GetParticipant() == r.voter }) {
			t.Errorf("the reply to %s's vote on %s shows no vote of %s: %v", r.voter, r.a.GetName(), r.voter, r.a.GetVotes())
		}
	}
	checkProjections(t, db, id)
	if err := db.View(id, func(n *workflow.Negotiation) error {
		if got := len(n.Amendments[a].Votes); got != 3 {
			t.Errorf("amendment a has %d votes, want 3", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestPreload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db := mustOpenAt(t, path)
	id, _ := mustCreatePlan(t, db)
	mustCreatePlan(t, db)
	db.Close()
	db = mustOpenAt(t, path)
	n, err := db.Preload(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("Preload loaded %d negotiations, %v; want 2", n, err)
	}
	checkProjections(t, db, id)
}
