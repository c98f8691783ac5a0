import type { CallError } from "../api/errors";
import { useAppStatus } from "../appStatus";
import type { DriftCheck } from "../api/types";
import { pct, usd } from "../format";
import { ErrorText } from "./ErrorText";
import { Link } from "./Link";

/** What stops a drift check, with the way forward when there is one. */
export function CheckError({ error }: { error: CallError | null }) {
  const { status } = useAppStatus();
  if (!error) return null;
  // get_status says whether a broker is linked (no need to read the error's words).
  const hint = status?.broker_linked === false ? (
    <Link href="/broker">Link a broker account</Link>
  ) : /targets/.test(error.message) ? (
    <span>Set targets that sum to 100 on the Drift page.</span>
  ) : null;
  return (
    <div>
      <ErrorText error={error} />
      {hint}
    </div>
  );
}

/** The aggregates of a check: value, cash, max and total drift, whether to rebalance. */
export function DriftSummary({ check }: { check: DriftCheck }) {
  return (
    <dl className="summary" data-testid="drift-summary">
      <div>
        <dt>Portfolio</dt>
        <dd>{usd(check.portfolio_value)}</dd>
      </div>
      <div>
        <dt>Cash</dt>
        <dd>
          {usd(check.cash)} ({pct(check.cash_percent)})
        </dd>
      </div>
      <div>
        <dt>Max drift</dt>
        <dd>{pct(check.max_drift_percent)}</dd>
      </div>
      <div>
        <dt>Total drift</dt>
        <dd>{pct(check.total_drift_percent)}</dd>
      </div>
      <div>
        <dt>Needs rebalance</dt>
        <dd data-testid="needs-rebalance">
          {check.needs_rebalance ? (check.critical ? "Yes (critical)" : "Yes") : "No"}
        </dd>
      </div>
    </dl>
  );
}
