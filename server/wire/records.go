package wire

import (
	"slices"
	"strings"
	"time"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/workflow"
)

// Records are the stored projections of one negotiation, as the store reads
// them back. Points (as PointRecord writes them) and amendments are stored in
// their API form with history; fields the API computes (numbers, counts,
// statuses) are ignored here.
type Records struct {
	Meta         *parleyv1.Negotiation
	Order        []string // point ids in document order
	Points       []*parleyv1.Point
	Amendments   []*parleyv1.Amendment
	Comments     []*parleyv1.Comment
	Credentials  map[string]string
	LastSequence int64
	LastEventAt  time.Time
}

// NegotiationFromRecords rebuilds the state from its stored projections.
func NegotiationFromRecords(r Records) (*workflow.Negotiation, error) {
	id, err := ParseNegotiationName("stored negotiation", r.Meta.GetName())
	if err != nil {
		return nil, corrupt("negotiation record: %v", err)
	}
	n := &workflow.Negotiation{
		ID:             id,
		Title:          r.Meta.GetTitle(),
		State:          workflow.NegotiationState(r.Meta.GetState()),
		Participants:   Participants(r.Meta.GetParticipants()),
		Rule:           Rule(r.Meta.GetDecisionRule()),
		CreatedAt:      Time(r.Meta.GetCreateTime()),
		ConcludedAt:    Time(r.Meta.GetConcludeTime()),
		LastSequence:   r.LastSequence,
		LastEventAt:    r.LastEventAt,
		Points:         make(map[string]*workflow.Point, len(r.Points)),
		Order:          slices.Clone(r.Order),
		Amendments:     make(map[string]*workflow.Amendment, len(r.Amendments)),
		AmendmentOrder: make([]string, 0, len(r.Amendments)),
		Acceptances:    map[string]workflow.Acceptance{},
		Credentials:    map[string]string{},

		Removed:               Participants(r.Meta.GetRemovedParticipants()),
		MediatorsMayChange:    r.Meta.GetMediatorsMayChange(),
		DefaultVotingDuration: Duration(r.Meta.GetDefaultVotingDuration()),
		MaxVotingDuration:     Duration(r.Meta.GetMaxVotingDuration()),
		ObserversMayComment:   r.Meta.GetObserversMayComment(),
		Comments:              make(map[string]*workflow.Comment, len(r.Comments)),
		CommentOrder:          make([]string, 0, len(r.Comments)),
	}
	if len(n.Removed) == 0 {
		n.Removed = nil
	}
	n.SignaturesRequiredFrom = r.Meta.GetSignaturesRequiredSequence()
	for _, k := range r.Meta.GetSigningKeys() {
		if n.SigningKeys == nil {
			n.SigningKeys = map[string]*workflow.SigningKey{}
		}
		n.SigningKeys[k.GetKeyId()] = &workflow.SigningKey{ID: k.GetKeyId(), PublicKey: k.GetPublicKey(), Participant: k.GetParticipant(),
			Member: k.GetMember(), Sequence: k.GetSequence(), EndSequence: k.GetEndSequence()}
	}
	for _, v := range r.Meta.GetDecisionRuleVersions() {
		n.Rules = append(n.Rules, workflow.RuleVersion{Rule: Rule(v.GetDecisionRule()), Weights: v.GetWeights(), Sequence: v.GetSequence()})
	}
	if len(n.Rules) == 0 {
		// Stored before rules had versions: the rule never changed.
		weights := map[string]int32{}
		for _, p := range n.Participants {
			if p.Role == workflow.RoleDelegation {
				weights[p.ID] = p.Weight
			}
		}
		n.Rules = []workflow.RuleVersion{{Rule: n.Rule, Weights: weights, Sequence: 1}}
	}
	for k, v := range r.Credentials {
		n.Credentials[k] = v
	}
	for _, a := range r.Meta.GetAcceptances() {
		n.Acceptances[a.GetParticipant()] = workflow.Acceptance{Participant: a.GetParticipant(), Member: a.GetMember(),
			DocumentHash: a.GetDocumentSha256(), At: Time(a.GetAcceptTime()), Sequence: a.GetSequence(),
			Checkpoint: checkpointFromProto(a.GetCheckpoint())}
	}
	ids := interner{}
	for _, p := range n.Participants {
		ids.of(p.ID)
	}
	for _, rec := range r.Points {
		p, err := pointFromRecord(rec, ids)
		if err != nil {
			return nil, err
		}
		n.Points[p.ID] = p
	}
	for _, pid := range n.Order {
		if p, ok := n.Points[pid]; !ok || p.Deleted {
			return nil, corrupt("document order names point %s, which is missing or deleted", pid)
		}
	}
	amendments := slices.Clone(r.Amendments)
	slices.SortFunc(amendments, func(a, b *parleyv1.Amendment) int { return int(a.GetSequence() - b.GetSequence()) })
	for _, rec := range amendments {
		a, err := amendmentFromRecord(rec, ids)
		if err != nil {
			return nil, err
		}
		n.Amendments[a.ID] = a
		n.AmendmentOrder = append(n.AmendmentOrder, a.ID)
	}
	comments := slices.Clone(r.Comments)
	slices.SortFunc(comments, func(a, b *parleyv1.Comment) int { return int(a.GetSequence() - b.GetSequence()) })
	for _, rec := range comments {
		c, err := commentFromRecord(rec, ids)
		if err != nil {
			return nil, err
		}
		n.Comments[c.ID] = c
		n.CommentOrder = append(n.CommentOrder, c.ID)
	}
	n.Reindex()
	return n, nil
}

func commentFromRecord(rec *parleyv1.Comment, ids interner) (*workflow.Comment, error) {
	_, id, err := storedChild("stored comment", rec.GetName(), "comments")
	if err != nil {
		return nil, corrupt("comment record: %v", err)
	}
	c := &workflow.Comment{ID: id, Author: ids.of(rec.GetAuthor()), Text: rec.GetText(), Retracted: rec.GetRetracted(),
		PostedAt: Time(rec.GetCreateTime()), RetractedAt: Time(rec.GetRetractTime()), Sequence: rec.GetSequence()}
	for _, f := range []struct {
		field      *string
		name, coll string
	}{{&c.PointID, rec.GetPoint(), "points"}, {&c.AmendmentID, rec.GetAmendment(), "amendments"}, {&c.ParentID, rec.GetParent(), "comments"}} {
		if f.name != "" {
			if _, *f.field, err = storedChild("stored comment", f.name, f.coll); err != nil {
				return nil, corrupt("comment record %s: %v", id, err)
			}
		}
	}
	if c.Subject() == "" {
		return nil, corrupt("comment record %s discusses nothing", id)
	}
	return c, nil
}

// storedChild splits a resource name read back from storage. The server
// wrote it after checking it, so checking the shape is enough: parsing a
// hundred thousand UUIDs again is a tenth of loading a large negotiation.
func storedChild(field, name, collection string) (string, string, error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "negotiations" || parts[2] != collection || len(parts[1]) != 36 || len(parts[3]) != 36 {
		return "", "", nameError(field, name, "negotiations/{uuid}/"+collection+"/{uuid}")
	}
	return parts[1], parts[3], nil
}

func corrupt(format string, args ...any) error {
	return workflow.Errorf(workflow.EINTERNAL, "STORE_CORRUPT", format, args...)
}

// interner gives one copy of each participant id, so that the hundreds of
// thousands of votes and sign-offs of a large negotiation do not each hold
// their own.
type interner map[string]string

func (in interner) of(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

func pointFromRecord(rec *parleyv1.Point, ids interner) (*workflow.Point, error) {
	if len(rec.GetRevisions()) == 0 {
		return nil, corrupt("point record %s has no revisions", rec.GetId())
	}
	p := &workflow.Point{
		ID:        rec.GetId(),
		SignOffs:  map[string]workflow.SignOff{},
		Deleted:   rec.GetStatus() == parleyv1.PointStatus_POINT_STATUS_DELETED,
		DeletedAt: Time(rec.GetDeleteTime()),
	}
	for _, r := range rec.GetRevisions() {
		rev := workflow.Revision{Revision: r.GetRevision(), Text: r.GetText(), TextHash: r.GetTextSha256(),
			Sequence: r.GetSequence(), At: Time(r.GetCreateTime())}
		if r.GetAmendment() != "" {
			_, aid, err := storedChild("stored revision", r.GetAmendment(), "amendments")
			if err != nil {
				return nil, corrupt("point record %s: %v", rec.GetId(), err)
			}
			rev.AmendmentID = aid
		}
		p.Revisions = append(p.Revisions, rev)
	}
	for _, s := range rec.GetSignOffs() {
		so := signOffFromProto(s)
		so.Participant = ids.of(so.Participant)
		so.Member = ids.of(so.Member)
		p.SignOffs[so.Participant] = so
	}
	for _, s := range rec.GetStaleSignOffs() {
		p.History = append(p.History, signOffFromProto(s))
	}
	return p, nil
}

func amendmentFromRecord(rec *parleyv1.Amendment, ids interner) (*workflow.Amendment, error) {
	_, id, err := storedChild("stored amendment", rec.GetName(), "amendments")
	if err != nil {
		return nil, corrupt("amendment record: %v", err)
	}
	a := &workflow.Amendment{
		ID: id, Proposer: ids.of(rec.GetProposer()), Kind: Kind(rec.GetKind()), BaseRevision: rec.GetBaseRevision(),
		Text: rec.GetText(), Rationale: rec.GetRationale(), State: AmendmentState(rec.GetState()),
		Votes: map[string]workflow.Vote{}, ProposedAt: Time(rec.GetCreateTime()), UpdatedAt: Time(rec.GetUpdateTime()),
		Sequence: rec.GetSequence(), RejectionReason: rec.GetRejectionReason(),
		Deadline: Time(rec.GetVotingDeadline()), RuleVersion: max(int(rec.GetDecisionRuleVersion()), 1), // records from before rule versions hold 0: the first rule
	}
	for field, name := range map[*string]string{&a.PointID: rec.GetPoint(), &a.ResultPointID: rec.GetResultPoint()} {
		if name != "" {
			if _, *field, err = storedChild("stored amendment point", name, "points"); err != nil {
				return nil, corrupt("amendment record %s: %v", id, err)
			}
		}
	}
	if rec.GetCounterTo() != "" {
		if _, a.CounterTo, err = storedChild("stored amendment", rec.GetCounterTo(), "amendments"); err != nil {
			return nil, corrupt("amendment record %s: %v", id, err)
		}
	}
	if rec.GetStaledBy() != "" {
		if _, a.StaledBy, err = storedChild("stored amendment", rec.GetStaledBy(), "amendments"); err != nil {
			return nil, corrupt("amendment record %s: %v", id, err)
		}
	}
	if rec.GetTally() != nil {
		t := tallyFromProto(rec.GetTally())
		a.Tally = &t
	}
	for _, v := range rec.GetVotes() {
		who := ids.of(v.GetParticipant())
		a.Votes[who] = workflow.Vote{Participant: who, Member: ids.of(v.GetMember()), Choice: Choice(v.GetChoice()),
			Reason: v.GetReason(), At: Time(v.GetCastTime()), Sequence: v.GetSequence()}
	}
	return a, nil
}
