// Signed consent in the browser (docs/audit.md, "Signed consent"): the
// member's Ed25519 key, made by WebCrypto with extractable=false and kept in
// IndexedDB (a CryptoKey is structured-cloneable: the browser stores it
// without ever exposing its bytes, not even to this code), its registration
// with a proof of possession signed here, and the Consent of a vote, sign-off
// or acceptance over the checkpoint this browser verified.
//
// The statement encoding and the log check are the TypeScript client's own
// files, bundled as they are: one encoding for the client and the board.
import { create } from "@bufbuild/protobuf";
import {
  ConsentSigner,
  amendmentDigest,
  sha256Hex,
  toHex,
  trimReason,
  type ConsentStatement,
  type WebCryptoKeyPair,
} from "../../typescript/src/consent.js";
import { AmendmentKind, ConsentSchema, VoteChoice, type Amendment, type Consent } from "./gen/parley/v1/negotiation_pb.js";
import { newRequestId } from "./api.js";
import type { Store } from "./store.js";

export type { ConsentReport, ConsentCheck } from "../../typescript/src/consentlog.js";
export { ConsentVerifier } from "../../typescript/src/consentlog.js";
export { trimReason } from "../../typescript/src/consent.js";

const dbName = "parley-signing-keys";
const storeName = "keys";

// The key of a member of a participant of a negotiation: one browser may sign
// in as several (one tab each), and a key belongs to exactly one of them.
function slot(store: Store): string {
  return `${store.negotiationName}|${store.me.id}|${store.member}`;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(dbName, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(storeName);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function idb<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(storeName, mode);
      const req = op(tx.objectStore(storeName));
      tx.oncomplete = () => resolve(req.result as T);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

type Stored = { pair: WebCryptoKeyPair; keyId: string };

/** The key this browser holds for the signed-in member, if any. */
export async function loadSigner(store: Store): Promise<ConsentSigner | null> {
  if (!globalThis.crypto?.subtle || typeof indexedDB === "undefined") return null;
  const got = await idb<Stored | undefined>("readonly", (s) => s.get(slot(store)));
  return got ? ConsentSigner.fromKeyPair(got.pair) : null;
}

/**
 * Makes a new key in this browser (never extractable), registers it as the
 * member's signing key with its proof of possession, and keeps it in
 * IndexedDB. A member whose current key is held elsewhere must have it
 * revoked first: rotating needs the old key's signature.
 */
export async function createAndRegisterKey(store: Store): Promise<ConsentSigner> {
  if (!globalThis.crypto?.subtle) throw new Error("This page is not a secure context (serve the board over HTTPS): the browser cannot make a signing key.");
  const { signer, pair } = await ConsentSigner.generate(false);
  const s: ConsentStatement = { statement: "key-registration", negotiation: store.negotiationName, member: store.member, participant: store.me.id, key: signer.keyId, replaces: "" };
  await store.api.neg.registerKey({ requestId: newRequestId(), negotiation: store.negotiationName, publicKey: signer.publicKey, signature: await signer.sign(s) });
  await idb("readwrite", (st) => st.put({ pair, keyId: signer.keyId } satisfies Stored, slot(store)));
  return signer;
}

/** Forgets this browser's key for the member (after the server revoked it). */
export async function forgetKey(store: Store): Promise<void> {
  await idb("readwrite", (s) => s.delete(slot(store)));
}

/** Revokes the member's key (signed by it) and forgets it here. */
export async function revokeKey(store: Store, signer: ConsentSigner): Promise<void> {
  const s: ConsentStatement = { statement: "key-revocation", negotiation: store.negotiationName, member: store.member, participant: store.me.id, key: signer.keyId };
  await store.api.neg.revokeKey({ requestId: newRequestId(), negotiation: store.negotiationName, keyId: signer.keyId, signature: await signer.sign(s) });
  await forgetKey(store);
}

const idOf = (name: string) => name.slice(name.lastIndexOf("/") + 1);

// consent signs a statement over the checkpoint this browser verified last;
// undefined when the member has no key here (the server then says whether a
// signature was required).
async function consent(store: Store, build: (cp: { checkpointSize: bigint; checkpointRoot: string }) => Promise<ConsentStatement> | ConsentStatement): Promise<Consent | undefined> {
  // Only the member's current key signs: one rotated or revoked elsewhere
  // would be refused, and no signature lets the server say whether one is
  // required.
  const signer = store.signer;
  if (!signer || store.registeredKey?.keyId !== signer.keyId) return undefined;
  const v = store.verification;
  if (v.state !== "verified") throw new Error("The log is not verified yet, so there is no checkpoint to sign: wait for the ✓ Verified mark.");
  const treeSize = BigInt(v.checkpoint.size);
  const s = await build({ checkpointSize: treeSize, checkpointRoot: toHex(v.checkpoint.root) });
  return create(ConsentSchema, { keyId: signer.keyId, checkpoint: { treeSize, rootHash: v.checkpoint.root }, signature: await signer.sign(s) });
}

function subject(store: Store) {
  return { negotiation: store.negotiationName, member: store.member, participant: store.me.id };
}

/** The Consent of a vote, or undefined without a key. */
export function voteConsent(store: Store, a: Amendment, choice: VoteChoice, reason: string): Promise<Consent | undefined> {
  return consent(store, async (cp) => ({
    statement: "vote",
    ...subject(store),
    ...cp,
    amendment: idOf(a.name),
    // A package deal's parts are what is consented to; a single change is its own one part.
    amendmentSha256: await amendmentDigest((a.parts.length > 0 ? a.parts : [a]).map((c) => ({ kind: AmendmentKind[c.kind], pointId: c.point ? idOf(c.point) : "", baseRevision: c.baseRevision, text: c.text }))),
    choice: VoteChoice[choice],
    reasonSha256: await sha256Hex(trimReason(reason)),
  }));
}

/** The Consent of a sign-off of a point (resource name) at a revision, or undefined without a key. */
export function signOffConsent(store: Store, point: string, revision: bigint, textSha256: string): Promise<Consent | undefined> {
  return consent(store, (cp) => ({ statement: "sign-off", ...subject(store), ...cp, point: idOf(point), revision, textSha256 }));
}

/** The Consent of the acceptance of the document, or undefined without a key. */
export function acceptanceConsent(store: Store, documentSha256: string): Promise<Consent | undefined> {
  return consent(store, (cp) => ({ statement: "acceptance", ...subject(store), ...cp, documentSha256 }));
}
