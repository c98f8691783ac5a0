import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { DriftRow } from "../api/types";

export interface DriftPoint {
  at: number;
  max_drift_percent: number | null;
  assets: DriftRow[];
}

const COLOURS = ["#3158c9", "#c96b31", "#2f9e6e", "#a23fb0", "#c9a431", "#3aa7c9", "#b03f5a"];

/** Drift over time from the drift logs: max drift, each asset's drift, and the bands. */
export default function DriftChart({ points }: { points: DriftPoint[] }) {
  const symbols = [...new Set(points.flatMap((p) => p.assets.map((a) => a.symbol)))];
  const bands = [...new Set(points.flatMap((p) => p.assets.map((a) => a.threshold_percent ?? 0)))].filter((b) => b > 0);
  const data = points.map((p) => ({
    at: p.at,
    max: p.max_drift_percent,
    ...Object.fromEntries(p.assets.map((a) => [a.symbol, a.drift_percent])),
  }));
  const time = (value: number) => new Date(value).toLocaleString();
  return (
    <ResponsiveContainer width="100%" height={320}>
      <LineChart data={data} margin={{ top: 10, right: 20, bottom: 10, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="at" type="number" domain={["dataMin", "dataMax"]} scale="time" tickFormatter={(v: number) => new Date(v).toLocaleDateString()} />
        <YAxis unit=" pts" />
        <Tooltip labelFormatter={(v) => time(Number(v))} formatter={(v) => `${Number(v).toFixed(2)} pts`} />
        <Legend />
        {bands.map((band) => (
          <ReferenceLine key={`+${band}`} y={band} stroke="#999" strokeDasharray="6 4" label={`band +${band}`} />
        ))}
        {bands.map((band) => (
          <ReferenceLine key={`-${band}`} y={-band} stroke="#999" strokeDasharray="6 4" label={`band −${band}`} />
        ))}
        <Line type="linear" dataKey="max" name="Max drift" stroke="#111" strokeWidth={3} isAnimationActive={false} />
        {symbols.map((s, i) => (
          <Line key={s} type="linear" dataKey={s} name={s} stroke={COLOURS[i % COLOURS.length]} dot isAnimationActive={false} />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}
