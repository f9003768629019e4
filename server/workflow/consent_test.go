package workflow_test

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/parley-negotiation/parley/client/consent"
	"github.com/parley-negotiation/parley/server/workflow"
)

// Signing keys of the fixture's delegations: fixed seeds, so failures repeat.
var (
	ukraineKey    = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	ukraineKey2   = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	russiaKey     = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	aideKey       = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))
	fixtureRoot   = bytes.Repeat([]byte{0xab}, 32)
	fixtureNegoRN = "negotiations/" + negotiationID
)

func pub(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

// who splits a fixture actor "participant/member" into the participant and
// the member as statements name them.
func who(actor string) (participant, member string) {
	p, m, ok := strings.Cut(actor, "/")
	if !ok {
		return actor, actor
	}
	return p, m
}

func statementOf(kind, actor string) consent.Statement {
	p, m := who(actor)
	return consent.Statement{Kind: kind, Negotiation: fixtureNegoRN, Member: m, Participant: p}
}

func sign(t testing.TB, k ed25519.PrivateKey, s consent.Statement) []byte {
	t.Helper()
	sig, err := consent.Sign(k, s)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// registerCmd is a first registration of k by actor, with proof of
// possession.
func registerCmd(t testing.TB, actor string, k ed25519.PrivateKey) workflow.RegisterKey {
	s := statementOf(consent.KeyRegistration, actor)
	s.Key = consent.KeyID(pub(k))
	return workflow.RegisterKey{PublicKey: pub(k), Signature: sign(t, k, s)}
}

// rotateCmd rotates actor's key old out for k.
func rotateCmd(t testing.TB, actor string, old, k ed25519.PrivateKey) workflow.RegisterKey {
	s := statementOf(consent.KeyRegistration, actor)
	s.Key, s.Replaces = consent.KeyID(pub(k)), consent.KeyID(pub(old))
	return workflow.RegisterKey{PublicKey: pub(k), Signature: sign(t, k, s), Replaces: s.Replaces, ReplacesSignature: sign(t, old, s)}
}

// signed makes the consent of statement s by k at the fixture's current size.
func (f *fixture) signed(k ed25519.PrivateKey, s consent.Statement) *workflow.Consent {
	s.CheckpointSize, s.CheckpointRoot = f.n.LastSequence, fixtureRoot
	return &workflow.Consent{KeyID: consent.KeyID(pub(k)), Checkpoint: &workflow.CheckpointRef{TreeSize: s.CheckpointSize, RootHash: fixtureRoot}, Signature: sign(f.t, k, s)}
}

func (f *fixture) signedVote(actor string, k ed25519.PrivateKey, id string, choice workflow.VoteChoice, reason string) workflow.CastVote {
	s := statementOf(consent.Vote, actor)
	s.Amendment, s.AmendmentSHA256, s.Choice, s.ReasonSHA256 = id, workflow.AmendmentDigest(f.amendment(id)), choice.String(), consent.Hash([]byte(reason))
	return workflow.CastVote{AmendmentID: id, Choice: choice, Reason: reason, Consent: f.signed(k, s)}
}

func (f *fixture) signedSignOff(actor string, k ed25519.PrivateKey, pointID string) workflow.SignOffPoint {
	c := f.signOffCmd(pointID)
	s := statementOf(consent.SignOff, actor)
	s.Point, s.Revision, s.TextSHA256 = pointID, c.Revision, c.TextHash
	c.Consent = f.signed(k, s)
	return c
}

func (f *fixture) signedAcceptance(actor string, k ed25519.PrivateKey) workflow.AcceptDocument {
	s := statementOf(consent.Acceptance, actor)
	s.DocumentSHA256 = f.n.DocumentHash()
	return workflow.AcceptDocument{DocumentHash: f.n.DocumentHash(), Consent: f.signed(k, s)}
}

func requireSignatures(c *workflow.CreateNegotiation) { c.RequireSignatures = true }

func TestSignedConsent(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t, requireSignatures)
		keys := map[string]ed25519.PrivateKey{ukraine: ukraineKey, russia: russiaKey,
			unitedStates: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32)), europe: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{6}, 32))}
		for _, d := range delegations {
			f.do(d, registerCmd(t, d, keys[d]))
		}
		id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
		for _, d := range delegations {
			f.do(d, f.signedVote(d, keys[d], id, workflow.ChoiceApprove, ""))
		}
		f.applyAmendment(id)
		for _, pid := range f.n.Order {
			for _, d := range delegations {
				f.do(d, f.signedSignOff(d, keys[d], pid))
			}
		}
		for _, d := range delegations {
			f.do(d, f.signedAcceptance(d, keys[d]))
		}
		if f.n.State != workflow.NegotiationStateConcluded {
			t.Fatalf("state %s, want CONCLUDED", f.n.State)
		}
	})
	t.Run("PackageDeal", func(t *testing.T) {
		// A vote on a package deal consents to every part: a signature over
		// the first part alone does not stand for the trade.
		f := newFixture(t, requireSignatures)
		f.do(ukraine, registerCmd(t, ukraine, ukraineKey))
		pkg := f.proposePackage(tradeParts()...)
		first := f.amendment(pkg).Parts[0]
		s := statementOf(consent.Vote, ukraine)
		s.Amendment, s.Choice, s.ReasonSHA256 = pkg, workflow.ChoiceApprove.String(), consent.Hash(nil)
		s.AmendmentSHA256 = consent.AmendmentDigest([]consent.Part{{Kind: first.Kind.String(), Point: first.PointID, BaseRevision: first.BaseRevision, Text: first.Text}})
		f.refuse(ukraine, workflow.CastVote{AmendmentID: pkg, Choice: workflow.ChoiceApprove, Consent: f.signed(ukraineKey, s)},
			workflow.EINVALID, "SIGNATURE_INVALID")
		f.do(ukraine, f.signedVote(ukraine, ukraineKey, pkg, workflow.ChoiceApprove, ""))
		if got := f.amendment(pkg).Votes[ukraine]; got.Choice != workflow.ChoiceApprove {
			t.Fatalf("ukraine's vote on the package: %+v", got)
		}
	})
	t.Run("Batch", func(t *testing.T) {
		f := newFixture(t, requireSignatures)
		f.do(ukraine, registerCmd(t, ukraine, ukraineKey))
		var batch workflow.SignOffPoints
		for _, pid := range f.n.Order {
			c := f.signedSignOff(ukraine, ukraineKey, pid)
			batch.Items = append(batch.Items, workflow.SignOffItem{PointID: c.PointID, Revision: c.Revision, TextHash: c.TextHash, Consent: c.Consent})
		}
		if events := f.do(ukraine, batch); len(events) != len(f.n.Order) {
			t.Fatalf("%d events, want %d", len(events), len(f.n.Order))
		}
	})
	t.Run("RotateAndRevoke", func(t *testing.T) {
		f := newFixture(t)
		f.do(ukraine, registerCmd(t, ukraine, ukraineKey))
		f.do(ukraine, rotateCmd(t, ukraine, ukraineKey, ukraineKey2))
		if k, ok := f.n.CurrentKey(ukraine, ukraine); !ok || k.ID != consent.KeyID(pub(ukraineKey2)) {
			t.Fatalf("current key %+v, want the rotated one", k)
		}
		f.refuse(ukraine, f.signedSignOff(ukraine, ukraineKey, "p1"), workflow.EFAILEDPRECONDITION, "KEY_REVOKED")
		f.do(ukraine, f.signedSignOff(ukraine, ukraineKey2, "p1"))
		s := statementOf(consent.KeyRevocation, ukraine)
		s.Key = consent.KeyID(pub(ukraineKey2))
		f.do(ukraine, workflow.RevokeKey{KeyID: s.Key, Signature: sign(t, ukraineKey2, s)})
		if _, ok := f.n.CurrentKey(ukraine, ukraine); ok {
			t.Fatal("a key is current after its revocation")
		}
		// A first key again, after the revocation.
		f.do(ukraine, registerCmd(t, ukraine, aideKey))
		f.do(admin, workflow.RevokeKey{KeyID: consent.KeyID(pub(aideKey)), Participant: ukraine})
	})
	t.Run("UnsignedUntilRequired", func(t *testing.T) {
		f := newFixture(t, func(c *workflow.CreateNegotiation) { c.MediatorsMayChange = true })
		f.do(ukraine, f.signOffCmd("p1"))
		f.do(mediator, workflow.RequireSignatures{})
		f.refuse(ukraine, f.signOffCmd("p2"), workflow.EFAILEDPRECONDITION, "SIGNATURE_REQUIRED")
		f.do(ukraine, registerCmd(t, ukraine, ukraineKey))
		f.do(ukraine, f.signedSignOff(ukraine, ukraineKey, "p2"))
	})
	t.Run("NamedMember", func(t *testing.T) {
		f := newFixture(t, requireSignatures)
		f.do(admin, workflow.AddMember{Participant: ukraine, Member: "aide", DisplayName: "Aide"})
		f.do("ukraine/aide", registerCmd(t, "ukraine/aide", aideKey))
		id := f.propose(russia, workflow.KindReplace, "p1", "A new text.")
		f.do("ukraine/aide", f.signedVote("ukraine/aide", aideKey, id, workflow.ChoiceReject, "No."))
		// The default member's statement signed by the aide's key.
		f.refuse(ukraine, f.signedSignOff(ukraine, aideKey, "p1"), workflow.EPERMISSION, "KEY_OF_OTHER_MEMBER")
	})
}

// consentRefusals covers every refusal of consent.go.
var consentRefusals = []refusal{
	{name: "unsigned vote where signatures are required", code: workflow.EFAILEDPRECONDITION, reason: "SIGNATURE_REQUIRED", opts: []option{requireSignatures},
		run: onOpenAmendment(russia, vote(workflow.ChoiceApprove, ""))},
	{name: "signature of 63 bytes", code: workflow.EINVALID, reason: "SIGNATURE_MALFORMED",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, registerCmd(f.t, ukraine, ukraineKey))
			c := f.signedSignOff(ukraine, ukraineKey, "p1")
			c.Consent.Signature = c.Consent.Signature[:63]
			return ukraine, c
		}},
	{name: "consent without a checkpoint", code: workflow.EINVALID, reason: "SIGNATURE_MALFORMED",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, registerCmd(f.t, ukraine, ukraineKey))
			f.signAll()
			c := f.signedAcceptance(ukraine, ukraineKey)
			c.Consent.Checkpoint = nil
			return ukraine, c
		}},
	{name: "key id not hex", code: workflow.EINVALID, reason: "SIGNATURE_MALFORMED",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signedSignOff(ukraine, ukraineKey, "p1")
			c.Consent.KeyID = "KEY"
			return ukraine, c
		}},
	{name: "checkpoint beyond the log", code: workflow.EFAILEDPRECONDITION, reason: "CHECKPOINT_UNKNOWN",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, registerCmd(f.t, ukraine, ukraineKey))
			c := f.signedSignOff(ukraine, ukraineKey, "p1")
			c.Consent.Checkpoint.TreeSize = f.n.LastSequence + 1
			return ukraine, c
		}},
	{name: "key never registered", code: workflow.EFAILEDPRECONDITION, reason: "KEY_UNKNOWN",
		run: func(f *fixture) (string, workflow.Command) {
			return ukraine, f.signedSignOff(ukraine, ukraineKey, "p1")
		}},
	{name: "another member's key", code: workflow.EPERMISSION, reason: "KEY_OF_OTHER_MEMBER",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(russia, registerCmd(f.t, russia, russiaKey))
			return ukraine, f.signedSignOff(ukraine, russiaKey, "p1")
		}},
	{name: "revoked key", code: workflow.EFAILEDPRECONDITION, reason: "KEY_REVOKED",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, registerCmd(f.t, ukraine, ukraineKey))
			f.do(admin, workflow.RevokeKey{KeyID: consent.KeyID(pub(ukraineKey)), Participant: ukraine})
			return ukraine, f.signedSignOff(ukraine, ukraineKey, "p1")
		}},
	{name: "signature over another point", code: workflow.EINVALID, reason: "SIGNATURE_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, registerCmd(f.t, ukraine, ukraineKey))
			c := f.signedSignOff(ukraine, ukraineKey, "p1")
			other := f.signOffCmd("p2")
			other.Consent = c.Consent
			return ukraine, other
		}},
	{name: "vote signed for another choice", code: workflow.EINVALID, reason: "SIGNATURE_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(russia, registerCmd(f.t, russia, russiaKey))
			id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
			c := f.signedVote(russia, russiaKey, id, workflow.ChoiceApprove, "")
			c.Choice = workflow.ChoiceAbstain
			return russia, c
		}},
	{name: "a first key with a rotation's second signature", code: workflow.EINVALID, reason: "SIGNATURE_MALFORMED",
		run: func(f *fixture) (string, workflow.Command) {
			c := registerCmd(f.t, ukraine, ukraineKey)
			c.ReplacesSignature = make([]byte, 1<<20)
			return ukraine, c
		}},
	{name: "key of 31 bytes", code: workflow.EINVALID, reason: "KEY_MALFORMED",
		run: func(f *fixture) (string, workflow.Command) {
			c := registerCmd(f.t, ukraine, ukraineKey)
			c.PublicKey = c.PublicKey[:31]
			return ukraine, c
		}},
	{name: "registration without proof of possession", code: workflow.EINVALID, reason: "SIGNATURE_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			c := registerCmd(f.t, ukraine, ukraineKey)
			c.Signature = registerCmd(f.t, russia, ukraineKey).Signature // over russia's statement
			return ukraine, c
		}},
	{name: "rotation not signed by the old key", code: workflow.EINVALID, reason: "SIGNATURE_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, registerCmd(f.t, ukraine, ukraineKey))
			c := rotateCmd(f.t, ukraine, ukraineKey, ukraineKey2)
			c.ReplacesSignature = c.Signature
			return ukraine, c
		}},
	{name: "a key registered twice", code: workflow.EALREADYEXISTS, reason: "KEY_ALREADY_REGISTERED",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, registerCmd(f.t, ukraine, ukraineKey))
			return russia, registerCmd(f.t, russia, ukraineKey)
		}},
	{name: "a second first key", code: workflow.EFAILEDPRECONDITION, reason: "KEY_ROTATION_REQUIRED",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, registerCmd(f.t, ukraine, ukraineKey))
			return ukraine, registerCmd(f.t, ukraine, ukraineKey2)
		}},
	{name: "rotation of a key not current", code: workflow.EFAILEDPRECONDITION, reason: "KEY_NOT_CURRENT",
		run: func(f *fixture) (string, workflow.Command) {
			return ukraine, rotateCmd(f.t, ukraine, ukraineKey, ukraineKey2)
		}},
	{name: "revocation of a key not current", code: workflow.EFAILEDPRECONDITION, reason: "KEY_NOT_CURRENT",
		run: func(f *fixture) (string, workflow.Command) {
			return admin, workflow.RevokeKey{KeyID: consent.KeyID(pub(ukraineKey)), Participant: ukraine}
		}},
	{name: "revocation not signed by the key", code: workflow.EINVALID, reason: "SIGNATURE_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, registerCmd(f.t, ukraine, ukraineKey))
			return ukraine, workflow.RevokeKey{KeyID: consent.KeyID(pub(ukraineKey)), Signature: make([]byte, 64)}
		}},
	{name: "the administrator revokes a key of nobody", code: workflow.ENOTFOUND, reason: "PARTICIPANT_NOT_FOUND",
		run: func(f *fixture) (string, workflow.Command) {
			return admin, workflow.RevokeKey{KeyID: consent.KeyID(pub(ukraineKey)), Participant: "nobody"}
		}},
	{name: "a mediator registers a key", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: func(f *fixture) (string, workflow.Command) { return mediator, registerCmd(f.t, mediator, ukraineKey) }},
	{name: "signatures required twice", code: workflow.EFAILEDPRECONDITION, reason: "SIGNATURES_ALREADY_REQUIRED", opts: []option{requireSignatures},
		run: func(f *fixture) (string, workflow.Command) { return admin, workflow.RequireSignatures{} }},
	{name: "a delegation requires signatures", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: func(f *fixture) (string, workflow.Command) { return ukraine, workflow.RequireSignatures{} }},
}

func TestConsentRefusals(t *testing.T) {
	for _, tc := range consentRefusals {
		t.Run(errName(tc.reason)+"/"+tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			actor, cmd := tc.run(f)
			f.refuse(actor, cmd, tc.code, tc.reason)
		})
	}
}
