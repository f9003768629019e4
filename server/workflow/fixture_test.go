package workflow_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parley-negotiation/parley/server/workflow"
)

// The cast of the fixture: the four delegations of the reference case, a
// mediator, an observer, somebody who is not a participant, and the admin.
const (
	ukraine      = "ukraine"
	russia       = "russia"
	unitedStates = "united-states"
	europe       = "europe"
	mediator     = "mediator"
	observer     = "observer"
	stranger     = "stranger"
	admin        = workflow.AdminActor
)

var delegations = []string{ukraine, russia, unitedStates, europe}

const negotiationID = "neg-1"

var epoch = time.Date(2025, 11, 20, 9, 0, 0, 0, time.UTC)

// The fixture's initial points. Point 2 has sub-items so that multi-line texts
// go through every rule.
var (
	text1 = "The sovereignty of Ukraine will be confirmed."
	text2 = "A humanitarian committee will be established:\n— prisoners will be exchanged;\n— civilians will be returned."
	text3 = "This agreement will be legally binding."
)

// validCreate returns a command that creates the fixture's negotiation.
func validCreate() workflow.CreateNegotiation {
	ps := make([]workflow.Participant, 0, len(delegations)+2)
	for _, d := range delegations {
		ps = append(ps, workflow.Participant{ID: d, Role: workflow.RoleDelegation})
	}
	ps = append(ps,
		workflow.Participant{ID: mediator, DisplayName: "Mediator", Role: workflow.RoleMediator},
		workflow.Participant{ID: observer, DisplayName: "Observer", Role: workflow.RoleObserver})
	return workflow.CreateNegotiation{
		NegotiationID: negotiationID,
		Title:         "Test plan",
		Participants:  ps,
		Rule:          workflow.DecisionRule{Method: workflow.MethodConsensus},
		Points: []workflow.NewPoint{
			{ID: "p1", Text: text1},
			{ID: "p2", Text: text2},
			{ID: "p3", Text: text3},
		},
	}
}

// option changes the command that creates a fixture's negotiation.
type option func(*workflow.CreateNegotiation)

func withRule(r workflow.DecisionRule) option {
	return func(c *workflow.CreateNegotiation) { c.Rule = r }
}

func withWeights(w map[string]int32) option {
	return func(c *workflow.CreateNegotiation) {
		for i := range c.Participants {
			c.Participants[i].Weight = w[c.Participants[i].ID]
		}
	}
}

func withTexts(texts ...string) option {
	return func(c *workflow.CreateNegotiation) {
		c.Points = c.Points[:0]
		for i, t := range texts {
			c.Points = append(c.Points, workflow.NewPoint{ID: fmt.Sprintf("p%d", i+1), Text: t})
		}
	}
}

// withManyPoints gives the negotiation count points.
func withManyPoints(count int) option {
	return func(c *workflow.CreateNegotiation) {
		c.Points = make([]workflow.NewPoint, count)
		for i := range c.Points {
			c.Points[i] = workflow.NewPoint{ID: fmt.Sprintf("p%d", i+1), Text: fmt.Sprintf("Point %d.", i+1)}
		}
	}
}

// fixture is a negotiation driven only through Decide and Apply, with the log
// that built it. When the test ends it checks that folding the log gives the
// same state, so every test also checks the fold.
type fixture struct {
	t        testing.TB
	n        *workflow.Negotiation
	log      []workflow.Event
	commands int // commands decided so far; makes request ids and times distinct
	ids      int
	noFold   bool // skip the fold checks (huge fixtures, where they cost seconds)
}

func newFixture(t testing.TB, opts ...option) *fixture {
	t.Helper()
	c := validCreate()
	for _, o := range opts {
		o(&c)
	}
	f := &fixture{t: t}
	events, err := workflow.Decide(nil, f.meta(admin), c)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	f.n = &workflow.Negotiation{}
	f.applyAll(events)
	t.Cleanup(func() {
		if !f.noFold && !t.Failed() {
			f.checkFold()
		}
	})
	return f
}

// meta makes a command's meta data. An actor "participant/member" is a named
// member of the participant acting.
func (f *fixture) meta(actor string) workflow.Meta {
	f.commands++
	actor, member, _ := strings.Cut(actor, "/")
	return workflow.Meta{
		Actor:     actor,
		Member:    member,
		RequestID: fmt.Sprintf("req-%d", f.commands),
		At:        epoch.Add(time.Duration(f.commands) * time.Minute),
	}
}

func (f *fixture) newID(prefix string) string {
	f.ids++
	return fmt.Sprintf("%s-%d", prefix, f.ids)
}

func (f *fixture) applyAll(events []workflow.Event) {
	f.t.Helper()
	for _, e := range events {
		if err := f.n.Apply(e); err != nil {
			f.t.Fatalf("apply %T: %v", e.Payload, err)
		}
		f.log = append(f.log, e)
	}
}

// do decides a command that must succeed and applies its events.
func (f *fixture) do(actor string, cmd workflow.Command) []workflow.Event {
	f.t.Helper()
	events, err := workflow.Decide(f.n, f.meta(actor), cmd)
	if err != nil {
		f.t.Fatalf("%s %T: %v", actor, cmd, err)
	}
	f.applyAll(events)
	return events
}

// refuse checks that a command is refused with code and reason, produces no
// event and leaves the state as folding the log gives it.
func (f *fixture) refuse(actor string, cmd workflow.Command, code, reason string) {
	f.t.Helper()
	events, err := workflow.Decide(f.n, f.meta(actor), cmd)
	checkRefused(f.t, events, err, code, reason)
	if !f.noFold {
		f.checkFold()
	}
}

// noop checks that a command restating what is already true produces neither
// an event nor an error.
func (f *fixture) noop(actor string, cmd workflow.Command) {
	f.t.Helper()
	events, err := workflow.Decide(f.n, f.meta(actor), cmd)
	if err != nil || len(events) != 0 {
		f.t.Fatalf("%s %T: want no event and no error, got %d events, error %v", actor, cmd, len(events), err)
	}
}

func checkRefused(t testing.TB, events []workflow.Event, err error, code, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s/%s, got success with %d events", code, reason, len(events))
	}
	if got := workflow.ErrorCode(err); got != code {
		t.Errorf("code = %q, want %q (%v)", got, code, err)
	}
	if got := workflow.ErrorReason(err); got != reason {
		t.Errorf("reason = %q, want %q (%v)", got, reason, err)
	}
	if events != nil {
		t.Errorf("a refused command returned %d events", len(events))
	}
}

func (f *fixture) checkFold() {
	f.t.Helper()
	folded, err := workflow.Fold(f.log)
	if err != nil {
		f.t.Fatalf("fold: %v", err)
	}
	if d := stateDiff(folded, f.n); d != "" {
		f.t.Fatalf("state differs from the fold of its log (-fold +state):\n%s", d)
	}
}

// stateDiff compares two states: their exported fields, and what the derived
// indexes answer.
func stateDiff(want, got *workflow.Negotiation) string {
	// cmp.Equal first: it is much cheaper than building a report, and the
	// property test compares states at every step.
	if cmp.Equal(want, got, stateOpts) {
		wd, gd := derivedView(want), derivedView(got)
		if cmp.Equal(wd, gd, cmpopts.EquateEmpty()) {
			return ""
		}
		return cmp.Diff(wd, gd, cmpopts.EquateEmpty())
	}
	return cmp.Diff(want, got, stateOpts)
}

var stateOpts = cmp.Options{cmpopts.IgnoreUnexported(workflow.Negotiation{}), cmpopts.EquateEmpty()}

type derived struct {
	DocumentHash string
	Pending      int
	Agreed       int
	Delegations  []string
	Numbers      map[string]int
	ByPoint      map[string][]string
	CommentsOf   map[string][]string
	PendingOf    map[string]int
}

func derivedView(n *workflow.Negotiation) derived {
	v := derived{
		DocumentHash: n.DocumentHash(),
		Pending:      n.PendingAmendments(),
		Agreed:       n.AgreedPoints(),
		Delegations:  slices.Clone(n.Delegations()),
		Numbers:      map[string]int{"no-such-point": n.PointNumber("no-such-point")},
		ByPoint:      map[string][]string{},
		CommentsOf:   map[string][]string{},
		PendingOf:    map[string]int{},
	}
	for id := range n.Points {
		v.Numbers[id] = n.PointNumber(id)
		v.ByPoint[id] = slices.Clone(n.AmendmentsOfPoint(id))
		v.CommentsOf[id] = slices.Clone(n.CommentsOf(id))
		v.PendingOf[id] = n.PendingAmendmentsOfPoint(id)
	}
	for id := range n.Amendments {
		v.CommentsOf[id] = slices.Clone(n.CommentsOf(id))
	}
	return v
}

func (f *fixture) amendment(id string) *workflow.Amendment {
	f.t.Helper()
	a, ok := f.n.Amendments[id]
	if !ok {
		f.t.Fatalf("no amendment %s", id)
	}
	return a
}

// propose files an amendment drafted against the point's current revision.
func (f *fixture) propose(actor string, kind workflow.AmendmentKind, pointID, text string) string {
	f.t.Helper()
	id := f.newID("am")
	var base int64
	if kind != workflow.KindInsert {
		base = f.n.Points[pointID].Current().Revision
	}
	f.do(actor, workflow.ProposeAmendment{AmendmentID: id, Kind: kind, PointID: pointID, BaseRevision: base, Text: text, Rationale: "because"})
	return id
}

// pass has every delegation approve an amendment, which closes its vote.
func (f *fixture) pass(id string) {
	f.t.Helper()
	for _, d := range f.n.Delegations() {
		f.do(d, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
	}
	if s := f.amendment(id).State; s != workflow.AmendmentStatePassed {
		f.t.Fatalf("amendment %s is %s after every delegation approved", id, s)
	}
}

// applyAmendment has the mediator apply a passed amendment.
func (f *fixture) applyAmendment(id string) []workflow.Event {
	f.t.Helper()
	return f.do(mediator, workflow.ApplyAmendment{AmendmentID: id, NewPointID: f.newID("new")})
}

// amend proposes, passes and applies an amendment in one go.
func (f *fixture) amend(kind workflow.AmendmentKind, pointID, text string) string {
	f.t.Helper()
	id := f.propose(ukraine, kind, pointID, text)
	f.pass(id)
	f.applyAmendment(id)
	return id
}

// signOffCmd is a correct sign-off of a point's current revision.
func (f *fixture) signOffCmd(pointID string) workflow.SignOffPoint {
	cur := f.n.Points[pointID].Current()
	return workflow.SignOffPoint{PointID: pointID, Revision: cur.Revision, TextHash: cur.TextHash}
}

func (f *fixture) signAll() {
	f.t.Helper()
	for _, pid := range slices.Clone(f.n.Order) {
		for _, d := range f.n.Delegations() {
			if s, ok := f.n.Points[pid].SignOffs[d]; ok && s.Revision == f.n.Points[pid].Current().Revision {
				continue
			}
			f.do(d, f.signOffCmd(pid))
		}
	}
}

func (f *fixture) accept(actor string) []workflow.Event {
	f.t.Helper()
	return f.do(actor, workflow.AcceptDocument{DocumentHash: f.n.DocumentHash()})
}

// conclude signs off every point and has every delegation accept.
func (f *fixture) conclude() {
	f.t.Helper()
	f.signAll()
	for _, d := range f.n.Delegations() {
		f.accept(d)
	}
	if f.n.State != workflow.NegotiationStateConcluded {
		f.t.Fatalf("negotiation is %s after every delegation accepted", f.n.State)
	}
}

// payloads returns the types of events' payloads, to compare with an expected
// list.
func payloads(events []workflow.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = fmt.Sprintf("%T", e.Payload)
	}
	return out
}
