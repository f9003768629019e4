package consent_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/parley-negotiation/parley/client/consent"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

// vectorFile is testdata/vectors.json: statements with the exact body,
// PAE bytes and signature they give, for the clients in other languages to
// check their encoders against.
type vectorFile struct {
	Comment     string         `json:"comment"`
	PayloadType string         `json:"payload_type"`
	Keys        []vectorKey    `json:"keys"`
	Digests     []digestVector `json:"amendment_digests"`
	Vectors     []signedVector `json:"vectors"`
}

type vectorKey struct {
	SeedHex      string `json:"seed_hex"` // ed25519.NewKeyFromSeed
	PublicKeyHex string `json:"public_key_hex"`
	KeyID        string `json:"key_id"`
}

type digestVector struct {
	Parts  []consent.Part `json:"parts"`
	Digest string         `json:"digest"`
}

type signedVector struct {
	Name      string            `json:"name"`
	Key       int               `json:"key"` // index in keys
	Statement map[string]string `json:"statement"`
	// Derivations shown for votes: the parts and reason hashed into the
	// statement.
	Parts        []consent.Part `json:"parts,omitempty"`
	Reason       *string        `json:"reason,omitempty"`
	Body         string         `json:"body"`
	PAEHex       string         `json:"pae_hex"`
	SignatureHex string         `json:"signature_hex"`
}

func seedKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// statementFields lists the statement as its body's names and values.
func statementFields(s consent.Statement) map[string]string {
	body, err := s.Body()
	if err != nil {
		panic(err)
	}
	m := map[string]string{}
	for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		name, value, _ := bytes.Cut(line, []byte(": "))
		m[string(name)] = string(value)
	}
	return m
}

func buildVectors(t *testing.T) vectorFile {
	keys := []ed25519.PrivateKey{seedKey(1), seedKey(2)}
	f := vectorFile{
		Comment:     "Parley signed-consent test vectors (docs/audit.md, \"Signed consent\"). Keys are ed25519.NewKeyFromSeed(seed). statement holds the body's names and values; body is the exact UTF-8 body; pae_hex the bytes signed; signature_hex the Ed25519 signature by keys[key]. Regenerate with: go test ./client/consent -run TestVectors -update",
		PayloadType: consent.PayloadType,
	}
	for _, k := range keys {
		pub := k.Public().(ed25519.PublicKey)
		f.Keys = append(f.Keys, vectorKey{SeedHex: hex.EncodeToString(k.Seed()), PublicKeyHex: hex.EncodeToString(pub), KeyID: consent.KeyID(pub)})
	}
	replace := []consent.Part{{Kind: "REPLACE", Point: "6f1c2b1e-2d3a-4c5b-8e9f-0a1b2c3d4e5f", BaseRevision: 2, Text: "Ukraine's sovereignty will be confirmed — by all parties."}}
	insertStart := []consent.Part{{Kind: "INSERT", Point: "", BaseRevision: 0, Text: "Preamble."}}
	del := []consent.Part{{Kind: "DELETE", Point: "0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a", BaseRevision: 1, Text: ""}}
	for _, parts := range [][]consent.Part{replace, insertStart, del} {
		f.Digests = append(f.Digests, digestVector{Parts: parts, Digest: consent.AmendmentDigest(parts)})
	}
	root := make([]byte, 32)
	for i := range root {
		root[i] = byte(i)
	}
	const nego = "negotiations/3f0e2a9c-5b7d-4e1f-a2c3-9d8e7f6a5b4c"
	key1, key2 := f.Keys[0].KeyID, f.Keys[1].KeyID
	reason := "Not without a timetable."
	empty := ""
	add := func(name string, key int, s consent.Statement, parts []consent.Part, reason *string) {
		body, err := s.Body()
		if err != nil {
			t.Fatal(err)
		}
		sig, err := consent.Sign(keys[key], s)
		if err != nil {
			t.Fatal(err)
		}
		f.Vectors = append(f.Vectors, signedVector{Name: name, Key: key, Statement: statementFields(s), Parts: parts, Reason: reason,
			Body: string(body), PAEHex: hex.EncodeToString(consent.PAE(consent.PayloadType, body)), SignatureHex: hex.EncodeToString(sig)})
	}
	add("vote REJECT with a reason, named member", 0, consent.Statement{Kind: consent.Vote, Negotiation: nego, Member: "legal-1", Participant: "ukraine",
		Amendment: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", AmendmentSHA256: consent.AmendmentDigest(replace), Choice: "REJECT",
		ReasonSHA256: consent.Hash([]byte(reason)), CheckpointSize: 42, CheckpointRoot: root}, replace, &reason)
	add("vote APPROVE without a reason, default member", 1, consent.Statement{Kind: consent.Vote, Negotiation: nego, Member: "europe", Participant: "europe",
		Amendment: "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", AmendmentSHA256: consent.AmendmentDigest(insertStart), Choice: "APPROVE",
		ReasonSHA256: consent.Hash(nil), CheckpointSize: 7, CheckpointRoot: root}, insertStart, &empty)
	add("sign-off", 0, consent.Statement{Kind: consent.SignOff, Negotiation: nego, Member: "legal-1", Participant: "ukraine",
		Point: "6f1c2b1e-2d3a-4c5b-8e9f-0a1b2c3d4e5f", Revision: 3, TextSHA256: consent.Hash([]byte("Ukraine's sovereignty will be confirmed — by all parties.")),
		CheckpointSize: 1234, CheckpointRoot: root}, nil, nil)
	add("acceptance", 1, consent.Statement{Kind: consent.Acceptance, Negotiation: nego, Member: "europe", Participant: "europe",
		DocumentSHA256: consent.Hash([]byte("1. Ukraine's sovereignty will be confirmed.\n")), CheckpointSize: 1, CheckpointRoot: root}, nil, nil)
	add("key-registration, first key (proof of possession)", 0, consent.Statement{Kind: consent.KeyRegistration, Negotiation: nego, Member: "legal-1", Participant: "ukraine",
		Key: key1}, nil, nil)
	add("key-registration, rotation: signed by the new key", 1, consent.Statement{Kind: consent.KeyRegistration, Negotiation: nego, Member: "legal-1", Participant: "ukraine",
		Key: key2, Replaces: key1}, nil, nil)
	add("key-registration, rotation: signed by the old key over the same body", 0, consent.Statement{Kind: consent.KeyRegistration, Negotiation: nego, Member: "legal-1", Participant: "ukraine",
		Key: key2, Replaces: key1}, nil, nil)
	add("key-revocation", 1, consent.Statement{Kind: consent.KeyRevocation, Negotiation: nego, Member: "legal-1", Participant: "ukraine", Key: key2}, nil, nil)
	return f
}

func TestVectors(t *testing.T) {
	want := buildVectors(t)
	raw, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, '\n')
	if *update {
		if err := os.WriteFile("testdata/vectors.json", raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, raw) {
		t.Fatal("testdata/vectors.json differs from what the encoding gives: run go test ./client/consent -run TestVectors -update and review the diff")
	}
	for _, v := range want.Vectors {
		pub, _ := hex.DecodeString(want.Keys[v.Key].PublicKeyHex)
		sig, _ := hex.DecodeString(v.SignatureHex)
		pae, _ := hex.DecodeString(v.PAEHex)
		if !ed25519.Verify(pub, pae, sig) {
			t.Errorf("%s: signature does not verify over pae_hex", v.Name)
		}
	}
}

func TestVerify(t *testing.T) {
	key := seedKey(1)
	pub := key.Public().(ed25519.PublicKey)
	s := consent.Statement{Kind: consent.SignOff, Negotiation: "negotiations/x", Member: "ukraine", Participant: "ukraine", Point: "p", Revision: 2, TextSHA256: "ab", CheckpointSize: 3, CheckpointRoot: []byte{1}}
	sig, err := consent.Sign(key, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		if !consent.Verify(pub, s, sig) {
			t.Fatal("a good signature does not verify")
		}
	})
	t.Run("OtherRevision", func(t *testing.T) {
		other := s
		other.Revision = 3
		if consent.Verify(pub, other, sig) {
			t.Fatal("a signature verifies over another revision")
		}
	})
	t.Run("OtherNegotiation", func(t *testing.T) {
		other := s
		other.Negotiation = "negotiations/y"
		if consent.Verify(pub, other, sig) {
			t.Fatal("a signature verifies over another negotiation")
		}
	})
	t.Run("OtherKind", func(t *testing.T) {
		other := s
		other.Kind = consent.Acceptance
		if consent.Verify(pub, other, sig) {
			t.Fatal("a sign-off's signature verifies as an acceptance")
		}
	})
	t.Run("MalformedKey", func(t *testing.T) {
		if consent.Verify(pub[:31], s, sig) || consent.Verify(pub, s, sig[:63]) {
			t.Fatal("a short key or signature verifies")
		}
	})
	t.Run("UnknownKind", func(t *testing.T) {
		if _, err := (consent.Statement{Kind: "veto"}).Body(); err == nil {
			t.Fatal("an unknown statement has a body")
		}
	})
}

func TestPAE(t *testing.T) {
	// DSSE's own example: PAE("http://example.com/HelloWorld", "hello world").
	got := string(consent.PAE("http://example.com/HelloWorld", []byte("hello world")))
	want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"
	if got != want {
		t.Fatalf("PAE = %q, want %q", got, want)
	}
}

// BenchmarkVerify is what the server spends on one signed consent, besides
// the rest of the command.
func BenchmarkVerify(b *testing.B) {
	key := seedKey(1)
	pub := key.Public().(ed25519.PublicKey)
	s := consent.Statement{Kind: consent.SignOff, Negotiation: "negotiations/3f0e2a9c-5b7d-4e1f-a2c3-9d8e7f6a5b4c", Member: "ukraine", Participant: "ukraine",
		Point: "6f1c2b1e-2d3a-4c5b-8e9f-0a1b2c3d4e5f", Revision: 3, TextSHA256: consent.Hash([]byte("text")), CheckpointSize: 1234, CheckpointRoot: make([]byte, 32)}
	sig, err := consent.Sign(key, s)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !consent.Verify(pub, s, sig) {
			b.Fatal("does not verify")
		}
	}
}
