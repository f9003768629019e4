// A point: its text, the redline between any two revisions, its history, its
// amendments with every vote, and what the delegation may do with it: sign
// off the revision shown, or propose a change after seeing its redline.
import { useEffect, useState } from "preact/hooks";
import { newRequestId, refusal, type Refusal } from "./api.js";
import { AmendmentKind, NegotiationState, PointStatus, type Amendment, type Point } from "./gen/parley/v1/negotiation_pb.js";
import type { RedlineChange } from "./gen/parley/v1/redline_pb.js";
import { shortId, timeText } from "./format.js";
import type { Store } from "./store.js";
import { AmendmentCard } from "./amendment.js";
import { checkpointNote } from "./board.js";
import { Action, Redline, RefusalNote, Section } from "./ui.js";
import { Brackets, Discussion, bracketLabel } from "./discussion.js";
import { signOffConsent } from "./signing.js";
import { ConsentMark } from "./keys.js";
import { PackagePanel, usePackageDraft } from "./package.js";

export function PointPage({ store, pointId }: { store: Store; pointId: string }) {
  const name = `${store.negotiationName}/points/${pointId}`;
  const [point, setPoint] = useState<Point | null>(null);
  const [amendments, setAmendments] = useState<Amendment[]>([]);
  const [err, setErr] = useState<Refusal | null>(null);
  const seq = store.state?.loadedSequence ?? 0n;
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const p = (await store.api.neg.getPoint({ name })).point!;
        const list: Amendment[] = [];
        let pageToken = "";
        do {
          const page = await store.api.neg.listAmendments({ negotiation: store.negotiationName, point: name, pageSize: 1000, pageToken });
          list.push(...page.amendments);
          pageToken = page.nextPageToken;
        } while (pageToken !== "");
        if (live) {
          setPoint(p);
          setAmendments(list.reverse());
          setErr(null);
        }
      } catch (e) {
        if (live) setErr(refusal(e));
      }
    })();
    return () => {
      live = false;
    };
  }, [name, seq]);

  if (err) return <RefusalNote refusal={err} />;
  if (!point) return <p class="muted">Loading the point…</p>;
  const st = store.state!;
  const concluded = st.negotiation.state === NegotiationState.CONCLUDED;
  const deleted = point.status === PointStatus.DELETED;
  const mine = point.signOffs.find((s) => s.participant === store.me.id);
  return (
    <>
      <p>
        <a href="#/">← Back to the board</a>
      </p>
      <section class="panel" aria-labelledby="point-title" data-test="point">
        <h2 id="point-title">
          {deleted ? "Deleted point" : `Point ${point.number}`} <span class="muted">· revision {String(point.revision)}</span>{" "}
          <span class={`badge badge-${PointStatus[point.status].toLowerCase()}`}>{PointStatus[point.status]}</span>
        </h2>
        <div class="point-text" data-test="point-text">
          {point.text}
        </div>
        <p class="meta">
          Text SHA-256 <code class="hash">{point.textSha256}</code>
        </p>
        <table class="votes">
          <caption>Sign-offs of this point</caption>
          <tbody>
            {st.delegations.map((d) => {
              const cur = point.signOffs.find((s) => s.participant === d.id);
              const old = point.staleSignOffs.filter((s) => s.participant === d.id).pop();
              return (
                <tr key={d.id} data-test={`signoff-${d.id}`}>
                  <th scope="row">{d.displayName || d.id}</th>
                  <td class={cur ? "cell-signed" : old ? "cell-stale" : "cell-missing"}>
                    {cur ? `✓ signed off revision ${cur.revision} (${timeText(cur.signTime)})` : old ? `~ stale: signed revision ${old.revision}, not the current one` : "· not yet"}
                    {cur && <ConsentMark check={store.consentOf("sign-off", d.id, `${point.id}@${cur.revision}`)} />}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {store.isDelegation && !concluded && !deleted && (
          <div class="actions">
            <Action
              label={`Sign off point ${point.number} at revision ${point.revision}`}
              kind="primary"
              disabled={!!mine}
              run={async () =>
                store.api.neg.signOffPoint({
                  requestId: newRequestId(),
                  point: point.name,
                  revision: point.revision,
                  textSha256: point.textSha256,
                  checkpoint: checkpointNote(store),
                  consent: await signOffConsent(store, point.name, point.revision, point.textSha256),
                })
              }
              onDone={() => void store.read()}
              test="sign-off"
            />
            {mine && (
              <Action label="Revoke my sign-off" run={() => store.api.neg.revokeSignOff({ requestId: newRequestId(), point: point.name })} onDone={() => void store.read()} test="revoke" />
            )}
          </div>
        )}
      </section>
      <Brackets store={store} point={point} />
      {point.revision > 1n && <RevisionRedline store={store} point={point} />}
      <Section title="History" id="history">
        <ol class="history">
          {point.revisions.map((r) => (
            <li key={String(r.revision)}>
              Revision {String(r.revision)} · {timeText(r.createTime)} · event {String(r.sequence)} · {r.amendment ? <>amendment <code>{shortId(r.amendment)}</code></> : "the original text"}
            </li>
          ))}
        </ol>
      </Section>
      {(store.isDelegation || store.isMediator) && !concluded && !deleted && <ProposeForm store={store} point={point} />}
      {(store.isDelegation || store.isMediator) && !concluded && <PackagePanel store={store} offerStart={false} />}
      <Section title={`Amendments of this point (${amendments.length})`} id="point-amendments">
        {amendments.length === 0 && <p class="muted">None yet.</p>}
        {amendments.map((a) => (
          <AmendmentCard key={a.name} store={store} amendment={a} />
        ))}
      </Section>
      <Discussion store={store} subject={{ point: point.name }} title={deleted ? "Discussion of this point" : `Discussion of point ${point.number}`} test="point-discussion" />
    </>
  );
}

function RevisionRedline({ store, point }: { store: Store; point: Point }) {
  const last = Number(point.revision);
  const [from, setFrom] = useState(1);
  const [to, setTo] = useState(last);
  const [change, setChange] = useState<RedlineChange | null>(null);
  const [err, setErr] = useState<Refusal | null>(null);
  useEffect(() => setTo(last), [last]);
  useEffect(() => {
    let live = true;
    store.api.neg
      .getRedline({ subject: { case: "revisions", value: { point: point.name, fromRevision: BigInt(from), toRevision: BigInt(to) } } })
      .then(
        (r) => live && (setChange(r.changes[0] ?? null), setErr(null)),
        (e) => live && setErr(refusal(e)),
      );
    return () => {
      live = false;
    };
  }, [point.name, from, to]);
  const revs = Array.from({ length: last }, (_, i) => i + 1);
  const label = (r: number) => (r === 1 ? "1 (original)" : r === last ? `${r} (current)` : String(r));
  return (
    <Section title="Redline" id="redline" test="revision-redline">
      <div class="row">
        <label>
          From revision{" "}
          <select value={from} onChange={(e) => setFrom(Number((e.target as HTMLSelectElement).value))} data-test="redline-from">
            {revs.map((r) => (
              <option value={r} key={r}>
                {label(r)}
              </option>
            ))}
          </select>
        </label>
        <label>
          to revision{" "}
          <select value={to} onChange={(e) => setTo(Number((e.target as HTMLSelectElement).value))} data-test="redline-to">
            {revs.map((r) => (
              <option value={r} key={r}>
                {label(r)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <RefusalNote refusal={err} />
      {change && <Redline change={change} />}
    </Section>
  );
}

// ProposeForm drafts an amendment and shows the server's redline of it before
// it can be sent; changing the draft hides the redline again.
function ProposeForm({ store, point }: { store: Store; point: Point }) {
  type Choice = "replace" | "insert" | "insert-start" | "delete";
  const [choice, setChoice] = useState<Choice>("replace");
  const [text, setText] = useState(point.text);
  const [rationale, setRationale] = useState("");
  const [preview, setPreview] = useState<RedlineChange | null>(null);
  const [sent, setSent] = useState("");
  const [counterTo, setCounterTo] = useState("");
  const packageDraft = store.draft;
  usePackageDraft(packageDraft);
  useEffect(() => {
    setText(point.text);
    setPreview(null);
  }, [point.name, point.revision]);
  const kind = { replace: AmendmentKind.REPLACE, insert: AmendmentKind.INSERT, "insert-start": AmendmentKind.INSERT, delete: AmendmentKind.DELETE }[choice];
  const draft = {
    negotiation: store.negotiationName,
    kind,
    // An INSERT at the start names no point.
    point: choice === "insert-start" ? "" : point.name,
    baseRevision: kind === AmendmentKind.INSERT ? 0n : point.revision,
    text: kind === AmendmentKind.DELETE ? "" : text,
  };
  const change = (f: () => void) => {
    f();
    setPreview(null);
    setSent("");
  };
  const choices: [Choice, string][] = [
    ["replace", `Replace the text of point ${point.number}`],
    ["insert", `Insert a new point after point ${point.number}`],
    ...(point.number === 1 ? [["insert-start", "Insert a new point at the start, before point 1"] as [Choice, string]] : []),
    ["delete", `Delete point ${point.number}`],
  ];
  return (
    <Section title="Propose an amendment" id="propose" test="propose">
      <fieldset>
        <legend>What the amendment does</legend>
        {choices.map(([c, label]) => (
          <label class="radio" key={c}>
            <input
              type="radio"
              name="kind"
              checked={choice === c}
              onChange={() =>
                change(() => {
                  setChoice(c);
                  setText(c === "insert" || c === "insert-start" ? "" : point.text);
                })
              }
              data-test={`kind-${c}`}
            />{" "}
            {label}
          </label>
        ))}
      </fieldset>
      {kind !== AmendmentKind.DELETE && (
        <>
          <label for="propose-text">{kind === AmendmentKind.INSERT ? "Text of the new point" : "New text"}</label>
          <textarea id="propose-text" rows={6} value={text} onInput={(e) => change(() => setText((e.target as HTMLTextAreaElement).value))} data-test="propose-text" />
        </>
      )}
      {kind !== AmendmentKind.INSERT && point.alternatives.length > 0 && (
        <>
          <label for="propose-counter">In answer to</label>
          <select id="propose-counter" value={counterTo} onChange={(e) => setCounterTo((e.target as HTMLSelectElement).value)} data-test="propose-counter">
            <option value="">no other amendment</option>
            {point.alternatives.map((a, i) => (
              <option value={a.amendment} key={a.amendment}>
                {bracketLabel(i)}: {store.name(a.proposer)}'s {shortId(a.amendment)} (a counter-proposal)
              </option>
            ))}
          </select>
        </>
      )}
      <label for="propose-rationale">Rationale</label>
      <textarea id="propose-rationale" rows={3} value={rationale} onInput={(e) => setRationale((e.target as HTMLTextAreaElement).value)} data-test="propose-rationale" />
      <div class="actions">
        <Action label="Show the redline" run={async () => setPreview((await store.api.neg.getRedline({ subject: { case: "proposal", value: draft } })).changes[0] ?? null)} test="preview" />
        <button
          type="button"
          class="btn btn-plain"
          onClick={() => {
            const n = packageDraft.add({ kind: draft.kind, point: draft.point, pointNumber: point.number, baseRevision: draft.baseRevision, text: draft.text });
            setSent(`Added as part ${n} of your package deal draft, below.`);
            setPreview(null);
          }}
          data-test="package-add"
        >
          {packageDraft.started ? `Add to the package deal (as part ${packageDraft.parts.length + 1})` : "Start a package deal with this change"}
        </button>
      </div>
      {preview && (
        <div class="preview" data-test="preview-redline">
          <h3 class="sub">The redline of your proposal</h3>
          <Redline change={preview} />
          <Action
            label="Send this amendment"
            kind="primary"
            run={async () => {
              const res = await store.api.neg.proposeAmendment({ requestId: newRequestId(), ...draft, rationale, counterTo: kind === AmendmentKind.INSERT ? "" : counterTo });
              setSent(`Proposed amendment ${shortId(res.amendment!.name)}; voting is open.`);
              setPreview(null);
              setRationale("");
            }}
            onDone={() => void store.read()}
            test="propose-send"
          />
        </div>
      )}
      <p role="status" data-test="propose-status">
        {sent}
      </p>
    </Section>
  );
}
