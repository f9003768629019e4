package main_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// TestBadConsent is the catalogue of bad signed consent: each is refused
// with its code and reason, and the log does not grow.
func TestBadConsent(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	n := s.Create(ctx, &parleyv1.CreateNegotiationRequest{
		Title: "Signed plan", RequireSignatures: true,
		Participants: []*parleyv1.Participant{
			{Id: "ukraine", Role: parleyv1.Role_ROLE_DELEGATION},
			{Id: "russia", Role: parleyv1.Role_ROLE_DELEGATION},
			{Id: "mediator", Role: parleyv1.Role_ROLE_MEDIATOR},
		},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS},
		Points:       []string{"One.", "Two.", "Three."},
	})
	svc := parleyv1.NewNegotiationServiceClient(s.Conn())
	as := func(who string) context.Context { return servertest.As(ctx, n.Tokens[who]) }
	admin := servertest.As(ctx, s.AdminToken)
	key := func(b byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32)) }
	ukraine := &client.Signer{Key: key(1), Participant: "ukraine", Member: "ukraine"}
	russiaOld := &client.Signer{Key: key(2), Participant: "russia", Member: "russia"}
	russia := &client.Signer{Key: key(3), Participant: "russia", Member: "russia"}
	stranger := &client.Signer{Key: key(4), Participant: "ukraine", Member: "ukraine"}
	register := func(who string, s, old *client.Signer) {
		t.Helper()
		req, err := s.RegisterKeyRequest(n.Name, old)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RegisterKey(as(who), req); err != nil {
			t.Fatalf("register %s's key: %v", who, err)
		}
	}
	register("ukraine", ukraine, nil)
	register("russia", russiaOld, nil)
	register("russia", russia, russiaOld) // russiaOld is rotated out
	doc, err := svc.GetDocument(as("ukraine"), &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	pts := doc.GetPoints()
	proposed, err := svc.ProposeAmendment(as("ukraine"), &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name,
		Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: pts[0].GetName(), BaseRevision: 1, Text: "Uno."})
	if err != nil {
		t.Fatal(err)
	}
	a := proposed.GetAmendment()
	cp, err := parleyv1.NewAuditServiceClient(s.Conn()).GetCheckpoint(as("ukraine"), &parleyv1.GetCheckpointRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	size, root := uint64(cp.GetTreeSize()), cp.GetRootHash()
	must := func(c *parleyv1.Consent, err error) *parleyv1.Consent {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	vote := func(who string, c *parleyv1.Consent) func() error {
		return func() error {
			_, err := svc.CastVote(as(who), &parleyv1.CastVoteRequest{Amendment: a.GetName(), Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, Consent: c})
			return err
		}
	}
	approve := func(s *client.Signer) *parleyv1.Consent {
		return must(s.VoteConsent(a, parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, "", size, root))
	}
	signOff := func(who string, p *parleyv1.Point, c *parleyv1.Consent) func() error {
		return func() error {
			_, err := svc.SignOffPoint(as(who), &parleyv1.SignOffPointRequest{Point: p.GetName(), Revision: p.GetRevision(), TextSha256: p.GetTextSha256(), Consent: c})
			return err
		}
	}
	changed := func(c *parleyv1.Consent, change func(c *parleyv1.Consent)) *parleyv1.Consent {
		c = proto.Clone(c).(*parleyv1.Consent)
		change(c)
		return c
	}
	good := approve(ukraine)
	cases := []struct {
		name   string
		code   codes.Code
		reason string
		call   func() error
	}{
		{"unsigned vote", codes.FailedPrecondition, "SIGNATURE_REQUIRED", vote("ukraine", nil)},
		{"signature of 10 bytes", codes.InvalidArgument, "SIGNATURE_MALFORMED", vote("ukraine", changed(good, func(c *parleyv1.Consent) { c.Signature = c.Signature[:10] }))},
		{"key id not hex", codes.InvalidArgument, "SIGNATURE_MALFORMED", vote("ukraine", changed(good, func(c *parleyv1.Consent) { c.KeyId = "my key" }))},
		{"no checkpoint", codes.InvalidArgument, "SIGNATURE_MALFORMED", vote("ukraine", changed(good, func(c *parleyv1.Consent) { c.Checkpoint = nil }))},
		{"checkpoint beyond the log", codes.FailedPrecondition, "CHECKPOINT_UNKNOWN", vote("ukraine", must(ukraine.VoteConsent(a, parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, "", size+5, root)))},
		{"checkpoint root the log never had", codes.FailedPrecondition, "CHECKPOINT_UNKNOWN", vote("ukraine", must(ukraine.VoteConsent(a, parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, "", size, make([]byte, 32))))},
		{"signature over the wrong bytes", codes.InvalidArgument, "SIGNATURE_INVALID", signOff("ukraine", pts[1], must(ukraine.SignOffConsent(pts[2], size, root)))},
		{"vote signed for another choice", codes.InvalidArgument, "SIGNATURE_INVALID", vote("ukraine", must(ukraine.VoteConsent(a, parleyv1.VoteChoice_VOTE_CHOICE_REJECT, "", size, root)))},
		{"revoked key", codes.FailedPrecondition, "KEY_REVOKED", vote("russia", approve(russiaOld))},
		{"signature of another member", codes.PermissionDenied, "KEY_OF_OTHER_MEMBER", vote("ukraine", approve(russia))},
		{"key never registered", codes.FailedPrecondition, "KEY_UNKNOWN", vote("ukraine", approve(stranger))},
		{"batch with one bad signature", codes.InvalidArgument, "SIGNATURE_INVALID", func() error {
			req := &parleyv1.SignOffPointsRequest{Negotiation: n.Name}
			for _, p := range pts[1:] {
				req.Items = append(req.Items, &parleyv1.SignOffPointsItem{Point: p.GetName(), Revision: p.GetRevision(), TextSha256: p.GetTextSha256(),
					Consent: must(ukraine.SignOffConsent(pts[1], size, root))})
			}
			_, err := svc.SignOffPoints(as("ukraine"), req)
			return err
		}},
		{"malformed key", codes.InvalidArgument, "KEY_MALFORMED", func() error {
			_, err := svc.RegisterKey(as("ukraine"), &parleyv1.RegisterKeyRequest{Negotiation: n.Name, PublicKey: []byte("not a key")})
			return err
		}},
		{"key without proof of possession", codes.InvalidArgument, "SIGNATURE_INVALID", func() error {
			req, _ := (&client.Signer{Key: key(5), Participant: "russia", Member: "russia"}).RegisterKeyRequest(n.Name, russia)
			req.Signature = req.ReplacesSignature
			_, err := svc.RegisterKey(as("russia"), req)
			return err
		}},
		{"key registered for another member", codes.InvalidArgument, "SIGNATURE_INVALID", func() error {
			// Ukraine's proof of possession of key 5, sent by Russia.
			req, _ := (&client.Signer{Key: key(5), Participant: "ukraine", Member: "ukraine"}).RegisterKeyRequest(n.Name, nil)
			req.Replaces = russia.KeyID()
			_, err := svc.RegisterKey(as("russia"), req)
			return err
		}},
		{"key registered twice", codes.AlreadyExists, "KEY_ALREADY_REGISTERED", func() error {
			req, _ := (&client.Signer{Key: key(1), Participant: "russia", Member: "russia"}).RegisterKeyRequest(n.Name, russia)
			_, err := svc.RegisterKey(as("russia"), req)
			return err
		}},
		{"second key without rotation", codes.FailedPrecondition, "KEY_ROTATION_REQUIRED", func() error {
			req, _ := (&client.Signer{Key: key(5), Participant: "ukraine", Member: "ukraine"}).RegisterKeyRequest(n.Name, nil)
			_, err := svc.RegisterKey(as("ukraine"), req)
			return err
		}},
		{"revocation of a key not current", codes.FailedPrecondition, "KEY_NOT_CURRENT", func() error {
			req, _ := russiaOld.RevokeKeyRequest(n.Name)
			_, err := svc.RevokeKey(as("russia"), req)
			return err
		}},
		{"revocation signed by another key", codes.InvalidArgument, "SIGNATURE_INVALID", func() error {
			req, _ := russia.RevokeKeyRequest(n.Name)
			other, _ := russiaOld.RevokeKeyRequest(n.Name)
			req.Signature = other.Signature
			_, err := svc.RevokeKey(as("russia"), req)
			return err
		}},
		{"signatures required twice", codes.FailedPrecondition, "SIGNATURES_ALREADY_REQUIRED", func() error {
			_, err := svc.RequireSignatures(admin, &parleyv1.RequireSignaturesRequest{Negotiation: n.Name})
			return err
		}},
	}
	last := func() int64 {
		t.Helper()
		r, err := svc.GetNegotiation(admin, &parleyv1.GetNegotiationRequest{Name: n.Name})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetNegotiation().GetLastSequence()
	}
	before := last()
	for _, c := range cases {
		wantError(t, c.name, c.call(), c.code, c.reason)
		if after := last(); after != before {
			t.Errorf("%s: the log went from %d to %d events", c.name, before, after)
		}
	}
	// The base of the cases is good: the signed vote goes through.
	if err := vote("ukraine", good)(); err != nil {
		t.Fatalf("a good signed vote: %v", err)
	}
	got, err := svc.GetNegotiation(admin, &parleyv1.GetNegotiationRequest{Name: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	if k := got.GetNegotiation().GetParticipants()[1].GetSigningKey(); k.GetKeyId() != russia.KeyID() {
		t.Errorf("russia's key is %q, want %q", k.GetKeyId(), russia.KeyID())
	}
	if len(got.GetNegotiation().GetSigningKeys()) != 3 || !got.GetNegotiation().GetSignaturesRequired() {
		t.Errorf("the negotiation shows %d keys, signatures required %v; want 3, true", len(got.GetNegotiation().GetSigningKeys()), got.GetNegotiation().GetSignaturesRequired())
	}
}

// TestSignedNegotiation concludes the 28-point plan with every consent
// signed by the delegations' own keys, through the Go client against a real
// parleyd, and verifies the whole log from scratch: every vote, sign-off
// and acceptance carries a signature the verifier checks.
func TestSignedNegotiation(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req := demo.CreateRequest()
	req.RequestId, req.RequireSignatures = "", true
	created := srv.Create(ctx, req)
	key, err := parleyv1.NewAuditServiceClient(srv.Conn()).GetVerifierKey(servertest.As(ctx, srv.AdminToken), &parleyv1.GetVerifierKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	dial := func(who string, signer *client.Signer) *client.Client {
		v, err := client.NewLogVerifier(key.GetVerifierKey(), nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.New(srv.Addr, client.Options{Token: created.Tokens[who], Signer: signer, Verifier: v})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	delegations := map[string]*client.Client{}
	for i, d := range demo.Delegations {
		delegations[d] = dial(d, &client.Signer{Key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(10 + i)}, 32))})
		if _, err := delegations[d].RegisterKey(ctx, created.Name, nil); err != nil {
			t.Fatalf("%s registers its key: %v", d, err)
		}
	}
	mediator := dial(demo.Mediator, nil)
	ukraine := delegations["ukraine"]

	doc, err := ukraine.Document(ctx, created.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Points) != 28 {
		t.Fatalf("%d points, want 28", len(doc.Points))
	}
	a, err := ukraine.ProposeAmendment(ctx, &parleyv1.ProposeAmendmentRequest{Negotiation: created.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE,
		Point: doc.Points[24].GetName(), BaseRevision: 1, Text: "Ukraine will hold elections 100 days after the ceasefire.", Rationale: "A date."})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range demo.Delegations {
		if _, err := delegations[d].CastVote(ctx, a.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, ""); err != nil {
			t.Fatalf("%s votes: %v", d, err)
		}
	}
	if _, err := mediator.ApplyAmendment(ctx, a.GetName()); err != nil {
		t.Fatal(err)
	}
	for i, d := range demo.Delegations {
		doc, err := delegations[d].Document(ctx, created.Name)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := delegations[d].SignOffPoints(ctx, created.Name, doc.Points); err != nil {
				t.Fatalf("%s signs off every point: %v", d, err)
			}
			continue
		}
		for _, p := range doc.Points {
			if _, err := delegations[d].SignOff(ctx, p); err != nil {
				t.Fatalf("%s signs off point %d: %v", d, p.GetNumber(), err)
			}
		}
	}
	var concluded *parleyv1.Negotiation
	for _, d := range demo.Delegations {
		doc, err := delegations[d].Document(ctx, created.Name)
		if err != nil {
			t.Fatal(err)
		}
		if concluded, err = delegations[d].AcceptDocument(ctx, created.Name, doc.SHA256); err != nil {
			t.Fatalf("%s accepts: %v", d, err)
		}
	}
	if concluded.GetState() != parleyv1.NegotiationState_NEGOTIATION_STATE_CONCLUDED {
		t.Fatalf("the negotiation is %v, want CONCLUDED", concluded.GetState())
	}

	// The whole log, from scratch, as any party would check it.
	log, err := client.NewAuditLog(srv.Conn(), created.Name, key.GetVerifierKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	events := listAllEvents(t, servertest.As(ctx, srv.AdminToken), parleyv1.NewNegotiationServiceClient(srv.Conn()), created.Name, 1000)
	if err := log.Add(events...); err != nil {
		t.Fatalf("the signed log does not verify: %v", err)
	}
	if _, err := log.Sync(servertest.As(ctx, srv.AdminToken)); err != nil {
		t.Fatal(err)
	}
	signed := map[string]int{}
	for _, rec := range events {
		e := rec.GetEvent()
		var c *parleyv1.Consent
		switch {
		case e.GetVoteCast() != nil:
			c = e.GetVoteCast().GetConsent()
		case e.GetPointSignedOff() != nil:
			c = e.GetPointSignedOff().GetConsent()
		case e.GetDocumentAccepted() != nil:
			c = e.GetDocumentAccepted().GetConsent()
		default:
			continue
		}
		if c == nil {
			t.Errorf("event %d by %s is not signed", e.GetSequence(), e.GetActor())
		}
		signed[fmt.Sprintf("%T", e.GetPayload())]++
	}
	if signed["*parleyv1.Event_VoteCast"] != 4 || signed["*parleyv1.Event_PointSignedOff"] != 4*28 || signed["*parleyv1.Event_DocumentAccepted"] != 4 {
		t.Errorf("signed events %v, want 4 votes, 112 sign-offs and 4 acceptances", signed)
	}

	// The keys are part of the stored state: a restart loads them back.
	before, err := mediator.Negotiation(ctx, created.Name)
	if err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	after, err := mediator.Negotiation(ctx, created.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.GetSigningKeys()) != 4 || !after.GetSignaturesRequired() || !proto.Equal(before, after) {
		t.Errorf("after a restart: %d keys, signatures required %v; the negotiation changed: %v", len(after.GetSigningKeys()), after.GetSignaturesRequired(), !proto.Equal(before, after))
	}
}
