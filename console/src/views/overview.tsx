import { useEffect } from 'preact/hooks'
import { live } from '../models/live'
import { overview, type Overview } from '../models/overview'
import { periodFrom, type Period } from '../models/period'
import { route, setQuery } from '../models/router'
import { LineChart } from './chart'
import { Async, Badge, Link, PageHeader, PeriodPicker, RankedTable } from './common'
import { count, number, time, when } from './format'

export function OverviewScreen() {
  const period = periodFrom(route.query.value)
  useEffect(() => {
    overview.show(period)
  }, [period.from, period.to])
  useEffect(() => {
    live.connect(() => overview.eventArrived())
    return () => {
      live.disconnect()
      overview.hide()
    }
  }, [])

  const updated = overview.updatedAt.value
  return (
    <>
      <PageHeader title="Overview">
        <PeriodPicker
          period={period}
          onChange={(next: Period) => setQuery({ from: next.from, to: next.to })}
        />
        <button
          type="button"
          onClick={() => void overview.refresh()}
          disabled={overview.report.loading.value}
        >
          Refresh
        </button>
        <span class="muted small" aria-live="polite">
          {overview.report.loading.value
            ? 'Updating…'
            : updated
              ? `Updated ${time(updated.toISOString())}`
              : ''}
        </span>
      </PageHeader>
      <Async req={overview.report} retry={() => void overview.refresh()}>
        {(report) => <OverviewBody report={report} />}
      </Async>
    </>
  )
}

function OverviewBody({ report }: { report: Overview }) {
  const labels = report.days.map((d) => d.day)
  return (
    <div class="overview">
      <div class="kpis" aria-label="Totals for the period">
        <Kpi label="Events" value={report.totals.events} testId="events" />
        <Kpi label="Pageviews" value={report.totals.pageviews} testId="pageviews" />
        <Kpi label="Visitors" value={report.totals.visitors} testId="visitors" />
        <ConversionsKpi report={report} />
        <Kpi
          label="Dead letters"
          value={report.deadLetters}
          testId="dead-letters"
          tone={report.deadLetters > 0 ? 'warn' : undefined}
        />
        <EmailErrorsKpi messages={report.messages} />
      </div>
      <div class="overview-main">
        <section class="panel" aria-labelledby="series-title">
          <h2 id="series-title">
            Per day <span class="muted small">(UTC, bots excluded)</span>
          </h2>
          <LineChart
            title="Events, pageviews and visitors per day"
            labels={labels}
            series={[
              { key: 'events', label: 'Events', values: report.days.map((d) => d.events) },
              { key: 'pageviews', label: 'Pageviews', values: report.days.map((d) => d.pageviews) },
              { key: 'visitors', label: 'Visitors', values: report.days.map((d) => d.visitors) },
            ]}
          />
        </section>
        <LiveStream />
      </div>
      <div class="ranked-grid">
        <RankedTable title="Top pages" nameLabel="Page" rows={report.topPages} />
        <RankedTable title="Referrers" nameLabel="Referrer" rows={report.referrers} />
        <RankedTable title="Channels" nameLabel="Channel" rows={report.channels} />
        <RankedTable title="Top events" nameLabel="Event" rows={report.topEvents} />
        <RankedTable title="Countries" nameLabel="Country" rows={report.countries} />
        <RankedTable title="Devices" nameLabel="Device" rows={report.devices} />
        <RankedTable title="Browsers" nameLabel="Browser" rows={report.browsers} />
      </div>
    </div>
  )
}

function ConversionsKpi({ report }: { report: Overview }) {
  if (report.totals.conversions !== undefined) {
    return <Kpi label="Conversions" value={report.totals.conversions} testId="conversions" />
  }
  const data = overview.conversions.data.value
  const error = overview.conversions.error.value
  return (
    <div class="kpi" data-kpi="conversions">
      <div class="kpi-label">
        Conversions
        {data && data.value > 0 && <span class="kpi-note">value {number(data.value)}</span>}
      </div>
      <div class="kpi-value" title={error ? `Not available: ${error.message}` : undefined}>
        {data ? count(data.conversions) : '—'}
      </div>
    </div>
  )
}

/** Messages that failed on every provider, of those that reached an end at one. */
function EmailErrorsKpi({ messages }: { messages: Overview['messages'] }) {
  const settled = messages.sent + messages.failed
  const rate = messages.errorRate
  return (
    <div class={`kpi ${messages.failed > 0 ? 'warn' : ''}`} data-kpi="email-errors">
      <div class="kpi-label">
        Email error rate
        {settled > 0 && (
          <span class="kpi-note">
            {count(messages.failed)} of {count(settled)}
          </span>
        )}
      </div>
      <div class="kpi-value">{rate === null ? '—' : `${(rate * 100).toFixed(1)}%`}</div>
    </div>
  )
}

function Kpi({
  label,
  value,
  testId,
  tone,
}: {
  label: string
  value: number
  testId: string
  tone?: string
}) {
  return (
    <div class={`kpi ${tone ?? ''}`} data-kpi={testId}>
      <div class="kpi-label">{label}</div>
      <div class="kpi-value">{count(value)}</div>
    </div>
  )
}

const LIVE_STATUS = {
  idle: ['neutral', 'Off'],
  connecting: ['neutral', 'Connecting…'],
  open: ['ok', 'Live'],
  reconnecting: ['warn', 'Reconnecting…'],
  unavailable: ['bad', 'Unavailable'],
} as const

function LiveStream() {
  const status = live.status.value
  const events = live.events.value
  const [tone, text] = LIVE_STATUS[status]
  return (
    <section class="panel live" aria-labelledby="live-title">
      <h2 id="live-title">
        Live stream <Badge tone={tone}>{text}</Badge>
        <span class="muted small" data-live-count>
          {live.received.value ? `${count(live.received.value)} since opened` : ''}
        </span>
      </h2>
      {status === 'unavailable' && (
        <p class="muted small" role="status">
          The server did not open the live stream (GET /api/insights/live). Retrying shortly; the
          numbers still refresh every few seconds.
        </p>
      )}
      {events.length === 0 ? (
        status !== 'unavailable' && (
          <p class="muted small">Waiting for events… new events appear here as they arrive.</p>
        )
      ) : (
        <ol class="live-list" aria-live="polite" aria-relevant="additions">
          {events.map((event) => (
            <li key={event.id}>
              <time
                class="muted"
                dateTime={event.receivedAt}
                title={`Arrived ${when(event.receivedAt)}; happened ${when(event.timestamp)}`}
              >
                {time(event.receivedAt)}
              </time>
              <span class={`type t-${event.type}`}>{event.type}</span>
              <span
                class="live-title"
                title={[event.channel, event.country, event.device].filter(Boolean).join(' · ')}
              >
                {event.title}
              </span>
              {event.contactKey && (
                <Link
                  class="live-contact"
                  href={`/contacts/${encodeURIComponent(event.contactKey)}`}
                >
                  {event.contactKey}
                </Link>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}
