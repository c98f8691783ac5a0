import { useCollection, when } from "../api/live";
import { Link } from "../components/Link";
import { pct, usd } from "../format";
import { useUser } from "../session";
import { useAppStatus } from "../appStatus";

interface DriftAlert {
  created_at: unknown;
  reason: string;
  plan_id: string;
  max_drift_percent: number | null;
  orders: number;
  estimated_tax: number;
  message: string;
  read: boolean;
}

/** The drift alerts the nightly run wrote (auto-execute off), each with its plan. */
export default function Alerts() {
  const user = useUser();
  const alerts = useCollection<DriftAlert>(`users/${user.uid}/driftAlerts`, 50);
  const { status } = useAppStatus();
  return (
    <>
      <h1>Alerts</h1>
      <section className="card" aria-labelledby="trading-title">
        <h2 id="trading-title">Trading</h2>
        <p data-testid="trading-state">
          {status === null
            ? "Asking the server…"
            : status.trading_enabled
              ? "On: orders are placed when you approve a plan (or the nightly run does)."
              : `Off: ${status.trading_message ?? "the kill-switch is on"}`}
        </p>
      </section>
      <section className="card" aria-labelledby="alerts-title">
        <h2 id="alerts-title">Drift alerts</h2>
        {alerts.error ? <p className="error">{alerts.error}</p> : null}
        {alerts.loading ? <p role="status">Loading…</p> : null}
        {!alerts.loading && alerts.data.length === 0 ? (
          <p>No alerts. The nightly run writes one when a rebalance is due and auto-execute is off.</p>
        ) : null}
        <ul className="alerts" data-testid="alerts">
          {alerts.data.map((a) => (
            <li key={a.id} className="card">
              <p>
                <strong>{a.reason}</strong> · {when(a.created_at)}
              </p>
              <p>{a.message}</p>
              <p>
                Max drift {pct(a.max_drift_percent)} · {a.orders} orders · est. tax {usd(a.estimated_tax)}
              </p>
              <Link href={`/rebalance?plan=${encodeURIComponent(a.plan_id)}`}>Review the plan</Link>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
