// Every preference update_settings takes (functions/rebalancer/api.py), as the form shows it.
export type Kind = "number" | "int" | "bool" | "choice" | "optional-number";

export interface Pref {
  key: string;
  label: string;
  kind: Kind;
  choices?: readonly string[];
  hint?: string;
}

export interface Group {
  title: string;
  prefs: Pref[];
}

export const GROUPS: Group[] = [
  {
    title: "Drift",
    prefs: [
      { key: "threshold_percent", label: "Band (threshold %)", kind: "number", hint: "0.01 to 100" },
      { key: "critical_percent", label: "Critical %", kind: "number", hint: "at least the threshold" },
      { key: "drift_method", label: "Drift method", kind: "choice", choices: ["absolute", "relative"] },
    ],
  },
  {
    title: "Strategy",
    prefs: [
      { key: "strategy", label: "Strategy", kind: "choice", choices: ["full", "threshold", "band", "cash_flow", "tax_aware"] },
      { key: "band_target", label: "Band strategy trades to", kind: "choice", choices: ["edge", "target"] },
      { key: "band_margin_percent", label: "Band margin %", kind: "number", hint: "0 or 0.01 to 25" },
    ],
  },
  {
    title: "Costs",
    prefs: [
      { key: "min_trade_usd", label: "Minimum trade ($)", kind: "number" },
      { key: "cash_buffer_bps", label: "Cash buffer (bps)", kind: "number", hint: "0 to 5,000" },
      { key: "commission_usd", label: "Commission ($)", kind: "number" },
      { key: "spread_bps", label: "Spread (bps)", kind: "number", hint: "0 to 500" },
    ],
  },
  {
    title: "Tax",
    prefs: [
      { key: "lot_method", label: "Lot method", kind: "choice", choices: ["fifo", "lifo", "hifo"] },
      { key: "avoid_short_term_gains", label: "Avoid short-term gains", kind: "bool" },
      { key: "harvest_losses", label: "Harvest losses", kind: "bool" },
      { key: "harvest_threshold_percent", label: "Harvest threshold %", kind: "number" },
      { key: "short_term_tax_rate", label: "Short-term tax rate", kind: "number", hint: "0 to 1 (0.35 is 35 %)" },
      { key: "long_term_tax_rate", label: "Long-term tax rate", kind: "number", hint: "0 to 1" },
      { key: "tax_limit_usd", label: "Tax limit per plan ($)", kind: "optional-number", hint: "empty: no limit" },
    ],
  },
  {
    title: "Execution",
    prefs: [
      { key: "order_type", label: "Order type", kind: "choice", choices: ["market", "limit"] },
      { key: "limit_buffer_bps", label: "Limit buffer (bps)", kind: "number", hint: "0 to 1,000" },
      { key: "fill_wait_seconds", label: "Wait for fills (seconds)", kind: "number", hint: "0 to 300" },
      { key: "unfilled_orders", label: "Unfilled orders", kind: "choice", choices: ["cancel", "keep"] },
    ],
  },
  {
    title: "Schedule",
    prefs: [
      { key: "rebalancing_enabled", label: "Nightly rebalancing", kind: "bool" },
      { key: "paused", label: "Paused", kind: "bool" },
      { key: "auto_execute", label: "Auto-execute (else a plan awaits review)", kind: "bool" },
      { key: "trigger", label: "Trigger", kind: "choice", choices: ["threshold", "calendar", "combined", "manual"] },
      { key: "calendar_frequency", label: "Calendar frequency", kind: "choice", choices: ["weekly", "monthly", "quarterly", "annually"] },
      { key: "calendar_weekday", label: "Weekday (0 Monday to 6 Sunday)", kind: "int" },
      { key: "calendar_day", label: "Day of the month", kind: "int", hint: "1 to 31" },
      { key: "calendar_month", label: "Month (annually)", kind: "int", hint: "1 to 12" },
      { key: "cooldown_days", label: "Cooldown (days)", kind: "int", hint: "0 to 365" },
    ],
  },
];

export const GOAL_FIELDS = [
  { key: "name", label: "Goal name", kind: "text" },
  { key: "target_amount", label: "Target amount ($)", kind: "number" },
  { key: "target_date", label: "Target date", kind: "date" },
  { key: "priority", label: "Priority", kind: "choice", choices: ["low", "medium", "high"] },
  { key: "monthly_contribution", label: "Monthly contribution ($)", kind: "optional-number" },
  { key: "start_value", label: "Start value ($)", kind: "optional-number" },
] as const;
