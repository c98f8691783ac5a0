import { useEffect, useState, type FormEvent } from "react";
import { call } from "../api/callables";
import { errorAt, type CallError } from "../api/errors";
import type { Settings as SettingsDoc } from "../api/types";
import { ErrorText } from "../components/ErrorText";
import { Field } from "../components/Field";
import { SelectField } from "../components/SelectField";
import { GOAL_FIELDS, GROUPS, type Pref } from "../settingsSpec";

type Form = Record<string, string | boolean>;

const text = (value: unknown): string => (value === null || value === undefined ? "" : String(value));

function toForm(settings: SettingsDoc): Form {
  const form: Form = {};
  for (const pref of GROUPS.flatMap((g) => g.prefs)) {
    const value = settings[pref.key];
    form[pref.key] = pref.kind === "bool" ? Boolean(value) : text(value);
  }
  for (const f of GOAL_FIELDS) form[`goal.${f.key}`] = text(settings.goal?.[f.key]);
  form["goal.set"] = settings.goal !== null;
  return form;
}

/** A number when the text is one, else the text: the server's validation says what is wrong. */
function parse(kind: string, value: string | boolean): unknown {
  if (typeof value === "boolean" || kind === "choice" || kind === "text" || kind === "date") return value;
  if (value.trim() === "") return kind === "optional-number" ? null : value;
  const n = Number(value);
  return Number.isFinite(n) ? n : value;
}

/** Only what changed: update_settings keeps every field it is not sent. */
function changes(before: Form, after: Form): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pref of GROUPS.flatMap((g) => g.prefs)) {
    const value = after[pref.key];
    if (value !== undefined && value !== before[pref.key]) out[pref.key] = parse(pref.kind, value);
  }
  const goalChanged = GOAL_FIELDS.some((f) => after[`goal.${f.key}`] !== before[`goal.${f.key}`]);
  if (!after["goal.set"] && before["goal.set"]) out.goal = null;
  else if (after["goal.set"] && (goalChanged || !before["goal.set"])) {
    const goal: Record<string, unknown> = {};
    for (const f of GOAL_FIELDS) {
      const value = parse(f.kind, after[`goal.${f.key}`] ?? "");
      if (value !== null && value !== "") goal[f.key] = value;
    }
    out.goal = goal;
  }
  return out;
}

function Choice({ pref, value, error, onChange }: { pref: Pref; value: string; error: string | null; onChange: (v: string) => void }) {
  return (
    <SelectField label={pref.label} name={pref.key} value={value} options={pref.choices ?? []} onChange={onChange} error={error} />
  );
}

export default function Settings() {
  const [loaded, setLoaded] = useState<Form | null>(null);
  const [form, setForm] = useState<Form>({});
  const [error, setError] = useState<CallError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    call("get_settings", {})
      .then((s) => {
        setLoaded(toForm(s));
        setForm(toForm(s));
      })
      .catch((caught: CallError) => setError(caught));
  }, []);

  const set = (key: string, value: string | boolean) => {
    setForm((current) => ({ ...current, [key]: value }));
    setSaved(null);
  };

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!loaded) return;
    const sent = changes(loaded, form);
    if (Object.keys(sent).length === 0) {
      setSaved("Nothing changed.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const stored = toForm(await call("update_settings", sent));
      setLoaded(stored);
      setForm(stored);
      setSaved(`Saved: ${Object.keys(sent).join(", ")}.`);
    } catch (caught) {
      setError(caught as CallError);
    } finally {
      setBusy(false);
    }
  }

  if (!loaded) return error ? <ErrorText error={error} /> : <p role="status">Loading settings…</p>;
  const general = error && !error.field ? error : null;
  return (
    <form onSubmit={(e) => void save(e)} className="settings" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      {error?.field ? (
        <p className="error" data-testid="settings-error">
          Not saved: {error.message}
        </p>
      ) : null}
      <div className="groups">
        {GROUPS.map((group) => (
          <fieldset key={group.title} className="card">
            <legend>{group.title}</legend>
            {group.prefs.map((pref) => {
              const value = form[pref.key];
              const fieldError = errorAt(error, pref.key);
              if (pref.kind === "bool") {
                return (
                  <label key={pref.key} className="inline">
                    <input type="checkbox" name={pref.key} checked={value === true} onChange={(e) => set(pref.key, e.target.checked)} />
                    {pref.label}
                    {fieldError ? <span className="field-error" role="alert">{fieldError}</span> : null}
                  </label>
                );
              }
              if (pref.kind === "choice") {
                return <Choice key={pref.key} pref={pref} value={String(value)} error={fieldError} onChange={(v) => set(pref.key, v)} />;
              }
              return (
                <Field
                  key={pref.key}
                  label={pref.label}
                  name={pref.key}
                  inputMode="decimal"
                  value={String(value ?? "")}
                  hint={pref.hint}
                  error={fieldError}
                  onChange={(e) => set(pref.key, e.target.value)}
                />
              );
            })}
          </fieldset>
        ))}
        <fieldset className="card">
          <legend>Goal</legend>
          <label className="inline">
            <input type="checkbox" name="goal.set" checked={form["goal.set"] === true} onChange={(e) => set("goal.set", e.target.checked)} />
            I have a savings goal
          </label>
          {form["goal.set"] === true
            ? GOAL_FIELDS.map((f) => {
                const key = `goal.${f.key}`;
                const fieldError = errorAt(error, key);
                if (f.kind === "choice") {
                  return (
                    <Choice
                      key={key}
                      pref={{ key, label: f.label, kind: "choice", choices: f.choices }}
                      value={String(form[key] || "medium")}
                      error={fieldError}
                      onChange={(v) => set(key, v)}
                    />
                  );
                }
                return (
                  <Field
                    key={key}
                    label={f.label}
                    name={key}
                    type={f.kind === "date" ? "date" : "text"}
                    inputMode={f.kind === "text" || f.kind === "date" ? undefined : "decimal"}
                    value={String(form[key] ?? "")}
                    error={fieldError}
                    onChange={(e) => set(key, e.target.value)}
                  />
                );
              })
            : null}
          {errorAt(error, "goal") && !GOAL_FIELDS.some((f) => errorAt(error, `goal.${f.key}`)) ? (
            <span className="field-error" role="alert">
              {errorAt(error, "goal")}
            </span>
          ) : null}
        </fieldset>
      </div>
      <ErrorText error={general} />
      <div className="actions sticky">
        <button type="submit" disabled={busy}>
          Save settings
        </button>
        {saved ? (
          <span role="status" className="ok" data-testid="settings-saved">
            {saved}
          </span>
        ) : null}
      </div>
    </form>
  );
}
