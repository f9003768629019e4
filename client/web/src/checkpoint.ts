// Checking the audit log's signed checkpoints in the browser: the note format
// and verifier key of docs/audit.md, Ed25519 through WebCrypto, and the
// consistency of each new checkpoint with the last one this browser trusted.
//
// The verifier key is pinned on first use and the last trusted checkpoint is
// kept, both in localStorage, per origin: unlike the token they are no
// secret, and a pin that vanished with the tab would trust whatever the
// server shows next time, which is no check at all. The pin outlives the
// session, so a changed key or a rewritten history is caught the next day too.
import type { Api } from "./api.js";
import { equalBytes, verifyConsistency } from "./merkle.js";

export type VerifierKey = { text: string; name: string; keyHash: Uint8Array; publicKey: Uint8Array };

export type Checkpoint = { note: string; origin: string; size: number; root: Uint8Array };

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

const utf8 = new TextEncoder();

// parseVerifierKey reads "<name>+<key hash hex>+<base64(0x01 || key)>" and
// checks that the key hash is the one the key and name give.
export async function parseVerifierKey(text: string): Promise<VerifierKey> {
  // The key data is base64, which may hold "+" too: split at the first two.
  const i = text.indexOf("+");
  const j = text.indexOf("+", i + 1);
  const parts = i < 0 || j < 0 ? [] : [text.slice(0, i), text.slice(i + 1, j), text.slice(j + 1)];
  if (parts.length !== 3 || parts[0] === "" || !/^[0-9a-f]{8}$/.test(parts[1])) {
    throw new Error("the verifier key is malformed");
  }
  const data = fromBase64(parts[2]);
  if (data.length !== 33 || data[0] !== 1) throw new Error("the verifier key is not an Ed25519 key");
  const name = parts[0];
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array([...utf8.encode(name), 0x0a, ...data])),
  );
  const keyHash = digest.slice(0, 4);
  const hex = Array.from(keyHash, (x) => x.toString(16).padStart(2, "0")).join("");
  if (hex !== parts[1]) throw new Error("the verifier key's hash does not match its key");
  return { text, name, keyHash, publicKey: data.slice(1) };
}

// verifyNote checks the note's signature by `key` and returns the checkpoint
// it states.
export async function verifyNote(note: string, key: VerifierKey): Promise<Checkpoint> {
  const sep = note.indexOf("\n\n");
  if (sep < 0) throw new Error("the checkpoint has no signature");
  const body = note.slice(0, sep + 1);
  const lines = body.split("\n");
  if (lines.length !== 4 || lines[3] !== "") throw new Error("the checkpoint's text is malformed");
  const [origin, sizeText, rootText] = lines;
  if (!/^[0-9]+$/.test(sizeText)) throw new Error("the checkpoint's size is malformed");
  const root = fromBase64(rootText);
  if (root.length !== 32) throw new Error("the checkpoint's root hash is malformed");
  const publicKey = await crypto.subtle.importKey("raw", new Uint8Array(key.publicKey), { name: "Ed25519" }, false, ["verify"]);
  for (const line of note.slice(sep + 2).split("\n")) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== key.name) continue;
    const sig = fromBase64(m[2]);
    if (sig.length !== 68 || !equalBytes(sig.slice(0, 4), key.keyHash)) continue;
    if (await crypto.subtle.verify({ name: "Ed25519" }, publicKey, sig.slice(4), utf8.encode(body))) {
      return { note, origin, size: Number(sizeText), root };
    }
    throw new Error("the checkpoint's signature is not valid for the pinned key");
  }
  throw new Error(`the checkpoint is not signed by the pinned key ${key.name}`);
}

const pinKey = "parley.verifier-key";
const trustedKey = (negotiation: string) => "parley.trusted-checkpoint." + negotiation;

export function pinnedKey(): string | null {
  return localStorage.getItem(pinKey);
}

export function trustedNote(negotiation: string): string | null {
  return localStorage.getItem(trustedKey(negotiation));
}

// Forgetting is for the person at the keyboard who has checked, out of band,
// that the server's key really changed.
export function forgetPins(negotiation: string): void {
  localStorage.removeItem(pinKey);
  localStorage.removeItem(trustedKey(negotiation));
}

export type Verification =
  | { state: "checking" }
  | { state: "verified"; checkpoint: Checkpoint; key: VerifierKey; previousSize: number; pinnedNow: boolean }
  | { state: "failed"; reason: string; evidence?: string }
  | { state: "unavailable"; reason: string };

// verifyLog fetches a fresh checkpoint of `negotiation`, checks its signature
// against the pinned key (pinning the server's key on first use), checks it
// is consistent with the last checkpoint trusted here, and trusts it.
export async function verifyLog(api: Api, negotiation: string): Promise<Verification> {
  if (!globalThis.crypto?.subtle) {
    return { state: "unavailable", reason: "this page is not a secure context (serve the board over HTTPS), so the browser cannot check signatures" };
  }
  let keyText = pinnedKey();
  let pinnedNow = false;
  const served = (await api.audit.getVerifierKey({})).verifierKey;
  if (keyText === null) {
    keyText = served;
    pinnedNow = true;
  } else if (served !== keyText) {
    return { state: "failed", reason: `the server now signs with ${served}, not with the pinned key ${keyText}` };
  }
  let key: VerifierKey;
  try {
    key = await parseVerifierKey(keyText);
  } catch (e) {
    return { state: "failed", reason: String((e as Error).message) };
  }
  // Another tab of this browser may trust a newer checkpoint than the one
  // this tab just fetched: a checkpoint smaller than the trusted one is a
  // rollback only if a fresh one is still smaller.
  for (let attempt = 0; ; attempt++) {
    const res = await api.audit.getCheckpoint({ negotiation });
    let cp: Checkpoint;
    try {
      cp = await verifyNote(res.checkpoint, key);
    } catch (e) {
      return { state: "failed", reason: (e as Error).message, evidence: res.checkpoint };
    }
    if (cp.origin !== negotiation) {
      return { state: "failed", reason: `the checkpoint is for ${cp.origin}`, evidence: res.checkpoint };
    }
    let previousSize = 0;
    const old = trustedNote(negotiation);
    if (old !== null) {
      let prev: Checkpoint | null = null;
      try {
        prev = await verifyNote(old, key);
      } catch {
        // A trusted note that no longer verifies was signed by a key since
        // forgotten: start again from this checkpoint.
      }
      if (prev && prev.size > 0) {
        previousSize = prev.size;
        if (cp.size < prev.size) {
          if (attempt === 0) continue;
          return { state: "failed", reason: `rollback: the log has ${cp.size} events, fewer than the ${prev.size} trusted before`, evidence: old + "\n" + res.checkpoint };
        }
        if (cp.size > prev.size) {
          const proof = await api.audit.getConsistencyProof({ negotiation, fromSize: BigInt(prev.size), toSize: BigInt(cp.size) });
          if (!(await verifyConsistency(prev.size, cp.size, prev.root, cp.root, proof.hashes))) {
            return { state: "failed", reason: `history rewritten: the log of ${cp.size} events does not extend the ${prev.size} trusted before`, evidence: old + "\n" + res.checkpoint };
          }
        } else if (!equalBytes(cp.root, prev.root)) {
          return { state: "failed", reason: `fork: two different logs of ${cp.size} events`, evidence: old + "\n" + res.checkpoint };
        }
      }
    }
    if (pinnedNow) localStorage.setItem(pinKey, keyText);
    localStorage.setItem(trustedKey(negotiation), cp.note);
    return { state: "verified", checkpoint: cp, key, previousSize, pinnedNow };
  }
}
