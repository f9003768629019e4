package workflow

import (
	"slices"
	"strings"
	"time"
)

// This file holds the rules of a negotiation that changes while it runs:
// participants who join or leave, a new title or decision rule, a pause, an
// end without agreement, and voting deadlines.

// MaxVotingDuration bounds any voting deadline and a negotiation's limit:
// a vote open for more than a year is no vote.
const MaxVotingDuration = 366 * 24 * time.Hour

// AddParticipant adds a delegation, mediator or observer.
type AddParticipant struct{ Participant Participant }

// RemoveParticipant removes a participant; its credential stops working.
type RemoveParticipant struct{ Participant string }

// RenameNegotiation changes the title.
type RenameNegotiation struct{ Title string }

// ChangeDecisionRule sets the rule for amendments proposed from now on.
// Weights, if not nil, gives new weights to some delegations (0 means 1); the
// others keep theirs.
type ChangeDecisionRule struct {
	Rule    DecisionRule
	Weights map[string]int32
}

// SuspendNegotiation pauses a negotiation.
type SuspendNegotiation struct{ Reason string }

// ResumeNegotiation ends a pause.
type ResumeNegotiation struct{}

// AbandonNegotiation ends a negotiation without agreement.
type AbandonNegotiation struct{ Reason string }

// SetVotingDeadline sets or moves the deadline of an OPEN amendment.
type SetVotingDeadline struct {
	AmendmentID string
	Deadline    time.Time
}

// CloseVotingAtDeadline is the server's own command: it closes voting on an
// amendment whose deadline has passed at Meta.At, the time the server chose
// for the command. Refused (and so never a second event) once voting closed.
type CloseVotingAtDeadline struct{ AmendmentID string }

func (AddParticipant) isCommand()        {}
func (RemoveParticipant) isCommand()     {}
func (RenameNegotiation) isCommand()     {}
func (ChangeDecisionRule) isCommand()    {}
func (SuspendNegotiation) isCommand()    {}
func (ResumeNegotiation) isCommand()     {}
func (AbandonNegotiation) isCommand()    {}
func (SetVotingDeadline) isCommand()     {}
func (CloseVotingAtDeadline) isCommand() {}

// ParticipantAdded records a new participant.
type ParticipantAdded struct{ Participant Participant }

// ParticipantRemoved records that a participant left. Its votes on OPEN
// amendments are dropped; VotingClosed events follow for the votes that
// every remaining delegation has now cast.
type ParticipantRemoved struct{ Participant string }

// NegotiationRenamed records a new title.
type NegotiationRenamed struct{ Title string }

// DecisionRuleChanged records the rule for amendments proposed from now on,
// with every delegation's weight under it.
type DecisionRuleChanged struct {
	Rule    DecisionRule
	Weights map[string]int32
}

// NegotiationSuspended records a pause.
type NegotiationSuspended struct{ Reason string }

// NegotiationResumed records the end of a pause.
type NegotiationResumed struct{}

// NegotiationAbandoned records the end of a negotiation without agreement.
type NegotiationAbandoned struct{ Reason string }

// VotingDeadlineSet records a new deadline for an OPEN amendment.
type VotingDeadlineSet struct {
	AmendmentID string
	Deadline    time.Time
}

func (ParticipantAdded) isPayload()     {}
func (ParticipantRemoved) isPayload()   {}
func (NegotiationRenamed) isPayload()   {}
func (DecisionRuleChanged) isPayload()  {}
func (NegotiationSuspended) isPayload() {}
func (NegotiationResumed) isPayload()   {}
func (NegotiationAbandoned) isPayload() {}
func (VotingDeadlineSet) isPayload()    {}

// CredentialKeys returns the keys in Credentials of a participant's members'
// tokens, its default member's included, in no particular order.
func (n *Negotiation) CredentialKeys(participant string) []string {
	var keys []string
	for key := range n.Credentials {
		if key == participant || strings.HasPrefix(key, participant+"/") {
			keys = append(keys, key)
		}
	}
	return keys
}

// removed reports whether a participant with this id was removed.
func (n *Negotiation) removed(id string) bool {
	return slices.ContainsFunc(n.Removed, func(p Participant) bool { return p.ID == id })
}

// NotVoted returns the delegations that have not voted on a, in order.
func (n *Negotiation) NotVoted(a *Amendment) []string {
	var out []string
	for _, id := range n.Delegations() {
		if _, ok := a.Votes[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// change checks that the actor may change the negotiation: the
// administrator, or a mediator where the negotiation allows it; and that the
// negotiation is not final. A suspended negotiation takes changes of its
// participants and rules: a pause is often what such changes need.
func (d *decider) change(action string) error {
	if d.m.Actor != AdminActor {
		p, ok := d.n.Participant(d.m.Actor)
		if m := d.member(); ok && m != p.ID {
			if _, known := p.Member(m); !known {
				return Errorf(EPERMISSION, "MEMBER_NOT_FOUND", "%q is not a member of %s: it was removed or never added", m, p.ID)
			}
		}
		switch {
		case !ok && d.n.removed(d.m.Actor):
			return Errorf(EPERMISSION, "PARTICIPANT_REMOVED", "%q was removed from this negotiation", d.m.Actor)
		case !ok:
			return Errorf(EPERMISSION, "NOT_A_MEMBER", "%q is not a participant of this negotiation", d.m.Actor)
		case p.Role != RoleMediator:
			return Errorf(EPERMISSION, "ROLE_NOT_ALLOWED", "%s %q cannot %s: only the administrator, or a mediator where the negotiation allows it, can", strings.ToLower(p.Role.String()), p.ID, action)
		case !d.n.MediatorsMayChange:
			return Errorf(EPERMISSION, "MEDIATOR_CHANGES_NOT_ALLOWED", "this negotiation lets only the administrator %s", action)
		}
	}
	return d.takesChanges(false)
}

func validateVotingDurations(def, limit time.Duration) error {
	switch {
	case def < 0 || def > MaxVotingDuration:
		return Errorf(EINVALID, "VOTING_DURATION_INVALID", "the default voting duration must be 0 (none) to %s, not %s", MaxVotingDuration, def)
	case limit < 0 || limit > MaxVotingDuration:
		return Errorf(EINVALID, "VOTING_DURATION_INVALID", "the voting duration limit must be 0 (none) to %s, not %s", MaxVotingDuration, limit)
	case limit > 0 && def > limit:
		return Errorf(EINVALID, "VOTING_DURATION_INVALID", "the default voting duration %s is beyond the limit %s", def, limit)
	}
	return nil
}

// votingDeadline gives a new amendment's voting deadline: the one asked for,
// checked, or else the negotiation's default duration from now (zero: none).
func (d *decider) votingDeadline(requested time.Time) (time.Time, error) {
	if requested.IsZero() {
		if d.n.DefaultVotingDuration > 0 {
			return d.m.At.Add(d.n.DefaultVotingDuration), nil
		}
		return time.Time{}, nil
	}
	return requested, d.checkDeadline(requested, d.m.At)
}

// checkDeadline checks a deadline for an amendment proposed at proposedAt:
// after now, and within the negotiation's limit counted from the proposal.
func (d *decider) checkDeadline(deadline, proposedAt time.Time) error {
	if !deadline.After(d.m.At) {
		return Errorf(EINVALID, "DEADLINE_IN_PAST", "the deadline %s is not in the future (the server's time is %s)", deadline.UTC().Format(time.RFC3339), d.m.At.UTC().Format(time.RFC3339))
	}
	limit := d.n.MaxVotingDuration
	if limit == 0 {
		limit = MaxVotingDuration
	}
	if deadline.After(proposedAt.Add(limit)) {
		return Errorf(EINVALID, "DEADLINE_TOO_FAR", "the deadline is beyond this negotiation's limit: voting lasts at most %s after the proposal, until %s", limit, proposedAt.Add(limit).UTC().Format(time.RFC3339))
	}
	return nil
}

func (d *decider) addParticipant(c AddParticipant) error {
	if err := d.change("add participants"); err != nil {
		return err
	}
	if len(d.n.Participants) >= MaxParticipants {
		return Errorf(ERESOURCEEXHAUSTED, "TOO_MANY_PARTICIPANTS", "the negotiation has %d participants, the limit", MaxParticipants)
	}
	id := c.Participant.ID
	if _, ok := d.n.Participant(id); ok || d.n.removed(id) {
		return Errorf(EALREADYEXISTS, "PARTICIPANT_EXISTS", "participant id %q is taken (ids of removed participants are never given again)", id)
	}
	p, err := validateParticipant(c.Participant)
	if err != nil {
		return err
	}
	d.emit(ParticipantAdded{Participant: p})
	return nil
}

func (d *decider) removeParticipant(c RemoveParticipant) error {
	if err := d.change("remove participants"); err != nil {
		return err
	}
	p, ok := d.n.Participant(c.Participant)
	if !ok {
		return Errorf(ENOTFOUND, "PARTICIPANT_NOT_FOUND", "participant %.70q not found", c.Participant)
	}
	var delegations []string
	mediators := 0
	for _, q := range d.n.Participants {
		if q.ID == p.ID {
			continue
		}
		switch q.Role {
		case RoleDelegation:
			delegations = append(delegations, q.ID)
		case RoleMediator:
			mediators++
		}
	}
	switch {
	case p.Role == RoleMediator && mediators == 0:
		return Errorf(EFAILEDPRECONDITION, "LAST_MEDIATOR", "%s is the last mediator: without one the negotiation could never conclude; add another first", p.ID)
	case p.Role == RoleDelegation && len(delegations) == 0:
		return Errorf(EFAILEDPRECONDITION, "LAST_DELEGATION", "%s is the last delegation: without one the negotiation could never conclude", p.ID)
	case p.Role == RoleDelegation && int(d.n.Rule.Quorum) > len(delegations):
		return Errorf(EFAILEDPRECONDITION, "QUORUM_UNREACHABLE", "the quorum is %d delegations and only %d would remain: lower the quorum first", d.n.Rule.Quorum, len(delegations))
	}
	d.emit(ParticipantRemoved{Participant: p.ID})
	if p.Role != RoleDelegation {
		return nil
	}
	// The votes of the ones who remain are counted again: those that are now
	// complete close, as if the last vote had just been cast, even during a
	// pause (no vote is cast, a count is only completed). Nothing that
	// closed re-opens.
	for _, id := range d.n.AmendmentOrder {
		a := d.n.Amendments[id]
		if a.State != AmendmentStateOpen {
			continue
		}
		complete := true
		for _, del := range delegations {
			if _, voted := a.Votes[del]; !voted {
				complete = false
				break
			}
		}
		if complete {
			d.emit(VotingClosed{AmendmentID: a.ID, Tally: d.n.tallyOf(a, delegations, "", 0)})
		}
	}
	// Those who remain may all have accepted already; nobody could then
	// accept again, so the conclusion comes now.
	d.concludeAmong(delegations)
	return nil
}

// concludeAmong emits NegotiationConcluded if the delegations listed have
// signed off every point and accepted the current text, and no amendment is
// pending once the events decided so far are counted.
func (d *decider) concludeAmong(delegations []string) {
	n := d.n
	pending := n.PendingAmendments()
	for _, e := range d.events {
		if vc, ok := e.Payload.(VotingClosed); ok && !vc.Tally.Passed && n.Amendments[vc.AmendmentID] != nil {
			pending--
		}
	}
	for _, e := range d.events {
		if vc, ok := e.Payload.(VotingClosed); ok && vc.Tally.Passed {
			return // a PASSED amendment still waits for a mediator
		}
	}
	if pending > 0 {
		return
	}
	hash := n.DocumentHash()
	for _, id := range delegations {
		if a, ok := n.Acceptances[id]; !ok || a.DocumentHash != hash {
			return
		}
	}
	for _, pid := range n.Order {
		p := n.Points[pid]
		for _, id := range delegations {
			if s, ok := p.SignOffs[id]; !ok || s.Revision != p.Current().Revision {
				return
			}
		}
	}
	d.emit(NegotiationConcluded{DocumentHash: hash})
}

func (d *decider) rename(c RenameNegotiation) error {
	if err := d.change("rename the negotiation"); err != nil {
		return err
	}
	title := strings.TrimSpace(c.Title)
	if err := validateLine("title", "TITLE_INVALID", title, MaxTitleBytes); err != nil {
		return err
	}
	if title == d.n.Title {
		return nil
	}
	d.emit(NegotiationRenamed{Title: title})
	return nil
}

func (d *decider) changeRule(c ChangeDecisionRule) error {
	if err := d.change("change the decision rule"); err != nil {
		return err
	}
	weights := make(map[string]int32, len(d.n.Delegations()))
	participants := slices.Clone(d.n.Participants)
	for i, p := range participants {
		if p.Role != RoleDelegation {
			continue
		}
		if w, ok := c.Weights[p.ID]; ok {
			if w < 0 || w > MaxWeight {
				return Errorf(EINVALID, "WEIGHT_INVALID", "participant %q would have weight %d; weights are 0 to %d", p.ID, w, MaxWeight)
			}
			participants[i].Weight = max(w, 1)
		}
		weights[p.ID] = participants[i].Weight
	}
	for id := range c.Weights {
		p, ok := d.n.Participant(id)
		if !ok {
			return Errorf(ENOTFOUND, "PARTICIPANT_NOT_FOUND", "participant %.70q not found", id)
		}
		if p.Role != RoleDelegation {
			return Errorf(EINVALID, "WEIGHT_INVALID", "participant %q is not a delegation and so cannot have a weight", id)
		}
	}
	rule, err := validateRule(c.Rule, participants)
	if err != nil {
		return err
	}
	current := d.n.Rules[len(d.n.Rules)-1]
	if rule == d.n.Rule && sameWeights(current.Weights, weights) {
		return nil
	}
	d.emit(DecisionRuleChanged{Rule: rule, Weights: weights})
	return nil
}

func sameWeights(a, b map[string]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (d *decider) suspend(c SuspendNegotiation) error {
	if err := d.change("suspend the negotiation"); err != nil {
		return err
	}
	if d.n.State == NegotiationStateSuspended {
		return Errorf(EFAILEDPRECONDITION, "NEGOTIATION_SUSPENDED", "the negotiation is suspended already")
	}
	reason := strings.TrimSpace(c.Reason)
	if err := validateFreeText("reason", "REASON_TOO_LONG", reason, MaxReasonBytes); err != nil {
		return err
	}
	d.emit(NegotiationSuspended{Reason: reason})
	return nil
}

func (d *decider) resume(ResumeNegotiation) error {
	if err := d.change("resume the negotiation"); err != nil {
		return err
	}
	if d.n.State != NegotiationStateSuspended {
		return Errorf(EFAILEDPRECONDITION, "NOT_SUSPENDED", "the negotiation is not suspended")
	}
	d.emit(NegotiationResumed{})
	return nil
}

func (d *decider) abandon(c AbandonNegotiation) error {
	if err := d.change("abandon the negotiation"); err != nil {
		return err
	}
	reason := strings.TrimSpace(c.Reason)
	if err := validateFreeText("reason", "REASON_TOO_LONG", reason, MaxReasonBytes); err != nil {
		return err
	}
	if reason == "" {
		return Errorf(EINVALID, "REASON_REQUIRED", "abandoning a negotiation needs a reason")
	}
	d.emit(NegotiationAbandoned{Reason: reason})
	return nil
}

func (d *decider) setDeadline(c SetVotingDeadline) error {
	if err := d.act("set voting deadlines", RoleMediator); err != nil {
		return err
	}
	a, err := d.openAmendment(c.AmendmentID)
	if err != nil {
		return err
	}
	if err := d.checkDeadline(c.Deadline, a.ProposedAt); err != nil {
		return err
	}
	if c.Deadline.Equal(a.Deadline) {
		return nil
	}
	d.emit(VotingDeadlineSet{AmendmentID: a.ID, Deadline: c.Deadline})
	return nil
}

func (d *decider) closeAtDeadline(c CloseVotingAtDeadline) error {
	if d.m.Actor != AdminActor {
		return Errorf(EPERMISSION, "ADMIN_ONLY", "only the server closes voting at a deadline")
	}
	if err := d.takesChanges(true); err != nil {
		return err
	}
	a, err := d.openAmendment(c.AmendmentID)
	if err != nil {
		return err
	}
	if a.Deadline.IsZero() || d.m.At.Before(a.Deadline) {
		return Errorf(EFAILEDPRECONDITION, "DEADLINE_NOT_REACHED", "the amendment's voting deadline has not passed")
	}
	t := d.n.tally(a, "", 0, false)
	t.ClosedByDeadline = true
	d.emit(VotingClosed{AmendmentID: a.ID, Tally: t})
	return nil
}

// applyChange folds the events of this file; it reports whether it knew the
// payload.
func (n *Negotiation) applyChangeEvent(e Event) (bool, error) {
	switch p := e.Payload.(type) {
	case ParticipantAdded:
		if _, ok := n.Participant(p.Participant.ID); ok || n.removed(p.Participant.ID) {
			return true, corrupt("event %d adds participant %s twice", e.Sequence, p.Participant.ID)
		}
		n.Participants = append(n.Participants, p.Participant)
		n.reindexParticipants()
	case ParticipantRemoved:
		i, ok := n.derived.participant[p.Participant]
		if !ok {
			return true, corrupt("event %d removes unknown participant %s", e.Sequence, p.Participant)
		}
		n.Removed = append(n.Removed, n.Participants[i])
		n.Participants = slices.Delete(slices.Clone(n.Participants), i, i+1)
		for _, key := range n.CredentialKeys(p.Participant) {
			delete(n.Credentials, key)
		}
		for _, id := range n.AmendmentOrder {
			if a := n.Amendments[id]; a.State == AmendmentStateOpen {
				delete(a.Votes, p.Participant)
			}
		}
		n.reindexParticipants()
	case NegotiationRenamed:
		n.Title = p.Title
	case DecisionRuleChanged:
		n.Rule = p.Rule
		n.Rules = append(n.Rules, RuleVersion{Rule: p.Rule, Weights: p.Weights, Sequence: e.Sequence})
		n.Participants = slices.Clone(n.Participants)
		for i, q := range n.Participants {
			if w, ok := p.Weights[q.ID]; ok {
				n.Participants[i].Weight = w
			}
		}
	case NegotiationSuspended:
		n.State = NegotiationStateSuspended
	case NegotiationResumed:
		n.State = NegotiationStateOpen
	case NegotiationAbandoned:
		n.State = NegotiationStateAbandoned
	case VotingDeadlineSet:
		a, err := n.pendingAmendment(e, p.AmendmentID)
		if err != nil {
			return true, err
		}
		a.Deadline = p.Deadline
		a.UpdatedAt = e.At
	default:
		return false, nil
	}
	return true, nil
}

// reindexParticipants rebuilds the participant indexes after the list
// changed.
func (n *Negotiation) reindexParticipants() {
	n.derived.participant = make(map[string]int, len(n.Participants))
	n.derived.delegations = nil
	for i, p := range n.Participants {
		n.derived.participant[p.ID] = i
		if p.Role == RoleDelegation {
			n.derived.delegations = append(n.derived.delegations, p.ID)
		}
	}
}

// initialRule returns the first rule version of a negotiation: its rule at
// creation with the delegations' weights.
func initialRule(rule DecisionRule, participants []Participant, sequence int64) RuleVersion {
	weights := map[string]int32{}
	for _, p := range participants {
		if p.Role == RoleDelegation {
			weights[p.ID] = p.Weight
		}
	}
	return RuleVersion{Rule: rule, Weights: weights, Sequence: sequence}
}
