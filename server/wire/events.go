package wire

import (
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/workflow"
)

// MarshalEvent returns an event's leaf: the deterministic protobuf encoding of
// its parley.v1.Event form. These are the bytes the store keeps and every
// party hashes.
func MarshalEvent(e workflow.Event) ([]byte, error) {
	return Deterministic.Marshal(EventToProto(e))
}

// UnmarshalEvent decodes a leaf back into an event, and also returns its
// protobuf form.
func UnmarshalEvent(leaf []byte) (workflow.Event, *parleyv1.Event, error) {
	var pe parleyv1.Event
	if err := proto.Unmarshal(leaf, &pe); err != nil {
		return workflow.Event{}, nil, corrupt("event does not decode: %v", err)
	}
	e, err := EventFromProto(&pe)
	return e, &pe, err
}

// EventToProto returns the protobuf form of an event.
func EventToProto(e workflow.Event) *parleyv1.Event {
	out := &parleyv1.Event{
		Negotiation: NegotiationName(e.NegotiationID),
		Sequence:    e.Sequence,
		Time:        timestamp(e.At),
		Actor:       e.Actor,
		RequestId:   e.RequestID,
		Member:      e.Member,
	}
	switch p := e.Payload.(type) {
	case workflow.NegotiationCreated:
		out.Payload = &parleyv1.Event_NegotiationCreated{NegotiationCreated: &parleyv1.NegotiationCreated{
			Title: p.Title, Participants: participantsToProto(nil, p.Participants), DecisionRule: ruleToProto(p.Rule),
			MediatorsMayChange: p.MediatorsMayChange, DefaultVotingDuration: duration(p.DefaultVotingDuration),
			MaxVotingDuration: duration(p.MaxVotingDuration), ObserversMayComment: p.ObserversMayComment,
			RequireSignatures: p.RequireSignatures}}
	case workflow.PointAdded:
		out.Payload = &parleyv1.Event_PointAdded{PointAdded: &parleyv1.PointAdded{
			PointId: p.PointID, Text: p.Text, TextSha256: p.TextHash}}
	case workflow.AmendmentProposed:
		out.Payload = &parleyv1.Event_AmendmentProposed{AmendmentProposed: &parleyv1.AmendmentProposed{
			AmendmentId: p.AmendmentID, Kind: parleyv1.AmendmentKind(p.Kind), PointId: p.PointID,
			BaseRevision: p.BaseRevision, Text: p.Text, Rationale: p.Rationale, CounterTo: p.CounterTo, VotingDeadline: timestamp(p.Deadline)}}
	case workflow.VoteCast:
		out.Payload = &parleyv1.Event_VoteCast{VoteCast: &parleyv1.VoteCast{
			AmendmentId: p.AmendmentID, Choice: parleyv1.VoteChoice(p.Choice), Reason: p.Reason, Consent: ConsentToProto(p.Consent)}}
	case workflow.VotingClosed:
		out.Payload = &parleyv1.Event_VotingClosed{VotingClosed: &parleyv1.VotingClosed{
			AmendmentId: p.AmendmentID, Tally: tallyToProto(p.Tally)}}
	case workflow.AmendmentApplied:
		out.Payload = &parleyv1.Event_AmendmentApplied{AmendmentApplied: &parleyv1.AmendmentApplied{
			AmendmentId: p.AmendmentID, PointId: p.PointID, Revision: p.Revision, TextSha256: p.TextHash}}
	case workflow.AmendmentRejected:
		out.Payload = &parleyv1.Event_AmendmentRejected{AmendmentRejected: &parleyv1.AmendmentRejected{
			AmendmentId: p.AmendmentID, Reason: p.Reason}}
	case workflow.AmendmentWithdrawn:
		out.Payload = &parleyv1.Event_AmendmentWithdrawn{AmendmentWithdrawn: &parleyv1.AmendmentWithdrawn{
			AmendmentId: p.AmendmentID}}
	case workflow.AmendmentStaled:
		out.Payload = &parleyv1.Event_AmendmentStaled{AmendmentStaled: &parleyv1.AmendmentStaled{
			AmendmentId: p.AmendmentID, CauseAmendmentId: p.CauseAmendmentID}}
	case workflow.PointSignedOff:
		out.Payload = &parleyv1.Event_PointSignedOff{PointSignedOff: &parleyv1.PointSignedOff{
			PointId: p.PointID, Revision: p.Revision, TextSha256: p.TextHash, Checkpoint: CheckpointToProto(p.Checkpoint),
			Consent: ConsentToProto(p.Consent)}}
	case workflow.SignOffRevoked:
		out.Payload = &parleyv1.Event_SignOffRevoked{SignOffRevoked: &parleyv1.SignOffRevoked{
			PointId: p.PointID, Revision: p.Revision}}
	case workflow.DocumentAccepted:
		out.Payload = &parleyv1.Event_DocumentAccepted{DocumentAccepted: &parleyv1.DocumentAccepted{
			DocumentSha256: p.DocumentHash, Checkpoint: CheckpointToProto(p.Checkpoint), Consent: ConsentToProto(p.Consent)}}
	case workflow.NegotiationConcluded:
		out.Payload = &parleyv1.Event_NegotiationConcluded{NegotiationConcluded: &parleyv1.NegotiationConcluded{
			DocumentSha256: p.DocumentHash}}
	case workflow.CredentialIssued:
		out.Payload = &parleyv1.Event_CredentialIssued{CredentialIssued: &parleyv1.CredentialIssued{
			Participant: p.Participant, TokenSha256: p.TokenHash, Rotated: p.Rotated, Member: p.Member}}
	case workflow.CredentialRevoked:
		out.Payload = &parleyv1.Event_CredentialRevoked{CredentialRevoked: &parleyv1.CredentialRevoked{
			Participant: p.Participant, Member: p.Member}}
	case workflow.MemberAdded:
		out.Payload = &parleyv1.Event_MemberAdded{MemberAdded: &parleyv1.MemberAdded{
			Participant: p.Participant, Member: p.Member, DisplayName: p.DisplayName, Head: p.Head}}
	case workflow.MemberRemoved:
		out.Payload = &parleyv1.Event_MemberRemoved{MemberRemoved: &parleyv1.MemberRemoved{
			Participant: p.Participant, Member: p.Member}}
	case workflow.AcceptanceWithdrawn:
		out.Payload = &parleyv1.Event_AcceptanceWithdrawn{AcceptanceWithdrawn: &parleyv1.AcceptanceWithdrawn{
			DocumentSha256: p.DocumentHash}}
	case workflow.CheckpointKeyRotated:
		out.Payload = &parleyv1.Event_CheckpointKeyRotated{CheckpointKeyRotated: &parleyv1.CheckpointKeyRotated{
			VerifierKey: p.VerifierKey, PreviousVerifierKey: p.PreviousVerifierKey}}
	case workflow.CommentPosted:
		out.Payload = &parleyv1.Event_CommentPosted{CommentPosted: &parleyv1.CommentPosted{
			CommentId: p.CommentID, PointId: p.PointID, AmendmentId: p.AmendmentID, ParentId: p.ParentID, Text: p.Text}}
	case workflow.CommentRetracted:
		out.Payload = &parleyv1.Event_CommentRetracted{CommentRetracted: &parleyv1.CommentRetracted{CommentId: p.CommentID}}
	case workflow.ParticipantAdded:
		out.Payload = &parleyv1.Event_ParticipantAdded{ParticipantAdded: &parleyv1.ParticipantAdded{
			Participant: ParticipantToProto(nil, p.Participant)}}
	case workflow.ParticipantRemoved:
		out.Payload = &parleyv1.Event_ParticipantRemoved{ParticipantRemoved: &parleyv1.ParticipantRemoved{
			Participant: p.Participant}}
	case workflow.NegotiationRenamed:
		out.Payload = &parleyv1.Event_NegotiationRenamed{NegotiationRenamed: &parleyv1.NegotiationRenamed{Title: p.Title}}
	case workflow.DecisionRuleChanged:
		out.Payload = &parleyv1.Event_DecisionRuleChanged{DecisionRuleChanged: &parleyv1.DecisionRuleChanged{
			DecisionRule: ruleToProto(p.Rule), Weights: p.Weights}}
	case workflow.NegotiationSuspended:
		out.Payload = &parleyv1.Event_NegotiationSuspended{NegotiationSuspended: &parleyv1.NegotiationSuspended{Reason: p.Reason}}
	case workflow.NegotiationResumed:
		out.Payload = &parleyv1.Event_NegotiationResumed{NegotiationResumed: &parleyv1.NegotiationResumed{}}
	case workflow.NegotiationAbandoned:
		out.Payload = &parleyv1.Event_NegotiationAbandoned{NegotiationAbandoned: &parleyv1.NegotiationAbandoned{Reason: p.Reason}}
	case workflow.VotingDeadlineSet:
		out.Payload = &parleyv1.Event_VotingDeadlineSet{VotingDeadlineSet: &parleyv1.VotingDeadlineSet{
			AmendmentId: p.AmendmentID, VotingDeadline: timestamp(p.Deadline)}}
	case workflow.KeyRegistered:
		out.Payload = &parleyv1.Event_KeyRegistered{KeyRegistered: &parleyv1.KeyRegistered{
			KeyId: p.KeyID, PublicKey: p.PublicKey, Replaces: p.Replaces, Signature: p.Signature, ReplacesSignature: p.ReplacesSignature}}
	case workflow.KeyRevoked:
		out.Payload = &parleyv1.Event_KeyRevoked{KeyRevoked: &parleyv1.KeyRevoked{
			Participant: p.Participant, Member: p.Member, KeyId: p.KeyID, Signature: p.Signature}}
	case workflow.SignaturesRequired:
		out.Payload = &parleyv1.Event_SignaturesRequired{SignaturesRequired: &parleyv1.SignaturesRequired{}}
	}
	return out
}

// EventFromProto converts the protobuf form of an event back.
func EventFromProto(pe *parleyv1.Event) (workflow.Event, error) {
	id, err := ParseNegotiationName("event negotiation", pe.GetNegotiation())
	if err != nil {
		return workflow.Event{}, corrupt("event %d: %v", pe.GetSequence(), err)
	}
	e := workflow.Event{NegotiationID: id, Sequence: pe.GetSequence(), At: Time(pe.GetTime()),
		Actor: pe.GetActor(), Member: pe.GetMember(), RequestID: pe.GetRequestId()}
	switch p := pe.GetPayload().(type) {
	case *parleyv1.Event_NegotiationCreated:
		c := p.NegotiationCreated
		e.Payload = workflow.NegotiationCreated{Title: c.GetTitle(), Participants: Participants(c.GetParticipants()), Rule: Rule(c.GetDecisionRule()),
			MediatorsMayChange: c.GetMediatorsMayChange(), DefaultVotingDuration: Duration(c.GetDefaultVotingDuration()),
			MaxVotingDuration: Duration(c.GetMaxVotingDuration()), ObserversMayComment: c.GetObserversMayComment(),
			RequireSignatures: c.GetRequireSignatures()}
	case *parleyv1.Event_PointAdded:
		c := p.PointAdded
		e.Payload = workflow.PointAdded{PointID: c.GetPointId(), Text: c.GetText(), TextHash: c.GetTextSha256()}
	case *parleyv1.Event_AmendmentProposed:
		c := p.AmendmentProposed
		e.Payload = workflow.AmendmentProposed{AmendmentID: c.GetAmendmentId(), Kind: Kind(c.GetKind()), PointID: c.GetPointId(),
			BaseRevision: c.GetBaseRevision(), Text: c.GetText(), Rationale: c.GetRationale(), CounterTo: c.GetCounterTo(), Deadline: Time(c.GetVotingDeadline())}
	case *parleyv1.Event_VoteCast:
		c := p.VoteCast
		e.Payload = workflow.VoteCast{AmendmentID: c.GetAmendmentId(), Choice: Choice(c.GetChoice()), Reason: c.GetReason(), Consent: ConsentFromProto(c.GetConsent())}
	case *parleyv1.Event_VotingClosed:
		c := p.VotingClosed
		e.Payload = workflow.VotingClosed{AmendmentID: c.GetAmendmentId(), Tally: tallyFromProto(c.GetTally())}
	case *parleyv1.Event_AmendmentApplied:
		c := p.AmendmentApplied
		e.Payload = workflow.AmendmentApplied{AmendmentID: c.GetAmendmentId(), PointID: c.GetPointId(), Revision: c.GetRevision(), TextHash: c.GetTextSha256()}
	case *parleyv1.Event_AmendmentRejected:
		c := p.AmendmentRejected
		e.Payload = workflow.AmendmentRejected{AmendmentID: c.GetAmendmentId(), Reason: c.GetReason()}
	case *parleyv1.Event_AmendmentWithdrawn:
		e.Payload = workflow.AmendmentWithdrawn{AmendmentID: p.AmendmentWithdrawn.GetAmendmentId()}
	case *parleyv1.Event_AmendmentStaled:
		c := p.AmendmentStaled
		e.Payload = workflow.AmendmentStaled{AmendmentID: c.GetAmendmentId(), CauseAmendmentID: c.GetCauseAmendmentId()}
	case *parleyv1.Event_PointSignedOff:
		c := p.PointSignedOff
		e.Payload = workflow.PointSignedOff{PointID: c.GetPointId(), Revision: c.GetRevision(), TextHash: c.GetTextSha256(), Checkpoint: checkpointFromProto(c.GetCheckpoint()),
			Consent: ConsentFromProto(c.GetConsent())}
	case *parleyv1.Event_SignOffRevoked:
		c := p.SignOffRevoked
		e.Payload = workflow.SignOffRevoked{PointID: c.GetPointId(), Revision: c.GetRevision()}
	case *parleyv1.Event_DocumentAccepted:
		e.Payload = workflow.DocumentAccepted{DocumentHash: p.DocumentAccepted.GetDocumentSha256(), Checkpoint: checkpointFromProto(p.DocumentAccepted.GetCheckpoint()),
			Consent: ConsentFromProto(p.DocumentAccepted.GetConsent())}
	case *parleyv1.Event_NegotiationConcluded:
		e.Payload = workflow.NegotiationConcluded{DocumentHash: p.NegotiationConcluded.GetDocumentSha256()}
	case *parleyv1.Event_CredentialIssued:
		c := p.CredentialIssued
		e.Payload = workflow.CredentialIssued{Participant: c.GetParticipant(), Member: c.GetMember(), TokenHash: c.GetTokenSha256(), Rotated: c.GetRotated()}
	case *parleyv1.Event_CredentialRevoked:
		e.Payload = workflow.CredentialRevoked{Participant: p.CredentialRevoked.GetParticipant(), Member: p.CredentialRevoked.GetMember()}
	case *parleyv1.Event_MemberAdded:
		c := p.MemberAdded
		e.Payload = workflow.MemberAdded{Participant: c.GetParticipant(), Member: c.GetMember(), DisplayName: c.GetDisplayName(), Head: c.GetHead()}
	case *parleyv1.Event_MemberRemoved:
		e.Payload = workflow.MemberRemoved{Participant: p.MemberRemoved.GetParticipant(), Member: p.MemberRemoved.GetMember()}
	case *parleyv1.Event_AcceptanceWithdrawn:
		e.Payload = workflow.AcceptanceWithdrawn{DocumentHash: p.AcceptanceWithdrawn.GetDocumentSha256()}
	case *parleyv1.Event_CheckpointKeyRotated:
		c := p.CheckpointKeyRotated
		e.Payload = workflow.CheckpointKeyRotated{VerifierKey: c.GetVerifierKey(), PreviousVerifierKey: c.GetPreviousVerifierKey()}
	case *parleyv1.Event_CommentPosted:
		c := p.CommentPosted
		e.Payload = workflow.CommentPosted{CommentID: c.GetCommentId(), PointID: c.GetPointId(), AmendmentID: c.GetAmendmentId(),
			ParentID: c.GetParentId(), Text: c.GetText()}
	case *parleyv1.Event_CommentRetracted:
		e.Payload = workflow.CommentRetracted{CommentID: p.CommentRetracted.GetCommentId()}
	case *parleyv1.Event_ParticipantAdded:
		e.Payload = workflow.ParticipantAdded{Participant: Participants([]*parleyv1.Participant{p.ParticipantAdded.GetParticipant()})[0]}
	case *parleyv1.Event_ParticipantRemoved:
		e.Payload = workflow.ParticipantRemoved{Participant: p.ParticipantRemoved.GetParticipant()}
	case *parleyv1.Event_NegotiationRenamed:
		e.Payload = workflow.NegotiationRenamed{Title: p.NegotiationRenamed.GetTitle()}
	case *parleyv1.Event_DecisionRuleChanged:
		c := p.DecisionRuleChanged
		e.Payload = workflow.DecisionRuleChanged{Rule: Rule(c.GetDecisionRule()), Weights: c.GetWeights()}
	case *parleyv1.Event_NegotiationSuspended:
		e.Payload = workflow.NegotiationSuspended{Reason: p.NegotiationSuspended.GetReason()}
	case *parleyv1.Event_NegotiationResumed:
		e.Payload = workflow.NegotiationResumed{}
	case *parleyv1.Event_NegotiationAbandoned:
		e.Payload = workflow.NegotiationAbandoned{Reason: p.NegotiationAbandoned.GetReason()}
	case *parleyv1.Event_VotingDeadlineSet:
		c := p.VotingDeadlineSet
		e.Payload = workflow.VotingDeadlineSet{AmendmentID: c.GetAmendmentId(), Deadline: Time(c.GetVotingDeadline())}
	case *parleyv1.Event_KeyRegistered:
		c := p.KeyRegistered
		e.Payload = workflow.KeyRegistered{KeyID: c.GetKeyId(), PublicKey: c.GetPublicKey(), Replaces: c.GetReplaces(),
			Signature: c.GetSignature(), ReplacesSignature: c.GetReplacesSignature()}
	case *parleyv1.Event_KeyRevoked:
		c := p.KeyRevoked
		e.Payload = workflow.KeyRevoked{Participant: c.GetParticipant(), Member: c.GetMember(), KeyID: c.GetKeyId(), Signature: c.GetSignature()}
	case *parleyv1.Event_SignaturesRequired:
		e.Payload = workflow.SignaturesRequired{}
	default:
		return workflow.Event{}, corrupt("event %d has no known payload", pe.GetSequence())
	}
	return e, nil
}
