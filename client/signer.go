package client

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/parley-negotiation/parley/client/consent"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// Signer holds a member's Ed25519 signing key. Set it as Options.Signer and
// the Client signs every vote, sign-off and acceptance it sends (see
// docs/audit.md, "Signed consent"), bound to the checkpoint it has just
// verified: with a LogVerifier, the one Sync trusted; without one, the
// server's current checkpoint, which nothing has checked. The private key
// never leaves the process.
type Signer struct {
	Key ed25519.PrivateKey

	// Participant and Member name who signs, as events name it (Member is
	// the participant id for its default member). Left empty, the Client
	// asks the server who its token belongs to, once.
	Participant string
	Member      string

	once sync.Once
	err  error
}

// KeyID returns the id of the signer's key.
func (s *Signer) KeyID() string { return consent.KeyID(s.Key.Public().(ed25519.PublicKey)) }

// PublicKey returns the raw public key.
func (s *Signer) PublicKey() []byte { return s.Key.Public().(ed25519.PublicKey) }

// identify fills in Participant and Member from the server if unset.
func (s *Signer) identify(ctx context.Context, c *Client) error {
	s.once.Do(func() {
		if s.Participant != "" && s.Member != "" {
			return
		}
		caller, err := c.Caller(ctx)
		if err != nil {
			s.err = err
			return
		}
		s.Participant, s.Member = caller.GetParticipant().GetId(), caller.GetMember().GetId()
		if s.Member == "" {
			s.Member = s.Participant
		}
	})
	return s.err
}

func (s *Signer) statement(kind, negotiation string) consent.Statement {
	return consent.Statement{Kind: kind, Negotiation: negotiation, Member: s.Member, Participant: s.Participant}
}

func (s *Signer) sign(st consent.Statement, size uint64, root []byte) (*parleyv1.Consent, error) {
	st.CheckpointSize, st.CheckpointRoot = int64(size), root
	sig, err := consent.Sign(s.Key, st)
	if err != nil {
		return nil, err
	}
	return &parleyv1.Consent{KeyId: s.KeyID(), Checkpoint: &parleyv1.CheckpointRef{TreeSize: int64(size), RootHash: root}, Signature: sig}, nil
}

// lastSegment returns the id at the end of a resource name.
func lastSegment(name string) string { return path.Base(name) }

// VoteConsent signs a vote on amendment a, as the server records it: the
// reason without leading or trailing white space.
func (s *Signer) VoteConsent(a *parleyv1.Amendment, choice parleyv1.VoteChoice, reason string, size uint64, root []byte) (*parleyv1.Consent, error) {
	pointID := func(name string) string {
		if name == "" {
			return ""
		}
		return lastSegment(name)
	}
	// A package deal's parts are what is consented to; a single change is
	// its own one part.
	parts := []consent.Part{{Kind: kindName(a.GetKind()), Point: pointID(a.GetPoint()), BaseRevision: a.GetBaseRevision(), Text: a.GetText()}}
	if len(a.GetParts()) > 0 {
		parts = parts[:0]
		for _, p := range a.GetParts() {
			parts = append(parts, consent.Part{Kind: kindName(p.GetKind()), Point: pointID(p.GetPoint()), BaseRevision: p.GetBaseRevision(), Text: p.GetText()})
		}
	}
	st := s.statement(consent.Vote, negotiationOf(a.GetName()))
	st.Amendment = lastSegment(a.GetName())
	st.AmendmentSHA256 = consent.AmendmentDigest(parts)
	st.Choice, st.ReasonSHA256 = choiceName(choice), consent.Hash([]byte(strings.TrimSpace(reason)))
	return s.sign(st, size, root)
}

// SignOffConsent signs a sign-off of point p at its revision and text hash.
func (s *Signer) SignOffConsent(p *parleyv1.Point, size uint64, root []byte) (*parleyv1.Consent, error) {
	st := s.statement(consent.SignOff, negotiationOf(p.GetName()))
	st.Point, st.Revision, st.TextSHA256 = lastSegment(p.GetName()), p.GetRevision(), p.GetTextSha256()
	return s.sign(st, size, root)
}

// AcceptanceConsent signs the acceptance of the document whose hash is given.
func (s *Signer) AcceptanceConsent(negotiation, documentSHA256 string, size uint64, root []byte) (*parleyv1.Consent, error) {
	st := s.statement(consent.Acceptance, negotiation)
	st.DocumentSHA256 = documentSHA256
	return s.sign(st, size, root)
}

// RegisterKeyRequest builds the request that registers the signer's key,
// with its proof of possession; with old, a rotation that old signs too.
func (s *Signer) RegisterKeyRequest(negotiation string, old *Signer) (*parleyv1.RegisterKeyRequest, error) {
	st := s.statement(consent.KeyRegistration, negotiation)
	st.Key = s.KeyID()
	if old != nil {
		st.Replaces = old.KeyID()
	}
	sig, err := consent.Sign(s.Key, st)
	if err != nil {
		return nil, err
	}
	req := &parleyv1.RegisterKeyRequest{Negotiation: negotiation, PublicKey: s.PublicKey(), Signature: sig, Replaces: st.Replaces}
	if old != nil {
		if req.ReplacesSignature, err = consent.Sign(old.Key, st); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// RevokeKeyRequest builds the request by which the signer revokes its own
// key.
func (s *Signer) RevokeKeyRequest(negotiation string) (*parleyv1.RevokeKeyRequest, error) {
	st := s.statement(consent.KeyRevocation, negotiation)
	st.Key = s.KeyID()
	sig, err := consent.Sign(s.Key, st)
	if err != nil {
		return nil, err
	}
	return &parleyv1.RevokeKeyRequest{Negotiation: negotiation, KeyId: st.Key, Signature: sig}, nil
}

// RegisterKey registers the key of Options.Signer for the caller in a
// negotiation; with old, it rotates old's key out.
func (c *Client) RegisterKey(ctx context.Context, negotiation string, old *Signer) (*parleyv1.SigningKey, error) {
	s, err := c.signer(ctx)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("client: no Options.Signer to register")
	}
	if old != nil {
		old.Participant, old.Member = s.Participant, s.Member
	}
	req, err := s.RegisterKeyRequest(negotiation, old)
	if err != nil {
		return nil, err
	}
	req.RequestId = c.requestID(ctx)
	resp, err := invoke(ctx, c, req, c.svc.RegisterKey)
	return resp.GetSigningKey(), err
}

// RevokeKey revokes the key of Options.Signer, signed by it.
func (c *Client) RevokeKey(ctx context.Context, negotiation string) error {
	s, err := c.signer(ctx)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("client: no Options.Signer whose key to revoke")
	}
	req, err := s.RevokeKeyRequest(negotiation)
	if err != nil {
		return err
	}
	req.RequestId = c.requestID(ctx)
	_, err = invoke(ctx, c, req, c.svc.RevokeKey)
	return err
}

// signer returns Options.Signer with its member known, or nil.
func (c *Client) signer(ctx context.Context) (*Signer, error) {
	if c.sign == nil {
		return nil, nil
	}
	if err := c.sign.identify(ctx, c); err != nil {
		return nil, err
	}
	return c.sign, nil
}

// consentCheckpoint returns the checkpoint a consent is bound to: the one
// the LogVerifier has just trusted, else the server's current one.
func (c *Client) consentCheckpoint(ctx context.Context, negotiation string) (note string, size uint64, root []byte, err error) {
	if v, ok := c.verifier.(*LogVerifier); ok {
		v.mu.Lock()
		defer v.mu.Unlock()
		l, err := v.log(negotiation)
		if err != nil {
			return "", 0, nil, err
		}
		cp, err := l.Sync(ctx)
		if err != nil {
			return "", 0, nil, err
		}
		return cp.Note, cp.Size, cp.Root, nil
	}
	resp, err := parleyv1.NewAuditServiceClient(c.conn).GetCheckpoint(ctx, &parleyv1.GetCheckpointRequest{Negotiation: negotiation})
	if err != nil {
		return "", 0, nil, toError(err)
	}
	return "", uint64(resp.GetTreeSize()), resp.GetRootHash(), nil
}

// RevokeKeyOf revokes a member's key without its signature: the
// administrator's way for a member who lost its key. member is empty for
// the participant's default member.
func (c *Client) RevokeKeyOf(ctx context.Context, negotiation, participant, member, keyID string) error {
	req := &parleyv1.RevokeKeyRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, KeyId: keyID, Participant: participant, Member: member}
	_, err := invoke(ctx, c, req, c.svc.RevokeKey)
	return err
}

// checkpointFor returns what a sign-off or an acceptance names: the signer
// (nil without Options.Signer), the checkpoint note the LogVerifier has just
// trusted (empty without one), and the size and root the consent signs.
// One Sync serves both.
func (c *Client) checkpointFor(ctx context.Context, negotiation string) (s *Signer, note string, size uint64, root []byte, err error) {
	if s, err = c.signer(ctx); err != nil {
		return nil, "", 0, nil, err
	}
	if s == nil {
		note, err = c.seenCheckpoint(ctx, negotiation)
		return nil, note, 0, nil, err
	}
	note, size, root, err = c.consentCheckpoint(ctx, negotiation)
	return s, note, size, root, err
}

// RequireSignatures requires signed votes, sign-offs and acceptances in a
// negotiation from now on (the administrator, or a mediator where the
// negotiation lets mediators change it).
func (c *Client) RequireSignatures(ctx context.Context, negotiation string) (*parleyv1.Negotiation, error) {
	req := &parleyv1.RequireSignaturesRequest{RequestId: c.requestID(ctx), Negotiation: negotiation}
	resp, err := invoke(ctx, c, req, c.svc.RequireSignatures)
	return resp.GetNegotiation(), err
}
