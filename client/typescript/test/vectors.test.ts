// The TypeScript encoding against the shared test vectors of the Go package
// (client/consent/testdata/vectors.json): the same statement gives the same
// body, the same PAE bytes and, with the same seed, the same signature.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ConsentSigner,
  amendmentDigest,
  consentBody,
  consentMessage,
  fromHex,
  sha256Hex,
  toHex,
  verifyConsent,
  type ConsentStatement,
} from "../src/consent.js";

type Part = { kind: string; point: string; base_revision: number; text: string };
type Vectors = {
  payload_type: string;
  keys: { seed_hex: string; public_key_hex: string; key_id: string }[];
  amendment_digests: { parts: Part[]; digest: string }[];
  vectors: { name: string; key: number; statement: Record<string, string>; parts?: Part[]; reason?: string; body: string; pae_hex: string; signature_hex: string }[];
};

// dist/test/ → the repository's root → the Go package's test data.
const here = dirname(fileURLToPath(import.meta.url));
const vectors: Vectors = JSON.parse(readFileSync(join(here, "../../../../client/consent/testdata/vectors.json"), "utf8"));

const parts = (ps: Part[]) => ps.map((p) => ({ kind: p.kind, pointId: p.point, baseRevision: p.base_revision, text: p.text }));

// statementOf turns the vector's "name: value" map into the client's statement type.
function statementOf(m: Record<string, string>): ConsentStatement {
  const subject = { negotiation: m["negotiation"], member: m["member"], participant: m["participant"] };
  const checkpoint = { checkpointSize: BigInt(m["checkpoint-size"] ?? "0"), checkpointRoot: m["checkpoint-root"] ?? "" };
  switch (m["statement"]) {
    case "vote":
      return { statement: "vote", ...subject, ...checkpoint, amendment: m["amendment"], amendmentSha256: m["amendment-sha256"], choice: m["choice"], reasonSha256: m["reason-sha256"] };
    case "sign-off":
      return { statement: "sign-off", ...subject, ...checkpoint, point: m["point"], revision: BigInt(m["revision"]), textSha256: m["text-sha256"] };
    case "acceptance":
      return { statement: "acceptance", ...subject, ...checkpoint, documentSha256: m["document-sha256"] };
    case "key-registration":
      return { statement: "key-registration", ...subject, key: m["key"], replaces: m["replaces"] };
    case "key-revocation":
      return { statement: "key-revocation", ...subject, key: m["key"] };
  }
  throw new Error(`unknown statement ${m["statement"]}`);
}

test("the vectors' keys: seed → public key → key id", async () => {
  for (const k of vectors.keys) {
    const signer = await ConsentSigner.fromSeed(fromHex(k.seed_hex));
    assert.equal(toHex(signer.publicKey), k.public_key_hex);
    assert.equal(signer.keyId, k.key_id);
  }
});

test("the vectors' amendment digests", async () => {
  for (const d of vectors.amendment_digests) assert.equal(await amendmentDigest(parts(d.parts)), d.digest);
});

for (const v of vectors.vectors) {
  test(`vector: ${v.name}`, async () => {
    const s = statementOf(v.statement);
    if (v.parts) assert.equal(await amendmentDigest(parts(v.parts)), v.statement["amendment-sha256"]);
    if (v.reason !== undefined) assert.equal(await sha256Hex(v.reason), v.statement["reason-sha256"]);
    assert.equal(consentBody(s), v.body);
    assert.equal(toHex(consentMessage(s)), v.pae_hex);
    const signer = await ConsentSigner.fromSeed(fromHex(vectors.keys[v.key].seed_hex));
    assert.equal(toHex(await signer.sign(s)), v.signature_hex);
    assert.equal(await verifyConsent(fromHex(vectors.keys[v.key].public_key_hex), s, fromHex(v.signature_hex)), true);
    const other = vectors.keys[1 - v.key];
    assert.equal(await verifyConsent(fromHex(other.public_key_hex), s, fromHex(v.signature_hex)), false, "another key's signature");
  });
}
