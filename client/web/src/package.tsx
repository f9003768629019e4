// Composing a package deal: the draft's parts, each with the server's
// redline of it, removed one by one; a rationale and the amendment it
// answers; and one call that proposes it all. A refusal is explained next to
// the draft, in words, and the draft is kept so that it can be fixed.
import { useEffect, useRef, useState } from "preact/hooks";
import { newRequestId, refusal, type Refusal } from "./api.js";
import { AmendmentKind, type Amendment } from "./gen/parley/v1/negotiation_pb.js";
import type { RedlineChange } from "./gen/parley/v1/redline_pb.js";
import { describeAmendment, describePart, lastSegment, plural, shortId } from "./format.js";
import { explainPackageRefusal, type DraftPart, type PackageDraft } from "./packagedraft.js";
import type { Store } from "./store.js";
import { Redline, Section } from "./ui.js";

export function usePackageDraft(draft: PackageDraft): void {
  const [, setTick] = useState(0);
  useEffect(() => draft.subscribe(() => setTick((t) => t + 1)), [draft]);
}

// partNumberNow is the number the part's point has now (0 once it is gone).
function partNumberNow(store: Store, part: DraftPart): number {
  if (part.point === "") return 0;
  return store.state?.points.find((p) => p.name === part.point)?.number ?? 0;
}

function partWords(store: Store, part: DraftPart): string {
  return describePart({ kind: part.kind, point: part.point, pointNumber: partNumberNow(store, part) });
}

// counterChoices are the pending amendments the package may answer: those
// that change a point one of its parts changes or inserts after.
function counterChoices(store: Store, draft: PackageDraft): Amendment[] {
  const points = draft.points();
  return (store.state?.pending ?? []).filter((a) => points.has(a.point) || a.parts.some((p) => points.has(p.point)));
}

// PackagePanel is the draft of a package deal. With no draft, it offers to
// start one where `offerStart` (the board); elsewhere it shows nothing.
export function PackagePanel({ store, offerStart }: { store: Store; offerStart: boolean }) {
  const draft = store.draft;
  usePackageDraft(draft);
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<Refusal | null>(null);
  const [sent, setSent] = useState("");
  const listRef = useRef<HTMLOListElement>(null);
  const rationaleRef = useRef<HTMLTextAreaElement>(null);

  // After a part is added or removed, the focus goes to the part the
  // keyboard user wants next: the new one, or the one after the removed one.
  useEffect(() => {
    if (draft.focusPart < 0) return;
    const el = listRef.current?.querySelector<HTMLElement>(`#package-part-${draft.focusPart + 1}`);
    draft.focusPart = -1;
    (el ?? rationaleRef.current)?.focus();
  });

  if (!draft.started) {
    if (!offerStart && !sent) return null;
    return (
      <Section title="Package deal" id="package" test="package">
        <p role="status" data-test="package-status">
          {sent}
        </p>
        {offerStart && (
          <>
            <p class="muted">
              Trade changes on several points in one amendment: the delegations vote on it once and the mediator applies all of its parts together, or none.
            </p>
            <button type="button" class="btn btn-plain" onClick={() => (setSent(""), draft.start(), (draft.focusPart = 0))} data-test="package-start">
              Start a package deal
            </button>
          </>
        )}
      </Section>
    );
  }

  const choices = counterChoices(store, draft);
  const counterTo = choices.some((a) => a.name === draft.counterTo) ? draft.counterTo : "";
  const why = refused && explainPackageRefusal(refused.reason, refused.message, (n) => {
    const p = draft.parts[n - 1];
    return p ? `point ${partNumberNow(store, p) || p.pointNumber}` : "its point";
  });
  const faulty = new Set(why ? [why.part, ...why.others].filter((n) => n > 0) : []);

  const propose = async () => {
    setBusy(true);
    setRefused(null);
    setSent("");
    try {
      const res = await store.api.neg.proposeAmendment({
        requestId: newRequestId(),
        negotiation: store.negotiationName,
        parts: draft.parts.map((p) => ({ kind: p.kind, point: p.point, baseRevision: p.baseRevision, text: p.text })),
        rationale: draft.rationale,
        counterTo,
      });
      setSent(`Proposed package deal ${shortId(res.amendment!.name)} of ${plural(draft.parts.length, "part", "parts")}; voting is open.`);
      draft.discard();
      void store.read();
    } catch (e) {
      setRefused(refusal(e));
    } finally {
      setBusy(false);
    }
  };
  const remove = (i: number) => {
    setRefused(null);
    draft.remove(i);
    draft.focusPart = Math.max(0, Math.min(i, draft.parts.length - 1)); // none left: the rationale
  };

  return (
    <Section title={`Package deal draft (${plural(draft.parts.length, "part", "parts")})`} id="package" test="package-draft">
      <p class="muted">
        Add a change from each point's page with <em>Add to the package deal</em>. The parts are proposed together as one amendment: voted once, applied together or not at all.
      </p>
      {why && (
        <div class="refusal" role="alert" data-test="package-refusal">
          <p>
            <strong>Not proposed.</strong> {why.words || refused!.message}
          </p>
          <p>
            The server said: {refused!.message}
            {refused!.reason && <code class="reason">{refused!.reason}</code>}
          </p>
          <p>Your draft is kept: fix it and propose again.</p>
        </div>
      )}
      {draft.parts.length === 0 ? (
        <p class="muted" data-test="package-empty">
          No part yet: open a point and add a change to the package.
        </p>
      ) : (
        <ol class="package-parts" ref={listRef} aria-label="Parts of the package deal">
          {draft.parts.map((part, i) => (
            <li key={i} id={`package-part-${i + 1}`} tabIndex={-1} class={faulty.has(i + 1) ? "part-fault" : ""} data-test={`draft-part-${i + 1}`}>
              <span class="label">
                Part {i + 1}: {partWords(store, part)}
                {part.baseRevision > 0n ? ` (against revision ${String(part.baseRevision)})` : ""}
              </span>
              {faulty.has(i + 1) && (
                <strong class="part-fault-note" data-test="part-fault">
                  {" "}
                  — to fix
                </strong>
              )}{" "}
              {part.point !== "" && partNumberNow(store, part) > 0 && <a href={`#/points/${lastSegment(part.point)}`}>Open point {partNumberNow(store, part)}</a>}
              <StaleNote store={store} part={part} />
              <PartRedline store={store} part={part} />
              <button type="button" class="btn btn-plain" onClick={() => remove(i)} data-test="draft-remove">
                Remove part {i + 1}
              </button>
            </li>
          ))}
        </ol>
      )}
      {draft.parts.length === 1 && <p class="muted">Add at least one more part: a package deal trades two changes or more.</p>}
      <label for="package-rationale">Rationale of the package deal</label>
      <textarea id="package-rationale" ref={rationaleRef} rows={3} value={draft.rationale} onInput={(e) => draft.setRationale((e.target as HTMLTextAreaElement).value)} data-test="package-rationale" />
      {choices.length > 0 && (
        <>
          <label for="package-counter">In answer to</label>
          <select id="package-counter" value={counterTo} onChange={(e) => draft.setCounterTo((e.target as HTMLSelectElement).value)} data-test="package-counter">
            <option value="">no other amendment</option>
            {choices.map((a) => (
              <option value={a.name} key={a.name}>
                {store.name(a.proposer)}'s {shortId(a.name)}: {describeAmendment(a)} (a counter-proposal)
              </option>
            ))}
          </select>
        </>
      )}
      <div class="actions">
        <button type="button" class="btn btn-primary" disabled={busy || draft.parts.length === 0} aria-busy={busy} onClick={propose} data-test="package-propose">
          Propose this package deal
        </button>
        <button
          type="button"
          class="btn btn-danger"
          onClick={() => {
            setRefused(null);
            draft.discard();
          }}
          data-test="package-discard"
        >
          Discard the draft
        </button>
      </div>
      <p role="status" data-test="package-status">
        {sent}
      </p>
    </Section>
  );
}

// StaleNote says that a part's point has changed, or was deleted, since the
// part was drafted: the server would refuse the package (STALE_REVISION,
// POINT_DELETED), and the part's redline below is against the text it was
// drafted on.
function StaleNote({ store, part }: { store: Store; part: DraftPart }) {
  if (part.point === "" || !store.state) return null;
  const now = store.state.points.find((p) => p.name === part.point);
  if (!now)
    return (
      <p class="refusal" data-test="part-stale">
        Point {part.pointNumber} has been deleted since this part was drafted. Remove the part.
      </p>
    );
  if (part.kind === AmendmentKind.INSERT || now.revision <= part.baseRevision) return null;
  return (
    <p class="refusal" data-test="part-stale">
      Point {now.number} has changed since this part was drafted: it is at revision {String(now.revision)} now. Remove the part and draft it again against the current text.
    </p>
  );
}

// PartRedline shows a part as the server reads it: GetRedline of the draft
// against the revision it was drafted on, its text and point checked as
// ProposeAmendment checks them. That redline never changes, so it is read
// once per part.
function PartRedline({ store, part }: { store: Store; part: DraftPart }) {
  const [change, setChange] = useState<RedlineChange | null>(null);
  const [err, setErr] = useState<Refusal | null>(null);
  useEffect(() => {
    let live = true;
    store.api.neg
      .getRedline({ subject: { case: "proposal", value: { negotiation: store.negotiationName, kind: part.kind, point: part.point, baseRevision: part.baseRevision, text: part.text } } })
      .then(
        (r) => live && (setChange(r.changes[0] ?? null), setErr(null)),
        (e) => live && (setChange(null), setErr(refusal(e))),
      );
    return () => {
      live = false;
    };
  }, [part]);
  if (err)
    return (
      <p class="refusal" data-test="part-problem">
        This part cannot be proposed as it stands: {err.message}
        {err.reason && <code class="reason">{err.reason}</code>}
      </p>
    );
  if (!change) return <p class="muted">Loading the redline…</p>;
  return <Redline change={change} test="draft-part-redline" />;
}
