// The shapes the backend returns and stores (functions/rebalancer/entrypoints/responses.py,
// service/records.py, service/legs.py, service/nightly.py). Numbers are JSON numbers;
// order quantities and fill prices are exact decimal strings, as the broker has them.

export type Action = "buy" | "sell" | "hold";

export interface DriftRow {
  symbol: string;
  target_percent: number;
  actual_percent: number;
  drift_percent: number;
  relative_drift_percent: number | null;
  threshold_percent: number | null;
  market_value: number;
  target_value: number;
  needs_rebalance: boolean;
  critical: boolean;
  action: Action;
}

export interface GoalProgress {
  name: string;
  progress_percent: number;
  on_track: boolean;
  expected_value: number;
  required_monthly_contribution: number;
  days_remaining: number;
}

export interface OrderResult {
  symbol: string;
  side: string;
  qty: number | string | null;
  notional?: number | string | null;
  order_id: string | null;
  client_order_id?: string | null;
  status: string;
  filled_qty: number | string | null;
  filled_avg_price: number | string | null;
  error: string | null;
}

export interface DriftCheck {
  needs_rebalance: boolean;
  drift_analysis: DriftRow[];
  trades_executed: OrderResult[];
  trades_not_executed: OrderResult[];
  trades_skipped: { symbol: string; kind: string; reason: string; rule: string | null }[];
  portfolio_value: number;
  cash: number;
  cash_percent: number | null;
  critical: boolean;
  max_drift_percent: number | null;
  mean_drift_percent: number | null;
  rmse_drift_percent: number | null;
  total_drift_percent: number | null;
  message: string;
  dry_run: boolean;
  strategy: string | null;
  estimated_tax: number;
  drift_log_id: string;
  plan_id: string | null;
  goal_progress: GoalProgress | null;
}

export interface PlannedTrade {
  symbol: string;
  side: "buy" | "sell";
  qty: string;
  price: string;
  estimated_value: number;
  estimated_cost: number;
  short_term_gain: number;
  long_term_gain: number;
  estimated_tax: number;
  drift_removed_percent: number | null;
  tax_per_drift_point: number | null;
  reason: string;
  drift_percent: number | null;
}

export interface PlanNote {
  symbol: string | null;
  kind: string;
  message: string;
  rule: string | null;
}

export interface PlanTotals {
  orders: number;
  buy_value: number;
  sell_value: number;
  turnover: number;
  estimated_cost: number;
  short_term_gain: number;
  long_term_gain: number;
  estimated_tax: number;
}

export interface DriftSummary {
  portfolio_value: number;
  cash: number;
  assets: DriftRow[];
  max_drift_percent: number | null;
  mean_drift_percent: number | null;
  rmse_drift_percent: number | null;
  total_drift_percent: number | null;
  needs_rebalance: boolean;
}

export type LegStatus =
  | "pending"
  | "submitting"
  | "open"
  | "filled"
  | "partially_filled"
  | "cancelled"
  | "skipped"
  | "refused"
  | "failed";

export interface Leg {
  index: number;
  symbol: string;
  side: "buy" | "sell";
  planned_qty: string;
  price: string;
  status: LegStatus;
  qty: string | null;
  order_id: string | null;
  filled_qty: string | null;
  filled_avg_price: string | null;
  error: string | null;
}

export type PlanStatus =
  | "proposed"
  | "queued"
  | "executing"
  | "completed_success"
  | "completed_adjusted"
  | "failed"
  | "cancelled";

/** A plan as `propose_plan`, `get_plan` and `execute_plan` return it, and as stored. */
export interface Plan {
  plan_id?: string;
  status: PlanStatus | string;
  reason?: string;
  strategy: string;
  trades?: PlannedTrade[];
  notes?: PlanNote[];
  totals?: PlanTotals;
  tax_limit_exceeded?: boolean;
  projected_cash?: number;
  drift_before?: DriftSummary;
  drift_after?: DriftSummary;
  legs?: Leg[];
  orders?: OrderResult[];
  queued_until?: unknown;
  superseded_by?: string;
}

export interface Target {
  symbol: string;
  target_percent: number;
  threshold_percent: number | null;
  enabled: boolean;
  substitutes: string[];
}

export interface Goal {
  name: string;
  target_amount: number;
  target_date: string;
  priority: "low" | "medium" | "high";
  monthly_contribution: number | null;
  start_value: number | null;
  start_date?: string | null;
}

export type Settings = Record<string, unknown> & { goal: Goal | null };

export interface Schedule {
  rebalancing_enabled: boolean;
  paused: boolean;
  auto_execute: boolean;
  trigger: string;
  calendar_frequency: string;
  next_calendar_date: string | null;
  days_until_next: number | null;
  last_run_on: string | null;
  cooldown_until: string | null;
  threshold_breach_pending: boolean;
  max_drift_percent: number;
  goal_progress: GoalProgress | null;
}

export interface Linked {
  linked: boolean;
  account_number: string;
  status: string;
  paper: boolean;
}

/** `get_status`: whether orders may go out now (the kill-switch) and the caller's link. */
export interface AppStatus {
  trading_enabled: boolean;
  trading_message: string | null;
  broker_linked: boolean;
  account_number: string | null;
  paper: boolean | null;
}

// The what-if simulator (functions/rebalancer/adapters/documents.py, simulation_*).

export type PolicyTrigger = "threshold" | "calendar" | "combined" | "manual";
export type PolicyFrequency = "weekly" | "monthly" | "quarterly" | "annually";
export type DriftMethod = "absolute" | "relative";
export type PolicyStrategy = "full" | "threshold" | "band" | "cash_flow" | "tax_aware";

/** A policy as `simulate_rebalancing` takes it (every field but name and trigger optional). */
export interface PolicySpec {
  name: string;
  trigger: PolicyTrigger;
  frequency?: PolicyFrequency;
  threshold_percent?: number;
  drift_method?: DriftMethod;
  strategy?: PolicyStrategy;
}

export type Policy = Required<PolicySpec>;

export interface SimulationPoint {
  day: string;
  max_drift_percent: number;
  value: number;
  after_tax_value: number;
}

export interface PolicyResult {
  policy: Policy;
  tracking_error_percent: number;
  max_drift_percent: number;
  mean_drift_percent: number;
  /** Days ending with an asset beyond the user's critical drift (absent in older runs). */
  days_beyond_critical?: number;
  rebalances: number;
  orders: number;
  turnover: number;
  costs: number;
  short_term_gains: number;
  long_term_gains: number;
  tax_paid: number;
  losses_harvested: number;
  ending_value: number;
  after_tax_ending_value: number;
  score: number;
  rebalance_days: string[];
  series: SimulationPoint[];
}

export interface Recommendation {
  best: string;
  runner_up: string | null;
  gap: number;
  reason: string;
}

export interface ForwardBand {
  symbol: string;
  breach_within_30_days: number;
  breach_within_90_days: number;
  expected_days_to_breach: number | null;
}

export interface ForwardView {
  assets: ForwardBand[];
  any_breach_within_30_days: number;
  any_breach_within_90_days: number;
  paths: number;
  seed: number;
}

export interface SimulationReport {
  results: PolicyResult[];
  recommendation: Recommendation;
  forward: ForwardView | null;
  days: number;
  seconds: number;
}

/** `users/{uid}/simulations/{id}`: the report and what was asked. */
export interface StoredSimulation extends SimulationReport {
  created_at: unknown;
  years: number;
  first_day: string;
  last_day: string;
  monthly_flow: number;
  template_value: number | null;
}

export interface SimulateRequest {
  years?: number;
  policies?: PolicySpec[];
  monthly_flow?: number;
  template_value?: number;
  tracking_penalty_bps?: number;
}

/** Every callable, its request and its result. */
export interface Callables {
  link_broker: {
    req: { api_key_id?: string; secret_key?: string; oauth_token?: string; paper: boolean };
    res: Linked;
  };
  unlink_broker: { req: Record<string, never>; res: { unlinked: boolean } };
  set_targets: { req: { allocations: unknown[] }; res: { allocations: Target[] } };
  get_targets: { req: Record<string, never>; res: { allocations: Target[] } };
  check_rebalance_drift: { req: { dry_run?: boolean }; res: DriftCheck };
  propose_plan: {
    req: { strategy?: string; cash_to_invest?: number; cash_to_raise?: number };
    res: Plan & { plan_id: string };
  };
  execute_plan: { req: { plan_id: string }; res: Plan & { plan_id: string } };
  cancel_plan: { req: { plan_id: string }; res: Plan & { plan_id: string } };
  get_plan: { req: { plan_id: string }; res: Plan & { plan_id: string } };
  get_schedule: { req: Record<string, never>; res: Schedule };
  update_settings: { req: Record<string, unknown>; res: Settings };
  get_settings: { req: Record<string, never>; res: Settings };
  get_status: { req: Record<string, never>; res: AppStatus };
  simulate_rebalancing: { req: SimulateRequest; res: SimulationReport & { simulation_id: string } };
}

export type CallableName = keyof Callables;
