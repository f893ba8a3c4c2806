import { useEffect } from 'preact/hooks'
import { diffJourneys, isEmpty, type FieldChange } from '../../models/journey-diff'
import type { Journey, JourneyModel } from '../../models/journeys'
import { navigate } from '../../models/router'
import { Async, Badge, Empty, Link } from '../common'
import JourneyCanvas from './canvas'
import { json } from './format'
import { journeyHref } from './journey'
import { VersionSelect } from './versions'

/** `/journeys/:id/versions/:a/diff/:b`: what changed from version a to version b. */
export function JourneyDiffView({
  model,
  journey,
  a,
  b,
}: {
  model: JourneyModel
  journey: Journey
  a: number
  b: number
}) {
  useEffect(() => {
    model.loadVersion(a)
    model.loadVersion(b)
  }, [model, a, b])
  const numbers = journey.versions.map((v) => v.version)
  const go = (from: number, to: number) =>
    navigate(journeyHref(journey.id, `/versions/${from}/diff/${to}`), { replace: true })
  return (
    <div class="stack">
      <form
        class="toolbar diff-pick"
        aria-label="Versions compared"
        onSubmit={(e) => e.preventDefault()}
      >
        <VersionSelect label="From" numbers={numbers} value={a} onChange={(n) => go(n, b)} />
        <VersionSelect label="To" numbers={numbers} value={b} onChange={(n) => go(a, n)} />
        <Link href={journeyHref(journey.id, '/versions')}>All versions</Link>
      </form>
      <Async req={model.version(a)} loadingLabel={`Loading v${a}…`}>
        {(before) => (
          <Async req={model.version(b)} loadingLabel={`Loading v${b}…`}>
            {(after) => {
              const diff = diffJourneys(before.definition, after.definition)
              if (isEmpty(diff)) {
                return (
                  <Empty>
                    <p>
                      Versions {a} and {b} are the same journey.
                    </p>
                  </Empty>
                )
              }
              const lit = [...diff.added.map((n) => n.id), ...diff.changed.map((n) => n.id)]
              return (
                <div class="diff-layout">
                  <div class="stack" data-diff>
                    <section class="panel" aria-labelledby="diff-settings-title">
                      <h2 id="diff-settings-title">Entry, goal and settings</h2>
                      {diff.settings.length === 0 ? (
                        <p class="muted small">Unchanged.</p>
                      ) : (
                        <Changes fields={diff.settings} />
                      )}
                    </section>
                    <section class="panel" aria-labelledby="diff-nodes-title">
                      <h2 id="diff-nodes-title">Nodes</h2>
                      <ul class="diff-nodes">
                        {diff.added.map(({ id, node }) => (
                          <li key={id} data-change="added" data-node={id}>
                            <Badge tone="ok">added</Badge> <span class="mono">{id}</span>{' '}
                            <span class="muted">{node.type}</span>
                            <pre class="json">{json(node)}</pre>
                          </li>
                        ))}
                        {diff.removed.map(({ id, node }) => (
                          <li key={id} data-change="removed" data-node={id}>
                            <Badge tone="bad">removed</Badge> <span class="mono">{id}</span>{' '}
                            <span class="muted">{node.type}</span>
                          </li>
                        ))}
                        {diff.changed.map((change) => (
                          <li key={change.id} data-change="changed" data-node={change.id}>
                            <Badge tone="warn">changed</Badge> <span class="mono">{change.id}</span>
                            {change.type && (
                              <span class="muted">
                                {' '}
                                {change.type.before} → {change.type.after}
                              </span>
                            )}
                            <Changes fields={change.fields} />
                          </li>
                        ))}
                      </ul>
                      {diff.added.length + diff.removed.length + diff.changed.length === 0 && (
                        <p class="muted small">No node changed.</p>
                      )}
                    </section>
                  </div>
                  <section class="panel" aria-labelledby="diff-graph-title">
                    <h2 id="diff-graph-title">
                      Version {b} <span class="muted small">added and changed nodes lit</span>
                    </h2>
                    <JourneyCanvas definition={after.definition} editable={false} highlight={lit} />
                  </section>
                </div>
              )
            }}
          </Async>
        )}
      </Async>
    </div>
  )
}

function Changes({ fields }: { fields: FieldChange[] }) {
  return (
    <table class="dense field-changes">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((field) => (
          <tr key={field.path} data-field={field.path}>
            <th scope="row" class="mono">
              {field.path || '(whole)'}
            </th>
            <td class="mono wrap before">{json(field.before)}</td>
            <td class="mono wrap after">{json(field.after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
