package wire

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/workflow"
)

// The workflow enums use the protobuf numbers, so these conversions are
// casts; out-of-range values pass through and the rules refuse them.

// Role converts a protobuf role.
func Role(r parleyv1.Role) workflow.Role { return workflow.Role(r) }

// Method converts a protobuf decision method.
func Method(m parleyv1.DecisionMethod) workflow.DecisionMethod { return workflow.DecisionMethod(m) }

// Kind converts a protobuf amendment kind.
func Kind(k parleyv1.AmendmentKind) workflow.AmendmentKind { return workflow.AmendmentKind(k) }

// Choice converts a protobuf vote choice.
func Choice(c parleyv1.VoteChoice) workflow.VoteChoice { return workflow.VoteChoice(c) }

// AmendmentState converts a protobuf amendment state.
func AmendmentState(s parleyv1.AmendmentState) workflow.AmendmentState {
	return workflow.AmendmentState(s)
}

// Participants converts protobuf participants.
func Participants(in []*parleyv1.Participant) []workflow.Participant {
	out := make([]workflow.Participant, len(in))
	for i, p := range in {
		out[i] = workflow.Participant{ID: p.GetId(), DisplayName: p.GetDisplayName(), Role: Role(p.GetRole()), Weight: p.GetWeight()}
		for _, m := range p.GetMembers() {
			out[i].Members = append(out[i].Members, workflow.Member{ID: m.GetId(), DisplayName: m.GetDisplayName(), Head: m.GetHead()})
		}
	}
	return out
}

// Rule converts a protobuf decision rule.
func Rule(r *parleyv1.DecisionRule) workflow.DecisionRule {
	return workflow.DecisionRule{Method: Method(r.GetMethod()), Quorum: r.GetQuorum(), ThresholdBasisPoints: r.GetThresholdBasisPoints()}
}

func participantsToProto(n *workflow.Negotiation, in []workflow.Participant) []*parleyv1.Participant {
	out := make([]*parleyv1.Participant, len(in))
	for i, p := range in {
		out[i] = ParticipantToProto(n, p)
	}
	return out
}

// ParticipantToProto returns a participant as the API shows it; with a
// negotiation, has_credential says whether it holds a token now.
func ParticipantToProto(n *workflow.Negotiation, p workflow.Participant) *parleyv1.Participant {
	out := &parleyv1.Participant{Id: p.ID, DisplayName: p.DisplayName, Role: parleyv1.Role(p.Role), Weight: p.Weight}
	if n != nil {
		_, out.HasCredential = n.Credentials[p.ID]
		if k, ok := n.CurrentKey(p.ID, p.ID); ok {
			out.SigningKey = signingKeyToProto(k)
		}
	}
	for _, m := range p.Members {
		out.Members = append(out.Members, MemberToProto(n, p.ID, m))
	}
	return out
}

// MemberToProto returns a named member as the API shows it; with a
// negotiation, has_credential says whether it holds a token now.
func MemberToProto(n *workflow.Negotiation, participant string, m workflow.Member) *parleyv1.Member {
	out := &parleyv1.Member{Id: m.ID, DisplayName: m.DisplayName, Head: m.Head}
	if n != nil {
		_, out.HasCredential = n.Credentials[workflow.MemberKey(participant, m.ID)]
		if k, ok := n.CurrentKey(participant, m.ID); ok {
			out.SigningKey = signingKeyToProto(k)
		}
	}
	return out
}

func ruleToProto(r workflow.DecisionRule) *parleyv1.DecisionRule {
	return &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod(r.Method), Quorum: r.Quorum, ThresholdBasisPoints: r.ThresholdBasisPoints}
}

// NegotiationToProto returns the negotiation as the API shows it. Acceptances
// are ordered by participant.
func NegotiationToProto(n *workflow.Negotiation) *parleyv1.Negotiation {
	out := &parleyv1.Negotiation{
		Name:                       NegotiationName(n.ID),
		Title:                      n.Title,
		State:                      parleyv1.NegotiationState(n.State),
		Participants:               participantsToProto(n, n.Participants),
		DecisionRule:               ruleToProto(n.Rule),
		CreateTime:                 timestamp(n.CreatedAt),
		ConcludeTime:               timestamp(n.ConcludedAt),
		DocumentSha256:             n.DocumentHash(),
		LastSequence:               n.LastSequence,
		PointCount:                 int32(len(n.Order)),
		AgreedPointCount:           int32(n.AgreedPoints()),
		PendingAmendmentCount:      int32(n.PendingAmendments()),
		ObserversMayComment:        n.ObserversMayComment,
		CommentCount:               int32(len(n.CommentOrder)),
		RemovedParticipants:        participantsToProto(nil, n.Removed),
		MediatorsMayChange:         n.MediatorsMayChange,
		DefaultVotingDuration:      duration(n.DefaultVotingDuration),
		MaxVotingDuration:          duration(n.MaxVotingDuration),
		SignaturesRequired:         n.SignaturesRequired(),
		SignaturesRequiredSequence: n.SignaturesRequiredFrom,
	}
	for _, k := range n.KeysInOrder() {
		out.SigningKeys = append(out.SigningKeys, signingKeyToProto(k))
	}
	for i, v := range n.Rules {
		out.DecisionRuleVersions = append(out.DecisionRuleVersions, &parleyv1.DecisionRuleVersion{
			Version: int32(i + 1), DecisionRule: ruleToProto(v.Rule), Weights: v.Weights, Sequence: v.Sequence})
	}
	// The acceptances of removed delegations stay, for history and so that
	// the stored state is the folded one.
	for _, p := range slices.Concat(n.Participants, n.Removed) {
		if a, ok := n.Acceptances[p.ID]; ok {
			out.Acceptances = append(out.Acceptances, &parleyv1.Acceptance{
				Participant: a.Participant, DocumentSha256: a.DocumentHash,
				AcceptTime: timestamp(a.At), Sequence: a.Sequence, Current: n.AcceptanceCurrent(a),
				Checkpoint: CheckpointToProto(a.Checkpoint), Member: a.Member,
			})
		}
	}
	return out
}

// PointToProto returns a point as the API shows it. With history, the
// revisions and the stale sign-offs are filled in too.
func PointToProto(n *workflow.Negotiation, p *workflow.Point, history bool) *parleyv1.Point {
	return pointToProto(n, p, n.PointNumber(p.ID), history)
}

// DocumentPoint returns a point of the document whose number the caller
// knows, without its history, as GetDocument shows it; bare leaves out its
// alternatives (GetDocumentRequest.omit_alternatives).
func DocumentPoint(n *workflow.Negotiation, p *workflow.Point, number int, bare bool) *parleyv1.Point {
	return pointToProtoWith(n, p, number, false, !bare)
}

func pointToProto(n *workflow.Negotiation, p *workflow.Point, number int, history bool) *parleyv1.Point {
	return pointToProtoWith(n, p, number, history, true)
}

func pointToProtoWith(n *workflow.Negotiation, p *workflow.Point, number int, history, alternatives bool) *parleyv1.Point {
	current := p.Current()
	out := &parleyv1.Point{
		Name:                  PointName(n.ID, p.ID),
		Id:                    p.ID,
		Number:                int32(number),
		Text:                  current.Text,
		Revision:              current.Revision,
		TextSha256:            current.TextHash,
		Status:                parleyv1.PointStatus_POINT_STATUS_PENDING,
		PendingAmendmentCount: int32(n.PendingAmendmentsOfPoint(p.ID)),
		DeleteTime:            timestamp(p.DeletedAt),
		CommentCount:          int32(len(n.CommentsOf(p.ID))),
	}
	if alternatives { // left out, they cost nothing to compute either
		for _, a := range n.Alternatives(p.ID) {
			if len(out.Alternatives) == MaxAlternatives {
				break
			}
			part, _ := a.PartOn(p.ID)
			alt := &parleyv1.PointAlternative{Amendment: AmendmentName(n.ID, a.ID), Kind: parleyv1.AmendmentKind(part.Kind),
				Text: part.Text, Proposer: a.Proposer, ByMediator: n.ByMediator(a), State: parleyv1.AmendmentState(a.State),
				PackageParts: int32(len(a.Parts))}
			if a.CounterTo != "" {
				alt.CounterTo = AmendmentName(n.ID, a.CounterTo)
			}
			out.Alternatives = append(out.Alternatives, alt)
		}
	}
	switch {
	case p.Deleted:
		out.Status = parleyv1.PointStatus_POINT_STATUS_DELETED
	case n.Agreed(p):
		out.Status = parleyv1.PointStatus_POINT_STATUS_AGREED
	}
	for _, id := range sortedKeys(p.SignOffs) {
		s := p.SignOffs[id]
		if s.Revision == current.Revision {
			out.SignOffs = append(out.SignOffs, signOffToProto(s))
		} else if history {
			out.StaleSignOffs = append(out.StaleSignOffs, signOffToProto(s))
		}
	}
	if history {
		for _, s := range p.History {
			out.StaleSignOffs = append(out.StaleSignOffs, signOffToProto(s))
		}
		slices.SortFunc(out.StaleSignOffs, func(a, b *parleyv1.SignOff) int { return cmp.Compare(a.GetSequence(), b.GetSequence()) })
	}
	if history {
		for _, r := range p.Revisions {
			out.Revisions = append(out.Revisions, revisionToProto(n, r))
		}
	}
	return out
}

// PointRecord returns a point as the store keeps it: the API's form with
// history, except that sign_offs holds each delegation's newest sign-off,
// current or not, and stale_sign_offs those they replaced, so that the state
// comes back exactly as folded.
func PointRecord(n *workflow.Negotiation, p *workflow.Point) *parleyv1.Point {
	out := PointToProto(n, p, true)
	out.SignOffs, out.StaleSignOffs = nil, nil
	out.Alternatives, out.CommentCount = nil, 0 // computed from the amendments and comments
	for _, id := range sortedKeys(p.SignOffs) {
		out.SignOffs = append(out.SignOffs, signOffToProto(p.SignOffs[id]))
	}
	for _, s := range p.History {
		out.StaleSignOffs = append(out.StaleSignOffs, signOffToProto(s))
	}
	return out
}

func signOffToProto(s workflow.SignOff) *parleyv1.SignOff {
	return &parleyv1.SignOff{Participant: s.Participant, Revision: s.Revision, TextSha256: s.TextHash, SignTime: timestamp(s.At),
		Sequence: s.Sequence, Checkpoint: CheckpointToProto(s.Checkpoint), Member: s.Member}
}

func signOffFromProto(s *parleyv1.SignOff) workflow.SignOff {
	return workflow.SignOff{Participant: s.GetParticipant(), Revision: s.GetRevision(), TextHash: s.GetTextSha256(),
		At: Time(s.GetSignTime()), Sequence: s.GetSequence(), Checkpoint: checkpointFromProto(s.GetCheckpoint()), Member: s.GetMember()}
}

// AmendmentToProto returns an amendment as the API shows it. Votes are
// ordered by participant.
func AmendmentToProto(n *workflow.Negotiation, a *workflow.Amendment) *parleyv1.Amendment {
	return amendmentToProto(n, a, nil)
}

// VoteScratch is storage for the votes of a converted amendment, which the
// next conversion reuses: for a caller that encodes each amendment it
// converts, and drops it, before it converts the next (the store writing
// projections). The zero value is ready; one is for one goroutine at a time.
type VoteScratch struct {
	votes []parleyv1.Vote
	times []timestamppb.Timestamp
	ptrs  []*parleyv1.Vote
	keys  []string
}

// AmendmentToProtoReusing converts as AmendmentToProto does, its votes held in
// scratch: the amendment returned is valid until the next call with scratch.
func AmendmentToProtoReusing(n *workflow.Negotiation, a *workflow.Amendment, scratch *VoteScratch) *parleyv1.Amendment {
	return amendmentToProto(n, a, scratch)
}

func amendmentToProto(n *workflow.Negotiation, a *workflow.Amendment, scratch *VoteScratch) *parleyv1.Amendment {
	out := &parleyv1.Amendment{
		Name:            AmendmentName(n.ID, a.ID),
		Proposer:        a.Proposer,
		Kind:            parleyv1.AmendmentKind(a.Kind),
		BaseRevision:    a.BaseRevision,
		Text:            a.Text,
		Rationale:       a.Rationale,
		State:           parleyv1.AmendmentState(a.State),
		CreateTime:      timestamp(a.ProposedAt),
		UpdateTime:      timestamp(a.UpdatedAt),
		Sequence:        a.Sequence,
		RejectionReason: a.RejectionReason,
		VotingDeadline:  timestamp(a.Deadline),
		ByMediator:      n.ByMediator(a),
		CommentCount:    int32(len(n.CommentsOf(a.ID))),
	}
	if a.CounterTo != "" {
		out.CounterTo = AmendmentName(n.ID, a.CounterTo)
	}
	if a.RebasedFrom != "" {
		out.RebasedFrom = AmendmentName(n.ID, a.RebasedFrom)
	}
	out.DecisionRuleVersion = int32(max(a.RuleVersion, 1))
	if a.State == workflow.AmendmentStateOpen {
		out.NotVoted = n.NotVoted(a)
	}
	if a.PointID != "" {
		out.Point = PointName(n.ID, a.PointID)
		out.PointNumber = int32(n.PointNumber(a.PointID))
	}
	if a.ResultPointID != "" {
		out.ResultPoint = PointName(n.ID, a.ResultPointID)
	}
	if a.StaledBy != "" {
		out.StaledBy = AmendmentName(n.ID, a.StaledBy)
	}
	for _, part := range a.Parts {
		out.Parts = append(out.Parts, partToProto(n, part))
	}
	if a.Tally != nil {
		out.Tally = tallyToProto(*a.Tally)
	}
	if len(a.Votes) > 0 {
		// Every vote of an amendment is converted at each vote (for the
		// stored projection and the reply): one allocation for all the
		// votes and one for all their times, rather than two per vote.
		var votes []parleyv1.Vote
		var times []timestamppb.Timestamp
		var keys []string
		if scratch == nil {
			votes, times, out.Votes = make([]parleyv1.Vote, len(a.Votes)), make([]timestamppb.Timestamp, len(a.Votes)), make([]*parleyv1.Vote, len(a.Votes))
			keys = sortedKeys(a.Votes)
		} else {
			votes, times, out.Votes, keys = scratch.take(a.Votes)
		}
		for i, id := range keys {
			v, vote := a.Votes[id], &votes[i]
			vote.Participant, vote.Choice, vote.Reason, vote.Sequence, vote.Member = v.Participant, parleyv1.VoteChoice(v.Choice), v.Reason, v.Sequence, v.Member
			if !v.At.IsZero() {
				times[i].Seconds, times[i].Nanos = v.At.Unix(), int32(v.At.Nanosecond())
				vote.CastTime = &times[i]
			}
			out.Votes[i] = vote
		}
	}
	return out
}

// VoteToProto returns one vote as the API shows it.
func VoteToProto(v workflow.Vote) *parleyv1.Vote {
	out := &parleyv1.Vote{Participant: v.Participant, Choice: parleyv1.VoteChoice(v.Choice), Reason: v.Reason, Sequence: v.Sequence, Member: v.Member}
	if !v.At.IsZero() {
		out.CastTime = timestamppb.New(v.At)
	}
	return out
}

// take returns storage for the votes of m, zeroed, and m's keys in order.
func (s *VoteScratch) take(m map[string]workflow.Vote) ([]parleyv1.Vote, []timestamppb.Timestamp, []*parleyv1.Vote, []string) {
	n := len(m)
	if cap(s.votes) < n {
		s.votes, s.times, s.ptrs, s.keys = make([]parleyv1.Vote, n), make([]timestamppb.Timestamp, n), make([]*parleyv1.Vote, n), make([]string, 0, n)
	}
	votes, times := s.votes[:n], s.times[:n]
	for i := range votes {
		votes[i] = parleyv1.Vote{}
		times[i] = timestamppb.Timestamp{}
	}
	keys := s.keys[:0]
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s.keys = keys
	return votes, times, s.ptrs[:n], keys
}

// partToProto returns one part of a package deal as the API shows it.
func partToProto(n *workflow.Negotiation, p workflow.Part) *parleyv1.AmendmentPart {
	out := &parleyv1.AmendmentPart{Kind: parleyv1.AmendmentKind(p.Kind), BaseRevision: p.BaseRevision, Text: p.Text}
	if p.PointID != "" {
		out.Point = PointName(n.ID, p.PointID)
		out.PointNumber = int32(n.PointNumber(p.PointID))
	}
	if p.ResultPointID != "" {
		out.ResultPoint = PointName(n.ID, p.ResultPointID)
	}
	return out
}

// MaxAlternatives is how many of a point's competing pending amendments a
// point lists in its brackets.
const MaxAlternatives = 16

// CommentToProto returns a comment as the API shows it: a retracted one
// without its text.
func CommentToProto(n *workflow.Negotiation, c *workflow.Comment) *parleyv1.Comment {
	out := &parleyv1.Comment{
		Name:        CommentName(n.ID, c.ID),
		Author:      c.Author,
		Text:        c.Text,
		Retracted:   c.Retracted,
		CreateTime:  timestamp(c.PostedAt),
		RetractTime: timestamp(c.RetractedAt),
		Sequence:    c.Sequence,
	}
	if c.PointID != "" {
		out.Point = PointName(n.ID, c.PointID)
	}
	if c.AmendmentID != "" {
		out.Amendment = AmendmentName(n.ID, c.AmendmentID)
	}
	if c.ParentID != "" {
		out.Parent = CommentName(n.ID, c.ParentID)
	}
	return out
}

func tallyToProto(t workflow.Tally) *parleyv1.Tally {
	return &parleyv1.Tally{
		Approve: t.Approve, Reject: t.Reject, Abstain: t.Abstain, NotVoted: t.NotVoted,
		ApprovingWeight: t.ApprovingWeight, TotalWeight: t.TotalWeight,
		QuorumMet: t.QuorumMet, Passed: t.Passed, ClosedByMediator: t.ClosedByMediator, ClosedByDeadline: t.ClosedByDeadline,
	}
}

func tallyFromProto(t *parleyv1.Tally) workflow.Tally {
	return workflow.Tally{
		Approve: t.GetApprove(), Reject: t.GetReject(), Abstain: t.GetAbstain(), NotVoted: t.GetNotVoted(),
		ApprovingWeight: t.GetApprovingWeight(), TotalWeight: t.GetTotalWeight(),
		QuorumMet: t.GetQuorumMet(), Passed: t.GetPassed(), ClosedByMediator: t.GetClosedByMediator(), ClosedByDeadline: t.GetClosedByDeadline(),
	}
}

// CheckpointToProto converts a checkpoint reference; nil stays nil.
func CheckpointToProto(c *workflow.CheckpointRef) *parleyv1.CheckpointRef {
	if c == nil {
		return nil
	}
	return &parleyv1.CheckpointRef{TreeSize: c.TreeSize, RootHash: c.RootHash}
}

func signingKeyToProto(k *workflow.SigningKey) *parleyv1.SigningKey {
	return &parleyv1.SigningKey{KeyId: k.ID, PublicKey: k.PublicKey, Sequence: k.Sequence,
		Participant: k.Participant, Member: k.Member, EndSequence: k.EndSequence}
}

// ConsentToProto converts a consent; nil stays nil.
func ConsentToProto(c *workflow.Consent) *parleyv1.Consent {
	if c == nil {
		return nil
	}
	return &parleyv1.Consent{KeyId: c.KeyID, Checkpoint: CheckpointToProto(c.Checkpoint), Signature: c.Signature}
}

// ConsentFromProto converts a consent; nil stays nil.
func ConsentFromProto(c *parleyv1.Consent) *workflow.Consent {
	if c == nil {
		return nil
	}
	return &workflow.Consent{KeyID: c.GetKeyId(), Checkpoint: checkpointFromProto(c.GetCheckpoint()), Signature: c.GetSignature()}
}

func checkpointFromProto(c *parleyv1.CheckpointRef) *workflow.CheckpointRef {
	if c == nil {
		return nil
	}
	return &workflow.CheckpointRef{TreeSize: c.GetTreeSize(), RootHash: c.GetRootHash()}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// PointPage returns a point with the part of its history that comes after a
// sequence number: its revisions and stale sign-offs, merged in sequence
// order, each offered to fits in turn until fits says no. It builds only the
// entries it returns, however long the history. last is the sequence of the
// last entry returned (after, if none); more says entries remain.
func PointPage(n *workflow.Negotiation, p *workflow.Point, after int64, fits func(entry proto.Message) (bool, error)) (out *parleyv1.Point, last int64, more bool, err error) {
	out = pointToProto(n, p, n.PointNumber(p.ID), false)
	current := p.Current()
	stale := slices.Clone(p.History)
	for _, s := range p.SignOffs {
		if s.Revision != current.Revision {
			stale = append(stale, s)
		}
	}
	slices.SortFunc(stale, func(a, b workflow.SignOff) int { return cmp.Compare(a.Sequence, b.Sequence) })
	revisions := p.Revisions
	r := sort.Search(len(revisions), func(i int) bool { return revisions[i].Sequence > after })
	s := sort.Search(len(stale), func(i int) bool { return stale[i].Sequence > after })
	last = after
	for r < len(revisions) || s < len(stale) {
		var entry proto.Message
		var seq int64
		if s == len(stale) || (r < len(revisions) && revisions[r].Sequence <= stale[s].Sequence) {
			rev := revisionToProto(n, revisions[r])
			entry, seq = rev, rev.GetSequence()
		} else {
			entry, seq = signOffToProto(stale[s]), stale[s].Sequence
		}
		ok, err := fits(entry)
		if err != nil {
			return nil, 0, false, err
		}
		if !ok {
			return out, last, true, nil
		}
		switch e := entry.(type) {
		case *parleyv1.PointRevision:
			out.Revisions = append(out.Revisions, e)
			r++
		case *parleyv1.SignOff:
			out.StaleSignOffs = append(out.StaleSignOffs, e)
			s++
		}
		last = seq
	}
	return out, last, false, nil
}

// PointVersion names the state of a point's history: it changes with each
// revision and each sign-off, so that a page token can tell that the history
// it points into has moved.
func PointVersion(p *workflow.Point) string {
	return fmt.Sprintf("%d.%d.%d", p.Current().Revision, len(p.History), len(p.SignOffs))
}

func revisionToProto(n *workflow.Negotiation, r workflow.Revision) *parleyv1.PointRevision {
	rev := &parleyv1.PointRevision{Revision: r.Revision, Text: r.Text, TextSha256: r.TextHash, Sequence: r.Sequence, CreateTime: timestamp(r.At)}
	if r.AmendmentID != "" {
		rev.Amendment = AmendmentName(n.ID, r.AmendmentID)
	}
	return rev
}
