// Firestore listeners on the user's own documents (the rules allow reads of
// users/{uid}/** and userSettings/{uid}/**; every write goes through the callables).
import {
  collection,
  connectFirestoreEmulator,
  doc,
  getFirestore,
  limit,
  onSnapshot,
  orderBy,
  query,
  type DocumentData,
} from "firebase/firestore";
import { useEffect, useState } from "react";
import { app, emulatorHost, emulatorPorts, useEmulators } from "../firebase";

const db = getFirestore(app);
if (useEmulators) connectFirestoreEmulator(db, emulatorHost, emulatorPorts.firestore);

export interface Live<T> {
  data: T;
  loading: boolean;
  error: string | null;
}

/** One document, live; null while missing. */
export function useDocument<T>(path: string | null): Live<T | null> {
  const [state, setState] = useState<Live<T | null>>({ data: null, loading: true, error: null });
  useEffect(() => {
    if (!path) return undefined;
    return onSnapshot(
      doc(db, path),
      (snap) => setState({ data: (snap.data() as T | undefined) ?? null, loading: false, error: null }),
      (error) => setState({ data: null, loading: false, error: error.message }),
    );
  }, [path]);
  return state;
}

export type WithId<T> = T & { id: string };

/** A collection ordered by `created_at` (newest first unless `ascending`), live. */
export function useCollection<T>(
  path: string,
  max: number,
  ascending = false,
): Live<WithId<T>[]> {
  const [state, setState] = useState<Live<WithId<T>[]>>({ data: [], loading: true, error: null });
  useEffect(() => {
    const q = query(
      collection(db, path),
      orderBy("created_at", ascending ? "asc" : "desc"),
      limit(max),
    );
    return onSnapshot(
      q,
      (snap) =>
        setState({
          data: snap.docs.map((d) => ({ ...(d.data() as T & DocumentData), id: d.id })),
          loading: false,
          error: null,
        }),
      (error) => setState({ data: [], loading: false, error: error.message }),
    );
  }, [path, max, ascending]);
  return state;
}

/** A Firestore Timestamp (or ISO string) as a local date and time. */
export function when(value: unknown): string {
  if (value && typeof value === "object" && "toDate" in value) {
    return (value as { toDate: () => Date }).toDate().toLocaleString();
  }
  if (typeof value === "string") return new Date(value).toLocaleString();
  return "—";
}

export function millis(value: unknown): number {
  if (value && typeof value === "object" && "toMillis" in value) {
    return (value as { toMillis: () => number }).toMillis();
  }
  return typeof value === "string" ? Date.parse(value) : 0;
}
