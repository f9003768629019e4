// Signing consent through a connection: a ConsentSession follows the log of
// the caller's negotiation (every leaf, folded into a Merkle tree) so that
// each signature names a checkpoint the client computed itself, and it builds
// the statement from the log's own events, as a verifier will rebuild it.
// verifyLogConsents reads a whole log and checks its signed consent.

import { create, fromBinary } from "@bufbuild/protobuf";
import type { Client, CallOptions } from "@connectrpc/connect";
import { EventSchema } from "./gen/parley/v1/event_pb.js";
import { AmendmentKind, ConsentSchema, VoteChoice, type Consent } from "./gen/parley/v1/negotiation_pb.js";
import type {
  AcceptDocumentResponse,
  CastVoteResponse,
  EventRecord,
  NegotiationService,
  RegisterKeyResponse,
  SignOffPointResponse,
  SignOffPointsResponse,
} from "./gen/parley/v1/negotiation_service_pb.js";
import type { ParleyClient } from "./client.js";
import { newRequestId } from "./client.js";
import { listEvents } from "./paging.js";
import { ConsentSigner, amendmentDigest, sha256Hex, toHex, trimReason, type AmendmentPart, type ConsentStatement } from "./consent.js";
import { MerkleRange, verifyConsents, assertConsents, type ConsentOptions, type ConsentReport, type LoggedEvent } from "./consentlog.js";

/** An EventRecord as consentlog reads it: the event decoded from the leaf bytes, not the server's second copy. */
export function loggedEvent(rec: EventRecord): LoggedEvent {
  return { sequence: rec.sequence, leaf: rec.leaf, event: fromBinary(EventSchema, rec.leaf) };
}

async function* logged(neg: Client<typeof NegotiationService>, negotiation: string): AsyncGenerator<LoggedEvent> {
  for await (const rec of listEvents(neg, negotiation)) yield loggedEvent(rec);
}

/**
 * Reads the whole log of a negotiation and checks its signed consent (see
 * verifyConsents). The report lists every consent and every failure, each
 * naming the event's sequence, the member and why.
 */
export function verifyLogConsents(neg: Client<typeof NegotiationService>, negotiation: string, options?: ConsentOptions): Promise<ConsentReport> {
  return verifyConsents(logged(neg, negotiation), options);
}

/** verifyLogConsents that throws a ConsentLogError with the evidence if anything fails. */
export function assertLogConsents(neg: Client<typeof NegotiationService>, negotiation: string, options?: ConsentOptions): Promise<ConsentReport> {
  return assertConsents(logged(neg, negotiation), options);
}

/** The last segment of a resource name ("negotiations/n/points/p" → "p"). */
function idOf(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

/**
 * A member signing in its negotiation: the caller's token (through parley)
 * and its key (signer). Every call first reads the log up to its end, so the
 * checkpoint signed is the one this client just computed from the leaves.
 */
export class ConsentSession {
  private readonly tree = new MerkleRange();
  private readonly amendments = new Map<string, AmendmentPart[]>();

  private constructor(
    readonly parley: ParleyClient,
    /** The negotiation's resource name. */
    readonly negotiation: string,
    /** The caller's participant id. */
    readonly participant: string,
    /** The caller's member id (the participant id for its default member). */
    readonly member: string,
    /** The key that signs. */
    public signer: ConsentSigner,
  ) {}

  /** Opens a session for the caller of parley's token, signing with signer. */
  static async open(parley: ParleyClient, signer: ConsentSigner, options?: CallOptions): Promise<ConsentSession> {
    const caller = await parley.negotiation.getCaller({}, options);
    if (caller.admin || !caller.participant) throw new Error("signing consent needs a participant's token, not the administrator's");
    const member = caller.member?.id || caller.participant.id;
    return new ConsentSession(parley, caller.negotiation, caller.participant.id, member, signer);
  }

  /** Reads the events after those already folded in; returns the checkpoint (size and root) of the log read. */
  async sync(options?: CallOptions): Promise<{ treeSize: bigint; rootHash: Uint8Array }> {
    for await (const rec of listEvents(this.parley.negotiation, this.negotiation, { ...options, afterSequence: BigInt(this.tree.size) })) {
      if (rec.sequence !== BigInt(this.tree.size + 1)) throw new Error(`the log skipped from event ${this.tree.size} to ${rec.sequence}`);
      await this.tree.addLeaf(rec.leaf);
      const e = fromBinary(EventSchema, rec.leaf);
      if (e.payload.case === "amendmentProposed") {
        const v = e.payload.value;
        const changes = v.parts.length > 0 ? v.parts : [v]; // a package deal's parts, or the one change
        this.amendments.set(v.amendmentId, changes.map((c) => ({ kind: AmendmentKind[c.kind], pointId: c.pointId, baseRevision: c.baseRevision, text: c.text })));
      }
    }
    return { treeSize: BigInt(this.tree.size), rootHash: await this.tree.root() };
  }

  private subject() {
    return { negotiation: this.negotiation, member: this.member, participant: this.participant };
  }

  /** Signs a vote, sign-off or acceptance (given without its subject and checkpoint) into a Consent. */
  private async consent(
    build: (c: { checkpointSize: bigint; checkpointRoot: string }) => Promise<ConsentStatement> | ConsentStatement,
    options?: CallOptions,
  ): Promise<Consent> {
    const checkpoint = await this.sync(options);
    const s = await build({ checkpointSize: checkpoint.treeSize, checkpointRoot: toHex(checkpoint.rootHash) });
    return create(ConsentSchema, { keyId: this.signer.keyId, checkpoint, signature: await this.signer.sign(s) });
  }

  /**
   * The Consent for a vote on an amendment (its resource name), as
   * CastVoteRequest.consent. It signs the reason trimmed as the server records
   * it (trimReason).
   */
  async voteConsent(amendment: string, choice: VoteChoice, reason: string, options?: CallOptions): Promise<Consent> {
    return this.consent(async (cp) => {
      const id = idOf(amendment);
      const parts = this.amendments.get(id);
      if (!parts) throw new Error(`amendment ${amendment} is not in the log read`);
      return {
        statement: "vote",
        ...this.subject(),
        ...cp,
        amendment: id,
        amendmentSha256: await amendmentDigest(parts),
        choice: VoteChoice[choice],
        reasonSha256: await sha256Hex(trimReason(reason)),
      };
    }, options);
  }

  /** The Consent for a sign-off of a point (its resource name) at a revision whose text hashes to textSha256. */
  async signOffConsent(point: string, revision: bigint, textSha256: string, options?: CallOptions): Promise<Consent> {
    return this.consent((cp) => ({ statement: "sign-off", ...this.subject(), ...cp, point: idOf(point), revision, textSha256 }), options);
  }

  /** The Consent for the acceptance of the document whose text hashes to documentSha256. */
  async acceptanceConsent(documentSha256: string, options?: CallOptions): Promise<Consent> {
    return this.consent((cp) => ({ statement: "acceptance", ...this.subject(), ...cp, documentSha256 }), options);
  }

  /**
   * Casts a signed vote. With voteOnly the reply carries the vote as recorded
   * and the amendment's state instead of the whole amendment.
   */
  castVote(req: { amendment: string; choice: VoteChoice; reason?: string; requestId?: string; voteOnly?: boolean }, options?: CallOptions): Promise<CastVoteResponse> {
    const reason = trimReason(req.reason ?? "");
    return this.voteConsent(req.amendment, req.choice, reason, options).then((consent) =>
      this.parley.negotiation.castVote(
        { requestId: req.requestId ?? newRequestId(), amendment: req.amendment, choice: req.choice, reason, consent, voteOnly: req.voteOnly ?? false },
        options,
      ),
    );
  }

  /** Signs off a point at a revision, signed. */
  async signOffPoint(req: { point: string; revision: bigint; textSha256: string; requestId?: string }, options?: CallOptions): Promise<SignOffPointResponse> {
    const consent = await this.signOffConsent(req.point, req.revision, req.textSha256, options);
    return this.parley.negotiation.signOffPoint({ requestId: req.requestId ?? newRequestId(), point: req.point, revision: req.revision, textSha256: req.textSha256, consent }, options);
  }

  /** Signs off several points at once, one signature each, all over the same checkpoint. */
  async signOffPoints(
    req: { items: { point: string; revision: bigint; textSha256: string }[]; requestId?: string },
    options?: CallOptions,
  ): Promise<SignOffPointsResponse> {
    const cp = await this.sync(options);
    const checkpoint = { checkpointSize: cp.treeSize, checkpointRoot: toHex(cp.rootHash) };
    const items = [];
    for (const it of req.items) {
      const signature = await this.signer.sign({ statement: "sign-off", ...this.subject(), ...checkpoint, point: idOf(it.point), revision: it.revision, textSha256: it.textSha256 });
      items.push({ ...it, consent: create(ConsentSchema, { keyId: this.signer.keyId, checkpoint: cp, signature }) });
    }
    return this.parley.negotiation.signOffPoints({ requestId: req.requestId ?? newRequestId(), negotiation: this.negotiation, items }, options);
  }

  /** Accepts the document whose text hashes to documentSha256, signed. */
  async acceptDocument(req: { documentSha256: string; requestId?: string }, options?: CallOptions): Promise<AcceptDocumentResponse> {
    const consent = await this.acceptanceConsent(req.documentSha256, options);
    return this.parley.negotiation.acceptDocument({ requestId: req.requestId ?? newRequestId(), negotiation: this.negotiation, documentSha256: req.documentSha256, consent }, options);
  }

  /**
   * Registers the session's key as the caller's signing key, with its proof
   * of possession. To rotate, pass the current key as `replacing`: it signs
   * the same statement, and the session signs with the new key afterwards.
   */
  async registerKey(replacing?: ConsentSigner, options?: CallOptions): Promise<RegisterKeyResponse> {
    const s: ConsentStatement = { statement: "key-registration", ...this.subject(), key: this.signer.keyId, replaces: replacing?.keyId ?? "" };
    return this.parley.negotiation.registerKey(
      {
        requestId: newRequestId(),
        negotiation: this.negotiation,
        publicKey: this.signer.publicKey,
        signature: await this.signer.sign(s),
        replaces: replacing?.keyId ?? "",
        replacesSignature: replacing ? await replacing.sign(s) : new Uint8Array(),
      },
      options,
    );
  }

  /** Revokes the session's key (the caller's current key), signed by it. */
  async revokeKey(options?: CallOptions): Promise<void> {
    const s: ConsentStatement = { statement: "key-revocation", ...this.subject(), key: this.signer.keyId };
    await this.parley.negotiation.revokeKey({ requestId: newRequestId(), negotiation: this.negotiation, keyId: this.signer.keyId, signature: await this.signer.sign(s) }, options);
  }
}
