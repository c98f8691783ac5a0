// What the server says before anything else (`get_status`): whether orders may go out now
// (the kill-switch, with its reason) and whether the user has linked a broker. Asked when
// the app opens, every minute while it is open, when the window regains focus, and after
// the server refuses something (a callable's `failed-precondition`, a refused leg).
// The callables load lazily, so the sign-in screen does not pay for firebase/functions.
import { useEffect, useSyncExternalStore } from "react";
import type { AppStatus } from "./api/types";

export interface StatusState {
  /** null until the first answer. */
  status: AppStatus | null;
  error: string | null;
}

const EVERY_MS = 60_000;
const AFTER_REFUSAL_MS = 5_000; // at most one refresh per refused leg burst
let state: StatusState = { status: null, error: null };
let owner: string | null = null;
let inFlight: Promise<void> | null = null;
let lastAsked = 0;
const listeners = new Set<() => void>();

function set(next: StatusState): void {
  state = next;
  listeners.forEach((listener) => listener());
}

/** Ask the server now (one request at a time). */
export function refreshStatus(): Promise<void> {
  if (inFlight) return inFlight;
  const asker = owner;
  lastAsked = Date.now();
  inFlight = import("./api/callables")
    .then(({ call }) => call("get_status", {}))
    .then(
      (status) => {
        if (asker === owner) set({ status, error: null });
      },
      (error: unknown) => {
        if (asker === owner) set({ status: state.status, error: error instanceof Error ? error.message : String(error) });
      },
    )
    .finally(() => {
      inFlight = null;
    });
  return inFlight;
}

/** The server refused something (kill-switch or not): ask get_status whether trading is
 * on, at once unless it already says off (then at most every few seconds). */
export function noteRefusal(): void {
  if (state.status?.trading_enabled !== false || Date.now() - lastAsked > AFTER_REFUSAL_MS) {
    void refreshStatus();
  }
}

/** A plan's legs (from a callable or a listener): a refused one means ask again. */
export function noteLegs(legs: unknown): void {
  if (!Array.isArray(legs)) return;
  if ((legs as { status?: string }[]).some((leg) => leg.status === "refused")) noteRefusal();
}

/** Keep the status fresh while `uid` is signed in (the app shell calls this once). */
export function useStatusPolling(uid: string): void {
  useEffect(() => {
    if (owner !== uid) {
      owner = uid;
      set({ status: null, error: null });
    }
    void refreshStatus();
    const timer = window.setInterval(() => void refreshStatus(), EVERY_MS);
    const onFocus = () => void refreshStatus();
    const onVisible = () => {
      if (document.visibilityState === "visible") void refreshStatus();
    };
    window.addEventListener("focus", onFocus);
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener("focus", onFocus);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [uid]);
}

export function useAppStatus(): StatusState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}
