import { useCallback, useEffect, useState } from "react";
import { call } from "../api/callables";
import type { CallError } from "../api/errors";
import type { DriftCheck } from "../api/types";

/** check_rebalance_drift with dry_run: measures (and logs) drift, never trades. */
export function useDryRun(auto: boolean) {
  const [check, setCheck] = useState<DriftCheck | null>(null);
  const [error, setError] = useState<CallError | null>(null);
  const [busy, setBusy] = useState(auto);

  const run = useCallback(async () => {
    setBusy(true);
    setError(null);
    try {
      setCheck(await call("check_rebalance_drift", { dry_run: true }));
    } catch (caught) {
      setCheck(null);
      setError(caught as CallError);
    } finally {
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    if (auto) void run();
  }, [auto, run]);

  return { check, error, busy, run };
}
