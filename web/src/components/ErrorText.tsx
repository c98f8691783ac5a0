import type { CallError } from "../api/errors";

/** A callable's error, announced to screen readers. */
export function ErrorText({ error }: { error: CallError | string | null }) {
  if (!error) return null;
  const text = typeof error === "string" ? error : error.message;
  return (
    <p className="error" role="alert">
      {text}
    </p>
  );
}
