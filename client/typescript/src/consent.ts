// Signed consent (docs/audit.md, "Signed consent"): the canonical statement a
// member signs for a vote, a sign-off, an acceptance or a change of its key,
// the DSSE pre-authentication encoding around it, and Ed25519 signing and
// checking with WebCrypto.
//
// This file uses only what both Node (20 and later) and browsers offer —
// globalThis.crypto.subtle and TextEncoder — so the board bundles the very
// same code: one encoding, not two that could drift apart.

/** The DSSE payload type of every consent statement. */
export const CONSENT_PAYLOAD_TYPE = "application/vnd.parley.consent.v1";

/** A WebCrypto key as this environment's crypto.subtle takes it (Node's or the browser's CryptoKey). */
export type WebCryptoKey = Parameters<typeof crypto.subtle.sign>[1];

/** A WebCrypto key pair: the private key signs, the public key is exported raw. */
export interface WebCryptoKeyPair {
  privateKey: WebCryptoKey;
  publicKey: WebCryptoKey;
}

/** Who signs, in which negotiation: the lines every statement starts with. */
export interface ConsentSubject {
  /** The negotiation's id, as docs/audit.md defines it for the "negotiation:" line. */
  negotiation: string;
  /** The signing member's id as events name it (for a participant's default member, the participant id). */
  member: string;
  /** The member's delegation (participant) id. */
  participant: string;
}

/** The checkpoint of the log the signer verified: its size and lowercase hex root. */
export interface ConsentCheckpoint {
  checkpointSize: bigint | number;
  checkpointRoot: string;
}

/** A vote: the amendment, the digest of what it changes, the choice and the reason's hash. */
export interface VoteStatement extends ConsentSubject, ConsentCheckpoint {
  statement: "vote";
  amendment: string;
  amendmentSha256: string;
  /** APPROVE, REJECT or ABSTAIN. */
  choice: string;
  reasonSha256: string;
}

/** A sign-off of one revision of a point, by the hash of its text. */
export interface SignOffStatement extends ConsentSubject, ConsentCheckpoint {
  statement: "sign-off";
  point: string;
  revision: bigint | number;
  textSha256: string;
}

/** The acceptance of the whole document, by its hash. */
export interface AcceptanceStatement extends ConsentSubject, ConsentCheckpoint {
  statement: "acceptance";
  documentSha256: string;
}

/** The registration of a key (proof of possession), possibly rotating out an older one. */
export interface KeyRegistrationStatement extends ConsentSubject {
  statement: "key-registration";
  /** Key id (hex SHA-256 of the raw public key) of the key registered. */
  key: string;
  /** Key id of the key it replaces, or "" for a first key. */
  replaces: string;
}

/** The revocation of a key. */
export interface KeyRevocationStatement extends ConsentSubject {
  statement: "key-revocation";
  key: string;
}

/** Any statement a member signs. */
export type ConsentStatement =
  | VoteStatement
  | SignOffStatement
  | AcceptanceStatement
  | KeyRegistrationStatement
  | KeyRevocationStatement;

/** A statement that cannot be encoded: a value with a line break, a bad hash or number. */
export class ConsentEncodingError extends Error {
  override name = "ConsentEncodingError";
}

const utf8 = new TextEncoder();

/** Lowercase hex of bytes. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** Bytes of a hex string; throws on odd length or a non-hex digit. */
export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new ConsentEncodingError(`not hex: ${JSON.stringify(s)}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// plain gives WebCrypto bytes it takes under the DOM's typing (an ArrayBuffer,
// never a SharedArrayBuffer), copying only when it has to.
function plain(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Lowercase hex SHA-256 of bytes, or of a string's UTF-8 bytes. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? utf8.encode(data) : data;
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", plain(bytes))));
}

// Unicode's White_Space characters: what Go's strings.TrimSpace removes.
const SPACE = "[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
const EDGE_SPACE = new RegExp(`^${SPACE}+|${SPACE}+$`, "g");

/**
 * A vote's reason as the server records it, trimmed of white space at both
 * ends exactly as Go's strings.TrimSpace does: sign (and send) this one.
 */
export function trimReason(reason: string): string {
  return reason.replace(EDGE_SPACE, "");
}

/** The key id of a raw 32-byte Ed25519 public key: lowercase hex SHA-256 of it. */
export async function keyIdOf(publicKey: Uint8Array): Promise<string> {
  if (publicKey.length !== 32) throw new ConsentEncodingError(`an Ed25519 public key has 32 bytes, not ${publicKey.length}`);
  return sha256Hex(publicKey);
}

/**
 * DSSE v1's pre-authentication encoding:
 * "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes.
 */
export function pae(payloadType: string, body: Uint8Array | string): Uint8Array {
  const t = utf8.encode(payloadType);
  const b = typeof body === "string" ? utf8.encode(body) : body;
  return concat(utf8.encode(`DSSEv1 ${t.length} `), t, utf8.encode(` ${b.length} `), b);
}

const HASH = /^[0-9a-f]{64}$/;

function text(name: string, value: string): string {
  if (/[\n\r]/.test(value)) throw new ConsentEncodingError(`the ${name} holds a line break`);
  if (value !== value.trimEnd()) throw new ConsentEncodingError(`the ${name} ends with a space`);
  return value;
}

function hash(name: string, value: string): string {
  if (!HASH.test(value)) throw new ConsentEncodingError(`the ${name} is not a lowercase hex SHA-256: ${JSON.stringify(value)}`);
  return value;
}

function count(name: string, value: bigint | number): string {
  const n = typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (n < 0n) throw new ConsentEncodingError(`the ${name} is not a whole number ≥ 0: ${value}`);
  return n.toString(10);
}

/** The statement's body: its "name: value" lines, each ended by LF, in the order docs/audit.md fixes. */
export function consentBody(s: ConsentStatement): string {
  const lines: [string, string][] = [
    ["parley-consent", "v1"],
    ["statement", s.statement],
    ["negotiation", text("negotiation", s.negotiation)],
    ["member", text("member", s.member)],
    ["participant", text("participant", s.participant)],
  ];
  switch (s.statement) {
    case "vote":
      if (!/^(APPROVE|REJECT|ABSTAIN)$/.test(s.choice)) throw new ConsentEncodingError(`the choice is not APPROVE, REJECT or ABSTAIN: ${s.choice}`);
      lines.push(
        ["amendment", text("amendment", s.amendment)],
        ["amendment-sha256", hash("amendment-sha256", s.amendmentSha256)],
        ["choice", s.choice],
        ["reason-sha256", hash("reason-sha256", s.reasonSha256)],
      );
      break;
    case "sign-off":
      lines.push(
        ["point", text("point", s.point)],
        ["revision", count("revision", s.revision)],
        ["text-sha256", hash("text-sha256", s.textSha256)],
      );
      break;
    case "acceptance":
      lines.push(["document-sha256", hash("document-sha256", s.documentSha256)]);
      break;
    case "key-registration":
      lines.push(["key", hash("key", s.key)], ["replaces", s.replaces === "" ? "" : hash("replaces", s.replaces)]);
      break;
    case "key-revocation":
      lines.push(["key", hash("key", s.key)]);
      break;
    default:
      throw new ConsentEncodingError(`unknown statement ${(s as { statement: string }).statement}`);
  }
  if (s.statement === "vote" || s.statement === "sign-off" || s.statement === "acceptance") {
    lines.push(["checkpoint-size", count("checkpoint-size", s.checkpointSize)], ["checkpoint-root", hash("checkpoint-root", s.checkpointRoot)]);
  }
  return lines.map(([k, v]) => `${k}: ${v}\n`).join("");
}

/** The bytes a member signs for a statement: PAE(CONSENT_PAYLOAD_TYPE, body). */
export function consentMessage(s: ConsentStatement): Uint8Array {
  return pae(CONSENT_PAYLOAD_TYPE, consentBody(s));
}

/** One part of an amendment, as the amendment digest covers it. */
export interface AmendmentPart {
  /** REPLACE, INSERT or DELETE. */
  kind: string;
  /** The point changed; for INSERT its anchor ("" inserts at the start). */
  pointId: string;
  baseRevision: bigint | number;
  /** The new text; "" for DELETE. */
  text: string;
}

/**
 * The amendment digest: hex SHA-256 over one line per part,
 * "<KIND> <point id> <base revision> <sha256 of the text>\n".
 */
export async function amendmentDigest(parts: readonly AmendmentPart[]): Promise<string> {
  let lines = "";
  for (const p of parts) {
    if (!/^(REPLACE|INSERT|DELETE)$/.test(p.kind)) throw new ConsentEncodingError(`the part's kind is not REPLACE, INSERT or DELETE: ${p.kind}`);
    const textHash = await sha256Hex(p.kind === "DELETE" ? "" : p.text);
    lines += `${p.kind} ${text("point id", p.pointId)} ${count("base revision", p.baseRevision)} ${textHash}\n`;
  }
  return sha256Hex(lines);
}

const ED25519 = { name: "Ed25519" } as const;

// PKCS #8 wrapping of a raw Ed25519 seed (RFC 8410): the only way WebCrypto
// imports a private key from its 32 bytes.
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");

/** A member's signing key: a WebCrypto Ed25519 private key and its raw public key. */
export class ConsentSigner {
  private constructor(
    /** The private key; it signs and, if not extractable, never leaves WebCrypto. */
    readonly privateKey: WebCryptoKey,
    /** The raw 32-byte public key, as RegisterKey takes it. */
    readonly publicKey: Uint8Array,
    /** Lowercase hex SHA-256 of publicKey. */
    readonly keyId: string,
  ) {}

  /** A signer for a WebCrypto Ed25519 key pair (the public key must be exportable, as public keys are). */
  static async fromKeyPair(pair: WebCryptoKeyPair): Promise<ConsentSigner> {
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    return new ConsentSigner(pair.privateKey, raw, await keyIdOf(raw));
  }

  /** A signer for a raw 32-byte Ed25519 seed (RFC 8032's private key); the imported key is not extractable. */
  static async fromSeed(seed: Uint8Array): Promise<ConsentSigner> {
    if (seed.length !== 32) throw new ConsentEncodingError(`an Ed25519 seed has 32 bytes, not ${seed.length}`);
    const pkcs8 = concat(PKCS8_PREFIX, seed);
    // The public key is derived once through a short-lived extractable copy
    // (WebCrypto has no other way); the signer keeps a non-extractable key.
    const copy = await crypto.subtle.importKey("pkcs8", pkcs8, ED25519, true, ["sign"]);
    const jwk = await crypto.subtle.exportKey("jwk", copy);
    const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, ED25519, false, ["sign"]);
    const publicKey = base64UrlDecode(jwk.x ?? "");
    return new ConsentSigner(privateKey, publicKey, await keyIdOf(publicKey));
  }

  /** A new random key; extractable is false unless asked, so the private key can never be read out. */
  static async generate(extractable = false): Promise<{ signer: ConsentSigner; pair: WebCryptoKeyPair }> {
    const pair = (await crypto.subtle.generateKey(ED25519, extractable, ["sign", "verify"])) as WebCryptoKeyPair;
    return { signer: await ConsentSigner.fromKeyPair(pair), pair };
  }

  /** The 64-byte Ed25519 signature over PAE(CONSENT_PAYLOAD_TYPE, body of s). */
  async sign(s: ConsentStatement): Promise<Uint8Array> {
    return this.signBytes(consentMessage(s));
  }

  /** The Ed25519 signature of arbitrary bytes (for tests against RFC 8032's vectors). */
  async signBytes(message: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.sign(ED25519, this.privateKey, plain(message)));
  }
}

function base64UrlDecode(s: string): Uint8Array {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Whether signature is a valid Ed25519 signature of message by the raw public key. False on malformed input. */
export async function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = await crypto.subtle.importKey("raw", plain(publicKey), ED25519, false, ["verify"]);
    return await crypto.subtle.verify(ED25519, key, plain(signature), plain(message));
  } catch {
    return false; // a point not on the curve
  }
}

/** Whether signature is the member's signature of the statement by the raw public key. */
export async function verifyConsent(publicKey: Uint8Array, s: ConsentStatement, signature: Uint8Array): Promise<boolean> {
  return verifyEd25519(publicKey, consentMessage(s), signature);
}
