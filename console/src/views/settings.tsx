import { useEffect, useState } from 'preact/hooks'
import { may, ROLES, type Area, type Role } from '../models/access'
import { session } from '../models/session'
import {
  keys,
  retention,
  sources,
  type ConsentMode,
  type Retention,
  type SecretKey,
  type Source,
} from '../models/settings'
import { Async, Badge, CopyButton, Empty, ErrorNotice, PageHeader, Tabs } from './common'
import { when } from './format'

const SECTIONS: { id: string; label: string; area: Area }[] = [
  { id: 'sources', label: 'Sources & write keys', area: 'sources' },
  { id: 'keys', label: 'Secret keys', area: 'keys' },
  { id: 'retention', label: 'Retention', area: 'retention' },
]

export function settingsSections(role: Role | undefined) {
  return SECTIONS.filter((s) => may(role, s.area))
}

export function SettingsScreen({ section }: { section?: string }) {
  const allowed = settingsSections(session.role.value)
  const active = allowed.find((s) => s.id === section) ?? allowed[0]
  return (
    <>
      <PageHeader title="Settings" />
      <Tabs
        label="Settings sections"
        items={allowed.map((s) => ({
          href: `/settings/${s.id}`,
          label: s.label,
          active: s.id === active?.id,
        }))}
      />
      <div class="tab-panel">
        {active?.id === 'sources' && <Sources />}
        {active?.id === 'keys' && <Keys />}
        {active?.id === 'retention' && <RetentionSettings />}
      </div>
    </>
  )
}

/** The embed snippet for a source; the tracker is served by this same Worker. */
export function snippetOf(source: Source, origin = location.origin) {
  const consent = source.consentMode === 'opt-in' ? ' data-consent="opt-in"' : ''
  return `<script defer src="${origin}/t.js" data-write-key="${source.writeKey}"${consent}></script>`
}

function parseOrigins(text: string) {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean)
}

function Sources() {
  useEffect(() => {
    void sources.load()
  }, [])
  const editable = may(session.role.value, 'editSources')
  return (
    <div class="stack">
      {editable && <NewSource />}
      <Async req={sources.list} retry={() => void sources.load()} empty="No sources yet.">
        {(list) => (
          <div class="stack">
            {list.map((source) => (
              <SourceCard key={source.id} source={source} editable={editable} />
            ))}
          </div>
        )}
      </Async>
    </div>
  )
}

function NewSource() {
  const [name, setName] = useState('')
  const [origins, setOrigins] = useState('')
  const [mode, setMode] = useState<ConsentMode>('opt-out')
  const create = sources.create
  return (
    <form
      class="panel form inline-form"
      aria-label="New source"
      onSubmit={async (event) => {
        event.preventDefault()
        const created = await sources.add({
          name: name.trim(),
          allowedOrigins: parseOrigins(origins),
          consentMode: mode,
        })
        if (created) {
          setName('')
          setOrigins('')
        }
      }}
    >
      <h2>New source</h2>
      <label>
        Name
        <input
          value={name}
          required
          maxLength={100}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <label class="grow">
        Allowed origins (space separated; none: any)
        <input
          value={origins}
          placeholder="https://shop.example https://www.shop.example"
          onInput={(e) => setOrigins(e.currentTarget.value)}
        />
      </label>
      <label>
        Consent mode
        <select value={mode} onChange={(e) => setMode(e.currentTarget.value as ConsentMode)}>
          <option value="opt-out">opt-out</option>
          <option value="opt-in">opt-in</option>
        </select>
      </label>
      <button type="submit" class="primary" disabled={!name.trim() || create.busy.value}>
        Create source
      </button>
      {create.error.value && <ErrorNotice error={create.error.value} title="Not created" />}
    </form>
  )
}

function SourceCard({ source, editable }: { source: Source; editable: boolean }) {
  const [editing, setEditing] = useState(false)
  const [origins, setOrigins] = useState(source.allowedOrigins.join(' '))
  const [mode, setMode] = useState<ConsentMode>(source.consentMode)
  const update = sources.update
  const snippet = snippetOf(source)
  return (
    <section class="panel source" aria-label={`Source ${source.name}`}>
      <header class="source-head">
        <h2>{source.name}</h2>
        <Badge tone={source.enabled ? 'ok' : 'bad'}>
          {source.enabled ? 'enabled' : 'disabled'}
        </Badge>
        <Badge>{source.consentMode}</Badge>
        <span class="muted small">created {when(source.createdAt)}</span>
        {editable && (
          <span class="push">
            <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
              {editing ? 'Close' : 'Edit'}
            </button>{' '}
            <button
              type="button"
              class={source.enabled ? 'danger' : ''}
              disabled={update.busy.value}
              onClick={() => void sources.change(source.id, { enabled: !source.enabled })}
            >
              {source.enabled ? 'Disable' : 'Enable'}
            </button>
          </span>
        )}
      </header>
      <div class="kv-line">
        <span class="muted">Write key</span>
        <code class="mono" data-write-key>
          {source.writeKey}
        </code>
        <CopyButton text={source.writeKey} label="Copy key" />
      </div>
      <div class="kv-line">
        <span class="muted">Allowed origins</span>
        <span>
          {source.allowedOrigins.length ? source.allowedOrigins.join(', ') : 'any origin'}
        </span>
      </div>
      <div class="snippet">
        <pre class="mono" aria-label="Embed snippet">
          {snippet}
        </pre>
        <CopyButton text={snippet} label="Copy snippet" />
      </div>
      {editing && (
        <form
          class="form inline-form"
          onSubmit={async (event) => {
            event.preventDefault()
            const updated = await sources.change(source.id, {
              allowedOrigins: parseOrigins(origins),
              consentMode: mode,
            })
            if (updated) setEditing(false)
          }}
        >
          <label class="grow">
            Allowed origins
            <input value={origins} onInput={(e) => setOrigins(e.currentTarget.value)} />
          </label>
          <label>
            Consent mode
            <select value={mode} onChange={(e) => setMode(e.currentTarget.value as ConsentMode)}>
              <option value="opt-out">opt-out</option>
              <option value="opt-in">opt-in</option>
            </select>
          </label>
          <button type="submit" class="primary" disabled={update.busy.value}>
            Save
          </button>
        </form>
      )}
      {update.error.value && <ErrorNotice error={update.error.value} title="Not saved" />}
    </section>
  )
}

function Keys() {
  useEffect(() => {
    void keys.load()
    return () => keys.dismissSecret()
  }, [])
  const [name, setName] = useState('')
  const [role, setRole] = useState<Role>('marketer')
  const created = keys.created.value
  return (
    <div class="stack">
      <form
        class="panel form inline-form"
        aria-label="New secret key"
        onSubmit={async (event) => {
          event.preventDefault()
          if (await keys.add({ name: name.trim(), role })) setName('')
        }}
      >
        <h2>New secret key</h2>
        <label>
          Name
          <input
            value={name}
            required
            maxLength={100}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary" disabled={!name.trim() || keys.create.busy.value}>
          Create key
        </button>
        {keys.create.error.value && (
          <ErrorNotice error={keys.create.error.value} title="Not created" />
        )}
      </form>
      {created && (
        <div class="panel secret" role="status">
          <h2>
            Secret for “{created.name}” ({created.role})
          </h2>
          <p class="small">Shown once: store it now. Cairn keeps only its hash.</p>
          <div class="kv-line">
            <code class="mono" data-secret>
              {created.key}
            </code>
            <CopyButton text={created.key} />
            <button type="button" onClick={() => keys.dismissSecret()}>
              Done
            </button>
          </div>
        </div>
      )}
      {keys.revoke.error.value && (
        <ErrorNotice error={keys.revoke.error.value} title="Not revoked" />
      )}
      <Async req={keys.list} retry={() => void keys.load()} empty="No secret keys yet.">
        {(list) => (
          <div class="stack">
            {ROLES.map((r) => (
              <KeyGroup key={r} role={r} items={list.filter((k) => k.role === r)} />
            ))}
          </div>
        )}
      </Async>
    </div>
  )
}

function KeyGroup({ role, items }: { role: Role; items: SecretKey[] }) {
  return (
    <section class="panel" aria-label={`${role} keys`}>
      <h2>
        {role} <span class="muted small">· {items.filter((k) => !k.revokedAt).length} active</span>
      </h2>
      {items.length === 0 ? (
        <p class="muted small">No {role} keys.</p>
      ) : (
        <table class="dense">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Created</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((k) => (
              <tr key={k.id} class={k.revokedAt ? 'revoked' : ''}>
                <td>{k.name}</td>
                <td class="mono">{k.prefix}…</td>
                <td class="nowrap">{when(k.createdAt)}</td>
                <td>
                  {k.revokedAt ? (
                    <Badge tone="bad">revoked {when(k.revokedAt)}</Badge>
                  ) : (
                    <Badge tone="ok">active</Badge>
                  )}
                </td>
                <td class="num">
                  {!k.revokedAt && (
                    <button
                      type="button"
                      class="danger small-button"
                      disabled={keys.revoke.busy.value}
                      onClick={() => {
                        if (
                          confirm(
                            `Revoke the ${role} key “${k.name}” (${k.prefix}…)? Anything using it stops working.`,
                          )
                        ) {
                          void keys.remove(k.id)
                        }
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

const RETENTION_FIELDS: { key: keyof Retention; label: string; help: string; max: number }[] = [
  {
    key: 'rawEventsDays',
    label: 'Raw events',
    help: 'Events in contact timelines and the archive',
    max: 3650,
  },
  {
    key: 'inactiveProfileDays',
    label: 'Inactive profiles',
    help: 'Contacts not seen for this long',
    max: 3650,
  },
  { key: 'exportsDays', label: 'Exports', help: 'Generated exports (DSAR files)', max: 365 },
]

function RetentionSettings() {
  useEffect(() => {
    void retention.load()
  }, [])
  const editable = may(session.role.value, 'editRetention')
  return (
    <Async
      req={retention.settings}
      retry={() => void retention.load()}
      errorTitle={(e) =>
        e.status === 404 ? 'Retention settings are not available yet' : undefined
      }
    >
      {(current) => <RetentionForm current={current} editable={editable} />}
    </Async>
  )
}

function RetentionForm({ current, editable }: { current: Retention; editable: boolean }) {
  const [draft, setDraft] = useState(current)
  useEffect(() => setDraft(current), [current])
  const changed = RETENTION_FIELDS.some((f) => draft[f.key] !== current[f.key])
  return (
    <form
      class="panel form narrow"
      onSubmit={(event) => {
        event.preventDefault()
        void retention.store(draft)
      }}
    >
      <h2>Retention</h2>
      <p class="small muted">
        Data older than these limits expires automatically; aggregates without identifiers remain.
      </p>
      {RETENTION_FIELDS.map((field) => (
        <label key={field.key} class="row-label">
          <span>
            {field.label}
            <span class="muted small"> · {field.help}</span>
          </span>
          <span>
            <input
              type="number"
              min={1}
              max={field.max}
              required
              readOnly={!editable}
              value={draft[field.key]}
              onInput={(e) => setDraft({ ...draft, [field.key]: Number(e.currentTarget.value) })}
            />{' '}
            days
          </span>
        </label>
      ))}
      {editable ? (
        <div class="toolbar">
          <button type="submit" class="primary" disabled={!changed || retention.save.busy.value}>
            Save
          </button>
          {retention.saved.value && !changed && <span role="status">Saved.</span>}
        </div>
      ) : (
        <Empty>Only an admin can change retention.</Empty>
      )}
      {retention.save.error.value && (
        <ErrorNotice error={retention.save.error.value} title="Not saved" />
      )}
    </form>
  )
}
