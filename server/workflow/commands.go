package workflow

import "time"

// Meta is what every command carries besides its action: who acts, the
// request it came from, and the time the server chose for it.
type Meta struct {
	Actor     string // participant id, or AdminActor
	Member    string // the actor's member who acts; the participant's id (or empty) for its default member
	RequestID string
	At        time.Time
}

// Command is an action on a negotiation; one of the types below.
type Command interface{ isCommand() }

// CreateNegotiation starts a negotiation. Decide takes it with a nil state.
type CreateNegotiation struct {
	NegotiationID string
	Title         string
	Participants  []Participant
	Rule          DecisionRule
	Points        []NewPoint

	ObserversMayComment bool
	// MediatorsMayChange, DefaultVotingDuration and MaxVotingDuration are
	// the negotiation's settings for changes and deadlines (see Negotiation).
	MediatorsMayChange    bool
	DefaultVotingDuration time.Duration
	MaxVotingDuration     time.Duration
	// RequireSignatures requires signed consent from the start.
	RequireSignatures bool
}

// NewPoint is an initial point with the id chosen for it.
type NewPoint struct {
	ID   string
	Text string
}

// ProposeAmendment proposes a change of the document.
type ProposeAmendment struct {
	AmendmentID  string
	Kind         AmendmentKind
	PointID      string // target (REPLACE, DELETE) or anchor (INSERT; empty: at the start)
	BaseRevision int64
	Text         string
	Rationale    string
	CounterTo    string    // optional: the id of the amendment this one answers
	Deadline     time.Time // optional voting deadline; zero: the negotiation's default, if any
}

// CastVote casts or changes the actor's vote.
type CastVote struct {
	AmendmentID string
	Choice      VoteChoice
	Reason      string
	Consent     *Consent // the member's signature, if it signed
}

// CloseVoting closes voting on an amendment.
type CloseVoting struct{ AmendmentID string }

// ApplyAmendment applies a passed amendment; NewPointID is the id an INSERT
// gives its new point.
type ApplyAmendment struct {
	AmendmentID string
	NewPointID  string
}

// RejectAmendment rejects a passed amendment.
type RejectAmendment struct {
	AmendmentID string
	Reason      string
}

// WithdrawAmendment withdraws the actor's own amendment.
type WithdrawAmendment struct{ AmendmentID string }

// SignOffPoint signs off a point at a revision whose text has TextHash.
type SignOffPoint struct {
	PointID    string
	Revision   int64
	TextHash   string
	Checkpoint *CheckpointRef // optional, recorded with the sign-off
	Consent    *Consent       // the member's signature, if it signed
}

// RevokeSignOff withdraws the actor's sign-off of a point.
type RevokeSignOff struct{ PointID string }

// AcceptDocument accepts the whole text whose hash is DocumentHash.
type AcceptDocument struct {
	DocumentHash string
	Checkpoint   *CheckpointRef // optional, recorded with the acceptance
	Consent      *Consent       // the member's signature, if it signed
}

// IssueCredential gives a participant's member a token, by its hash. With
// Rotate the member must already have one, which it replaces; without, it
// must not. An empty Member is the participant's default member.
type IssueCredential struct {
	Participant string
	Member      string
	TokenHash   string
	Rotate      bool
}

// RevokeCredential takes a participant's member's token away.
type RevokeCredential struct {
	Participant string
	Member      string
}

// AddMember gives a participant a named member.
type AddMember struct {
	Participant string
	Member      string
	DisplayName string
	Head        bool
}

// RemoveMember removes a participant's named member and its token.
type RemoveMember struct {
	Participant string
	Member      string
}

// WithdrawAcceptance takes back the actor's acceptance of the document.
type WithdrawAcceptance struct{}

// SignOffPoints signs off many points in one command: all or none.
type SignOffPoints struct {
	Items      []SignOffItem
	Checkpoint *CheckpointRef // optional, recorded with every sign-off
}

// SignOffItem is one sign-off of SignOffPoints.
type SignOffItem struct {
	PointID  string
	Revision int64
	TextHash string
	Consent  *Consent // the member's signature of this sign-off, if it signed
}

// RevokeSignOffs withdraws the actor's sign-offs of many points: all or none.
type RevokeSignOffs struct{ PointIDs []string }

// RotateCheckpointKey records that checkpoints are signed by a new key from
// now on. Only the administrator (the server itself, at start) gives it; it
// is taken in every state, a concluded negotiation included, since it changes
// nothing but who vouches for the log.
type RotateCheckpointKey struct {
	VerifierKey         string
	PreviousVerifierKey string
}

// PostComment posts a comment on a point (PointID), on an amendment
// (AmendmentID), or a reply to a comment (ParentID): exactly one of the three.
type PostComment struct {
	CommentID   string
	PointID     string
	AmendmentID string
	ParentID    string
	Text        string
}

// RetractComment retracts the actor's own comment.
type RetractComment struct{ CommentID string }

func (PostComment) isCommand()         {}
func (RetractComment) isCommand()      {}
func (CreateNegotiation) isCommand()   {}
func (ProposeAmendment) isCommand()    {}
func (CastVote) isCommand()            {}
func (CloseVoting) isCommand()         {}
func (ApplyAmendment) isCommand()      {}
func (RejectAmendment) isCommand()     {}
func (WithdrawAmendment) isCommand()   {}
func (SignOffPoint) isCommand()        {}
func (RevokeSignOff) isCommand()       {}
func (AcceptDocument) isCommand()      {}
func (IssueCredential) isCommand()     {}
func (RevokeCredential) isCommand()    {}
func (RotateCheckpointKey) isCommand() {}
func (AddMember) isCommand()           {}
func (RemoveMember) isCommand()        {}
func (WithdrawAcceptance) isCommand()  {}
func (SignOffPoints) isCommand()       {}
func (RevokeSignOffs) isCommand()      {}
