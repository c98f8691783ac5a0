import { useEffect, useState } from "react";
import { call } from "../api/callables";
import type { CallError } from "../api/errors";
import type { Schedule as ScheduleState } from "../api/types";
import { CheckError } from "../components/DriftSummary";
import { Link } from "../components/Link";
import { label, pct, usd } from "../format";

const yes = (value: boolean) => (value ? "Yes" : "No");

export default function Schedule() {
  const [state, setState] = useState<ScheduleState | null>(null);
  const [error, setError] = useState<CallError | null>(null);

  useEffect(() => {
    call("get_schedule", {})
      .then(setState)
      .catch((caught: CallError) => setError(caught));
  }, []);

  const goal = state?.goal_progress;
  return (
    <>
      <h1>Schedule and goal</h1>
      <CheckError error={error} />
      {!state && !error ? <p role="status">Loading…</p> : null}
      {state ? (
        <div className="columns">
          <section className="card" aria-labelledby="sched-title">
            <h2 id="sched-title">Schedule</h2>
            <dl className="pairs" data-testid="schedule">
              <dt>Nightly rebalancing</dt>
              <dd>{state.rebalancing_enabled ? (state.paused ? "On, paused" : "On") : "Off"}</dd>
              <dt>Trigger</dt>
              <dd>{label(state.trigger)}</dd>
              <dt>Calendar</dt>
              <dd>{label(state.calendar_frequency)}</dd>
              <dt>Next calendar date</dt>
              <dd>
                {state.next_calendar_date
                  ? `${state.next_calendar_date} (in ${state.days_until_next ?? 0} days)`
                  : "None (the trigger is not a calendar)"}
              </dd>
              <dt>Last automatic run</dt>
              <dd>{state.last_run_on ?? "Never"}</dd>
              <dt>Cooldown until</dt>
              <dd>{state.cooldown_until ?? "—"}</dd>
              <dt>Auto-execute</dt>
              <dd>{yes(state.auto_execute)}</dd>
              <dt>Threshold breach pending</dt>
              <dd>{yes(state.threshold_breach_pending)}</dd>
              <dt>Max drift now</dt>
              <dd>{pct(state.max_drift_percent)}</dd>
            </dl>
            <Link href="/settings">Change the schedule in Settings</Link>
          </section>
          <section className="card" aria-labelledby="goal-title">
            <h2 id="goal-title">Goal</h2>
            {goal ? (
              <dl className="pairs" data-testid="goal">
                <dt>Goal</dt>
                <dd>{goal.name}</dd>
                <dt>Progress</dt>
                <dd>
                  <progress max={100} value={Math.min(100, Math.max(0, goal.progress_percent))} aria-label="Goal progress" />{" "}
                  {pct(goal.progress_percent, 1)}
                </dd>
                <dt>On track</dt>
                <dd>{goal.on_track ? "✓ Yes" : "✕ No"}</dd>
                <dt>Expected value today</dt>
                <dd>{usd(goal.expected_value)}</dd>
                <dt>Required monthly contribution</dt>
                <dd>{usd(goal.required_monthly_contribution)}</dd>
                <dt>Days remaining</dt>
                <dd>{goal.days_remaining}</dd>
              </dl>
            ) : (
              <p>
                No goal set. <Link href="/settings">Set one in Settings</Link>.
              </p>
            )}
          </section>
        </div>
      ) : null}
    </>
  );
}
