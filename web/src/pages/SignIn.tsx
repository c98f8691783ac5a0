import { createUserWithEmailAndPassword, signInWithEmailAndPassword } from "firebase/auth";
import { useState, type FormEvent } from "react";
import { Field } from "../components/Field";
import { auth, useEmulators } from "../firebase";

function message(error: unknown): string {
  const code = error && typeof error === "object" && "code" in error ? String(error.code) : "";
  switch (code) {
    case "auth/invalid-credential":
    case "auth/wrong-password":
    case "auth/user-not-found":
      return "Wrong email or password.";
    case "auth/email-already-in-use":
      return "An account with this email exists: sign in instead.";
    case "auth/weak-password":
      return "The password needs at least 6 characters.";
    case "auth/invalid-email":
      return "That is not an email address.";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

export default function SignIn() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const mode = (event.nativeEvent as SubmitEvent).submitter?.getAttribute("value");
    setBusy(true);
    setError(null);
    try {
      if (mode === "signup") await createUserWithEmailAndPassword(auth, email, password);
      else await signInWithEmailAndPassword(auth, email, password);
    } catch (caught) {
      setError(message(caught));
      setBusy(false);
    }
  }

  return (
    <main id="main" className="signin">
      <h1>Rebalancer</h1>
      <p>Keep your portfolio on its target allocation: see the drift, review the plan and its tax, approve in one click.</p>
      <form onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <h2 id="signin-title">Sign in or create an account</h2>
        <Field
          label="Email"
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          minLength={6}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" value="signin" disabled={busy}>
            Sign in
          </button>
          <button type="submit" value="signup" className="secondary" disabled={busy}>
            Create account
          </button>
        </div>
        {useEmulators ? (
          <p className="hint">
            Local stack: <code>scripts/dev</code> prints a demo user (demo@example.com / password-123).
          </p>
        ) : null}
      </form>
    </main>
  );
}
