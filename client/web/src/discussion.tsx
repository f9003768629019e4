// The discussion of a point or an amendment: its comments as threads, a form
// to comment, and on each comment a reply and, for its author, a retraction.
// It reads the comments again whenever the board reads a new state, so a
// comment posted in another browser shows within the watch's delay.
import { useEffect, useState } from "preact/hooks";
import { newRequestId, refusal, type Refusal } from "./api.js";
import { NegotiationState, Role, type Comment, type Point } from "./gen/parley/v1/negotiation_pb.js";
import { shortId, timeText } from "./format.js";
import type { Store } from "./store.js";
import { Action, RefusalNote } from "./ui.js";

type Subject = { point?: string; amendment?: string };

// canComment says whether the signed-in participant may join the discussion:
// delegations and mediators always, observers where the negotiation allows.
export function canComment(store: Store): boolean {
  const st = store.state;
  if (!st || st.negotiation.state === NegotiationState.CONCLUDED) return false;
  return store.me.role !== Role.OBSERVER || st.negotiation.observersMayComment;
}

type Threaded = { comment: Comment; depth: number };

// threads orders comments as threads: each reply under its parent, replies in
// the order posted.
function threads(list: Comment[]): Threaded[] {
  const known = new Set(list.map((c) => c.name));
  const children = new Map<string, Comment[]>();
  const roots: Comment[] = [];
  for (const c of list) {
    if (c.parent && known.has(c.parent)) children.set(c.parent, [...(children.get(c.parent) ?? []), c]);
    else roots.push(c);
  }
  const out: Threaded[] = [];
  const walk = (c: Comment, depth: number) => {
    out.push({ comment: c, depth });
    for (const r of children.get(c.name) ?? []) walk(r, depth + 1);
  };
  roots.forEach((c) => walk(c, 0));
  return out;
}

export function Discussion({ store, subject, title, test }: { store: Store; subject: Subject; title: string; test: string }) {
  const [comments, setComments] = useState<Comment[] | null>(null);
  const [err, setErr] = useState<Refusal | null>(null);
  const [text, setText] = useState("");
  const [replyTo, setReplyTo] = useState("");
  const [replyText, setReplyText] = useState("");
  const seq = store.state?.loadedSequence ?? 0n;
  const key = subject.point ?? subject.amendment ?? "";
  const load = async () => {
    const list: Comment[] = [];
    let pageToken = "";
    do {
      const page = await store.api.neg.listComments({ negotiation: store.negotiationName, ...subject, pageSize: 1000, pageToken });
      list.push(...page.comments);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return list;
  };
  useEffect(() => {
    let live = true;
    load().then(
      (list) => live && (setComments(list), setErr(null)),
      (e) => live && setErr(refusal(e)),
    );
    return () => {
      live = false;
    };
  }, [key, seq]);
  const refresh = () => void load().then(setComments, (e) => setErr(refusal(e)));
  const may = canComment(store);
  const id = `discussion-${shortId(key)}`;
  return (
    <section class="panel discussion" aria-labelledby={id} data-test={test}>
      <h2 id={id}>
        {title} <span class="muted">({comments?.length ?? "…"})</span>
      </h2>
      <RefusalNote refusal={err} />
      {comments && comments.length === 0 && <p class="muted">No comments yet.</p>}
      <ul class="comments">
        {threads(comments ?? []).map(({ comment: c, depth }) => (
          <li key={c.name} class={`comment${c.retracted ? " retracted" : ""}`} style={{ marginLeft: `${depth * 1.5}rem` }} data-test={`comment-${shortId(c.name)}`}>
            <p class="meta">
              {depth > 0 && <span aria-hidden="true">↳ </span>}
              <strong>{store.name(c.author)}</strong> · {timeText(c.createTime)} · <code>{shortId(c.name)}</code>
              {depth > 0 && <span class="sr-only"> (a reply)</span>}
            </p>
            <p class="comment-text" data-test="comment-text">
              {c.retracted ? <em>Retracted by its author.</em> : c.text}
            </p>
            {!c.retracted && may && (
              <div class="actions">
                <button type="button" class="btn btn-plain" onClick={() => (setReplyTo(replyTo === c.name ? "" : c.name), setReplyText(""))} data-test="comment-reply">
                  Reply
                </button>
                {c.author === store.me.id && (
                  <Action label="Retract" run={() => store.api.neg.retractComment({ requestId: newRequestId(), name: c.name })} onDone={refresh} test="comment-retract" />
                )}
              </div>
            )}
            {replyTo === c.name && (
              <div class="reply-form">
                <label for={`reply-${shortId(c.name)}`}>Your reply to {store.name(c.author)}</label>
                <textarea id={`reply-${shortId(c.name)}`} rows={2} value={replyText} onInput={(e) => setReplyText((e.target as HTMLTextAreaElement).value)} data-test="reply-text" />
                <Action
                  label="Post the reply"
                  kind="primary"
                  run={() => store.api.neg.postComment({ requestId: newRequestId(), negotiation: store.negotiationName, parent: c.name, text: replyText })}
                  onDone={() => (setReplyTo(""), setReplyText(""), refresh())}
                  test="reply-post"
                />
              </div>
            )}
          </li>
        ))}
      </ul>
      {may && (
        <div class="comment-form">
          <label for={`${id}-text`}>Your comment</label>
          <textarea id={`${id}-text`} rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} data-test="comment-new" />
          <Action
            label="Post the comment"
            kind="primary"
            run={() => store.api.neg.postComment({ requestId: newRequestId(), negotiation: store.negotiationName, ...subject, text })}
            onDone={() => (setText(""), refresh())}
            test="comment-post"
          />
        </div>
      )}
    </section>
  );
}

// bracketLabel names the i-th alternative of a point: A, B, …
export function bracketLabel(i: number): string {
  return i < 26 ? String.fromCharCode(65 + i) : bracketLabel(Math.floor(i / 26) - 1) + bracketLabel(i % 26);
}

// Brackets shows a point's competing pending texts as the bracketed choice
// [current | A | B], each with who proposed it and what it answers.
export function Brackets({ store, point }: { store: Store; point: Point }) {
  const alts = point.alternatives;
  if (alts.length === 0) return null;
  const labels = new Map(alts.map((a, i) => [a.amendment, bracketLabel(i)]));
  return (
    <section class="panel brackets" aria-labelledby="brackets-title" data-test="brackets">
      <h2 id="brackets-title">In brackets: a text to choose</h2>
      <ol class="bracket-choices">
        <li data-test="bracket-current">
          <span class="bracket-label">current</span> {point.text}
        </li>
        {alts.map((a, i) => (
          <li key={a.amendment} data-test={`bracket-${bracketLabel(i)}`}>
            <span class="bracket-label">{bracketLabel(i)}</span> {a.text || <em>delete the point</em>}{" "}
            <span class="meta">
              — {store.name(a.proposer)}
              {a.byMediator && <span class="badge badge-mediator"> mediator's proposal</span>}
              {a.counterTo && <> · counter to {labels.get(a.counterTo) ?? shortId(a.counterTo)}</>}
              {a.packageParts > 0 && <span data-test="bracket-package"> · part of a package deal of {a.packageParts}</span>} · <code>{shortId(a.amendment)}</code>
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
