// The member's signing key on the board, and the marks that say which
// consents are signed and verified (docs/web.md, "Signed consent").
import type { ConsentCheck } from "./signing.js";
import { createAndRegisterKey, forgetKey, revokeKey } from "./signing.js";
import type { Store } from "./store.js";
import { Action } from "./ui.js";

const short = (keyId: string) => keyId.slice(0, 12);

// KeyPanel says whether this browser signs for the member, and offers to make
// and register a key, or to revoke the one it holds.
export function KeyPanel({ store }: { store: Store }) {
  const registered = store.registeredKey;
  const local = store.signer;
  const required = store.state?.negotiation.signaturesRequired ?? false;
  const after = () => void store.read().then(() => store.checkConsents());
  let body;
  if (local && registered?.keyId === local.keyId) {
    body = (
      <>
        <p data-test="key-state" data-key-id={local.keyId}>
          Your votes, sign-offs and acceptance are signed with key <code class="hash">{short(local.keyId)}</code>, held in this browser; it cannot be copied out of it.
        </p>
        <Action
          label="Revoke this key"
          kind="danger"
          run={async () => {
            await revokeKey(store, local);
            store.signer = null;
          }}
          onDone={after}
          test="revoke-key"
        />
      </>
    );
  } else if (registered) {
    body = (
      <p data-test="key-state">
        Your signing key <code class="hash">{short(registered.keyId)}</code> is held elsewhere (another browser, or the parley command line): this browser cannot sign for you.
        {required ? " Signatures are required, so vote, sign off and accept where your key is, or ask the administrator to revoke it and make a new key here." : ""}
      </p>
    );
  } else {
    body = (
      <>
        <p data-test="key-state">
          {local ? "The key this browser held was revoked. " : ""}
          {required ? "This negotiation requires signed consent: " : ""}Make a signing key in this browser to sign your votes, sign-offs and acceptance, so that nobody — not even the server's operator — can consent in your name.
        </p>
        <Action
          label="Make and register a signing key"
          kind={required ? "primary" : "plain"}
          run={async () => {
            if (local) await forgetKey(store);
            store.signer = await createAndRegisterKey(store);
          }}
          onDone={after}
          test="create-key"
        />
      </>
    );
  }
  return (
    <div class="signing-key" data-test="signing-key">
      {body}
    </div>
  );
}

// ConsentMark shows whether one consent is signed and verified by this
// browser against the key the member had registered at that point.
export function ConsentMark({ check }: { check: ConsentCheck | undefined }) {
  if (!check) return null;
  if (check.status === "signed") {
    return (
      <span class="consent consent-signed" title={`signed with key ${short(check.keyId)}, verified in this browser`} data-test="consent-signed">
        {" "}· signed ✓
      </span>
    );
  }
  if (check.status === "failed") {
    return (
      <span class="consent consent-failed" title="the signature does not verify: see the audit log" data-test="consent-failed">
        {" "}⚠ signature invalid
      </span>
    );
  }
  return (
    <span class="consent consent-unsigned muted" data-test="consent-unsigned">
      {" "}unsigned
    </span>
  );
}

// ConsentSummary is the audit page's account of the signed consent.
export function ConsentSummary({ store }: { store: Store }) {
  const n = store.state?.negotiation;
  const r = store.consents;
  if (!n || (n.signingKeys.length === 0 && !n.signaturesRequired)) {
    return <p class="muted">No member has registered a signing key, and signatures are not required: consent is recorded, not signed.</p>;
  }
  if (store.consentError) {
    return (
      <p class="refusal" role="alert">
        The signed consent could not be checked: {store.consentError}
      </p>
    );
  }
  if (!r) return <p class="muted">Checking the signatures…</p>;
  const signed = r.checks.filter((c) => c.status === "signed").length;
  const unsigned = r.checks.filter((c) => c.status === "unsigned").length;
  return (
    <div data-test="consents">
      <p data-test={r.failures.length === 0 ? "consents-verified" : "consents-failed"}>
        {r.failures.length === 0 ? "✓ " : "⚠ "}
        {signed} signed {signed === 1 ? "consent" : "consents"} verified in this browser against the key each member had registered at that point
        {unsigned > 0 ? `, ${unsigned} unsigned (before signatures were required)` : ""}
        {r.requiredFrom > 0n ? `; signatures required since event ${r.requiredFrom}` : "; signatures are not required"}.
      </p>
      {r.failures.length > 0 && (
        <ul class="refusal" role="alert">
          {r.failures.map((f) => (
            <li key={String(f.sequence)}>
              Event {String(f.sequence)}, member {f.member} of {f.participant}: <code class="reason">{f.reason}</code> {f.detail}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
