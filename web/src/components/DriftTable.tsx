import type { DriftRow } from "../api/types";
import { label, pct, signed, usd } from "../format";

interface Props {
  rows: DriftRow[];
  caption: string;
  testId?: string;
}

/** Target and actual weight, drift in points and relative, band, action, critical. */
export function DriftTable({ rows, caption, testId = "drift-table" }: Props) {
  return (
    <table className="data" data-testid={testId}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Symbol</th>
          <th scope="col">Target %</th>
          <th scope="col">Actual %</th>
          <th scope="col">Drift (points)</th>
          <th scope="col">Drift (relative %)</th>
          <th scope="col">Band (±)</th>
          <th scope="col">Value</th>
          <th scope="col">Action</th>
          <th scope="col">Critical</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.symbol} className={row.critical ? "critical" : row.needs_rebalance ? "breach" : undefined}>
            <th scope="row">{row.symbol}</th>
            <td>{pct(row.target_percent)}</td>
            <td>{pct(row.actual_percent)}</td>
            <td className={row.drift_percent > 0 ? "over" : row.drift_percent < 0 ? "under" : undefined}>
              {signed(row.drift_percent)}
            </td>
            <td>{signed(row.relative_drift_percent)}</td>
            <td>{row.threshold_percent === null ? "—" : row.threshold_percent.toFixed(2)}</td>
            <td>{usd(row.market_value)}</td>
            <td>
              <span className={`action action-${row.action}`}>{label(row.action)}</span>
              {row.needs_rebalance ? <span className="sr-note"> (outside its band)</span> : null}
            </td>
            <td>{row.critical ? <strong className="badge-critical">Critical</strong> : "No"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
