// The board's state: what `parley status` shows (the document, the pending
// amendments, stale sign-offs, acceptances), kept current by the WatchEvents
// stream. Every event received makes the board read the state again, so the
// screen always shows what the server holds; reads are coalesced, never more
// than one in flight.
import type { Api } from "./api.js";
import { Code, isCode, refusal } from "./api.js";
import { verifyLog, type Verification } from "./checkpoint.js";
import type { EventRecord } from "./gen/parley/v1/negotiation_service_pb.js";
import { fromBinary } from "@bufbuild/protobuf";
import { EventSchema } from "./gen/parley/v1/event_pb.js";
import type { ConsentSigner } from "../../typescript/src/consent.js";
import { ConsentVerifier, loadSigner, type ConsentReport } from "./signing.js";
import { PackageDraft } from "./packagedraft.js";
import {
  AmendmentState,
  Role,
  type Amendment,
  type Negotiation,
  type Participant,
  type Point,
} from "./gen/parley/v1/negotiation_pb.js";

export type Link = "connecting" | "live" | "reconnecting";

export type SignState = "signed" | "stale" | "missing";

export type BoardState = {
  me: Participant;
  negotiation: Negotiation;
  points: Point[];
  documentSha256: string;
  pending: Amendment[];
  stale: Map<string, Set<string>>; // point name → delegations whose sign-off is stale
  delegations: Participant[];
  names: Map<string, string>; // participant id → display name
  loadedSequence: bigint; // the log's size when this state was read
};

export class Store {
  readonly api: Api;
  readonly negotiationName: string;
  readonly me: Participant;
  // The package deal this participant is composing, if any.
  readonly draft: PackageDraft;
  state: BoardState | null = null;
  loadError = "";
  link: Link = "connecting";
  lastSequence = 0n; // the last event received from the stream
  verification: Verification = { state: "checking" };
  recentEvents: EventRecord[] = []; // the last events received live, newest last
  // The signed-in member (the participant id for its default member), its
  // signing key if this browser holds one, and the check of the log's signed
  // consent (run once the negotiation has signing keys or requires them).
  member = "";
  signer: ConsentSigner | null = null;
  consents: ConsentReport | null = null;
  consentError = "";
  private consentVerifier = new ConsentVerifier(); // the log's events checked so far
  private checkingConsents = false;
  private checkConsentsAgain = false;

  private listeners = new Set<() => void>();
  private staleCache = new Map<string, Set<string>>(); // `${point}@${revision}` → stale signers
  private reading = false;
  private readAgain = false;
  private verifying = false;
  private verifyAgain = false;
  private abort = new AbortController();

  constructor(api: Api, negotiation: string, me: Participant) {
    this.api = api;
    this.negotiationName = negotiation;
    this.me = me;
    this.draft = new PackageDraft(PackageDraft.keyFor(negotiation, me.id), tabStorage());
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  get isDelegation(): boolean {
    return this.me.role === Role.DELEGATION;
  }

  get isMediator(): boolean {
    return this.me.role === Role.MEDIATOR;
  }

  // start reads the board, then follows the log until stop.
  async start(): Promise<void> {
    try {
      this.signer = await loadSigner(this);
    } catch {
      this.signer = null; // no IndexedDB here (a private window may refuse it): the member signs nothing
    }
    await this.read();
    if (this.state) this.lastSequence = this.state.loadedSequence;
    void this.verify();
    void this.follow();
  }

  stop(): void {
    this.abort.abort();
    this.listeners.clear();
  }

  // read reads the whole board again; calls made while a read is in flight
  // are folded into one more read after it.
  async read(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        try {
          this.state = await this.readOnce();
          this.loadError = "";
          // The benchmark's mark: the board's data has arrived (see Board).
          if (performance.getEntriesByName("parley:board-data").length === 0) performance.mark("parley:board-data");
        } catch (e) {
          if (this.abort.signal.aborted) return;
          this.loadError = refusal(e).message;
        }
        this.changed();
      } while (this.readAgain);
    } finally {
      this.reading = false;
    }
  }

  private async readOnce(): Promise<BoardState> {
    const { neg } = this.api;
    for (let attempt = 0; ; attempt++) {
      try {
        const points: Point[] = [];
        let negotiation: Negotiation | undefined;
        let sha = "";
        let pageToken = "";
        do {
          const page = await neg.getDocument({ negotiation: this.negotiationName, pageToken });
          negotiation = page.negotiation;
          sha = page.documentSha256;
          points.push(...page.points);
          pageToken = page.nextPageToken;
        } while (pageToken !== "");
        const pending: Amendment[] = [];
        do {
          const page = await neg.listAmendments({
            negotiation: this.negotiationName,
            states: [AmendmentState.OPEN, AmendmentState.PASSED],
            pageSize: 1000,
            pageToken,
          });
          pending.push(...page.amendments);
          pageToken = page.nextPageToken;
        } while (pageToken !== "");
        const stale = await this.staleSignOffs(points);
        const n = negotiation!;
        const delegations = n.participants.filter((p) => p.role === Role.DELEGATION);
        const names = new Map(n.participants.map((p) => [p.id, p.displayName || p.id]));
        return { me: this.me, negotiation: n, points, documentSha256: sha, pending, stale, delegations, names, loadedSequence: n.lastSequence };
      } catch (e) {
        // The document changed between two pages: read it again.
        if (isCode(e, Code.Aborted) && attempt < 5) continue;
        throw e;
      }
    }
  }

  // staleSignOffs reads the stale sign-offs of the points past their first
  // revision. Those of a point at a given revision never change, so each is
  // read once.
  private async staleSignOffs(points: Point[]): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    const todo = points.filter((p) => p.revision > 1n && !this.staleCache.has(`${p.name}@${p.revision}`));
    const workers = Array.from({ length: Math.min(8, todo.length) }, async () => {
      for (let p = todo.shift(); p; p = todo.shift()) {
        const full = (await this.api.neg.getPoint({ name: p.name })).point!;
        this.staleCache.set(`${p.name}@${full.revision}`, new Set(full.staleSignOffs.map((s) => s.participant)));
      }
    });
    await Promise.all(workers);
    for (const p of points) {
      const s = this.staleCache.get(`${p.name}@${p.revision}`);
      if (s && s.size > 0) out.set(p.name, s);
    }
    return out;
  }

  // follow keeps a WatchEvents stream open from the last sequence received,
  // and opens it again after a disconnect, showing "reconnecting" meanwhile.
  private async follow(): Promise<void> {
    const signal = this.abort.signal;
    let delay = 250;
    while (!signal.aborted) {
      try {
        const stream = this.api.neg.watchEvents(
          { negotiation: this.negotiationName, afterSequence: this.lastSequence },
          { signal },
        );
        if (this.link !== "live") {
          // The stream is being opened: catch up with what happened while
          // it was down, then say live.
          await this.api.neg.getCaller({}, { signal });
          this.link = "live";
          delay = 250;
          void this.read();
          this.changed();
        }
        for await (const res of stream) {
          const rec = res.event;
          if (!rec || rec.sequence <= this.lastSequence) continue;
          this.lastSequence = rec.sequence;
          this.recentEvents.push(rec);
          if (this.recentEvents.length > 200) this.recentEvents.splice(0, this.recentEvents.length - 200);
          void this.read();
          void this.verify();
        }
      } catch (e) {
        if (signal.aborted) return;
        if (isCode(e, Code.Unauthenticated) || isCode(e, Code.PermissionDenied)) {
          this.loadError = refusal(e).message;
        }
      }
      if (signal.aborted) return;
      this.link = "reconnecting";
      this.changed();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }

  // verify checks a fresh signed checkpoint against the pinned key and the
  // last checkpoint trusted; calls during a check fold into one more.
  async verify(): Promise<void> {
    if (this.verifying) {
      this.verifyAgain = true;
      return;
    }
    this.verifying = true;
    try {
      do {
        this.verifyAgain = false;
        try {
          this.verification = await verifyLog(this.api, this.negotiationName);
        } catch (e) {
          if (this.abort.signal.aborted) return;
          this.verification = { state: "unavailable", reason: refusal(e).message };
        }
        void this.checkConsents();
        this.changed();
      } while (this.verifyAgain);
    } finally {
      this.verifying = false;
    }
  }

  // The member's current key as the server lists it, if any.
  get registeredKey() {
    return this.state?.negotiation.signingKeys.find((k) => k.participant === this.me.id && k.member === this.member && k.endSequence === 0n);
  }

  // checkConsents reads the events not read yet and checks their signed
  // consent, each event once; calls during a check fold into one more. It
  // does nothing for a negotiation without keys or requirement, so a board
  // that does not sign reads no more than before.
  async checkConsents(): Promise<void> {
    const n = this.state?.negotiation;
    if (!n || (n.signingKeys.length === 0 && !n.signaturesRequired)) return;
    if (this.checkingConsents) {
      this.checkConsentsAgain = true;
      return;
    }
    this.checkingConsents = true;
    try {
      do {
        this.checkConsentsAgain = false;
        try {
          const v = this.consentVerifier;
          let pageToken = "";
          do {
            const before = v.size;
            const page = await this.api.neg.listEvents({ negotiation: this.negotiationName, afterSequence: BigInt(before), pageSize: 1000 }, { signal: this.abort.signal });
            for (const rec of page.events) await v.add({ sequence: rec.sequence, leaf: rec.leaf, event: fromBinary(EventSchema, rec.leaf) });
            // A page that added nothing (a gap the verifier reported) ends the read.
            pageToken = v.size > before ? page.nextPageToken : "";
          } while (pageToken !== "");
          this.consents = v.report();
          this.consentError = "";
        } catch (e) {
          if (this.abort.signal.aborted) return;
          this.consentError = e instanceof Error && !("code" in e) ? e.message : refusal(e).message;
        }
        this.changed();
      } while (this.checkConsentsAgain);
    } finally {
      this.checkingConsents = false;
    }
  }

  // consentOf is the check of the latest signed or unsigned consent matching.
  consentOf(statement: "vote" | "sign-off" | "acceptance", participant: string, subject?: string) {
    const checks = this.consents?.checks ?? [];
    for (let i = checks.length - 1; i >= 0; i--) {
      const c = checks[i];
      if (c.statement === statement && c.participant === participant && (subject === undefined || c.subject === subject)) return c;
    }
    return undefined;
  }

  signState(p: Point, delegation: string): SignState {
    if (p.signOffs.some((s) => s.participant === delegation)) return "signed";
    if (this.state?.stale.get(p.name)?.has(delegation)) return "stale";
    return "missing";
  }

  name(id: string): string {
    return this.state?.names.get(id) ?? id;
  }
}

// tabStorage is the tab's sessionStorage, or null where the browser refuses
// it (then a package draft lives as long as the page).
function tabStorage(): Storage | null {
  try {
    return sessionStorage;
  } catch {
    return null;
  }
}
