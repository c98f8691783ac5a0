import { lazy, Suspense, useState } from "react";
import { millis, useCollection, when } from "../api/live";
import type { DriftRow, OrderResult, Plan } from "../api/types";
import { label, pct, qty, usd } from "../format";
import { useUser } from "../session";

const DriftChart = lazy(() => import("../components/DriftChart"));

interface DriftLog {
  created_at: unknown;
  max_drift_percent: number | null;
  assets: DriftRow[];
  dry_run?: boolean;
  trigger?: string;
}

type HistoryEntry = Plan & { created_at: unknown; orders?: OrderResult[] };

function Orders({ orders }: { orders: OrderResult[] }) {
  if (orders.length === 0) return <p>No orders were placed.</p>;
  return (
    <table className="data compact">
      <caption>Orders</caption>
      <thead>
        <tr>
          <th scope="col">Side</th>
          <th scope="col">Symbol</th>
          <th scope="col">Qty</th>
          <th scope="col">Filled</th>
          <th scope="col">Avg price</th>
          <th scope="col">Status</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {orders.map((o, i) => (
          <tr key={o.client_order_id ?? i}>
            <td>{label(o.side)}</td>
            <th scope="row">{o.symbol}</th>
            <td>{qty(o.qty)}</td>
            <td>{qty(o.filled_qty)}</td>
            <td>{o.filled_avg_price ? usd(Number(o.filled_avg_price)) : "—"}</td>
            <td>{label(o.status)}</td>
            <td>{o.error ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function History() {
  const user = useUser();
  const plans = useCollection<HistoryEntry>(`users/${user.uid}/rebalanceHistory`, 50);
  const logs = useCollection<DriftLog>(`users/${user.uid}/driftLogs`, 200);
  const [open, setOpen] = useState<string | null>(null);
  const points = [...logs.data]
    .map((log) => ({ at: millis(log.created_at), max_drift_percent: log.max_drift_percent, assets: log.assets ?? [] }))
    .sort((a, b) => a.at - b.at);

  return (
    <>
      <h1>History</h1>
      <section className="card" aria-labelledby="chart-title">
        <h2 id="chart-title">Drift over time</h2>
        <p>
          From the drift logs ({points.length} checks): the max drift, and each asset's drift against its band (dashed
          lines).
        </p>
        {logs.error ? <p className="error">{logs.error}</p> : null}
        <figure data-testid="drift-chart" aria-label={`Drift over time, ${points.length} checks`}>
          {points.length > 0 ? (
            <Suspense fallback={<p role="status">Loading chart…</p>}>
              <DriftChart points={points} />
            </Suspense>
          ) : (
            <p>No drift checks yet.</p>
          )}
        </figure>
      </section>
      <section className="card" aria-labelledby="plans-title">
        <h2 id="plans-title">Plans</h2>
        {plans.error ? <p className="error">{plans.error}</p> : null}
        {plans.loading ? <p role="status">Loading…</p> : null}
        <table className="data" data-testid="history-table">
          <caption>Past plans, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Reason</th>
              <th scope="col">Strategy</th>
              <th scope="col">Status</th>
              <th scope="col">Orders</th>
              <th scope="col">Est. tax</th>
              <th scope="col">Max drift before → after</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {plans.data.map((p) => {
              const placed = (p.orders ?? []).filter((o) => o.order_id).length;
              return (
                <tr key={p.id} data-status={p.status}>
                  <td>{when(p.created_at)}</td>
                  <td>{p.reason ?? "—"}</td>
                  <td>{label(p.strategy ?? "—")}</td>
                  <td>{label(String(p.status))}</td>
                  <td>
                    {placed} placed / {p.trades?.length ?? p.orders?.length ?? 0} planned
                  </td>
                  <td>{usd(p.totals?.estimated_tax)}</td>
                  <td>
                    {pct(p.drift_before?.max_drift_percent)} → {pct(p.drift_after?.max_drift_percent)}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Orders of the ${label(p.strategy ?? "")} plan of ${when(p.created_at)}`}
                      aria-expanded={open === p.id}
                      aria-controls={`orders-${p.id}`}
                      onClick={() => setOpen(open === p.id ? null : p.id)}
                    >
                      Orders
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {open ? (
          <div id={`orders-${open}`}>
            <Orders orders={plans.data.find((p) => p.id === open)?.orders ?? []} />
          </div>
        ) : null}
      </section>
    </>
  );
}
