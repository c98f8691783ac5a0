// The kill-switch as the client can know it. `systemStatus/risk_management` is closed to
// clients (firestore.rules), so the app learns that trading is off from what the server
// says: a callable refused with the kill-switch's message, or plan legs `refused` with it.
import { useSyncExternalStore } from "react";

export interface TradingStatus {
  off: boolean;
  reason: string | null;
}

const KILL_SWITCH = /kill-switch|drawdown recovery/i;
let status: TradingStatus = { off: false, reason: null };
const listeners = new Set<() => void>();

function set(next: TradingStatus): void {
  if (next.off === status.off && next.reason === status.reason) return;
  status = next;
  listeners.forEach((listener) => listener());
}

export function reportError(error: { code: string; message: string }): void {
  if (error.code === "failed-precondition" && KILL_SWITCH.test(error.message)) {
    set({ off: true, reason: error.message });
  }
}

/** Legs of a plan (from a callable or a listener): refused ones say trading is off. */
export function reportLegs(legs: unknown): void {
  if (!Array.isArray(legs)) return;
  for (const leg of legs as { status?: string; error?: string | null }[]) {
    if (leg.status === "refused" && leg.error && KILL_SWITCH.test(leg.error)) {
      set({ off: true, reason: leg.error });
      return;
    }
  }
  if (legs.some((leg: { status?: string }) => leg.status === "filled")) {
    set({ off: false, reason: null });
  }
}

export function useTradingStatus(): TradingStatus {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => status,
  );
}
