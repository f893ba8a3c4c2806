import type { Kpi } from '../../models/kpis'
import { dayLabel } from '../format'
import { kpiValue } from './format'

const WIDTH = 220
const HEIGHT = 44
const PAD = 3

/**
 * A KPI's trend as a small line: a gap where a bucket has no figure, a dot where a figure stands
 * alone. The exact values are in the table beside it (see TrendTable); this is the shape only.
 */
export function Sparkline({ kpi }: { kpi: Kpi }) {
  const points = kpi.trend
  const values = points.map((p) => p.value).filter((v): v is number => v !== null)
  if (values.length === 0) {
    return <div class="spark empty muted small">No trend: no figure in any {kpi.grain}</div>
  }
  const max = Math.max(...values)
  const min = Math.min(0, ...values)
  const span = max - min || 1
  const x = (i: number) =>
    points.length <= 1 ? WIDTH / 2 : PAD + (i / (points.length - 1)) * (WIDTH - 2 * PAD)
  const y = (v: number) => HEIGHT - PAD - ((v - min) / span) * (HEIGHT - 2 * PAD)
  const runs: [number, number][][] = []
  let run: [number, number][] = []
  points.forEach((p, i) => {
    if (p.value === null) {
      if (run.length) runs.push(run)
      run = []
    } else run.push([x(i), y(p.value)])
  })
  if (run.length) runs.push(run)
  const last = [...points].reverse().find((p) => p.value !== null)
  const label = `${kpi.label} per ${kpi.grain}, ${points.length} ${kpi.grain}s from ${dayLabel(points[0]!.from)}; latest ${kpiValue(kpi, last?.value ?? null)}`
  return (
    <svg
      class="spark"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
    >
      <line class="spark-base" x1={0} x2={WIDTH} y1={y(min)} y2={y(min)} />
      {runs.map((r, i) =>
        r.length === 1 ? (
          <circle key={i} class="spark-dot" cx={r[0]![0]} cy={r[0]![1]} r={2} />
        ) : (
          <polyline
            key={i}
            class="spark-line"
            points={r.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}
          />
        ),
      )}
    </svg>
  )
}

/** The trend's figures, exact, for reading and for screen readers. */
export function TrendTable({ kpi }: { kpi: Kpi }) {
  return (
    <details class="trend-values">
      <summary>Per {kpi.grain}</summary>
      <table class="dense">
        <thead>
          <tr>
            <th scope="col">{kpi.grain === 'day' ? 'Day' : 'From – to'}</th>
            <th scope="col" class="num">
              Value
            </th>
          </tr>
        </thead>
        <tbody>
          {kpi.trend.map((p) => (
            <tr key={p.from}>
              <td>
                {p.from === p.to ? dayLabel(p.from) : `${dayLabel(p.from)} – ${dayLabel(p.to)}`}
              </td>
              <td class="num">{kpiValue(kpi, p.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  )
}
