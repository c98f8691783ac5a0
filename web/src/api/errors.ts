// Callable errors as the app shows them. The server's `invalid-argument` messages start
// with the field they are about ("allocations.1.symbol: DELISTED is not tradable"), so the
// app can show each at its field.

export class CallError extends Error {
  readonly code: string;
  readonly field: string | null;

  constructor(code: string, message: string) {
    super(message);
    this.name = "CallError";
    this.code = code;
    this.field = code === "invalid-argument" ? fieldOf(message) : null;
  }

  /** The message without its field prefix (the field is shown by where it appears). */
  get detail(): string {
    return this.field ? this.message.slice(this.field.length + 2) : this.message;
  }
}

const FIELD = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*): /;

export function fieldOf(message: string): string | null {
  const match = FIELD.exec(message);
  return match?.[1] ?? null;
}

/** Any thrown value as a CallError (Firebase's `functions/<code>` codes are unwrapped). */
export function asCallError(error: unknown): CallError {
  if (error instanceof CallError) return error;
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    const code = String((error as { code: unknown }).code).replace(/^functions\//, "");
    // The SDK appends the HTTP status ("... [400]"); the server's message is what users read.
    const message = String((error as { message: unknown }).message).replace(/ \[\d{3}\]$/, "");
    return new CallError(code, message);
  }
  return new CallError("internal", String(error));
}

/** The error of `field` or of a field under it ("goal" for "goal.target_date"). */
export function errorAt(error: CallError | null, field: string): string | null {
  if (!error?.field) return null;
  if (error.field === field || error.field.startsWith(field + ".")) return error.detail;
  return null;
}
