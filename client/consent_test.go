package client_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/client"
	"github.com/parley-negotiation/parley/client/consent"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

var writeConsentFixtures = flag.Bool("write-consent-fixtures", false,
	"write the honest and tampered logs of TestConsentTampering to client/consent/testdata/tampered")

func seedKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// signedHistory is a negotiation that requires signatures, with a history
// of signed consent: keys registered, an amendment voted and applied, every
// point signed off by both delegations, and Ukraine's acceptance (Russia's
// is still missing, so that an operator has a reason to forge it). Other is
// a second negotiation where Ukraine signed off a point with the same key.
type signedHistory struct {
	s           *servertest.Server
	negotiation string
	other       string
	verifierKey string
	keys        map[string]ed25519.PrivateKey
	// otherSignOff is Ukraine's signed PointSignedOff event in other.
	otherSignOff *parleyv1.Event
}

func newSignedHistory(t *testing.T) *signedHistory {
	t.Helper()
	s := servertest.Start(t)
	ctx := context.Background()
	h := &signedHistory{s: s, keys: map[string]ed25519.PrivateKey{"ukraine": seedKey(1), "russia": seedKey(2)}}
	create := func() servertest.Negotiation {
		return s.Create(ctx, &parleyv1.CreateNegotiationRequest{
			Title: "Signed plan", RequireSignatures: true,
			Participants: []*parleyv1.Participant{
				{Id: "ukraine", DisplayName: "Ukraine", Role: parleyv1.Role_ROLE_DELEGATION},
				{Id: "russia", DisplayName: "Russia", Role: parleyv1.Role_ROLE_DELEGATION},
				{Id: "mediator", DisplayName: "Mediator", Role: parleyv1.Role_ROLE_MEDIATOR},
			},
			DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS},
			Points:       []string{"The sovereignty of Ukraine will be confirmed.", "Prisoners will be exchanged.", "This agreement is binding."},
		})
	}
	n, other := create(), create()
	h.negotiation, h.other = n.Name, other.Name
	key, err := parleyv1.NewAuditServiceClient(s.Conn()).GetVerifierKey(servertest.As(ctx, s.AdminToken), &parleyv1.GetVerifierKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	h.verifierKey = key.GetVerifierKey()
	// Ukraine binds its consent to checkpoints it verified; Russia to the
	// server's current one.
	dial := func(tokens map[string]string, who string, verified bool) *client.Client {
		opts := client.Options{Token: tokens[who]}
		if k, ok := h.keys[who]; ok {
			opts.Signer = &client.Signer{Key: k}
		}
		if verified {
			v, err := client.NewLogVerifier(h.verifierKey, nil)
			if err != nil {
				t.Fatal(err)
			}
			opts.Verifier = v
		}
		c, err := client.New(s.Addr, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ukraine, russia, mediator := dial(n.Tokens, "ukraine", true), dial(n.Tokens, "russia", false), dial(n.Tokens, "mediator", false)
	for _, c := range []*client.Client{ukraine, russia} {
		_, err := c.RegisterKey(ctx, n.Name, nil)
		must(err)
	}
	doc, err := ukraine.Document(ctx, n.Name)
	must(err)
	a, err := ukraine.ProposeAmendment(ctx, &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE,
		Point: doc.Points[0].GetName(), BaseRevision: 1, Text: "The sovereignty of Ukraine will be confirmed by all parties.", Rationale: "Clearer."})
	must(err)
	_, err = ukraine.CastVote(ctx, a.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, "")
	must(err)
	_, err = russia.CastVote(ctx, a.GetName(), parleyv1.VoteChoice_VOTE_CHOICE_APPROVE, "  Agreed.  ")
	must(err)
	_, err = mediator.ApplyAmendment(ctx, a.GetName())
	must(err)
	doc, err = ukraine.Document(ctx, n.Name)
	must(err)
	_, err = ukraine.SignOffPoints(ctx, n.Name, doc.Points)
	must(err)
	for _, p := range doc.Points {
		_, err := russia.SignOff(ctx, p)
		must(err)
	}
	_, err = ukraine.AcceptDocument(ctx, n.Name, doc.SHA256)
	must(err)

	// The other negotiation: the same key, one sign-off.
	elsewhere := dial(other.Tokens, "ukraine", false)
	_, err = elsewhere.RegisterKey(ctx, other.Name, nil)
	must(err)
	otherDoc, err := elsewhere.Document(ctx, other.Name)
	must(err)
	_, err = elsewhere.SignOff(ctx, otherDoc.Points[1])
	must(err)
	for _, rec := range listEvents(t, s, other.Name) {
		if rec.GetEvent().GetPointSignedOff() != nil {
			h.otherSignOff = rec.GetEvent()
		}
	}
	return h
}

func (h *signedHistory) admin() context.Context {
	return servertest.As(context.Background(), h.s.AdminToken)
}

// listEvents lists the whole log of a negotiation served by s.
func listEvents(t *testing.T, s *servertest.Server, negotiation string) []*parleyv1.EventRecord {
	t.Helper()
	var out []*parleyv1.EventRecord
	api := parleyv1.NewNegotiationServiceClient(s.Conn())
	req := &parleyv1.ListEventsRequest{Negotiation: negotiation, PageSize: 1000}
	for {
		page, err := api.ListEvents(servertest.As(context.Background(), s.AdminToken), req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.GetEvents()...)
		if page.GetNextPageToken() == "" {
			return out
		}
		req.PageToken = page.GetNextPageToken()
	}
}

// verifyFromScratch checks the whole log of the negotiation served by s as
// a client with no history would: events, checkpoint, and consents.
func verifyFromScratch(t *testing.T, s *servertest.Server, negotiation, verifierKey string, expect func(*client.AuditLog)) error {
	t.Helper()
	log, err := client.NewAuditLog(s.Conn(), negotiation, verifierKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if expect != nil {
		expect(log)
	}
	if err := log.Add(listEvents(t, s, negotiation)...); err != nil {
		return err
	}
	_, err = log.Sync(servertest.As(context.Background(), s.AdminToken))
	return err
}

// tamperedCopy copies the stopped server's data folder, lets change rewrite
// events of the negotiation in the copy as an operator with the disk would,
// recomputes the Merkle tree over the rewritten log so that it is
// consistent (the operator holds the checkpoint key too), and serves the
// copy.
func (h *signedHistory) tamperedCopy(t *testing.T, change func(events *bolt.Bucket, get func(seq uint64) *parleyv1.Event, put func(*parleyv1.Event))) *servertest.Server {
	t.Helper()
	dir := t.TempDir()
	for _, name := range mustReadDir(t, h.s.DataDir) {
		raw, err := os.ReadFile(filepath.Join(h.s.DataDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := bolt.Open(filepath.Join(dir, "parley.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		nb := tx.Bucket([]byte("negotiations")).Bucket([]byte(strings.TrimPrefix(h.negotiation, "negotiations/")))
		events := nb.Bucket([]byte("events"))
		get := func(n uint64) *parleyv1.Event {
			var e parleyv1.Event
			if err := proto.Unmarshal(events.Get(seq(n)), &e); err != nil {
				t.Fatal(err)
			}
			return &e
		}
		put := func(e *parleyv1.Event) {
			leaf, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if err := events.Put(seq(uint64(e.GetSequence())), leaf); err != nil {
				t.Fatal(err)
			}
		}
		change(events, get, put)
		rewriteTree(events, nb.Bucket([]byte("merkle")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return servertest.Start(t, "--data", dir)
}

func mustReadDir(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names
}

// find returns the sequence of the first event of the log that matches.
func find(t *testing.T, events *bolt.Bucket, match func(*parleyv1.Event) bool) uint64 {
	t.Helper()
	var found uint64
	events.ForEach(func(k, v []byte) error {
		var e parleyv1.Event
		if found == 0 && proto.Unmarshal(v, &e) == nil && match(&e) {
			found = uint64(e.GetSequence())
		}
		return nil
	})
	if found == 0 {
		t.Fatal("no event matches")
	}
	return found
}

// tamperCase is one thing a dishonest operator does to the log, and what a
// verifier must then say: the event, the member, and one of the reasons.
type tamperCase struct {
	name    string
	change  func(t *testing.T, h *signedHistory, events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) (seq uint64)
	member  string
	reasons []string
	// later: the failure is at an event after the one changed (the first
	// consent that the change leaves unbacked).
	later bool
}

var tamperCases = []tamperCase{
	{name: "forged acceptance", member: "russia", reasons: []string{"CONSENT_BAD_SIGNATURE"},
		change: func(t *testing.T, h *signedHistory, events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) uint64 {
			// Ukraine's acceptance becomes Russia's, signed by a key the
			// operator made, under Russia's key id.
			n := find(t, events, func(e *parleyv1.Event) bool { return e.GetDocumentAccepted() != nil })
			e := get(n)
			e.Actor, e.Member = "russia", "russia"
			c := e.GetDocumentAccepted().GetConsent()
			st := consent.Statement{Kind: consent.Acceptance, Negotiation: h.negotiation, Member: "russia", Participant: "russia",
				DocumentSHA256: e.GetDocumentAccepted().GetDocumentSha256(), CheckpointSize: c.GetCheckpoint().GetTreeSize(), CheckpointRoot: c.GetCheckpoint().GetRootHash()}
			sig, _ := consent.Sign(seedKey(99), st)
			c.KeyId, c.Signature = consent.KeyID(h.keys["russia"].Public().(ed25519.PublicKey)), sig
			put(e)
			return n
		}},
	{name: "unsigned acceptance", member: "russia", reasons: []string{"CONSENT_UNSIGNED"},
		change: func(t *testing.T, h *signedHistory, events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) uint64 {
			n := find(t, events, func(e *parleyv1.Event) bool { return e.GetDocumentAccepted() != nil })
			e := get(n)
			e.Actor, e.Member = "russia", "russia"
			e.GetDocumentAccepted().Consent = nil
			put(e)
			return n
		}},
	{name: "sign-off replayed onto another point", member: "ukraine", reasons: []string{"CONSENT_BAD_SIGNATURE"},
		change: func(t *testing.T, h *signedHistory, events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) uint64 {
			var points []*parleyv1.PointAdded
			events.ForEach(func(_, v []byte) error {
				var e parleyv1.Event
				if proto.Unmarshal(v, &e) == nil && e.GetPointAdded() != nil {
					points = append(points, e.GetPointAdded())
				}
				return nil
			})
			n := find(t, events, func(e *parleyv1.Event) bool {
				return e.GetActor() == "ukraine" && e.GetPointSignedOff().GetPointId() == points[1].GetPointId()
			})
			e := get(n)
			e.GetPointSignedOff().PointId, e.GetPointSignedOff().TextSha256 = points[2].GetPointId(), points[2].GetTextSha256()
			put(e)
			return n
		}},
	{name: "sign-off replayed onto another revision", member: "russia", reasons: []string{"CONSENT_BAD_SIGNATURE"},
		change: func(t *testing.T, h *signedHistory, events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) uint64 {
			n := find(t, events, func(e *parleyv1.Event) bool {
				return e.GetActor() == "russia" && e.GetPointSignedOff().GetRevision() == 2
			})
			e := get(n)
			e.GetPointSignedOff().Revision = 1
			put(e)
			return n
		}},
	{name: "vote replayed onto another choice", member: "russia", reasons: []string{"CONSENT_BAD_SIGNATURE"},
		change: func(t *testing.T, h *signedHistory, events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) uint64 {
			n := find(t, events, func(e *parleyv1.Event) bool { return e.GetActor() == "russia" && e.GetVoteCast() != nil })
			e := get(n)
			e.GetVoteCast().Choice = parleyv1.VoteChoice_VOTE_CHOICE_REJECT
			put(e)
			return n
		}},
	{name: "sign-off moved from another negotiation", member: "ukraine", reasons: []string{"CONSENT_BAD_SIGNATURE", "CONSENT_CHECKPOINT_UNKNOWN"},
		change: func(t *testing.T, h *signedHistory, events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) uint64 {
			moved := proto.Clone(h.otherSignOff).(*parleyv1.Event)
			n := find(t, events, func(e *parleyv1.Event) bool { return e.GetActor() == "ukraine" && e.GetPointSignedOff() != nil })
			moved.Negotiation, moved.Sequence = h.negotiation, int64(n)
			put(moved)
			return n
		}},
	{name: "key registration replayed for another member", member: "russia", reasons: []string{"KEY_REGISTRATION_INVALID"},
		change: func(t *testing.T, h *signedHistory, events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) uint64 {
			ua := find(t, events, func(e *parleyv1.Event) bool { return e.GetKeyRegistered() != nil && e.GetActor() == "ukraine" })
			n := find(t, events, func(e *parleyv1.Event) bool { return e.GetKeyRegistered() != nil && e.GetActor() == "russia" })
			e := get(n)
			e.Payload = get(ua).Payload
			put(e)
			return n
		}},
	{name: "operator's own key registered for another member", member: "russia", later: true,
		reasons: []string{"CONSENT_KEY_NOT_CURRENT", "CONSENT_CHECKPOINT_UNKNOWN"},
		change: func(t *testing.T, h *signedHistory, events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) uint64 {
			// A valid proof of possession of the operator's key, for Russia:
			// third parties cannot tell it from Russia's own first key, but
			// Russia's own signatures after it no longer match.
			n := find(t, events, func(e *parleyv1.Event) bool { return e.GetKeyRegistered() != nil && e.GetActor() == "russia" })
			e := get(n)
			forged := seedKey(99)
			st := consent.Statement{Kind: consent.KeyRegistration, Negotiation: h.negotiation, Member: "russia", Participant: "russia",
				Key: consent.KeyID(forged.Public().(ed25519.PublicKey))}
			sig, _ := consent.Sign(forged, st)
			e.Payload = &parleyv1.Event_KeyRegistered{KeyRegistered: &parleyv1.KeyRegistered{KeyId: st.Key, PublicKey: forged.Public().(ed25519.PublicKey), Signature: sig}}
			put(e)
			return n
		}},
}

func TestConsentTampering(t *testing.T) {
	h := newSignedHistory(t)
	t.Run("OK", func(t *testing.T) {
		if err := verifyFromScratch(t, h.s, h.negotiation, h.verifierKey, nil); err != nil {
			t.Fatalf("the honest history does not verify: %v", err)
		}
		// Russia, knowing its own key, accepts its registration too.
		err := verifyFromScratch(t, h.s, h.negotiation, h.verifierKey, func(l *client.AuditLog) {
			l.ExpectKeys("russia", "russia", consent.KeyID(h.keys["russia"].Public().(ed25519.PublicKey)))
		})
		if err != nil {
			t.Fatalf("the honest history does not verify for Russia: %v", err)
		}
	})
	honest := listEvents(t, h.s, h.negotiation)
	if *writeConsentFixtures {
		writeConsentFixture(t, "honest", honest, nil)
	}
	h.s.Stop()
	for _, tc := range tamperCases {
		t.Run(tc.name, func(t *testing.T) {
			var changed uint64
			copy := h.tamperedCopy(t, func(events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) {
				changed = tc.change(t, h, events, get, put)
			})
			err := verifyFromScratch(t, copy, h.negotiation, h.verifierKey, nil)
			var ce *client.ConsentError
			if !errors.As(err, &ce) {
				t.Fatalf("want a *client.ConsentError, got %v", err)
			}
			if client.IsLogError(err) {
				t.Fatalf("the Merkle log itself failed, so the tampering was not consistent: %v", err)
			}
			if (!tc.later && ce.Sequence != int64(changed)) || (tc.later && ce.Sequence <= int64(changed)) {
				t.Errorf("the failure names event %d; the operator changed event %d", ce.Sequence, changed)
			}
			if !slices.Contains(tc.reasons, ce.Reason) {
				t.Errorf("reason %s, want one of %v (%v)", ce.Reason, tc.reasons, err)
			}
			if !tc.later && ce.Member != tc.member {
				t.Errorf("the failure names member %s, want %s", ce.Member, tc.member)
			}
			if *writeConsentFixtures {
				writeConsentFixture(t, strings.NewReplacer(" ", "-", "'", "", ",", "").Replace(tc.name), listEvents(t, copy, h.negotiation), ce)
			}
		})
	}
	t.Run("operator's own key registered, seen by the member", func(t *testing.T) {
		tc := tamperCases[len(tamperCases)-1]
		var changed uint64
		copy := h.tamperedCopy(t, func(events *bolt.Bucket, get func(uint64) *parleyv1.Event, put func(*parleyv1.Event)) {
			changed = tc.change(t, h, events, get, put)
		})
		err := verifyFromScratch(t, copy, h.negotiation, h.verifierKey, func(l *client.AuditLog) {
			l.ExpectKeys("russia", "russia", consent.KeyID(h.keys["russia"].Public().(ed25519.PublicKey)))
		})
		var ce *client.ConsentError
		if !errors.As(err, &ce) || ce.Reason != "KEY_REGISTRATION_FOREIGN" || ce.Sequence != int64(changed) {
			t.Fatalf("want KEY_REGISTRATION_FOREIGN at event %d, got %v", changed, err)
		}
	})
}

// writeConsentFixture writes a log as ListEvents JSON for the TypeScript
// and Python verifiers' tests, with the failure a verifier must report.
func writeConsentFixture(t *testing.T, name string, events []*parleyv1.EventRecord, want *client.ConsentError) {
	t.Helper()
	raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&parleyv1.ListEventsResponse{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("consent", "testdata", "tampered")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(raw, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	expect := "{\"verifies\": true}\n"
	if want != nil {
		expect = "{\"verifies\": false, \"sequence\": " + itoa(want.Sequence) + ", \"participant\": \"" + want.Participant +
			"\", \"member\": \"" + want.Member + "\", \"reason\": \"" + want.Reason + "\"}\n"
	}
	if err := os.WriteFile(filepath.Join(dir, name+".expect.json"), []byte(expect), 0o644); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
