// One amendment: what it does, its redline, its votes with their reasons,
// and what the signed-in participant may do with it.
import { useEffect, useState } from "preact/hooks";
import { newRequestId, refusal } from "./api.js";
import { AmendmentKind, AmendmentState, VoteChoice, type Amendment } from "./gen/parley/v1/negotiation_pb.js";
import type { RedlineChange } from "./gen/parley/v1/redline_pb.js";
import { choiceName, describeAmendment, describePart, shortId, stateName, timeLeft, timeText } from "./format.js";
import type { Store } from "./store.js";
import { Action, Redline } from "./ui.js";
import { Discussion } from "./discussion.js";
import { trimReason, voteConsent } from "./signing.js";
import { ConsentMark } from "./keys.js";

// An amendment's redline never changes: it compares its text with the
// revision it was drafted on. So it is read once per page load.
// A package deal's redline has one change per part, in the order of its parts.
const redlines = new Map<string, Promise<RedlineChange[]>>();

export function amendmentRedline(store: Store, name: string): Promise<RedlineChange[]> {
  let p = redlines.get(name);
  if (!p) {
    p = store.api.neg.getRedline({ subject: { case: "amendment", value: name } }).then((r) => r.changes);
    p.catch(() => redlines.delete(name));
    redlines.set(name, p);
  }
  return p;
}

export function AmendmentCard({ store, amendment: a }: { store: Store; amendment: Amendment }) {
  const [changes, setChanges] = useState<RedlineChange[] | undefined>();
  const [redlineError, setRedlineError] = useState("");
  const [reason, setReason] = useState("");
  useEffect(() => {
    let live = true;
    amendmentRedline(store, a.name).then(
      (c) => live && setChanges(c),
      (e) => live && setRedlineError(refusal(e).message),
    );
    return () => {
      live = false;
    };
  }, [a.name]);

  const id = shortId(a.name);
  const st = store.state;
  const concluded = st?.negotiation.state === 2;
  const open = a.state === AmendmentState.OPEN;
  const passed = a.state === AmendmentState.PASSED;
  const voted = new Map(a.votes.map((v) => [v.participant, v]));
  const waiting = (st?.delegations ?? []).filter((d) => !voted.has(d.id));
  const mine = voted.get(store.me.id);
  const neg = store.api.neg;
  const reasonId = `reason-${id}`;
  const done = () => {
    setReason("");
    void store.read();
  };
  // Signed with the member's key when this browser holds one. The board
  // reads the amendment again afterwards (done), so it asks for the vote
  // alone in reply.
  const vote = (choice: VoteChoice) => async () =>
    neg.castVote({ requestId: newRequestId(), amendment: a.name, choice, reason: trimReason(reason), consent: await voteConsent(store, a, choice, reason), voteOnly: true });
  const pointLink = a.point ? `#/points/${a.point.slice(a.point.lastIndexOf("/") + 1)}` : "";

  return (
    <article class={`amendment state-${stateName(a.state).toLowerCase()}`} aria-labelledby={`am-${id}`} data-test={`amendment-${id}`} data-amendment={a.name}>
      <header>
        <h3 id={`am-${id}`}>
          Amendment <code>{id}</code>: {pointLink ? <a href={pointLink}>{describeAmendment(a)}</a> : describeAmendment(a)}
        </h3>
        <span class={`badge badge-${stateName(a.state).toLowerCase()}`} data-test="amendment-state">
          {stateName(a.state)}
        </span>
      </header>
      <p class="meta">
        Proposed by <strong>{store.name(a.proposer)}</strong>
        {a.byMediator && (
          <span class="badge badge-mediator" data-test="by-mediator">
            {" "}
            mediator's proposal
          </span>
        )}{" "}
        {a.parts.length > 0 ? `· a package deal of ${a.parts.length} parts, voted and applied together` : `against revision ${String(a.baseRevision)}`} ·{" "}
        {timeText(a.createTime)}
        {a.counterTo && (
          <>
            {" "}
            · counter-proposal to <code>{shortId(a.counterTo)}</code>
          </>
        )}
        {a.rebasedFrom && (
          <span data-test="rebased-from">
            {" "}
            · re-proposed on the current text from <code>{shortId(a.rebasedFrom)}</code>
          </span>
        )}
      </p>
      {a.rationale && (
        <p class="rationale">
          <span class="label">Rationale:</span> {a.rationale}
        </p>
      )}
      {changes ? (
        a.parts.length > 0 ? (
          <ol class="package-parts" data-test="package-parts">
            {a.parts.map((part, i) => (
              <li key={i} data-test={`package-part-${i + 1}`}>
                <span class="label">
                  Part {i + 1}: {describePart(part)}
                  {part.baseRevision > 0n ? ` (against revision ${String(part.baseRevision)})` : ""}
                </span>
                {changes[i] && <Redline change={changes[i]} />}
              </li>
            ))}
          </ol>
        ) : (
          changes[0] && <Redline change={changes[0]} />
        )
      ) : redlineError ? (
        <p class="muted">Redline unavailable: {redlineError}</p>
      ) : (
        <p class="muted">Loading the redline…</p>
      )}
      <table class="votes">
        <caption class="sr-only">Votes on amendment {id}</caption>
        <thead>
          <tr>
            <th scope="col">Delegation</th>
            <th scope="col">Vote</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {(st?.delegations ?? []).map((d) => {
            const v = voted.get(d.id);
            return (
              <tr key={d.id} data-test={`vote-${d.id}`}>
                <th scope="row">{d.displayName || d.id}</th>
                <td class={v ? `vote-${choiceName(v.choice)}` : "vote-none"}>
                  {v ? choiceName(v.choice) : open ? "not yet voted" : "did not vote"}
                  {v && <ConsentMark check={store.consentOf("vote", d.id, a.name.slice(a.name.lastIndexOf("/") + 1))} />}
                </td>
                <td>{v?.reason}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {open && waiting.length > 0 && (
        <p class="waiting" data-test="waiting">
          Waiting for: {waiting.map((d) => d.displayName || d.id).join(", ")}
        </p>
      )}
      {open && a.votingDeadline && (
        <p class="deadline" data-test="deadline">
          Voting closes {timeText(a.votingDeadline)} ({timeLeft(a.votingDeadline)} left); the server closes it then.
        </p>
      )}
      {a.tally && (
        <p class="tally">
          Tally: {a.tally.approve} approve, {a.tally.reject} reject, {a.tally.abstain} abstain, {a.tally.notVoted} not voted
          {a.tally.quorumMet ? "" : " · quorum not met"} · {a.tally.passed ? "passed" : "failed"}
          {a.tally.closedByMediator ? " (closed by the mediator)" : ""}
          {a.tally.closedByDeadline ? " (closed by the server at its deadline)" : ""}
        </p>
      )}
      {a.rejectionReason && <p class="rationale">Rejected by the mediator: {a.rejectionReason}</p>}
      <details class="amendment-discussion" data-test="amendment-discussion">
        <summary>Discussion ({a.commentCount})</summary>
        <DiscussionWhenOpen store={store} amendment={a} />
      </details>
      {!concluded && (
        <div class="actions">
          {store.isDelegation && open && (
            <fieldset class="vote-form">
              <legend>
                Your vote{mine ? ` (now: ${choiceName(mine.choice)})` : ""}
              </legend>
              <label for={reasonId}>Reason (required to reject)</label>
              <input id={reasonId} type="text" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-test="vote-reason" />
              <Action label="Approve" kind="primary" run={vote(VoteChoice.APPROVE)} onDone={done} test="vote-approve" />
              <Action label="Abstain" run={vote(VoteChoice.ABSTAIN)} onDone={done} test="vote-abstain" />
              <Action label="Reject" kind="danger" run={vote(VoteChoice.REJECT)} onDone={done} test="vote-reject" />
            </fieldset>
          )}
          {(store.isDelegation || store.isMediator) && a.proposer === store.me.id && (open || passed) && (
            <Action label="Withdraw" run={() => neg.withdrawAmendment({ requestId: newRequestId(), name: a.name })} onDone={done} test="withdraw" />
          )}
          {(store.isDelegation || store.isMediator) && a.proposer === store.me.id && a.state === AmendmentState.STALE && a.kind !== AmendmentKind.INSERT && (
            <Action
              label="Re-propose on current text"
              kind="primary"
              run={() => neg.proposeAmendment({ requestId: newRequestId(), negotiation: a.name.slice(0, a.name.indexOf("/amendments/")), rebaseOf: a.name })}
              onDone={done}
              test="rebase"
            />
          )}
          {store.isMediator && open && (
            <Action label="Close voting" run={() => neg.closeVoting({ requestId: newRequestId(), amendment: a.name })} onDone={done} test="close-voting" />
          )}
          {store.isMediator && passed && (
            <div class="mediator-actions">
              <Action label="Apply to the document" kind="primary" run={() => neg.applyAmendment({ requestId: newRequestId(), amendment: a.name })} onDone={done} test="apply" />
              <label for={`reject-${id}`}>Reason for rejecting</label>
              <input id={`reject-${id}`} type="text" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-test="reject-reason" />
              <Action label="Reject" kind="danger" run={() => neg.rejectAmendment({ requestId: newRequestId(), amendment: a.name, reason })} onDone={done} test="mediator-reject" />
            </div>
          )}
        </div>
      )}
    </article>
  );
}

// DiscussionWhenOpen reads an amendment's discussion only once its details
// are opened, so that a board with many amendments does not read every thread.
function DiscussionWhenOpen({ store, amendment: a }: { store: Store; amendment: Amendment }) {
  const [open, setOpen] = useState(false);
  const [el, setEl] = useState<HTMLElement | null>(null);
  useEffect(() => {
    const details = el?.closest("details");
    if (!details) return;
    const on = () => setOpen(details.open);
    details.addEventListener("toggle", on);
    return () => details.removeEventListener("toggle", on);
  }, [el]);
  return <div ref={setEl}>{open && <Discussion store={store} subject={{ amendment: a.name }} title={`Discussion of amendment ${shortId(a.name)}`} test="amendment-comments" />}</div>;
}
