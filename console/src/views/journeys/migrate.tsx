import { useEffect, useState } from 'preact/hooks'
import { WAITING_TYPES } from '../../../../domain/journeys/definition'
import { issuesOf, type Journey, type JourneyModel } from '../../models/journeys'
import { Async, ErrorNotice } from '../common'
import { count } from '../format'
import { VersionSelect } from './versions'

/**
 * Moves the runs waiting in one version to nodes of another: each waiting node of the source is
 * mapped to a node of the target (the same id by default, when it has the same type). The API
 * refuses a map naming a missing node or one of another type; its problems show by their node.
 */
export function MigrateRuns({ model, journey }: { model: JourneyModel; journey: Journey }) {
  const numbers = journey.versions.map((v) => v.version)
  const [from, setFrom] = useState(numbers.at(-2) ?? numbers[0] ?? 1)
  const [to, setTo] = useState(numbers.at(-1) ?? 1)
  const [map, setMap] = useState<Record<string, string>>({})
  useEffect(() => {
    model.loadVersion(from)
    model.loadVersion(to)
    setMap({})
    model.migration.reset()
  }, [model, from, to])
  if (numbers.length < 2) return null
  const source = model.version(from)
  const target = model.version(to)
  const waiting = model.metrics.data.value?.versions.find((v) => v.version === from)?.nodes ?? {}
  const { migration } = model
  const problems = new Map(
    issuesOf(migration.error.value).map((issue) => [issue.path.replace(/^nodeMap\./, ''), issue]),
  )

  return (
    <section class="panel form" aria-labelledby="migrate-title">
      <h2 id="migrate-title">Move waiting runs to another version</h2>
      <div class="split-grid">
        <VersionSelect label="From version" numbers={numbers} value={from} onChange={setFrom} />
        <VersionSelect label="To version" numbers={numbers} value={to} onChange={setTo} />
      </div>
      <Async req={source} loadingLabel="Loading versions…">
        {(a) => (
          <Async req={target} loadingLabel="Loading versions…">
            {(b) => {
              const nodes = Object.entries(a.definition.nodes).filter(([, n]) =>
                WAITING_TYPES.has(n.type),
              )
              const targets = Object.entries(b.definition.nodes)
              const chosen = (id: string) =>
                map[id] ?? (b.definition.nodes[id]?.type === a.definition.nodes[id]?.type ? id : '')
              return (
                <form
                  class="form"
                  aria-label="Node map"
                  onSubmit={(event) => {
                    event.preventDefault()
                    const nodeMap = Object.fromEntries(
                      nodes.map(([id]) => [id, chosen(id)]).filter(([, node]) => node !== ''),
                    )
                    void model.migrate(from, to, nodeMap)
                  }}
                >
                  {nodes.length === 0 ? (
                    <p class="muted small">Version {from} has no node where runs wait.</p>
                  ) : (
                    <table class="dense" data-node-map>
                      <thead>
                        <tr>
                          <th scope="col">Waiting at (v{from})</th>
                          <th scope="col" class="num">
                            Runs waiting
                          </th>
                          <th scope="col">Moves to (v{to})</th>
                          <th scope="col">Problem</th>
                        </tr>
                      </thead>
                      <tbody>
                        {nodes.map(([id, node]) => (
                          <tr key={id} data-node={id}>
                            <th scope="row" class="mono">
                              {id} <span class="muted">{node.type}</span>
                            </th>
                            <td class="num">{count(waiting[id]?.waiting ?? 0)}</td>
                            <td>
                              <select
                                aria-label={`Node of v${to} for ${id}`}
                                value={chosen(id)}
                                onChange={(e) => setMap({ ...map, [id]: e.currentTarget.value })}
                              >
                                <option value="">(not mapped)</option>
                                {targets.map(([other, t]) => (
                                  <option key={other} value={other}>
                                    {other} ({t.type})
                                  </option>
                                ))}
                              </select>
                            </td>
                            <td
                              class="bad-text small wrap"
                              role={problems.has(id) ? 'alert' : undefined}
                            >
                              {problems.get(id)?.message ?? ''}
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )}
                  {migration.error.value && (
                    <ErrorNotice error={migration.error.value} title="The runs were not moved" />
                  )}
                  {migration.data.value && (
                    <p class="notice" role="status">
                      Moving the runs waiting in v{migration.data.value.from} to v
                      {migration.data.value.to} in the background; the figures follow.
                    </p>
                  )}
                  <div class="toolbar">
                    <button type="submit" disabled={from === to || migration.loading.value}>
                      Move waiting runs from v{from} to v{to}
                    </button>
                  </div>
                </form>
              )
            }}
          </Async>
        )}
      </Async>
    </section>
  )
}
