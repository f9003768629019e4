package workflow

import "time"

// Event is one entry of a negotiation's log.
type Event struct {
	NegotiationID string
	Sequence      int64
	At            time.Time
	Actor         string
	Member        string // the actor's member who acted; empty for the admin and in old logs
	RequestID     string
	Payload       Payload
}

// Payload is what happened; one of the types below.
type Payload interface{ isPayload() }

// NegotiationCreated starts every log.
type NegotiationCreated struct {
	Title                 string
	Participants          []Participant
	Rule                  DecisionRule
	MediatorsMayChange    bool
	DefaultVotingDuration time.Duration
	MaxVotingDuration     time.Duration
	ObserversMayComment   bool
	RequireSignatures     bool
}

// PointAdded appends one point of the initial document.
type PointAdded struct {
	PointID  string
	Text     string
	TextHash string
}

// AmendmentProposed opens voting on a new amendment.
type AmendmentProposed struct {
	AmendmentID  string
	Kind         AmendmentKind
	PointID      string
	BaseRevision int64
	Text         string
	Rationale    string
	CounterTo    string    // the amendment it answers; empty if none
	Deadline     time.Time // zero: no deadline
}

// VoteCast records the actor's vote or change of vote.
type VoteCast struct {
	AmendmentID string
	Choice      VoteChoice
	Reason      string
	Consent     *Consent
}

// VotingClosed records the outcome of a vote.
type VotingClosed struct {
	AmendmentID string
	Tally       Tally
}

// AmendmentApplied records a change of the document.
type AmendmentApplied struct {
	AmendmentID string
	PointID     string // changed, created or removed point
	Revision    int64  // the point's revision after the change; 0 for DELETE
	TextHash    string // empty for DELETE
}

// AmendmentRejected records a mediator's rejection.
type AmendmentRejected struct {
	AmendmentID string
	Reason      string
}

// AmendmentWithdrawn records a proposer's withdrawal.
type AmendmentWithdrawn struct{ AmendmentID string }

// AmendmentStaled records that an amendment can no longer apply.
type AmendmentStaled struct {
	AmendmentID      string
	CauseAmendmentID string
}

// PointSignedOff records the actor's sign-off of a point at a revision.
type PointSignedOff struct {
	PointID    string
	Revision   int64
	TextHash   string
	Checkpoint *CheckpointRef
	Consent    *Consent
}

// SignOffRevoked records that the actor withdrew its sign-off of a point.
type SignOffRevoked struct {
	PointID  string
	Revision int64
}

// DocumentAccepted records the actor's acceptance of the whole text.
type DocumentAccepted struct {
	DocumentHash string
	Checkpoint   *CheckpointRef
	Consent      *Consent
}

// NegotiationConcluded records that every delegation accepted the same text.
type NegotiationConcluded struct{ DocumentHash string }

// CredentialIssued records a participant's new token, by its hash. Rotated
// says that it replaced one the participant held.
type CredentialIssued struct {
	Participant string
	Member      string // empty for the default member
	TokenHash   string
	Rotated     bool
}

// CredentialRevoked records that a participant's member's token stopped
// working.
type CredentialRevoked struct {
	Participant string
	Member      string // empty for the default member
}

// MemberAdded records a participant's new named member.
type MemberAdded struct {
	Participant string
	Member      string
	DisplayName string
	Head        bool
}

// MemberRemoved records that a named member no longer acts for its
// participant; its token stops working.
type MemberRemoved struct {
	Participant string
	Member      string
}

// AcceptanceWithdrawn records that the actor took back its acceptance.
type AcceptanceWithdrawn struct{ DocumentHash string }

// CheckpointKeyRotated records that the server's operator replaced the key
// that signs the log's checkpoints. It changes nothing in the negotiation:
// it is there so that parties who pinned the old key can follow the change.
type CheckpointKeyRotated struct {
	VerifierKey         string
	PreviousVerifierKey string // empty if the server had none on record
}

// CommentPosted records the actor's comment on a point or an amendment, or
// its reply to a comment (whose subject it then carries too).
type CommentPosted struct {
	CommentID   string
	PointID     string
	AmendmentID string
	ParentID    string
	Text        string
}

// CommentRetracted records that the actor retracted its comment.
type CommentRetracted struct{ CommentID string }

func (CommentPosted) isPayload()        {}
func (CommentRetracted) isPayload()     {}
func (NegotiationCreated) isPayload()   {}
func (PointAdded) isPayload()           {}
func (AmendmentProposed) isPayload()    {}
func (VoteCast) isPayload()             {}
func (VotingClosed) isPayload()         {}
func (AmendmentApplied) isPayload()     {}
func (AmendmentRejected) isPayload()    {}
func (AmendmentWithdrawn) isPayload()   {}
func (AmendmentStaled) isPayload()      {}
func (PointSignedOff) isPayload()       {}
func (SignOffRevoked) isPayload()       {}
func (DocumentAccepted) isPayload()     {}
func (NegotiationConcluded) isPayload() {}
func (CredentialIssued) isPayload()     {}
func (CredentialRevoked) isPayload()    {}
func (CheckpointKeyRotated) isPayload() {}
func (MemberAdded) isPayload()          {}
func (MemberRemoved) isPayload()        {}
func (AcceptanceWithdrawn) isPayload()  {}
