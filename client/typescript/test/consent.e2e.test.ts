// Signed consent end to end against the real parleyd: a negotiation that
// requires signatures from its creation; each delegation makes a WebCrypto
// key that cannot be exported, registers it, and signs its votes, sign-offs
// and acceptance through a ConsentSession; the log then verifies with every
// consent signed. Bad signatures are refused with a stable reason and leave
// the log as it was.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  createParleyClient,
  readDocument,
  parleyError,
  Code,
  AmendmentKind,
  AmendmentState,
  DecisionMethod,
  NegotiationState,
  Role,
  VoteChoice,
  ConsentSession,
  ConsentSigner,
  verifyLogConsents,
  type ParleyClient,
} from "../src/index.js";
import { Parleyd } from "./parleyd.js";

const DELEGATIONS = ["ukraine", "russia"] as const;
const server = new Parleyd();
before(() => server.start());
after(() => server.close());

const connect = (token: string): ParleyClient => createParleyClient({ address: server.address, token });

/** Asserts that call is refused with code and reason, and that the log did not grow. */
async function refused(reader: ParleyClient, name: string, call: () => Promise<unknown>, code: Code, reason: string) {
  const before = (await reader.negotiation.getNegotiation({ name })).negotiation!.lastSequence;
  await assert.rejects(call(), (err: unknown) => {
    const e = parleyError(err);
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.code, code, e.message);
    return true;
  });
  const after = (await reader.negotiation.getNegotiation({ name })).negotiation!.lastSequence;
  assert.equal(after, before, `the refused ${reason} call left the log as it was`);
}

test("a negotiation concluded with every consent signed, and the log verifies", async () => {
  const admin = connect(server.adminToken);
  const { negotiation: created } = await admin.negotiation.createNegotiation({
    title: "Signed plan",
    participants: [
      ...DELEGATIONS.map((id) => ({ id, displayName: id, role: Role.DELEGATION })),
      { id: "mediator", displayName: "Mediator", role: Role.MEDIATOR },
    ],
    decisionRule: { method: DecisionMethod.CONSENSUS },
    numberedText: "1. A ceasefire takes effect.\n2. Prisoners are exchanged.",
    requireSignatures: true,
  });
  const name = created!.name;
  assert.equal(created!.signaturesRequired, true);
  const clients: Record<string, ParleyClient> = {};
  for (const id of [...DELEGATIONS, "mediator"]) {
    const { token } = await admin.admin.issueToken({ negotiation: name, participant: id });
    clients[id] = connect(token);
  }

  // Each delegation's key: generated in WebCrypto, not extractable, registered with its proof of possession.
  const sessions: Record<string, ConsentSession> = {};
  for (const id of DELEGATIONS) {
    const { signer, pair } = await ConsentSigner.generate();
    assert.equal((pair.privateKey as { extractable: boolean }).extractable, false);
    await assert.rejects(crypto.subtle.exportKey("pkcs8", pair.privateKey), "the private key cannot be read out");
    sessions[id] = await ConsentSession.open(clients[id], signer);
    const { signingKey } = await sessions[id].registerKey();
    assert.equal(signingKey?.keyId, signer.keyId);
  }
  const keys = (await admin.negotiation.getNegotiation({ name })).negotiation!.signingKeys;
  assert.deepEqual(keys.map((k) => [k.participant, k.keyId]), DELEGATIONS.map((id) => [id, sessions[id].signer.keyId]));

  const doc = await readDocument(clients.ukraine.negotiation, name);
  const { amendment } = await clients.ukraine.negotiation.proposeAmendment({
    negotiation: name,
    kind: AmendmentKind.REPLACE,
    point: doc.points[1].name,
    baseRevision: doc.points[1].revision,
    text: "All prisoners are exchanged, all for all.",
  });

  // Refusals, each leaving the log unchanged.
  await refused(admin, name, () => clients.russia.negotiation.castVote({ amendment: amendment!.name, choice: VoteChoice.APPROVE }), Code.FailedPrecondition, "SIGNATURE_REQUIRED");
  const approve = await sessions.russia.voteConsent(amendment!.name, VoteChoice.APPROVE, "");
  await refused(admin, name, () => clients.russia.negotiation.castVote({ amendment: amendment!.name, choice: VoteChoice.REJECT, reason: "No.", consent: approve }), Code.InvalidArgument, "SIGNATURE_INVALID");
  await refused(admin, name, () => clients.ukraine.negotiation.castVote({ amendment: amendment!.name, choice: VoteChoice.APPROVE, consent: approve }), Code.PermissionDenied, "KEY_OF_OTHER_MEMBER");
  await refused(admin, name, () => clients.russia.negotiation.castVote({ amendment: amendment!.name, choice: VoteChoice.APPROVE, consent: { ...approve, signature: approve.signature.slice(0, 10) } }), Code.InvalidArgument, "SIGNATURE_MALFORMED");
  await refused(admin, name, () => clients.russia.negotiation.registerKey({ negotiation: name, publicKey: new Uint8Array(31), signature: new Uint8Array(64) }), Code.InvalidArgument, "KEY_MALFORMED");
  const stranger = await ConsentSigner.generate();
  await refused(admin, name, () => clients.russia.negotiation.castVote({ amendment: amendment!.name, choice: VoteChoice.APPROVE, consent: { ...approve, keyId: stranger.signer.keyId } }), Code.FailedPrecondition, "KEY_UNKNOWN");

  // Signed votes; voting closes; the mediator applies.
  // Ukraine's reason has white space around it, which the server trims: the session signs what is recorded.
  await sessions.ukraine.castVote({ amendment: amendment!.name, choice: VoteChoice.APPROVE, reason: "  All for all.\n" });
  // Russia asks for the lean reply: its vote and the state its vote left, not the amendment.
  const lean = await sessions.russia.castVote({ amendment: amendment!.name, choice: VoteChoice.APPROVE, voteOnly: true });
  assert.equal(lean.amendment, undefined);
  assert.equal(lean.vote?.participant, "russia");
  assert.equal(lean.amendmentState, AmendmentState.PASSED);
  const passed = await clients.mediator.negotiation.getAmendment({ name: amendment!.name });
  assert.equal(passed.amendment?.state, AmendmentState.PASSED);
  await clients.mediator.negotiation.applyAmendment({ amendment: amendment!.name });

  // Ukraine rotates its key; a consent by the rotated-out key is refused.
  const old = sessions.ukraine.signer;
  const next = (await ConsentSigner.generate()).signer;
  sessions.ukraine.signer = next;
  await sessions.ukraine.registerKey(old);
  const current = await readDocument(clients.ukraine.negotiation, name);
  const stale = await ConsentSession.open(clients.ukraine, old);
  const p1 = current.points[0];
  const byOld = await stale.signOffConsent(p1.name, p1.revision, p1.textSha256);
  await refused(admin, name, () => clients.ukraine.negotiation.signOffPoint({ point: p1.name, revision: p1.revision, textSha256: p1.textSha256, consent: byOld }), Code.FailedPrecondition, "KEY_REVOKED");

  // Russia revokes its key (signed by it) and registers a new first key; the
  // revoked key signs nothing more.
  const revoked = sessions.russia.signer;
  await sessions.russia.revokeKey();
  const byRevoked = await sessions.russia.signOffConsent(p1.name, p1.revision, p1.textSha256);
  await refused(admin, name, () => clients.russia.negotiation.signOffPoint({ point: p1.name, revision: p1.revision, textSha256: p1.textSha256, consent: byRevoked }), Code.FailedPrecondition, "KEY_REVOKED");
  sessions.russia.signer = (await ConsentSigner.generate()).signer;
  await sessions.russia.registerKey();
  assert.notEqual(sessions.russia.signer.keyId, revoked.keyId);

  // Sign-offs: Ukraine one by one, Russia in one batch, one signature a point.
  for (const p of current.points) await sessions.ukraine.signOffPoint({ point: p.name, revision: p.revision, textSha256: p.textSha256 });
  const batch = await sessions.russia.signOffPoints({ items: current.points.map((p) => ({ point: p.name, revision: p.revision, textSha256: p.textSha256 })) });
  assert.equal(batch.signedOffCount, 2);

  // Signed acceptances conclude it.
  let state = NegotiationState.OPEN;
  for (const id of DELEGATIONS) state = (await sessions[id].acceptDocument({ documentSha256: current.sha256 })).negotiation!.state;
  assert.equal(state, NegotiationState.CONCLUDED);

  // The whole log verifies: every consent signed by the key current at its point.
  const report = await verifyLogConsents(admin.negotiation, name);
  assert.deepEqual(report.failures, []);
  assert.equal(report.requiredFrom, 1n);
  assert.deepEqual(
    report.checks.map((c) => `${c.statement} ${c.member} ${c.status}`),
    [
      "vote ukraine signed",
      "vote russia signed",
      "sign-off ukraine signed",
      "sign-off ukraine signed",
      "sign-off russia signed",
      "sign-off russia signed",
      "acceptance ukraine signed",
      "acceptance russia signed",
    ],
  );
  assert.equal(report.checks.find((c) => c.statement === "sign-off" && c.member === "ukraine")?.keyId, next.keyId);
  assert.equal(report.keys.get("ukraine/ukraine")?.keyId, next.keyId);
  // Russia's vote stays valid, signed by the key it revoked later.
  assert.equal(report.checks.find((c) => c.statement === "vote" && c.member === "russia")?.keyId, revoked.keyId);
});
