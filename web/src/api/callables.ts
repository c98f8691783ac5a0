// Every write goes through these: the callables, typed, with errors as CallError.
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "firebase/functions";
import { app, emulatorHost, emulatorPorts, region, useEmulators } from "../firebase";
import { noteLegs, noteRefusal } from "../appStatus";
import { asCallError } from "./errors";
import type { CallableName, Callables } from "./types";

const functions = getFunctions(app, region);
if (useEmulators) connectFunctionsEmulator(functions, emulatorHost, emulatorPorts.functions);

export async function call<N extends CallableName>(
  name: N,
  data: Callables[N]["req"],
): Promise<Callables[N]["res"]> {
  const callable = httpsCallable<Callables[N]["req"], Callables[N]["res"]>(functions, name, {
    timeout: 120_000,
  });
  try {
    const result = (await callable(data)).data;
    if (result && typeof result === "object" && "legs" in result) noteLegs(result.legs);
    return result;
  } catch (error) {
    const failure = asCallError(error);
    // Refused (the kill-switch among other reasons): the banner follows get_status.
    if (failure.code === "failed-precondition" && name !== "get_status") noteRefusal();
    throw failure;
  }
}
