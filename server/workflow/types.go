package workflow

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"slices"
	"strconv"
	"time"
)

// AdminActor is the actor of commands made by the server's administrator. No
// participant may take this id.
const AdminActor = "admin"

// NegotiationState is the life-cycle state of a negotiation.
type NegotiationState int

// Negotiation states.
const (
	NegotiationStateOpen NegotiationState = iota + 1
	NegotiationStateConcluded
	NegotiationStateSuspended // paused: changes of the text and votes wait for a resume
	NegotiationStateAbandoned // given up: final, like CONCLUDED, but with no agreed text
)

func (s NegotiationState) String() string {
	switch s {
	case NegotiationStateOpen:
		return "OPEN"
	case NegotiationStateConcluded:
		return "CONCLUDED"
	case NegotiationStateSuspended:
		return "SUSPENDED"
	case NegotiationStateAbandoned:
		return "ABANDONED"
	}
	return "UNSPECIFIED"
}

// Role says what a participant may do.
type Role int

// Roles.
const (
	RoleDelegation Role = iota + 1
	RoleMediator
	RoleObserver
)

func (r Role) String() string {
	switch r {
	case RoleDelegation:
		return "DELEGATION"
	case RoleMediator:
		return "MEDIATOR"
	case RoleObserver:
		return "OBSERVER"
	}
	return "UNSPECIFIED"
}

// DecisionMethod names a decision rule.
type DecisionMethod int

// Decision methods.
const (
	MethodConsensus DecisionMethod = iota + 1
	MethodUnanimity
	MethodMajority
	MethodQualified
)

func (m DecisionMethod) String() string {
	switch m {
	case MethodConsensus:
		return "CONSENSUS"
	case MethodUnanimity:
		return "UNANIMITY"
	case MethodMajority:
		return "MAJORITY"
	case MethodQualified:
		return "QUALIFIED"
	}
	return "UNSPECIFIED"
}

// AmendmentKind says what an amendment does.
type AmendmentKind int

// Amendment kinds.
const (
	KindReplace AmendmentKind = iota + 1
	KindInsert
	KindDelete
)

func (k AmendmentKind) String() string {
	switch k {
	case KindReplace:
		return "REPLACE"
	case KindInsert:
		return "INSERT"
	case KindDelete:
		return "DELETE"
	}
	return "UNSPECIFIED"
}

// AmendmentState is where an amendment is in its life cycle.
type AmendmentState int

// Amendment states.
const (
	AmendmentStateOpen AmendmentState = iota + 1
	AmendmentStatePassed
	AmendmentStateFailed
	AmendmentStateApplied
	AmendmentStateRejected
	AmendmentStateWithdrawn
	AmendmentStateStale
)

func (s AmendmentState) String() string {
	switch s {
	case AmendmentStateOpen:
		return "OPEN"
	case AmendmentStatePassed:
		return "PASSED"
	case AmendmentStateFailed:
		return "FAILED"
	case AmendmentStateApplied:
		return "APPLIED"
	case AmendmentStateRejected:
		return "REJECTED"
	case AmendmentStateWithdrawn:
		return "WITHDRAWN"
	case AmendmentStateStale:
		return "STALE"
	}
	return "UNSPECIFIED"
}

// Pending reports whether an amendment in this state still blocks acceptance.
func (s AmendmentState) Pending() bool { return s == AmendmentStateOpen || s == AmendmentStatePassed }

// VoteChoice is a delegation's position on an amendment.
type VoteChoice int

// Vote choices.
const (
	ChoiceApprove VoteChoice = iota + 1
	ChoiceReject
	ChoiceAbstain
)

func (c VoteChoice) String() string {
	switch c {
	case ChoiceApprove:
		return "APPROVE"
	case ChoiceReject:
		return "REJECT"
	case ChoiceAbstain:
		return "ABSTAIN"
	}
	return "UNSPECIFIED"
}

// Participant is a party to a negotiation.
type Participant struct {
	ID          string
	DisplayName string
	Role        Role
	Weight      int32    // voting weight for QUALIFIED; at least 1 once validated
	Members     []Member // named members besides the default one, in the order added
}

// Member is a person acting for a participant, with its own credential. Every
// participant also has a default member, not listed, whose id is the
// participant's: the holder of the participant-level token.
type Member struct {
	ID          string
	DisplayName string
	Head        bool // manages the participant's members; see mayCommit
}

// MemberKey names a member's credential: the participant's id for its
// default member (so that participant-level credentials keep their key), and
// "participant/member" for a named member. Ids cannot hold a slash, so keys
// never collide.
func MemberKey(participant, member string) string {
	if member == "" || member == participant {
		return participant
	}
	return participant + "/" + member
}

// Member returns the participant's named member with the given id.
func (p Participant) Member(id string) (Member, bool) {
	for _, m := range p.Members {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// HasHead reports whether one of the participant's named members is a head:
// then only heads and the default member sign off and accept for it.
func (p Participant) HasHead() bool {
	for _, m := range p.Members {
		if m.Head {
			return true
		}
	}
	return false
}

// DecisionRule says when an amendment passes.
type DecisionRule struct {
	Method               DecisionMethod
	Quorum               int32 // minimum number of delegations voting; 0 for none
	ThresholdBasisPoints int32 // QUALIFIED only: share of all weight that must approve
}

// Negotiation is the whole state of one negotiation, as folded from its log.
type Negotiation struct {
	ID           string
	Title        string
	State        NegotiationState
	Participants []Participant
	Rule         DecisionRule
	CreatedAt    time.Time
	ConcludedAt  time.Time
	LastSequence int64
	LastEventAt  time.Time

	Points         map[string]*Point     // every point ever added, deleted ones included
	Order          []string              // ids of the points in the document, in order
	Amendments     map[string]*Amendment // every amendment
	AmendmentOrder []string              // amendment ids in the order they were proposed
	Acceptances    map[string]Acceptance // newest acceptance per delegation
	Credentials    map[string]string     // MemberKey → SHA-256 of the member's current token

	ObserversMayComment bool                // observers may post comments, not only read
	Comments            map[string]*Comment // every comment, retracted ones included
	CommentOrder        []string            // comment ids in the order they were posted
	// Removed holds the participants removed from the negotiation, in the
	// order they left. Their ids are never given again, so that the log
	// never names two parties with one id.
	Removed []Participant
	// Rules holds every decision rule the negotiation had, oldest first; the
	// last is Rule. An amendment is decided by the rule in force when it
	// was proposed (Amendment.RuleVersion).
	Rules []RuleVersion
	// MediatorsMayChange lets mediators change participants, title, rule
	// and state, as the administrator can.
	MediatorsMayChange bool
	// DefaultVotingDuration, if not zero, gives every new amendment a
	// voting deadline that long after its proposal.
	DefaultVotingDuration time.Duration
	// MaxVotingDuration, if not zero, bounds any voting deadline: at most
	// this long after the amendment's proposal.
	MaxVotingDuration time.Duration
	// SigningKeys holds every signing key registered in the negotiation,
	// current and past, by key id.
	SigningKeys map[string]*SigningKey
	// SignaturesRequiredFrom, if not zero, is the sequence of the event
	// from which consent must be signed.
	SignaturesRequiredFrom int64

	derived derived
}

// derived holds indexes computed from the exported fields; Reindex rebuilds
// them and Apply keeps them current.
type derived struct {
	participant  map[string]int      // participant id → index in Participants
	number       map[string]int      // point id → display number
	byPoint      map[string][]string // point id → ids of amendments targeting it, in proposal order
	pending      int                 // amendments OPEN or PASSED
	pendingOf    map[string]int      // point id → its amendments OPEN or PASSED
	commentsOf   map[string][]string // point or amendment id → ids of the comments on it, in order
	delegations  []string            // ids of the delegations, in order
	documentHash string
	docHasher    hash.Hash         // has hashed the rendered document so far, for appends
	currentKey   map[string]string // MemberKey → id of the member's current signing key
}

// Point is one numbered provision.
type Point struct {
	ID        string
	Revisions []Revision         // every version of the text; the last is current
	SignOffs  map[string]SignOff // newest sign-off per delegation, possibly of an earlier revision
	History   []SignOff          // sign-offs replaced by a newer one of the same delegation, oldest first
	Deleted   bool               // removed from the document by an applied DELETE
	DeletedAt time.Time
}

// Revision is one version of a point's text.
type Revision struct {
	Revision    int64
	Text        string
	TextHash    string
	AmendmentID string // empty for the original text
	Sequence    int64
	At          time.Time
}

// SignOff is a delegation's agreement to one revision of a point.
type SignOff struct {
	Participant string
	Member      string // who of the participant signed off; empty in old logs (the default member)
	Revision    int64
	TextHash    string
	At          time.Time
	Sequence    int64
	Checkpoint  *CheckpointRef // the log checkpoint the delegation saw, if it sent one
}

// CheckpointRef names a checkpoint of the audit log: its tree size and root
// hash. The server checks it before it reaches the rules.
type CheckpointRef struct {
	TreeSize int64
	RootHash []byte
}

// Current returns the point's current revision.
func (p *Point) Current() Revision { return p.Revisions[len(p.Revisions)-1] }

// Amendment is one delegation's proposal to change the document.
type Amendment struct {
	ID              string
	Proposer        string
	Kind            AmendmentKind
	PointID         string // target (REPLACE, DELETE) or anchor (INSERT; empty: at the start)
	BaseRevision    int64
	Text            string
	Rationale       string
	State           AmendmentState
	Votes           map[string]Vote
	Tally           *Tally
	ProposedAt      time.Time
	UpdatedAt       time.Time
	Sequence        int64
	ResultPointID   string
	RejectionReason string
	StaledBy        string
	// Deadline, if not zero, is when the server closes voting.
	Deadline time.Time
	// RuleVersion is the 1-based index in Negotiation.Rules of the rule
	// that decides this amendment; 0 in state loaded from before rule
	// versions existed, meaning 1.
	RuleVersion int
	CounterTo   string // the amendment this one answers; empty if none
}

// RuleVersion is one decision rule of a negotiation with the delegations'
// weights under it.
type RuleVersion struct {
	Rule     DecisionRule
	Weights  map[string]int32 // delegation id → weight; a delegation missing here weighs its current weight
	Sequence int64            // the event that set it
}

// Comment is a remark on a point or an amendment, or a reply to one. A reply
// carries the subject of its thread, so that a subject's comments are found
// without walking threads.
type Comment struct {
	ID          string
	Author      string
	PointID     string // the point discussed; empty for an amendment's thread
	AmendmentID string // the amendment discussed; empty for a point's thread
	ParentID    string // the comment replied to; empty for a thread's first
	Text        string // empty once retracted: the log keeps what it said
	Retracted   bool
	PostedAt    time.Time
	RetractedAt time.Time
	Sequence    int64
}

// Subject returns the id of the point or amendment the comment discusses.
func (c *Comment) Subject() string {
	if c.PointID != "" {
		return c.PointID
	}
	return c.AmendmentID
}

// Vote is one delegation's position on an amendment.
type Vote struct {
	Participant string
	Member      string // who of the participant voted; empty in old logs (the default member)
	Choice      VoteChoice
	Reason      string
	At          time.Time
	Sequence    int64
}

// Tally is the count of votes when voting closed.
type Tally struct {
	Approve, Reject, Abstain, NotVoted int32
	ApprovingWeight, TotalWeight       int64
	QuorumMet, Passed                  bool
	ClosedByMediator                   bool
	ClosedByDeadline                   bool
}

// Acceptance is a delegation's acceptance of the whole text.
type Acceptance struct {
	Participant  string
	Member       string // who of the participant accepted; empty in old logs (the default member)
	DocumentHash string
	At           time.Time
	Sequence     int64
	Checkpoint   *CheckpointRef
}

// Final reports whether the state takes no more changes.
func (s NegotiationState) Final() bool {
	return s == NegotiationStateConcluded || s == NegotiationStateAbandoned
}

// Participant returns the participant with the given id.
func (n *Negotiation) Participant(id string) (Participant, bool) {
	i, ok := n.derived.participant[id]
	if !ok {
		return Participant{}, false
	}
	return n.Participants[i], true
}

// Delegations returns the ids of the delegations, in order. The slice is
// shared: do not modify it.
func (n *Negotiation) Delegations() []string { return n.derived.delegations }

// PointNumber returns the display number of a point in the document, or 0 if
// it is not in the document.
func (n *Negotiation) PointNumber(id string) int { return n.derived.number[id] }

// DocumentHash returns the lowercase hex SHA-256 of the consolidated text.
func (n *Negotiation) DocumentHash() string { return n.derived.documentHash }

// PendingAmendments returns the number of OPEN or PASSED amendments.
func (n *Negotiation) PendingAmendments() int { return n.derived.pending }

// AmendmentsOfPoint returns the ids of the amendments that target or anchor
// on a point, in proposal order. The slice is shared: do not modify it.
func (n *Negotiation) AmendmentsOfPoint(pointID string) []string { return n.derived.byPoint[pointID] }

// CommentsOf returns the ids of the comments on a point or an amendment,
// replies included, in the order they were posted. The slice is shared: do
// not modify it.
func (n *Negotiation) CommentsOf(subjectID string) []string { return n.derived.commentsOf[subjectID] }

// ByMediator reports whether an amendment was proposed by a mediator, also
// one removed from the negotiation since: the proposal stays a mediator's.
func (n *Negotiation) ByMediator(a *Amendment) bool {
	p, ok := n.Participant(a.Proposer)
	if !ok {
		i := slices.IndexFunc(n.Removed, func(q Participant) bool { return q.ID == a.Proposer })
		if i < 0 {
			return false
		}
		p = n.Removed[i]
	}
	return p.Role == RoleMediator
}

// Alternatives returns the pending REPLACE and DELETE amendments of a point,
// in proposal order: the choices of its brackets beside its current text.
func (n *Negotiation) Alternatives(pointID string) []*Amendment {
	if n.derived.pendingOf[pointID] == 0 {
		return nil
	}
	var out []*Amendment
	for _, id := range n.derived.byPoint[pointID] {
		if a := n.Amendments[id]; a.State.Pending() && a.Kind != KindInsert {
			out = append(out, a)
		}
	}
	return out
}

// PendingAmendmentsOfPoint returns the number of OPEN or PASSED amendments
// that target or anchor on a point.
func (n *Negotiation) PendingAmendmentsOfPoint(pointID string) int {
	return n.derived.pendingOf[pointID]
}

// Agreed reports whether every delegation signed off the point's current
// revision.
func (n *Negotiation) Agreed(p *Point) bool {
	if p.Deleted {
		return false
	}
	current := p.Current().Revision
	for _, d := range n.derived.delegations {
		if s, ok := p.SignOffs[d]; !ok || s.Revision != current {
			return false
		}
	}
	return true
}

// AgreedPoints returns the number of points in the document that are agreed.
func (n *Negotiation) AgreedPoints() int {
	count := 0
	for _, id := range n.Order {
		if n.Agreed(n.Points[id]) {
			count++
		}
	}
	return count
}

// AcceptanceCurrent reports whether an acceptance was made against the
// current text.
func (n *Negotiation) AcceptanceCurrent(a Acceptance) bool {
	return a.DocumentHash == n.derived.documentHash
}

// Reindex rebuilds the derived indexes from the exported fields. Call it after
// building a Negotiation by hand, e.g. when loading it from storage.
func (n *Negotiation) Reindex() {
	n.derived = derived{
		participant: make(map[string]int, len(n.Participants)),
		byPoint:     make(map[string][]string),
		pendingOf:   make(map[string]int),
		commentsOf:  make(map[string][]string),
	}
	for _, id := range n.CommentOrder {
		subject := n.Comments[id].Subject()
		n.derived.commentsOf[subject] = append(n.derived.commentsOf[subject], id)
	}
	for i, p := range n.Participants {
		n.derived.participant[p.ID] = i
		if p.Role == RoleDelegation {
			n.derived.delegations = append(n.derived.delegations, p.ID)
		}
	}
	for _, id := range n.AmendmentOrder {
		a := n.Amendments[id]
		if a.PointID != "" {
			n.derived.byPoint[a.PointID] = append(n.derived.byPoint[a.PointID], id)
		}
		if a.State.Pending() {
			n.derived.pending++
			if a.PointID != "" {
				n.derived.pendingOf[a.PointID]++
			}
		}
	}
	n.reindexKeys()
	n.renumber()
}

// renumber recomputes display numbers and the document hash after the order
// or a text changed.
func (n *Negotiation) renumber() {
	n.derived.number = make(map[string]int, len(n.Order))
	n.derived.docHasher = sha256.New()
	for i, id := range n.Order {
		n.derived.number[id] = i + 1
		writePointLine(n.derived.docHasher, i+1, n.Points[id].Current().Text)
	}
	n.derived.documentHash = hex.EncodeToString(n.derived.docHasher.Sum(nil))
}

// hashAppendedPoint extends the document hash with the point just appended,
// so that building a document of n points costs O(n), not O(n²).
func (n *Negotiation) hashAppendedPoint(id string) {
	writePointLine(n.derived.docHasher, len(n.Order), n.Points[id].Current().Text)
	n.derived.documentHash = hex.EncodeToString(n.derived.docHasher.Sum(nil))
}

// writePointLine writes one point as RenderDocument renders it.
func writePointLine(w io.Writer, number int, text string) {
	io.WriteString(w, strconv.Itoa(number))
	io.WriteString(w, ". ")
	io.WriteString(w, text)
	io.WriteString(w, "\n")
}
