package main_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
	"github.com/parley-negotiation/parley/server/workflow"
)

// limitsReason returns the ErrorInfo reason of a status error, or "".
func limitsReason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// limitsWant fails the test unless err has the code and reason.
func limitsWant(t *testing.T, what string, err error, code codes.Code, reason string) {
	t.Helper()
	if status.Code(err) != code || limitsReason(err) != reason {
		t.Fatalf("%s: got %v (reason %q), want %v %s", what, err, limitsReason(err), code, reason)
	}
}

// limitsParticipants returns n participants: n-1 delegations and a mediator.
func limitsParticipants(n int) []*parleyv1.Participant {
	ps := []*parleyv1.Participant{{Id: "mediator", Role: parleyv1.Role_ROLE_MEDIATOR}}
	for i := 1; i < n; i++ {
		ps = append(ps, &parleyv1.Participant{Id: fmt.Sprintf("d%d", i), Role: parleyv1.Role_ROLE_DELEGATION})
	}
	return ps
}

func limitsCreate(points []string, participants int) *parleyv1.CreateNegotiationRequest {
	return &parleyv1.CreateNegotiationRequest{Title: "Limits", Participants: limitsParticipants(participants),
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}, Points: points}
}

func limitsNumbered(points int) string {
	var b strings.Builder
	for i := 1; i <= points; i++ {
		fmt.Fprintf(&b, "%d. Provision %d.\n", i, i)
	}
	return b.String()
}

func limitsTexts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("Provision %d.", i+1)
	}
	return out
}

// Every limit of docs/limits.md, at the API: a request at the limit passes,
// one over it is refused with the documented code and reason, and a refused
// request changes nothing.
func TestLimits(t *testing.T) {
	s := servertest.Start(t, "--rate-limit", "0")
	ctx := context.Background()
	admin := servertest.As(ctx, s.AdminToken)
	api := parleyv1.NewNegotiationServiceClient(s.Conn())
	n := s.CreateDemo(ctx)
	ukraine := servertest.As(ctx, n.Tokens["ukraine"])
	doc, err := api.GetDocument(ukraine, &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	first := doc.GetPoints()[0]

	negotiations := func() int {
		t.Helper()
		count, token := 0, ""
		for {
			page, err := api.ListNegotiations(admin, &parleyv1.ListNegotiationsRequest{PageSize: 500, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			count += len(page.GetNegotiations())
			if token = page.GetNextPageToken(); token == "" {
				return count
			}
		}
	}
	lastSequence := func(name string) int64 {
		t.Helper()
		got, err := api.GetNegotiation(admin, &parleyv1.GetNegotiationRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return got.GetNegotiation().GetLastSequence()
	}

	t.Run("Create", func(t *testing.T) {
		tooManyPoints := limitsCreate(limitsTexts(workflow.MaxPoints+1), 2)
		tooManyNumbered := limitsCreate(nil, 2)
		tooManyNumbered.NumberedText = limitsNumbered(workflow.MaxPoints + 1)
		longNumbered := limitsCreate(nil, 2)
		longNumbered.NumberedText = "1. " + strings.Repeat("a", workflow.MaxNumberedTextBytes)
		hugeMessage := limitsCreate(nil, 2)
		hugeMessage.NumberedText = "1. " + strings.Repeat("a", 9<<20)
		longTitle := limitsCreate([]string{"One."}, 2)
		longTitle.Title = strings.Repeat("t", workflow.MaxTitleBytes+1)
		longName := limitsCreate([]string{"One."}, 2)
		longName.Participants[1].DisplayName = strings.Repeat("n", workflow.MaxDisplayNameBytes+1)
		longID := limitsCreate([]string{"One."}, 2)
		longID.Participants[1].Id = "d" + strings.Repeat("x", workflow.MaxParticipantID)
		longPoint := limitsCreate([]string{strings.Repeat("p", workflow.MaxPointTextBytes+1)}, 2)
		longRequestID := limitsCreate([]string{"One."}, 2)
		longRequestID.RequestId = strings.Repeat("r", 129)
		tests := []struct {
			name   string
			req    *parleyv1.CreateNegotiationRequest
			code   codes.Code
			reason string
		}{
			{"TooManyParticipants", limitsCreate([]string{"One."}, workflow.MaxParticipants+1), codes.InvalidArgument, "PARTICIPANTS_INVALID"},
			{"TooManyPoints", tooManyPoints, codes.InvalidArgument, "TOO_MANY_POINTS"},
			{"TooManyNumberedPoints", tooManyNumbered, codes.InvalidArgument, "TOO_MANY_POINTS"},
			{"NumberedTextTooLong", longNumbered, codes.InvalidArgument, "TEXT_TOO_LONG"},
			{"MessageTooLarge", hugeMessage, codes.ResourceExhausted, ""},
			{"TitleTooLong", longTitle, codes.InvalidArgument, "TITLE_INVALID"},
			{"DisplayNameTooLong", longName, codes.InvalidArgument, "DISPLAY_NAME_INVALID"},
			{"ParticipantIDTooLong", longID, codes.InvalidArgument, "PARTICIPANT_ID_INVALID"},
			{"PointTextTooLong", longPoint, codes.InvalidArgument, "TEXT_TOO_LONG"},
			{"RequestIDTooLong", longRequestID, codes.InvalidArgument, "REQUEST_ID_INVALID"},
		}
		before := negotiations()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := api.CreateNegotiation(admin, tt.req)
				limitsWant(t, tt.name, err, tt.code, tt.reason)
			})
		}
		if got := negotiations(); got != before {
			t.Fatalf("refused creations made %d negotiations", got-before)
		}

		// At the limits, the same requests pass.
		atLimit := limitsCreate([]string{strings.Repeat("p", workflow.MaxPointTextBytes)}, workflow.MaxParticipants)
		atLimit.Title = strings.Repeat("t", workflow.MaxTitleBytes)
		atLimit.Participants[1].Id = "d" + strings.Repeat("x", workflow.MaxParticipantID-1)
		atLimit.Participants[1].DisplayName = strings.Repeat("n", workflow.MaxDisplayNameBytes)
		atLimit.RequestId = strings.Repeat("r", 128)
		if _, err := api.CreateNegotiation(admin, atLimit); err != nil {
			t.Fatalf("a negotiation at every limit: %v", err)
		}
	})

	t.Run("Amendment", func(t *testing.T) {
		propose := func(text, rationale string) error {
			_, err := api.ProposeAmendment(ukraine, &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name,
				Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: first.GetName(), BaseRevision: 1,
				Text: text, Rationale: rationale})
			return err
		}
		before := lastSequence(n.Name)
		limitsWant(t, "amendment text", propose(strings.Repeat("a", workflow.MaxPointTextBytes+1), ""), codes.InvalidArgument, "TEXT_TOO_LONG")
		limitsWant(t, "rationale", propose("New text.", strings.Repeat("r", workflow.MaxRationaleBytes+1)), codes.InvalidArgument, "RATIONALE_TOO_LONG")
		if got := lastSequence(n.Name); got != before {
			t.Fatalf("refused proposals added %d events", got-before)
		}
		if err := propose(strings.Repeat("a", workflow.MaxPointTextBytes), strings.Repeat("r", workflow.MaxRationaleBytes)); err != nil {
			t.Fatalf("an amendment at the limits: %v", err)
		}
		amendments, err := api.ListAmendments(ukraine, &parleyv1.ListAmendmentsRequest{Negotiation: n.Name})
		if err != nil {
			t.Fatal(err)
		}
		before = lastSequence(n.Name)
		_, err = api.CastVote(ukraine, &parleyv1.CastVoteRequest{Amendment: amendments.GetAmendments()[0].GetName(),
			Choice: parleyv1.VoteChoice_VOTE_CHOICE_REJECT, Reason: strings.Repeat("x", workflow.MaxReasonBytes+1)})
		limitsWant(t, "vote reason", err, codes.InvalidArgument, "REASON_TOO_LONG")
		if got := lastSequence(n.Name); got != before {
			t.Fatalf("a refused vote added %d events", got-before)
		}
	})

	t.Run("PackageDeal", func(t *testing.T) {
		doc, err := api.GetDocument(ukraine, &parleyv1.GetDocumentRequest{Negotiation: n.Name})
		if err != nil {
			t.Fatal(err)
		}
		// At the limit: a part for every point of the plan and INSERTs after
		// the first points, each text as long as a point's may be.
		var parts []*parleyv1.AmendmentPart
		for i := 0; len(parts) < workflow.MaxPackageParts; i++ {
			p := doc.GetPoints()[i%len(doc.GetPoints())]
			part := &parleyv1.AmendmentPart{Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p.GetName(), BaseRevision: p.GetRevision(),
				Text: strings.Repeat(string(rune('a'+i%26)), workflow.MaxPointTextBytes)}
			if i >= len(doc.GetPoints()) {
				part.Kind, part.BaseRevision = parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, 0
			}
			parts = append(parts, part)
		}
		propose := func(parts []*parleyv1.AmendmentPart) error {
			_, err := api.ProposeAmendment(ukraine, &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name, Parts: parts})
			return err
		}
		before := lastSequence(n.Name)
		over := append(slices.Clone(parts), &parleyv1.AmendmentPart{Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Text: "One more."})
		limitsWant(t, "parts of a package", propose(over), codes.InvalidArgument, "PACKAGE_TOO_LARGE")
		limitsWant(t, "too few parts of a package", propose(parts[:1]), codes.InvalidArgument, "PACKAGE_TOO_SMALL")
		if got := lastSequence(n.Name); got != before {
			t.Fatalf("refused packages added %d events", got-before)
		}
		if err := propose(parts); err != nil {
			t.Fatalf("a package at the limits: %v", err)
		}
	})

	t.Run("DocumentFull", func(t *testing.T) {
		full := s.Create(ctx, limitsCreate(limitsTexts(workflow.MaxPoints), 2))
		d1 := servertest.As(ctx, full.Tokens["d1"])
		before := lastSequence(full.Name)
		_, err := api.ProposeAmendment(d1, &parleyv1.ProposeAmendmentRequest{Negotiation: full.Name,
			Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Text: "One point too many."})
		limitsWant(t, "INSERT into a full document", err, codes.ResourceExhausted, "TOO_MANY_POINTS")
		if got := lastSequence(full.Name); got != before {
			t.Fatalf("a refused INSERT added %d events", got-before)
		}

		// Page sizes are clamped to their maximum, not refused.
		events, err := api.ListEvents(d1, &parleyv1.ListEventsRequest{Negotiation: full.Name, PageSize: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(events.GetEvents()) != 1000 || events.GetNextPageToken() == "" {
			t.Fatalf("ListEvents page_size 5000: %d events, want the maximum 1000 and a next page", len(events.GetEvents()))
		}
		document, err := api.GetDocument(d1, &parleyv1.GetDocumentRequest{Negotiation: full.Name, PageSize: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		if len(document.GetPoints()) != workflow.MaxPoints {
			t.Fatalf("GetDocument page_size 2^30: %d points, want all %d", len(document.GetPoints()), workflow.MaxPoints)
		}
		_, err = api.ListEvents(d1, &parleyv1.ListEventsRequest{Negotiation: full.Name, PageSize: -1})
		limitsWant(t, "negative page_size", err, codes.InvalidArgument, "PAGE_SIZE_INVALID")
	})

	t.Run("PageSizes", func(t *testing.T) {
		// 1,001 amendments and 501 negotiations, written by concurrent
		// callers so that they share commits.
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < 1001; i += 8 {
					_, err := api.ProposeAmendment(servertest.As(ctx, n.Tokens[demo.Delegations[i%4]]), &parleyv1.ProposeAmendmentRequest{
						Negotiation: n.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Text: fmt.Sprintf("Insert %d.", i)})
					if err != nil {
						errs <- err
						return
					}
				}
				for i := w; i < 501; i += 8 {
					if _, err := api.CreateNegotiation(admin, limitsCreate([]string{"One."}, 2)); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		amendments, err := api.ListAmendments(ukraine, &parleyv1.ListAmendmentsRequest{Negotiation: n.Name, PageSize: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(amendments.GetAmendments()) != 1000 || amendments.GetNextPageToken() == "" {
			t.Fatalf("ListAmendments page_size 5000: %d, want the maximum 1000 and a next page", len(amendments.GetAmendments()))
		}
		list, err := api.ListNegotiations(admin, &parleyv1.ListNegotiationsRequest{PageSize: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetNegotiations()) != 500 || list.GetNextPageToken() == "" {
			t.Fatalf("ListNegotiations page_size 5000: %d, want the maximum 500 and a next page", len(list.GetNegotiations()))
		}
	})
}

// The per-token rate limit: a token over it is refused with
// RESOURCE_EXHAUSTED RATE_LIMITED and the refused call changes nothing;
// other tokens and health checks are unaffected; a stream counts once.
func TestLimits_RateLimit(t *testing.T) {
	// Bursts of 10 and, in practice, no refill during the test.
	s := servertest.Start(t, "--rate-limit", "0.001", "--rate-burst", "10")
	ctx := context.Background()
	n := s.CreateDemo(ctx) // 6 of the administrator's 10 calls
	api := parleyv1.NewNegotiationServiceClient(s.Conn())
	ukraine := servertest.As(ctx, n.Tokens["ukraine"])

	// One watch: one call, however many events it carries.
	watchCtx, cancel := context.WithCancel(ukraine)
	watch, err := api.WatchEvents(watchCtx, &parleyv1.WatchEventsRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 29 {
		if _, err := watch.Recv(); err != nil {
			t.Fatalf("watch event %d: %v", i+1, err)
		}
	}
	cancel()
	for _, err := watch.Recv(); err == nil; _, err = watch.Recv() {
	}
	for i := range 9 {
		if _, err := api.GetCaller(ukraine, &parleyv1.GetCallerRequest{}); err != nil {
			t.Fatalf("call %d of 10: %v", i+2, err)
		}
	}
	_, err = api.GetCaller(ukraine, &parleyv1.GetCallerRequest{})
	limitsWant(t, "the 11th call", err, codes.ResourceExhausted, "RATE_LIMITED")
	if !strings.Contains(status.Convert(err).Message(), "retry in") {
		t.Fatalf("the refusal does not say when to retry: %q", status.Convert(err).Message())
	}
	_, err = api.ProposeAmendment(ukraine, &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name,
		Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Text: "Over the limit."})
	limitsWant(t, "a proposal over the limit", err, codes.ResourceExhausted, "RATE_LIMITED")
	stream, err := api.WatchEvents(ukraine, &parleyv1.WatchEventsRequest{Negotiation: n.Name})
	if err == nil {
		_, err = stream.Recv()
	}
	limitsWant(t, "a watch over the limit", err, codes.ResourceExhausted, "RATE_LIMITED")

	// Other tokens have their own budget, and health checks need none.
	if _, err := api.GetCaller(servertest.As(ctx, n.Tokens["russia"]), &parleyv1.GetCallerRequest{}); err != nil {
		t.Fatalf("another delegation: %v", err)
	}
	health := s.Health()
	for range 50 {
		if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatalf("health check: %v", err)
		}
	}
	got, err := api.GetNegotiation(servertest.As(ctx, s.AdminToken), &parleyv1.GetNegotiationRequest{Name: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	if seq := got.GetNegotiation().GetLastSequence(); seq != 29+5 { // creation, then five tokens issued
		t.Fatalf("the log has %d events, want 34: a refused call changed something", seq)
	}
}

// With --rate-limit 0 nothing is limited.
func TestLimits_RateLimitOff(t *testing.T) {
	s := servertest.Start(t, "--rate-limit", "0", "--rate-burst", "1")
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	api := parleyv1.NewNegotiationServiceClient(s.Conn())
	ukraine := servertest.As(ctx, n.Tokens["ukraine"])
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 125 {
				if _, err := api.GetCaller(ukraine, &parleyv1.GetCallerRequest{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("1,000 calls with one token and no limit: %v", err)
	}
}
