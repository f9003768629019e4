// The board: the points × delegations matrix, the pending amendments, what
// still blocks conclusion, and the delegation's sign-offs and acceptance:
// the facts `parley status` prints.
import { useEffect, useState } from "preact/hooks";
import { newRequestId } from "./api.js";
import { AmendmentState, NegotiationState, PointStatus, type Point } from "./gen/parley/v1/negotiation_pb.js";
import { describeAmendment, firstLine, numberRanges, plural, shortId, timeText } from "./format.js";
import { bracketLabel } from "./discussion.js";
import type { Store } from "./store.js";
import { AmendmentCard } from "./amendment.js";
import { Action, Section } from "./ui.js";
import { acceptanceConsent, signOffConsent } from "./signing.js";
import { ConsentMark, KeyPanel } from "./keys.js";
import { PackagePanel } from "./package.js";

const marks = { signed: "✓", stale: "~", missing: "·" } as const;
const words = { signed: "signed off", stale: "stale: signed an earlier revision", missing: "not yet" } as const;

export function pointHref(p: Point): string {
  return `#/points/${p.id}`;
}

// checkpointNote is the checkpoint this browser verified, sent with a
// sign-off or acceptance so that the statement names the history it saw.
export function checkpointNote(store: Store): string {
  return store.verification.state === "verified" ? store.verification.checkpoint.note : "";
}

export function Board({ store }: { store: Store }) {
  const st = store.state!;
  // A mark for the first render, which the benchmark of docs/performance.md
  // reads: milliseconds since the navigation started.
  useEffect(() => {
    if (performance.getEntriesByName("parley:board-rendered").length === 0) performance.mark("parley:board-rendered");
  }, []);
  const n = st.negotiation;
  const concluded = n.state === NegotiationState.CONCLUDED;
  const agreed = st.points.filter((p) => p.status === PointStatus.AGREED).length;
  const accepted = n.acceptances.filter((a) => a.current).map((a) => a.participant);
  const passed = st.pending.filter((a) => a.state === AmendmentState.PASSED);
  const open = st.pending.filter((a) => a.state === AmendmentState.OPEN);
  return (
    <>
      <p class="summary" data-test="summary">
        {plural(st.points.length, "point", "points")}, {agreed} agreed · {plural(st.pending.length, "amendment", "amendments")} pending · accepted by {accepted.length} of{" "}
        {st.delegations.length} delegations · last event {String(n.lastSequence)}
      </p>
      {concluded && (
        <p class="concluded" role="status" data-test="concluded">
          CONCLUDED {timeText(n.concludeTime)}: every delegation accepted this text, which is now frozen. Document SHA-256 <code>{st.documentSha256}</code>
        </p>
      )}
      {n.state === NegotiationState.SUSPENDED && (
        <p class="suspended" role="status" data-test="suspended">
          SUSPENDED: nothing is proposed, voted, signed off or accepted, and voting deadlines wait, until the negotiation resumes.
        </p>
      )}
      {n.state === NegotiationState.ABANDONED && (
        <p class="suspended" role="status" data-test="abandoned">
          ABANDONED: the negotiation ended without agreement; it takes no more changes.
        </p>
      )}
      {store.isDelegation && !concluded && <DelegationActions store={store} />}
      {store.isMediator && !concluded && (
        <Section title="Mediator's queue" id="queue" test="queue">
          {passed.length === 0 && open.length === 0 && <p class="muted">Nothing to apply, reject or close.</p>}
          {passed.length > 0 && <h3 class="sub">Passed: to apply or reject</h3>}
          {passed.map((a) => (
            <AmendmentCard key={a.name} store={store} amendment={a} />
          ))}
          {open.length > 0 && <h3 class="sub">Open for voting: close a vote that no longer moves</h3>}
          {open.map((a) => (
            <AmendmentCard key={a.name} store={store} amendment={a} />
          ))}
        </Section>
      )}
      {!store.isMediator && (
        <Section title={`Pending amendments (${st.pending.length})`} id="pending" test="pending">
          {st.pending.length === 0 && <p class="muted">No amendment is open for voting or waiting for the mediator.</p>}
          {st.pending.map((a) => (
            <AmendmentCard key={a.name} store={store} amendment={a} />
          ))}
        </Section>
      )}
      {(store.isDelegation || store.isMediator) && !concluded && <PackagePanel store={store} offerStart={true} />}
      <Matrix store={store} />
      {!concluded && <Blocking store={store} />}
    </>
  );
}

function Matrix({ store }: { store: Store }) {
  const st = store.state!;
  return (
    <section class="panel matrix-panel" aria-labelledby="matrix-title">
      <h2 id="matrix-title">Sign-offs</h2>
      <p class="legend" id="matrix-legend">
        <span class="cell-signed">✓ signed off the current revision</span> <span class="cell-stale">~ stale: signed an earlier revision only</span>{" "}
        <span class="cell-missing">· not yet</span>
      </p>
      <div class="scroll">
        <table class="matrix" data-test="matrix" aria-describedby="matrix-legend">
          <caption class="sr-only">Points by delegation: who signed off which point</caption>
          <thead>
            <tr>
              <th scope="col">Point</th>
              <th scope="col">Rev.</th>
              {st.delegations.map((d) => (
                <th scope="col" key={d.id}>
                  {d.displayName || d.id}
                </th>
              ))}
              <th scope="col">Pending</th>
              <th scope="col" class="text-col">
                Text
              </th>
            </tr>
          </thead>
          <tbody>
            {st.points.map((p) => (
              <tr key={p.name} class={p.status === PointStatus.AGREED ? "agreed" : ""} data-test={`row-${p.number}`}>
                <th scope="row">
                  <a href={pointHref(p)} aria-label={`Point ${p.number}`}>
                    {p.number}
                  </a>
                </th>
                <td class="num">{String(p.revision)}</td>
                {st.delegations.map((d) => {
                  const s = store.signState(p, d.id);
                  return (
                    <td key={d.id} class={`cell cell-${s}`} data-test={`cell-${p.number}-${d.id}`} data-state={s}>
                      <span aria-hidden="true">{marks[s]}</span>
                      <span class="sr-only">{words[s]}</span>
                    </td>
                  );
                })}
                <td class="num">{p.pendingAmendmentCount > 0 ? p.pendingAmendmentCount : ""}</td>
                <td class="text-col">
                  {firstLine(p.text, 90)}
                  {p.alternatives.length > 0 && (
                    <span class="bracket-hint" data-test={`brackets-${p.number}`}>
                      {" "}
                      [current | {p.alternatives.map((_, i) => bracketLabel(i)).join(" | ")}]
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Blocking({ store }: { store: Store }) {
  const st = store.state!;
  const agreed = st.points.filter((p) => p.status === PointStatus.AGREED).length;
  const acceptedNow = new Set(st.negotiation.acceptances.filter((a) => a.current).map((a) => a.participant));
  const acceptedEarlier = st.negotiation.acceptances.filter((a) => !a.current).map((a) => a.participant);
  const rows = st.delegations
    .map((d) => {
      const missing: number[] = [];
      const stale: number[] = [];
      for (const p of st.points) {
        const s = store.signState(p, d.id);
        if (s !== "signed") missing.push(p.number);
        if (s === "stale") stale.push(p.number);
      }
      return { d, missing, stale };
    })
    .filter((r) => r.missing.length > 0);
  const waitingAcceptance = st.delegations.filter((d) => !acceptedNow.has(d.id)).map((d) => d.displayName || d.id);
  const blocked = agreed < st.points.length || st.pending.length > 0;
  return (
    <Section title="What still blocks conclusion" id="blocking" test="blocking">
      <ul class="blocking">
        {agreed < st.points.length && (
          <li>
            Sign-offs missing ({st.points.length - agreed} of {st.points.length} points not agreed):
            <ul>
              {rows.map((r) => (
                <li key={r.d.id} data-test={`missing-${r.d.id}`}>
                  <strong>{r.d.displayName || r.d.id}</strong>: {plural(r.missing.length, "point", "points")} ({numberRanges(r.missing)})
                  {r.stale.length > 0 && <span class="stale-note"> — stale: {numberRanges(r.stale)}</span>}
                </li>
              ))}
            </ul>
          </li>
        )}
        {st.pending.length > 0 && (
          <li>
            Amendments pending ({st.pending.length}):
            <ul>
              {st.pending.map((a) => {
                const voted = new Set(a.votes.map((v) => v.participant));
                const waiting = st.delegations.filter((d) => !voted.has(d.id)).map((d) => d.displayName || d.id);
                return (
                  <li key={a.name}>
                    <code>{shortId(a.name)}</code> {describeAmendment(a)} by {store.name(a.proposer)}:{" "}
                    {a.state === AmendmentState.OPEN ? `open, waiting for ${waiting.join(", ")}` : "passed, to apply or reject (mediator)"}
                  </li>
                );
              })}
            </ul>
          </li>
        )}
        <li data-test="acceptance-status">
          {blocked && acceptedNow.size === 0
            ? "Acceptance: none yet; possible once every point is agreed and no amendment is pending."
            : blocked
              ? `Acceptance: ${[...acceptedNow].map((id) => store.name(id)).join(", ")} accepted this text; still to accept: ${waitingAcceptance.join(", ")}.`
              : `Only acceptances remain: every point is agreed and no amendment is pending; still to accept: ${waitingAcceptance.join(", ")}.`}
        </li>
        {acceptedEarlier.length > 0 && <li>Accepted an earlier text, to accept again: {acceptedEarlier.map((id) => store.name(id)).join(", ")}.</li>}
      </ul>
    </Section>
  );
}

// DelegationActions signs off every point not yet signed at the revision on
// screen, and accepts the document at the hash on screen: what the
// delegation saw is what it agrees to.
function DelegationActions({ store }: { store: Store }) {
  const st = store.state!;
  const [progress, setProgress] = useState("");
  const me = store.me.id;
  const toSign = st.points.filter((p) => store.signState(p, me) !== "signed");
  const acceptance = st.negotiation.acceptances.find((a) => a.participant === me);
  // One call and one commit: every point is signed off at the revision and
  // hash on screen, or none is (the server names the point that changed).
  const signAll = async () => {
    const points = toSign.slice();
    setProgress(`Signing off ${plural(points.length, "point", "points")}…`);
    const res = await store.api.neg.signOffPoints({
      requestId: newRequestId(),
      negotiation: store.negotiationName,
      // One signature a point, each over the same verified checkpoint.
      items: await Promise.all(points.map(async (p) => ({ point: p.name, revision: p.revision, textSha256: p.textSha256, consent: await signOffConsent(store, p.name, p.revision, p.textSha256) }))),
      checkpoint: checkpointNote(store),
    });
    setProgress(`Signed off ${plural(res.signedOffCount, "point", "points")}.`);
  };
  return (
    <Section title={`Your delegation: ${store.name(me)}`} id="mine" test="mine">
      <KeyPanel store={store} />
      <div class="row">
        <div>
          <p>
            {toSign.length === 0 ? "You have signed off every point at its current revision." : `${plural(toSign.length, "point", "points")} to sign off: ${numberRanges(toSign.map((p) => p.number))}.`}
          </p>
          <Action label={`Sign off all ${toSign.length} points as shown`} kind="primary" disabled={toSign.length === 0} run={signAll} onDone={() => void store.read()} test="sign-off-all" />
          <p class="muted" role="status">
            {progress}
          </p>
        </div>
        <div>
          <p>
            Accept the whole document as it stands, SHA-256 <code class="hash" data-test="document-hash">{st.documentSha256}</code>
          </p>
          {acceptance && (
            <p data-test="my-acceptance">
              {acceptance.current ? "You accepted this text" : "You accepted an earlier text"} ({timeText(acceptance.acceptTime)}).{" "}
              <ConsentMark check={store.consentOf("acceptance", me)} />
            </p>
          )}
          <Action
            label="Accept the document"
            kind="primary"
            run={async () =>
              store.api.neg.acceptDocument({
                requestId: newRequestId(),
                negotiation: store.negotiationName,
                documentSha256: st.documentSha256,
                checkpoint: checkpointNote(store),
                consent: await acceptanceConsent(store, st.documentSha256),
              })
            }
            onDone={() => void store.read()}
            test="accept"
          />
          {acceptance && (
            <Action
              label="Withdraw the acceptance"
              run={() => store.api.neg.withdrawAcceptance({ requestId: newRequestId(), negotiation: store.negotiationName })}
              onDone={() => void store.read()}
              test="withdraw-acceptance"
            />
          )}
        </div>
      </div>
    </Section>
  );
}
