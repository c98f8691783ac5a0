import { Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip } from "recharts";
import type { DriftRow } from "../api/types";

const COLOURS = ["#3158c9", "#c96b31", "#2f9e6e", "#a23fb0", "#c9a431", "#3aa7c9", "#8a8a8a", "#b03f5a"];

interface Slice {
  name: string;
  value: number;
}

function Donut({ title, slices }: { title: string; slices: Slice[] }) {
  const summary = slices.map((s) => `${s.name} ${s.value.toFixed(1)} %`).join(", ");
  return (
    <figure className="donut" role="group" aria-label={`${title}: ${summary}`}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <PieChart>
          <Pie data={slices} dataKey="value" nameKey="name" innerRadius={55} outerRadius={90} isAnimationActive={false}>
            {slices.map((slice, i) => (
              <Cell key={slice.name} fill={COLOURS[i % COLOURS.length]} />
            ))}
          </Pie>
          <Tooltip formatter={(value) => `${Number(value).toFixed(2)} %`} />
          <Legend />
        </PieChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Target and actual weights side by side (cash, when held, is a slice of the actual). */
export default function Donuts({ rows, cashPercent }: { rows: DriftRow[]; cashPercent: number | null }) {
  const target = rows.filter((r) => r.target_percent > 0).map((r) => ({ name: r.symbol, value: r.target_percent }));
  const actual = rows.filter((r) => r.actual_percent > 0).map((r) => ({ name: r.symbol, value: r.actual_percent }));
  if (cashPercent) actual.push({ name: "Cash", value: cashPercent });
  return (
    <div className="donuts" data-testid="donuts">
      <Donut title="Target allocation" slices={target} />
      <Donut title="Actual allocation" slices={actual} />
    </div>
  );
}
