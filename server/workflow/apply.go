package workflow

import "slices"

// Fold builds a negotiation's state from its whole log.
func Fold(events []Event) (*Negotiation, error) {
	n := &Negotiation{}
	for _, e := range events {
		if err := n.Apply(e); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Apply folds one event into the state. Events come from Decide, or from a
// log that Decide wrote, so an error here means the log is corrupt or out of
// order; the state must then be thrown away.
func (n *Negotiation) Apply(e Event) error {
	if e.Sequence != n.LastSequence+1 {
		return corrupt("event %d follows event %d", e.Sequence, n.LastSequence)
	}
	if _, created := e.Payload.(NegotiationCreated); created != (n.LastSequence == 0) {
		return corrupt("event %d: a log starts with NegotiationCreated, and only there", e.Sequence)
	}
	if n.LastSequence > 0 && e.NegotiationID != n.ID {
		return corrupt("event %d belongs to negotiation %s, not %s", e.Sequence, e.NegotiationID, n.ID)
	}
	if err := n.applyPayload(e); err != nil {
		return err
	}
	n.LastSequence = e.Sequence
	n.LastEventAt = e.At
	return nil
}

func corrupt(format string, args ...any) error {
	return Errorf(EINTERNAL, "LOG_CORRUPT", format, args...)
}

func (n *Negotiation) applyPayload(e Event) error {
	switch p := e.Payload.(type) {
	case NegotiationCreated:
		*n = Negotiation{
			ID:           e.NegotiationID,
			Title:        p.Title,
			State:        NegotiationStateOpen,
			Participants: slices.Clone(p.Participants),
			Rule:         p.Rule,
			CreatedAt:    e.At,
			Points:       map[string]*Point{},
			Amendments:   map[string]*Amendment{},
			Acceptances:  map[string]Acceptance{},
			Credentials:  map[string]string{},
			Rules:        []RuleVersion{initialRule(p.Rule, p.Participants, e.Sequence)},

			MediatorsMayChange:    p.MediatorsMayChange,
			DefaultVotingDuration: p.DefaultVotingDuration,
			MaxVotingDuration:     p.MaxVotingDuration,

			ObserversMayComment: p.ObserversMayComment,
			Comments:            map[string]*Comment{},
		}
		if p.RequireSignatures {
			n.SignaturesRequiredFrom = e.Sequence
		}
		n.Reindex()

	case PointAdded:
		if _, exists := n.Points[p.PointID]; exists {
			return corrupt("event %d adds point %s twice", e.Sequence, p.PointID)
		}
		n.Points[p.PointID] = &Point{
			ID:        p.PointID,
			Revisions: []Revision{{Revision: 1, Text: p.Text, TextHash: p.TextHash, Sequence: e.Sequence, At: e.At}},
			SignOffs:  map[string]SignOff{},
		}
		n.Order = append(n.Order, p.PointID)
		n.derived.number[p.PointID] = len(n.Order)
		n.hashAppendedPoint(p.PointID)

	case AmendmentProposed:
		if _, exists := n.Amendments[p.AmendmentID]; exists {
			return corrupt("event %d proposes amendment %s twice", e.Sequence, p.AmendmentID)
		}
		n.Amendments[p.AmendmentID] = &Amendment{
			ID: p.AmendmentID, Proposer: e.Actor, Kind: p.Kind, PointID: p.PointID,
			BaseRevision: p.BaseRevision, Text: p.Text, Rationale: p.Rationale, CounterTo: p.CounterTo,
			State: AmendmentStateOpen, Votes: map[string]Vote{},
			ProposedAt: e.At, UpdatedAt: e.At, Sequence: e.Sequence,
			Deadline: p.Deadline, RuleVersion: len(n.Rules),
		}
		n.AmendmentOrder = append(n.AmendmentOrder, p.AmendmentID)
		if p.PointID != "" {
			n.derived.byPoint[p.PointID] = append(n.derived.byPoint[p.PointID], p.AmendmentID)
			n.derived.pendingOf[p.PointID]++
		}
		n.derived.pending++

	case VoteCast:
		a, err := n.pendingAmendment(e, p.AmendmentID)
		if err != nil {
			return err
		}
		a.Votes[e.Actor] = Vote{Participant: e.Actor, Member: e.Member, Choice: p.Choice, Reason: p.Reason, At: e.At, Sequence: e.Sequence}
		a.UpdatedAt = e.At

	case VotingClosed:
		a, err := n.pendingAmendment(e, p.AmendmentID)
		if err != nil {
			return err
		}
		tally := p.Tally
		a.Tally = &tally
		if tally.Passed {
			a.State = AmendmentStatePassed
		} else {
			n.settle(a, AmendmentStateFailed, e)
		}
		a.UpdatedAt = e.At

	case AmendmentApplied:
		a, err := n.pendingAmendment(e, p.AmendmentID)
		if err != nil {
			return err
		}
		if err := n.applyChange(e, a, p); err != nil {
			return err
		}
		a.ResultPointID = p.PointID
		n.settle(a, AmendmentStateApplied, e)

	case AmendmentRejected:
		a, err := n.pendingAmendment(e, p.AmendmentID)
		if err != nil {
			return err
		}
		a.RejectionReason = p.Reason
		n.settle(a, AmendmentStateRejected, e)

	case AmendmentWithdrawn:
		a, err := n.pendingAmendment(e, p.AmendmentID)
		if err != nil {
			return err
		}
		n.settle(a, AmendmentStateWithdrawn, e)

	case AmendmentStaled:
		a, err := n.pendingAmendment(e, p.AmendmentID)
		if err != nil {
			return err
		}
		a.StaledBy = p.CauseAmendmentID
		n.settle(a, AmendmentStateStale, e)

	case PointSignedOff:
		pt, ok := n.Points[p.PointID]
		if !ok {
			return corrupt("event %d signs off unknown point %s", e.Sequence, p.PointID)
		}
		if prev, ok := pt.SignOffs[e.Actor]; ok {
			pt.History = append(pt.History, prev)
		}
		pt.SignOffs[e.Actor] = SignOff{Participant: e.Actor, Member: e.Member, Revision: p.Revision, TextHash: p.TextHash, At: e.At, Sequence: e.Sequence, Checkpoint: p.Checkpoint}

	case SignOffRevoked:
		pt, ok := n.Points[p.PointID]
		if !ok {
			return corrupt("event %d revokes a sign-off of unknown point %s", e.Sequence, p.PointID)
		}
		delete(pt.SignOffs, e.Actor)

	case DocumentAccepted:
		n.Acceptances[e.Actor] = Acceptance{Participant: e.Actor, Member: e.Member, DocumentHash: p.DocumentHash, At: e.At, Sequence: e.Sequence, Checkpoint: p.Checkpoint}

	case NegotiationConcluded:
		n.State = NegotiationStateConcluded
		n.ConcludedAt = e.At

	case CredentialIssued:
		n.Credentials[MemberKey(p.Participant, p.Member)] = p.TokenHash

	case CredentialRevoked:
		delete(n.Credentials, MemberKey(p.Participant, p.Member))

	case MemberAdded:
		i, ok := n.derived.participant[p.Participant]
		if !ok {
			return corrupt("event %d adds a member to unknown participant %s", e.Sequence, p.Participant)
		}
		pp := &n.Participants[i]
		pp.Members = append(slices.Clip(pp.Members), Member{ID: p.Member, DisplayName: p.DisplayName, Head: p.Head})

	case MemberRemoved:
		i, ok := n.derived.participant[p.Participant]
		if !ok {
			return corrupt("event %d removes a member of unknown participant %s", e.Sequence, p.Participant)
		}
		pp := &n.Participants[i]
		pp.Members = slices.DeleteFunc(slices.Clone(pp.Members), func(m Member) bool { return m.ID == p.Member })
		if len(pp.Members) == 0 {
			pp.Members = nil
		}
		delete(n.Credentials, MemberKey(p.Participant, p.Member))

	case AcceptanceWithdrawn:
		delete(n.Acceptances, e.Actor)

	case CheckpointKeyRotated:

	case CommentPosted:
		if _, exists := n.Comments[p.CommentID]; exists {
			return corrupt("event %d posts comment %s twice", e.Sequence, p.CommentID)
		}
		c := &Comment{ID: p.CommentID, Author: e.Actor, PointID: p.PointID, AmendmentID: p.AmendmentID,
			ParentID: p.ParentID, Text: p.Text, PostedAt: e.At, Sequence: e.Sequence}
		if c.Subject() == "" {
			return corrupt("event %d posts comment %s about nothing", e.Sequence, p.CommentID)
		}
		if n.Comments == nil {
			n.Comments = map[string]*Comment{}
		}
		n.Comments[c.ID] = c
		n.CommentOrder = append(n.CommentOrder, c.ID)
		n.derived.commentsOf[c.Subject()] = append(n.derived.commentsOf[c.Subject()], c.ID)

	case CommentRetracted:
		c, ok := n.Comments[p.CommentID]
		if !ok || c.Retracted {
			return corrupt("event %d retracts comment %s, which is unknown or retracted", e.Sequence, p.CommentID)
		}
		c.Retracted, c.RetractedAt, c.Text = true, e.At, ""

	default:
		if known, err := n.applyKeyEvent(e); known {
			return err
		}
		if known, err := n.applyChangeEvent(e); !known {
			return corrupt("event %d has unknown payload %T", e.Sequence, e.Payload)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// pendingAmendment returns the amendment an event acts on, which must be
// OPEN or PASSED.
func (n *Negotiation) pendingAmendment(e Event, id string) (*Amendment, error) {
	a, ok := n.Amendments[id]
	if !ok {
		return nil, corrupt("event %d names unknown amendment %s", e.Sequence, id)
	}
	if !a.State.Pending() {
		return nil, corrupt("event %d acts on amendment %s, which is %s", e.Sequence, id, a.State)
	}
	return a, nil
}

// settle moves a pending amendment to a final state.
func (n *Negotiation) settle(a *Amendment, state AmendmentState, e Event) {
	a.State = state
	a.UpdatedAt = e.At
	n.derived.pending--
	if a.PointID != "" {
		if n.derived.pendingOf[a.PointID]--; n.derived.pendingOf[a.PointID] == 0 {
			delete(n.derived.pendingOf, a.PointID)
		}
	}
}

// applyChange changes the document as an applied amendment says.
func (n *Negotiation) applyChange(e Event, a *Amendment, p AmendmentApplied) error {
	switch a.Kind {
	case KindReplace:
		pt, ok := n.Points[p.PointID]
		if !ok || pt.Deleted || p.Revision != pt.Current().Revision+1 {
			return corrupt("event %d replaces point %s at an impossible revision", e.Sequence, p.PointID)
		}
		pt.Revisions = append(pt.Revisions, Revision{Revision: p.Revision, Text: a.Text, TextHash: p.TextHash,
			AmendmentID: a.ID, Sequence: e.Sequence, At: e.At})
	case KindInsert:
		if _, exists := n.Points[p.PointID]; exists {
			return corrupt("event %d inserts existing point %s", e.Sequence, p.PointID)
		}
		at := 0
		if a.PointID != "" {
			at = n.derived.number[a.PointID]
			if at == 0 {
				return corrupt("event %d inserts after point %s, which is not in the document", e.Sequence, a.PointID)
			}
		}
		n.Points[p.PointID] = &Point{
			ID:        p.PointID,
			Revisions: []Revision{{Revision: 1, Text: a.Text, TextHash: p.TextHash, AmendmentID: a.ID, Sequence: e.Sequence, At: e.At}},
			SignOffs:  map[string]SignOff{},
		}
		n.Order = slices.Insert(n.Order, at, p.PointID)
	case KindDelete:
		at := n.derived.number[p.PointID]
		if at == 0 {
			return corrupt("event %d deletes point %s, which is not in the document", e.Sequence, p.PointID)
		}
		pt := n.Points[p.PointID]
		pt.Deleted = true
		pt.DeletedAt = e.At
		n.Order = slices.Delete(n.Order, at-1, at)
	default:
		return corrupt("event %d applies an amendment of unknown kind", e.Sequence)
	}
	n.renumber()
	return nil
}
