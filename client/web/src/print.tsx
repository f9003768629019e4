// The printable document: the consolidated text, then an annex with the
// redline of every point changed, added or deleted since the original text.
import { useEffect, useState } from "preact/hooks";
import { refusal } from "./api.js";
import { RedlineChangeKind, type RedlineChange } from "./gen/parley/v1/redline_pb.js";
import { NegotiationState } from "./gen/parley/v1/negotiation_pb.js";
import { timeText } from "./format.js";
import type { Store } from "./store.js";
import { Redline } from "./ui.js";

export function PrintPage({ store }: { store: Store }) {
  const st = store.state!;
  const [changes, setChanges] = useState<RedlineChange[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const out: RedlineChange[] = [];
        let pageToken = "";
        do {
          const page = await store.api.neg.getRedline({ subject: { case: "document", value: store.negotiationName }, pageSize: 1000, pageToken });
          out.push(...page.changes);
          pageToken = page.nextPageToken;
        } while (pageToken !== "");
        if (live) setChanges(out);
      } catch (e) {
        if (live) setError(refusal(e).message);
      }
    })();
    return () => {
      live = false;
    };
  }, [st.loadedSequence]);
  const n = st.negotiation;
  const heading = (c: RedlineChange) => {
    switch (c.kind) {
      case RedlineChangeKind.ADDED:
        return `Point ${c.number}: added`;
      case RedlineChangeKind.DELETED:
        return `Original point ${c.originalNumber}: deleted`;
      default:
        return c.originalNumber && c.originalNumber !== c.number ? `Point ${c.number} (originally ${c.originalNumber}): changed` : `Point ${c.number}: changed`;
    }
  };
  return (
    <article class="printable" data-test="printable">
      <p class="no-print actions">
        <button type="button" class="btn btn-primary" onClick={() => print()}>
          Print
        </button>{" "}
        <a href="#/">Back to the board</a>
      </p>
      <h1>{n.title}</h1>
      <p class="meta">
        {n.state === NegotiationState.CONCLUDED ? `Concluded ${timeText(n.concludeTime)}` : "Draft under negotiation"} · {st.points.length} points · document SHA-256{" "}
        <code class="hash">{st.documentSha256}</code> · printed after event {String(n.lastSequence)}
      </p>
      <h2>Consolidated text</h2>
      <ol class="consolidated">
        {st.points.map((p) => (
          <li key={p.name} value={p.number}>
            {p.text}
          </li>
        ))}
      </ol>
      <section class="annex" aria-labelledby="annex-title">
        <h2 id="annex-title">Annex: redline against the original text</h2>
        {error && <p class="refusal">{error}</p>}
        {changes === null && !error && <p>Loading the redline…</p>}
        {changes?.length === 0 && <p>No point has changed since the original text.</p>}
        {changes?.map((c, i) => (
          <div class="annex-change" key={i}>
            <h3>{heading(c)}</h3>
            <Redline change={c} />
          </div>
        ))}
      </section>
    </article>
  );
}
