import { useEffect, useState } from 'preact/hooks'
import { draftOf, settingsOf, type SettingsDraft as Draft } from '../../models/prediction-settings'
import {
  atRisk,
  mayEditSettings,
  predictionSettings,
  type PredictionSettings,
} from '../../models/predictions'
import { session } from '../../models/session'
import { Async, ErrorNotice } from '../common'

export function SettingsView() {
  return (
    <Async
      req={predictionSettings.settings}
      retry={() => void predictionSettings.load()}
      loadingLabel="Loading settings…"
    >
      {(current) => (
        <SettingsForm current={current} editable={mayEditSettings(session.role.value)} />
      )}
    </Async>
  )
}

function SettingsForm({ current, editable }: { current: PredictionSettings; editable: boolean }) {
  const [draft, setDraft] = useState(() => draftOf(current))
  useEffect(() => setDraft(draftOf(current)), [current])
  const set = (key: keyof Draft) => (event: { currentTarget: { value: string } }) =>
    setDraft({ ...draft, [key]: event.currentTarget.value })
  const field = { draft, editable, set }
  const changed = JSON.stringify(draftOf(current)) !== JSON.stringify(draft)
  const saving = predictionSettings.saving.value
  return (
    <form
      class="panel form narrow prediction-settings"
      aria-labelledby="prediction-settings-title"
      onSubmit={async (event) => {
        event.preventDefault()
        await predictionSettings.save(settingsOf(draft))
        if (predictionSettings.saved.peek()) atRisk.load()
      }}
    >
      <h2 id="prediction-settings-title">Prediction settings</h2>
      <p class="small muted">
        Contacts' scores follow at their next read; the purchase model uses the new purchase events
        and value at its next fit.
      </p>
      <label>
        Purchase events, one per line
        <textarea
          name="purchaseEvents"
          rows={3}
          required
          readOnly={!editable}
          value={draft.purchaseEvents}
          onInput={set('purchaseEvents')}
        />
        <span class="small">Track events that count as purchases.</span>
      </label>
      <label>
        Value property
        <input
          name="valueProperty"
          required
          readOnly={!editable}
          value={draft.valueProperty}
          onInput={set('valueProperty')}
        />
        <span class="small">The purchase's property holding its value, such as revenue.</span>
      </label>
      <div class="settings-row">
        <NumberField label="CLV horizon (months)" name="months" min={1} step={1} {...field} />
        <NumberField
          label="Discount rate (% a month)"
          name="discountPercent"
          max={100}
          {...field}
        />
      </div>
      <div class="settings-row">
        <NumberField label="Engagement half-life (days)" name="halfLifeDays" {...field} />
        <NumberField
          label="At-risk threshold (% churn risk)"
          name="thresholdPercent"
          max={100}
          {...field}
        />
      </div>
      {editable ? (
        <div class="toolbar">
          <button type="submit" class="primary" disabled={!changed || saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
          {changed && (
            <button type="button" class="link-button" onClick={() => setDraft(draftOf(current))}>
              Undo changes
            </button>
          )}
          {predictionSettings.saved.value && !changed && <span role="status">Saved.</span>}
        </div>
      ) : (
        <p class="muted small">Only an admin or a marketer can change these settings.</p>
      )}
      {predictionSettings.saveError.value && (
        <ErrorNotice error={predictionSettings.saveError.value} title="Not saved" />
      )}
    </form>
  )
}

type NumberKey = 'months' | 'discountPercent' | 'halfLifeDays' | 'thresholdPercent'

/** One of the form's numbers, kept as typed in the draft (settingsOf converts them). */
function NumberField({
  label,
  name,
  min = 0,
  max,
  step = 'any',
  draft,
  editable,
  set,
}: {
  label: string
  name: NumberKey
  min?: number
  max?: number
  step?: number | 'any'
  draft: Draft
  editable: boolean
  set: (key: keyof Draft) => (event: { currentTarget: { value: string } }) => void
}) {
  return (
    <label>
      {label}
      <input
        name={name}
        type="number"
        min={min}
        max={max}
        step={step}
        required
        readOnly={!editable}
        value={draft[name]}
        onInput={set(name)}
      />
    </label>
  )
}
