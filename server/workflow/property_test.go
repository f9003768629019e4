package workflow_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/parley-negotiation/parley/server/workflow"
)

// TestRandomCommands decides random command sequences, each generated from the
// current state, and checks the invariants of the rules after every step. The
// commands are mostly plausible (the right role, existing ids, the current
// revision and hash) so that the negotiations go somewhere, and often wrong in
// one way so that the refusals are exercised too. A per-run "focus" biases the
// commands towards finishing the negotiation (closing votes, applying, signing
// off, accepting), so that a fair share of runs reach CONCLUDED and go on past
// it.
func TestRandomCommands(t *testing.T) {
	var runs, concluded, restarts, packages int
	reasons := map[string]int{}
	events := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		m := newModel(t)
		runs++
		focus := uniform(t, 11, "focus")
		m.budget = uniform(t, 6, "amendment budget")
		steps := 1 + uniform(t, 100, "steps")
		after := 0 // steps after conclusion: a few show the text frozen, more add nothing
		for range steps {
			if m.n.State == workflow.NegotiationStateConcluded {
				if after++; after > 10 {
					break
				}
			}
			actor, cmd := m.command(t, focus)
			if err := m.step(t, actor, cmd); err != nil {
				reasons[workflow.ErrorReason(err)]++
			}
		}
		if m.n.State == workflow.NegotiationStateConcluded {
			concluded++
		}
		restarts += m.restarts
		for _, e := range m.log {
			events[strings.TrimPrefix(fmt.Sprintf("%T", e.Payload), "workflow.")]++
			if p, ok := e.Payload.(workflow.AmendmentApplied); ok && p.Parts != nil {
				packages++
			}
		}
	})
	t.Logf("%d of %d runs concluded; %d restarts; %d package deals applied; events: %v; refusals: %v", concluded, runs, restarts, packages, events, reasons)
	// The generator is meant to conclude about half the runs; a tenth is far
	// below what chance allows and means the bias has stopped working.
	if runs >= 50 && concluded*10 < runs {
		t.Errorf("only %d of %d runs concluded", concluded, runs)
	}
	if runs >= 50 && packages == 0 {
		t.Errorf("no package deal applied in %d runs", runs)
	}
	if runs >= 50 && restarts < runs {
		t.Errorf("only %d restarts in %d runs: the rebuilt state is hardly used", restarts, runs)
	}
}

// model is one negotiation under random commands, with its log and the state
// folded from the log before the last step.
type model struct {
	n         *workflow.Negotiation
	log       []workflow.Event
	prev      *workflow.Negotiation
	steps     int
	restarts  int // times the state was replaced by the one rebuilt from the log
	ids       int
	frozen    string // the document hash at conclusion
	budget    int    // amendments the helpful commands may still propose
	texts     []string
	oldHashes []string // document hashes seen, for acceptances of an old text
}

var propertyTexts = []string{
	"Alpha.",
	"Beta.",
	"Gamma:\n— one;\n— two.",
	"Delta.",
}

func newModel(t *rapid.T) *model {
	m := &model{texts: propertyTexts}
	count := 1 + uniform(t, len(delegations), "delegations")
	method := workflow.MethodConsensus + workflow.DecisionMethod(uniform(t, 4, "method"))
	rule := workflow.DecisionRule{Method: method}
	if m.chance(t, 30, "has quorum") {
		rule.Quorum = int32(rapid.IntRange(1, count).Draw(t, "quorum"))
	}
	var ps []workflow.Participant
	for _, d := range delegations[:count] {
		p := workflow.Participant{ID: d, Role: workflow.RoleDelegation}
		if method == workflow.MethodQualified {
			p.Weight = int32(rapid.IntRange(1, 5).Draw(t, "weight"))
		}
		ps = append(ps, p)
	}
	if method == workflow.MethodQualified {
		rule.ThresholdBasisPoints = int32(1 + uniform(t, 10000, "threshold"))
	}
	ps = append(ps,
		workflow.Participant{ID: mediator, Role: workflow.RoleMediator},
		workflow.Participant{ID: observer, Role: workflow.RoleObserver})
	var points []workflow.NewPoint
	for i := range 1 + uniform(t, 4, "points") {
		points = append(points, workflow.NewPoint{ID: fmt.Sprintf("p%d", i+1), Text: pick(t, m.texts, "text")})
	}
	create := workflow.CreateNegotiation{NegotiationID: negotiationID, Title: "Random", Participants: ps, Rule: rule, Points: points}
	events, err := workflow.Decide(nil, workflow.Meta{Actor: admin, RequestID: "create", At: epoch}, create)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	m.n = &workflow.Negotiation{}
	for _, e := range events {
		if err := m.n.Apply(e); err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	m.log = events
	m.checkFold(t)
	m.check(t)
	return m
}

// uniform draws an int in [0, n) evenly. rapid's own integers favour small
// values, which would turn a 3% chance into 25%; fair bits do not, and they
// shrink towards 0: the first choice, and the plausible branch of chance.
func uniform(t *rapid.T, n int, label string) int {
	bits := 7
	for 1<<(bits-7) < n {
		bits++
	}
	v := 0
	for i := range bits {
		if rapid.Bool().Draw(t, label) {
			v |= 1 << i
		}
	}
	return v * n >> bits
}

// pick draws one of xs evenly.
func pick[T any](t *rapid.T, xs []T, label string) T {
	return xs[uniform(t, len(xs), label)]
}

func (m *model) chance(t *rapid.T, percent int, label string) bool {
	return uniform(t, 100, label) < percent
}

func (m *model) newID(prefix string) string {
	m.ids++
	return fmt.Sprintf("%s-%d", prefix, m.ids)
}

// actor is mostly one of those who may do the thing, else anybody at all.
// A participant with named members acts now and then through one of them
// ("participant/member"), head or not.
func (m *model) actor(t *rapid.T, right []string) string {
	if len(right) > 0 && m.chance(t, 85, "right actor") {
		return m.asMember(t, pick(t, right, "actor"))
	}
	everyone := []string{admin, stranger}
	for _, p := range m.n.Participants {
		everyone = append(everyone, p.ID)
	}
	return m.asMember(t, pick(t, everyone, "anyone"))
}

func (m *model) asMember(t *rapid.T, actor string) string {
	p, ok := m.n.Participant(actor)
	if !ok || len(p.Members) == 0 || !m.chance(t, 40, "as a member") {
		return actor
	}
	return actor + "/" + pick(t, p.Members, "member").ID
}

// members adds and removes members, withdraws acceptances, and signs off or
// revokes in batches.
func (m *model) members(t *rapid.T) (string, workflow.Command) {
	dels := m.n.Delegations()
	var ids []string
	for _, p := range m.n.Participants {
		ids = append(ids, p.ID)
	}
	who := pick(t, append(ids, stranger), "member of")
	member := pick(t, []string{"head", "aide", "legal", who, "Bad"}, "member id")
	switch uniform(t, 5, "member command") {
	case 0:
		return m.actor(t, []string{admin}), workflow.AddMember{Participant: who, Member: member, Head: member == "head"}
	case 1:
		return m.actor(t, []string{admin}), workflow.RemoveMember{Participant: who, Member: member}
	case 2:
		return m.actor(t, dels), workflow.WithdrawAcceptance{}
	case 3:
		var c workflow.SignOffPoints
		for _, id := range m.n.Order {
			if m.chance(t, 70, "in the batch") {
				c.Items = append(c.Items, workflow.SignOffItem{PointID: id, Revision: m.revision(t, id), TextHash: m.textHash(t, id)})
			}
		}
		return m.actor(t, dels), c
	default:
		var c workflow.RevokeSignOffs
		for _, id := range m.n.Order {
			if m.chance(t, 30, "revoked in the batch") {
				c.PointIDs = append(c.PointIDs, id)
			}
		}
		return m.actor(t, dels), c
	}
}

func (m *model) pending() []string {
	var out []string
	for _, id := range m.n.AmendmentOrder {
		if m.n.Amendments[id].State.Pending() {
			out = append(out, id)
		}
	}
	return out
}

// amendmentID is mostly a pending amendment, sometimes any amendment, and
// sometimes one that does not exist.
func (m *model) amendmentID(t *rapid.T) string {
	if pending := m.pending(); len(pending) > 0 && m.chance(t, 70, "pending amendment") {
		return pick(t, pending, "amendment")
	}
	if len(m.n.AmendmentOrder) > 0 && m.chance(t, 80, "known amendment") {
		return pick(t, m.n.AmendmentOrder, "amendment")
	}
	return pick(t, []string{"am-unknown", ""}, "bad amendment")
}

// pointID is mostly a point of the document, sometimes a deleted one, an
// unknown one or none.
func (m *model) pointID(t *rapid.T) string {
	if m.chance(t, 85, "live point") {
		return pick(t, m.n.Order, "point")
	}
	var deleted []string
	for id, p := range m.n.Points {
		if p.Deleted {
			deleted = append(deleted, id)
		}
	}
	slices.Sort(deleted) // map order would make runs irreproducible
	if len(deleted) > 0 && m.chance(t, 60, "deleted point") {
		return pick(t, deleted, "deleted point")
	}
	return pick(t, []string{"p-unknown", ""}, "bad point")
}

func (m *model) revision(t *rapid.T, pointID string) int64 {
	cur := int64(1)
	if p, ok := m.n.Points[pointID]; ok {
		cur = p.Current().Revision
	}
	if m.chance(t, 80, "current revision") {
		return cur
	}
	return pick(t, []int64{0, cur - 1, cur + 1}, "bad revision")
}

func (m *model) textHash(t *rapid.T, pointID string) string {
	right := goodHash
	if p, ok := m.n.Points[pointID]; ok {
		right = p.Current().TextHash
	}
	if m.chance(t, 80, "right hash") {
		return right
	}
	return pick(t, []string{
		workflow.HashText(pick(t, m.texts, "other text")),
		strings.ToUpper(right), "not-a-hash", "",
	}, "bad hash")
}

func (m *model) text(t *rapid.T, pointID string) string {
	// An edit of the current text, so that amendments that go stale can be
	// re-proposed: two edits at either end merge, two at one end conflict.
	if p, ok := m.n.Points[pointID]; ok && m.chance(t, 30, "edit of the current text") {
		cur := p.Current().Text
		return pick(t, []string{"Indeed, " + cur, cur + " Agreed.", cur + " Noted."}, "edit")
	}
	if m.chance(t, 85, "pool text") {
		return pick(t, m.texts, "text")
	}
	bad := []string{"", " \n ", "Ring\x07.", "Caf\xe9."}
	if p, ok := m.n.Points[pointID]; ok {
		bad = append(bad, p.Current().Text+"  \r\n")
	}
	return pick(t, bad, "bad text")
}

func (m *model) command(t *rapid.T, focus int) (string, workflow.Command) {
	if uniform(t, 10, "helpful") < focus {
		if actor, cmd, ok := m.helpful(t); ok {
			return actor, cmd
		}
	}
	dels := m.n.Delegations()
	switch k := uniform(t, 100, "command"); {
	case k < 18:
		return m.propose(t)
	case k < 30:
		choice := workflow.ChoiceApprove + workflow.VoteChoice(uniform(t, 3, "choice"))
		if !m.chance(t, 90, "real choice") {
			choice = pick(t, []workflow.VoteChoice{0, workflow.ChoiceAbstain + 1}, "bad choice")
		}
		reason := ""
		if choice == workflow.ChoiceReject && m.chance(t, 80, "with reason") || m.chance(t, 10, "reason anyway") {
			reason = pick(t, []string{"Because.", " Because. ", strings.Repeat("n", workflow.MaxReasonBytes+1)}, "reason")
		}
		return m.actor(t, dels), workflow.CastVote{AmendmentID: m.amendmentID(t), Choice: choice, Reason: reason}
	case k < 36:
		return m.actor(t, []string{mediator}), workflow.CloseVoting{AmendmentID: m.amendmentID(t)}
	case k < 44:
		return m.actor(t, []string{mediator}), workflow.ApplyAmendment{AmendmentID: m.amendmentID(t), NewPointID: m.newPointID(t),
			NewPointIDs: []string{m.newPointID(t), m.newPointID(t)}}
	case k < 48:
		reason := pick(t, []string{"Out of scope.", ""}, "reason")
		return m.actor(t, []string{mediator}), workflow.RejectAmendment{AmendmentID: m.amendmentID(t), Reason: reason}
	case k < 54:
		id := m.amendmentID(t)
		right := dels
		if a, ok := m.n.Amendments[id]; ok {
			right = []string{a.Proposer}
		}
		if k < 51 {
			return m.actor(t, right), workflow.WithdrawAmendment{AmendmentID: id}
		}
		var stale []string
		for _, a := range m.n.AmendmentOrder {
			if m.n.Amendments[a].State == workflow.AmendmentStateStale {
				stale = append(stale, a)
			}
		}
		if len(stale) > 0 && m.chance(t, 80, "stale one") {
			id = pick(t, stale, "stale amendment")
			right = []string{m.n.Amendments[id].Proposer}
		}
		return m.actor(t, right), rebaseOf(m.n, m.newID("am"), id, "")
	case k < 72:
		p := m.pointID(t)
		return m.actor(t, dels), workflow.SignOffPoint{PointID: p, Revision: m.revision(t, p), TextHash: m.textHash(t, p)}
	case k < 78:
		return m.actor(t, dels), workflow.RevokeSignOff{PointID: m.pointID(t)}
	case k < 88:
		hash := m.n.DocumentHash()
		if !m.chance(t, 80, "current document") {
			hash = pick(t, slices.Concat(m.oldHashes, []string{goodHash, "", strings.ToUpper(hash)}), "bad document hash")
		}
		return m.actor(t, dels), workflow.AcceptDocument{DocumentHash: hash}
	case k < 91:
		return m.credential(t)
	case k < 98:
		return m.members(t)
	default:
		return admin, validCreate()
	}
}

func (m *model) newPointID(t *rapid.T) string {
	if m.chance(t, 90, "fresh point id") {
		return m.newID("np")
	}
	return pick(t, []string{"", "p1"}, "bad new point id")
}

func (m *model) propose(t *rapid.T) (string, workflow.Command) {
	id := m.newID("am")
	if !m.chance(t, 90, "fresh amendment id") {
		id = m.amendmentID(t)
	}
	kind := workflow.KindReplace + workflow.AmendmentKind(uniform(t, 3, "kind"))
	if !m.chance(t, 95, "real kind") {
		kind = pick(t, []workflow.AmendmentKind{0, workflow.KindDelete + 1}, "bad kind")
	}
	c := workflow.ProposeAmendment{AmendmentID: id, Kind: kind, Rationale: "Why not."}
	if m.chance(t, 15, "package") {
		// Parts drafted as carelessly as single changes: on any point,
		// at any revision, sometimes twice on one point.
		for range 2 + uniform(t, 2, "parts") {
			_, part := m.propose(t)
			p := part.(workflow.ProposeAmendment)
			c.Parts = append(c.Parts, workflow.Part{Kind: p.Kind, PointID: p.PointID, BaseRevision: p.BaseRevision, Text: p.Text})
		}
		if m.chance(t, 5, "one part only") {
			c.Parts = c.Parts[:1]
		}
		if m.chance(t, 90, "no kind of its own") {
			c.Kind = 0
		}
		return m.actor(t, m.n.Delegations()), c
	}
	if m.chance(t, 3, "long rationale") {
		c.Rationale = strings.Repeat("r", workflow.MaxRationaleBytes+1)
	}
	switch kind {
	case workflow.KindInsert:
		if m.chance(t, 70, "anchored") {
			c.PointID = m.pointID(t)
		}
		if !m.chance(t, 90, "no base") {
			c.BaseRevision = 1
		}
		c.Text = m.text(t, "")
	case workflow.KindDelete:
		c.PointID = m.pointID(t)
		c.BaseRevision = m.revision(t, c.PointID)
		if !m.chance(t, 90, "no text") {
			c.Text = "Some text."
		}
	default:
		c.PointID = m.pointID(t)
		c.BaseRevision = m.revision(t, c.PointID)
		c.Text = m.text(t, c.PointID)
	}
	return m.actor(t, m.n.Delegations()), c
}

func (m *model) credential(t *rapid.T) (string, workflow.Command) {
	var ids []string
	for _, p := range m.n.Participants {
		ids = append(ids, p.ID)
	}
	who := pick(t, append(ids, stranger), "credential of")
	actor := m.actor(t, []string{admin})
	hash := goodHash
	if !m.chance(t, 90, "good token hash") {
		hash = "token"
	}
	if m.chance(t, 30, "revoke") {
		return actor, workflow.RevokeCredential{Participant: who}
	}
	return actor, workflow.IssueCredential{Participant: who, TokenHash: hash, Rotate: m.chance(t, 40, "rotate")}
}

// helpful returns a correct command that moves the negotiation towards its
// conclusion: settle the first pending amendment, else sign off the first
// point not agreed, else accept.
func (m *model) helpful(t *rapid.T) (string, workflow.Command, bool) {
	if m.n.State == workflow.NegotiationStateConcluded {
		return "", nil, false
	}
	// A few valid amendments first, some while others are pending, so that
	// drafts go stale and texts, numbers and sign-offs change.
	if m.budget > 0 && m.chance(t, 30, "helpful proposal") {
		m.budget--
		return m.validProposal(t)
	}
	if pending := m.pending(); len(pending) > 0 {
		a := m.n.Amendments[pending[0]]
		if a.State == workflow.AmendmentStatePassed {
			if m.chance(t, 70, "apply") {
				return mediator, workflow.ApplyAmendment{AmendmentID: a.ID, NewPointID: m.newID("np"), NewPointIDs: []string{m.newID("np"), m.newID("np")}}, true
			}
			return mediator, workflow.RejectAmendment{AmendmentID: a.ID, Reason: "Not now."}, true
		}
		for _, d := range m.n.Delegations() {
			if _, voted := a.Votes[d]; !voted {
				choice := workflow.ChoiceApprove
				if !m.chance(t, 80, "helpful approval") {
					choice = pick(t, []workflow.VoteChoice{workflow.ChoiceReject, workflow.ChoiceAbstain}, "helpful choice")
				}
				return d, workflow.CastVote{AmendmentID: a.ID, Choice: choice, Reason: "Considered."}, true
			}
		}
		return mediator, workflow.CloseVoting{AmendmentID: a.ID}, true
	}
	for _, pid := range m.n.Order {
		p := m.n.Points[pid]
		cur := p.Current()
		for _, d := range m.n.Delegations() {
			if s, ok := p.SignOffs[d]; !ok || s.Revision != cur.Revision {
				return d, workflow.SignOffPoint{PointID: pid, Revision: cur.Revision, TextHash: cur.TextHash}, true
			}
		}
	}
	for _, d := range m.n.Delegations() {
		if a, ok := m.n.Acceptances[d]; !ok || !m.n.AcceptanceCurrent(a) {
			hash := m.n.DocumentHash()
			if m.chance(t, 5, "accept another text") {
				hash = pick(t, slices.Concat(m.oldHashes, []string{goodHash}), "other document hash")
			}
			return d, workflow.AcceptDocument{DocumentHash: hash}, true
		}
	}
	return "", nil, false
}

// validProposal is an amendment that Decide takes.
func (m *model) validProposal(t *rapid.T) (string, workflow.Command, bool) {
	if len(m.n.Order) >= 3 && m.chance(t, 30, "helpful package") {
		return m.validPackage(t)
	}
	p := m.n.Points[pick(t, m.n.Order, "helpful point")]
	kind := workflow.KindReplace + workflow.AmendmentKind(uniform(t, 3, "helpful kind"))
	if kind == workflow.KindDelete && len(m.n.Order) == 1 {
		kind = workflow.KindReplace
	}
	c := workflow.ProposeAmendment{AmendmentID: m.newID("am"), Kind: kind, PointID: p.ID, Rationale: "Better."}
	switch kind {
	case workflow.KindInsert:
		if m.chance(t, 25, "insert at the start") {
			c.PointID = ""
		}
		c.Text = pick(t, m.texts, "helpful text")
	case workflow.KindReplace:
		c.BaseRevision = p.Current().Revision
		others := slices.DeleteFunc(slices.Clone(m.texts), func(s string) bool { return s == p.Current().Text })
		c.Text = pick(t, others, "helpful text")
	case workflow.KindDelete:
		c.BaseRevision = p.Current().Revision
	}
	return pick(t, m.n.Delegations(), "helpful proposer"), c, true
}

// validPackage is a package deal that Decide takes: two or three changes of
// different points, at most one of them a DELETE and an INSERT after none of
// the points it deletes.
func (m *model) validPackage(t *rapid.T) (string, workflow.Command, bool) {
	order := slices.Clone(m.n.Order)
	c := workflow.ProposeAmendment{AmendmentID: m.newID("am"), Rationale: "A trade."}
	deleted := false
	for i := range 2 + uniform(t, 2, "helpful parts") {
		if i >= len(order) {
			break
		}
		at := uniform(t, len(order), "helpful part point")
		p := m.n.Points[order[at]]
		order = slices.Delete(order, at, at+1) // each point once, as target or anchor
		kind := workflow.KindReplace + workflow.AmendmentKind(uniform(t, 3, "helpful part kind"))
		if kind == workflow.KindDelete && deleted {
			kind = workflow.KindReplace
		}
		part := workflow.Part{Kind: kind, PointID: p.ID}
		switch kind {
		case workflow.KindInsert:
			part.Text = pick(t, m.texts, "helpful part text")
		case workflow.KindReplace:
			part.BaseRevision = p.Current().Revision
			others := slices.DeleteFunc(slices.Clone(m.texts), func(s string) bool { return s == p.Current().Text })
			part.Text = pick(t, others, "helpful part text")
		case workflow.KindDelete:
			part.BaseRevision = p.Current().Revision
			deleted = true
		}
		c.Parts = append(c.Parts, part)
	}
	return pick(t, m.n.Delegations(), "helpful proposer"), c, true
}

func isCredential(cmd workflow.Command) bool {
	switch cmd.(type) {
	case workflow.IssueCredential, workflow.RevokeCredential, workflow.AddMember, workflow.RemoveMember:
		return true
	}
	return false
}

// step decides one command, applies its events and checks the invariants. It
// returns the refusal, if any.
func (m *model) step(t *rapid.T, actor string, cmd workflow.Command) error {
	m.steps++
	participant, member, _ := strings.Cut(actor, "/")
	meta := workflow.Meta{Actor: participant, Member: member, RequestID: fmt.Sprintf("req-%d", m.steps), At: epoch.Add(time.Duration(m.steps) * time.Second)}
	wasConcluded := m.n.State == workflow.NegotiationStateConcluded
	hashBefore := m.n.DocumentHash()
	before := m.n.LastSequence
	events, err := workflow.Decide(m.n, meta, cmd)
	if err != nil {
		var e *workflow.Error
		if !errors.As(err, &e) || e.Code == workflow.EINTERNAL || e.Reason == "" {
			t.Fatalf("%s %#v: untyped or internal error %v", actor, cmd, err)
		}
		if events != nil {
			t.Fatalf("%s %#v: refused with %v yet returned %d events", actor, cmd, err, len(events))
		}
	} else if wasConcluded && !isCredential(cmd) {
		t.Fatalf("%s %#v: not refused after conclusion (%d events)", actor, cmd, len(events))
	}
	for i, e := range events {
		if e.Sequence != before+int64(i)+1 || e.Actor != participant || e.RequestID != meta.RequestID || !e.At.Equal(meta.At) || e.NegotiationID != negotiationID {
			t.Fatalf("%s %#v: event %d is %+v", actor, cmd, i, e)
		}
		if err := m.n.Apply(e); err != nil {
			t.Fatalf("%s %#v: apply %T: %v", actor, cmd, e.Payload, err)
		}
		m.log = append(m.log, e)
	}
	if m.n.DocumentHash() != hashBefore {
		m.oldHashes = append(m.oldHashes, hashBefore)
	}
	if len(events) == 0 {
		// Refused or restated: nothing may have changed, not even through
		// the pointer Decide was given. The log is as before, so this is
		// also the comparison with its fold.
		if d := stateDiff(m.prev, m.n); d != "" {
			t.Fatalf("%s %#v changed the state without an event (%v):\n%s", actor, cmd, err, d)
		}
	} else {
		m.checkFold(t)
	}
	m.check(t)
	return err
}

// checkFold compares the state built event by event with the fold of the
// whole log and with the state a restart rebuilds from it (Reindex), and keeps
// the fold to compare the next step with. Now and then the server "restarts":
// the commands that follow are decided on the rebuilt state, so that its
// indexes are tested by what the rules do with them, not only by what they
// answer.
func (m *model) checkFold(t *rapid.T) {
	folded, err := workflow.Fold(m.log)
	if err != nil {
		t.Fatalf("fold: %v", err)
	}
	if d := stateDiff(folded, m.n); d != "" {
		t.Fatalf("state differs from the fold of its log (-fold +state):\n%s", d)
	}
	restarted := rebuilt(t, m.log)
	if d := stateDiff(folded, restarted); d != "" {
		t.Fatalf("state rebuilt after a restart differs from the fold of its log (-fold +rebuilt):\n%s", d)
	}
	m.prev = folded
	if m.chance(t, 10, "restart") {
		m.n = restarted
		m.restarts++
	}
}

// check verifies the invariants of the state.
func (m *model) check(t *rapid.T) {
	n := m.n
	for i, e := range m.log {
		if e.Sequence != int64(i)+1 {
			t.Fatalf("event %d has sequence %d", i, e.Sequence)
		}
	}
	if n.LastSequence != int64(len(m.log)) {
		t.Fatalf("last sequence %d, %d events", n.LastSequence, len(m.log))
	}

	var dels []string
	for _, p := range n.Participants {
		if p.Role == workflow.RoleDelegation {
			dels = append(dels, p.ID)
		}
	}

	if got := n.RenderDocument(); n.DocumentHash() != workflow.HashText(got) {
		t.Fatalf("document hash %s is not the hash of %q", n.DocumentHash(), got)
	}

	inOrder := map[string]bool{}
	agreed := 0
	for i, id := range n.Order {
		if inOrder[id] {
			t.Fatalf("point %s twice in the document", id)
		}
		inOrder[id] = true
		p, ok := n.Points[id]
		if !ok || p.Deleted {
			t.Fatalf("point %s in the document is unknown or deleted", id)
		}
		if got := n.PointNumber(id); got != i+1 {
			t.Fatalf("point %s at position %d has number %d", id, i+1, got)
		}
		cur := p.Current()
		all := true
		for _, d := range dels {
			if s, ok := p.SignOffs[d]; !ok || s.Revision != cur.Revision {
				all = false
			}
		}
		if n.Agreed(p) != all {
			t.Fatalf("point %d: Agreed = %v, but every delegation signed off its current revision: %v", i+1, n.Agreed(p), all)
		}
		if all {
			agreed++
		}
	}
	if n.AgreedPoints() != agreed {
		t.Fatalf("AgreedPoints = %d, counted %d", n.AgreedPoints(), agreed)
	}
	for id, p := range n.Points {
		if !inOrder[id] && (!p.Deleted || n.PointNumber(id) != 0 || n.Agreed(p)) {
			t.Fatalf("point %s out of the document: deleted %v, number %d", id, p.Deleted, n.PointNumber(id))
		}
		for i, r := range p.Revisions {
			if r.Revision != int64(i)+1 || r.TextHash != workflow.HashText(r.Text) {
				t.Fatalf("point %s revision %d: %+v", id, i+1, r)
			}
		}
		for d, s := range p.SignOffs {
			if s.Participant != d || s.Revision < 1 || s.Revision > int64(len(p.Revisions)) || s.TextHash != p.Revisions[s.Revision-1].TextHash {
				t.Fatalf("point %s: sign-off %+v is not bound to the text of its revision", id, s)
			}
		}
	}

	pending := 0
	for _, id := range n.AmendmentOrder {
		a := n.Amendments[id]
		if !a.State.Pending() {
			if a.State == workflow.AmendmentStateStale {
				if cause, ok := n.Amendments[a.StaledBy]; !ok || cause.State != workflow.AmendmentStateApplied {
					t.Fatalf("amendment %s staled by %q, which is not applied", id, a.StaledBy)
				}
			}
			continue
		}
		pending++
		// A pending amendment can always still be applied as drafted: this
		// is why the apply-time checks of revision and deletion never fire.
		// So can every part of a pending package.
		for _, part := range a.Changes() {
			switch part.Kind {
			case workflow.KindInsert:
				if part.PointID != "" && !inOrder[part.PointID] {
					t.Fatalf("pending insert %s is anchored on %s, which is not in the document", id, part.PointID)
				}
			default:
				if !inOrder[part.PointID] || n.Points[part.PointID].Current().Revision != part.BaseRevision {
					t.Fatalf("pending amendment %s drafted against a text that is no longer current", id)
				}
			}
		}
	}
	if n.PendingAmendments() != pending {
		t.Fatalf("PendingAmendments = %d, counted %d", n.PendingAmendments(), pending)
	}
	perPoint := map[string]int{}
	for _, a := range n.Amendments {
		if a.State.Pending() {
			for _, pid := range a.Points() {
				perPoint[pid]++
			}
		}
	}
	for pid := range n.Points {
		if got := n.PendingAmendmentsOfPoint(pid); got != perPoint[pid] {
			t.Fatalf("PendingAmendmentsOfPoint(%s) = %d, counted %d", pid, got, perPoint[pid])
		}
	}
	for _, id := range n.AmendmentOrder {
		if tl := n.Amendments[id].Tally; tl != nil && int(tl.Approve+tl.Reject+tl.Abstain+tl.NotVoted) != len(dels) {
			t.Fatalf("tally of %s counts %+v for %d delegations", id, tl, len(dels))
		}
	}

	accepted := 0
	for _, d := range dels {
		if a, ok := n.Acceptances[d]; ok && n.AcceptanceCurrent(a) {
			accepted++
		}
	}
	complete := pending == 0 && agreed == len(n.Order) && accepted == len(dels)
	switch n.State {
	case workflow.NegotiationStateConcluded:
		if !complete {
			t.Fatalf("concluded with %d pending, %d of %d agreed, %d of %d accepted", pending, agreed, len(n.Order), accepted, len(dels))
		}
		if m.frozen == "" {
			m.frozen = n.DocumentHash()
		}
		if n.DocumentHash() != m.frozen {
			t.Fatalf("the text changed after conclusion")
		}
	default:
		if complete {
			t.Fatalf("everything is agreed and accepted, but the negotiation did not conclude")
		}
	}
}
