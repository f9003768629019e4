// The board's entry: sign in with a token, then the board of the token's
// negotiation, its points, its audit log and its printable text.
import "./board.css";
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { connectApi, refusal } from "./api.js";
import { Role } from "./gen/parley/v1/negotiation_pb.js";
import { forgetToken, storeToken, storedToken, takeTokenFromFragment } from "./session.js";
import { Store } from "./store.js";
import { PackageDraft } from "./packagedraft.js";
import { Board } from "./board.js";
import { PointPage } from "./point.js";
import { AuditPage, VerifiedMark } from "./audit.js";
import { PrintPage } from "./print.js";
import { useRoute, useStore } from "./ui.js";

const largeKey = "parley.large-type";

function applyLargeType(on: boolean) {
  document.documentElement.classList.toggle("large", on);
}

function App() {
  const [store, setStore] = useState<Store | null>(null);
  const [message, setMessage] = useState("");
  const [signingIn, setSigningIn] = useState(true);

  const signIn = async (token: string) => {
    setSigningIn(true);
    setMessage("");
    try {
      const api = connectApi(token);
      const caller = await api.neg.getCaller({});
      if (caller.admin || !caller.participant) {
        throw new Error("This is the server administrator's token. The board is for the participants of a negotiation: sign in with a participant's token.");
      }
      storeToken(token);
      const s = new Store(api, caller.negotiation, caller.participant);
      s.member = caller.member?.id || caller.participant.id;
      await s.start();
      current = s;
      setStore(s);
    } catch (e) {
      forgetToken();
      setMessage(e instanceof Error && !("code" in e) ? e.message : refusal(e).message);
    } finally {
      setSigningIn(false);
    }
  };

  useEffect(() => {
    const token = takeTokenFromFragment() ?? storedToken();
    if (token) void signIn(token);
    else setSigningIn(false);
  }, []);

  const signOut = () => {
    store?.stop();
    forgetToken();
    PackageDraft.forgetAll(sessionStorage);
    setStore(null);
    location.hash = "#/";
  };

  if (!store) return <SignIn busy={signingIn} message={message} onSignIn={signIn} />;
  return <Signed store={store} onSignOut={signOut} />;
}

function SignIn({ busy, message, onSignIn }: { busy: boolean; message: string; onSignIn: (t: string) => void }) {
  const [token, setToken] = useState("");
  return (
    <main id="main" class="signin">
      <h1>Parley</h1>
      <p>The board of a negotiation, for its delegations and mediators.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) onSignIn(token.trim());
        }}
        data-test="signin"
      >
        <label for="token">Your token</label>
        <input id="token" type="password" autocomplete="off" spellcheck={false} value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} aria-describedby="token-help" />
        <p id="token-help" class="muted">
          The token the server's administrator gave you, or open your personal sign-in link. It stays in this tab only and is forgotten when you sign out or close the tab.
        </p>
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {message && (
        <p class="refusal" role="alert" data-test="signin-error">
          {message}
        </p>
      )}
    </main>
  );
}

const roleName = (r: Role) => ({ [Role.DELEGATION]: "delegation", [Role.MEDIATOR]: "mediator", [Role.OBSERVER]: "observer" })[r as 1 | 2 | 3] ?? "";

function Signed({ store, onSignOut }: { store: Store; onSignOut: () => void }) {
  useStore(store);
  const route = useRoute();
  const [large, setLarge] = useState(localStorage.getItem(largeKey) === "1");
  useEffect(() => applyLargeType(large), [large]);
  const st = store.state;
  let page;
  const pointMatch = /^\/points\/([0-9a-f-]+)$/.exec(route);
  if (!st) page = <p class="refusal" role="alert">{store.loadError || "Loading…"}</p>;
  else if (pointMatch) page = <PointPage store={store} pointId={pointMatch[1]} key={pointMatch[1]} />;
  else if (route === "/audit") page = <AuditPage store={store} />;
  else if (route === "/print") page = <PrintPage store={store} />;
  else page = <Board store={store} />;
  const current = (r: string) => (route === r ? "page" : undefined);
  // A new page moves the focus to its content, as a page load would, so the
  // keyboard and the screen reader start there.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("main")?.focus();
    scrollTo(0, 0);
  }, [route]);
  return (
    <>
      <a href="#main" class="skip">
        Skip to the content
      </a>
      <header class="top no-print">
        <div class="brand">
          <span class="logo">Parley</span>
          <span class="title" data-test="title">
            {st?.negotiation.title ?? ""}
          </span>
          {st?.negotiation.state === 2 && <span class="badge badge-concluded">CONCLUDED</span>}
          {st?.negotiation.state === 3 && <span class="badge badge-stale">SUSPENDED</span>}
          {st?.negotiation.state === 4 && <span class="badge badge-failed">ABANDONED</span>}
        </div>
        <div class="status">
          <span class={`link link-${store.link}`} role="status" data-test="link">
            {store.link === "live" ? "● Live" : store.link === "reconnecting" ? "Reconnecting…" : "Connecting…"}
          </span>
          <VerifiedMark store={store} />
          <span class="who" data-test="who">
            {store.me.displayName || store.me.id} <span class="muted">({roleName(store.me.role)})</span>
          </span>
          <button type="button" class="btn btn-plain" aria-pressed={large} onClick={() => (localStorage.setItem(largeKey, large ? "0" : "1"), setLarge(!large))}>
            Large type
          </button>
          <button type="button" class="btn btn-plain" onClick={onSignOut} data-test="signout">
            Sign out
          </button>
        </div>
        <nav aria-label="Pages">
          <a href="#/" aria-current={current("/")}>
            Board
          </a>
          <a href="#/audit" aria-current={current("/audit")}>
            Audit log
          </a>
          <a href="#/print" aria-current={current("/print")}>
            Print
          </a>
        </nav>
      </header>
      {store.loadError && st && (
        <p class="refusal" role="alert">
          {store.loadError}
        </p>
      )}
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

// A page left for another keeps its watch stream open if the browser keeps
// the page in its back-forward cache, and each such stream holds one of the
// few connections a browser opens to one host: close it when the page is
// hidden, and read everything afresh if the page comes back.
let current: Store | null = null;
addEventListener("pagehide", () => current?.stop());
addEventListener("pageshow", (e) => {
  if (e.persisted) location.reload();
});

applyLargeType(localStorage.getItem(largeKey) === "1");
render(<App />, document.getElementById("app")!);
