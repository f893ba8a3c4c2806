import { useModel } from '@preact/signals'
import { useEffect, useState } from 'preact/hooks'
import { may } from '../models/access'
import type { Contact } from '../models/contacts'
import {
  MESSAGE_STATUSES,
  MessageModel,
  messageLog,
  providers,
  type Attempt,
  type Message,
  type MessageDetail,
  type MessageFilters,
  type MessageStatus,
  type MessagingProvider,
  type RenderedEmail,
} from '../models/messages'
import { href, route, setQuery } from '../models/router'
import { session } from '../models/session'
import {
  Async,
  Badge,
  DenseTable,
  Empty,
  Facts,
  Link,
  ListFooter,
  PageHeader,
  Tabs,
} from './common'
import { contactHref } from './contacts'
import { count, time, when } from './format'
import { lazyScreen } from './lazy'

const STATUS_TONE: Record<MessageStatus, string> = {
  queued: 'neutral',
  sent: 'ok',
  delivered: 'ok',
  opened: 'ok',
  clicked: 'ok',
  bounced: 'bad',
  complained: 'bad',
  failed: 'bad',
  suppressed: 'warn',
  capped: 'warn',
  no_consent: 'warn',
}

const ATTEMPT_TONE: Record<Attempt['status'], string> = {
  sent: 'ok',
  retryable: 'warn',
  permanent: 'bad',
  skipped: 'neutral',
}

export function MessageStatusBadge({ status }: { status: MessageStatus }) {
  return <Badge tone={STATUS_TONE[status] ?? 'neutral'}>{status}</Badge>
}

/** The providers tried, in order, each with its answer: "sendgrid 503 → log sent". */
export function attemptsSummary(attempts: readonly Attempt[]): string {
  if (attempts.length === 0) return '—'
  return attempts
    .map((a) => `${a.provider} ${a.status === 'sent' ? 'sent' : (a.httpStatus ?? a.status)}`)
    .join(' → ')
}

export function messageHref(id: string) {
  return `/messages/${encodeURIComponent(id)}`
}

const TEXT_FILTERS = [
  { name: 'contactId', label: 'Contact', placeholder: 'user-42' },
  { name: 'journeyId', label: 'Journey', placeholder: 'journey id' },
  { name: 'template', label: 'Template', placeholder: 'template id' },
] as const

type TextFilter = (typeof TEXT_FILTERS)[number]['name']

function filtersOf(query: URLSearchParams): MessageFilters {
  const status = query.get('status') ?? undefined
  const filters: MessageFilters = {
    status: MESSAGE_STATUSES.includes(status as MessageStatus) ? status : undefined,
  }
  for (const { name } of TEXT_FILTERS) filters[name] = query.get(name)?.trim() || undefined
  return filters
}

// Its own chunk: the settings' forms serve admins and marketers only.
const MessagingSettingsScreen = lazyScreen(
  'messaging settings',
  () => import('./messaging-settings'),
)

function MessagesTabs({ active }: { active: 'log' | 'settings' }) {
  if (!may(session.role.value, 'providers')) return null
  return (
    <Tabs
      label="Messages"
      items={[
        { href: '/messages', label: 'Log', active: active === 'log' },
        { href: '/messages/settings', label: 'Settings', active: active === 'settings' },
      ]}
    />
  )
}

export function MessagesScreen() {
  const filters = filtersOf(route.query.value)
  const key = JSON.stringify(filters)
  useEffect(() => {
    messageLog.show(filters)
  }, [key])
  // Until the effect above asks for the new filters, the rows on screen are the old filters'.
  const showing = JSON.stringify(messageLog.filters.value) === key
  const filtered = Object.values(filters).some(Boolean)

  return (
    <>
      <PageHeader title="Messages" />
      <MessagesTabs active="log" />
      <div class="stack">
        {may(session.role.value, 'providers') && <ProvidersStrip />}
        <MessageFiltersForm filters={filters} />
        <div class="message-results" aria-busy={messageLog.items.loading.value || !showing}>
          <Async
            req={messageLog.items}
            retry={() => messageLog.show(filters)}
            empty={
              filtered
                ? 'No messages match these filters.'
                : 'No messages yet. Sends through the API and journeys appear here.'
            }
          >
            {(items) => <MessageTable items={items} />}
          </Async>
        </div>
      </div>
    </>
  )
}

function MessageFiltersForm({ filters }: { filters: MessageFilters }) {
  const [typed, setTyped] = useState<Partial<Record<TextFilter, string>>>(filters)
  useEffect(() => setTyped(filters), [filters.contactId, filters.journeyId, filters.template])
  const apply = (next: MessageFilters) =>
    setQuery({
      status: next.status,
      contactId: next.contactId?.trim(),
      journeyId: next.journeyId?.trim(),
      template: next.template?.trim(),
    })
  return (
    <form
      class="filters"
      aria-label="Message filters"
      onSubmit={(event) => {
        event.preventDefault()
        apply({ ...filters, ...typed })
      }}
    >
      <label>
        Status
        <select
          value={filters.status ?? ''}
          onChange={(e) => apply({ ...filters, ...typed, status: e.currentTarget.value })}
        >
          <option value="">Any status</option>
          {MESSAGE_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </select>
      </label>
      {TEXT_FILTERS.map(({ name, label, placeholder }) => (
        <label key={name}>
          {label}
          <input
            name={name}
            value={typed[name] ?? ''}
            placeholder={placeholder}
            autoComplete="off"
            onInput={(e) => setTyped({ ...typed, [name]: e.currentTarget.value })}
          />
        </label>
      ))}
      <button type="submit">Filter</button>
      <button type="button" class="link-button" onClick={() => setQuery({})}>
        Clear
      </button>
    </form>
  )
}

function MessageTable({ items }: { items: Message[] }) {
  return (
    <>
      <table class="dense messages-table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Contact</th>
            <th scope="col">Template</th>
            <th scope="col">Subject</th>
            <th scope="col">Status</th>
            <th scope="col">Reason</th>
            <th scope="col">Attempts</th>
          </tr>
        </thead>
        <tbody>
          {items.map((m) => (
            <tr key={m.id} data-message={m.id}>
              <td class="nowrap">
                <Link href={messageHref(m.id)}>{when(m.createdAt)}</Link>
              </td>
              <td class="mono ellipsis">
                <Link href={contactHref(m.contactId)}>{m.contactId}</Link>
              </td>
              <td class="mono nowrap">
                <Link href={href('/messages', { template: m.template })}>{m.template}</Link>
              </td>
              <td class="ellipsis subject" title={m.subject ?? ''}>
                {m.subject ?? '—'}
              </td>
              <td>
                <MessageStatusBadge status={m.status} />
              </td>
              <td class="muted small">{m.reason ?? ''}</td>
              <td class="nowrap muted attempts">{attemptsSummary(m.attempts)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListFooter shown={items.length} list={messageLog} />
    </>
  )
}

const HEALTH: Record<MessagingProvider['health']['state'], { tone: string; label: string }> = {
  closed: { tone: 'ok', label: 'in use' },
  half_open: { tone: 'warn', label: 'probing' },
  open: { tone: 'bad', label: 'skipped' },
}

export function HealthBadge({ health }: { health: MessagingProvider['health'] }) {
  const { tone, label } = HEALTH[health.state]
  const until =
    health.state === 'open' && health.openUntil ? ` until ${time(health.openUntil)}` : ''
  const failures = health.failures ? ` · ${count(health.failures)} failed in a row` : ''
  return (
    <Badge tone={tone}>
      {label}
      {until}
      {failures}
    </Badge>
  )
}

/** Which providers a message tries, in order, and whose circuit is open; changed in Settings. */
function ProvidersStrip() {
  useEffect(() => {
    void providers.load()
  }, [])
  return (
    <section class="panel providers" aria-label="Providers">
      <h2>
        Providers <span class="muted small">in fallback order</span>{' '}
        <Link class="small" href="/messages/settings">
          Settings
        </Link>
      </h2>
      <Async req={providers.list} retry={() => void providers.load()} empty="None configured.">
        {(items) => (
          <ol class="provider-strip">
            {items.map((p) => (
              <li key={p.kind} data-provider={p.kind} data-health={p.health.state}>
                <span class="mono">{p.kind}</span> <HealthBadge health={p.health} />
                {p.kind === 'log' && (
                  <span class="muted small"> keeps each email here instead of sending it</span>
                )}
              </li>
            ))}
          </ol>
        )}
      </Async>
    </section>
  )
}

/** `/messages/settings`: providers, sender, caps and quiet hours, for the roles that may change them. */
export function MessagingSettingsPage() {
  return (
    <>
      <PageHeader title="Messaging settings" />
      <MessagesTabs active="settings" />
      {may(session.role.value, 'providers') ? (
        <MessagingSettingsScreen />
      ) : (
        <Empty>
          <p data-forbidden="providers">
            The <strong>{session.role.value}</strong> role cannot change how messages are sent.
          </p>
        </Empty>
      )}
    </>
  )
}

/** One message; mounted with `key={id}` so each message gets its own model. */
export function MessageScreen({ id }: { id: string }) {
  const model = useModel(() => new MessageModel(id))
  useEffect(() => {
    void model.load()
  }, [model])
  const message = model.detail.data.value
  return (
    <>
      <p class="breadcrumb">
        <Link href="/messages">Messages</Link> <span aria-hidden="true">/</span>{' '}
        <span class="mono">{id}</span>
      </p>
      <PageHeader title={message ? (message.subject ?? message.template) : 'Message'} />
      <Async
        req={model.detail}
        retry={() => void model.load()}
        errorTitle={(e) => (e.status === 404 ? 'No such message' : undefined)}
        loadingLabel="Loading message…"
      >
        {(detail) => <MessageDetailView message={detail} />}
      </Async>
    </>
  )
}

function MessageDetailView({ message }: { message: MessageDetail }) {
  return (
    <div class="stack">
      <Facts
        items={[
          ['Status', <MessageStatusBadge status={message.status} />],
          ['Contact', <Link href={contactHref(message.contactId)}>{message.contactId}</Link>],
          [
            'Template',
            may(session.role.value, 'templates') ? (
              <Link class="mono" href={`/templates/${encodeURIComponent(message.template)}`}>
                {message.template}
              </Link>
            ) : (
              <span class="mono">{message.template}</span>
            ),
          ],
          ['Kind', message.kind],
          [
            'Journey',
            message.journeyId ? (
              <Link class="mono" href={href('/messages', { journeyId: message.journeyId })}>
                {message.journeyId}
              </Link>
            ) : (
              '—'
            ),
          ],
          ['Created', when(message.createdAt)],
          ['Updated', when(message.updatedAt)],
          ['Reason', message.reason ?? '—'],
        ]}
      />
      <section class="panel" aria-labelledby="attempts-title">
        <h2 id="attempts-title">Attempts</h2>
        <DenseTable
          items={message.attempts}
          empty="No provider was tried."
          data-attempts
          head={
            <>
              <th scope="col">When</th>
              <th scope="col">Provider</th>
              <th scope="col">Outcome</th>
              <th scope="col" class="num">
                HTTP
              </th>
              <th scope="col">Error</th>
            </>
          }
          row={(attempt, i) => (
            <tr key={`${attempt.at}-${i}`}>
              <td class="nowrap">{when(attempt.at)}</td>
              <td class="mono">{attempt.provider}</td>
              <td>
                <Badge tone={ATTEMPT_TONE[attempt.status]}>{attempt.status}</Badge>
              </td>
              <td class="num">{attempt.httpStatus ?? '—'}</td>
              <td class="wrap muted">{attempt.error ?? ''}</td>
            </tr>
          )}
        />
      </section>
      {message.rendered ? (
        <RenderedEmailView email={message.rendered} />
      ) : (
        <Empty>
          <p data-not-kept>{whyNoContent(message)}</p>
        </Empty>
      )}
    </div>
  )
}

function whyNoContent(message: MessageDetail): string {
  const via = message.attempts.find((a) => a.status === 'sent')?.provider
  if (via) return `Sent through ${via}; the provider keeps the content.`
  if (message.status === 'queued') return 'Not sent yet: the email is rendered when it goes.'
  return 'Never sent, so no email was rendered.'
}

function RenderedEmailView({ email }: { email: RenderedEmail }) {
  return (
    <section class="panel" aria-labelledby="email-title">
      <h2 id="email-title">The email as the log provider kept it</h2>
      <table class="dense kv" data-envelope>
        <tbody>
          <tr>
            <th scope="row">Subject</th>
            <td class="wrap">{email.subject}</td>
          </tr>
          <tr>
            <th scope="row">From</th>
            <td class="wrap">{email.from}</td>
          </tr>
          <tr>
            <th scope="row">To</th>
            <td class="wrap">{email.to}</td>
          </tr>
        </tbody>
      </table>
      <h4>Headers</h4>
      <DenseTable
        items={Object.entries(email.headers)}
        empty="No extra headers."
        class="dense kv"
        data-headers
        head={
          <>
            <th scope="col">Header</th>
            <th scope="col">Value</th>
          </>
        }
        row={([name, value]) => (
          <tr key={name}>
            <th scope="row" class="mono">
              {name}
            </th>
            <td class="wrap mono">{value}</td>
          </tr>
        )}
      />
      <div class="email-parts">
        <div>
          <h4>HTML part</h4>
          {/*
            The HTML is the template rendered with a contact's traits: untrusted markup. It is
            never put into the console's DOM. It is shown only as a separate document in an
            iframe whose empty sandbox takes every permission away: no scripts, an opaque origin
            (no cookies, storage or API calls as the logged-in user), no forms, popups or
            navigation of the console. The document also inherits the console's CSP, so remote
            images (tracking pixels) do not load.
          */}
          <iframe
            sandbox=""
            srcdoc={email.html}
            class="email-html"
            title="HTML part of the email"
            referrerpolicy="no-referrer"
          />
        </div>
        <div>
          <h4>Text part</h4>
          <pre class="email-text">{email.text}</pre>
        </div>
      </div>
    </section>
  )
}

/** The contact screen's Messages tab: the profile's latest messages and subscription choices. */
export function ContactMessages({ contact }: { contact: Contact }) {
  const linked = may(session.role.value, 'messages')
  const choices = Object.entries(contact.subscriptions)
  return (
    <div class="wide-narrow">
      <section class="panel" aria-labelledby="contact-messages-title">
        <h2 id="contact-messages-title">Latest messages</h2>
        <DenseTable
          items={contact.messages}
          empty="No messages to this contact."
          data-contact-messages
          head={
            <>
              <th scope="col">When</th>
              <th scope="col">Template</th>
              <th scope="col">Subject</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
            </>
          }
          row={(m) => (
            <tr key={m.id} data-message={m.id}>
              <td class="nowrap">
                {linked ? (
                  <Link href={messageHref(m.id)}>{when(m.createdAt)}</Link>
                ) : (
                  when(m.createdAt)
                )}
              </td>
              <td class="mono nowrap">{m.template}</td>
              <td class="ellipsis" title={m.subject ?? ''}>
                {m.subject ?? '—'}
              </td>
              <td>
                <MessageStatusBadge status={m.status} />
                {m.reason && <span class="muted small"> {m.reason}</span>}
              </td>
              <td class="nowrap muted">{attemptsSummary(m.attempts)}</td>
            </tr>
          )}
        />
        {linked && contact.messages.length > 0 && (
          <p class="small list-footer">
            <Link href={href('/messages', { contactId: contact.key })}>
              Every message to this contact in the message log
            </Link>
          </p>
        )}
      </section>
      <section class="panel" aria-labelledby="subscriptions-title">
        <h2 id="subscriptions-title">Subscription choices</h2>
        <DenseTable
          items={choices}
          empty="No choices recorded: each group's default applies."
          data-subscriptions
          head={
            <>
              <th scope="col">Group</th>
              <th scope="col">Choice</th>
            </>
          }
          row={([group, subscribed]) => (
            <tr key={group}>
              <td class="mono">{group}</td>
              <td>
                {subscribed ? (
                  <Badge tone="ok">subscribed</Badge>
                ) : (
                  <Badge tone="bad">unsubscribed</Badge>
                )}
              </td>
            </tr>
          )}
        />
      </section>
    </div>
  )
}
