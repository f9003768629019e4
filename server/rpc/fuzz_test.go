package rpc

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// fuzzRefusal fails unless err is a *workflow.Error with one of the codes,
// a stable reason and a message.
func fuzzRefusal(t *testing.T, what string, err error, codes ...string) {
	t.Helper()
	var e *workflow.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: refusal %T %v is not a *workflow.Error", what, err, err)
	}
	ok := false
	for _, c := range codes {
		ok = ok || e.Code == c
	}
	if !ok || e.Reason == "" || e.Reason != strings.ToUpper(e.Reason) || e.Message == "" {
		t.Fatalf("%s: refusal %v, want one of the codes %v with an UPPER_SNAKE reason and a message", what, err, codes)
	}
}

// FuzzCreateNegotiationRequest builds a CreateNegotiationRequest from fuzzed
// parts and runs what the server runs on it before storing anything: the
// request id check, the mapping to the rules' command (numbered text
// included) and the rules. Nothing may panic; every refusal must be
// INVALID_ARGUMENT; an accepted negotiation must hold only valid values.
func FuzzCreateNegotiationRequest(f *testing.F) {
	f.Add("req-1", demo.Title, "ukraine,russia,united-states,europe,mediator", []byte{1, 1, 1, 1, 2}, int32(1), int32(0), int32(0), "", demo.PlanText)
	f.Add("", "A title", "a,b,c", []byte{1 | 3<<3, 1 | 5<<3, 3}, int32(4), int32(2), int32(6000), "One.\x1eTwo.\x1e— three", "")
	f.Add("x", " ", "admin", []byte{1}, int32(9), int32(-1), int32(0), "", "1. One\n3. Three")
	f.Add(strings.Repeat("r", 129), "Title\n", "A,a,a", []byte{0, 7, 255}, int32(2), int32(5), int32(1), "\x00", "2. Two")
	f.Fuzz(func(t *testing.T, requestID, title, ids string, roles []byte, method, quorum, threshold int32, points, numbered string) {
		if err := validateRequestID(requestID); err != nil {
			fuzzRefusal(t, "request id", err, workflow.EINVALID)
			return // the server stops here too, before anything is stored
		} else if len(requestID) > MaxRequestIDBytes || strings.ContainsFunc(requestID, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			t.Fatalf("request id %q accepted", requestID)
		}
		req := &parleyv1.CreateNegotiationRequest{RequestId: requestID, Title: title, NumberedText: numbered,
			DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod(method), Quorum: quorum, ThresholdBasisPoints: threshold}}
		if points != "" {
			req.Points = strings.Split(points, "\x1e")
		}
		for i, id := range strings.Split(ids, ",") {
			var b byte
			if i < len(roles) {
				b = roles[i]
			}
			// The low bits give the role (1-3 are valid), the others the
			// weight, from -4 on.
			req.Participants = append(req.Participants, &parleyv1.Participant{Id: id, DisplayName: strings.ToUpper(id),
				Role: parleyv1.Role(b & 7), Weight: int32(b>>3) - 4})
		}
		cmd, err := createCommand(req)
		if err != nil {
			fuzzRefusal(t, "createCommand", err, workflow.EINVALID)
			return
		}
		events, err := workflow.Decide(nil, workflow.Meta{Actor: workflow.AdminActor, RequestID: requestID, At: time.Unix(1763625600, 0).UTC()}, cmd)
		if err != nil {
			fuzzRefusal(t, "Decide", err, workflow.EINVALID)
			return
		}
		n, err := workflow.Fold(events)
		if err != nil {
			t.Fatalf("the events of an accepted creation do not fold: %v", err)
		}
		switch {
		case n.Title == "" || len(n.Title) > workflow.MaxTitleBytes || strings.TrimSpace(n.Title) != n.Title:
			t.Fatalf("accepted title %q", n.Title)
		case len(n.Participants) == 0 || len(n.Participants) > workflow.MaxParticipants || len(n.Delegations()) == 0:
			t.Fatalf("accepted %d participants, %d delegations", len(n.Participants), len(n.Delegations()))
		case len(n.Order) == 0 || len(n.Order) > workflow.MaxPoints || len(n.Order) != len(cmd.Points):
			t.Fatalf("accepted %d points from %d", len(n.Order), len(cmd.Points))
		case n.Rule.Quorum < 0 || int(n.Rule.Quorum) > len(n.Delegations()):
			t.Fatalf("accepted quorum %d with %d delegations", n.Rule.Quorum, len(n.Delegations()))
		}
		for _, p := range n.Participants {
			if p.ID == workflow.AdminActor || p.ID == "" || len(p.ID) > workflow.MaxParticipantID || p.Role < workflow.RoleDelegation ||
				p.Role > workflow.RoleObserver || p.Weight < 0 || (p.Role == workflow.RoleDelegation) != (p.Weight > 0) {
				t.Fatalf("accepted participant %+v", p)
			}
		}
		for _, id := range n.Order {
			text := n.Points[id].Current().Text
			if workflow.ValidatePointText("point", text) != nil || workflow.NormalizeText(text) != text || !utf8.ValidString(text) {
				t.Fatalf("accepted point text %q", text)
			}
		}
		// The stored form folds back into the same document.
		var leaves []workflow.Event
		for _, e := range events {
			leaf, err := wire.MarshalEvent(e)
			if err != nil {
				t.Fatal(err)
			}
			back, _, err := wire.UnmarshalEvent(leaf)
			if err != nil {
				t.Fatalf("a stored event does not decode: %v", err)
			}
			leaves = append(leaves, back)
		}
		if again, err := workflow.Fold(leaves); err != nil || again.DocumentHash() != n.DocumentHash() {
			t.Fatalf("the stored log folds to another document: %v", err)
		}
	})
}

// fuzzNegotiation is the demo negotiation after a few steps, as its log:
// point 2 replaced, point 3 deleted, a vote open on point 1.
func fuzzNegotiation(tb testing.TB) ([]workflow.Event, *workflow.Negotiation) {
	tb.Helper()
	cmd, err := createCommand(demo.CreateRequest())
	if err != nil {
		tb.Fatal(err)
	}
	var log []workflow.Event
	var n *workflow.Negotiation
	do := func(actor string, c workflow.Command) {
		tb.Helper()
		events, err := workflow.Decide(n, workflow.Meta{Actor: actor, At: time.Unix(1763625600, 0).UTC()}, c)
		if err != nil {
			tb.Fatalf("%T: %v", c, err)
		}
		log = append(log, events...)
		if n, err = workflow.Fold(log); err != nil {
			tb.Fatal(err)
		}
	}
	do(workflow.AdminActor, cmd)
	p := func(i int) string { return cmd.Points[i].ID }
	replace, remove, open := uuid.NewString(), uuid.NewString(), uuid.NewString()
	do("ukraine", workflow.ProposeAmendment{AmendmentID: replace, Kind: workflow.KindReplace, PointID: p(1), BaseRevision: 1, Text: "Point two, amended."})
	do("russia", workflow.ProposeAmendment{AmendmentID: remove, Kind: workflow.KindDelete, PointID: p(2), BaseRevision: 1})
	do("europe", workflow.ProposeAmendment{AmendmentID: open, Kind: workflow.KindReplace, PointID: p(0), BaseRevision: 1, Text: "Point one, amended."})
	for _, a := range []string{replace, remove} {
		for _, d := range demo.Delegations {
			do(d, workflow.CastVote{AmendmentID: a, Choice: workflow.ChoiceApprove})
		}
		do(demo.Mediator, workflow.ApplyAmendment{AmendmentID: a})
	}
	return log, n
}

// FuzzProposeAmendmentRequest builds a ProposeAmendmentRequest from fuzzed
// parts, maps it as the server does and decides it against a negotiation with
// replaced, deleted and amended points, as any participant, the administrator
// or a stranger. Nothing may panic; a refusal must be one of the codes a
// proposal can meet, never INTERNAL; an accepted proposal must fold, with a
// valid, normalized text by its proposer.
func FuzzProposeAmendmentRequest(f *testing.F) {
	log, base := fuzzNegotiation(f)
	f.Add(uint8(0), int32(1), "", uint8(0), int64(1), "A new text.", "Because.")
	f.Add(uint8(1), int32(2), "", uint8(255), int64(0), "An insert at the start.", "")
	f.Add(uint8(2), int32(3), "", uint8(1), int64(2), "", "")
	f.Add(uint8(3), int32(3), "", uint8(2), int64(1), "", "")
	f.Add(uint8(4), int32(1), "negotiations/x/points/y", uint8(0), int64(1), "Text.", "")
	f.Add(uint8(5), int32(0), "", uint8(0), int64(-1), "\r\n  \r\n", strings.Repeat("r", 5000))
	f.Add(uint8(6), int32(7), "", uint8(3), int64(1), "Text\x00with NUL", "")
	f.Fuzz(func(t *testing.T, actor uint8, kind int32, point string, pointIndex uint8, baseRevision int64, text, rationale string) {
		req := &parleyv1.ProposeAmendmentRequest{Negotiation: wire.NegotiationName(base.ID), Kind: parleyv1.AmendmentKind(kind),
			Point: point, BaseRevision: baseRevision, Text: text, Rationale: rationale}
		if point == "" && pointIndex != 255 {
			// A point of the negotiation, deleted ones included.
			ids := append([]string(nil), base.Order...)
			for id, p := range base.Points {
				if p.Deleted {
					ids = append(ids, id)
				}
			}
			req.Point = wire.PointName(base.ID, ids[int(pointIndex)%len(ids)])
		}
		nid, cmd, err := proposeCommand(req)
		if err != nil {
			fuzzRefusal(t, "proposeCommand", err, workflow.EINVALID)
			return
		}
		if nid != base.ID {
			t.Fatalf("mapped to negotiation %s", nid)
		}
		actors := append(append([]string{}, demo.Delegations...), demo.Mediator, workflow.AdminActor, "stranger")
		who := actors[int(actor)%len(actors)]
		n, err := workflow.Fold(log) // a fresh state: Apply changes it
		if err != nil {
			t.Fatal(err)
		}
		events, err := workflow.Decide(n, workflow.Meta{Actor: who, At: time.Unix(1763625700, 0).UTC()}, cmd)
		if err != nil {
			fuzzRefusal(t, "Decide", err, workflow.EINVALID, workflow.ENOTFOUND, workflow.EFAILEDPRECONDITION,
				workflow.EABORTED, workflow.EPERMISSION, workflow.ERESOURCEEXHAUSTED)
			return
		}
		if len(events) != 1 {
			t.Fatalf("a proposal made %d events", len(events))
		}
		for _, e := range events {
			if err := n.Apply(e); err != nil {
				t.Fatalf("an accepted proposal does not fold: %v", err)
			}
		}
		a := n.Amendments[cmd.AmendmentID]
		switch {
		case a == nil || a.Proposer != who || a.State != workflow.AmendmentStateOpen:
			t.Fatalf("accepted amendment %+v by %s", a, who)
		case a.Kind == workflow.KindDelete && a.Text != "":
			t.Fatalf("a DELETE carries text %q", a.Text)
		case a.Kind != workflow.KindDelete && (workflow.ValidatePointText("text", a.Text) != nil || workflow.NormalizeText(a.Text) != a.Text):
			t.Fatalf("accepted text %q", a.Text)
		case len(a.Rationale) > workflow.MaxRationaleBytes || !utf8.ValidString(a.Rationale):
			t.Fatalf("accepted rationale %q", a.Rationale)
		}
		if p, ok := base.Points[a.PointID]; a.PointID != "" && (!ok || p.Deleted) {
			t.Fatalf("accepted an amendment of point %s, which is not in the document", a.PointID)
		}
	})
}

// FuzzPageToken decodes arbitrary page tokens. It must never panic; a token
// is accepted only for the list and scope it was made for and never with a
// negative position; any other is INVALID_ARGUMENT PAGE_TOKEN_INVALID. A
// token the server makes decodes to what it encoded.
func FuzzPageToken(f *testing.F) {
	scope := scopeOf("n", "p", "OPEN")
	f.Add(encodePageToken(pageToken{Kind: "amendments", Scope: scope, After: 42}), "amendments", scope, int64(42), "")
	f.Add(encodePageToken(pageToken{Kind: "document", Scope: scope, After: 1000, Version: strings.Repeat("a", 64)}), "document", scope, int64(1000), "")
	f.Add(encodePageToken(pageToken{Kind: "negotiations", Scope: scope, AfterID: uuid.NewString()}), "negotiations", scope, int64(0), uuid.NewString())
	f.Add("e30", "events", scope, int64(-1), "")
	f.Add("!!!", "", "", int64(0), "x")
	f.Fuzz(func(t *testing.T, token, kind, scope string, after int64, afterID string) {
		got, err := decodePageToken(token, kind, scope)
		if err != nil {
			fuzzRefusal(t, "decodePageToken", err, workflow.EINVALID)
			if workflow.ErrorReason(err) != "PAGE_TOKEN_INVALID" {
				t.Fatalf("reason %s", workflow.ErrorReason(err))
			}
		} else if token != "" && (got.Kind != kind || got.Scope != scope || got.After < 0) {
			t.Fatalf("accepted %+v for kind %q scope %q", got, kind, scope)
		}
		made := pageToken{Kind: kind, Scope: scope, After: after, AfterID: afterID}
		if !utf8.ValidString(kind) || !utf8.ValidString(scope) || !utf8.ValidString(afterID) || after < 0 {
			return // the server makes tokens of valid strings and positions only
		}
		back, err := decodePageToken(encodePageToken(made), kind, scope)
		if err != nil || back != made {
			t.Fatalf("a token made by the server decodes to %+v, %v; want %+v", back, err, made)
		}
	})
}
