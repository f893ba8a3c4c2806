import { useEffect } from 'preact/hooks'
import {
  liveFigures,
  mayChangeJourneys,
  type Journey,
  type JourneyModel,
  type VersionMetrics,
} from '../../models/journeys'
import { href, route, setQuery } from '../../models/router'
import { session } from '../../models/session'
import { Async, Empty, ErrorNotice, Facts, Link } from '../common'
import { count } from '../format'
import JourneyCanvas from './canvas'
import { overlayText, rate } from './format'
import { journeyHref } from './journey'
import { VersionTable } from './versions'

/**
 * `/journeys/:id[?version=N]`: the live version's graph with each node's figures on it, the
 * journey's figures, pause and resume, and its versions.
 */
export function JourneyOverview({ model, journey }: { model: JourneyModel; journey: Journey }) {
  const asked = Number(route.query.value.get('version'))
  const live = journey.live ?? []
  const latest = journey.versions.at(-1)?.version
  const shown = asked > 0 ? asked : (live[0]?.version ?? latest)
  const metrics = model.metrics.data.value
  const shownMetrics = metrics?.versions.find((v) => v.version === shown)
  const figures = metrics ? liveFigures(metrics.versions) : null
  const editor = mayChangeJourneys(session.role.value)

  return (
    <div class="stack">
      <div class="journey-summary">
        <Facts
          items={[
            ['Entered', <span data-figure="entered">{count(figures?.entered)}</span>],
            ['Converted', <span data-figure="converted">{count(figures?.converted)}</span>],
            [
              'Completion rate',
              <span data-figure="completion">{rate(figures?.completionRate)}</span>,
            ],
            ['Versions', count(journey.versions.length)],
          ]}
        />
        {editor && <PauseResume model={model} journey={journey} />}
      </div>
      {model.metrics.error.value && (
        <ErrorNotice
          error={model.metrics.error.value}
          title="The figures could not be loaded"
          retry={() => void model.loadMetrics()}
        />
      )}
      {shown === undefined ? (
        <Empty>
          <p>No version yet.</p>
          {editor && <Link href={journeyHref(journey.id, '/edit')}>Build the first one</Link>}
        </Empty>
      ) : (
        <VersionGraph
          model={model}
          journey={journey}
          version={shown}
          metrics={shownMetrics}
          live={live.length > 0}
        />
      )}
      <section class="panel" aria-labelledby="versions-title">
        <h2 id="versions-title">
          Versions{' '}
          <Link href={journeyHref(journey.id, '/versions')}>publish, compare, roll back</Link>
        </h2>
        <VersionTable journey={journey} metrics={metrics?.versions} />
      </section>
    </div>
  )
}

function PauseResume({ model, journey }: { model: JourneyModel; journey: Journey }) {
  const { change, changing } = model
  const busy = change.loading.value
  if (journey.status === 'draft') {
    return <p class="muted small">Not published: publish a version to admit contacts.</p>
  }
  const pausing = journey.status === 'live'
  return (
    <div class="toolbar">
      <button
        type="button"
        class={pausing ? 'danger' : 'primary'}
        disabled={busy}
        onClick={() => void (pausing ? model.pause() : model.resume())}
      >
        {pausing ? 'Pause journey' : 'Resume journey'}
      </button>
      <span class="muted small">
        {pausing
          ? 'Pausing admits no one; runs wait.'
          : 'Resuming admits contacts again; waiting runs go on.'}
      </span>
      {change.error.value && (changing.value === 'pause' || changing.value === 'resume') && (
        <ErrorNotice error={change.error.value} />
      )}
    </div>
  )
}

function VersionGraph({
  model,
  journey,
  version,
  metrics,
  live,
}: {
  model: JourneyModel
  journey: Journey
  version: number
  metrics: VersionMetrics | undefined
  live: boolean
}) {
  useEffect(() => model.loadVersion(version), [model, version])
  const request = model.version(version)
  const overlay = Object.fromEntries(
    Object.entries(metrics?.nodes ?? {}).map(([id, node]) => [id, overlayText(node)]),
  )
  const others = journey.versions.filter((v) => v.version !== version)
  return (
    <section class="panel" aria-labelledby="graph-title">
      <div class="graph-head">
        <h2 id="graph-title">
          Version {version}{' '}
          <span class="muted small">
            {journey.live?.some((v) => v.version === version)
              ? 'live'
              : live
                ? 'not live'
                : 'not published yet'}
          </span>
        </h2>
        {others.length > 0 && (
          <label class="inline-label">
            Show version
            <select value={version} onChange={(e) => setQuery({ version: e.currentTarget.value })}>
              {journey.versions.map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version}
                  {v.live ? ' (live)' : ''}
                </option>
              ))}
            </select>
          </label>
        )}
        {metrics && (
          <span class="muted small">
            {count(metrics.entered)} entered · {count(metrics.active)} active ·{' '}
            {count(metrics.completed)} completed · {count(metrics.exited)} exited ·{' '}
            {count(metrics.converted)} converted · completion {rate(metrics.completionRate)}
          </span>
        )}
      </div>
      <Async req={request} retry={() => model.loadVersion(version)} loadingLabel="Loading graph…">
        {(saved) => (
          <>
            <JourneyCanvas definition={saved.definition} editable={false} overlay={overlay} />
            <NodeMetricsTable metrics={metrics} order={Object.keys(saved.definition.nodes)} />
            <p class="small">
              <Link href={href(journeyHref(journey.id, '/simulate'), { version: String(version) })}>
                Simulate this version
              </Link>
              {' · '}
              <Link href={href(journeyHref(journey.id, '/edit'), { from: String(version) })}>
                Edit from this version
              </Link>
            </p>
          </>
        )}
      </Async>
    </section>
  )
}

/** The overlay's figures as a table too: readable by screen readers, sortable by eye. */
function NodeMetricsTable({
  metrics,
  order,
}: {
  metrics: VersionMetrics | undefined
  order: string[]
}) {
  if (!metrics) return null
  const rows = order.filter((id) => metrics.nodes[id])
  return (
    <table class="dense node-metrics" data-node-metrics>
      <thead>
        <tr>
          <th scope="col">Node</th>
          <th scope="col">Type</th>
          <th scope="col" class="num">
            Entered
          </th>
          <th scope="col" class="num">
            Waiting
          </th>
          <th scope="col" class="num">
            Progressed
          </th>
          <th scope="col" class="num">
            Exited
          </th>
          <th scope="col" class="num">
            Converted
          </th>
          <th scope="col">Messages</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((id) => {
          const node = metrics.nodes[id]!
          return (
            <tr key={id} data-node={id}>
              <th scope="row" class="mono">
                {id}
              </th>
              <td class="muted">{node.type}</td>
              <td class="num" data-figure="entered">
                {count(node.entered)}
              </td>
              <td class="num" data-figure="waiting">
                {count(node.waiting)}
              </td>
              <td class="num" data-figure="progressed">
                {count(node.progressed)}
              </td>
              <td class="num" data-figure="exited">
                {count(node.exited)}
              </td>
              <td class="num" data-figure="converted">
                {count(node.converted)}
              </td>
              <td class="muted small">
                {Object.entries(node.messages ?? {})
                  .map(([status, n]) => `${count(n)} ${status}`)
                  .join(' · ')}
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
