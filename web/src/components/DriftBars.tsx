import type { DriftRow } from "../api/types";
import { signed } from "../format";

/**
 * One bar per asset: drift in points from the centre line, red to the right when
 * overweight and green to the left when underweight, the band drawn as a shaded zone.
 * The sign and words beside each bar say the same, so colour is never the only signal.
 */
export function DriftBars({ rows }: { rows: DriftRow[] }) {
  const scale = Math.max(1, ...rows.map((r) => Math.max(Math.abs(r.drift_percent), r.threshold_percent ?? 0))) * 1.15;
  const at = (points: number) => 50 + (points / scale) * 50; // percent of the track's width
  return (
    <figure className="drift-bars" data-testid="drift-bars">
      <figcaption>Drift per asset, in percentage points; the shaded zone is the band.</figcaption>
      <ul>
        {rows.map((row) => {
          const drift = row.drift_percent;
          const band = row.threshold_percent ?? 0;
          const over = drift > 0;
          const words = drift === 0 ? "on target" : over ? "overweight" : "underweight";
          const text = `${row.symbol}: ${signed(drift)} points, ${words}; band ±${band.toFixed(2)}${
            row.needs_rebalance ? ", outside its band" : ""
          }`;
          const left = Math.min(at(drift), 50);
          const width = Math.abs(at(drift) - 50);
          return (
            <li key={row.symbol} className="bar-row">
              <span className="bar-symbol">{row.symbol}</span>
              <span className="bar-track" role="img" aria-label={text}>
                <span className="bar-band" style={{ left: `${at(-band)}%`, width: `${at(band) - at(-band)}%` }} />
                <span className="bar-axis" />
                <span
                  className={`bar ${over ? "bar-over" : "bar-under"}`}
                  data-direction={over ? "over" : "under"}
                  style={{ left: `${left}%`, width: `${width}%` }}
                />
              </span>
              <span className={`bar-value ${over ? "over" : "under"}`} aria-hidden="true">
                {signed(drift)} {over ? "▲ over" : drift < 0 ? "▼ under" : ""}
                {row.needs_rebalance ? " · out of band" : ""}
              </span>
            </li>
          );
        })}
      </ul>
    </figure>
  );
}
