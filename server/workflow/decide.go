package workflow

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	participantIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	sha256HexPattern     = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Decide returns the events that cmd produces on the negotiation n, or an
// *Error saying why it is refused. It does not change n: fold the events with
// Apply to get the new state. A command that restates what is already true
// (the same vote, a second sign-off of the same revision, a second acceptance
// of the same text) produces no event and no error.
//
// CreateNegotiation takes a nil n; every other command needs the negotiation.
// Events get the sequence numbers following n.LastSequence and the time m.At.
func Decide(n *Negotiation, m Meta, cmd Command) ([]Event, error) {
	if c, ok := cmd.(CreateNegotiation); ok {
		if n != nil {
			return nil, Errorf(EALREADYEXISTS, "NEGOTIATION_EXISTS", "negotiation %s exists already", c.NegotiationID)
		}
		return decideCreate(m, c)
	}
	if n == nil {
		return nil, Errorf(ENOTFOUND, "NEGOTIATION_NOT_FOUND", "negotiation not found")
	}
	d := &decider{n: n, m: m}
	var err error
	switch c := cmd.(type) {
	case ProposeAmendment:
		err = d.propose(c)
	case RebaseAmendment:
		err = d.rebase(c)
	case CastVote:
		err = d.castVote(c)
	case CloseVoting:
		err = d.closeVoting(c)
	case ApplyAmendment:
		err = d.apply(c)
	case RejectAmendment:
		err = d.reject(c)
	case WithdrawAmendment:
		err = d.withdraw(c)
	case SignOffPoint:
		err = d.signOff(c)
	case RevokeSignOff:
		err = d.revokeSignOff(c)
	case AcceptDocument:
		err = d.accept(c)
	case IssueCredential:
		err = d.issueCredential(c)
	case RevokeCredential:
		err = d.revokeCredential(c)
	case RotateCheckpointKey:
		err = d.rotateCheckpointKey(c)
	case AddParticipant:
		err = d.addParticipant(c)
	case RemoveParticipant:
		err = d.removeParticipant(c)
	case RenameNegotiation:
		err = d.rename(c)
	case ChangeDecisionRule:
		err = d.changeRule(c)
	case SuspendNegotiation:
		err = d.suspend(c)
	case ResumeNegotiation:
		err = d.resume(c)
	case AbandonNegotiation:
		err = d.abandon(c)
	case SetVotingDeadline:
		err = d.setDeadline(c)
	case CloseVotingAtDeadline:
		err = d.closeAtDeadline(c)
	case AddMember:
		err = d.addMember(c)
	case RemoveMember:
		err = d.removeMember(c)
	case WithdrawAcceptance:
		err = d.withdrawAcceptance()
	case SignOffPoints:
		err = d.signOffPoints(c)
	case RevokeSignOffs:
		err = d.revokeSignOffs(c)
	case PostComment:
		err = d.postComment(c)
	case RetractComment:
		err = d.retractComment(c)
	case RegisterKey:
		err = d.registerKey(c)
	case RevokeKey:
		err = d.revokeKey(c)
	case RequireSignatures:
		err = d.requireSignatures()
	default:
		err = Errorf(EINTERNAL, "UNKNOWN_COMMAND", "unknown command %T", cmd)
	}
	if err != nil {
		return nil, err
	}
	return d.events, nil
}

// decider gathers the events of one command on an existing negotiation.
type decider struct {
	n      *Negotiation
	m      Meta
	events []Event
}

func (d *decider) emit(p Payload) {
	d.events = append(d.events, Event{
		NegotiationID: d.n.ID,
		Sequence:      d.n.LastSequence + int64(len(d.events)) + 1,
		At:            d.m.At,
		Actor:         d.m.Actor,
		Member:        d.member(),
		RequestID:     d.m.RequestID,
		Payload:       p,
	})
}

// member returns the id of the member who acts, as events record it: the
// participant's id for its default member, empty for the administrator.
func (d *decider) member() string {
	if d.m.Actor == AdminActor {
		return ""
	}
	if d.m.Member == "" {
		return d.m.Actor
	}
	return d.m.Member
}

// act checks that the actor has one of the roles and that the negotiation
// still takes changes. Roles come first so that a caller who may never do
// something is told so whatever the state.
func (d *decider) act(action string, roles ...Role) error {
	if d.m.Actor == AdminActor {
		return Errorf(EPERMISSION, "ROLE_NOT_ALLOWED", "the administrator cannot %s: only a %s can", action, roleList(roles))
	}
	p, ok := d.n.Participant(d.m.Actor)
	if !ok {
		if d.n.removed(d.m.Actor) {
			return Errorf(EPERMISSION, "PARTICIPANT_REMOVED", "%q was removed from this negotiation", d.m.Actor)
		}
		return Errorf(EPERMISSION, "NOT_A_MEMBER", "%q is not a participant of this negotiation", d.m.Actor)
	}
	allowed := false
	for _, r := range roles {
		allowed = allowed || p.Role == r
	}
	if !allowed {
		return Errorf(EPERMISSION, "ROLE_NOT_ALLOWED", "%s %q cannot %s: only a %s can", strings.ToLower(p.Role.String()), p.ID, action, roleList(roles))
	}
	if m := d.member(); m != p.ID {
		if _, ok := p.Member(m); !ok {
			return Errorf(EPERMISSION, "MEMBER_NOT_FOUND", "%q is not a member of %s: it was removed or never added", m, p.ID)
		}
	}
	return d.takesChanges(true)
}

// takesChanges refuses every action once the negotiation is final, and, if
// strict, while it is suspended.
func (d *decider) takesChanges(strict bool) error {
	switch d.n.State {
	case NegotiationStateConcluded:
		return Errorf(EFAILEDPRECONDITION, "NEGOTIATION_CONCLUDED", "the negotiation has concluded; its text is frozen")
	case NegotiationStateAbandoned:
		return Errorf(EFAILEDPRECONDITION, "NEGOTIATION_ABANDONED", "the negotiation was abandoned; it takes no more changes")
	case NegotiationStateSuspended:
		if strict {
			return Errorf(EFAILEDPRECONDITION, "NEGOTIATION_SUSPENDED", "the negotiation is suspended: nothing is proposed, voted, signed or accepted until it resumes")
		}
	}
	return nil
}

// mayCommit checks that the acting member may bind its participant by a
// sign-off or an acceptance: once a participant has a head, only its heads
// and its default member may.
func (d *decider) mayCommit(action string) error {
	p, _ := d.n.Participant(d.m.Actor)
	m := d.member()
	if m == p.ID || !p.HasHead() {
		return nil
	}
	if mem, _ := p.Member(m); mem.Head {
		return nil
	}
	return Errorf(EPERMISSION, "MEMBER_NOT_ALLOWED", "member %q of %s cannot %s: %s has restricted that to its heads", m, p.ID, action, p.ID)
}

func roleList(roles []Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = strings.ToLower(r.String())
	}
	return strings.Join(names, " or ")
}

func (d *decider) amendment(id string) (*Amendment, error) {
	a, ok := d.n.Amendments[id]
	if !ok {
		return nil, Errorf(ENOTFOUND, "AMENDMENT_NOT_FOUND", "amendment %s not found", id)
	}
	return a, nil
}

// openAmendment returns an amendment that is open for voting.
func (d *decider) openAmendment(id string) (*Amendment, error) {
	a, err := d.amendment(id)
	if err != nil {
		return nil, err
	}
	if a.State != AmendmentStateOpen {
		return nil, Errorf(EFAILEDPRECONDITION, "VOTING_CLOSED", "voting on this amendment has closed: it is %s", a.State)
	}
	return a, nil
}

// livePoint returns a point that is in the document.
func (d *decider) livePoint(id string) (*Point, error) {
	p, ok := d.n.Points[id]
	if !ok {
		return nil, Errorf(ENOTFOUND, "POINT_NOT_FOUND", "point %s not found", id)
	}
	if p.Deleted {
		return nil, Errorf(EFAILEDPRECONDITION, "POINT_DELETED", "point %s was deleted from the document", id)
	}
	return p, nil
}

func decideCreate(m Meta, c CreateNegotiation) ([]Event, error) {
	if m.Actor != AdminActor {
		return nil, Errorf(EPERMISSION, "ADMIN_ONLY", "only the administrator can create a negotiation")
	}
	if c.NegotiationID == "" {
		return nil, Errorf(EINVALID, "NEGOTIATION_ID_REQUIRED", "negotiation id is required")
	}
	title := strings.TrimSpace(c.Title)
	if err := validateLine("title", "TITLE_INVALID", title, MaxTitleBytes); err != nil {
		return nil, err
	}
	participants, err := validateParticipants(c.Participants)
	if err != nil {
		return nil, err
	}
	rule, err := validateRule(c.Rule, participants)
	if err != nil {
		return nil, err
	}
	if err := validateVotingDurations(c.DefaultVotingDuration, c.MaxVotingDuration); err != nil {
		return nil, err
	}
	if len(c.Points) == 0 {
		return nil, Errorf(EINVALID, "POINTS_REQUIRED", "a negotiation needs at least one point")
	}
	if len(c.Points) > MaxPoints {
		return nil, Errorf(EINVALID, "TOO_MANY_POINTS", "%d points; the limit is %d", len(c.Points), MaxPoints)
	}
	events := make([]Event, 0, len(c.Points)+1)
	emit := func(p Payload) {
		events = append(events, Event{NegotiationID: c.NegotiationID, Sequence: int64(len(events)) + 1,
			At: m.At, Actor: m.Actor, RequestID: m.RequestID, Payload: p})
	}
	emit(NegotiationCreated{Title: title, Participants: participants, Rule: rule, MediatorsMayChange: c.MediatorsMayChange,
		DefaultVotingDuration: c.DefaultVotingDuration, MaxVotingDuration: c.MaxVotingDuration, ObserversMayComment: c.ObserversMayComment,
		RequireSignatures: c.RequireSignatures})
	seen := make(map[string]bool, len(c.Points))
	for i, p := range c.Points {
		if p.ID == "" || seen[p.ID] {
			return nil, Errorf(EINVALID, "POINT_ID_INVALID", "point %d has an empty or repeated id", i+1)
		}
		seen[p.ID] = true
		text := NormalizeText(p.Text)
		if err := ValidatePointText("point "+strconv.Itoa(i+1), text); err != nil {
			return nil, err
		}
		emit(PointAdded{PointID: p.ID, Text: text, TextHash: HashText(text)})
	}
	return events, nil
}

// validateLine checks a one-line text such as a title or a display name.
func validateLine(what, reason, s string, max int) error {
	switch {
	case !utf8.ValidString(s):
		return Errorf(EINVALID, reason, "%s is not valid UTF-8", what)
	case s == "":
		return Errorf(EINVALID, reason, "%s is empty", what)
	case len(s) > max:
		return Errorf(EINVALID, reason, "%s is %d bytes; the limit is %d", what, len(s), max)
	case strings.ContainsAny(s, "\n\t") || checkControl(what, s) != nil:
		return Errorf(EINVALID, reason, "%s must be one line without control characters", what)
	}
	return nil
}

func validateParticipants(in []Participant) ([]Participant, error) {
	if len(in) == 0 || len(in) > MaxParticipants {
		return nil, Errorf(EINVALID, "PARTICIPANTS_INVALID", "a negotiation has 1 to %d participants, not %d", MaxParticipants, len(in))
	}
	out := make([]Participant, len(in))
	seen := make(map[string]bool, len(in))
	delegations, mediators := 0, 0
	for i, p := range in {
		if seen[p.ID] {
			return nil, Errorf(EINVALID, "PARTICIPANT_DUPLICATE", "participant %q is listed twice", p.ID)
		}
		p, err := validateParticipant(p)
		if err != nil {
			return nil, err
		}
		seen[p.ID] = true
		switch p.Role {
		case RoleDelegation:
			delegations++
		case RoleMediator:
			mediators++
		}
		out[i] = p
	}
	// Only a mediator applies or rejects what passed, and only delegations
	// vote, sign off and accept: without either, the negotiation could
	// never conclude.
	switch {
	case delegations == 0:
		return nil, Errorf(EINVALID, "NO_DELEGATION", "a negotiation needs at least one delegation: only delegations vote, sign off and accept")
	case mediators == 0:
		return nil, Errorf(EINVALID, "NO_MEDIATOR", "a negotiation needs at least one mediator: only a mediator applies or rejects an amendment that passed, so without one the negotiation could never conclude")
	}
	return out, nil
}

// validateParticipant checks one participant and returns it as recorded:
// display name trimmed (the id if none), a delegation's weight at least 1,
// no members (they are added by AddMember, each an event).
func validateParticipant(p Participant) (Participant, error) {
	switch {
	case !participantIDPattern.MatchString(p.ID):
		return p, Errorf(EINVALID, "PARTICIPANT_ID_INVALID", "participant id %.70q must be a lowercase letter then up to 62 lowercase letters, digits or hyphens", p.ID)
	case p.ID == AdminActor:
		return p, Errorf(EINVALID, "PARTICIPANT_ID_INVALID", "participant id %q is reserved", p.ID)
	case p.Role < RoleDelegation || p.Role > RoleObserver:
		return p, Errorf(EINVALID, "ROLE_INVALID", "participant %q needs a role: delegation, mediator or observer", p.ID)
	case p.Weight < 0 || p.Weight > MaxWeight:
		return p, Errorf(EINVALID, "WEIGHT_INVALID", "participant %q has weight %d; weights are 0 to %d", p.ID, p.Weight, MaxWeight)
	case p.Role != RoleDelegation && p.Weight != 0:
		return p, Errorf(EINVALID, "WEIGHT_INVALID", "participant %q is not a delegation and so cannot have a weight", p.ID)
	}
	p.Members = nil
	p.DisplayName = strings.TrimSpace(p.DisplayName)
	if p.DisplayName == "" {
		p.DisplayName = p.ID
	}
	if err := validateLine("display name of "+p.ID, "DISPLAY_NAME_INVALID", p.DisplayName, MaxDisplayNameBytes); err != nil {
		return p, err
	}
	if p.Role == RoleDelegation && p.Weight == 0 {
		p.Weight = 1
	}
	return p, nil
}

func validateRule(r DecisionRule, participants []Participant) (DecisionRule, error) {
	delegations := int32(0)
	for _, p := range participants {
		if p.Role == RoleDelegation {
			delegations++
		}
	}
	switch {
	case r.Method < MethodConsensus || r.Method > MethodQualified:
		return r, Errorf(EINVALID, "DECISION_RULE_INVALID", "decision rule needs a method: consensus, unanimity, majority or qualified")
	case r.Quorum < 0 || r.Quorum > delegations:
		return r, Errorf(EINVALID, "QUORUM_INVALID", "quorum %d is not between 0 and the %d delegations", r.Quorum, delegations)
	case r.Method == MethodQualified && (r.ThresholdBasisPoints < 1 || r.ThresholdBasisPoints > 10000):
		return r, Errorf(EINVALID, "THRESHOLD_INVALID", "a qualified majority needs a threshold of 1 to 10000 basis points, not %d", r.ThresholdBasisPoints)
	case r.Method != MethodQualified && r.ThresholdBasisPoints != 0:
		return r, Errorf(EINVALID, "THRESHOLD_INVALID", "only a qualified majority takes a threshold")
	}
	return r, nil
}

func (d *decider) propose(c ProposeAmendment) error {
	// A mediator proposes too: its compromise text is voted on by the
	// delegations like any other amendment.
	if err := d.act("propose amendments", RoleDelegation, RoleMediator); err != nil {
		return err
	}
	var parts []Part
	var text string
	if c.Parts != nil {
		var err error
		if err = d.checkProposal(c); err != nil {
			return err
		}
		if parts, err = d.checkPackage(c); err != nil {
			return err
		}
	} else {
		var err error
		if text, err = checkChangeText(c.Kind, c.Text); err != nil {
			return err
		}
		if err := d.checkProposal(c); err != nil {
			return err
		}
		if err := d.checkChangeTarget(Part{Kind: c.Kind, PointID: c.PointID, BaseRevision: c.BaseRevision, Text: text}); err != nil {
			return err
		}
		parts = []Part{{Kind: c.Kind, PointID: c.PointID}}
	}
	if c.CounterTo != "" {
		if err := d.checkCounter(c.CounterTo, parts); err != nil {
			return err
		}
	}
	deadline, err := d.votingDeadline(c.Deadline)
	if err != nil {
		return err
	}
	proposed := AmendmentProposed{AmendmentID: c.AmendmentID, Rationale: strings.TrimSpace(c.Rationale), CounterTo: c.CounterTo, Deadline: deadline}
	if c.Parts != nil {
		proposed.Parts = parts
	} else {
		proposed.Kind, proposed.PointID, proposed.BaseRevision, proposed.Text = c.Kind, c.PointID, c.BaseRevision, text
	}
	d.emit(proposed)
	return nil
}

// checkChangeText checks the kind and text of one change and returns the
// text normalized.
func checkChangeText(kind AmendmentKind, text string) (string, error) {
	text = NormalizeText(text)
	switch kind {
	case KindReplace, KindInsert:
		if err := ValidatePointText("amendment text", text); err != nil {
			return "", err
		}
	case KindDelete:
		if text != "" {
			return "", Errorf(EINVALID, "TEXT_NOT_ALLOWED", "a DELETE amendment carries no text")
		}
	default:
		return "", Errorf(EINVALID, "KIND_INVALID", "amendment kind must be REPLACE, INSERT or DELETE")
	}
	return text, nil
}

// checkProposal checks what every proposal carries besides its changes: the
// rationale and a new amendment id.
func (d *decider) checkProposal(c ProposeAmendment) error {
	rationale := strings.TrimSpace(c.Rationale)
	if err := validateFreeText("rationale", "RATIONALE_TOO_LONG", rationale, MaxRationaleBytes); err != nil {
		return err
	}
	if c.AmendmentID == "" {
		return Errorf(EINVALID, "AMENDMENT_ID_REQUIRED", "amendment id is required")
	}
	if _, exists := d.n.Amendments[c.AmendmentID]; exists {
		return Errorf(EALREADYEXISTS, "AMENDMENT_EXISTS", "amendment %s exists already", c.AmendmentID)
	}
	return nil
}

// checkChangeTarget checks the point and base revision of one change, whose
// text is normalized: a REPLACE or DELETE names a point of the document at
// its current revision, an INSERT an anchor in it (or none) and no revision.
func (d *decider) checkChangeTarget(c Part) error {
	if c.Kind == KindInsert {
		if c.BaseRevision != 0 {
			return Errorf(EINVALID, "BASE_REVISION_INVALID", "an INSERT has no base revision; send 0")
		}
		if c.PointID != "" {
			if _, err := d.livePoint(c.PointID); err != nil {
				return err
			}
		}
		if len(d.n.Order) >= MaxPoints {
			return Errorf(ERESOURCEEXHAUSTED, "TOO_MANY_POINTS", "the document has %d points, the limit", MaxPoints)
		}
		return nil
	}
	if c.PointID == "" {
		return Errorf(EINVALID, "POINT_REQUIRED", "a %s amendment names the point it changes", c.Kind)
	}
	if c.BaseRevision < 1 {
		return Errorf(EINVALID, "BASE_REVISION_INVALID", "base revision must be the revision the amendment was drafted against, 1 or more")
	}
	p, err := d.livePoint(c.PointID)
	if err != nil {
		return err
	}
	if current := p.Current(); c.BaseRevision > current.Revision {
		return Errorf(EINVALID, "REVISION_UNKNOWN", "point %d has no revision %d: it is at revision %d", d.n.PointNumber(p.ID), c.BaseRevision, current.Revision)
	} else if c.BaseRevision != current.Revision {
		return Errorf(EABORTED, "STALE_REVISION", "point %d is at revision %d, not %d: read it again and redraft", d.n.PointNumber(p.ID), current.Revision, c.BaseRevision)
	} else if c.Kind == KindReplace && c.Text == current.Text {
		return Errorf(EINVALID, "TEXT_UNCHANGED", "the new text is the same as point %d's current text", d.n.PointNumber(p.ID))
	}
	if c.Kind == KindDelete && len(d.n.Order) == 1 {
		return Errorf(EFAILEDPRECONDITION, "LAST_POINT", "the last point of a document cannot be deleted")
	}
	return nil
}

// checkCounter checks that a counter-proposal answers a pending amendment of
// the same point: a REPLACE or DELETE answers a REPLACE or DELETE of the same
// point (they compete for its text), an INSERT an INSERT after the same point.
// A package deal answers, or is answered by, an amendment with which one of
// its parts shares a point in that way.
func (d *decider) checkCounter(counterTo string, parts []Part) error {
	target, ok := d.n.Amendments[counterTo]
	if !ok {
		return Errorf(ENOTFOUND, "COUNTER_TARGET_NOT_FOUND", "amendment %s, which this one would answer, is not in this negotiation", counterTo)
	}
	if !target.State.Pending() {
		return Errorf(EFAILEDPRECONDITION, "COUNTER_TARGET_NOT_PENDING", "the amendment answered is %s: only an OPEN or PASSED amendment can be countered", target.State)
	}
	if !sharesPoint(target.Changes(), parts) {
		if target.IsPackage() {
			return Errorf(EINVALID, "COUNTER_POINT_MISMATCH", "a counter-proposal changes a point of the package deal it answers, as one of its parts does")
		}
		return Errorf(EINVALID, "COUNTER_POINT_MISMATCH", "a counter-proposal changes the same point as the amendment it answers (%s of point %d)", target.Kind, d.n.PointNumber(target.PointID))
	}
	return nil
}

func (d *decider) postComment(c PostComment) error {
	roles := []Role{RoleDelegation, RoleMediator}
	if d.n.ObserversMayComment {
		roles = append(roles, RoleObserver)
	}
	if err := d.act("comment", roles...); err != nil {
		return err
	}
	text := NormalizeText(c.Text)
	if err := validateFreeText("comment", "COMMENT_TOO_LONG", text, MaxCommentBytes); err != nil {
		return err
	}
	if strings.TrimSpace(text) == "" {
		return Errorf(EINVALID, "COMMENT_EMPTY", "a comment needs some text")
	}
	if c.CommentID == "" {
		return Errorf(EINVALID, "COMMENT_ID_REQUIRED", "comment id is required")
	}
	if _, exists := d.n.Comments[c.CommentID]; exists {
		return Errorf(EALREADYEXISTS, "COMMENT_EXISTS", "comment %s exists already", c.CommentID)
	}
	given := 0
	for _, id := range []string{c.PointID, c.AmendmentID, c.ParentID} {
		if id != "" {
			given++
		}
	}
	switch {
	case given == 0:
		return Errorf(EINVALID, "SUBJECT_REQUIRED", "a comment names the point or amendment it discusses, or the comment it replies to")
	case given > 1:
		return Errorf(EINVALID, "SUBJECT_CONFLICT", "a comment names one of a point, an amendment or a comment to reply to, not several")
	}
	posted := CommentPosted{CommentID: c.CommentID, Text: text}
	switch {
	case c.PointID != "":
		if _, err := d.livePoint(c.PointID); err != nil {
			return err
		}
		posted.PointID = c.PointID
	case c.AmendmentID != "":
		if _, err := d.amendment(c.AmendmentID); err != nil {
			return err
		}
		posted.AmendmentID = c.AmendmentID
	default:
		parent, ok := d.n.Comments[c.ParentID]
		if !ok {
			return Errorf(ENOTFOUND, "COMMENT_NOT_FOUND", "comment %s not found", c.ParentID)
		}
		if parent.Retracted {
			return Errorf(EFAILEDPRECONDITION, "COMMENT_RETRACTED", "comment %s was retracted by its author and takes no replies", c.ParentID)
		}
		posted.ParentID, posted.PointID, posted.AmendmentID = parent.ID, parent.PointID, parent.AmendmentID
	}
	if len(d.n.Comments) >= MaxComments {
		return Errorf(ERESOURCEEXHAUSTED, "TOO_MANY_COMMENTS", "the negotiation has %d comments, the limit", MaxComments)
	}
	d.emit(posted)
	return nil
}

func (d *decider) retractComment(c RetractComment) error {
	if err := d.act("retract comments", RoleDelegation, RoleMediator, RoleObserver); err != nil {
		return err
	}
	comment, ok := d.n.Comments[c.CommentID]
	if !ok {
		return Errorf(ENOTFOUND, "COMMENT_NOT_FOUND", "comment %s not found", c.CommentID)
	}
	if comment.Author != d.m.Actor {
		return Errorf(EPERMISSION, "NOT_AUTHOR", "only its author %q can retract this comment", comment.Author)
	}
	if comment.Retracted {
		return Errorf(EFAILEDPRECONDITION, "COMMENT_RETRACTED", "comment %s was retracted already", c.CommentID)
	}
	d.emit(CommentRetracted{CommentID: c.CommentID})
	return nil
}

func (d *decider) castVote(c CastVote) error {
	if err := d.act("vote", RoleDelegation); err != nil {
		return err
	}
	if c.Choice < ChoiceApprove || c.Choice > ChoiceAbstain {
		return Errorf(EINVALID, "CHOICE_INVALID", "a vote is APPROVE, REJECT or ABSTAIN")
	}
	reason := strings.TrimSpace(c.Reason)
	if err := validateFreeText("reason", "REASON_TOO_LONG", reason, MaxReasonBytes); err != nil {
		return err
	}
	if c.Choice == ChoiceReject && reason == "" {
		return Errorf(EINVALID, "REASON_REQUIRED", "a REJECT vote needs a reason")
	}
	a, err := d.openAmendment(c.AmendmentID)
	if err != nil {
		return err
	}
	if err := d.checkVoteConsent(c.Consent, a, c.Choice, reason); err != nil {
		return err
	}
	if v, ok := a.Votes[d.m.Actor]; ok && v.Choice == c.Choice && v.Reason == reason && memberOr(v.Member, v.Participant) == d.member() {
		return nil
	}
	d.emit(VoteCast{AmendmentID: a.ID, Choice: c.Choice, Reason: reason, Consent: c.Consent})
	voted := len(a.Votes)
	if _, ok := a.Votes[d.m.Actor]; !ok {
		voted++
	}
	if voted == len(d.n.Delegations()) {
		d.emit(VotingClosed{AmendmentID: a.ID, Tally: d.n.tally(a, d.m.Actor, c.Choice, false)})
	}
	return nil
}

// tally counts the votes on a, with the vote of override (if not empty)
// replaced by choice.
func (n *Negotiation) tally(a *Amendment, override string, choice VoteChoice, byMediator bool) Tally {
	t := n.tallyOf(a, n.Delegations(), override, choice)
	t.ClosedByMediator = byMediator
	return t
}

// RuleOf returns the rule version that decides an amendment: the one in
// force when it was proposed.
func (n *Negotiation) RuleOf(a *Amendment) RuleVersion {
	v := max(a.RuleVersion, 1)
	if v > len(n.Rules) {
		return RuleVersion{Rule: n.Rule}
	}
	return n.Rules[v-1]
}

// tallyOf counts the votes of the given delegations on a under the rule that
// decides a, with the vote of override (if not empty) replaced by choice.
func (n *Negotiation) tallyOf(a *Amendment, delegations []string, override string, choice VoteChoice) Tally {
	var t Tally
	rv := n.RuleOf(a)
	for _, id := range delegations {
		weight, ok := rv.Weights[id]
		if !ok {
			p, _ := n.Participant(id)
			weight = p.Weight
		}
		t.TotalWeight += int64(weight)
		c := a.Votes[id].Choice
		if id == override {
			c = choice
		}
		switch c {
		case ChoiceApprove:
			t.Approve++
			t.ApprovingWeight += int64(weight)
		case ChoiceReject:
			t.Reject++
		case ChoiceAbstain:
			t.Abstain++
		default:
			t.NotVoted++
		}
	}
	rule := rv.Rule
	t.QuorumMet = t.Approve+t.Reject+t.Abstain >= rule.Quorum
	var met bool
	switch rule.Method {
	case MethodConsensus:
		met = t.Reject == 0 && t.Approve >= 1
	case MethodUnanimity:
		met = int(t.Approve) == len(delegations)
	case MethodMajority:
		met = 2*int(t.Approve) > len(delegations)
	case MethodQualified:
		met = t.ApprovingWeight*10000 >= int64(rule.ThresholdBasisPoints)*t.TotalWeight
	}
	t.Passed = t.QuorumMet && met
	return t
}

func (d *decider) closeVoting(c CloseVoting) error {
	if err := d.act("close voting", RoleMediator); err != nil {
		return err
	}
	a, err := d.openAmendment(c.AmendmentID)
	if err != nil {
		return err
	}
	d.emit(VotingClosed{AmendmentID: a.ID, Tally: d.n.tally(a, "", 0, true)})
	return nil
}

func (d *decider) apply(c ApplyAmendment) error {
	if err := d.act("apply amendments", RoleMediator); err != nil {
		return err
	}
	a, err := d.amendment(c.AmendmentID)
	if err != nil {
		return err
	}
	if a.State != AmendmentStatePassed {
		return Errorf(EFAILEDPRECONDITION, "AMENDMENT_NOT_PASSED", "only a PASSED amendment can be applied; this one is %s", a.State)
	}
	if a.IsPackage() {
		return d.applyPackage(a, c)
	}
	var staled []string
	switch a.Kind {
	case KindReplace, KindDelete:
		p, err := d.livePoint(a.PointID)
		if err != nil {
			return err
		}
		if p.Current().Revision != a.BaseRevision {
			return Errorf(EABORTED, "STALE_REVISION", "point %d changed since the amendment was drafted", d.n.PointNumber(p.ID))
		}
		if a.Kind == KindDelete && len(d.n.Order) == 1 {
			return Errorf(EFAILEDPRECONDITION, "LAST_POINT", "the last point of a document cannot be deleted")
		}
		if a.Kind == KindReplace {
			text := a.Text
			d.emit(AmendmentApplied{AmendmentID: a.ID, PointID: p.ID, Revision: p.Current().Revision + 1, TextHash: HashText(text)})
		} else {
			d.emit(AmendmentApplied{AmendmentID: a.ID, PointID: p.ID})
		}
		for _, other := range d.n.AmendmentsOfPoint(p.ID) {
			o := d.n.Amendments[other]
			if other != a.ID && o.State.Pending() && outdatedBy(o, p.ID, a.Kind) {
				staled = append(staled, other)
			}
		}
	case KindInsert:
		if a.PointID != "" {
			if _, err := d.livePoint(a.PointID); err != nil {
				return err
			}
		}
		if c.NewPointID == "" {
			return Errorf(EINVALID, "POINT_ID_INVALID", "an INSERT needs the id of its new point")
		}
		if _, exists := d.n.Points[c.NewPointID]; exists {
			return Errorf(EALREADYEXISTS, "POINT_EXISTS", "point %s exists already", c.NewPointID)
		}
		if len(d.n.Order) >= MaxPoints {
			return Errorf(ERESOURCEEXHAUSTED, "TOO_MANY_POINTS", "the document has %d points, the limit", MaxPoints)
		}
		d.emit(AmendmentApplied{AmendmentID: a.ID, PointID: c.NewPointID, Revision: 1, TextHash: HashText(a.Text)})
	}
	for _, id := range staled {
		d.emit(AmendmentStaled{AmendmentID: id, CauseAmendmentID: a.ID})
	}
	return nil
}

func (d *decider) reject(c RejectAmendment) error {
	if err := d.act("reject amendments", RoleMediator); err != nil {
		return err
	}
	reason := strings.TrimSpace(c.Reason)
	if err := validateFreeText("reason", "REASON_TOO_LONG", reason, MaxReasonBytes); err != nil {
		return err
	}
	if reason == "" {
		return Errorf(EINVALID, "REASON_REQUIRED", "a mediator's rejection needs a reason")
	}
	a, err := d.amendment(c.AmendmentID)
	if err != nil {
		return err
	}
	if a.State != AmendmentStatePassed {
		return Errorf(EFAILEDPRECONDITION, "AMENDMENT_NOT_PASSED", "only a PASSED amendment can be rejected; this one is %s", a.State)
	}
	d.emit(AmendmentRejected{AmendmentID: a.ID, Reason: reason})
	return nil
}

func (d *decider) withdraw(c WithdrawAmendment) error {
	if err := d.act("withdraw amendments", RoleDelegation, RoleMediator); err != nil {
		return err
	}
	a, err := d.amendment(c.AmendmentID)
	if err != nil {
		return err
	}
	if a.Proposer != d.m.Actor {
		return Errorf(EPERMISSION, "NOT_PROPOSER", "only its proposer %q can withdraw this amendment", a.Proposer)
	}
	if !a.State.Pending() {
		return Errorf(EFAILEDPRECONDITION, "AMENDMENT_NOT_PENDING", "only an OPEN or PASSED amendment can be withdrawn; this one is %s", a.State)
	}
	d.emit(AmendmentWithdrawn{AmendmentID: a.ID})
	return nil
}

func (d *decider) signOff(c SignOffPoint) error {
	if err := d.act("sign off points", RoleDelegation); err != nil {
		return err
	}
	if err := d.mayCommit("sign off points"); err != nil {
		return err
	}
	p, record, err := d.checkSignOff(SignOffItem{PointID: c.PointID, Revision: c.Revision, TextHash: c.TextHash})
	if err != nil {
		return err
	}
	current := p.Current()
	if err := d.checkSignOffConsent(c.Consent, p.ID, current); err != nil || !record {
		return err
	}
	d.emit(PointSignedOff{PointID: p.ID, Revision: current.Revision, TextHash: current.TextHash, Checkpoint: c.Checkpoint, Consent: c.Consent})
	d.concludeIfComplete(map[string]bool{p.ID: true}, "")
	return nil
}

// checkSignOff checks one sign-off and says whether it records anything: a
// second sign-off of the same revision does not.
func (d *decider) checkSignOff(c SignOffItem) (*Point, bool, error) {
	if c.Revision < 1 {
		return nil, false, Errorf(EINVALID, "REVISION_INVALID", "revision must be 1 or more")
	}
	if !sha256HexPattern.MatchString(c.TextHash) {
		return nil, false, Errorf(EINVALID, "HASH_INVALID", "text_sha256 must be 64 lowercase hex digits")
	}
	p, err := d.livePoint(c.PointID)
	if err != nil {
		return nil, false, err
	}
	current := p.Current()
	if c.Revision > current.Revision {
		return nil, false, Errorf(EINVALID, "REVISION_UNKNOWN", "point %d has no revision %d: it is at revision %d", d.n.PointNumber(p.ID), c.Revision, current.Revision)
	}
	if c.Revision != current.Revision {
		return nil, false, Errorf(EABORTED, "STALE_REVISION", "point %d is at revision %d, not %d: read it again", d.n.PointNumber(p.ID), current.Revision, c.Revision)
	}
	if c.TextHash != current.TextHash {
		return nil, false, Errorf(EABORTED, "TEXT_HASH_MISMATCH", "the hash given is not that of point %d's text at revision %d", d.n.PointNumber(p.ID), current.Revision)
	}
	if s, ok := p.SignOffs[d.m.Actor]; ok && s.Revision == current.Revision {
		return p, false, nil
	}
	return p, true, nil
}

// batchSize checks the number of items of a batch command.
func batchSize(n int) error {
	if n < 1 || n > MaxPoints {
		return Errorf(EINVALID, "BATCH_SIZE_INVALID", "a batch holds 1 to %d items, not %d", MaxPoints, n)
	}
	return nil
}

// itemError names the item of a batch that refused the whole batch, keeping
// the item's code and reason.
func itemError(i int, err error) error {
	return Errorf(ErrorCode(err), ErrorReason(err), "item %d: %s", i+1, ErrorMessage(err))
}

func (d *decider) signOffPoints(c SignOffPoints) error {
	if err := d.act("sign off points", RoleDelegation); err != nil {
		return err
	}
	if err := d.mayCommit("sign off points"); err != nil {
		return err
	}
	if err := batchSize(len(c.Items)); err != nil {
		return err
	}
	signed := make(map[string]bool, len(c.Items))
	seen := make(map[string]bool, len(c.Items))
	var payloads []Payload
	for i, item := range c.Items {
		if seen[item.PointID] {
			return itemError(i, Errorf(EINVALID, "BATCH_DUPLICATE_POINT", "point %s is in the batch twice", item.PointID))
		}
		seen[item.PointID] = true
		p, record, err := d.checkSignOff(item)
		if err != nil {
			return itemError(i, err)
		}
		if err := d.checkSignOffConsent(item.Consent, p.ID, p.Current()); err != nil {
			return itemError(i, err)
		}
		if record {
			current := p.Current()
			signed[p.ID] = true
			payloads = append(payloads, PointSignedOff{PointID: p.ID, Revision: current.Revision, TextHash: current.TextHash, Checkpoint: c.Checkpoint, Consent: item.Consent})
		}
	}
	for _, p := range payloads {
		d.emit(p)
	}
	if len(signed) > 0 {
		d.concludeIfComplete(signed, "")
	}
	return nil
}

func (d *decider) revokeSignOff(c RevokeSignOff) error {
	if err := d.act("revoke sign-offs", RoleDelegation); err != nil {
		return err
	}
	if err := d.mayCommit("revoke sign-offs"); err != nil {
		return err
	}
	payload, err := d.checkRevoke(c.PointID)
	if err != nil {
		return err
	}
	d.emit(payload)
	return nil
}

func (d *decider) checkRevoke(pointID string) (SignOffRevoked, error) {
	p, err := d.livePoint(pointID)
	if err != nil {
		return SignOffRevoked{}, err
	}
	s, ok := p.SignOffs[d.m.Actor]
	if !ok || s.Revision != p.Current().Revision {
		return SignOffRevoked{}, Errorf(EFAILEDPRECONDITION, "NOT_SIGNED_OFF", "%s has not signed off point %d at its current revision", d.m.Actor, d.n.PointNumber(p.ID))
	}
	return SignOffRevoked{PointID: p.ID, Revision: s.Revision}, nil
}

func (d *decider) revokeSignOffs(c RevokeSignOffs) error {
	if err := d.act("revoke sign-offs", RoleDelegation); err != nil {
		return err
	}
	if err := d.mayCommit("revoke sign-offs"); err != nil {
		return err
	}
	if err := batchSize(len(c.PointIDs)); err != nil {
		return err
	}
	seen := make(map[string]bool, len(c.PointIDs))
	payloads := make([]Payload, 0, len(c.PointIDs))
	for i, id := range c.PointIDs {
		if seen[id] {
			return itemError(i, Errorf(EINVALID, "BATCH_DUPLICATE_POINT", "point %s is in the batch twice", id))
		}
		seen[id] = true
		payload, err := d.checkRevoke(id)
		if err != nil {
			return itemError(i, err)
		}
		payloads = append(payloads, payload)
	}
	for _, p := range payloads {
		d.emit(p)
	}
	return nil
}

func (d *decider) accept(c AcceptDocument) error {
	if err := d.act("accept the document", RoleDelegation); err != nil {
		return err
	}
	if err := d.mayCommit("accept the document"); err != nil {
		return err
	}
	if !sha256HexPattern.MatchString(c.DocumentHash) {
		return Errorf(EINVALID, "HASH_INVALID", "document_sha256 must be 64 lowercase hex digits")
	}
	if pending := d.n.PendingAmendments(); pending > 0 {
		return Errorf(EFAILEDPRECONDITION, "AMENDMENTS_PENDING", "%s still OPEN or PASSED", countVerb(pending, "amendment is", "amendments are"))
	}
	if agreed := d.n.AgreedPoints(); agreed < len(d.n.Order) {
		return Errorf(EFAILEDPRECONDITION, "POINTS_NOT_AGREED", "%d of %d points %s agreed: every delegation must sign off every point first",
			agreed, len(d.n.Order), map[bool]string{true: "is", false: "are"}[agreed == 1])
	}
	if c.DocumentHash != d.n.DocumentHash() {
		return Errorf(EABORTED, "DOCUMENT_HASH_MISMATCH", "the hash given is not that of the current text: read the document again")
	}
	if err := d.checkAcceptanceConsent(c.Consent, c.DocumentHash); err != nil {
		return err
	}
	if a, ok := d.n.Acceptances[d.m.Actor]; ok && a.DocumentHash == c.DocumentHash {
		return nil
	}
	d.emit(DocumentAccepted{DocumentHash: c.DocumentHash, Checkpoint: c.Checkpoint, Consent: c.Consent})
	d.concludeIfComplete(nil, d.m.Actor)
	return nil
}

func (d *decider) withdrawAcceptance() error {
	if err := d.act("withdraw an acceptance", RoleDelegation); err != nil {
		return err
	}
	if err := d.mayCommit("withdraw an acceptance"); err != nil {
		return err
	}
	a, ok := d.n.Acceptances[d.m.Actor]
	if !ok {
		return Errorf(EFAILEDPRECONDITION, "NOT_ACCEPTED", "%s has no acceptance to withdraw", d.m.Actor)
	}
	d.emit(AcceptanceWithdrawn{DocumentHash: a.DocumentHash})
	return nil
}

// concludeIfComplete emits NegotiationConcluded if, counting the actor's
// sign-offs of signedPoints or the acceptance of acceptedBy being decided,
// every point is agreed, no amendment is pending and every delegation
// accepted the current text.
func (d *decider) concludeIfComplete(signedPoints map[string]bool, acceptedBy string) {
	n := d.n
	if n.PendingAmendments() > 0 {
		return
	}
	hash := n.DocumentHash()
	for _, id := range n.Delegations() {
		if a, ok := n.Acceptances[id]; id != acceptedBy && (!ok || a.DocumentHash != hash) {
			return
		}
	}
	for _, pid := range n.Order {
		p := n.Points[pid]
		current := p.Current().Revision
		for _, id := range n.Delegations() {
			if signedPoints[pid] && id == d.m.Actor {
				continue
			}
			if s, ok := p.SignOffs[id]; !ok || s.Revision != current {
				return
			}
		}
	}
	d.emit(NegotiationConcluded{DocumentHash: hash})
}

// manage checks that the actor may manage a participant's members and their
// credentials: the administrator may; a head of the participant may, for its
// other named members, which are no heads. It returns the participant.
func (d *decider) manage(participant, member string) (Participant, error) {
	p, ok := d.n.Participant(participant)
	if d.m.Actor == AdminActor {
		if !ok {
			return p, Errorf(ENOTFOUND, "PARTICIPANT_NOT_FOUND", "participant %.70q not found", participant)
		}
		return p, nil
	}
	self, _ := d.n.Participant(d.m.Actor)
	head, _ := self.Member(d.member())
	if !head.Head {
		return p, Errorf(EPERMISSION, "ADMIN_ONLY", "only the administrator or a head of the participant manages its members and credentials")
	}
	if participant != d.m.Actor {
		return p, Errorf(EPERMISSION, "NOT_YOUR_PARTICIPANT", "a head manages the members of its own participant only, not of %.70q", participant)
	}
	if key := MemberKey(participant, member); key == participant {
		return p, Errorf(EPERMISSION, "ADMIN_ONLY", "only the administrator manages the default member's credential")
	}
	if m, ok := p.Member(member); ok && m.Head {
		return p, Errorf(EPERMISSION, "ADMIN_ONLY", "only the administrator manages a head's credential")
	}
	return p, nil
}

// credentialTarget checks the target of a credential command and says
// whether it holds a token now.
func (d *decider) credentialTarget(participant, member string) (bool, error) {
	p, err := d.manage(participant, member)
	if err != nil {
		return false, err
	}
	if key := MemberKey(participant, member); key != participant {
		if _, ok := p.Member(member); !ok {
			return false, Errorf(ENOTFOUND, "MEMBER_NOT_FOUND", "%s has no member %.70q", participant, member)
		}
	}
	_, has := d.n.Credentials[MemberKey(participant, member)]
	return has, nil
}

// credentialMember is the member field of a credential event: empty for the
// default member, as in logs written before members existed.
func credentialMember(participant, member string) string {
	if member == participant {
		return ""
	}
	return member
}

func (d *decider) issueCredential(c IssueCredential) error {
	has, err := d.credentialTarget(c.Participant, c.Member)
	if err != nil {
		return err
	}
	who := MemberKey(c.Participant, c.Member)
	if !sha256HexPattern.MatchString(c.TokenHash) {
		return Errorf(EINVALID, "HASH_INVALID", "token hash must be 64 lowercase hex digits")
	}
	if has && !c.Rotate {
		return Errorf(EALREADYEXISTS, "CREDENTIAL_EXISTS", "%s has a token already: rotate it instead", who)
	}
	if !has && c.Rotate {
		return Errorf(EFAILEDPRECONDITION, "NO_CREDENTIAL", "%s has no token to rotate: issue one instead", who)
	}
	d.emit(CredentialIssued{Participant: c.Participant, Member: credentialMember(c.Participant, c.Member), TokenHash: c.TokenHash, Rotated: c.Rotate})
	return nil
}

func (d *decider) revokeCredential(c RevokeCredential) error {
	has, err := d.credentialTarget(c.Participant, c.Member)
	if err != nil {
		return err
	}
	if !has {
		return Errorf(EFAILEDPRECONDITION, "NO_CREDENTIAL", "%s has no token to revoke", MemberKey(c.Participant, c.Member))
	}
	d.emit(CredentialRevoked{Participant: c.Participant, Member: credentialMember(c.Participant, c.Member)})
	return nil
}

func (d *decider) addMember(c AddMember) error {
	p, err := d.manage(c.Participant, c.Member)
	if err != nil {
		return err
	}
	if c.Head && d.m.Actor != AdminActor {
		return Errorf(EPERMISSION, "ADMIN_ONLY", "only the administrator makes a head")
	}
	switch {
	case !participantIDPattern.MatchString(c.Member) || c.Member == AdminActor:
		return Errorf(EINVALID, "MEMBER_ID_INVALID", "member id %.70q must be a lowercase letter then up to 62 lowercase letters, digits or hyphens, and not %q", c.Member, AdminActor)
	case c.Member == p.ID:
		return Errorf(EINVALID, "MEMBER_ID_INVALID", "member id %q is the participant's own: it names its default member", c.Member)
	}
	if _, exists := p.Member(c.Member); exists {
		return Errorf(EALREADYEXISTS, "MEMBER_EXISTS", "%s has a member %q already", p.ID, c.Member)
	}
	if len(p.Members) >= MaxMembers {
		return Errorf(ERESOURCEEXHAUSTED, "TOO_MANY_MEMBERS", "%s has %d members, the limit", p.ID, MaxMembers)
	}
	name := strings.TrimSpace(c.DisplayName)
	if name == "" {
		name = c.Member
	}
	if err := validateLine("display name of "+c.Member, "DISPLAY_NAME_INVALID", name, MaxDisplayNameBytes); err != nil {
		return err
	}
	d.emit(MemberAdded{Participant: p.ID, Member: c.Member, DisplayName: name, Head: c.Head})
	return nil
}

func (d *decider) removeMember(c RemoveMember) error {
	p, err := d.manage(c.Participant, c.Member)
	if err != nil {
		return err
	}
	if MemberKey(c.Participant, c.Member) == c.Participant {
		return Errorf(EINVALID, "DEFAULT_MEMBER", "the default member of %s cannot be removed: revoke its token instead", p.ID)
	}
	if _, ok := p.Member(c.Member); !ok {
		return Errorf(ENOTFOUND, "MEMBER_NOT_FOUND", "%s has no member %.70q", p.ID, c.Member)
	}
	d.emit(MemberRemoved{Participant: p.ID, Member: c.Member})
	return nil
}

// memberOr returns member, or def if it is empty (a record from before
// members existed).
func memberOr(member, def string) string {
	if member == "" {
		return def
	}
	return member
}

// countVerb writes a count with its noun and verb: "1 amendment is", "2
// amendments are".
func countVerb(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func (d *decider) rotateCheckpointKey(c RotateCheckpointKey) error {
	if d.m.Actor != AdminActor {
		return Errorf(EPERMISSION, "ADMIN_ONLY", "only the server's operator rotates the checkpoint key")
	}
	if c.VerifierKey == "" || c.VerifierKey == c.PreviousVerifierKey {
		return Errorf(EINVALID, "VERIFIER_KEY_INVALID", "a key rotation names a new key")
	}
	d.emit(CheckpointKeyRotated{VerifierKey: c.VerifierKey, PreviousVerifierKey: c.PreviousVerifierKey})
	return nil
}
