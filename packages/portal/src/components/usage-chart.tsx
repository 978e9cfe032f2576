import type { Forecast, UsageSeries } from '../api.js';

const WIDTH = 640;
const HEIGHT = 240;
const PAD = { left: 44, right: 16, top: 16, bottom: 32 };
const DAY_MS = 86_400_000;

const dayNumber = (day: string) => Math.round(Date.parse(`${day}T00:00:00Z`) / DAY_MS);
const dayText = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);

/**
 * Usage over time of one tag in plain SVG: the quantity (a step line) drawn against the licenses
 * in use, and, when the forecast projects a shortage, the trend carried on to that date, marked.
 */
export function UsageChart(props: { series: UsageSeries; forecast: Forecast | undefined }) {
  const { series, forecast } = props;
  const label = series.name ?? series.tag;
  const points = series.points.map((p) => ({ x: dayNumber(p.day), quantity: p.quantity, inUse: p.inUse }));
  const shortage = forecast?.shortageDate ? dayNumber(forecast.shortageDate) : null;
  if (points.length === 0) return <p>No daily snapshots of {label} yet.</p>;

  const first = points[0]!;
  const last = points[points.length - 1]!;
  const xMax = Math.max(last.x, shortage ?? last.x, first.x + 1);
  const projected = shortage !== null && forecast ? last.inUse + forecast.trendPerDay * (shortage - last.x) : 0;
  const yMax = Math.max(1, ...points.map((p) => Math.max(p.quantity, p.inUse)), projected) * 1.15;
  const x = (day: number) => PAD.left + ((day - first.x) / (xMax - first.x)) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) => HEIGHT - PAD.bottom - (value / yMax) * (HEIGHT - PAD.top - PAD.bottom);

  const quantityPath = points
    .map((p, i) => (i === 0 ? `M${x(p.x)},${y(p.quantity)}` : `H${x(p.x)}V${y(p.quantity)}`))
    .join('');
  const inUsePath = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.x)},${y(p.inUse)}`).join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * yMax));
  const summary =
    `${label}: quantity ${last.quantity}, in use ${last.inUse} on ${dayText(last.x)}` +
    (forecast?.shortageDate ? `; projected to run short on ${forecast.shortageDate}.` : '; no shortage projected.');

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} width="100%">
        <title>{summary}</title>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="axis">
              {t}
            </text>
          </g>
        ))}
        <text x={PAD.left} y={HEIGHT - 8} className="axis">
          {dayText(first.x)}
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 8} textAnchor="end" className="axis">
          {dayText(xMax)}
        </text>
        <path d={quantityPath} className="quantity" />
        <path d={inUsePath} className="in-use" />
        {shortage !== null && forecast && (
          <g className="forecast">
            <line x1={x(last.x)} y1={y(last.inUse)} x2={x(shortage)} y2={y(projected)} className="trend" />
            <line x1={x(shortage)} x2={x(shortage)} y1={PAD.top} y2={HEIGHT - PAD.bottom} className="shortage" />
            <text
              x={x(shortage) + (x(shortage) > WIDTH / 2 ? -4 : 4)}
              y={PAD.top + 12}
              textAnchor={x(shortage) > WIDTH / 2 ? 'end' : 'start'}
              className="shortage-label"
            >
              Short on {forecast.shortageDate}
            </text>
          </g>
        )}
      </svg>
      <figcaption>
        <span className="key quantity-key">Quantity</span> <span className="key in-use-key">In use</span>
        {forecast?.shortageDate && <span className="key trend-key">Trend</span>} — {summary}
        {forecast && <span className="sub"> (forecast from {forecast.basis})</span>}
      </figcaption>
    </figure>
  );
}
