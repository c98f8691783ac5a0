import { useEffect } from "react";
import { useDocument } from "../api/live";
import type { Leg, Plan } from "../api/types";
import { label, qty, usd } from "../format";
import { useUser } from "../session";
import { noteLegs } from "../appStatus";

const MARKS: Record<string, string> = {
  pending: "○",
  submitting: "…",
  open: "◔",
  filled: "✓",
  partially_filled: "◑",
  cancelled: "⊘",
  skipped: "↷",
  refused: "✕",
  failed: "✕",
};

const FINISHED = new Set(["completed_success", "completed_adjusted", "failed", "cancelled"]);

export function isFinished(status: string | undefined): boolean {
  return status !== undefined && FINISHED.has(status);
}

/** The plan's legs as the executor records them, live from a Firestore listener. */
export function LiveLegs({ planId, fallback }: { planId: string; fallback: Plan | null }) {
  const user = useUser();
  const live = useDocument<Plan>(`users/${user.uid}/rebalanceHistory/${planId}`);
  const plan = live.data ?? fallback;
  const legs: Leg[] = plan?.legs ?? [];
  useEffect(() => {
    noteLegs(live.data?.legs);
  }, [live.data]);
  return (
    <div data-testid="live-legs" aria-live="polite">
      <p>
        Plan status:{" "}
        <strong data-testid="plan-status" data-status={plan?.status ?? "unknown"}>
          {plan ? label(String(plan.status)) : "…"}
        </strong>
        {live.error ? <span className="warn"> (live updates unavailable: {live.error})</span> : null}
      </p>
      {legs.length === 0 ? (
        <p>Waiting for the first order…</p>
      ) : (
        <table className="data">
          <caption>Orders of the plan, live</caption>
          <thead>
            <tr>
              <th scope="col">Side</th>
              <th scope="col">Symbol</th>
              <th scope="col">Planned qty</th>
              <th scope="col">Sent qty</th>
              <th scope="col">Filled qty</th>
              <th scope="col">Avg price</th>
              <th scope="col">Status</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {legs.map((leg) => (
              <tr key={leg.index} data-leg-status={leg.status}>
                <td>{label(leg.side)}</td>
                <th scope="row">{leg.symbol}</th>
                <td>{qty(leg.planned_qty)}</td>
                <td>{qty(leg.qty)}</td>
                <td>{qty(leg.filled_qty)}</td>
                <td>{leg.filled_avg_price ? usd(Number(leg.filled_avg_price)) : "—"}</td>
                <td className={`leg leg-${leg.status}`}>
                  <span aria-hidden="true">{MARKS[leg.status] ?? ""} </span>
                  {label(leg.status)}
                </td>
                <td>{leg.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
