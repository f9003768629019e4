// The consent encoding and Ed25519 through WebCrypto, against RFC 8032's test
// vectors and DSSE's PAE example; no server needed.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConsentSigner,
  ConsentEncodingError,
  amendmentDigest,
  consentBody,
  consentMessage,
  fromHex,
  keyIdOf,
  pae,
  sha256Hex,
  toHex,
  trimReason,
  verifyConsent,
  verifyEd25519,
  type VoteStatement,
} from "../src/consent.js";

// RFC 8032, section 7.1: TEST 1, 2 and 3 (secret key, public key, message, signature).
const RFC8032 = [
  {
    name: "TEST 1",
    secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2",
    secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3",
    secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
];

for (const v of RFC8032) {
  test(`RFC 8032 ${v.name}: the seed gives the public key and the signature, which verifies`, async () => {
    const signer = await ConsentSigner.fromSeed(fromHex(v.secret));
    assert.equal(toHex(signer.publicKey), v.public);
    assert.equal(signer.keyId, await sha256Hex(fromHex(v.public)));
    assert.equal(toHex(await signer.signBytes(fromHex(v.message))), v.signature);
    assert.equal(await verifyEd25519(fromHex(v.public), fromHex(v.message), fromHex(v.signature)), true);
    const flipped = fromHex(v.signature);
    flipped[0] ^= 1;
    assert.equal(await verifyEd25519(fromHex(v.public), fromHex(v.message), flipped), false);
    assert.equal(await verifyEd25519(fromHex(v.public), fromHex(v.message + "00"), fromHex(v.signature)), false);
  });
}

test("PAE is DSSE v1's, lengths in bytes", () => {
  assert.equal(
    new TextDecoder().decode(pae("http://example.com/HelloWorld", "hello world")),
    "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
  );
  assert.equal(new TextDecoder().decode(pae("t", "é")), "DSSEv1 1 t 2 é");
  assert.equal(new TextDecoder().decode(pae("", "")), "DSSEv1 0  0 ");
});

const H = (c: string) => c.repeat(64);

const vote: VoteStatement = {
  statement: "vote",
  negotiation: "n1",
  member: "ukraine",
  participant: "ukraine",
  amendment: "a1",
  amendmentSha256: H("a"),
  choice: "APPROVE",
  reasonSha256: H("b"),
  checkpointSize: 12n,
  checkpointRoot: H("c"),
};

test("the body's lines, in order", () => {
  assert.equal(
    consentBody(vote),
    "parley-consent: v1\nstatement: vote\nnegotiation: n1\nmember: ukraine\nparticipant: ukraine\n" +
      `amendment: a1\namendment-sha256: ${H("a")}\nchoice: APPROVE\nreason-sha256: ${H("b")}\n` +
      `checkpoint-size: 12\ncheckpoint-root: ${H("c")}\n`,
  );
  assert.equal(
    consentBody({ statement: "key-registration", negotiation: "n1", member: "m", participant: "p", key: H("d"), replaces: "" }),
    `parley-consent: v1\nstatement: key-registration\nnegotiation: n1\nmember: m\nparticipant: p\nkey: ${H("d")}\nreplaces: \n`,
  );
  assert.equal(
    consentBody({
      statement: "sign-off", negotiation: "n1", member: "m", participant: "p",
      point: "p7", revision: 3, textSha256: H("e"), checkpointSize: 0, checkpointRoot: H("f"),
    }),
    `parley-consent: v1\nstatement: sign-off\nnegotiation: n1\nmember: m\nparticipant: p\npoint: p7\nrevision: 3\ntext-sha256: ${H("e")}\ncheckpoint-size: 0\ncheckpoint-root: ${H("f")}\n`,
  );
});

test("ErrConsentEncoding: a value that would forge a line, a bad hash or number, an unknown choice", () => {
  assert.throws(() => consentBody({ ...vote, amendment: "a1\nchoice: REJECT" }), ConsentEncodingError);
  assert.throws(() => consentBody({ ...vote, member: "m " }), ConsentEncodingError);
  assert.throws(() => consentBody({ ...vote, amendmentSha256: H("A") }), ConsentEncodingError);
  assert.throws(() => consentBody({ ...vote, checkpointSize: -1 }), ConsentEncodingError);
  assert.throws(() => consentBody({ ...vote, checkpointSize: 1.5 }), ConsentEncodingError);
  assert.throws(() => consentBody({ ...vote, choice: "VOTE_CHOICE_APPROVE" }), ConsentEncodingError);
});

test("a reason is trimmed as Go's strings.TrimSpace trims it", () => {
  assert.equal(trimReason(" \t\u0085\u00a0Not now.\u3000\n"), "Not now.");
  assert.equal(trimReason("\ufeffx\ufeff"), "\ufeffx\ufeff", "U+FEFF is no white space to Go");
  assert.equal(trimReason("a  b"), "a  b");
  assert.equal(trimReason(""), "");
});

test("the amendment digest covers kind, point, base revision and text", async () => {
  const one = await amendmentDigest([{ kind: "REPLACE", pointId: "p1", baseRevision: 2, text: "New." }]);
  const line = `REPLACE p1 2 ${await sha256Hex("New.")}\n`;
  assert.equal(one, await sha256Hex(line));
  assert.equal(
    await amendmentDigest([{ kind: "DELETE", pointId: "p1", baseRevision: 2, text: "ignored" }]),
    await sha256Hex(`DELETE p1 2 ${await sha256Hex("")}\n`),
  );
  assert.equal(
    await amendmentDigest([{ kind: "INSERT", pointId: "", baseRevision: 0, text: "X" }]),
    await sha256Hex(`INSERT  0 ${await sha256Hex("X")}\n`),
  );
  assert.notEqual(one, await amendmentDigest([{ kind: "REPLACE", pointId: "p1", baseRevision: 3, text: "New." }]));
});

test("a signed statement verifies, and no other statement does", async () => {
  const { signer, pair } = await ConsentSigner.generate();
  assert.equal((pair.privateKey as { extractable: boolean }).extractable, false);
  assert.equal(signer.keyId, await keyIdOf(signer.publicKey));
  const sig = await signer.sign(vote);
  assert.equal(sig.length, 64);
  assert.equal(await verifyConsent(signer.publicKey, vote, sig), true);
  assert.equal(await verifyConsent(signer.publicKey, { ...vote, choice: "REJECT" }, sig), false);
  assert.equal(await verifyConsent(signer.publicKey, { ...vote, checkpointSize: 13n }, sig), false);
  assert.equal(await verifyEd25519(signer.publicKey, consentMessage(vote), sig.slice(0, 63)), false);
  assert.equal(await verifyEd25519(signer.publicKey.slice(0, 31), consentMessage(vote), sig), false);
});
