import { useEffect, useState } from 'preact/hooks'
import {
  DURATION_UNITS,
  PROVIDER_FIELDS,
  PROVIDER_KINDS,
  durationParts,
  issuesOf,
  mayEditMessagingSettings,
  mayEditProviders,
  messagingSettings,
  providerRowOf,
  providers,
  type DurationUnit,
  type MessagingSettings,
  type ProviderKind,
  type ProviderRow,
} from '../models/messages'
import { session } from '../models/session'
import { Async, ErrorNotice, Loading } from './common'
import { HealthBadge } from './messages'
import './messaging-settings.css'

/**
 * `/messages/settings` (its own chunk): how messages are sent. The providers in fallback order
 * with each one's health and write-only credentials (admins change them), and the sender,
 * frequency cap and quiet hours every send obeys.
 */
export default function MessagingSettingsScreen() {
  // The forms start from what the server holds now, not from an earlier visit's copy.
  const [fresh, setFresh] = useState(false)
  useEffect(() => {
    void Promise.all([providers.load(), messagingSettings.load()]).then(() => setFresh(true))
  }, [])
  if (!fresh) return <Loading label="Loading settings…" />
  return (
    <div class="two-col messaging-settings">
      <Async
        req={messagingSettings.settings}
        retry={() => void messagingSettings.load()}
        loadingLabel="Loading settings…"
      >
        {(settings) => <SendingRulesForm settings={settings} />}
      </Async>
      <section class="panel" aria-labelledby="providers-title">
        <h2 id="providers-title">
          Providers <span class="muted small">in fallback order: the first healthy one sends</span>
        </h2>
        <Async req={providers.list} retry={() => void providers.load()}>
          {(items) => <ProvidersForm rows={items.map(providerRowOf)} />}
        </Async>
      </section>
    </div>
  )
}

interface RulesForm {
  from: string
  replyTo: string
  timezone: string
  capOn: boolean
  capCount: string
  capAmount: string
  capUnit: DurationUnit
  quietOn: boolean
  quietStart: string
  quietEnd: string
}

function formOf(settings: MessagingSettings): RulesForm {
  const per = settings.frequencyCap ? durationParts(settings.frequencyCap.per) : undefined
  return {
    from: settings.from,
    replyTo: settings.replyTo ?? '',
    timezone: settings.timezone ?? '',
    capOn: Boolean(settings.frequencyCap),
    capCount: String(settings.frequencyCap?.count ?? 3),
    capAmount: String(per?.amount ?? 7),
    capUnit: per?.unit ?? 'days',
    quietOn: Boolean(settings.quietHours),
    quietStart: settings.quietHours?.start ?? '21:00',
    quietEnd: settings.quietHours?.end ?? '08:00',
  }
}

function settingsOf(form: RulesForm): MessagingSettings {
  return {
    from: form.from.trim(),
    ...(form.replyTo.trim() ? { replyTo: form.replyTo.trim() } : {}),
    ...(form.timezone.trim() ? { timezone: form.timezone.trim() } : {}),
    ...(form.capOn
      ? {
          frequencyCap: {
            count: Number(form.capCount),
            per: { [form.capUnit]: Number(form.capAmount) },
          },
        }
      : {}),
    ...(form.quietOn ? { quietHours: { start: form.quietStart, end: form.quietEnd } } : {}),
  }
}

/** The sender, the cap on marketing messages per contact, and the hours they wait out. */
function SendingRulesForm({ settings }: { settings: MessagingSettings }) {
  const [form, setForm] = useState(() => formOf(settings))
  const [savedNote, setSavedNote] = useState(false)
  const canEdit = mayEditMessagingSettings(session.role.value)
  const error = messagingSettings.save.error.value
  const issues = issuesOf(error)
  const at = (...paths: string[]) => {
    const path = Object.keys(issues).find((p) => paths.some((q) => p === q || p.startsWith(q)))
    return path ? issues[path] : undefined
  }
  const placed = Object.keys(issues).length > 0
  const set = (patch: Partial<RulesForm>) => {
    setSavedNote(false)
    setForm({ ...form, ...patch })
  }

  return (
    <form
      class="panel form"
      aria-labelledby="rules-title"
      data-messaging-settings
      onSubmit={async (event) => {
        event.preventDefault()
        const saved = await messagingSettings.change(settingsOf(form))
        if (saved) {
          setForm(formOf(saved))
          setSavedNote(true)
        }
      }}
    >
      <h2 id="rules-title">Sending rules</h2>
      <fieldset disabled={!canEdit}>
        <label>
          From
          <input
            name="from"
            value={form.from}
            required
            placeholder="Shop <hello@shop.example>"
            onInput={(e) => set({ from: e.currentTarget.value })}
            aria-invalid={Boolean(at('from'))}
          />
          <FieldError message={at('from')} />
        </label>
        <label>
          <span>
            Reply-To <span class="muted">(optional)</span>
          </span>
          <input
            name="replyTo"
            value={form.replyTo}
            onInput={(e) => set({ replyTo: e.currentTarget.value })}
            aria-invalid={Boolean(at('replyTo'))}
          />
          <FieldError message={at('replyTo')} />
        </label>
        <fieldset class="rule" data-frequency-cap>
          <legend>
            <label class="check">
              <input
                type="checkbox"
                name="capOn"
                checked={form.capOn}
                onChange={(e) => set({ capOn: e.currentTarget.checked })}
              />
              Frequency cap on marketing: at most
            </label>
          </legend>
          <div class="inline-fields">
            <label>
              <span class="sr-only">Messages</span>
              <input
                type="number"
                name="capCount"
                min={1}
                max={1000}
                required={form.capOn}
                disabled={!form.capOn}
                value={form.capCount}
                onInput={(e) => set({ capCount: e.currentTarget.value })}
                aria-invalid={Boolean(at('frequencyCap.count'))}
              />
            </label>
            <span>messages per contact every</span>
            <label>
              <span class="sr-only">Period</span>
              <input
                type="number"
                name="capAmount"
                min={1}
                required={form.capOn}
                disabled={!form.capOn}
                value={form.capAmount}
                onInput={(e) => set({ capAmount: e.currentTarget.value })}
                aria-invalid={Boolean(at('frequencyCap.per'))}
              />
            </label>
            <label>
              <span class="sr-only">Unit</span>
              <select
                name="capUnit"
                disabled={!form.capOn}
                value={form.capUnit}
                onChange={(e) => set({ capUnit: e.currentTarget.value as DurationUnit })}
              >
                {DURATION_UNITS.map((unit) => (
                  <option key={unit} value={unit}>
                    {unit}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <FieldError message={at('frequencyCap')} />
        </fieldset>
        <fieldset class="rule" data-quiet-hours>
          <legend>
            <label class="check">
              <input
                type="checkbox"
                name="quietOn"
                checked={form.quietOn}
                onChange={(e) => set({ quietOn: e.currentTarget.checked })}
              />
              Quiet hours: marketing waits from
            </label>
          </legend>
          <div class="inline-fields">
            <label>
              <span class="sr-only">Start</span>
              <input
                type="time"
                name="quietStart"
                required={form.quietOn}
                disabled={!form.quietOn}
                value={form.quietStart}
                onInput={(e) => set({ quietStart: e.currentTarget.value })}
                aria-invalid={Boolean(at('quietHours'))}
              />
            </label>
            <span>until</span>
            <label>
              <span class="sr-only">End</span>
              <input
                type="time"
                name="quietEnd"
                required={form.quietOn}
                disabled={!form.quietOn}
                value={form.quietEnd}
                onInput={(e) => set({ quietEnd: e.currentTarget.value })}
                aria-invalid={Boolean(at('quietHours'))}
              />
            </label>
            <span class="muted small">in the contact's time zone</span>
          </div>
          <FieldError message={at('quietHours')} />
        </fieldset>
        <label>
          <span>
            Time zone for contacts without one <span class="muted">(default UTC)</span>
          </span>
          <input
            name="timezone"
            value={form.timezone}
            placeholder="Europe/Paris"
            onInput={(e) => set({ timezone: e.currentTarget.value })}
            aria-invalid={Boolean(at('timezone'))}
          />
          <FieldError message={at('timezone')} />
        </label>
      </fieldset>
      {error && !placed && <ErrorNotice error={error} title="Not saved" />}
      {canEdit ? (
        <div class="toolbar">
          <button type="submit" class="primary" disabled={messagingSettings.save.loading.value}>
            {messagingSettings.save.loading.value ? 'Saving…' : 'Save rules'}
          </button>
          {error && placed && (
            <span class="field-error" role="alert">
              Not saved: {error.message}
            </span>
          )}
          {savedNote && (
            <span class="muted small" role="status" data-saved>
              Saved.
            </span>
          )}
        </div>
      ) : (
        <p class="muted small">Your role can read these rules but not change them.</p>
      )}
    </form>
  )
}

function FieldError({ message }: { message: string | undefined }) {
  return message ? <span class="field-error">{message}</span> : null
}

/**
 * The fallback order as an editable list: move, add, remove, and type credentials, which are
 * write-only (a stored one is kept when its input is left empty). Admins only save it.
 */
function ProvidersForm({ rows: initial }: { rows: ProviderRow[] }) {
  const [rows, setRows] = useState(initial)
  const [adding, setAdding] = useState<ProviderKind | ''>('')
  const [savedNote, setSavedNote] = useState(false)
  const canEdit = mayEditProviders(session.role.value)
  const error = providers.save.error.value
  const issues = issuesOf(error)
  const unused = PROVIDER_KINDS.filter((kind) => !rows.some((row) => row.kind === kind))

  const change = (next: ProviderRow[]) => {
    setSavedNote(false)
    setRows(next)
  }
  const move = (from: number, to: number) => {
    const next = [...rows]
    const [row] = next.splice(from, 1)
    next.splice(to, 0, row!)
    change(next)
  }
  const issueAt = (i: number, field?: string) => {
    const prefix = field ? `[${i}].${field}` : `[${i}]`
    const path = Object.keys(issues).find((p) => (field ? p === prefix : p.startsWith(prefix)))
    return path ? issues[path] : undefined
  }

  return (
    <form
      class="form providers-form"
      aria-label="Providers in fallback order"
      onSubmit={async (event) => {
        event.preventDefault()
        const saved = await providers.change(rows)
        if (saved) {
          setRows(saved.map(providerRowOf))
          setSavedNote(true)
        }
      }}
    >
      {rows.length === 0 && <p class="muted">No provider: add one, or messages cannot go.</p>}
      <ol class="provider-list">
        {rows.map((row, i) => (
          <li key={row.kind} data-provider={row.kind} class="provider-row">
            <div class="provider-head">
              <span class="mono strong">{row.kind}</span>
              {row.health ? (
                <HealthBadge health={row.health} />
              ) : (
                <span class="muted small">not saved yet</span>
              )}
              {row.kind === 'log' && <span class="muted small">keeps emails in the console</span>}
              {canEdit && (
                <span class="push toolbar">
                  <button
                    type="button"
                    class="small-button"
                    disabled={i === 0}
                    aria-label={`Move ${row.kind} up`}
                    onClick={() => move(i, i - 1)}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    class="small-button"
                    disabled={i === rows.length - 1}
                    aria-label={`Move ${row.kind} down`}
                    onClick={() => move(i, i + 1)}
                  >
                    ↓
                  </button>
                  <button
                    type="button"
                    class="small-button danger"
                    aria-label={`Remove ${row.kind}`}
                    onClick={() => change(rows.filter((_, j) => j !== i))}
                  >
                    Remove
                  </button>
                </span>
              )}
            </div>
            {canEdit && PROVIDER_FIELDS[row.kind].length > 0 && (
              <div class="provider-fields">
                {PROVIDER_FIELDS[row.kind].map((field) => {
                  const stored = field.secret && row.stored.includes(field.name)
                  const problem = issueAt(i, field.name)
                  const input = {
                    name: `${row.kind}.${field.name}`,
                    value: row.values[field.name] ?? '',
                    placeholder: stored ? 'stored: leave empty to keep' : '',
                    'aria-invalid': Boolean(problem),
                    onInput: (e: { currentTarget: HTMLInputElement }) =>
                      change(
                        rows.map((r, j) =>
                          j === i
                            ? { ...r, values: { ...r.values, [field.name]: e.currentTarget.value } }
                            : r,
                        ),
                      ),
                  }
                  return (
                    <label key={field.name}>
                      {field.label}
                      {field.required && !stored ? ' *' : ''}
                      {field.secret ? (
                        <input type="password" autoComplete="new-password" {...input} />
                      ) : (
                        <input type="text" autoComplete="off" {...input} />
                      )}
                      <FieldError message={problem} />
                    </label>
                  )
                })}
              </div>
            )}
            {!canEdit && row.values.baseUrl && (
              <div class="muted small mono">{row.values.baseUrl}</div>
            )}
            <FieldError message={issueAt(i, 'kind') ?? undefined} />
          </li>
        ))}
      </ol>
      {canEdit ? (
        <>
          {unused.length > 0 && (
            <div class="toolbar">
              <label class="row-inline">
                <span class="sr-only">Provider to add</span>
                <select
                  value={adding}
                  onChange={(e) => setAdding(e.currentTarget.value as ProviderKind | '')}
                >
                  <option value="">Add a provider…</option>
                  {unused.map((kind) => (
                    <option key={kind} value={kind}>
                      {kind}
                    </option>
                  ))}
                </select>
              </label>
              <button
                type="button"
                disabled={!adding}
                onClick={() => {
                  if (!adding) return
                  change([...rows, { kind: adding, values: {}, stored: [] }])
                  setAdding('')
                }}
              >
                Add
              </button>
            </div>
          )}
          {error && <ErrorNotice error={error} title="Not saved" />}
          <div class="toolbar">
            <button type="submit" class="primary" disabled={providers.save.loading.value}>
              {providers.save.loading.value ? 'Saving…' : 'Save providers'}
            </button>
            {savedNote && (
              <span class="muted small" role="status" data-saved>
                Saved.
              </span>
            )}
          </div>
        </>
      ) : (
        <p class="muted small">Only an admin can change the providers and their credentials.</p>
      )}
    </form>
  )
}
