// A package deal being composed on the board: its parts, its rationale and
// the amendment it answers, kept in the tab's sessionStorage (as the token
// is) so that a reload keeps the draft and closing the tab or signing out
// forgets it. And the words a refusal of a package is explained in.
import { AmendmentKind } from "./gen/parley/v1/negotiation_pb.js";

// DraftPart is one change of the draft, as ProposeAmendment takes it, with
// the number its point had when the part was added (to name it if the
// point has gone since).
export type DraftPart = { kind: AmendmentKind; point: string; pointNumber: number; baseRevision: bigint; text: string };

// What sessionStorage offers; tests give a Map-backed one.
export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const prefix = "parley.package-draft.";

type Saved = {
  parts: { kind: number; point: string; pointNumber: number; baseRevision: string; text: string }[];
  rationale: string;
  counterTo: string;
};

export class PackageDraft {
  started = false;
  parts: DraftPart[] = [];
  rationale = "";
  counterTo = "";
  // The part to move the focus to once it is drawn (its index), or -1.
  focusPart = -1;
  private listeners = new Set<() => void>();

  // key names the draft: one per negotiation and participant, so that
  // another sign-in in the same tab never sees it.
  constructor(
    private readonly key: string,
    private readonly storage: KeyValue | null,
  ) {
    this.load();
  }

  static keyFor(negotiation: string, participant: string): string {
    return `${prefix}${negotiation}.${participant}`;
  }

  // forgetAll drops every draft of the tab (at sign-out).
  static forgetAll(storage: Storage): void {
    for (let i = storage.length - 1; i >= 0; i--) {
      const k = storage.key(i);
      if (k?.startsWith(prefix)) storage.removeItem(k);
    }
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start(): void {
    this.started = true;
    this.changed();
  }

  // add appends a part (starting the draft if need be) and returns its
  // number, 1-based, as the server counts parts.
  add(part: DraftPart): number {
    this.started = true;
    this.parts = [...this.parts, part];
    this.focusPart = this.parts.length - 1;
    this.changed();
    return this.parts.length;
  }

  remove(index: number): void {
    this.parts = this.parts.filter((_, i) => i !== index);
    this.focusPart = -1;
    this.changed();
  }

  setRationale(text: string): void {
    this.rationale = text;
    this.changed();
  }

  setCounterTo(name: string): void {
    this.counterTo = name;
    this.changed();
  }

  // discard forgets the draft (after it was proposed, or when given up).
  discard(): void {
    this.started = false;
    this.parts = [];
    this.rationale = "";
    this.counterTo = "";
    this.focusPart = -1;
    this.changed();
  }

  // points are the points the parts change or insert after.
  points(): Set<string> {
    return new Set(this.parts.map((p) => p.point).filter((p) => p !== ""));
  }

  private changed(): void {
    this.save();
    for (const fn of this.listeners) fn();
  }

  private save(): void {
    if (!this.storage) return;
    try {
      if (!this.started) {
        this.storage.removeItem(this.key);
        return;
      }
      const saved: Saved = {
        parts: this.parts.map((p) => ({ kind: p.kind, point: p.point, pointNumber: p.pointNumber, baseRevision: String(p.baseRevision), text: p.text })),
        rationale: this.rationale,
        counterTo: this.counterTo,
      };
      this.storage.setItem(this.key, JSON.stringify(saved));
    } catch {
      // Storage full or refused (a private window): the draft lives in
      // this page only.
    }
  }

  private load(): void {
    let raw: string | null = null;
    try {
      raw = this.storage?.getItem(this.key) ?? null;
    } catch {
      return;
    }
    if (raw === null) return;
    try {
      const s = JSON.parse(raw) as Saved;
      this.parts = s.parts.map((p) => ({ kind: p.kind as AmendmentKind, point: p.point, pointNumber: p.pointNumber, baseRevision: BigInt(p.baseRevision), text: p.text }));
      this.rationale = s.rationale ?? "";
      this.counterTo = s.counterTo ?? "";
      this.started = true;
    } catch {
      // A draft this version cannot read: start afresh rather than fail.
      this.storage?.removeItem(this.key);
    }
  }
}

// PackageRefusal explains a refused package in a negotiator's words: part
// is the part at fault, 1-based (0: the package as a whole), others the
// other parts it names.
export type PackageRefusal = { part: number; others: number[]; words: string };

// explainPackageRefusal turns the server's refusal of a package (its reason
// and its message, "part N: …" for a part's fault) into a sentence that says
// what is wrong and how to fix the draft. pointName names a part's point as
// the draft knows it. An empty `words` means the server's message says it
// best.
export function explainPackageRefusal(reason: string, message: string, pointName: (part: number) => string): PackageRefusal {
  const m = /^part (\d+): (.*)$/s.exec(message);
  const part = m ? Number(m[1]) : 0;
  const rest = m ? m[2] : message;
  const P = `Part ${part}`;
  switch (reason) {
    case "PACKAGE_DUPLICATE_POINT": {
      const same = /^part (\d+) changes point (\d+) already/.exec(rest);
      if (same) {
        const other = Number(same[1]);
        return { part, others: [other], words: `Parts ${other} and ${part} both change point ${same[2]}. A package deal changes each point once: remove one of the two parts, or write both changes into one.` };
      }
      const place = /^part (\d+) inserts at the same place/.exec(rest);
      if (place) {
        const other = Number(place[1]);
        return { part, others: [other], words: `Parts ${other} and ${part} both insert a new point at the same place. Remove one, or give both texts in one new point.` };
      }
      const gone = /^it inserts after point (\d+), which part (\d+) deletes/.exec(rest);
      if (gone) {
        const other = Number(gone[2]);
        return { part, others: [other], words: `${P} inserts a new point after point ${gone[1]}, which part ${other} deletes. Insert it after another point, or keep point ${gone[1]}.` };
      }
      return { part, others: [], words: "Two parts of this package touch the same point. A package deal changes each point once: remove one of them." };
    }
    case "PACKAGE_TOO_SMALL":
      return {
        part: 0,
        others: [],
        words: "A package deal trades at least two changes. Add another part from a point's page, or propose this one change on its own from its point's page.",
      };
    case "PACKAGE_TOO_LARGE":
      return { part: 0, others: [], words: "A package deal holds at most 32 parts. Remove some, or split the trade into two packages." };
    case "STALE_REVISION":
      return part
        ? { part, others: [], words: `${P} was drafted against a text of ${pointName(part)} that has changed since. Remove the part and draft it again against the current text, on the point's page.` }
        : { part, others: [], words: "A point changed while the package was being proposed. Check each part against the current text and propose again." };
    case "POINT_DELETED":
      return { part, others: [], words: `${part ? P : "A part"} changes ${part ? pointName(part) : "a point"}, which has been deleted since. Remove the part.` };
    case "POINT_NOT_FOUND":
    case "REVISION_UNKNOWN":
      return { part, others: [], words: `${part ? P : "A part"} names a point or revision this negotiation does not have. Remove the part and draft it again on the point's page.` };
    case "TEXT_EMPTY":
      return { part, others: [], words: `${part ? P : "A part"} has no text. Remove it and draft it again with its text, or make it a deletion.` };
    case "TEXT_UNCHANGED":
      return { part, others: [], words: `${part ? P : "A part"} leaves ${part ? pointName(part) : "its point"} as it reads now. Remove it, or draft it again with the change.` };
    case "TEXT_TOO_LONG":
      return { part, others: [], words: `${part ? P : "A part"}'s text is longer than a point may be. Remove it and draft a shorter text.` };
    case "LAST_POINT":
      return { part: 0, others: [], words: "The package would delete every point of the document; at least one must remain." };
    case "TOO_MANY_POINTS":
      return { part: 0, others: [], words: "The package would make the document longer than it may be. Remove some insertions." };
    case "COUNTER_TARGET_NOT_FOUND":
    case "COUNTER_TARGET_NOT_PENDING":
    case "COUNTER_POINT_MISMATCH":
    case "COUNTER_OTHER_NEGOTIATION":
      return {
        part: 0,
        others: [],
        words: "The amendment chosen under “In answer to” cannot be answered by this package: it must still be open or passed and change one of the package's points in the same way. Choose another, or none.",
      };
    default:
      return { part, others: [], words: "" };
  }
}
