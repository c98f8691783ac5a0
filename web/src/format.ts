// Numbers as the app shows them.
const usdFormat = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function usd(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : usdFormat.format(value);
}

export function pct(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? "—" : `${value.toFixed(digits)} %`;
}

/** A signed number of points: "+10.05" or "−6.33" (a real minus sign). */
export function signed(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined) return "—";
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return text;
  return value > 0 ? `+${text}` : `\u2212${text}`;
}

export function qty(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === "" ? "—" : String(value);
}

export function label(value: string): string {
  const text = value.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
