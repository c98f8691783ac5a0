import type { Plan } from "../api/types";
import { label, pct, usd } from "../format";

interface Props {
  plans: (Plan & { plan_id: string })[];
  selected: string | null;
  onSelect: (planId: string) => void;
}

/** The same rebalance by strategy: orders, turnover, tax, cost, max drift after. */
export function StrategyCompare({ plans, selected, onSelect }: Props) {
  return (
    <table className="data" data-testid="strategy-compare">
      <caption>Strategies compared (each is a proposal: nothing is placed)</caption>
      <thead>
        <tr>
          <th scope="col">Strategy</th>
          <th scope="col">Orders</th>
          <th scope="col">Turnover</th>
          <th scope="col">Est. tax</th>
          <th scope="col">Est. cost</th>
          <th scope="col">Max drift after</th>
          <th scope="col">Review</th>
        </tr>
      </thead>
      <tbody>
        {plans.map((p) => (
          <tr key={p.plan_id} aria-selected={p.plan_id === selected}>
            <th scope="row">{label(p.strategy)}</th>
            <td>{p.totals?.orders ?? 0}</td>
            <td>{usd(p.totals?.turnover)}</td>
            <td>{usd(p.totals?.estimated_tax)}</td>
            <td>{usd(p.totals?.estimated_cost)}</td>
            <td>{pct(p.drift_after?.max_drift_percent)}</td>
            <td>
              <button
                type="button"
                className={p.plan_id === selected ? undefined : "secondary"}
                aria-pressed={p.plan_id === selected}
                onClick={() => onSelect(p.plan_id)}
              >
                {p.plan_id === selected ? "Reviewing" : "Review"} {label(p.strategy)}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
