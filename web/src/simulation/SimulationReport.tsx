// A simulation's answer (fresh from the callable or stored): the recommendation, every
// policy in a sortable table, the charts over time, and the look ahead.
import { lazy, Suspense, useState } from "react";
import type { ForwardView, PolicyResult, SimulationReport as Report } from "../api/types";
import { pct, usd } from "../format";

// Whole dollars in the wide table (cents are in the charts' tooltips and the stored run).
const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
const usd0 = (value: number) => dollars.format(value);
import { lineStyle } from "./lineStyle";
import { describe } from "./policies";

const SimulationCharts = lazy(() => import("./SimulationCharts"));

type Key = keyof Omit<PolicyResult, "policy" | "rebalance_days" | "series"> | "name";

const COLUMNS: { key: Key; label: string; format: (r: PolicyResult) => string }[] = [
  { key: "name", label: "Policy", format: (r) => r.policy.name },
  { key: "score", label: "Score ($)", format: (r) => usd0(r.score) },
  { key: "after_tax_ending_value", label: "After-tax end ($)", format: (r) => usd0(r.after_tax_ending_value) },
  { key: "ending_value", label: "End value ($)", format: (r) => usd0(r.ending_value) },
  { key: "tax_paid", label: "Tax paid ($)", format: (r) => usd0(r.tax_paid) },
  { key: "costs", label: "Costs ($)", format: (r) => usd0(r.costs) },
  { key: "turnover", label: "Turnover ($)", format: (r) => usd0(r.turnover) },
  { key: "rebalances", label: "Rebalances", format: (r) => String(r.rebalances) },
  { key: "orders", label: "Orders", format: (r) => String(r.orders) },
  { key: "tracking_error_percent", label: "Tracking error (%/yr)", format: (r) => pct(r.tracking_error_percent) },
  { key: "max_drift_percent", label: "Max drift (%)", format: (r) => pct(r.max_drift_percent) },
  { key: "mean_drift_percent", label: "Mean drift (%)", format: (r) => pct(r.mean_drift_percent) },
  {
    key: "days_beyond_critical",
    label: "Days beyond critical drift",
    format: (r) => String(r.days_beyond_critical ?? 0),
  },
  { key: "short_term_gains", label: "Short-term gains ($)", format: (r) => usd0(r.short_term_gains) },
  { key: "long_term_gains", label: "Long-term gains ($)", format: (r) => usd0(r.long_term_gains) },
  { key: "losses_harvested", label: "Losses harvested ($)", format: (r) => usd0(r.losses_harvested) },
];

function value(result: PolicyResult, key: Key): number | string {
  return key === "name" ? result.policy.name : (result[key] ?? 0);
}

// The server recommends only policies beyond the critical drift on at most 5 % of the days.
const MAX_SHARE_BEYOND = 0.05;

function beyondCritical(result: PolicyResult, days: number): boolean {
  return days > 0 && (result.days_beyond_critical ?? 0) > MAX_SHARE_BEYOND * days;
}

function Recommendation({ report }: { report: Report }) {
  const { best, runner_up, gap, reason } = report.recommendation;
  return (
    <section className="card recommendation" aria-labelledby="rec-title" data-testid="recommendation">
      <h2 id="rec-title">Recommendation</h2>
      <p className="rec-best">
        <span aria-hidden="true">★ </span>Best: <strong data-testid="rec-best">{best}</strong>
      </p>
      <dl className="summary">
        <div>
          <dt>Runner-up</dt>
          <dd data-testid="rec-runner-up">{runner_up ?? "—"}</dd>
        </div>
        <div>
          <dt>Ahead by (score)</dt>
          <dd data-testid="rec-gap">{usd(gap)}</dd>
        </div>
        <div>
          <dt>Days replayed</dt>
          <dd>{report.days}</dd>
        </div>
        <div>
          <dt>Computed in</dt>
          <dd>{report.seconds.toFixed(1)} s</dd>
        </div>
      </dl>
      <p data-testid="rec-reason">{reason}</p>
    </section>
  );
}

function PolicyTable({ report }: { report: Report }) {
  const [sort, setSort] = useState<{ key: Key; descending: boolean }>({ key: "score", descending: true });
  const best = report.recommendation.best;
  const rows = [...report.results].sort((a, b) => {
    const x = value(a, sort.key);
    const y = value(b, sort.key);
    const order = typeof x === "string" ? x.localeCompare(String(y)) : x - Number(y);
    return sort.descending ? -order : order;
  });
  function by(key: Key) {
    setSort((now) => ({ key, descending: now.key === key ? !now.descending : key !== "name" }));
  }
  return (
    // Wider than the page on small screens: the scroll area takes the keyboard focus.
    <div className="table-scroll" role="region" aria-label="Policies compared, scrollable" tabIndex={0}>
      <table className="data compact" data-testid="policy-table">
        <caption>
          Every policy, sorted by {COLUMNS.find((c) => c.key === sort.key)?.label.toLowerCase()} (
          {sort.descending ? "highest" : "lowest"} first); the best is marked ★. Policies that leave an asset
          beyond the critical drift on more than 5 % of the days are not recommended, whatever their score. Choose a
          column heading to sort.
        </caption>
        <thead>
          <tr>
            {COLUMNS.map((column) => (
              <th
                key={column.key}
                scope="col"
                aria-sort={sort.key === column.key ? (sort.descending ? "descending" : "ascending") : undefined}
              >
                <button type="button" className="sort" onClick={() => by(column.key)}>
                  {column.label}
                  <span aria-hidden="true">{sort.key === column.key ? (sort.descending ? " ▼" : " ▲") : ""}</span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((result) => {
            const isBest = result.policy.name === best;
            return (
              <tr key={result.policy.name} className={isBest ? "best" : undefined} data-best={isBest || undefined}>
                <th scope="row" title={describe(result.policy)}>
                  {isBest ? <span className="badge-best">★ Best</span> : null} {result.policy.name}
                  {beyondCritical(result, report.days) ? (
                    <span className="badge-out" data-testid="beyond-critical">
                      {" "}
                      (not recommended: beyond the critical drift on more than 5 % of the days)
                    </span>
                  ) : null}
                </th>
                {COLUMNS.slice(1).map((column) => (
                  <td key={column.key}>{column.format(result)}</td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Forward({ forward }: { forward: ForwardView | null }) {
  if (!forward) return <p>No look ahead: the history is too short to estimate volatility.</p>;
  const chance = (p: number) => pct(p * 100, 1);
  return (
    <table className="data" data-testid="forward-table">
      <caption>
        Chance of leaving the band from today ({forward.paths.toLocaleString()} simulated paths, seed {forward.seed})
      </caption>
      <thead>
        <tr>
          <th scope="col">Asset</th>
          <th scope="col">Within 30 days (%)</th>
          <th scope="col">Within 90 days (%)</th>
          <th scope="col">Expected days to leave</th>
        </tr>
      </thead>
      <tbody>
        {forward.assets.map((a) => (
          <tr key={a.symbol}>
            <th scope="row">{a.symbol}</th>
            <td>{chance(a.breach_within_30_days)}</td>
            <td>{chance(a.breach_within_90_days)}</td>
            <td>
              {a.expected_days_to_breach === null
                ? "beyond the horizon"
                : a.expected_days_to_breach === 0
                  ? "0 (outside its band now)"
                  : a.expected_days_to_breach.toFixed(0)}
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Any asset</th>
          <td>{chance(forward.any_breach_within_30_days)}</td>
          <td>{chance(forward.any_breach_within_90_days)}</td>
          <td />
        </tr>
      </tfoot>
    </table>
  );
}

/** The policies shown at first: the four best scores (the best among them). */
function initiallyShown(report: Report): Set<string> {
  const top = [...report.results].sort((a, b) => b.score - a.score).slice(0, 4);
  return new Set([report.recommendation.best, ...top.map((r) => r.policy.name)]);
}

function Charts({ report }: { report: Report }) {
  const [shown, setShown] = useState<Set<string>>(() => initiallyShown(report));
  const toggle = (name: string) =>
    setShown((now) => {
      const next = new Set(now);
      if (!next.delete(name)) next.add(name);
      return next;
    });
  const best = report.recommendation.best;
  return (
    <section className="card" aria-labelledby="charts-title">
      <h2 id="charts-title">Over time</h2>
      <fieldset className="toggles">
        <legend>Policies on the charts</legend>
        <div className="actions">
          <button type="button" className="secondary" onClick={() => setShown(new Set(report.results.map((r) => r.policy.name)))}>
            Show all
          </button>
          <button type="button" className="secondary" onClick={() => setShown(initiallyShown(report))}>
            Show the four best
          </button>
          <button type="button" className="secondary" onClick={() => setShown(new Set())}>
            Hide all
          </button>
        </div>
        {report.results.map((result, i) => {
          const style = lineStyle(i);
          const name = result.policy.name;
          return (
            <label key={name} className="inline toggle">
              <input type="checkbox" checked={shown.has(name)} onChange={() => toggle(name)} />
              <svg width="28" height="10" aria-hidden="true">
                <line x1="0" y1="5" x2="28" y2="5" stroke={style.colour} strokeWidth={name === best ? 4 : 2} strokeDasharray={style.dash} />
              </svg>
              {name}
              {name === best ? " (best)" : ""}
            </label>
          );
        })}
      </fieldset>
      <Suspense fallback={<p role="status">Loading charts…</p>}>
        <SimulationCharts results={report.results} shown={shown} best={best} onToggle={toggle} />
      </Suspense>
    </section>
  );
}

export function SimulationReport({ report, title }: { report: Report; title: string }) {
  return (
    <div data-testid="simulation-report" aria-label={title} role="region">
      <Recommendation report={report} />
      <section className="card" aria-labelledby="policies-title">
        <h2 id="policies-title">Policies compared ({report.results.length})</h2>
        <PolicyTable report={report} />
      </section>
      <Charts report={report} />
      <section className="card" aria-labelledby="forward-title">
        <h2 id="forward-title">Looking ahead</h2>
        <Forward forward={report.forward} />
      </section>
    </div>
  );
}
