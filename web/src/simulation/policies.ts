// The policies simulate_rebalancing runs when none is given
// (functions/rebalancer/domain/simulation/policies.py, default_policies), as specs the
// form can send back: a subset of them, and at most one custom policy.
import type { DriftMethod, PolicyFrequency, PolicySpec, PolicyStrategy, PolicyTrigger } from "../api/types";

export const DEFAULT_POLICIES: readonly PolicySpec[] = [
  { name: "never (buy and hold)", trigger: "manual", strategy: "threshold" },
  { name: "monthly to target", trigger: "calendar", frequency: "monthly", strategy: "full" },
  { name: "quarterly to target", trigger: "calendar", frequency: "quarterly", strategy: "full" },
  { name: "annually to target", trigger: "calendar", frequency: "annually", strategy: "full" },
  { name: "threshold 3 % absolute", trigger: "threshold", threshold_percent: 3, strategy: "threshold" },
  { name: "threshold 5 % absolute", trigger: "threshold", threshold_percent: 5, strategy: "threshold" },
  { name: "threshold 10 % absolute", trigger: "threshold", threshold_percent: 10, strategy: "threshold" },
  {
    name: "threshold 20 % relative",
    trigger: "threshold",
    threshold_percent: 20,
    drift_method: "relative",
    strategy: "threshold",
  },
  {
    name: "threshold 25 % relative",
    trigger: "threshold",
    threshold_percent: 25,
    drift_method: "relative",
    strategy: "threshold",
  },
  { name: "annually or 5 %, to target", trigger: "combined", frequency: "annually", strategy: "full" },
  { name: "5 % band, to its edge", trigger: "threshold", strategy: "band" },
  { name: "tax-aware, 5 % band", trigger: "threshold", strategy: "tax_aware" },
  { name: "annual check, 5 % bands", trigger: "calendar", frequency: "annually", strategy: "threshold" },
];

export const TRIGGERS: readonly PolicyTrigger[] = ["threshold", "calendar", "combined", "manual"];
export const FREQUENCIES: readonly PolicyFrequency[] = ["weekly", "monthly", "quarterly", "annually"];
export const DRIFT_METHODS: readonly DriftMethod[] = ["absolute", "relative"];
export const STRATEGIES: readonly PolicyStrategy[] = ["full", "threshold", "band", "cash_flow", "tax_aware"];

/** How a policy reads in a sentence: "threshold 5 % absolute, threshold strategy". */
export function describe(spec: PolicySpec): string {
  const trigger =
    spec.trigger === "calendar"
      ? `every ${spec.frequency ?? "monthly"} period`
      : spec.trigger === "threshold"
        ? `drift past ${spec.threshold_percent ?? 5} % ${spec.drift_method ?? "absolute"}`
        : spec.trigger === "combined"
          ? `${spec.frequency ?? "monthly"} or drift past ${spec.threshold_percent ?? 5} %`
          : "never";
  return `${trigger}; ${(spec.strategy ?? "threshold").replace("_", " ")} strategy`;
}
