// The Firebase app and Auth: all the first screen needs. Functions and Firestore are
// loaded with the pages that use them (api/callables.ts, api/live.ts).
import { initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth } from "firebase/auth";

const env = import.meta.env;

/** Emulators unless a real project is configured (or VITE_USE_EMULATORS says otherwise). */
export const useEmulators =
  env.VITE_USE_EMULATORS === "true" ||
  (env.VITE_USE_EMULATORS !== "false" && !env.VITE_FIREBASE_PROJECT_ID);

export const projectId: string = env.VITE_FIREBASE_PROJECT_ID || "demo-rebalancer";
export const region: string = env.VITE_FUNCTIONS_REGION || "us-central1";

/** The host the emulators listen on: the page's own (127.0.0.1 under the Hosting emulator). */
export const emulatorHost: string =
  env.VITE_EMULATOR_HOST || (typeof location !== "undefined" ? location.hostname : "127.0.0.1");

export const emulatorPorts = {
  auth: Number(env.VITE_AUTH_EMULATOR_PORT || 9099),
  firestore: Number(env.VITE_FIRESTORE_EMULATOR_PORT || 8080),
  functions: Number(env.VITE_FUNCTIONS_EMULATOR_PORT || 5001),
};

export const app = initializeApp({
  apiKey: env.VITE_FIREBASE_API_KEY || "demo-api-key",
  authDomain: env.VITE_FIREBASE_AUTH_DOMAIN || `${projectId}.firebaseapp.com`,
  projectId,
  appId: env.VITE_FIREBASE_APP_ID || undefined,
});

export const auth = getAuth(app);
if (useEmulators) {
  connectAuthEmulator(auth, `http://${emulatorHost}:${emulatorPorts.auth}`, {
    disableWarnings: true,
  });
}
