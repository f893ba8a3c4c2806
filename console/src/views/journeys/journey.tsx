import { useEffect } from 'preact/hooks'
import {
  journeyModel,
  liveLabel,
  mayChangeJourneys,
  type JourneyStatus,
} from '../../models/journeys'
import { session } from '../../models/session'
import { Async, Badge, Link, PageHeader, Tabs } from '../common'
import { JourneyDiffView } from './diff'
import { JourneyEditor } from './editor'
import { JourneyOverview } from './overview'
import { JourneySimulator } from './simulator'
import { JourneyVersions } from './versions'

const STATUS_TONE: Record<JourneyStatus, string> = { live: 'ok', paused: 'warn', draft: 'neutral' }

export function StatusBadge({ status }: { status: JourneyStatus }) {
  return <Badge tone={STATUS_TONE[status]}>{status}</Badge>
}

export function journeyHref(id: string, rest = '') {
  return `/journeys/${encodeURIComponent(id)}${rest}`
}

/** One journey: its name, status and tabs, and the tab the URL names. */
export function JourneyFrame({ id, rest }: { id: string; rest: string[] }) {
  const model = journeyModel(id)
  useEffect(() => {
    void model.load()
  }, [model])
  const journey = model.detail.data.value
  const [tab = '', a, , b] = rest
  const tabs = [
    { href: journeyHref(id), label: 'Overview', active: tab === '' },
    { href: journeyHref(id, '/versions'), label: 'Versions', active: tab === 'versions' },
    ...(mayChangeJourneys(session.role.value)
      ? [{ href: journeyHref(id, '/edit'), label: 'Editor', active: tab === 'edit' }]
      : []),
    { href: journeyHref(id, '/simulate'), label: 'Simulator', active: tab === 'simulate' },
  ]
  return (
    <>
      <p class="breadcrumb">
        <Link href="/journeys">Journeys</Link> <span aria-hidden="true">/</span>{' '}
        <span class="mono">{id}</span>
      </p>
      <PageHeader title={journey?.name ?? 'Journey'}>
        {journey && (
          <span class="journey-status">
            <StatusBadge status={journey.status} />{' '}
            <span class="muted">live: {liveLabel(journey.live)}</span>
          </span>
        )}
      </PageHeader>
      <Tabs label="Journey" items={tabs} />
      <Async
        req={model.detail}
        retry={() => void model.load()}
        errorTitle={(e) => (e.status === 404 ? 'No such journey' : undefined)}
        loadingLabel="Loading journey…"
      >
        {(detail) => {
          if (tab === 'versions' && a !== undefined && b !== undefined) {
            return <JourneyDiffView model={model} journey={detail} a={Number(a)} b={Number(b)} />
          }
          if (tab === 'versions') return <JourneyVersions model={model} journey={detail} />
          if (tab === 'edit') return <JourneyEditor model={model} journey={detail} />
          if (tab === 'simulate') return <JourneySimulator model={model} journey={detail} />
          return <JourneyOverview model={model} journey={detail} />
        }}
      </Async>
    </>
  )
}
