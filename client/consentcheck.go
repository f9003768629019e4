package client

import (
	"bytes"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/parley-negotiation/parley/client/consent"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// ConsentError reports an event of the log that its member's signature does
// not back: a consent the operator could have written. It names the event,
// the member and why.
type ConsentError struct {
	Negotiation string
	Sequence    int64
	Participant string
	Member      string
	// Reason is CONSENT_UNSIGNED (unsigned where signatures were required),
	// CONSENT_BAD_SIGNATURE, CONSENT_KEY_NOT_CURRENT (a key unknown, revoked
	// or another member's at that point of the log), CONSENT_CHECKPOINT_UNKNOWN
	// (a checkpoint the log never had), KEY_REGISTRATION_INVALID or
	// KEY_REVOCATION_INVALID; KEY_REGISTRATION_FOREIGN when a key the member
	// never held was registered in its name (see AuditLog.ExpectKeys).
	Reason string
	Detail string
}

func (e *ConsentError) Error() string {
	return fmt.Sprintf("audit log of %s: event %d by %s/%s is not backed by its member's signature (%s): %s",
		e.Negotiation, e.Sequence, e.Participant, e.Member, e.Reason, e.Detail)
}

// signingKey is a member's key as the log registered it.
type signingKey struct {
	public              []byte
	participant, member string
	current             bool
}

// consentChecker folds a log from its first event and checks every signed
// consent and key event against the keys registered before it, and that
// every consent after the requirement is signed. It works from the wire
// format alone, as a client in another language would; docs/audit.md
// ("Signed consent") is its specification.
type consentChecker struct {
	negotiation string
	required    bool
	amendments  map[string]string          // amendment id → amendment digest
	keys        map[string]*signingKey     // key id → key, every key ever registered
	current     map[string]string          // participant + "/" + member → current key id
	own         map[string]map[string]bool // participant + "/" + member → the key ids it holds, if known
	signed      int                        // signed consents checked

	// For the root of the log at any past size: every leaf hash, and the
	// hashes of perfect subtrees of at least 64 leaves.
	leaves []byte
	nodes  map[compact.NodeID][]byte
}

func newConsentChecker(negotiation string) *consentChecker {
	return &consentChecker{negotiation: negotiation, amendments: map[string]string{}, keys: map[string]*signingKey{},
		current: map[string]string{}, nodes: map[compact.NodeID][]byte{}}
}

const cachedLevel = 6

// add checks event e, the next of the log, and folds it. Then append its
// leaf hash to the log's tree with visit as the visitor.
func (c *consentChecker) add(e *parleyv1.Event) error {
	return c.check(e)
}

// visit keeps what rootAt needs of the nodes a tree append computes.
func (c *consentChecker) visit(id compact.NodeID, hash []byte) {
	switch {
	case id.Level == 0:
		c.leaves = append(c.leaves, hash...)
	case id.Level >= cachedLevel:
		c.nodes[id] = hash
	}
}

func memberOf(e *parleyv1.Event) string {
	if e.GetMember() != "" {
		return e.GetMember()
	}
	return e.GetActor()
}

func (c *consentChecker) fail(e *parleyv1.Event, reason, format string, args ...any) error {
	return &ConsentError{Negotiation: c.negotiation, Sequence: e.GetSequence(), Participant: e.GetActor(), Member: memberOf(e),
		Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

func (c *consentChecker) statement(kind string, e *parleyv1.Event) consent.Statement {
	return consent.Statement{Kind: kind, Negotiation: e.GetNegotiation(), Member: memberOf(e), Participant: e.GetActor()}
}

func (c *consentChecker) check(e *parleyv1.Event) error {
	switch p := e.GetPayload().(type) {
	case *parleyv1.Event_NegotiationCreated:
		c.required = p.NegotiationCreated.GetRequireSignatures()
	case *parleyv1.Event_SignaturesRequired:
		c.required = true
	case *parleyv1.Event_AmendmentProposed:
		a := p.AmendmentProposed
		parts := []consent.Part{{Kind: kindName(a.GetKind()), Point: a.GetPointId(), BaseRevision: a.GetBaseRevision(), Text: a.GetText()}}
		if len(a.GetParts()) > 0 { // a package deal: its parts, and no change of its own
			parts = parts[:0]
			for _, p := range a.GetParts() {
				parts = append(parts, consent.Part{Kind: kindName(p.GetKind()), Point: p.GetPointId(), BaseRevision: p.GetBaseRevision(), Text: p.GetText()})
			}
		}
		c.amendments[a.GetAmendmentId()] = consent.AmendmentDigest(parts)
	case *parleyv1.Event_VoteCast:
		v := p.VoteCast
		digest, ok := c.amendments[v.GetAmendmentId()]
		if !ok && v.GetConsent() != nil {
			return c.fail(e, "CONSENT_BAD_SIGNATURE", "a signed vote on amendment %s, which the log never proposed", v.GetAmendmentId())
		}
		s := c.statement(consent.Vote, e)
		s.Amendment, s.AmendmentSHA256, s.Choice, s.ReasonSHA256 = v.GetAmendmentId(), digest, choiceName(v.GetChoice()), consent.Hash([]byte(v.GetReason()))
		return c.checkConsent(e, v.GetConsent(), s)
	case *parleyv1.Event_PointSignedOff:
		so := p.PointSignedOff
		s := c.statement(consent.SignOff, e)
		s.Point, s.Revision, s.TextSHA256 = so.GetPointId(), so.GetRevision(), so.GetTextSha256()
		return c.checkConsent(e, so.GetConsent(), s)
	case *parleyv1.Event_DocumentAccepted:
		s := c.statement(consent.Acceptance, e)
		s.DocumentSHA256 = p.DocumentAccepted.GetDocumentSha256()
		return c.checkConsent(e, p.DocumentAccepted.GetConsent(), s)
	case *parleyv1.Event_KeyRegistered:
		return c.register(e, p.KeyRegistered)
	case *parleyv1.Event_KeyRevoked:
		return c.revoke(e, p.KeyRevoked)
	}
	return nil
}

func (c *consentChecker) checkConsent(e *parleyv1.Event, signed *parleyv1.Consent, s consent.Statement) error {
	if signed == nil {
		if c.required {
			return c.fail(e, "CONSENT_UNSIGNED", "the negotiation requires signed consent, and this %s carries no signature", s.Kind)
		}
		return nil
	}
	k, ok := c.keys[signed.GetKeyId()]
	switch {
	case !ok:
		return c.fail(e, "CONSENT_KEY_NOT_CURRENT", "key %.64q was never registered before this event", signed.GetKeyId())
	case k.participant != s.Participant || k.member != s.Member:
		return c.fail(e, "CONSENT_KEY_NOT_CURRENT", "key %s is %s/%s's, not this member's", signed.GetKeyId(), k.participant, k.member)
	case !k.current:
		return c.fail(e, "CONSENT_KEY_NOT_CURRENT", "key %s was revoked or rotated out before this event", signed.GetKeyId())
	}
	cp := signed.GetCheckpoint()
	size := cp.GetTreeSize()
	if size < 1 || size >= e.GetSequence() {
		return c.fail(e, "CONSENT_CHECKPOINT_UNKNOWN", "the %s names a checkpoint of size %d, not one before it", s.Kind, size)
	}
	if root := c.rootAt(uint64(size)); !bytes.Equal(root, cp.GetRootHash()) {
		return c.fail(e, "CONSENT_CHECKPOINT_UNKNOWN", "the log's root at size %d is %x, not the %x the %s names", size, root, cp.GetRootHash(), s.Kind)
	}
	s.CheckpointSize, s.CheckpointRoot = size, cp.GetRootHash()
	if !consent.Verify(k.public, s, signed.GetSignature()) {
		return c.fail(e, "CONSENT_BAD_SIGNATURE", "the signature is not key %s's over this %s", signed.GetKeyId(), s.Kind)
	}
	c.signed++
	return nil
}

func (c *consentChecker) register(e *parleyv1.Event, r *parleyv1.KeyRegistered) error {
	const why = "KEY_REGISTRATION_INVALID"
	id := consent.KeyID(r.GetPublicKey())
	if len(r.GetPublicKey()) != 32 || r.GetKeyId() != id {
		return c.fail(e, why, "the key is not a 32-byte Ed25519 key whose id is %.64q", r.GetKeyId())
	}
	if _, used := c.keys[id]; used {
		return c.fail(e, why, "key %s was registered before", id)
	}
	s := c.statement(consent.KeyRegistration, e)
	s.Key, s.Replaces = id, r.GetReplaces()
	if !consent.Verify(r.GetPublicKey(), s, r.GetSignature()) {
		return c.fail(e, why, "no proof of possession: the signature is not the new key's over the key-registration statement")
	}
	who := s.Participant + "/" + s.Member
	old, has := c.current[who]
	switch {
	case has && r.GetReplaces() != old:
		return c.fail(e, why, "%s holds key %s, which a new key must replace, signed by it", who, old)
	case !has && r.GetReplaces() != "":
		return c.fail(e, why, "it replaces key %.64q, which %s does not hold", r.GetReplaces(), who)
	case has && !consent.Verify(c.keys[old].public, s, r.GetReplacesSignature()):
		return c.fail(e, why, "the rotation is not signed by the replaced key %s", old)
	}
	if mine, known := c.own[who]; known && !mine[id] {
		return c.fail(e, "KEY_REGISTRATION_FOREIGN", "key %s was registered for %s, who never held it: someone else registered it", id, who)
	}
	if has {
		c.keys[old].current = false
	}
	c.keys[id] = &signingKey{public: r.GetPublicKey(), participant: s.Participant, member: s.Member, current: true}
	c.current[who] = id
	return nil
}

func (c *consentChecker) revoke(e *parleyv1.Event, r *parleyv1.KeyRevoked) error {
	const why = "KEY_REVOCATION_INVALID"
	who := r.GetParticipant() + "/" + r.GetMember()
	if c.current[who] != r.GetKeyId() || r.GetKeyId() == "" {
		return c.fail(e, why, "key %.64q is not the current key of %s", r.GetKeyId(), who)
	}
	k := c.keys[r.GetKeyId()]
	if e.GetActor() != "admin" {
		s := c.statement(consent.KeyRevocation, e)
		s.Key = r.GetKeyId()
		if s.Participant != r.GetParticipant() || s.Member != r.GetMember() || !consent.Verify(k.public, s, r.GetSignature()) {
			return c.fail(e, why, "the revocation is not signed by the key it revokes")
		}
	}
	k.current = false
	delete(c.current, who)
	return nil
}

// rootAt returns the Merkle root of the first size leaves added.
func (c *consentChecker) rootAt(size uint64) []byte {
	if size > uint64(len(c.leaves)/32) {
		return nil
	}
	var hashes [][]byte
	begin := uint64(0)
	for level := 63; level >= 0; level-- {
		if size&(1<<level) == 0 {
			continue
		}
		hashes = append(hashes, c.subtree(uint(level), begin>>level))
		begin += 1 << level
	}
	r, err := rangeFactory.NewRange(0, size, hashes)
	if err != nil {
		return nil
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		return nil
	}
	return root
}

// subtree returns the hash of the perfect subtree at level and index.
func (c *consentChecker) subtree(level uint, index uint64) []byte {
	if level == 0 {
		return c.leaves[index*32 : index*32+32]
	}
	if level >= cachedLevel {
		return c.nodes[compact.NewNodeID(level, index)]
	}
	return rfc6962.DefaultHasher.HashChildren(c.subtree(level-1, 2*index), c.subtree(level-1, 2*index+1))
}

func kindName(k parleyv1.AmendmentKind) string {
	switch k {
	case parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE:
		return "REPLACE"
	case parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT:
		return "INSERT"
	case parleyv1.AmendmentKind_AMENDMENT_KIND_DELETE:
		return "DELETE"
	}
	return "UNSPECIFIED"
}

func choiceName(c parleyv1.VoteChoice) string {
	switch c {
	case parleyv1.VoteChoice_VOTE_CHOICE_APPROVE:
		return "APPROVE"
	case parleyv1.VoteChoice_VOTE_CHOICE_REJECT:
		return "REJECT"
	case parleyv1.VoteChoice_VOTE_CHOICE_ABSTAIN:
		return "ABSTAIN"
	}
	return "UNSPECIFIED"
}
