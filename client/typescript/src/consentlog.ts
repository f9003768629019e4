// Checking the signed consent of a whole log (docs/audit.md, "Signed
// consent", "Verifiers"): fold the events in order, keep each member's
// current key and whether signatures are required, and check every vote,
// sign-off and acceptance against the key current for its member at that
// point of the log, with the checkpoint it names recomputed from the leaves.
//
// Like consent.ts this file needs only WebCrypto, and it reads events through
// the structural types below, which the code generated for the client and for
// the board both satisfy, so the board runs the same check as the client.

import {
  ConsentEncodingError,
  keyIdOf,
  sha256Hex,
  toHex,
  amendmentDigest,
  verifyConsent,
  type AmendmentPart,
  type ConsentStatement,
  type ConsentSubject,
} from "./consent.js";

/** Why a log's consent does not verify; the names docs/audit.md gives. */
export type ConsentFailureReason =
  | "CONSENT_UNSIGNED"
  | "CONSENT_BAD_SIGNATURE"
  | "CONSENT_KEY_NOT_CURRENT"
  | "CONSENT_CHECKPOINT_UNKNOWN"
  | "KEY_REGISTRATION_INVALID"
  | "KEY_REVOCATION_INVALID"
  | "KEY_REGISTRATION_FOREIGN"
  | "LOG_MALFORMED";

/** The evidence of one failure: which event, whose, and why. */
export interface ConsentFailure {
  sequence: bigint;
  member: string;
  participant: string;
  reason: ConsentFailureReason;
  detail: string;
}

/** One vote, sign-off or acceptance of the log, and what its check found. */
export interface ConsentCheck {
  sequence: bigint;
  statement: "vote" | "sign-off" | "acceptance";
  member: string;
  participant: string;
  /** The amendment id (vote), "<point id>@<revision>" (sign-off) or the document hash (acceptance). */
  subject: string;
  /** "signed": a valid signature by the member's current key; "unsigned": none, and none was required. */
  status: "signed" | "unsigned" | "failed";
  /** The signing key's id, when signed. */
  keyId: string;
}

/** What verifyConsents found: every consent, the failures, and the keys current at the end. */
export interface ConsentReport {
  checks: ConsentCheck[];
  failures: ConsentFailure[];
  /** The sequence from which signatures were required; 0n if never. */
  requiredFrom: bigint;
  /** Each member's current key at the end of the log, by "<participant>/<member>". */
  keys: Map<string, { keyId: string; publicKey: Uint8Array; participant: string; member: string; sequence: bigint }>;
}

/** Options of verifyConsents. */
export interface ConsentOptions {
  /**
   * The key ids members hold, by "<participant>/<member>", when the verifier
   * knows them (its own): a key registered in such a member's name that is not
   * among them fails as KEY_REGISTRATION_FOREIGN — the operator registered a
   * key of its own for that member.
   */
  ownKeys?: Record<string, readonly string[]>;
}

/** The key of a member in the maps of this file: "<participant>/<member>" (member ids are unique within a participant only). */
export function memberKey(participant: string, member: string): string {
  return `${participant}/${member}`;
}

/** Thrown by assertConsents: the failures of a log, the first one in the message. */
export class ConsentLogError extends Error {
  override name = "ConsentLogError";
  constructor(readonly failures: ConsentFailure[]) {
    const f = failures[0];
    super(
      `signed consent does not verify: event ${f.sequence} (member ${f.member || "-"} of ${f.participant || "-"}): ${f.reason}: ${f.detail}` +
        (failures.length > 1 ? ` (and ${failures.length - 1} more)` : ""),
    );
  }
}

// The structural view of the generated messages this check reads.

interface CheckpointRefLike {
  treeSize: bigint;
  rootHash: Uint8Array;
}
interface ConsentLike {
  keyId: string;
  checkpoint?: CheckpointRefLike;
  signature: Uint8Array;
}
type Payload =
  | { case: "negotiationCreated"; value: { requireSignatures: boolean } }
  | { case: "amendmentProposed"; value: { amendmentId: string; kind: number; pointId: string; baseRevision: bigint; text: string; parts?: readonly { kind: number; pointId: string; baseRevision: bigint; text: string }[] } }
  | { case: "voteCast"; value: { amendmentId: string; choice: number; reason: string; consent?: ConsentLike } }
  | { case: "pointSignedOff"; value: { pointId: string; revision: bigint; textSha256: string; consent?: ConsentLike } }
  | { case: "documentAccepted"; value: { documentSha256: string; consent?: ConsentLike } }
  | { case: "keyRegistered"; value: { keyId: string; publicKey: Uint8Array; replaces: string; signature: Uint8Array; replacesSignature: Uint8Array } }
  | { case: "keyRevoked"; value: { participant: string; member: string; keyId: string; signature: Uint8Array } }
  | { case: "signaturesRequired"; value: object };

/** The fields of Event this check reads (the generated Event has them all). */
export interface EventLike {
  negotiation: string;
  sequence: bigint;
  actor: string;
  member: string;
  payload: { case: string | undefined; value?: unknown };
}

/** An event as the log holds it: its decoded event and the exact leaf bytes stored. */
export interface LoggedEvent {
  sequence: bigint;
  /** The leaf bytes (the event's protobuf encoding, as stored); their hash builds the Merkle tree. */
  leaf: Uint8Array;
  /** The event decoded from `leaf` (decode it yourself rather than trusting a second copy). */
  event: EventLike;
}

// Enum numbers of proto/parley/v1/negotiation.proto (stable: protobuf never renumbers).
const KIND_NAMES: Record<number, string> = { 1: "REPLACE", 2: "INSERT", 3: "DELETE" };
const CHOICE_NAMES: Record<number, string> = { 1: "APPROVE", 2: "REJECT", 3: "ABSTAIN" };

async function leafHash(leaf: Uint8Array): Promise<Uint8Array> {
  const buf = new Uint8Array(leaf.length + 1);
  buf.set(leaf, 1);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

async function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  const buf = new Uint8Array(65);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 33);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

/**
 * The RFC 6962 Merkle tree of a growing log, kept as its perfect subtrees
 * (a compact range): O(log n) memory, the root at any time.
 */
export class MerkleRange {
  private stack: { size: number; hash: Uint8Array }[] = [];
  /** The number of leaves added. */
  size = 0;

  /** Adds the next leaf, given its exact bytes. */
  async addLeaf(leaf: Uint8Array): Promise<void> {
    await this.addHash(await leafHash(leaf));
  }

  /** Adds the next leaf, given its leaf hash. */
  async addHash(hash: Uint8Array): Promise<void> {
    let cur = { size: 1, hash };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1].size === cur.size) {
      const left = this.stack.pop()!;
      cur = { size: left.size * 2, hash: await nodeHash(left.hash, cur.hash) };
    }
    this.stack.push(cur);
    this.size++;
  }

  /** The root hash of the leaves added so far (SHA-256 of nothing for none). */
  async root(): Promise<Uint8Array> {
    if (this.stack.length === 0) return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array()));
    let hash = this.stack[this.stack.length - 1].hash;
    for (let j = this.stack.length - 2; j >= 0; j--) hash = await nodeHash(this.stack[j].hash, hash);
    return hash;
  }
}

// MerkleHistory is the tree of a growing log that can give its root at any
// past size: it keeps every perfect subtree's hash (about 2n hashes), so the
// root at size s is a fold of the O(log s) subtrees s decomposes into.
class MerkleHistory {
  private levels: Uint8Array[][] = [[]]; // levels[h][i]: the subtree of leaves [i·2^h, (i+1)·2^h)
  size = 0;

  async addLeaf(leaf: Uint8Array): Promise<void> {
    let h = 0;
    let i = this.size;
    this.levels[0].push(await leafHash(leaf));
    // A right child completes its parent.
    while (i % 2 === 1) {
      const hash = await nodeHash(this.levels[h][i - 1], this.levels[h][i]);
      h++;
      i = (i - 1) / 2;
      (this.levels[h] ??= []).push(hash);
    }
    this.size++;
  }

  /** The root of the first n leaves (1 ≤ n ≤ size), as lowercase hex. */
  async rootAt(n: number): Promise<string> {
    const parts: Uint8Array[] = [];
    let start = 0;
    for (let h = this.levels.length - 1; h >= 0; h--) {
      if (n & (2 ** h)) {
        parts.push(this.levels[h][start / 2 ** h]);
        start += 2 ** h;
      }
    }
    let hash = parts[parts.length - 1];
    for (let j = parts.length - 2; j >= 0; j--) hash = await nodeHash(parts[j], hash);
    return toHex(hash);
  }
}

type Key = { keyId: string; publicKey: Uint8Array; participant: string; member: string; sequence: bigint };

/**
 * Checks the signed consent of a log as it grows: add its events in order
 * from the first, read report() at any time. What it keeps grows with the log
 * (two hashes an event, for the roots of past checkpoints) but each event is
 * checked once, so a board following a live log checks only what is new.
 */
export class ConsentVerifier {
  private readonly checks: ConsentCheck[] = [];
  private readonly failures: ConsentFailure[] = [];
  private requiredFrom = 0n;
  private readonly current = new Map<string, Key>(); // "<participant>/<member>" → its current key
  private readonly registered = new Map<string, Key>(); // every key id ever registered
  private readonly amendments = new Map<string, AmendmentPart[]>();
  private readonly tree = new MerkleHistory();
  private broken = false;

  constructor(private readonly options: ConsentOptions = {}) {}

  /** The number of events added. */
  get size(): number {
    return this.tree.size;
  }

  private fail(e: EventLike, reason: ConsentFailureReason, detail: string): void {
    this.failures.push({ sequence: e.sequence, member: memberOf(e), participant: e.actor, reason, detail });
  }

  /** Checks the next event of the log (its sequence must be size + 1) and folds it in. */
  async add({ sequence, leaf, event: e }: LoggedEvent): Promise<void> {
    if (this.broken) return;
    const want = BigInt(this.tree.size + 1);
    if (sequence !== want || e.sequence !== sequence) {
      this.fail(e, "LOG_MALFORMED", `event ${want} of the log carries sequence ${sequence}/${e.sequence}`);
      this.broken = true; // nothing after a gap can be checked
      return;
    }
    await this.check(e);
    await this.tree.addLeaf(leaf);
  }

  /** What was found so far. */
  report(): ConsentReport {
    const keys: ConsentReport["keys"] = new Map();
    for (const [who, k] of this.current) keys.set(who, { keyId: k.keyId, publicKey: k.publicKey, participant: k.participant, member: k.member, sequence: k.sequence });
    return { checks: this.checks.slice(), failures: this.failures.slice(), requiredFrom: this.requiredFrom, keys };
  }

  private async check(e: EventLike): Promise<void> {
    const p = e.payload as Payload;
    const subject: ConsentSubject = { negotiation: e.negotiation, member: memberOf(e), participant: e.actor };
    switch (p.case) {
      case "negotiationCreated":
        if (p.value.requireSignatures) this.requiredFrom = e.sequence;
        break;
      case "signaturesRequired":
        if (this.requiredFrom === 0n) this.requiredFrom = e.sequence;
        break;
      case "amendmentProposed": {
        const v = p.value;
        // A package deal's parts are what is consented to; a single change is its own one part.
        const changes = v.parts && v.parts.length > 0 ? v.parts : [v];
        this.amendments.set(v.amendmentId, changes.map((c) => ({ kind: KIND_NAMES[c.kind] ?? `KIND_${c.kind}`, pointId: c.pointId, baseRevision: c.baseRevision, text: c.text })));
        break;
      }
      case "keyRegistered": {
        const v = p.value;
        const who = memberKey(subject.participant, subject.member);
        const problem = await checkRegistration(subject, v, this.current.get(who), this.registered);
        if (problem) {
          this.fail(e, "KEY_REGISTRATION_INVALID", problem);
          break;
        }
        const own = this.options.ownKeys?.[who];
        if (own && !own.includes(v.keyId)) {
          this.fail(e, "KEY_REGISTRATION_FOREIGN", `key ${short(v.keyId)} was registered for member ${subject.member} of ${subject.participant}, who never held it: someone else registered it`);
          break;
        }
        const key = { keyId: v.keyId, publicKey: v.publicKey, participant: subject.participant, member: subject.member, sequence: e.sequence };
        this.current.set(who, key);
        this.registered.set(v.keyId, key);
        break;
      }
      case "keyRevoked": {
        const v = p.value;
        const member = v.member || v.participant;
        const key = this.current.get(memberKey(v.participant, member));
        if (!key || key.keyId !== v.keyId) {
          this.fail(e, "KEY_REVOCATION_INVALID", `key ${short(v.keyId)} is not the current key of member ${member} of ${v.participant}`);
          break;
        }
        if (e.actor !== "admin") {
          const s: ConsentStatement = { statement: "key-revocation", negotiation: e.negotiation, member, participant: v.participant, key: v.keyId };
          if (subject.member !== member || subject.participant !== v.participant) {
            this.fail(e, "KEY_REVOCATION_INVALID", `member ${subject.member} of ${subject.participant} revoked the key of member ${member} of ${v.participant}`);
            break;
          }
          if (!(await verifyConsent(key.publicKey, s, v.signature))) {
            this.fail(e, "KEY_REVOCATION_INVALID", "the revocation is not signed by the key it revokes");
            break;
          }
        }
        this.current.delete(memberKey(v.participant, member));
        break;
      }
      case "voteCast":
      case "pointSignedOff":
      case "documentAccepted":
        this.checks.push(await this.checkConsent(e, p, subject));
        break;
    }
  }

  private async checkConsent(
    e: EventLike,
    p: Extract<Payload, { case: "voteCast" | "pointSignedOff" | "documentAccepted" }>,
    subject: ConsentSubject,
  ): Promise<ConsentCheck> {
    const kind = p.case === "voteCast" ? "vote" : p.case === "pointSignedOff" ? "sign-off" : "acceptance";
    const target =
      p.case === "voteCast" ? p.value.amendmentId : p.case === "pointSignedOff" ? `${p.value.pointId}@${p.value.revision}` : p.value.documentSha256;
    const check: ConsentCheck = { sequence: e.sequence, statement: kind, member: subject.member, participant: subject.participant, subject: target, status: "failed", keyId: "" };
    const c = p.value.consent;
    if (!c) {
      if (this.requiredFrom !== 0n && e.sequence > this.requiredFrom) {
        this.fail(e, "CONSENT_UNSIGNED", `the ${kind} is not signed, though signatures are required since event ${this.requiredFrom}`);
      } else {
        check.status = "unsigned";
      }
      return check;
    }
    check.keyId = c.keyId;
    // A signed vote names its amendment by the log's own proposal; first, as the Go verifier does.
    const parts = p.case === "voteCast" ? this.amendments.get(p.value.amendmentId) : undefined;
    if (p.case === "voteCast" && !parts) {
      this.fail(e, "CONSENT_BAD_SIGNATURE", `a signed vote on amendment ${p.value.amendmentId}, which this log never proposed`);
      return check;
    }
    const key = this.current.get(memberKey(subject.participant, subject.member));
    if (!key || key.keyId !== c.keyId) {
      const other = this.registered.get(c.keyId);
      const why = !other
        ? `key ${short(c.keyId)} was never registered in this log`
        : other.member !== subject.member || other.participant !== subject.participant
          ? `key ${short(c.keyId)} is the key of member ${other.member} of ${other.participant}`
          : `key ${short(c.keyId)} was revoked or rotated out before this event`;
      this.fail(e, "CONSENT_KEY_NOT_CURRENT", why);
      return check;
    }
    // The events before this one are all in the tree: size < sequence.
    const size = c.checkpoint?.treeSize ?? 0n;
    const root = toHex(c.checkpoint?.rootHash ?? new Uint8Array());
    if (size < 1n || size >= e.sequence || (await this.tree.rootAt(Number(size))) !== root) {
      this.fail(e, "CONSENT_CHECKPOINT_UNKNOWN", `the checkpoint it names (size ${size}, root ${short(root)}) is not this log before the event`);
      return check;
    }
    const checkpoint = { checkpointSize: size, checkpointRoot: root };
    let s: ConsentStatement;
    try {
      if (p.case === "voteCast") {
        s = {
          statement: "vote",
          ...subject,
          ...checkpoint,
          amendment: p.value.amendmentId,
          amendmentSha256: await amendmentDigest(parts!),
          choice: CHOICE_NAMES[p.value.choice] ?? `CHOICE_${p.value.choice}`,
          reasonSha256: await sha256Hex(p.value.reason),
        };
      } else if (p.case === "pointSignedOff") {
        s = { statement: "sign-off", ...subject, ...checkpoint, point: p.value.pointId, revision: p.value.revision, textSha256: p.value.textSha256 };
      } else {
        s = { statement: "acceptance", ...subject, ...checkpoint, documentSha256: p.value.documentSha256 };
      }
      if (!(await verifyConsent(key.publicKey, s, c.signature))) {
        this.fail(e, "CONSENT_BAD_SIGNATURE", `the signature by key ${short(c.keyId)} does not verify over this ${kind}`);
        return check;
      }
    } catch (err) {
      this.fail(e, "CONSENT_BAD_SIGNATURE", `the ${kind} cannot be encoded: ${err instanceof Error ? err.message : String(err)}`);
      return check;
    }
    check.status = "signed";
    return check;
  }
}

/**
 * Checks the signed consent of a whole log, given from its first event in
 * order: every key registration's proof of possession (and, for a rotation,
 * the old key's signature), every revocation, and every vote, sign-off and
 * acceptance: signed by the key current for its member at that point, over
 * the statement rebuilt from the event, naming a checkpoint this log had; and
 * signed at all once signatures are required. Never throws for a bad log:
 * the report lists the failures (see assertConsents).
 */
export async function verifyConsents(
  records: Iterable<LoggedEvent> | AsyncIterable<LoggedEvent>,
  options: ConsentOptions = {},
): Promise<ConsentReport> {
  const v = new ConsentVerifier(options);
  for await (const r of records) await v.add(r);
  return v.report();
}

/** verifyConsents, throwing a ConsentLogError with the evidence if anything fails. */
export async function assertConsents(
  records: Iterable<LoggedEvent> | AsyncIterable<LoggedEvent>,
  options: ConsentOptions = {},
): Promise<ConsentReport> {
  const report = await verifyConsents(records, options);
  if (report.failures.length > 0) throw new ConsentLogError(report.failures);
  return report;
}

function memberOf(e: EventLike): string {
  return e.member || e.actor;
}

function short(keyId: string): string {
  return keyId.slice(0, 12);
}

async function checkRegistration(
  subject: ConsentSubject,
  v: { keyId: string; publicKey: Uint8Array; replaces: string; signature: Uint8Array; replacesSignature: Uint8Array },
  cur: Key | undefined,
  registered: Map<string, Key>,
): Promise<string> {
  let id: string;
  try {
    id = await keyIdOf(v.publicKey);
  } catch (err) {
    return err instanceof ConsentEncodingError ? err.message : String(err);
  }
  if (id !== v.keyId) return `the key id ${short(v.keyId)} is not the hash of the public key (${short(id)})`;
  const prior = registered.get(v.keyId);
  if (prior) return `key ${short(v.keyId)} was registered before, at event ${prior.sequence} for member ${prior.member}`;
  const s: ConsentStatement = { statement: "key-registration", ...subject, key: v.keyId, replaces: v.replaces };
  if (!(await verifyConsent(v.publicKey, s, v.signature))) {
    return `the proof of possession does not verify for member ${subject.member} of ${subject.participant}`;
  }
  if (v.replaces === "") {
    if (cur) return `member ${subject.member} already has key ${short(cur.keyId)}: a new key must rotate it`;
    return "";
  }
  if (!cur || cur.keyId !== v.replaces) return `the key it replaces, ${short(v.replaces)}, is not the member's current key`;
  if (!(await verifyConsent(cur.publicKey, s, v.replacesSignature))) return "the rotation is not signed by the key it replaces";
  return "";
}
