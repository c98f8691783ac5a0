// Two charts over time, one line per shown policy: max drift, and the after-tax value.
// recharts is the shared charts chunk (the drift page's donuts and History's chart use it).
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { PolicyResult } from "../api/types";
import { usd } from "../format";
import { lineStyle } from "./lineStyle";

interface Props {
  results: PolicyResult[];
  shown: ReadonlySet<string>;
  best: string;
  onToggle: (name: string) => void;
}

type Row = Record<string, number | string>;

/** One row per day: `d<i>` max drift and `v<i>` after-tax value of policy i. */
function rows(results: PolicyResult[]): Row[] {
  const byDay = new Map<string, Row>();
  results.forEach((result, i) => {
    for (const point of result.series) {
      const row = byDay.get(point.day) ?? { day: point.day };
      row[`d${i}`] = point.max_drift_percent;
      row[`v${i}`] = point.after_tax_value;
      byDay.set(point.day, row);
    }
  });
  return [...byDay.values()].sort((a, b) => String(a.day).localeCompare(String(b.day)));
}

const compactUsd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", notation: "compact" });

function Chart({ data, prefix, results, shown, best, onToggle, unit }: Props & { data: Row[]; prefix: string; unit: "pct" | "usd" }) {
  const format = (value: unknown) => (unit === "pct" ? `${Number(value).toFixed(2)} %` : usd(Number(value)));
  return (
    <ResponsiveContainer width="100%" height={340}>
      <LineChart data={data} margin={{ top: 10, right: 24, bottom: 10, left: unit === "usd" ? 16 : 0 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="day" minTickGap={40} />
        <YAxis
          unit={unit === "pct" ? " %" : undefined}
          domain={unit === "usd" ? ["auto", "auto"] : [0, "auto"]}
          tickFormatter={(v: number) => (unit === "usd" ? compactUsd.format(v) : String(v))}
        />
        <Tooltip formatter={format} />
        <Legend
          onClick={(entry) => {
            const name = (entry as { value?: unknown }).value;
            if (typeof name === "string") onToggle(name);
          }}
        />
        {results.map((result, i) => {
          const name = result.policy.name;
          const style = lineStyle(i);
          return (
            <Line
              key={name}
              type="linear"
              dataKey={`${prefix}${i}`}
              name={name}
              hide={!shown.has(name)}
              stroke={style.colour}
              strokeDasharray={style.dash}
              strokeWidth={name === best ? 3.5 : 1.8}
              dot={false}
              connectNulls
              isAnimationActive={false}
            />
          );
        })}
      </LineChart>
    </ResponsiveContainer>
  );
}

export default function SimulationCharts(props: Props) {
  const data = rows(props.results);
  return (
    <div className="sim-charts">
      <figure data-testid="drift-over-time" aria-label="Max drift over time, per policy (percent points)">
        <figcaption>Max drift over time (%)</figcaption>
        <Chart {...props} data={data} prefix="d" unit="pct" />
      </figure>
      <figure data-testid="value-over-time" aria-label="After-tax value over time, per policy (US dollars)">
        <figcaption>After-tax value over time ($, as if sold that day)</figcaption>
        <Chart {...props} data={data} prefix="v" unit="usd" />
      </figure>
    </div>
  );
}
