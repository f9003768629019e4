package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-negotiation/parley/client/consent"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// TestBoardSignsConsent: in a negotiation that requires signed consent, a
// delegation makes a signing key in the browser (WebCrypto Ed25519, not
// extractable, kept in IndexedDB), registers it, and votes from the board:
// the vote lands signed by that key, and the signature verifies outside the
// browser against the statement rebuilt from the log.
func TestBoardSignsConsent(t *testing.T) {
	srv, httpAddr := startBoardServer(t)
	ctx := context.Background()
	req := demo.CreateRequest()
	req.RequestId = ""
	req.RequireSignatures = true
	n := srv.Create(ctx, req)
	api := parleyv1.NewNegotiationServiceClient(srv.Conn())
	browser := newBrowser(t)
	shot := newShots(t)

	ukraine := newPage(t, browser, "ukraine")
	ukraine.signIn("http://"+httpAddr+"/", n.Tokens["ukraine"])
	ukraine.eventually("the log verified", 10*time.Second, `document.querySelector('[data-test="verified"]') !== null`)
	if s := ukraine.text(`[data-test="key-state"]`); !strings.Contains(s, "requires signed consent") {
		t.Fatalf("before any key, the board says %q, not that signed consent is required", s)
	}

	// The key: made and registered in the browser.
	ukraine.do("make and register a signing key", click(`[data-test="create-key"]`))
	ukraine.eventually("the key registered", live, `document.querySelector('[data-test="key-state"][data-key-id]') !== null`)
	keyID := ukraine.attr(`[data-test="key-state"]`, "data-key-id")
	shot.take(ukraine, "signing-key")

	// What IndexedDB holds is a CryptoKey the page itself cannot read out.
	held := get(ukraine, "read the stored key", chromedp.Evaluate[map[string]any](`(async () => {
		const db = await new Promise((ok, bad) => { const r = indexedDB.open("parley-signing-keys"); r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
		const all = await new Promise((ok, bad) => { const r = db.transaction("keys").objectStore("keys").getAll(); r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
		const k = all[0].pair.privateKey;
		let exported = "no";
		try { await crypto.subtle.exportKey("pkcs8", k); exported = "yes"; } catch (e) { exported = "refused: " + e.name; }
		return { count: all.length, keyId: all[0].keyId, isCryptoKey: k instanceof CryptoKey, algorithm: k.algorithm.name, extractable: k.extractable, exported };
	})()`, chromedp.EvalAwaitPromise))
	if held["count"] != float64(1) || held["keyId"] != keyID || held["isCryptoKey"] != true || held["algorithm"] != "Ed25519" || held["extractable"] != false {
		t.Fatalf("IndexedDB holds %v, want one non-extractable Ed25519 CryptoKey with id %s", held, keyID)
	}
	if !strings.HasPrefix(held["exported"].(string), "refused") {
		t.Fatalf("exporting the private key: %v, want it refused", held["exported"])
	}

	// The server lists it as Ukraine's current key.
	got, err := api.GetNegotiation(servertest.As(ctx, n.Tokens[demo.Mediator]), &parleyv1.GetNegotiationRequest{Name: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	var registered *parleyv1.SigningKey
	for _, k := range got.GetNegotiation().GetSigningKeys() {
		if k.GetParticipant() == "ukraine" && k.GetEndSequence() == 0 {
			registered = k
		}
	}
	if registered.GetKeyId() != keyID || consent.KeyID(registered.GetPublicKey()) != keyID {
		t.Fatalf("the server lists Ukraine's key as %v, want %s", registered, keyID)
	}

	// Russia proposes; Ukraine approves from the board, signed.
	doc, err := api.GetDocument(servertest.As(ctx, n.Tokens["russia"]), &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	point := doc.GetPoints()[0]
	proposed, err := api.ProposeAmendment(servertest.As(ctx, n.Tokens["russia"]), &parleyv1.ProposeAmendmentRequest{
		Negotiation: n.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: point.GetName(),
		BaseRevision: point.GetRevision(), Text: "A signed text.",
	})
	if err != nil {
		t.Fatal(err)
	}
	am := proposed.GetAmendment()
	sel := `[data-amendment="` + am.GetName() + `"]`
	ukraine.eventually("the new amendment", live, `document.querySelector('`+sel+` [data-test="vote-approve"]') !== null`)
	ukraine.do("approve it", click(sel+` [data-test="vote-approve"]`))
	ukraine.eventually("the vote shown signed and verified", live, `document.querySelector('`+sel+` [data-test="vote-ukraine"] [data-test="consent-signed"]') !== null`)
	shot.take(ukraine, "signed-vote")

	// The vote in the log carries Ukraine's consent, which verifies here.
	events, err := api.ListEvents(servertest.As(ctx, n.Tokens[demo.Mediator]), &parleyv1.ListEventsRequest{Negotiation: n.Name, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var vote *parleyv1.Event
	for _, r := range events.GetEvents() {
		if v := r.GetEvent().GetVoteCast(); v != nil && r.GetEvent().GetActor() == "ukraine" {
			vote = r.GetEvent()
		}
	}
	c := vote.GetVoteCast().GetConsent()
	if c.GetKeyId() != keyID || c.GetCheckpoint().GetTreeSize() < 1 {
		t.Fatalf("Ukraine's vote carries consent %v, want one by key %s over a checkpoint", c, keyID)
	}
	statement := consent.Statement{
		Kind: consent.Vote, Negotiation: n.Name, Member: "ukraine", Participant: "ukraine",
		Amendment:       vote.GetVoteCast().GetAmendmentId(),
		AmendmentSHA256: consent.AmendmentDigest([]consent.Part{{Kind: "REPLACE", Point: point.GetId(), BaseRevision: point.GetRevision(), Text: "A signed text."}}),
		Choice:          "APPROVE", ReasonSHA256: consent.Hash(nil),
		CheckpointSize: c.GetCheckpoint().GetTreeSize(), CheckpointRoot: c.GetCheckpoint().GetRootHash(),
	}
	if !consent.Verify(registered.GetPublicKey(), statement, c.GetSignature()) {
		t.Fatal("the board's signature does not verify over the vote's statement")
	}

	// The audit page counts it among the verified signed consents.
	ukraine.do("open the audit log", click(`nav a[href="#/audit"]`))
	ukraine.eventually("the consent verified", live, has(`[data-test="consents-verified"]`, "1 signed consent verified"))
}
