// The audit log: every event, the state of the browser's own check of the
// signed checkpoint, and a check that the events listed are the ones signed.
import { useEffect, useRef, useState } from "preact/hooks";
import { refusal } from "./api.js";
import type { EventRecord } from "./gen/parley/v1/negotiation_service_pb.js";
import { forgetPins, pinnedKey, toBase64 } from "./checkpoint.js";
import { describeEvent, timeText } from "./format.js";
import { equalBytes, leafHash, rootOf } from "./merkle.js";
import type { Store } from "./store.js";
import { Section } from "./ui.js";
import { ConsentSummary } from "./keys.js";

export function VerifiedMark({ store }: { store: Store }) {
  const v = store.verification;
  switch (v.state) {
    case "verified":
      return (
        <a href="#/audit" class="mark mark-ok" data-test="verified" title={`Checkpoint of ${v.checkpoint.size} events signed by ${v.key.name}`}>
          ✓ Log verified · {v.checkpoint.size} events
        </a>
      );
    case "failed":
      return (
        <a href="#/audit" class="mark mark-bad" data-test="verify-failed">
          ✗ Log check failed
        </a>
      );
    case "unavailable":
      return (
        <a href="#/audit" class="mark mark-warn" data-test="verify-unavailable">
          Log not verified
        </a>
      );
    default:
      return <span class="mark">Checking the log…</span>;
  }
}

export function AuditPage({ store }: { store: Store }) {
  const [events, setEvents] = useState<EventRecord[]>([]);
  const [error, setError] = useState("");
  const [leavesCheck, setLeavesCheck] = useState("");
  const loaded = useRef<{ records: EventRecord[]; hashes: Uint8Array[] }>({ records: [], hashes: [] });
  const seq = store.lastSequence;
  const v = store.verification;

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const l = loaded.current;
        let after = BigInt(l.records.length);
        let pageToken = "";
        do {
          const page = await store.api.neg.listEvents({ negotiation: store.negotiationName, afterSequence: after, pageSize: 1000, pageToken });
          for (const r of page.events) {
            if (r.sequence !== BigInt(l.records.length + 1) || r.event?.sequence !== r.sequence || r.event?.negotiation !== store.negotiationName) {
              throw new Error(`event ${r.sequence} is out of place in the log`);
            }
            l.records.push(r);
            l.hashes.push(await leafHash(r.leaf));
          }
          pageToken = page.nextPageToken;
          after = BigInt(l.records.length);
        } while (pageToken !== "");
        if (live) setEvents(l.records.slice());
      } catch (e) {
        if (live) setError(e instanceof Error && !("code" in e) ? e.message : refusal(e).message);
      }
    })();
    return () => {
      live = false;
    };
  }, [seq]);

  useEffect(() => {
    if (v.state !== "verified") return;
    const l = loaded.current;
    const size = v.checkpoint.size;
    if (l.hashes.length < size) return;
    let live = true;
    rootOf(l.hashes.slice(0, size)).then((root) => {
      if (!live) return;
      setLeavesCheck(
        equalBytes(root, v.checkpoint.root)
          ? `✓ The first ${size} events listed below hash to the root of the signed checkpoint.`
          : `✗ The events listed below do not hash to the root of the signed checkpoint of ${size} events.`,
      );
    });
    return () => {
      live = false;
    };
  }, [v, events.length]);

  const pointNumbers = new Map((store.state?.points ?? []).map((p) => [p.id, String(p.number)]));
  const pointNumber = (id: string) => pointNumbers.get(id) ?? `(${id.slice(0, 8)})`;
  return (
    <>
      <Section title="Verification in this browser" id="verification" test="verification">
        {v.state === "verified" && (
          <>
            <p class="mark-ok" data-test="verified-detail">
              ✓ The server's checkpoint of {v.checkpoint.size} events is signed by the pinned key
              {v.previousSize > 0 ? ` and consistent with the ${v.previousSize} events this browser trusted before` : ""}.
            </p>
            <p data-test="leaves-check">{leavesCheck}</p>
            <dl class="facts">
              <dt>Pinned key</dt>
              <dd>
                <code class="hash">{v.key.text}</code>
                {v.pinnedNow ? " (pinned now, on first use: compare it with the key parleyd printed at start)" : ""}
              </dd>
              <dt>Root hash</dt>
              <dd>
                <code class="hash">{toBase64(v.checkpoint.root)}</code>
              </dd>
            </dl>
          </>
        )}
        {v.state === "failed" && (
          <div role="alert" class="refusal">
            <p>✗ {v.reason}</p>
            {v.evidence && <pre class="evidence">{v.evidence}</pre>}
            <p>Keep this evidence. If you have checked out of band that the server's key really changed, forget the pinned key and check again.</p>
            <button
              type="button"
              class="btn btn-danger"
              onClick={() => {
                forgetPins(store.negotiationName);
                void store.verify();
              }}
            >
              Forget the pinned key
            </button>
          </div>
        )}
        {v.state === "unavailable" && <p class="mark-warn">Not verified: {v.reason}</p>}
        {v.state === "checking" && <p>Checking…</p>}
        {v.state !== "failed" && pinnedKey() === null && <p class="muted">No key pinned yet.</p>}
        <button type="button" class="btn btn-plain" onClick={() => void store.verify()} data-test="verify-again">
          Check again
        </button>
      </Section>
      <Section title="Signed consent" id="consent" test="consent">
        <ConsentSummary store={store} />
      </Section>
      <Section title={`Event log (${events.length} events)`} id="events" test="events">
        {error && (
          <p role="alert" class="refusal">
            {error}
          </p>
        )}
        <div class="scroll">
          <table class="events">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
              </tr>
            </thead>
            <tbody>
              {events
                .slice()
                .reverse()
                .map((r) => (
                  <tr key={String(r.sequence)}>
                    <td class="num">{String(r.sequence)}</td>
                    <td>{timeText(r.event?.time)}</td>
                    <td data-test="event-who">
                      {store.name(r.event?.actor ?? "")}
                      {r.event?.member && r.event.member !== r.event.actor ? ` (${r.event.member})` : ""}
                    </td>
                    <td>{r.event ? describeEvent(r.event, pointNumber) : ""}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </Section>
    </>
  );
}
