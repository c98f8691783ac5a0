import { lazy, Suspense } from "react";
import { DriftBars } from "../components/DriftBars";
import { CheckError, DriftSummary } from "../components/DriftSummary";
import { DriftTable } from "../components/DriftTable";
import { Link } from "../components/Link";
import { TargetsEditor } from "../components/TargetsEditor";
import { useDryRun } from "../hooks/useDryRun";

// The charts library is the heaviest dependency: the table and bars do not wait for it.
const Donuts = lazy(() => import("../components/Donuts"));

export default function Drift() {
  const { check, error, busy, run } = useDryRun(true);
  return (
    <>
      <h1>Allocation and drift</h1>
      <div className="columns">
        <TargetsEditor onSaved={() => void run()} />
        <section className="card" aria-labelledby="drift-title" aria-busy={busy}>
          <h2 id="drift-title">Drift now</h2>
          <div className="actions">
            <button type="button" onClick={() => void run()} disabled={busy}>
              Refresh drift
            </button>
            {check?.needs_rebalance ? <Link href="/rebalance">Review a rebalance</Link> : null}
          </div>
          {busy && !check ? <p role="status">Measuring drift…</p> : null}
          <CheckError error={error} />
          {check ? (
            <>
              <DriftSummary check={check} />
              <DriftTable rows={check.drift_analysis} caption="Drift by asset (dry run: nothing traded)" />
              <DriftBars rows={check.drift_analysis} />
            </>
          ) : null}
        </section>
      </div>
      {check ? (
        <section className="card" aria-label="Target and actual allocation">
          <Suspense fallback={<p role="status">Loading charts…</p>}>
            <Donuts rows={check.drift_analysis} cashPercent={check.cash_percent} />
          </Suspense>
        </section>
      ) : null}
    </>
  );
}
