// What if: replay the user's own portfolio under rebalancing policies (simulate_rebalancing),
// and the past runs, live from users/{uid}/simulations.
import { useEffect, useState, type FormEvent } from "react";
import { call } from "../api/callables";
import { errorAt, type CallError } from "../api/errors";
import { useCollection, when } from "../api/live";
import type {
  DriftMethod,
  PolicyFrequency,
  PolicySpec,
  PolicyStrategy,
  PolicyTrigger,
  SimulateRequest,
  SimulationReport as Report,
  StoredSimulation,
} from "../api/types";
import { ErrorText } from "../components/ErrorText";
import { Field } from "../components/Field";
import { usd } from "../format";
import { SelectField } from "../components/SelectField";
import { useUser } from "../session";
import { DEFAULT_POLICIES, DRIFT_METHODS, FREQUENCIES, STRATEGIES, TRIGGERS, describe } from "../simulation/policies";
import { SimulationReport } from "../simulation/SimulationReport";

interface Custom {
  name: string;
  trigger: PolicyTrigger;
  frequency: PolicyFrequency;
  threshold_percent: string;
  drift_method: DriftMethod;
  strategy: PolicyStrategy;
}

const NEW_CUSTOM: Custom = {
  name: "my policy",
  trigger: "threshold",
  frequency: "monthly",
  threshold_percent: "5",
  drift_method: "absolute",
  strategy: "threshold",
};

/** A number input's value: undefined when empty, NaN kept (the server names the field). */
function num(text: string): number | undefined {
  return text.trim() === "" ? undefined : Number(text);
}

function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 250);
    return () => window.clearInterval(timer);
  }, []);
  return <>{Math.max(0, (now - since) / 1000).toFixed(0)} s</>;
}

type Viewing = { kind: "fresh"; id: string; report: Report } | { kind: "stored"; id: string } | null;

export default function Simulate() {
  const user = useUser();
  const past = useCollection<StoredSimulation>(`users/${user.uid}/simulations`, 10);
  const [years, setYears] = useState("5");
  const [flow, setFlow] = useState("0");
  const [template, setTemplate] = useState("");
  const [penalty, setPenalty] = useState("");
  const [picked, setPicked] = useState<Set<string>>(() => new Set(DEFAULT_POLICIES.map((p) => p.name)));
  const [withCustom, setWithCustom] = useState(false);
  const [custom, setCustom] = useState<Custom>(NEW_CUSTOM);
  const [error, setError] = useState<CallError | null>(null);
  const [startedAt, setStartedAt] = useState<number | null>(null);
  const [viewing, setViewing] = useState<Viewing>(null);

  const chosen = DEFAULT_POLICIES.filter((p) => picked.has(p.name));
  const customIndex = chosen.length; // the custom policy goes last: policies.<index>.*
  const running = startedAt !== null;

  function request(): SimulateRequest {
    const data: SimulateRequest = {};
    const y = num(years);
    if (y !== undefined) data.years = y;
    const f = num(flow);
    if (f !== undefined && f !== 0) data.monthly_flow = f;
    const t = num(template);
    if (t !== undefined) data.template_value = t;
    const p = num(penalty);
    if (p !== undefined) data.tracking_penalty_bps = p;
    if (withCustom || chosen.length < DEFAULT_POLICIES.length) {
      const specs: PolicySpec[] = [...chosen];
      if (withCustom) {
        specs.push({
          name: custom.name,
          trigger: custom.trigger,
          frequency: custom.frequency,
          threshold_percent: num(custom.threshold_percent) ?? 5,
          drift_method: custom.drift_method,
          strategy: custom.strategy,
        });
      }
      data.policies = specs;
    }
    return data;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (running) return;
    setError(null);
    setStartedAt(Date.now());
    try {
      const result = await call("simulate_rebalancing", request());
      setViewing({ kind: "fresh", id: result.simulation_id, report: result });
    } catch (caught) {
      setError(caught as CallError);
    } finally {
      setStartedAt(null);
    }
  }

  const customError = (field: string) => (withCustom ? errorAt(error, `policies.${customIndex}.${field}`) : null);
  const shownAtField =
    errorAt(error, "years") ??
    errorAt(error, "monthly_flow") ??
    errorAt(error, "template_value") ??
    errorAt(error, "tracking_penalty_bps") ??
    (withCustom ? errorAt(error, `policies.${customIndex}`) : null);
  const general = error && !shownAtField ? error : null;
  // "policies.<i>: must be an object" and the like: about the custom policy as a whole.
  const customWhole = withCustom && error?.field === `policies.${customIndex}` ? error.detail : null;

  const stored = viewing?.kind === "stored" ? past.data.find((s) => s.id === viewing.id) : undefined;
  const report: Report | undefined = viewing?.kind === "fresh" ? viewing.report : stored;

  return (
    <>
      <h1>What if: rebalancing policies on your own portfolio</h1>
      <p className="lede">
        Replays the broker's daily closes over your lots, cash flows and tax rates under each policy, with the same
        triggers and planners as the live runs. Nothing is traded.
      </p>
      <div className="columns">
        <form className="card" aria-labelledby="sim-form-title" noValidate onSubmit={(e) => void submit(e)}>
          <h2 id="sim-form-title">Simulate</h2>
          <div className="grid-2">
            <Field
              label="Years of history (1–10)"
              type="number"
              inputMode="numeric"
              min={1}
              max={10}
              step={1}
              value={years}
              onChange={(e) => setYears(e.target.value)}
              error={errorAt(error, "years")}
            />
            <Field
              label="Monthly contribution ($, negative withdraws)"
              type="number"
              step="any"
              value={flow}
              onChange={(e) => setFlow(e.target.value)}
              error={errorAt(error, "monthly_flow")}
            />
            <Field
              label="Start from cash instead ($, optional)"
              type="number"
              step="any"
              placeholder="your own lots"
              value={template}
              onChange={(e) => setTemplate(e.target.value)}
              error={errorAt(error, "template_value")}
              hint="Empty: start from your own lots and their gains."
            />
            <Field
              label="Tracking penalty (bps per point)"
              type="number"
              step="any"
              placeholder="10"
              value={penalty}
              onChange={(e) => setPenalty(e.target.value)}
              error={errorAt(error, "tracking_penalty_bps")}
              hint="Score = after-tax end less this much of the end value per point of tracking error."
            />
          </div>
          <fieldset className="policy-picks">
            <legend>
              Policies ({chosen.length} of {DEFAULT_POLICIES.length} defaults{withCustom ? " + 1 custom" : ""})
            </legend>
            <div className="actions">
              <button type="button" className="secondary" onClick={() => setPicked(new Set(DEFAULT_POLICIES.map((p) => p.name)))}>
                All defaults
              </button>
              <button type="button" className="secondary" onClick={() => setPicked(new Set())}>
                No defaults
              </button>
            </div>
            <ul className="picks">
              {DEFAULT_POLICIES.map((p) => (
                <li key={p.name}>
                  <label className="inline" title={describe(p)}>
                    <input
                      type="checkbox"
                      checked={picked.has(p.name)}
                      onChange={() =>
                        setPicked((now) => {
                          const next = new Set(now);
                          if (!next.delete(p.name)) next.add(p.name);
                          return next;
                        })
                      }
                    />
                    {p.name}
                  </label>
                </li>
              ))}
            </ul>
            <label className="inline">
              <input type="checkbox" checked={withCustom} onChange={(e) => setWithCustom(e.target.checked)} />
              Add a custom policy
            </label>
            {withCustom ? (
              <fieldset className="custom" data-testid="custom-policy">
                <legend>Custom policy</legend>
                <div className="grid-2">
                  <Field
                    label="Name"
                    value={custom.name}
                    maxLength={60}
                    onChange={(e) => setCustom({ ...custom, name: e.target.value })}
                    error={customError("name")}
                  />
                  <SelectField
                    label="Trigger"
                    value={custom.trigger}
                    options={TRIGGERS}
                    onChange={(trigger) => setCustom({ ...custom, trigger })}
                    error={customError("trigger")}
                  />
                  <SelectField
                    label="Frequency"
                    value={custom.frequency}
                    options={FREQUENCIES}
                    onChange={(frequency) => setCustom({ ...custom, frequency })}
                    error={customError("frequency")}
                  />
                  <Field
                    label="Threshold (%)"
                    type="number"
                    step="any"
                    min={0.01}
                    max={100}
                    value={custom.threshold_percent}
                    onChange={(e) => setCustom({ ...custom, threshold_percent: e.target.value })}
                    error={customError("threshold_percent")}
                  />
                  <SelectField
                    label="Drift method"
                    value={custom.drift_method}
                    options={DRIFT_METHODS}
                    onChange={(drift_method) => setCustom({ ...custom, drift_method })}
                    error={customError("drift_method")}
                  />
                  <SelectField
                    label="Strategy"
                    value={custom.strategy}
                    options={STRATEGIES}
                    onChange={(strategy) => setCustom({ ...custom, strategy })}
                    error={customError("strategy")}
                  />
                </div>
                <ErrorText error={customWhole} />
              </fieldset>
            ) : null}
          </fieldset>
          <ErrorText error={general} />
          <div className="actions">
            <button type="submit" className="primary-action" disabled={running} aria-describedby="sim-progress">
              {running ? "Simulating…" : "Run the simulation"}
            </button>
            <span id="sim-progress" role="status" data-testid="sim-progress">
              {running ? (
                <>
                  <progress aria-label="Simulation running" /> Replaying {years || "?"} years…{" "}
                  <Elapsed since={startedAt} /> (you can keep using the app)
                </>
              ) : null}
            </span>
          </div>
        </form>
        <section className="card" aria-labelledby="past-title">
          <h2 id="past-title">Past simulations</h2>
          {past.error ? <p className="error">{past.error}</p> : null}
          {past.loading ? <p role="status">Loading…</p> : null}
          {!past.loading && past.data.length === 0 ? <p>None yet: run one.</p> : null}
          <ul className="past" data-testid="past-simulations">
            {past.data.map((s) => {
              const open = viewing?.id === s.id;
              return (
                <li key={s.id}>
                  <button
                    type="button"
                    className={open ? undefined : "secondary"}
                    aria-pressed={open}
                    onClick={() => setViewing({ kind: "stored", id: s.id })}
                  >
                    {when(s.created_at)} · {s.years} {s.years === 1 ? "year" : "years"} · {s.results.length} policies
                  </button>
                  <span className="past-best">
                    best: {s.recommendation.best}
                    {s.monthly_flow ? ` · ${usd(s.monthly_flow)}/month` : ""}
                    {s.template_value ? ` · from ${usd(s.template_value)} cash` : ""}
                  </span>
                </li>
              );
            })}
          </ul>
        </section>
      </div>
      {report && viewing ? (
        <>
          <p className="viewing" data-testid="viewing">
            {viewing.kind === "fresh"
              ? "The simulation just run (stored under Past simulations)."
              : stored
                ? `Stored simulation of ${when(stored.created_at)}: ${stored.first_day} to ${stored.last_day}.`
                : ""}
          </p>
          <SimulationReport key={viewing.id} report={report} title="Simulation results" />
        </>
      ) : null}
    </>
  );
}
