import { useState, type FormEvent } from "react";
import { call } from "../api/callables";
import { errorAt, type CallError } from "../api/errors";
import type { Linked } from "../api/types";
import { refreshStatus, useAppStatus } from "../appStatus";
import { ErrorText } from "../components/ErrorText";
import { Field } from "../components/Field";
import { Link } from "../components/Link";

type Method = "keys" | "oauth";

/** Link a broker account: the credentials go to link_broker and are never shown back. */
export default function LinkBroker() {
  const [method, setMethod] = useState<Method>("keys");
  const [keyId, setKeyId] = useState("");
  const [secret, setSecret] = useState("");
  const [token, setToken] = useState("");
  const [paper, setPaper] = useState(true);
  const [linked, setLinked] = useState<Linked | null>(null);
  const [unlinked, setUnlinked] = useState(false);
  const [error, setError] = useState<CallError | null>(null);
  const [busy, setBusy] = useState(false);
  const { status } = useAppStatus();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const data =
        method === "keys" ? { api_key_id: keyId, secret_key: secret, paper } : { oauth_token: token, paper };
      setLinked(await call("link_broker", data));
      setUnlinked(false);
      void refreshStatus();
    } catch (caught) {
      setError(caught as CallError);
    } finally {
      // The credentials leave the page either way: the server keeps them, encrypted.
      setSecret("");
      setToken("");
      setBusy(false);
    }
  }

  async function unlink() {
    setBusy(true);
    setError(null);
    try {
      await call("unlink_broker", {});
      setLinked(null);
      setUnlinked(true);
      void refreshStatus();
    } catch (caught) {
      setError(caught as CallError);
    } finally {
      setBusy(false);
    }
  }

  const general = error && !error.field ? error : null;
  return (
    <section aria-labelledby="broker-title">
      <h1 id="broker-title">Link your broker</h1>
      <p>
        Your credentials are verified with the broker and stored encrypted on the server; they
        are never shown again, here or anywhere.
      </p>
      <p data-testid="link-state" className={status?.broker_linked ? "ok" : undefined}>
        {status === null
          ? "Checking your link…"
          : status.broker_linked
            ? `Linked: account ${status.account_number ?? "?"} (${status.paper ? "paper" : "live"}).`
            : "Not linked: no broker account is linked yet."}
      </p>
      <form onSubmit={(e) => void submit(e)} className="card narrow">
        <fieldset>
          <legend>How to connect</legend>
          <label className="inline">
            <input type="radio" name="method" checked={method === "keys"} onChange={() => setMethod("keys")} />
            API key pair
          </label>
          <label className="inline">
            <input type="radio" name="method" checked={method === "oauth"} onChange={() => setMethod("oauth")} />
            OAuth token
          </label>
        </fieldset>
        {method === "keys" ? (
          <>
            <Field
              label="API key ID"
              name="api_key_id"
              autoComplete="off"
              value={keyId}
              onChange={(e) => setKeyId(e.target.value)}
              error={errorAt(error, "api_key_id")}
            />
            <Field
              label="Secret key"
              name="secret_key"
              type="password"
              autoComplete="off"
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              error={errorAt(error, "secret_key")}
            />
          </>
        ) : (
          <Field
            label="OAuth token"
            name="oauth_token"
            type="password"
            autoComplete="off"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            error={errorAt(error, "oauth_token")}
          />
        )}
        <label className="inline">
          <input type="checkbox" name="paper" checked={paper} onChange={(e) => setPaper(e.target.checked)} />
          Paper trading account
        </label>
        <ErrorText error={general} />
        <div className="actions">
          <button type="submit" disabled={busy}>
            Link account
          </button>
          <button type="button" className="secondary" onClick={() => void unlink()} disabled={busy}>
            Unlink
          </button>
        </div>
      </form>
      {linked ? (
        <p role="status" className="ok" data-testid="linked">
          Linked {linked.paper ? "paper" : "live"} account {linked.account_number} ({linked.status}).{" "}
          <Link href="/">Set your targets and see the drift</Link>.
        </p>
      ) : null}
      {unlinked ? (
        <p role="status" className="ok">
          Unlinked: the stored credentials are deleted.
        </p>
      ) : null}
    </section>
  );
}
