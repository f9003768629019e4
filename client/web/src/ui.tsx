// Pieces every page uses: hooks on the store and the address, an action
// button that shows the server's refusal, and the redline.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { refusal, type Refusal } from "./api.js";
import type { Store } from "./store.js";
import { RedlineOperation, type RedlineChange } from "./gen/parley/v1/redline_pb.js";

export function useStore(store: Store): void {
  const [, setTick] = useState(0);
  useEffect(() => store.subscribe(() => setTick((t) => t + 1)), [store]);
}

export function useRoute(): string {
  const [route, setRoute] = useState(location.hash);
  useEffect(() => {
    const on = () => setRoute(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route.replace(/^#/, "") || "/";
}

export function RefusalNote({ refusal }: { refusal: Refusal | null }) {
  if (!refusal) return null;
  if (refusal.reason === "REBASE_CONFLICT") return <ConflictNote refusal={refusal} />;
  return (
    <p class="refusal" role="alert" data-test="refusal">
      <strong>Refused:</strong> {refusal.message}
      {refusal.reason && <code class="reason">{refusal.reason}</code>}
    </p>
  );
}

// ConflictNote shows why a stale amendment could not be re-proposed: for each
// place where its change and the one applied since overlap, what the text
// read, what the amendment makes of it, and what it reads now.
function ConflictNote({ refusal }: { refusal: Refusal }) {
  const d = refusal.details;
  const total = Number(d.conflicts ?? "0");
  const shown: { words: string; base: string; yours: string; theirs: string }[] = [];
  for (let i = 1; d[`conflict${i}Words`] !== undefined; i++) {
    shown.push({ words: d[`conflict${i}Words`], base: d[`conflict${i}Base`] ?? "", yours: d[`conflict${i}Yours`] ?? "", theirs: d[`conflict${i}Theirs`] ?? "" });
  }
  const text = (s: string) => (s === "" ? <em>nothing</em> : <q>{s}</q>);
  return (
    <div class="refusal" role="alert" data-test="refusal">
      <p>
        <strong>Not re-proposed:</strong> your change and the one applied since overlap in {total} {total === 1 ? "place" : "places"}. Redraft
        against revision {d.currentRevision}.<code class="reason">{refusal.reason}</code>
      </p>
      <dl class="conflicts" data-test="conflicts">
        {shown.map((c, i) => (
          <div key={i} data-test="conflict">
            <dt>At {c.words}</dt>
            <dd>it read {text(c.base)}; yours reads {text(c.yours)}; it reads now {text(c.theirs)}</dd>
          </div>
        ))}
      </dl>
      {total > shown.length && <p>and {total - shown.length} more</p>}
    </div>
  );
}

type ActionProps = {
  label: ComponentChildren;
  run: () => Promise<unknown>;
  disabled?: boolean;
  kind?: "primary" | "danger" | "plain";
  test?: string;
  describedBy?: string;
  onDone?: () => void;
};

// Action is a button for one call: it is busy while the call runs, and shows
// the server's message and reason under itself when the call is refused.
export function Action({ label, run, disabled, kind = "plain", test, describedBy, onDone }: ActionProps) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<Refusal | null>(null);
  const click = async () => {
    setBusy(true);
    setErr(null);
    try {
      await run();
      onDone?.();
    } catch (e) {
      setErr(refusal(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button type="button" class={`btn btn-${kind}`} disabled={disabled || busy} aria-busy={busy} onClick={click} data-test={test} aria-describedby={describedBy}>
        {label}
      </button>
      <RefusalNote refusal={err} />
    </span>
  );
}

export function Redline({ change, test }: { change: RedlineChange; test?: string }) {
  return (
    <div class="redline" data-test={test}>
      {change.segments.map((s, i) => {
        switch (s.operation) {
          case RedlineOperation.DELETE:
            return (
              <del key={i} class="rl-del">
                <span class="sr-only">[deleted: </span>
                {s.text}
                <span class="sr-only">]</span>
              </del>
            );
          case RedlineOperation.INSERT:
            return (
              <ins key={i} class="rl-ins">
                <span class="sr-only">[inserted: </span>
                {s.text}
                <span class="sr-only">]</span>
              </ins>
            );
          default:
            return <span key={i}>{s.text}</span>;
        }
      })}
    </div>
  );
}

export function Section({ title, children, id, test }: { title: string; children: ComponentChildren; id: string; test?: string }) {
  return (
    <section class="panel" aria-labelledby={id} data-test={test}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}
