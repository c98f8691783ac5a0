import { useEffect, useState } from "react";
import { call } from "../api/callables";
import type { CallError } from "../api/errors";
import type { DriftCheck, Plan } from "../api/types";
import { CheckError, DriftSummary } from "../components/DriftSummary";
import { DriftTable } from "../components/DriftTable";
import { ErrorText } from "../components/ErrorText";
import { LiveLegs } from "../components/LiveLegs";
import { PlanReview } from "../components/PlanReview";
import { StrategyCompare } from "../components/StrategyCompare";
import { useDryRun } from "../hooks/useDryRun";
import { useLocation } from "../router";

type Proposal = Plan & { plan_id: string };
const STRATEGIES = ["full", "threshold", "band", "tax_aware", "cash_flow"] as const;

/** Dry run, strategies compared, the plan reviewed, executed in one click, legs live. */
export default function Rebalance() {
  const { params } = useLocation();
  const linkedPlan = params.get("plan");
  const dry = useDryRun(false);
  const [proposals, setProposals] = useState<Proposal[]>([]);
  const [selected, setSelected] = useState<string | null>(linkedPlan);
  const [loose, setLoose] = useState<Proposal | null>(null); // a plan opened by its id
  const [comparing, setComparing] = useState(false);
  const [error, setError] = useState<CallError | null>(null);
  const [executing, setExecuting] = useState<string | null>(null);
  const [result, setResult] = useState<Proposal | null>(null);
  const [finalDrift, setFinalDrift] = useState<DriftCheck | null>(null);

  useEffect(() => {
    if (!linkedPlan) return;
    call("get_plan", { plan_id: linkedPlan })
      .then(setLoose)
      .catch((caught: CallError) => setError(caught));
  }, [linkedPlan]);

  async function compare() {
    setComparing(true);
    setError(null);
    try {
      const plans = await Promise.all(STRATEGIES.map((strategy) => call("propose_plan", { strategy })));
      setProposals(plans);
      const first = plans.find((p) => p.strategy === "threshold" && (p.totals?.orders ?? 0) > 0) ?? plans[0];
      setSelected(first?.plan_id ?? null);
    } catch (caught) {
      setError(caught as CallError);
    } finally {
      setComparing(false);
    }
  }

  async function execute(planId: string) {
    setExecuting(planId);
    setResult(null);
    setFinalDrift(null);
    setError(null);
    try {
      setResult(await call("execute_plan", { plan_id: planId }));
      setFinalDrift(await call("check_rebalance_drift", { dry_run: true }));
    } catch (caught) {
      setError(caught as CallError);
    }
  }

  const plan = proposals.find((p) => p.plan_id === selected) ?? (loose?.plan_id === selected ? loose : null);
  const canExecute = plan && plan.status === "proposed" && (plan.trades?.length ?? 0) > 0 && executing !== plan.plan_id;
  return (
    <>
      <h1>Check and rebalance</h1>
      <section className="card" aria-labelledby="dry-title" aria-busy={dry.busy}>
        <h2 id="dry-title">1. Dry run</h2>
        <p>Measure the drift now, without trading.</p>
        <button type="button" onClick={() => void dry.run()} disabled={dry.busy}>
          Run a dry run
        </button>
        {dry.busy ? <p role="status">Measuring drift…</p> : null}
        <CheckError error={dry.error} />
        {dry.check ? (
          <>
            <p role="status">{dry.check.message}</p>
            <DriftSummary check={dry.check} />
            <DriftTable rows={dry.check.drift_analysis} caption="Drift now (dry run)" testId="dry-run-table" />
          </>
        ) : null}
      </section>

      <section className="card" aria-labelledby="compare-title" aria-busy={comparing}>
        <h2 id="compare-title">2. Compare strategies</h2>
        <button type="button" onClick={() => void compare()} disabled={comparing}>
          Compare strategies
        </button>
        {comparing ? <p role="status">Planning with every strategy…</p> : null}
        {proposals.length > 0 ? (
          <StrategyCompare plans={proposals} selected={selected} onSelect={setSelected} />
        ) : null}
      </section>

      {plan ? (
        <section className="card" aria-labelledby="review-title">
          <h2 id="review-title">3. Review the plan</h2>
          <PlanReview plan={plan} />
          <button type="button" className="primary-action" disabled={!canExecute} onClick={() => void execute(plan.plan_id)}>
            Execute this plan
          </button>
        </section>
      ) : null}

      <ErrorText error={error} />

      {executing ? (
        <section className="card" aria-labelledby="progress-title">
          <h2 id="progress-title">4. Orders, live</h2>
          <LiveLegs planId={executing} fallback={result} />
          {finalDrift ? (
            <>
              <h3>Final drift</h3>
              <DriftSummary check={finalDrift} />
              <DriftTable rows={finalDrift.drift_analysis} caption="Drift after the rebalance" testId="final-drift" />
            </>
          ) : null}
        </section>
      ) : null}
    </>
  );
}
