import { useModel } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import type { Reentry } from '../../../../domain/journeys/definition'
import { problemsByNode } from '../../models/journey-graph'
import { BLANK, JourneyDraftModel, type EntryKind } from '../../models/journey-draft'
import {
  issuesOf,
  journeyChoices,
  mayChangeJourneys,
  type Journey,
  type JourneyModel,
} from '../../models/journeys'
import { href, navigate, route } from '../../models/router'
import { session } from '../../models/session'
import { ErrorNotice, Link, Loading } from '../common'
import JourneyCanvas from './canvas'
import { DurationInput } from './duration'
import { journeyHref } from './journey'

/**
 * `/journeys/:id/edit[?from=N]`: version N (the latest by default) as a draft: the graph on the
 * canvas, the journey's settings in the form beside it, saved as a new version. The API's
 * problems show on their nodes and in a list.
 */
export function JourneyEditor({ model, journey }: { model: JourneyModel; journey: Journey }) {
  const draft = useModel(JourneyDraftModel)
  const asked = Number(route.query.value.get('from'))
  const from = asked > 0 ? asked : (journey.versions.at(-1)?.version ?? null)
  const source = from === null ? null : model.version(from)
  const loaded = source?.data.value
  useEffect(() => {
    if (from !== null) model.loadVersion(from)
  }, [model, from])
  useEffect(() => {
    void journeyChoices.load()
    model.saving.reset()
  }, [model])
  useEffect(() => {
    if (from === null) draft.reset(BLANK, null)
    else if (loaded) draft.reset(loaded.definition, from)
  }, [draft, from, loaded])

  if (!mayChangeJourneys(session.role.value)) {
    return <p class="muted">Your role may read journeys, not change them.</p>
  }
  if (source?.error.value) {
    return <ErrorNotice error={source.error.value} title={`Version ${from} could not be loaded`} />
  }
  if (from !== null && (!loaded || draft.base.value !== from)) {
    return <Loading label={`Loading version ${from}…`} />
  }

  const { saving } = model
  const issues = issuesOf(saving.error.value)
  const { nodes: problems, other } = problemsByNode(issues)
  const definition = draft.draft.value
  const choices = journeyChoices.choices.data.value
  const jsonErrors = draft.jsonErrors.value
  const blocked = Object.keys(jsonErrors).length > 0

  async function save() {
    const next = draft.definition()
    if (!next) return
    const saved = await model.saveVersion(next)
    if (saved) navigate(href(journeyHref(journey.id, '/edit'), { from: String(saved.version) }))
  }

  return (
    <div class="stack">
      <div class="toolbar editor-bar">
        <span class="muted">
          {from === null ? 'A new journey' : `Editing from version ${from}`}; saving makes version{' '}
          {(journey.versions.at(-1)?.version ?? 0) + 1}.
        </span>
        <button
          type="button"
          class="primary"
          disabled={saving.loading.value || blocked}
          onClick={() => void save()}
        >
          {saving.loading.value ? 'Saving…' : 'Save as new version'}
        </button>
        {saving.data.value && !saving.error.value && (
          <span role="status" class="saved">
            Saved version {saving.data.value.version}.{' '}
            <Link href={journeyHref(journey.id, '/versions')}>Publish it</Link>
            {saving.data.value.version > 1 && (
              <>
                {' · '}
                <Link
                  href={journeyHref(
                    journey.id,
                    `/versions/${saving.data.value.version - 1}/diff/${saving.data.value.version}`,
                  )}
                >
                  what changed
                </Link>
              </>
            )}
          </span>
        )}
      </div>
      {saving.error.value && (
        <div class="state error save-problems" role="alert">
          <strong>Not saved</strong>
          {issues.length > 0 ? (
            <ul data-problems>
              {issues.map((issue) => (
                <li key={`${issue.path}:${issue.message}`}>
                  <span class="mono">{issue.path.replace(/^definition\./, '')}</span>:{' '}
                  {issue.message}
                </li>
              ))}
            </ul>
          ) : (
            <span>{saving.error.value.message}</span>
          )}
        </div>
      )}
      <SettingsForm draft={draft} segments={choices?.segments ?? []} other={other} />
      <JourneyCanvas
        definition={definition}
        editable
        onChange={(next) => draft.replace(next)}
        problems={problems}
        choices={choices}
      />
    </div>
  )
}

function SettingsForm({
  draft,
  segments,
  other,
}: {
  draft: JourneyDraftModel
  segments: { id: string; name: string }[]
  other: string[]
}) {
  const definition = draft.draft.value
  const entry = definition.entry
  const kind: EntryKind = 'event' in entry ? 'event' : 'segment' in entry ? 'segment' : 'api'
  const texts = draft.texts.value
  const errors = draft.jsonErrors.value
  const reentry = definition.reentry ?? 'never'
  const reentryKind = typeof reentry === 'string' ? reentry : 'after'
  return (
    <form
      class="panel form editor-settings"
      aria-label="Journey settings"
      onSubmit={(e) => e.preventDefault()}
    >
      <h2>Settings</h2>
      <div class="column">
        <fieldset>
          <legend>Entry</legend>
          <div class="segmented" role="radiogroup" aria-label="Entry">
            {(['event', 'segment', 'api'] as const).map((k) => (
              <label key={k} class="radio">
                <input
                  type="radio"
                  name="entry-kind"
                  checked={kind === k}
                  onChange={() => draft.setEntryKind(k)}
                />
                {k === 'event' ? 'Event' : k === 'segment' ? 'Segment' : 'API call'}
              </label>
            ))}
          </div>
          {'event' in entry && (
            <>
              <label>
                Event
                <input
                  value={entry.event}
                  placeholder="Product Added"
                  onInput={(e) => draft.setEntry({ ...entry, event: e.currentTarget.value })}
                />
              </label>
              <JsonField
                label="Where (conditions on its properties, JSON)"
                value={texts['entry.where'] ?? ''}
                error={errors['entry.where']}
                placeholder='[{"property": "price", "op": "gt", "value": 10}]'
                onInput={(text) => draft.setText('entry.where', text)}
              />
            </>
          )}
          {'segment' in entry && (
            <>
              <label>
                Segment
                <select
                  value={entry.segment}
                  onChange={(e) => draft.setEntry({ ...entry, segment: e.currentTarget.value })}
                >
                  <option value="">(choose)</option>
                  {segments.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                When a contact
                <select
                  value={entry.on}
                  onChange={(e) =>
                    draft.setEntry({ ...entry, on: e.currentTarget.value as 'enter' | 'exit' })
                  }
                >
                  <option value="enter">enters the segment</option>
                  <option value="exit">leaves the segment</option>
                </select>
              </label>
            </>
          )}
          {'api' in entry && (
            <p class="muted small">Contacts enter through POST /api/journeys/:id/enter.</p>
          )}
        </fieldset>
      </div>
      <div class="column">
        <fieldset>
          <legend>Re-entry</legend>
          <select
            aria-label="Re-entry"
            value={reentryKind}
            onChange={(e) => {
              const value = e.currentTarget.value
              draft.setReentry(
                value === 'after' ? { after: { days: 7 } } : (value as Exclude<Reentry, object>),
              )
            }}
          >
            <option value="never">Never again</option>
            <option value="after_exit">Again once the last run ended</option>
            <option value="after">Again after a while</option>
          </select>
          {typeof reentry === 'object' && (
            <DurationInput
              label="After"
              value={reentry.after}
              onChange={(after) => draft.setReentry({ after })}
            />
          )}
        </fieldset>
        <fieldset>
          <legend>Goal</legend>
          <label>
            Converts on the event
            <input
              value={definition.goal?.performed ?? ''}
              placeholder="Order Completed (empty: no goal)"
              onInput={(e) => draft.setGoal(e.currentTarget.value, definition.goal?.within)}
            />
          </label>
          {definition.goal && (
            <>
              <DurationInput
                label="Within (from entry; 0 for any time)"
                value={definition.goal.within ?? {}}
                onChange={(within) =>
                  draft.setGoal(
                    definition.goal!.performed,
                    Object.keys(within).length > 0 ? within : undefined,
                  )
                }
              />
              <JsonField
                label="Where (JSON)"
                value={texts['goal.where'] ?? ''}
                error={errors['goal.where']}
                onInput={(text) => draft.setText('goal.where', text)}
              />
            </>
          )}
        </fieldset>
      </div>
      <div class="column">
        <JsonField
          label="Exit when (a segment rule, JSON; empty for none)"
          value={texts.exitWhen ?? ''}
          error={errors.exitWhen}
          placeholder='{"performed": "Unsubscribed"}'
          onInput={(text) => draft.setText('exitWhen', text)}
        />
        <label>
          Start node
          <select value={definition.start} onChange={(e) => draft.setStart(e.currentTarget.value)}>
            {!Object.hasOwn(definition.nodes, definition.start) && <option value="">(none)</option>}
            {Object.keys(definition.nodes).map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </label>
        {other.length > 0 && (
          <ul class="bad-text small" data-journey-problems>
            {other.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        )}
      </div>
    </form>
  )
}

function JsonField({
  label,
  value,
  error,
  placeholder,
  onInput,
}: {
  label: string
  value: string
  error: string | undefined
  placeholder?: string
  onInput: (text: string) => void
}) {
  return (
    <label>
      {label}
      <textarea
        class="json-input"
        rows={3}
        spellcheck={false}
        value={value}
        placeholder={placeholder}
        aria-invalid={error ? 'true' : undefined}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
      {error && (
        <span class="bad-text small" role="alert">
          Not JSON: {error}
        </span>
      )}
    </label>
  )
}
