// verifyConsents on logs built here, event by event, as a server would write
// them (leaf = the event's protobuf encoding): an honest history verifies,
// and each way an operator could tamper with consent is caught, naming the
// event, the member and why. The tampered logs S1's Go tests write out are
// checked in tampered.test.ts; these need no server.

import { test } from "node:test";
import assert from "node:assert/strict";
import { clone, create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../src/gen/parley/v1/event_pb.js";
import { AmendmentKind, ConsentSchema, VoteChoice } from "../src/gen/parley/v1/negotiation_pb.js";
import { ConsentSigner, MerkleRange, amendmentDigest, fromHex, sha256Hex, toHex, verifyConsents, type ConsentStatement, type LoggedEvent } from "../src/index.js";

const NEG = "negotiations/3f0e2a9c-5b7d-4e1f-a2c3-9d8e7f6a5b4c";
const POINT = "6f1c2b1e-2d3a-4c5b-8e9f-0a1b2c3d4e5f";
const AMENDMENT = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const DOC = "d".repeat(64);
const TEXT = "e".repeat(64);

type Payload = MessageInitShape<typeof EventSchema>["payload"];

/** A log being written: events appended with their leaves, and the tree to name checkpoints. */
class LogBuilder {
  events: LoggedEvent[] = [];
  tree = new MerkleRange();
  constructor(readonly negotiation = NEG) {}

  async append(actor: string, payload: Payload, member = ""): Promise<Event> {
    const sequence = BigInt(this.events.length + 1);
    const event = create(EventSchema, { negotiation: this.negotiation, sequence, actor, member, payload });
    const leaf = toBinary(EventSchema, event);
    this.events.push({ sequence, leaf, event });
    await this.tree.addLeaf(leaf);
    return event;
  }

  async checkpoint() {
    return { treeSize: BigInt(this.tree.size), rootHash: await this.tree.root() };
  }

  async registerKey(actor: string, signer: ConsentSigner, replacing?: ConsentSigner, member = "") {
    const s: ConsentStatement = { statement: "key-registration", negotiation: this.negotiation, member: member || actor, participant: actor, key: signer.keyId, replaces: replacing?.keyId ?? "" };
    return this.append(actor, {
      case: "keyRegistered",
      value: { keyId: signer.keyId, publicKey: signer.publicKey, replaces: replacing?.keyId ?? "", signature: await signer.sign(s), replacesSignature: replacing ? await replacing.sign(s) : new Uint8Array() },
    }, member);
  }

  /** The Consent of a statement by signer over the log as it stands. */
  async consent(signer: ConsentSigner, build: (cp: { checkpointSize: bigint; checkpointRoot: string }) => Promise<ConsentStatement> | ConsentStatement) {
    const cp = await this.checkpoint();
    const s = await build({ checkpointSize: cp.treeSize, checkpointRoot: toHex(cp.rootHash) });
    return create(ConsentSchema, { keyId: signer.keyId, checkpoint: cp, signature: await signer.sign(s) });
  }

  async signOff(actor: string, signer: ConsentSigner | undefined, point = POINT, revision = 1n, negotiation = this.negotiation) {
    const consent = signer
      ? await this.consent(signer, (cp) => ({ statement: "sign-off", negotiation, member: actor, participant: actor, ...cp, point, revision, textSha256: TEXT }))
      : undefined;
    return this.append(actor, { case: "pointSignedOff", value: { pointId: point, revision, textSha256: TEXT, consent } });
  }

  async accept(actor: string, signer: ConsentSigner | undefined, member = "") {
    const consent = signer
      ? await this.consent(signer, (cp) => ({ statement: "acceptance", negotiation: this.negotiation, member: member || actor, participant: actor, ...cp, documentSha256: DOC }))
      : undefined;
    return this.append(actor, { case: "documentAccepted", value: { documentSha256: DOC, consent } }, member);
  }

  async vote(actor: string, signer: ConsentSigner, choice: VoteChoice, reason: string) {
    const consent = await this.consent(signer, async (cp) => ({
      statement: "vote", negotiation: this.negotiation, member: actor, participant: actor, ...cp,
      amendment: AMENDMENT,
      amendmentSha256: await amendmentDigest([{ kind: "REPLACE", pointId: POINT, baseRevision: 1n, text: "New text." }]),
      choice: VoteChoice[choice], reasonSha256: await sha256Hex(reason),
    }));
    return this.append(actor, { case: "voteCast", value: { amendmentId: AMENDMENT, choice, reason, consent } });
  }
}

/** An honest history: keys registered, signatures required, a signed vote, sign-offs and acceptances. */
async function honest(keys: Record<string, ConsentSigner>, negotiation = NEG): Promise<LogBuilder> {
  const log = new LogBuilder(negotiation);
  await log.append("admin", { case: "negotiationCreated", value: { title: "Plan" } });
  await log.append("admin", { case: "pointAdded", value: { pointId: POINT, text: "Old text.", textSha256: TEXT } });
  await log.signOff("russia", undefined); // before any requirement: unsigned is fine
  await log.registerKey("ukraine", keys.ukraine);
  await log.registerKey("russia", keys.russia);
  await log.append("admin", { case: "signaturesRequired", value: {} });
  await log.append("ukraine", { case: "amendmentProposed", value: { amendmentId: AMENDMENT, kind: AmendmentKind.REPLACE, pointId: POINT, baseRevision: 1n, text: "New text." } });
  await log.vote("russia", keys.russia, VoteChoice.REJECT, "Not now.");
  await log.signOff("ukraine", keys.ukraine);
  await log.accept("ukraine", keys.ukraine);
  await log.accept("russia", keys.russia);
  return log;
}

async function keys() {
  return {
    ukraine: await ConsentSigner.fromSeed(new Uint8Array(32).fill(1)),
    russia: await ConsentSigner.fromSeed(new Uint8Array(32).fill(2)),
    operator: await ConsentSigner.fromSeed(new Uint8Array(32).fill(9)),
  };
}

/** The log with event `seq` (1-based) replaced by `event`, re-encoded as the tamperer would store it. */
function replaced(log: LogBuilder, seq: number, change: (e: Event) => void): LoggedEvent[] {
  return log.events.map((r) => {
    if (r.sequence !== BigInt(seq)) return r;
    const event = clone(EventSchema, r.event as Event);
    change(event);
    return { sequence: r.sequence, leaf: toBinary(EventSchema, event), event };
  });
}

test("OK: the honest history verifies, every consent after the requirement signed", async () => {
  const k = await keys();
  const log = await honest(k);
  const report = await verifyConsents(log.events);
  assert.deepEqual(report.failures, []);
  assert.equal(report.requiredFrom, 6n);
  assert.deepEqual(report.checks.map((c) => `${c.sequence} ${c.statement} ${c.member} ${c.status}`), [
    "3 sign-off russia unsigned",
    "8 vote russia signed",
    "9 sign-off ukraine signed",
    "10 acceptance ukraine signed",
    "11 acceptance russia signed",
  ]);
  assert.equal(report.keys.get("ukraine/ukraine")?.keyId, k.ukraine.keyId);
});

test("a forged acceptance: unsigned after the requirement, or signed by the operator's key", async () => {
  const k = await keys();
  const log = await honest(k);
  await log.accept("russia", undefined);
  await log.accept("ukraine", k.operator);
  const { failures } = await verifyConsents(log.events);
  assert.deepEqual(failures.map((f) => [f.sequence, f.member, f.reason]), [
    [12n, "russia", "CONSENT_UNSIGNED"],
    [13n, "ukraine", "CONSENT_KEY_NOT_CURRENT"],
  ]);
});

test("a signature replayed onto another point or revision, or a vote's choice changed", async () => {
  const k = await keys();
  // The signed vote (event 8) and sign-off (event 9) copied to the end of the
  // log with one field changed: the signature and its checkpoint are genuine.
  for (const [seq, change] of [
    [9, (e: Event) => { if (e.payload.case === "pointSignedOff") e.payload.value.revision = 2n; }],
    [9, (e: Event) => { if (e.payload.case === "pointSignedOff") e.payload.value.pointId = "0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a"; }],
    [8, (e: Event) => { if (e.payload.case === "voteCast") e.payload.value.choice = VoteChoice.APPROVE; }],
  ] as const) {
    const log = await honest(k);
    const copy = clone(EventSchema, log.events[seq - 1].event as Event);
    change(copy);
    await log.append(copy.actor, copy.payload as Payload);
    const { failures } = await verifyConsents(log.events);
    assert.deepEqual(failures.map((f) => [f.sequence, f.member, f.reason]), [[12n, copy.actor, "CONSENT_BAD_SIGNATURE"]]);
  }
});

test("an event rewritten in the middle of the log breaks the checkpoints signed after it", async () => {
  const k = await keys();
  const log = await honest(k);
  const tampered = replaced(log, 9, (e) => {
    if (e.payload.case === "pointSignedOff") e.payload.value.revision = 2n;
  });
  const { failures } = await verifyConsents(tampered);
  assert.deepEqual(failures.map((f) => [f.sequence, f.reason]), [
    [9n, "CONSENT_BAD_SIGNATURE"],
    [10n, "CONSENT_CHECKPOINT_UNKNOWN"],
    [11n, "CONSENT_CHECKPOINT_UNKNOWN"],
  ]);
});

test("a sign-off moved to another negotiation", async () => {
  const k = await keys();
  const other = await honest(k, "negotiations/0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a");
  const log = await honest(k);
  // The sign-off signed in the other negotiation, appended to this one with this one's name.
  const moved = clone(EventSchema, other.events[8].event as Event);
  await log.append("ukraine", moved.payload as Payload);
  const { failures } = await verifyConsents(log.events);
  assert.equal(failures.length, 1);
  assert.equal(failures[0].sequence, 12n);
  assert.equal(failures[0].member, "ukraine");
  assert.match(failures[0].reason, /^CONSENT_(BAD_SIGNATURE|CHECKPOINT_UNKNOWN)$/);
});

test("a key registered for someone else: another member's proof of possession, or a new key without the old one's signature", async () => {
  const k = await keys();
  const log = await honest(k);
  // The operator registers its own key as ukraine's with a valid proof for itself (member "russia").
  const forged = await new LogBuilder().registerKey("russia", k.operator);
  await log.append("ukraine", forged.payload as Payload);
  // The operator registers its key for russia, which already has one: no rotation signature possible.
  await log.registerKey("russia", k.operator);
  // ...and signs an acceptance with it.
  await log.accept("russia", k.operator);
  const { failures } = await verifyConsents(log.events);
  assert.deepEqual(failures.map((f) => [f.sequence, f.member, f.reason]), [
    [12n, "ukraine", "KEY_REGISTRATION_INVALID"],
    [13n, "russia", "KEY_REGISTRATION_INVALID"],
    [14n, "russia", "CONSENT_KEY_NOT_CURRENT"],
  ]);
});

test("rotation and revocation: old consents stay valid, the old key signs no more", async () => {
  const k = await keys();
  const log = await honest(k);
  const next = await ConsentSigner.fromSeed(new Uint8Array(32).fill(3));
  await log.registerKey("ukraine", next, k.ukraine); // 12: rotation signed by both
  await log.accept("ukraine", k.ukraine); // 13: the rotated-out key
  await log.accept("ukraine", next); // 14: fine
  const revoke: ConsentStatement = { statement: "key-revocation", negotiation: NEG, member: "ukraine", participant: "ukraine", key: next.keyId };
  await log.append("ukraine", { case: "keyRevoked", value: { participant: "ukraine", member: "ukraine", keyId: next.keyId, signature: await next.sign(revoke) } }); // 15
  await log.accept("ukraine", next); // 16: revoked
  await log.registerKey("ukraine", k.ukraine); // 17: a revoked key again
  const { failures, checks } = await verifyConsents(log.events);
  assert.deepEqual(failures.map((f) => [f.sequence, f.reason]), [
    [13n, "CONSENT_KEY_NOT_CURRENT"],
    [16n, "CONSENT_KEY_NOT_CURRENT"],
    [17n, "KEY_REGISTRATION_INVALID"],
  ]);
  assert.equal(checks.find((c) => c.sequence === 14n)?.status, "signed");
  assert.equal(checks.find((c) => c.sequence === 10n)?.status, "signed");
});

test("a checkpoint the log never had", async () => {
  const k = await keys();
  const log = await honest(k);
  const tampered = replaced(log, 11, (e) => {
    if (e.payload.case === "documentAccepted") e.payload.value.consent!.checkpoint!.rootHash = new Uint8Array(32);
  });
  const { failures } = await verifyConsents(tampered);
  assert.deepEqual(failures.map((f) => [f.sequence, f.reason]), [[11n, "CONSENT_CHECKPOINT_UNKNOWN"]]);
});

test("OK: two delegations' members of the same id hold their own keys", async () => {
  const k = await keys();
  const log = await honest(k);
  const a = await ConsentSigner.fromSeed(new Uint8Array(32).fill(4));
  const b = await ConsentSigner.fromSeed(new Uint8Array(32).fill(5));
  await log.registerKey("ukraine", a, undefined, "legal-1");
  await log.registerKey("russia", b, undefined, "legal-1");
  await log.accept("ukraine", a, "legal-1");
  await log.accept("russia", b, "legal-1");
  await log.accept("russia", a, "legal-1"); // Ukraine's legal-1 key, on Russia's legal-1
  const report = await verifyConsents(log.events);
  assert.deepEqual(report.failures.map((f) => [f.sequence, f.participant, f.member, f.reason]), [[16n, "russia", "legal-1", "CONSENT_KEY_NOT_CURRENT"]]);
  assert.equal(report.keys.get("russia/legal-1")?.keyId, b.keyId);
});

test("the roots of every past size, as RFC 6962 defines them", async () => {
  // A log of 70 events; every consent names an earlier size, up to the one before it.
  const k = await keys();
  const log = new LogBuilder();
  await log.append("admin", { case: "negotiationCreated", value: { title: "Plan", requireSignatures: true } });
  await log.registerKey("ukraine", k.ukraine);
  const roots: string[] = [];
  const range = new MerkleRange();
  for (const r of log.events) {
    await range.addLeaf(r.leaf);
    roots.push(toHex(await range.root()));
  }
  for (let i = 0; i < 68; i++) {
    const size = BigInt(1 + (i * 37) % log.events.length); // sizes all over the log so far
    const s: ConsentStatement = { statement: "acceptance", negotiation: NEG, member: "ukraine", participant: "ukraine", checkpointSize: size, checkpointRoot: roots[Number(size) - 1], documentSha256: DOC };
    const consent = create(ConsentSchema, { keyId: k.ukraine.keyId, checkpoint: { treeSize: size, rootHash: fromHex(roots[Number(size) - 1]) }, signature: await k.ukraine.sign(s) });
    await log.append("ukraine", { case: "documentAccepted", value: { documentSha256: DOC, consent } });
    await range.addLeaf(log.events[log.events.length - 1].leaf);
    roots.push(toHex(await range.root()));
  }
  const report = await verifyConsents(log.events);
  assert.deepEqual(report.failures, []);
  assert.equal(report.checks.filter((c) => c.status === "signed").length, 68);
});

test("a signed vote on an amendment the log never proposed", async () => {
  const k = await keys();
  const log = new LogBuilder();
  await log.append("admin", { case: "negotiationCreated", value: { title: "Plan" } });
  await log.registerKey("russia", k.russia);
  await log.vote("russia", k.russia, VoteChoice.APPROVE, "");
  const { failures } = await verifyConsents(log.events);
  assert.deepEqual(failures.map((f) => [f.sequence, f.member, f.reason]), [[3n, "russia", "CONSENT_BAD_SIGNATURE"]]);
});
