// Every write goes through these: the callables, typed, with errors as CallError.
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "firebase/functions";
import { app, emulatorHost, emulatorPorts, region, useEmulators } from "../firebase";
import { noteLegs, noteRefusal } from "../appStatus";
import { asCallError } from "./errors";
import type { CallableName, Callables } from "./types";

const functions = getFunctions(app, region);
if (useEmulators) connectFunctionsEmulator(functions, emulatorHost, emulatorPorts.functions);

// Reads that change nothing: a transient failure (a dropped connection, an instance
// restarting) is retried a few times before the user sees it. Writes are never retried
// here: the server's idempotency (plan leases, keyed trades) is the user's retry.
const READS: ReadonlySet<CallableName> = new Set<CallableName>([
  "get_status",
  "get_targets",
  "get_settings",
  "get_schedule",
  "get_plan",
]);
const TRANSIENT = new Set(["internal", "unavailable", "deadline-exceeded"]);
const RETRY_DELAYS_MS = [300, 1000, 3000];

async function invoke<N extends CallableName>(name: N, data: Callables[N]["req"]): Promise<Callables[N]["res"]> {
  const callable = httpsCallable<Callables[N]["req"], Callables[N]["res"]>(functions, name, {
    timeout: 120_000,
  });
  for (let attempt = 0; ; attempt++) {
    try {
      return (await callable(data)).data;
    } catch (error) {
      const failure = asCallError(error);
      const delay = RETRY_DELAYS_MS[attempt];
      if (!READS.has(name) || !TRANSIENT.has(failure.code) || delay === undefined) throw failure;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export async function call<N extends CallableName>(
  name: N,
  data: Callables[N]["req"],
): Promise<Callables[N]["res"]> {
  try {
    const result = await invoke(name, data);
    if (result && typeof result === "object" && "legs" in result) noteLegs(result.legs);
    return result;
  } catch (error) {
    const failure = asCallError(error);
    // Refused (the kill-switch among other reasons): the banner follows get_status.
    if (failure.code === "failed-precondition" && name !== "get_status") noteRefusal();
    throw failure;
  }
}
