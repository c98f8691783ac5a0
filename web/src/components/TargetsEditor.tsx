import { useEffect, useState, type FormEvent } from "react";
import { call } from "../api/callables";
import { errorAt, type CallError } from "../api/errors";
import type { Target } from "../api/types";
import { ErrorText } from "./ErrorText";
import { Field } from "./Field";

interface Row {
  key: number;
  symbol: string;
  target: string;
  band: string;
  enabled: boolean;
  substitutes: string;
}

let nextKey = 0;
const row = (t?: Target): Row => ({
  key: nextKey++,
  symbol: t?.symbol ?? "",
  target: t ? String(t.target_percent) : "",
  band: t?.threshold_percent === null || t?.threshold_percent === undefined ? "" : String(t.threshold_percent),
  enabled: t?.enabled ?? true,
  substitutes: t?.substitutes.join(", ") ?? "",
});

/** A number when the text is one, else the text itself: the server says what is wrong. */
function numberOrText(text: string): number | string {
  const value = Number(text);
  return text.trim() !== "" && Number.isFinite(value) ? value : text;
}

function request(rows: Row[]) {
  return rows.map((r) => ({
    symbol: r.symbol.trim().toUpperCase(),
    target_percent: numberOrText(r.target),
    ...(r.band.trim() ? { threshold_percent: numberOrText(r.band) } : {}),
    enabled: r.enabled,
    substitutes: r.substitutes
      .split(/[\s,]+/)
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean),
  }));
}

/** The allocation editor: saved through set_targets, errors shown at the field they name. */
export function TargetsEditor({ onSaved }: { onSaved: () => void }) {
  const [rows, setRows] = useState<Row[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<CallError | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    call("get_targets", {})
      .then((res) => setRows(res.allocations.length ? res.allocations.map(row) : [row()]))
      .catch((caught: CallError) => setError(caught))
      .finally(() => setLoaded(true));
  }, []);

  const total = rows.filter((r) => r.enabled).reduce((sum, r) => sum + (Number(r.target) || 0), 0);
  const left = 100 - total;
  const update = (key: number, change: Partial<Row>) => {
    setRows((current) => current.map((r) => (r.key === key ? { ...r, ...change } : r)));
    setSaved(false);
  };

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const res = await call("set_targets", { allocations: request(rows) });
      setRows(res.allocations.map(row));
      setSaved(true);
      onSaved();
    } catch (caught) {
      setError(caught as CallError);
    } finally {
      setBusy(false);
    }
  }

  const totalError = error?.field === "allocations" ? error.detail : null;
  const general = error && !error.field ? error : null;
  return (
    <form className="card targets" onSubmit={(e) => void save(e)} aria-labelledby="targets-title">
      <h2 id="targets-title">Target allocation</h2>
      {!loaded ? <p role="status">Loading targets…</p> : null}
      {rows.map((r, i) => {
        const at = (name: string) => errorAt(error, `allocations.${i}.${name}`);
        return (
          <fieldset key={r.key} className="target-row" aria-label={`Target ${i + 1}${r.symbol ? `: ${r.symbol}` : ""}`}>
            <Field
              label="Symbol"
              name={`symbol-${i}`}
              value={r.symbol}
              onChange={(e) => update(r.key, { symbol: e.target.value })}
              error={at("symbol") ?? (error?.field === `allocations.${i}` ? error.detail : null)}
            />
            <Field
              label="Target %"
              name={`target-${i}`}
              inputMode="decimal"
              value={r.target}
              onChange={(e) => update(r.key, { target: e.target.value })}
              error={at("target_percent")}
            />
            <Field
              label="Band ± (points)"
              name={`band-${i}`}
              inputMode="decimal"
              placeholder="default"
              value={r.band}
              onChange={(e) => update(r.key, { band: e.target.value })}
              error={at("threshold_percent")}
            />
            <Field
              label="Substitutes"
              name={`substitutes-${i}`}
              placeholder="e.g. VOO, IVV"
              value={r.substitutes}
              onChange={(e) => update(r.key, { substitutes: e.target.value })}
              error={at("substitutes")}
            />
            <label className="inline">
              <input type="checkbox" checked={r.enabled} onChange={(e) => update(r.key, { enabled: e.target.checked })} />
              Enabled
            </label>
            <button
              type="button"
              className="secondary"
              aria-label={`Remove ${r.symbol || `target ${i + 1}`}`}
              onClick={() => setRows((current) => current.filter((x) => x.key !== r.key))}
            >
              Remove
            </button>
          </fieldset>
        );
      })}
      <div className="total-line">
        <button type="button" className="secondary" onClick={() => setRows((current) => [...current, row()])}>
          Add asset
        </button>
        <output
          aria-live="polite"
          data-testid="targets-total"
          className={Math.abs(left) < 0.005 ? "ok" : "warn"}
          aria-describedby={totalError ? "targets-total-error" : undefined}
        >
          Total {total.toFixed(2)} %{Math.abs(left) < 0.005 ? " ✓" : left > 0 ? ` (${left.toFixed(2)} to go)` : ` (${(-left).toFixed(2)} over)`}
        </output>
      </div>
      {totalError ? (
        <p id="targets-total-error" className="field-error" role="alert" data-testid="targets-total-error">
          {totalError}
        </p>
      ) : null}
      <ErrorText error={general} />
      <div className="actions">
        <button type="submit" disabled={busy || !loaded}>
          Save targets
        </button>
        {saved ? (
          <span role="status" className="ok">
            Saved.
          </span>
        ) : null}
      </div>
    </form>
  );
}
