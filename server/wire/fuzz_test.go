package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
	"go.uber.org/goleak"

	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fuzzScenario plays a small negotiation through the rules, so that its log
// holds every kind of event, and returns the events.
func fuzzScenario(tb testing.TB) []workflow.Event {
	tb.Helper()
	id := uuid.NewString()
	at := time.Date(2025, 11, 20, 9, 0, 0, 123456789, time.UTC)
	var n *workflow.Negotiation
	var log []workflow.Event
	do := func(actor, requestID string, cmd workflow.Command) {
		tb.Helper()
		at = at.Add(time.Second)
		events, err := workflow.Decide(n, workflow.Meta{Actor: actor, RequestID: requestID, At: at}, cmd)
		if err != nil {
			tb.Fatalf("%T by %s: %v", cmd, actor, err)
		}
		if n == nil {
			n = &workflow.Negotiation{}
		}
		for _, e := range events {
			if err := n.Apply(e); err != nil {
				tb.Fatal(err)
			}
		}
		log = append(log, events...)
	}
	p1, p2 := uuid.NewString(), uuid.NewString()
	do(workflow.AdminActor, "create", workflow.CreateNegotiation{NegotiationID: id, Title: "Fuzz — a treaty",
		Participants: []workflow.Participant{{ID: "ukraine", DisplayName: "Україна", Role: workflow.RoleDelegation, Weight: 3},
			{ID: "europe", Role: workflow.RoleDelegation}, {ID: "mediator", Role: workflow.RoleMediator}, {ID: "press", Role: workflow.RoleObserver}},
		Rule:                workflow.DecisionRule{Method: workflow.MethodQualified, Quorum: 1, ThresholdBasisPoints: 6000},
		Points:              []workflow.NewPoint{{ID: p1, Text: "First point.\n— with a sub-item"}, {ID: p2, Text: "Second point."}},
		ObserversMayComment: true})
	hash := strings.Repeat("ab", 32)
	do(workflow.AdminActor, "", workflow.IssueCredential{Participant: "ukraine", TokenHash: hash})
	do(workflow.AdminActor, "", workflow.RevokeCredential{Participant: "ukraine"})
	x1, x2, x3, x4 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	do("ukraine", "x1", workflow.ProposeAmendment{AmendmentID: x1, Kind: workflow.KindReplace, PointID: p1, BaseRevision: 1, Text: "First point, amended.", Rationale: "Clearer."})
	do("europe", "x2", workflow.ProposeAmendment{AmendmentID: x2, Kind: workflow.KindReplace, PointID: p1, BaseRevision: 1, Text: "Another first point."})
	do("ukraine", "x3", workflow.ProposeAmendment{AmendmentID: x3, Kind: workflow.KindInsert, Text: "A new first point."})
	do("europe", "x4", workflow.ProposeAmendment{AmendmentID: x4, Kind: workflow.KindDelete, PointID: p2, BaseRevision: 1})
	x5, c1, c2, c3 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	do("mediator", "x5", workflow.ProposeAmendment{AmendmentID: x5, Kind: workflow.KindReplace, PointID: p1, BaseRevision: 1, Text: "A compromise.", CounterTo: x2})
	do("europe", "c1", workflow.PostComment{CommentID: c1, PointID: p1, Text: "Why change it?"})
	do("ukraine", "c2", workflow.PostComment{CommentID: c2, ParentID: c1, Text: "It is vague.\nSee the rationale."})
	do("press", "c3", workflow.PostComment{CommentID: c3, AmendmentID: x5, Text: "A fair middle."})
	do("europe", "c1-retract", workflow.RetractComment{CommentID: c1})
	do("ukraine", "v1", workflow.CastVote{AmendmentID: x1, Choice: workflow.ChoiceReject, Reason: "Too vague."})
	do("ukraine", "v2", workflow.CastVote{AmendmentID: x1, Choice: workflow.ChoiceApprove})
	do("europe", "v3", workflow.CastVote{AmendmentID: x1, Choice: workflow.ChoiceAbstain})
	do("mediator", "apply", workflow.ApplyAmendment{AmendmentID: x1})
	x6 := uuid.NewString()
	do("europe", "x6", workflow.RebaseAmendment{AmendmentID: x6, StaleID: x2, BaseRevision: 2, Text: "Another first point, amended."})
	do("europe", "withdraw-x6", workflow.WithdrawAmendment{AmendmentID: x6})
	do("ukraine", "withdraw", workflow.WithdrawAmendment{AmendmentID: x3})
	do("ukraine", "v4", workflow.CastVote{AmendmentID: x4, Choice: workflow.ChoiceApprove})
	do("mediator", "close", workflow.CloseVoting{AmendmentID: x4})
	do("mediator", "reject", workflow.RejectAmendment{AmendmentID: x4, Reason: "Out of scope."})
	for _, d := range []string{"ukraine", "europe"} {
		do(d, "", workflow.SignOffPoint{PointID: p1, Revision: 2, TextHash: workflow.HashText("First point, amended.")})
		do(d, "", workflow.SignOffPoint{PointID: p2, Revision: 1, TextHash: workflow.HashText("Second point.")})
	}
	do("europe", "", workflow.RevokeSignOff{PointID: p2})
	do("europe", "", workflow.SignOffPoint{PointID: p2, Revision: 1, TextHash: workflow.HashText("Second point.")})
	do("ukraine", "", workflow.AcceptDocument{DocumentHash: n.DocumentHash()})
	do("europe", "", workflow.AcceptDocument{DocumentHash: n.DocumentHash()})
	return log
}

// Every kind of event has a seed, so the fuzzer starts from real leaves.
func TestFuzzScenario_CoversEveryEvent(t *testing.T) {
	kinds := map[string]bool{}
	for _, e := range fuzzScenario(t) {
		kinds[strings.TrimPrefix(fmt.Sprintf("%T", e.Payload), "workflow.")] = true
	}
	want := []string{"NegotiationCreated", "PointAdded", "AmendmentProposed", "VoteCast", "VotingClosed", "AmendmentApplied",
		"AmendmentRejected", "AmendmentWithdrawn", "AmendmentStaled", "PointSignedOff", "SignOffRevoked", "DocumentAccepted",
		"NegotiationConcluded", "CredentialIssued", "CredentialRevoked", "CommentPosted", "CommentRetracted"}
	for _, k := range want {
		if !kinds[k] {
			t.Errorf("the scenario has no %s event", k)
		}
	}
}

// FuzzUnmarshalEvent decodes arbitrary bytes as a stored leaf. It must never
// panic; a refusal must be a *workflow.Error; and an event it accepts must
// encode into a leaf that decodes to the same event and encodes to the same
// bytes again, so that every party hashing an event gets the same leaf.
func FuzzUnmarshalEvent(f *testing.F) {
	for _, e := range fuzzScenario(f) {
		leaf, err := wire.MarshalEvent(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(leaf)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x02, 'n', '/'})
	f.Fuzz(func(t *testing.T, leaf []byte) {
		e, pe, err := wire.UnmarshalEvent(leaf)
		if err != nil {
			var we *workflow.Error
			if !errors.As(err, &we) || we.Reason == "" {
				t.Fatalf("refusal is not a *workflow.Error with a reason: %v", err)
			}
			return
		}
		if pe == nil {
			t.Fatal("decoded without its protobuf form")
		}
		again, err := wire.MarshalEvent(e)
		if err != nil {
			t.Fatalf("a decoded event does not encode: %v", err)
		}
		e2, _, err := wire.UnmarshalEvent(again)
		if err != nil {
			t.Fatalf("a re-encoded event does not decode: %v", err)
		}
		if diff := cmp.Diff(e, e2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("decode → encode → decode changed the event (-first +second):\n%s", diff)
		}
		third, err := wire.MarshalEvent(e2)
		if err != nil || !bytes.Equal(again, third) {
			t.Fatalf("encoding is not deterministic:\n%x\n%x", again, third)
		}
	})
}

// FuzzParseNames parses arbitrary resource names. It must never panic; an
// accepted name must be canonical (formatting its ids gives it back); a
// refused one must be INVALID_ARGUMENT NAME_INVALID with a message of bounded
// size, whatever the size of the name.
func FuzzParseNames(f *testing.F) {
	n, p := uuid.NewString(), uuid.NewString()
	for _, s := range []string{"", "negotiations/" + n, wire.PointName(n, p), wire.AmendmentName(n, p),
		"negotiations/" + strings.ToUpper(n), "negotiations//points/", "negotiations/" + n + "/points/" + p + "/",
		"negotiations/{" + n + "}", "negotiations/urn:uuid:" + n, "negotiations/" + n + "\x00"} {
		f.Add(s)
	}
	refused := func(t *testing.T, what string, err error) {
		t.Helper()
		if workflow.ErrorCode(err) != workflow.EINVALID || workflow.ErrorReason(err) != "NAME_INVALID" {
			t.Fatalf("%s: refusal %v, want INVALID_ARGUMENT NAME_INVALID", what, err)
		}
		if len(workflow.ErrorMessage(err)) > 600 {
			t.Fatalf("%s: the message echoes %d bytes of input", what, len(workflow.ErrorMessage(err)))
		}
	}
	f.Fuzz(func(t *testing.T, name string) {
		if id, err := wire.ParseNegotiationName("name", name); err != nil {
			refused(t, "negotiation", err)
		} else if wire.NegotiationName(id) != name {
			t.Fatalf("accepted %q, which is not the canonical %q", name, wire.NegotiationName(id))
		}
		if nid, pid, err := wire.ParsePointName("name", name); err != nil {
			refused(t, "point", err)
		} else if wire.PointName(nid, pid) != name {
			t.Fatalf("accepted %q, which is not the canonical %q", name, wire.PointName(nid, pid))
		}
		if nid, aid, err := wire.ParseAmendmentName("name", name); err != nil {
			refused(t, "amendment", err)
		} else if wire.AmendmentName(nid, aid) != name {
			t.Fatalf("accepted %q, which is not the canonical %q", name, wire.AmendmentName(nid, aid))
		}
	})
}
