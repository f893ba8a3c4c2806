import { changeOf, type Kpi, type KpiReport } from '../../models/kpis'
import { day } from '../format'
import { figure, INPUT_LABELS, kpiValue } from './format'
import { Sparkline, TrendTable } from './sparkline'

/** One KPI: its figure, the move since the previous period, its trend and how it is computed. */
export function KpiCard({ kpi, report }: { kpi: Kpi; report: KpiReport }) {
  const change = changeOf(kpi)
  const titleId = `kpi-${kpi.id}-title`
  return (
    <section class="panel kpi-card" aria-labelledby={titleId} data-kpi={kpi.id}>
      <h2 id={titleId} class="kpi-label">
        {kpi.label}
      </h2>
      <div class="kpi-figure">
        <span class="kpi-value" data-value>
          {kpiValue(kpi, kpi.value)}
        </span>
        {change && (
          <span
            class={`kpi-change ${change.tone}`}
            title={`Previous period (${day(report.previous.from)} – ${day(report.previous.to)}): ${kpiValue(kpi, kpi.previous)}`}
          >
            <span aria-hidden="true">
              {change.direction === 'up' ? '▲' : change.direction === 'down' ? '▼' : '■'}
            </span>{' '}
            {change.text}
            <span class="sr-only"> vs the previous period</span>
          </span>
        )}
      </div>
      {kpi.value === null && kpi.reason && (
        <p class="kpi-reason" data-reason>
          {kpi.reason}
        </p>
      )}
      <p class="muted small kpi-previous">
        Previous period: {kpiValue(kpi, kpi.previous)}
        {kpi.previous === null && kpi.previousReason && kpi.previousReason !== kpi.reason
          ? ` (${kpi.previousReason})`
          : ''}
      </p>
      {Object.keys(kpi.inputs).length > 0 && (
        <p class="small kpi-inputs">
          {Object.entries(kpi.inputs)
            .map(([name, value]) => `${INPUT_LABELS[name] ?? name} ${figure(value)}`)
            .join(' · ')}
        </p>
      )}
      {kpi.trend.length > 0 && <Sparkline kpi={kpi} />}
      {kpi.trend.some((point) => point.value !== null) && <TrendTable kpi={kpi} />}
      <p class="kpi-definition small">{kpi.definition}</p>
    </section>
  )
}
