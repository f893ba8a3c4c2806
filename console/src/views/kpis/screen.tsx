import { useEffect } from 'preact/hooks'
import { kpis } from '../../models/kpis'
import { periodFrom, type Period } from '../../models/period'
import { href, route, setQuery } from '../../models/router'
import { Async, Empty, PageHeader, PeriodPicker, Tabs } from '../common'
import { day } from '../format'
import { KpiCard } from './card'
import { KpiSettingsPanel } from './settings'
import { SpendPanel } from './spend'
import './kpis.css'

const TABS = [
  { segment: undefined, label: 'KPIs' },
  { segment: 'spend', label: 'Spend' },
  { segment: 'settings', label: 'Settings' },
] as const

/**
 * `/kpis?from=&to=`: the business figures with definitions and trends; `/kpis/spend` imports
 * spend and shows what is kept; `/kpis/settings` the events the figures count.
 */
export default function Screen({ path }: { path: string[] }) {
  const period = periodFrom(route.query.value)
  const tab = path[0]
  useEffect(() => {
    kpis.show(period)
  }, [period.from, period.to])
  const query = { from: route.query.value.get('from'), to: route.query.value.get('to') }
  const known = TABS.some((t) => t.segment === tab)

  return (
    <>
      <PageHeader title="KPIs">
        <PeriodPicker
          period={period}
          onChange={(next: Period) => setQuery({ from: next.from, to: next.to })}
        />
        <button
          type="button"
          onClick={() => void kpis.refresh()}
          disabled={kpis.report.loading.value}
        >
          Refresh
        </button>
      </PageHeader>
      <Tabs
        label="KPI sections"
        items={TABS.map((t) => ({
          href: href(t.segment ? `/kpis/${t.segment}` : '/kpis', query),
          label: t.label,
          active: t.segment === tab,
        }))}
      />
      {!known ? (
        <Empty>
          <p>No such KPI section.</p>
        </Empty>
      ) : tab === 'spend' ? (
        <SpendPanel />
      ) : tab === 'settings' ? (
        <KpiSettingsPanel />
      ) : (
        <Async req={kpis.report} retry={() => void kpis.refresh()}>
          {(report) => (
            <>
              <p class="muted small kpi-period">
                {day(report.from)} – {day(report.to)} (UTC), compared with{' '}
                {day(report.previous.from)} – {day(report.previous.to)}. Events: lead “
                {report.settings.leadEvent}”, customer “{report.settings.customerEvent}”
                {report.settings.churnEvent ? `, churn “${report.settings.churnEvent}”` : ''}.
              </p>
              <div class="kpi-grid">
                {report.kpis.map((kpi) => (
                  <KpiCard key={kpi.id} kpi={kpi} report={report} />
                ))}
              </div>
            </>
          )}
        </Async>
      )}
    </>
  )
}
