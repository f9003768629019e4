package main_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// TestBadInputChanges is TestBadInput for the calls that change a negotiation
// and set deadlines: each bad request is refused with its exact code and
// reason, and no negotiation's log grows.
func TestBadInputChanges(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, "--rate-limit", "0")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc := parleyv1.NewNegotiationServiceClient(srv.Conn())
	admin := servertest.As(ctx, srv.AdminToken)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("setup: %s: %v", what, err)
		}
	}
	consensus := &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}
	delegation := func(id string) *parleyv1.Participant {
		return &parleyv1.Participant{Id: id, Role: parleyv1.Role_ROLE_DELEGATION}
	}
	chair := &parleyv1.Participant{Id: "chair", Role: parleyv1.Role_ROLE_MEDIATOR}

	// live: two delegations, a mediator who may not change it, votes open at
	// most an hour, an OPEN amendment; an observer was removed.
	live := srv.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: "Live", DecisionRule: consensus, Points: []string{"One."},
		Participants:      []*parleyv1.Participant{delegation("north"), delegation("south"), chair, {Id: "press", Role: parleyv1.Role_ROLE_OBSERVER}},
		MaxVotingDuration: durationpb.New(time.Hour)})
	liveAs := func(id string) context.Context { return servertest.As(ctx, live.Tokens[id]) }
	proposed, err := svc.ProposeAmendment(liveAs("north"), &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: live.Name,
		Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Text: "Two."})
	must("propose", err)
	open := proposed.GetAmendment()
	_, err = svc.RemoveParticipant(admin, &parleyv1.RemoveParticipantRequest{RequestId: rid(), Negotiation: live.Name, Participant: "press"})
	must("remove press", err)

	// paused: one delegation, suspended.
	paused := srv.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: "Paused", DecisionRule: consensus, Points: []string{"One."},
		Participants: []*parleyv1.Participant{delegation("solo"), chair}})
	_, err = svc.SuspendNegotiation(admin, &parleyv1.SuspendNegotiationRequest{RequestId: rid(), Negotiation: paused.Name})
	must("suspend", err)

	// done: concluded.
	done := srv.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: "Done", DecisionRule: consensus, Points: []string{"One."},
		Participants: []*parleyv1.Participant{delegation("solo"), chair}})
	doneAs := servertest.As(ctx, done.Tokens["solo"])
	doc, err := svc.GetDocument(doneAs, &parleyv1.GetDocumentRequest{Negotiation: done.Name})
	must("document", err)
	p := doc.GetPoints()[0]
	_, err = svc.SignOffPoint(doneAs, &parleyv1.SignOffPointRequest{RequestId: rid(), Point: p.GetName(), Revision: 1, TextSha256: p.GetTextSha256()})
	must("sign off", err)
	accepted, err := svc.AcceptDocument(doneAs, &parleyv1.AcceptDocumentRequest{RequestId: rid(), Negotiation: done.Name, DocumentSha256: doc.GetDocumentSha256()})
	must("accept", err)
	if accepted.GetNegotiation().GetState() != parleyv1.NegotiationState_NEGOTIATION_STATE_CONCLUDED {
		t.Fatal("setup: done did not conclude")
	}

	at := func(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(time.Now().Add(d)) }
	insertBy := func(deadline *timestamppb.Timestamp) func(context.Context) error {
		return func(context.Context) error {
			_, err := svc.ProposeAmendment(liveAs("south"), &parleyv1.ProposeAmendmentRequest{RequestId: rid(), Negotiation: live.Name,
				Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Text: "Three.", VotingDeadline: deadline})
			return err
		}
	}
	setDeadline := func(deadline *timestamppb.Timestamp) func(context.Context) error {
		return func(context.Context) error {
			_, err := svc.SetVotingDeadline(liveAs("chair"), &parleyv1.SetVotingDeadlineRequest{RequestId: rid(), Amendment: open.GetName(), VotingDeadline: deadline})
			return err
		}
	}
	remove := func(c context.Context, negotiation, who string) func(context.Context) error {
		return func(context.Context) error {
			_, err := svc.RemoveParticipant(c, &parleyv1.RemoveParticipantRequest{RequestId: rid(), Negotiation: negotiation, Participant: who})
			return err
		}
	}
	cases := []struct {
		name   string
		code   codes.Code
		reason string
		call   func(context.Context) error
	}{
		{"deadline in the past", codes.InvalidArgument, "DEADLINE_IN_PAST", insertBy(at(-time.Minute))},
		{"deadline beyond the limit", codes.InvalidArgument, "DEADLINE_TOO_FAR", insertBy(at(2 * time.Hour))},
		{"deadline not a timestamp", codes.InvalidArgument, "DEADLINE_INVALID", insertBy(&timestamppb.Timestamp{Seconds: -1 << 62})},
		{"deadline moved into the past", codes.InvalidArgument, "DEADLINE_IN_PAST", setDeadline(at(-time.Second))},
		{"deadline moved beyond the limit", codes.InvalidArgument, "DEADLINE_TOO_FAR", setDeadline(at(24 * time.Hour))},
		{"deadline missing", codes.InvalidArgument, "DEADLINE_REQUIRED", setDeadline(nil)},
		{"deadline set by a delegation", codes.PermissionDenied, "ROLE_NOT_ALLOWED", func(context.Context) error {
			_, err := svc.SetVotingDeadline(liveAs("north"), &parleyv1.SetVotingDeadlineRequest{RequestId: rid(), Amendment: open.GetName(), VotingDeadline: at(time.Minute)})
			return err
		}},
		{"negative default voting duration", codes.InvalidArgument, "VOTING_DURATION_INVALID", func(context.Context) error {
			_, err := svc.CreateNegotiation(admin, &parleyv1.CreateNegotiationRequest{RequestId: rid(), Title: "T", DecisionRule: consensus, Points: []string{"One."},
				Participants: []*parleyv1.Participant{delegation("a"), chair}, DefaultVotingDuration: durationpb.New(-time.Hour)})
			return err
		}},
		{"rule no set of delegations can meet", codes.InvalidArgument, "QUORUM_INVALID", func(context.Context) error {
			_, err := svc.SetDecisionRule(admin, &parleyv1.SetDecisionRuleRequest{RequestId: rid(), Negotiation: live.Name,
				DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_MAJORITY, Quorum: 3}})
			return err
		}},
		{"remove the last mediator", codes.FailedPrecondition, "LAST_MEDIATOR", remove(admin, live.Name, "chair")},
		{"remove the last delegation", codes.FailedPrecondition, "LAST_DELEGATION", remove(admin, paused.Name, "solo")},
		{"remove a participant twice", codes.NotFound, "PARTICIPANT_NOT_FOUND", remove(admin, live.Name, "press")},
		{"add a participant again", codes.AlreadyExists, "PARTICIPANT_EXISTS", func(context.Context) error {
			_, err := svc.AddParticipant(admin, &parleyv1.AddParticipantRequest{RequestId: rid(), Negotiation: live.Name, Participant: delegation("north")})
			return err
		}},
		{"add nobody", codes.InvalidArgument, "PARTICIPANT_REQUIRED", func(context.Context) error {
			_, err := svc.AddParticipant(admin, &parleyv1.AddParticipantRequest{RequestId: rid(), Negotiation: live.Name})
			return err
		}},
		{"mediator changes where not allowed", codes.PermissionDenied, "MEDIATOR_CHANGES_NOT_ALLOWED", func(context.Context) error {
			_, err := svc.RenameNegotiation(liveAs("chair"), &parleyv1.RenameNegotiationRequest{RequestId: rid(), Negotiation: live.Name, Title: "Mine"})
			return err
		}},
		{"removed participant's token", codes.Unauthenticated, "TOKEN_INVALID", func(context.Context) error {
			_, err := svc.GetNegotiation(liveAs("press"), &parleyv1.GetNegotiationRequest{Name: live.Name})
			return err
		}},
		{"suspend a concluded negotiation", codes.FailedPrecondition, "NEGOTIATION_CONCLUDED", func(context.Context) error {
			_, err := svc.SuspendNegotiation(admin, &parleyv1.SuspendNegotiationRequest{RequestId: rid(), Negotiation: done.Name})
			return err
		}},
		{"abandon a concluded negotiation", codes.FailedPrecondition, "NEGOTIATION_CONCLUDED", func(context.Context) error {
			_, err := svc.AbandonNegotiation(admin, &parleyv1.AbandonNegotiationRequest{RequestId: rid(), Negotiation: done.Name, Reason: "Why not."})
			return err
		}},
		{"suspend twice", codes.FailedPrecondition, "NEGOTIATION_SUSPENDED", func(context.Context) error {
			_, err := svc.SuspendNegotiation(admin, &parleyv1.SuspendNegotiationRequest{RequestId: rid(), Negotiation: paused.Name})
			return err
		}},
		{"act while suspended", codes.FailedPrecondition, "NEGOTIATION_SUSPENDED", func(context.Context) error {
			_, err := svc.ProposeAmendment(servertest.As(ctx, paused.Tokens["solo"]), &parleyv1.ProposeAmendmentRequest{RequestId: rid(),
				Negotiation: paused.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Text: "Two."})
			return err
		}},
		{"resume what is not suspended", codes.FailedPrecondition, "NOT_SUSPENDED", func(context.Context) error {
			_, err := svc.ResumeNegotiation(admin, &parleyv1.ResumeNegotiationRequest{RequestId: rid(), Negotiation: live.Name})
			return err
		}},
		{"abandon without a reason", codes.InvalidArgument, "REASON_REQUIRED", func(context.Context) error {
			_, err := svc.AbandonNegotiation(admin, &parleyv1.AbandonNegotiationRequest{RequestId: rid(), Negotiation: live.Name})
			return err
		}},
	}

	negotiations := []string{live.Name, paused.Name, done.Name}
	logs := func() map[string]int64 {
		t.Helper()
		out := map[string]int64{}
		for _, name := range negotiations {
			r, err := svc.GetNegotiation(admin, &parleyv1.GetNegotiationRequest{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			out[name] = r.GetNegotiation().GetLastSequence()
		}
		return out
	}
	before := logs()
	for _, c := range cases {
		wantError(t, c.name, c.call(ctx), c.code, c.reason)
		for name, seq := range logs() {
			if seq != before[name] {
				t.Errorf("%s: %s went from sequence %d to %d", c.name, name, before[name], seq)
			}
		}
	}
}
