import type { Plan } from "../api/types";
import { label, pct, qty, usd } from "../format";

/** Every trade of a plan with its estimates, the totals, and the plan's notes. */
export function PlanReview({ plan }: { plan: Plan }) {
  const trades = plan.trades ?? [];
  const totals = plan.totals;
  return (
    <div className="plan-review" data-testid="plan-review">
      <p>
        Strategy <strong>{label(plan.strategy)}</strong>
        {plan.reason ? <> · {plan.reason}</> : null} · status <strong>{label(String(plan.status))}</strong>
        {plan.drift_after ? <> · max drift after {pct(plan.drift_after.max_drift_percent)}</> : null}
      </p>
      {plan.tax_limit_exceeded ? (
        <p className="warn" role="alert">
          The estimated tax is above your tax limit.
        </p>
      ) : null}
      {trades.length === 0 ? (
        <p>Nothing to trade: every asset is inside its band for this strategy.</p>
      ) : (
        <table className="data">
          <caption>Trades of the plan, sells first (nothing is placed until you execute)</caption>
          <thead>
            <tr>
              <th scope="col">Side</th>
              <th scope="col">Symbol</th>
              <th scope="col">Quantity</th>
              <th scope="col">Price</th>
              <th scope="col">Value</th>
              <th scope="col">Est. cost</th>
              <th scope="col">Short-term gain</th>
              <th scope="col">Long-term gain</th>
              <th scope="col">Est. tax</th>
              <th scope="col">Drift removed</th>
            </tr>
          </thead>
          <tbody>
            {trades.map((t, i) => (
              <tr key={`${t.symbol}-${i}`}>
                <td>
                  <span className={`action action-${t.side}`}>{label(t.side)}</span>
                </td>
                <th scope="row">{t.symbol}</th>
                <td>{qty(t.qty)}</td>
                <td>{usd(Number(t.price))}</td>
                <td>{usd(t.estimated_value)}</td>
                <td>{usd(t.estimated_cost)}</td>
                <td>{usd(t.short_term_gain)}</td>
                <td>{usd(t.long_term_gain)}</td>
                <td>{usd(t.estimated_tax)}</td>
                <td>{t.drift_removed_percent === null ? "—" : `${t.drift_removed_percent.toFixed(2)} pts`}</td>
              </tr>
            ))}
          </tbody>
          {totals ? (
            <tfoot>
              <tr>
                <th scope="row" colSpan={4}>
                  Totals: {totals.orders} orders, turnover {usd(totals.turnover)} (sell {usd(totals.sell_value)}, buy{" "}
                  {usd(totals.buy_value)})
                </th>
                <td>{usd(totals.turnover)}</td>
                <td>{usd(totals.estimated_cost)}</td>
                <td>{usd(totals.short_term_gain)}</td>
                <td>{usd(totals.long_term_gain)}</td>
                <td data-testid="plan-total-tax">{usd(totals.estimated_tax)}</td>
                <td />
              </tr>
            </tfoot>
          ) : null}
        </table>
      )}
      {plan.notes && plan.notes.length > 0 ? (
        <ul className="notes" aria-label="Notes of the plan">
          {plan.notes.map((n, i) => (
            <li key={i}>
              {n.symbol ? <strong>{n.symbol}: </strong> : null}
              {n.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
