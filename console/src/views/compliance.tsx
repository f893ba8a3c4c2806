import { useEffect, useRef, useState } from 'preact/hooks'
import {
  audit,
  consentTotals,
  dsar,
  erasures,
  type AuditFilters,
  type Erasure,
  type ErasurePreview,
  type ErasureStatus,
  type IdentifierKind,
} from '../models/compliance'
import { contactSearch, PURPOSES } from '../models/contacts'
import { navigate, route, setQuery } from '../models/router'
import {
  Async,
  Badge,
  DenseTable,
  ErrorNotice,
  Facts,
  Link,
  ListFooter,
  PageHeader,
  Tabs,
} from './common'
import { contactHref } from './contacts'
import { count, inline, share, shortHash, when } from './format'

const SECTIONS = [
  { id: 'erasures', label: 'Erasure requests' },
  { id: 'export', label: 'Data export' },
  { id: 'consent', label: 'Consent' },
  { id: 'audit', label: 'Audit log' },
] as const

export function ComplianceScreen({ section, id }: { section: string; id?: string }) {
  const active = SECTIONS.some((s) => s.id === section) ? section : 'erasures'
  return (
    <>
      <PageHeader title="Compliance center" />
      <Tabs
        label="Compliance sections"
        items={SECTIONS.map((s) => ({
          href: `/compliance/${s.id}`,
          label: s.label,
          active: s.id === active,
        }))}
      />
      <div class="tab-panel">
        {active === 'erasures' &&
          (id === 'new' ? <NewErasure /> : id ? <ErasureDetail id={id} /> : <ErasureList />)}
        {active === 'export' && <DataExport />}
        {active === 'consent' && <ConsentTotalsView />}
        {active === 'audit' && <AuditLog />}
      </div>
    </>
  )
}

const STATUS_TONE: Record<ErasureStatus, string> = {
  pending: 'neutral',
  running: 'warn',
  completed: 'ok',
  failed: 'bad',
}

function StatusBadge({ status }: { status: ErasureStatus }) {
  return <Badge tone={STATUS_TONE[status] ?? 'neutral'}>{status}</Badge>
}

function ErasureList() {
  useEffect(() => {
    erasures.showList()
    return () => erasures.hideList()
  }, [])
  return (
    <section class="stack">
      <div class="toolbar">
        <Link class="button primary" href="/compliance/erasures/new">
          New erasure…
        </Link>
      </div>
      <Async
        req={erasures.list}
        retry={() => erasures.showList()}
        errorTitle={(e) =>
          e.status === 404 ? 'Erasure is not available on this server yet' : undefined
        }
        empty="No erasure requests yet."
      >
        {(items) => (
          <>
            <table class="dense">
              <thead>
                <tr>
                  <th scope="col">Request</th>
                  <th scope="col">Status</th>
                  <th scope="col">Identifier</th>
                  <th scope="col">Requested</th>
                  <th scope="col">Completed</th>
                  <th scope="col">Requested by</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.id}>
                    <td class="mono">
                      <Link href={`/compliance/erasures/${encodeURIComponent(e.id)}`}>{e.id}</Link>
                    </td>
                    <td>
                      <StatusBadge status={e.status} />
                    </td>
                    <td>{e.identifierKind}</td>
                    <td class="nowrap">{when(e.requestedAt)}</td>
                    <td class="nowrap">{when(e.completedAt)}</td>
                    <td class="mono">{e.requestedBy}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {erasures.cursor.value && (
              <div class="list-footer">
                <button type="button" onClick={() => void erasures.loadMore()}>
                  Load more
                </button>
              </div>
            )}
          </>
        )}
      </Async>
    </section>
  )
}

function ErasureDetail({ id }: { id: string }) {
  useEffect(() => {
    erasures.watch(id)
    return () => erasures.watch(undefined)
  }, [id])
  return (
    <section class="stack">
      <p class="breadcrumb">
        <Link href="/compliance/erasures">Erasure requests</Link> <span aria-hidden="true">/</span>{' '}
        <span class="mono">{id}</span>
      </p>
      <Async
        req={erasures.detail}
        retry={() => erasures.watch(id)}
        errorTitle={(e) => (e.status === 404 ? 'No such erasure request' : undefined)}
      >
        {(erasure) => <Receipt erasure={erasure} />}
      </Async>
    </section>
  )
}

function Receipt({ erasure }: { erasure: Erasure }) {
  const receipt = erasure.receipt
  return (
    <>
      <Facts
        items={[
          ['Status', <StatusBadge status={erasure.status} />],
          ['Identifier', erasure.identifierKind],
          ['Requested', when(erasure.requestedAt)],
          ['Completed', when(erasure.completedAt)],
          ['Requested by', <span class="mono">{erasure.requestedBy}</span>],
          ...(erasure.reason ? ([['Reason', erasure.reason]] as [string, string][]) : []),
        ]}
      />
      {erasure.error && (
        <div class="state error" role="alert">
          <strong>The erasure failed</strong> {erasure.error}
        </div>
      )}
      {(erasure.status === 'pending' || erasure.status === 'running') && (
        <div class="state loading" role="status">
          <span class="spinner" aria-hidden="true" /> Erasing across every store… this page updates
          by itself.
        </div>
      )}
      {receipt && (
        <section class="panel" aria-labelledby="receipt-title">
          <h2 id="receipt-title">Receipt</h2>
          <p class="small" data-receipt-summary>
            {receipt.summary ?? (
              <>
                {count(receipt.contacts)} contact{receipt.contacts === 1 ? '' : 's'} erased
                {receipt.identifiers !== undefined
                  ? `, ${count(receipt.identifiers)} identifier${receipt.identifiers === 1 ? '' : 's'} suppressed`
                  : ''}
                .
              </>
            )}
          </p>
          <DenseTable
            items={receipt.stores}
            empty="No store reported anything."
            data-receipt
            head={
              <>
                <th scope="col">Store</th>
                <th scope="col">Action</th>
                <th scope="col">Removed</th>
                <th scope="col">At</th>
              </>
            }
            row={(s, i) => (
              <tr key={`${s.store}-${i}`}>
                <td>{s.store}</td>
                <td>{s.action}</td>
                <td>
                  {Object.keys(s.removed).length === 0
                    ? '—'
                    : Object.entries(s.removed)
                        .map(([what, n]) => `${count(n)} ${what}`)
                        .join(', ')}
                </td>
                <td class="nowrap">{when(s.at)}</td>
              </tr>
            )}
          />
        </section>
      )}
    </>
  )
}

const KINDS: { id: IdentifierKind; label: string; placeholder: string }[] = [
  { id: 'userId', label: 'User id', placeholder: 'user-42' },
  { id: 'anonymousId', label: 'Anonymous id', placeholder: 'c0ffee-…' },
  { id: 'email', label: 'Email', placeholder: 'ada@example.com' },
]

function NewErasure() {
  const query = route.query.value
  const initialKind = (KINDS.find((k) => k.id === query.get('kind'))?.id ??
    'userId') as IdentifierKind
  const [kind, setKind] = useState<IdentifierKind>(initialKind)
  const [value, setValue] = useState(query.get('value') ?? '')
  useEffect(() => () => erasures.cancelReview(), [])
  const preview = erasures.preview
  return (
    <section class="stack narrow">
      <p class="breadcrumb">
        <Link href="/compliance/erasures">Erasure requests</Link> <span aria-hidden="true">/</span>{' '}
        New
      </p>
      <form
        class="panel form"
        onSubmit={(event) => {
          event.preventDefault()
          if (value.trim()) void erasures.review(kind, value)
        }}
      >
        <h2>Erase a person</h2>
        <p class="small muted">
          Erasure follows every identifier linked to the person and removes their data from every
          store: the contact's own storage, the query database, exports, the archive (whose key is
          destroyed) and queued events. A suppression entry keeps late events out. It cannot be
          undone.
        </p>
        <fieldset>
          <legend>Identifier</legend>
          <div class="segmented" role="radiogroup" aria-label="Identifier kind">
            {KINDS.map((k) => (
              <label key={k.id} class="radio">
                <input
                  type="radio"
                  name="kind"
                  value={k.id}
                  checked={kind === k.id}
                  onChange={() => setKind(k.id)}
                />
                {k.label}
              </label>
            ))}
          </div>
          <label for="erasure-value" class="sr-only">
            {KINDS.find((k) => k.id === kind)!.label}
          </label>
          <input
            id="erasure-value"
            value={value}
            required
            type="text"
            inputMode={kind === 'email' ? 'email' : 'text'}
            placeholder={KINDS.find((k) => k.id === kind)!.placeholder}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </fieldset>
        <div class="toolbar">
          <button type="submit" class="primary" disabled={!value.trim() || preview.loading.value}>
            {preview.loading.value ? 'Looking up…' : 'Review erasure…'}
          </button>
        </div>
        {preview.error.value && (
          <ErrorNotice error={preview.error.value} title="Could not look up the person" />
        )}
      </form>
      {preview.data.value && <ConfirmErasure preview={preview.data.value} />}
    </section>
  )
}

/** The confirmation names what will go before anything is erased. */
function ConfirmErasure({ preview }: { preview: ErasurePreview }) {
  const dialog = useRef<HTMLDialogElement>(null)
  const submission = erasures.submission
  useEffect(() => {
    dialog.current?.showModal()
  }, [])
  const events = preview.contacts.reduce((n, c) => n + c.eventCount, 0)
  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="confirm-title"
      onClose={() => erasures.cancelReview()}
    >
      <h2 id="confirm-title">
        Erase {preview.kind} “{preview.value}”?
      </h2>
      {preview.contacts.length === 0 ? (
        <p>
          No stored contact matches this {preview.kind}. The request still adds it to the
          suppression list, so events that arrive later are dropped, and clears any queued data.
        </p>
      ) : (
        <>
          <p>
            This permanently erases {count(preview.contacts.length)} contact
            {preview.contacts.length === 1 ? '' : 's'} and {count(events)} event
            {events === 1 ? '' : 's'}:
          </p>
          <ul class="will-go">
            {preview.contacts.map((c) => (
              <li key={c.key}>
                <strong class="mono">{c.key}</strong>
                {typeof c.traits.email === 'string' ? ` (${c.traits.email})` : ''} —{' '}
                {count(c.eventCount)} events, {count(Object.keys(c.traits).length)} traits,{' '}
                {count(c.identities.length)} linked identities, {count(c.anonymousIds.length)}{' '}
                anonymous ids, {count(c.groups.length)} group memberships, consent ledger; seen{' '}
                {when(c.firstSeen)} – {when(c.lastSeen)}
              </li>
            ))}
          </ul>
        </>
      )}
      <p class="small muted">
        Removed from: contact storage and its alarms, query database rows, exports, the event
        archive (its encryption key is destroyed), queued messages. Kept: aggregate counts without
        identifiers, and this request's receipt.
      </p>
      {submission.error.value && (
        <ErrorNotice error={submission.error.value} title="The erasure was not started" />
      )}
      <form method="dialog" class="toolbar">
        <button type="submit" value="cancel" autoFocus>
          Cancel
        </button>
        <button
          type="button"
          class="danger"
          disabled={submission.loading.value}
          onClick={async () => {
            const id = await erasures.confirm()
            if (id) {
              contactSearch.invalidate()
              navigate(`/compliance/erasures/${encodeURIComponent(id)}`)
            }
          }}
        >
          {submission.loading.value ? 'Starting…' : 'Erase permanently'}
        </button>
      </form>
    </dialog>
  )
}

function DataExport() {
  const [id, setId] = useState(route.query.value.get('contact') ?? '')
  return (
    <section class="stack narrow">
      <form
        class="panel form"
        onSubmit={(event) => {
          event.preventDefault()
          if (id.trim()) void dsar.download(id)
        }}
      >
        <h2>Data subject access request</h2>
        <p class="small muted">
          Downloads everything held about a contact as one JSON file: profile, traits, events,
          consent ledger and identities. The download is recorded in the audit log.
        </p>
        <label for="export-id">Contact (user id, or anon:&lt;anonymous id&gt;)</label>
        <input
          id="export-id"
          value={id}
          required
          placeholder="user-42"
          onInput={(e) => setId(e.currentTarget.value)}
        />
        <div class="toolbar">
          <button type="submit" class="primary" disabled={!id.trim() || dsar.downloading.value}>
            {dsar.downloading.value ? 'Preparing…' : 'Download export'}
          </button>
          {id.trim() && (
            <Link href={contactHref(id.trim())} class="small">
              Open profile
            </Link>
          )}
        </div>
        {dsar.error.value && (
          <ErrorNotice
            error={dsar.error.value}
            title={dsar.error.value.status === 404 ? 'No such contact' : 'The export failed'}
          />
        )}
        {dsar.lastFile.value && !dsar.error.value && (
          <p class="small" role="status">
            Downloaded <span class="mono">{dsar.lastFile.value}</span>.
          </p>
        )}
      </form>
    </section>
  )
}

function ConsentTotalsView() {
  useEffect(() => {
    void consentTotals.load()
  }, [])
  return (
    <Async
      req={consentTotals.totals}
      retry={() => void consentTotals.load()}
      errorTitle={(e) => (e.status === 404 ? 'Consent totals are not available yet' : undefined)}
    >
      {(totals) => (
        <section class="panel">
          <h2>
            Consent per purpose
            {totals.contacts !== undefined && (
              <span class="muted small"> · {count(totals.contacts)} contacts</span>
            )}
          </h2>
          <table class="dense consent-totals">
            <thead>
              <tr>
                <th scope="col">Purpose</th>
                <th scope="col" class="num">
                  Granted
                </th>
                <th scope="col" class="num">
                  Denied
                </th>
                <th scope="col" class="num">
                  No decision
                </th>
                <th scope="col">Share granted</th>
              </tr>
            </thead>
            <tbody>
              {PURPOSES.map((p) => {
                const row = totals.purposes[p] ?? { granted: 0, denied: 0 }
                const all = row.granted + row.denied + (row.unknown ?? 0)
                return (
                  <tr key={p}>
                    <th scope="row">{p}</th>
                    <td class="num">{count(row.granted)}</td>
                    <td class="num">{count(row.denied)}</td>
                    <td class="num">{row.unknown === undefined ? '—' : count(row.unknown)}</td>
                    <td class="stacked">
                      <span class="stack-bar" aria-hidden="true">
                        <span
                          class="g"
                          style={{ width: `${all ? (row.granted / all) * 100 : 0}%` }}
                        />
                        <span
                          class="d"
                          style={{ width: `${all ? (row.denied / all) * 100 : 0}%` }}
                        />
                      </span>
                      <span class="small">{all ? share(row.granted / all) : '—'}</span>
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </section>
      )}
    </Async>
  )
}

/** datetime-local value (local time) to an ISO instant, and back. */
function toIso(local: string): string | undefined {
  if (!local) return undefined
  const date = new Date(local)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}
function toLocal(iso: string | null): string {
  if (!iso) return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  const offset = date.getTimezoneOffset() * 60_000
  return new Date(date.getTime() - offset).toISOString().slice(0, 16)
}

function AuditLog() {
  const query = route.query.value
  const filters: AuditFilters = {
    subject: query.get('subject') ?? undefined,
    actor: query.get('actor') ?? undefined,
    from: query.get('from') ?? undefined,
    to: query.get('to') ?? undefined,
  }
  const key = JSON.stringify(filters)
  useEffect(() => {
    audit.show(filters)
  }, [key])
  const [draft, setDraft] = useState({
    subject: filters.subject ?? '',
    actor: filters.actor ?? '',
    from: toLocal(filters.from ?? null),
    to: toLocal(filters.to ?? null),
  })
  useEffect(() => {
    setDraft({
      subject: filters.subject ?? '',
      actor: filters.actor ?? '',
      from: toLocal(filters.from ?? null),
      to: toLocal(filters.to ?? null),
    })
  }, [key])
  const verification = audit.verification
  // Until the effect above asks for the new filters, the rows on screen are the old filters'.
  const showing = JSON.stringify(audit.filters.value) === key

  return (
    <div class="stack">
      <section class="panel verify" aria-labelledby="verify-title">
        <h2 id="verify-title">Hash chain</h2>
        <p class="small muted">
          Every row carries the SHA-256 of the row before it. Verification recomputes the whole
          chain on the server and names the first row that does not match.
        </p>
        <div class="toolbar">
          <button
            type="button"
            class="primary"
            onClick={() => void audit.verify()}
            disabled={verification.loading.value}
          >
            {verification.loading.value ? 'Verifying…' : 'Verify chain'}
          </button>
          <span role="status" aria-live="polite" data-verdict>
            {verification.data.value &&
              (verification.data.value.ok ? (
                <Badge tone="ok">
                  Chain intact · {count(verification.data.value.rows)} rows verified
                </Badge>
              ) : (
                <Badge tone="bad">
                  Broken at row {verification.data.value.firstBroken?.seq}:{' '}
                  {verification.data.value.firstBroken?.reason} (
                  {count(verification.data.value.rows)} rows checked)
                </Badge>
              ))}
          </span>
        </div>
        {verification.error.value && <ErrorNotice error={verification.error.value} />}
      </section>
      <form
        class="filters"
        aria-label="Audit filters"
        onSubmit={(event) => {
          event.preventDefault()
          setQuery({
            subject: draft.subject.trim(),
            actor: draft.actor.trim(),
            from: toIso(draft.from),
            to: toIso(draft.to),
          })
        }}
      >
        <label>
          Subject (contact key)
          <input
            value={draft.subject}
            placeholder="user-42"
            onInput={(e) => setDraft({ ...draft, subject: e.currentTarget.value })}
          />
        </label>
        <label>
          Actor (key id)
          <input
            value={draft.actor}
            onInput={(e) => setDraft({ ...draft, actor: e.currentTarget.value })}
          />
        </label>
        <label>
          From
          <input
            type="datetime-local"
            value={draft.from}
            onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })}
          />
        </label>
        <label>
          To
          <input
            type="datetime-local"
            value={draft.to}
            onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })}
          />
        </label>
        <button type="submit">Filter</button>
        <button type="button" class="link-button" onClick={() => setQuery({})}>
          Clear
        </button>
      </form>
      <div class="audit-results" aria-busy={audit.entries.loading.value || !showing}>
        <Async
          req={audit.entries}
          retry={() => audit.show(filters)}
          empty="No audit entries match."
        >
          {(entries) => (
            <>
              <table class="dense audit-table">
                <thead>
                  <tr>
                    <th scope="col" class="num">
                      #
                    </th>
                    <th scope="col">When</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Action</th>
                    <th scope="col" class="num">
                      Status
                    </th>
                    <th scope="col">Subject</th>
                    <th scope="col">Detail</th>
                    <th scope="col">Hash</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((row) => (
                    <tr key={row.seq}>
                      <td class="num">{row.seq}</td>
                      <td class="nowrap">{when(row.at)}</td>
                      <td class="nowrap">
                        <button
                          type="button"
                          class="link-button mono"
                          title="Show only this actor"
                          onClick={() => setQuery({ ...filters, actor: row.actorKeyId })}
                        >
                          {row.actorKeyId}
                        </button>{' '}
                        <span class="muted">{row.actorRole}</span>
                      </td>
                      <td class="mono">{row.action}</td>
                      <td class={`num ${row.status >= 400 ? 'bad-text' : ''}`}>{row.status}</td>
                      <td class="mono muted" title={row.subjectHash ?? ''}>
                        {shortHash(row.subjectHash)}
                      </td>
                      <td class="ellipsis muted" title={row.detail ? inline(row.detail) : ''}>
                        {row.detail ? inline(row.detail) : ''}
                      </td>
                      <td class="mono muted" title={`${row.hash} (previous ${row.prevHash})`}>
                        {shortHash(row.hash)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <ListFooter shown={entries.length} list={audit} />
            </>
          )}
        </Async>
      </div>
    </div>
  )
}
