// End to end against the real parleyd: three delegations, a mediator and an
// observer play a short negotiation through the TypeScript client while the
// observer watches the log from its start. Halfway through, the server is
// killed and restarted, and the watch has to resume on its own.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { create, equals, fromBinary } from "@bufbuild/protobuf";
import {
  createParleyClient,
  watchEvents,
  WATCH_TOO_SLOW,
  parleyError,
  isParleyError,
  errorReason,
  Code,
  AmendmentKind,
  AmendmentState,
  DecisionMethod,
  NegotiationState,
  PointStatus,
  Role,
  VoteChoice,
  CastVoteRequestSchema,
  EventSchema,
  readDocument,
  ParleyDocument,
  listNegotiations,
  listAmendments,
  listComments,
  listEvents,
  collect,
  type ApplyAmendmentResponse,
  type EventRecord,
  type ParleyClient,
} from "../src/index.js";
import { Parleyd } from "./parleyd.js";

const DELEGATIONS = ["ukraine", "russia", "europe"] as const;
const TEXT = [
  "1. A ceasefire takes effect along the current line of contact.",
  "2. All prisoners of war are exchanged.",
  "— civilian detainees are returned as well.",
  "3. Elections are held within 100 days.",
].join("\n");

const server = new Parleyd();
before(() => server.start());
after(() => server.close());

function connect(token: string): ParleyClient {
  return createParleyClient({ address: server.address, token });
}


test("a short negotiation, watched from the first event", async (t) => {
  const admin = connect(server.adminToken);

  // The administrator creates the negotiation and issues the tokens.
  const { negotiation: created } = await admin.negotiation.createNegotiation({
    title: "Three-point plan",
    participants: [
      ...DELEGATIONS.map((id) => ({ id, displayName: id, role: Role.DELEGATION })),
      { id: "mediator", displayName: "Mediator", role: Role.MEDIATOR },
      { id: "press", displayName: "Press", role: Role.OBSERVER },
    ],
    decisionRule: { method: DecisionMethod.CONSENSUS },
    numberedText: TEXT,
  });
  assert.ok(created);
  const name = created.name;
  const clients: Record<string, ParleyClient> = {};
  const tokens: Record<string, string> = {};
  for (const id of [...DELEGATIONS, "mediator", "press"]) {
    const { token } = await admin.admin.issueToken({ negotiation: name, participant: id });
    tokens[id] = token;
    clients[id] = connect(token);
  }
  const listed = await collect(listNegotiations(admin.negotiation, { pageSize: 1 }));
  assert.ok(listed.some((n) => n.name === name), "the administrator's list holds the new negotiation");
  const caller = await clients.ukraine.negotiation.getCaller({});
  assert.equal(caller.participant?.id, "ukraine");

  // The observer watches from sequence 0 until the negotiation concludes.
  const seen: EventRecord[] = [];
  const reconnects: { code: Code; afterSeq: bigint }[] = [];
  const stopWatch = new AbortController();
  t.after(() => stopWatch.abort());
  const watching = (async () => {
    for await (const rec of watchEvents(clients.press.negotiation, name, {
      signal: stopWatch.signal,
      initialBackoffMs: 50,
      maxBackoffMs: 500,
      onReconnect: (err, afterSeq) => reconnects.push({ code: err.code, afterSeq }),
    })) {
      seen.push(rec);
      if (rec.event?.payload.case === "negotiationConcluded") return;
    }
  })();

  // The whole document, one point a page, its hash checked; points by number.
  const doc = await readDocument(clients.ukraine.negotiation, name, { pageSize: 1 });
  assert.equal(doc.points.length, 3);
  const target = doc.pointByNumber(2);
  assert.ok(target);
  assert.equal(target.text, "All prisoners of war are exchanged.\n— civilian detainees are returned as well.");
  assert.equal(doc.pointByName(target.name), target);
  assert.equal(doc.pointByNumber(4), undefined);
  assert.equal(doc.pointByNumber(0), undefined);
  assert.ok(doc.text().startsWith("1. A ceasefire takes effect"));

  // Ukraine proposes to replace point 2; no request_id given: the layer adds one.
  const { amendment } = await clients.ukraine.negotiation.proposeAmendment({
    negotiation: name,
    kind: AmendmentKind.REPLACE,
    point: target.name,
    baseRevision: target.revision,
    text: "All prisoners of war and civilian detainees are exchanged, all for all.",
    rationale: "One sentence for both groups.",
  });
  assert.ok(amendment);
  assert.equal(amendment.state, AmendmentState.OPEN);

  // Russia questions the amendment and Ukraine replies: the reply joins the
  // amendment's thread; the observer reads the discussion.
  const { comment: question } = await clients.russia.negotiation.postComment({
    negotiation: name,
    amendment: amendment.name,
    text: "Does this cover civilians held abroad?",
  });
  assert.ok(question);
  const { comment: reply } = await clients.ukraine.negotiation.postComment({ negotiation: name, parent: question.name, text: "Yes." });
  assert.equal(reply?.amendment, amendment.name);
  assert.equal(reply?.parent, question.name);
  const discussion = await collect(listComments(clients.press.negotiation, { negotiation: name, amendment: amendment.name }, { pageSize: 1 }));
  assert.deepEqual(discussion.map((c) => [c.author, c.text]), [
    ["russia", "Does this cover civilians held abroad?"],
    ["ukraine", "Yes."],
  ]);

  // Every delegation votes APPROVE; the last vote closes voting. A vote sent
  // twice as the same message is a safe retry: same reply, no new event.
  for (const id of DELEGATIONS) {
    const vote = create(CastVoteRequestSchema, { amendment: amendment.name, choice: VoteChoice.APPROVE });
    const first = await clients[id].negotiation.castVote(vote);
    assert.notEqual(vote.requestId, "", "the layer fills request_id into the message");
    if (id === "ukraine") {
      const again = await clients[id].negotiation.castVote(vote);
      assert.equal(again.amendment?.updateTime?.nanos, first.amendment?.updateTime?.nanos);
    }
  }
  const passed = await clients.mediator.negotiation.getAmendment({ name: amendment.name });
  assert.equal(passed.amendment?.state, AmendmentState.PASSED);
  assert.equal(passed.amendment?.tally?.approve, 3);
  const passedList = await collect(
    listAmendments(clients.mediator.negotiation, { negotiation: name, states: [AmendmentState.PASSED] }, { pageSize: 1 }),
  );
  assert.deepEqual(passedList.map((a) => a.name), [amendment.name]);
  const ofPoint1 = await collect(listAmendments(clients.mediator.negotiation, { negotiation: name, point: doc.pointByNumber(1)!.name }));
  assert.equal(ofPoint1.length, 0);

  // A vote after voting closed: FAILED_PRECONDITION / VOTING_CLOSED.
  await assert.rejects(
    clients.russia.negotiation.castVote({ amendment: amendment.name, choice: VoteChoice.ABSTAIN }),
    (err: unknown) => {
      const e = parleyError(err);
      assert.equal(e.code, Code.FailedPrecondition);
      assert.equal(e.codeName, "FAILED_PRECONDITION");
      assert.equal(e.reason, "VOTING_CLOSED");
      assert.equal(e.domain, "parley.v1");
      assert.ok(isParleyError(err, Code.FailedPrecondition, "VOTING_CLOSED"));
      return true;
    },
  );
  // An observer may not vote: PERMISSION_DENIED with a reason.
  await assert.rejects(
    clients.press.negotiation.castVote({ amendment: amendment.name, choice: VoteChoice.APPROVE }),
    (err: unknown) => parleyError(err).code === Code.PermissionDenied && errorReason(err) !== "",
  );

  // Once the watcher has seen everything so far, the server crashes and comes
  // back on the same port; the watch has to resume.
  const last = (await clients.press.negotiation.getNegotiation({ name })).negotiation!.lastSequence;
  for (const deadline = Date.now() + 10_000; BigInt(seen.length) < last && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(BigInt(seen.length), last);
  await server.kill();
  await server.start();

  // The mediator applies the amendment while the observer reads the document
  // one point a page: the document changes between two pages, the server
  // refuses the stale page token (ABORTED / DOCUMENT_CHANGED), and
  // readDocument reads again from the start rather than mix two versions.
  let applied: ApplyAmendmentResponse | undefined;
  let documentCalls = 0;
  const reader = createParleyClient({
    address: server.address,
    token: tokens.press,
    interceptors: [
      (next) => async (req) => {
        if (req.method.name !== "GetDocument") return next(req);
        documentCalls++;
        const res = await next(req);
        if (documentCalls === 1) applied = await clients.mediator.negotiation.applyAmendment({ amendment: amendment.name });
        return res;
      },
    ],
  });
  const current = await readDocument(reader.negotiation, name, { pageSize: 1 });
  assert.equal(applied?.amendment?.state, AmendmentState.APPLIED);
  assert.equal(applied?.point?.revision, 2n);
  assert.equal(documentCalls, 5, "one page, one refused page, then the three pages again");
  assert.equal(current.pointByNumber(2)?.revision, 2n);
  assert.equal(current.pointByNumber(2)?.text, "All prisoners of war and civilian detainees are exchanged, all for all.");

  // Every delegation signs off every point at its current revision and hash;
  // Europe signs off all of them in one call and one commit.
  for (const id of DELEGATIONS) {
    if (id === "europe") {
      const batch = await clients[id].negotiation.signOffPoints({
        negotiation: name,
        items: current.points.map((p) => ({ point: p.name, revision: p.revision, textSha256: p.textSha256 })),
      });
      assert.equal(batch.signedOffCount, 3);
      continue;
    }
    for (const p of current.points) {
      await clients[id].negotiation.signOffPoint({ point: p.name, revision: p.revision, textSha256: p.textSha256 });
    }
  }
  const agreed = await readDocument(clients.mediator.negotiation, name);
  assert.ok(agreed.points.every((p) => p.status === PointStatus.AGREED));
  // A text that does not hash to the hash sent with it is refused.
  assert.throws(
    () => new ParleyDocument(agreed.negotiation, agreed.points, "0".repeat(64)).verify(),
    (err: unknown) => isParleyError(err, Code.DataLoss, "DOCUMENT_HASH"),
  );

  // Every delegation accepts the whole text; the last acceptance concludes.
  let state = NegotiationState.OPEN;
  for (const id of DELEGATIONS) {
    const res = await clients[id].negotiation.acceptDocument({ negotiation: name, documentSha256: agreed.sha256 });
    state = res.negotiation!.state;
  }
  assert.equal(state, NegotiationState.CONCLUDED);

  await watching;
  assert.ok(reconnects.length >= 1, "the watch reconnected after the crash");
  assert.equal(reconnects[0].afterSeq, last, "it resumed after the last event it had seen");

  // The watcher saw the whole log, in order, without gaps: the same as ListEvents.
  const events: EventRecord[] = await collect(listEvents(clients.press.negotiation, name, { pageSize: 7 }));
  assert.equal(seen.length, events.length);
  seen.forEach((rec, i) => {
    assert.equal(rec.sequence, BigInt(i + 1));
    assert.equal(rec.sequence, events[i].sequence);
    assert.deepEqual(rec.leaf, events[i].leaf);
  });
  // 1 created + 3 points + 5 credentials + 1 proposal + 2 comments + 3 votes
  // + 1 close + 1 applied + 9 sign-offs + 3 acceptances + 1 concluded.
  assert.equal(events.length, 30);
  // Every mutation carried a request id, though none was given.
  for (const rec of events) assert.notEqual(rec.event?.requestId, "", `event ${rec.sequence}`);
  // From a sequence on: the rest of the log.
  const tail = await collect(listEvents(clients.press.negotiation, name, { afterSequence: 22n, pageSize: 3 }));
  assert.deepEqual(tail.map((r) => r.sequence), [23n, 24n, 25n, 26n, 27n, 28n, 29n, 30n]);
});

test("a package deal: voted once, applied by one event, refused when malformed", async () => {
  const admin = connect(server.adminToken);
  const { negotiation } = await admin.negotiation.createNegotiation({
    title: "A trade",
    participants: [
      ...DELEGATIONS.map((id) => ({ id, role: Role.DELEGATION })),
      { id: "mediator", role: Role.MEDIATOR },
    ],
    decisionRule: { method: DecisionMethod.CONSENSUS },
    numberedText: TEXT,
  });
  const name = negotiation!.name;
  const clients: Record<string, ParleyClient> = {};
  for (const id of [...DELEGATIONS, "mediator"]) {
    clients[id] = connect((await admin.admin.issueToken({ negotiation: name, participant: id })).token);
  }
  const doc = await readDocument(clients.ukraine.negotiation, name);
  const [one, two, three] = [1, 2, 3].map((n) => doc.pointByNumber(n)!);

  // "We give on the ceasefire if you give on the elections": one amendment
  // of three parts.
  const { amendment: pkg } = await clients.ukraine.negotiation.proposeAmendment({
    negotiation: name,
    rationale: "A trade.",
    parts: [
      { kind: AmendmentKind.REPLACE, point: one.name, baseRevision: one.revision, text: "A ceasefire takes effect at once." },
      { kind: AmendmentKind.DELETE, point: three.name, baseRevision: three.revision },
      { kind: AmendmentKind.INSERT, point: two.name, text: "Elections are held within a year." },
    ],
  });
  assert.ok(pkg);
  assert.equal(pkg.parts.length, 3);
  assert.equal(pkg.kind, AmendmentKind.UNSPECIFIED, "a package's changes are in its parts only");
  assert.deepEqual(pkg.parts.map((p) => p.pointNumber), [1, 3, 2]);
  const redline = await clients.russia.negotiation.getRedline({ subject: { case: "amendment", value: pkg.name } });
  assert.equal(redline.changes.length, 3, "the redline shows every part");

  // A package of one part, or two parts on one point, changes nothing.
  for (const [parts, reason] of [
    [[{ kind: AmendmentKind.DELETE, point: three.name, baseRevision: 1n }], "PACKAGE_TOO_SMALL"],
    [[{ kind: AmendmentKind.DELETE, point: three.name, baseRevision: 1n }, { kind: AmendmentKind.REPLACE, point: three.name, baseRevision: 1n, text: "Elections." }], "PACKAGE_DUPLICATE_POINT"],
  ] as const) {
    await assert.rejects(clients.russia.negotiation.proposeAmendment({ negotiation: name, parts: [...parts] }), (err: unknown) => {
      assert.equal(parleyError(err).reason, reason);
      return true;
    });
  }

  for (const id of DELEGATIONS) {
    await clients[id].negotiation.castVote({ amendment: pkg.name, choice: VoteChoice.APPROVE });
  }
  const applied = await clients.mediator.negotiation.applyAmendment({ amendment: pkg.name });
  assert.equal(applied.amendment?.state, AmendmentState.APPLIED);
  assert.equal(applied.points.length, 3);
  assert.equal(applied.points[1].status, PointStatus.DELETED);
  const events = await collect(listEvents(clients.ukraine.negotiation, name, {}));
  const last = events[events.length - 1].event?.payload;
  assert.equal(last?.case, "amendmentApplied", "one event applies the whole package");
  // The leaf, the bytes the audit log hashes, decodes to the same event.
  assert.ok(equals(EventSchema, fromBinary(EventSchema, events[events.length - 1].leaf), events[events.length - 1].event!));
  assert.deepEqual(last.value.parts.map((p) => p.pointId), applied.points.map((p) => p.id));
  const after = await readDocument(clients.ukraine.negotiation, name);
  assert.equal(
    after.text(),
    "1. A ceasefire takes effect at once.\n2. All prisoners of war are exchanged.\n— civilian detainees are returned as well.\n3. Elections are held within a year.\n",
  );
});

test("a participant added after creation, and removed: its token stops working", async () => {
  const admin = connect(server.adminToken);
  const { negotiation } = await admin.negotiation.createNegotiation({
    title: "A plan that changes",
    participants: [
      { id: "ukraine", role: Role.DELEGATION },
      { id: "mediator", role: Role.MEDIATOR },
    ],
    decisionRule: { method: DecisionMethod.CONSENSUS },
    numberedText: TEXT,
  });
  const name = negotiation!.name;
  const added = await admin.negotiation.addParticipant({
    negotiation: name,
    participant: { id: "poland", displayName: "Poland", role: Role.DELEGATION },
  });
  assert.deepEqual(added.negotiation!.participants.map((p) => p.id), ["ukraine", "mediator", "poland"]);
  const poland = connect((await admin.admin.issueToken({ negotiation: name, participant: "poland" })).token);
  assert.equal((await poland.negotiation.getCaller({})).participant!.id, "poland");
  const removed = await admin.negotiation.removeParticipant({ negotiation: name, participant: "poland" });
  assert.deepEqual(removed.negotiation!.removedParticipants.map((p) => p.id), ["poland"]);
  await assert.rejects(poland.negotiation.getCaller({}), (err: unknown) => {
    assert.equal(parleyError(err).reason, "TOKEN_INVALID");
    return true;
  });
});

test("a wrong token is UNAUTHENTICATED with a reason", async () => {
  const stranger = connect("prl_not-a-token");
  await assert.rejects(stranger.negotiation.getCaller({}), (err: unknown) => {
    const e = parleyError(err);
    assert.equal(e.code, Code.Unauthenticated);
    assert.equal(e.reason, "TOKEN_INVALID");
    return true;
  });
});

// A server that cuts a watch stream off as soon as gRPC leaves one event
// waiting for it (--watch-backlog 1B --watch-stall 0) makes the watch go
// through several streams: it resumes after each cut-off and yields every
// event once, in order.
test("a watch cut off as too slow resumes where it was", async (t) => {
  const strict = new Parleyd(["--rate-limit", "0", "--watch-backlog", "1B", "--watch-stall", "0"]);
  await strict.start();
  t.after(() => strict.close());
  const admin = createParleyClient({ address: strict.address, token: strict.adminToken });
  const { negotiation: created } = await admin.negotiation.createNegotiation({
    title: "Long log",
    participants: [
      { id: "ukraine", displayName: "Ukraine", role: Role.DELEGATION },
      { id: "mediator", displayName: "Mediator", role: Role.MEDIATOR },
      { id: "press", displayName: "Press", role: Role.OBSERVER },
    ],
    decisionRule: { method: DecisionMethod.CONSENSUS },
    numberedText: TEXT,
  });
  assert.ok(created);
  const name = created.name;
  const ukraine = createParleyClient({
    address: strict.address,
    token: (await admin.admin.issueToken({ negotiation: name, participant: "ukraine" })).token,
  });
  const press = createParleyClient({
    address: strict.address,
    token: (await admin.admin.issueToken({ negotiation: name, participant: "press" })).token,
  });
  const doc = await ukraine.negotiation.getDocument({ negotiation: name });
  for (let i = 0; i < 40; i++) {
    await ukraine.negotiation.proposeAmendment({
      negotiation: name,
      kind: AmendmentKind.REPLACE,
      point: doc.points[0].name,
      baseRevision: doc.points[0].revision,
      text: `Text ${i}. ${"z".repeat(8000)}`,
    });
  }
  const { negotiation: now } = await admin.negotiation.getNegotiation({ name });
  const last = now!.lastSequence;

  let seen = 0n;
  const cutOffs: bigint[] = [];
  const stop = new AbortController();
  t.after(() => stop.abort());
  for await (const rec of watchEvents(press.negotiation, name, {
    signal: stop.signal,
    onReconnect: (err, afterSeq) => {
      if (errorReason(err) === WATCH_TOO_SLOW) cutOffs.push(afterSeq);
    },
  })) {
    assert.equal(rec.sequence, seen + 1n, "events in order, without gap or repeat");
    seen = rec.sequence;
    // A reader slower than the server, that stops for a while after the first event.
    await new Promise((resolve) => setTimeout(resolve, seen === 1n ? 300 : 1));
    if (seen === last) break;
  }
  assert.equal(seen, last);
  assert.ok(cutOffs.length >= 1, `the server cut the watch off (log: ${strict.log.length} bytes)`);
  assert.match(strict.log, /stopped reading/);
});

// A stale amendment re-proposed on the current text: merged when its change
// and the one applied since are apart, refused with the conflict shown when
// they overlap.
test("a stale amendment re-proposed on the current text", async () => {
  const admin = connect(server.adminToken);
  const { negotiation } = await admin.negotiation.createNegotiation({
    title: "Rebasing",
    participants: [
      { id: "ukraine", role: Role.DELEGATION },
      { id: "russia", role: Role.DELEGATION },
      { id: "mediator", role: Role.MEDIATOR },
    ],
    decisionRule: { method: DecisionMethod.CONSENSUS },
    points: ["Elections are held within 100 days."],
  });
  const name = negotiation!.name;
  const as = async (id: string) => connect((await admin.admin.issueToken({ negotiation: name, participant: id })).token);
  const [ukraine, russia, mediator] = [await as("ukraine"), await as("russia"), await as("mediator")];
  const point = (await ukraine.negotiation.getDocument({ negotiation: name })).points[0];
  const propose = (c: ParleyClient, text: string) =>
    c.negotiation.proposeAmendment({ negotiation: name, kind: AmendmentKind.REPLACE, point: point.name, baseRevision: 1n, text });
  const apart = (await propose(ukraine, "Free elections are held within 100 days.")).amendment!;
  const overlapping = (await propose(ukraine, "Elections are held within 100 days of ratification.")).amendment!;
  const applied = (await propose(russia, "Elections are held within 100 days of signature.")).amendment!;
  for (const c of [ukraine, russia]) await c.negotiation.castVote({ amendment: applied.name, choice: VoteChoice.APPROVE });
  await mediator.negotiation.applyAmendment({ amendment: applied.name });

  const rebased = (await ukraine.negotiation.proposeAmendment({ negotiation: name, rebaseOf: apart.name })).amendment!;
  assert.equal(rebased.text, "Free elections are held within 100 days of signature.");
  assert.equal(rebased.rebasedFrom, apart.name);
  assert.equal(rebased.baseRevision, 2n);
  await assert.rejects(ukraine.negotiation.proposeAmendment({ negotiation: name, rebaseOf: overlapping.name }), (err: unknown) => {
    const e = parleyError(err);
    assert.equal(e.code, Code.FailedPrecondition);
    assert.equal(e.reason, "REBASE_CONFLICT");
    assert.equal(e.metadata.conflicts, "1");
    assert.equal(e.metadata.conflict1Yours, " of ratification");
    assert.equal(e.metadata.conflict1Theirs, " of signature");
    return true;
  });
});
