import { createModel, signal } from '@preact/signals'
import type { Attempt, MessageStatus, ProviderKind } from '../../../contracts/messaging'
import { allowed } from '../../../edge/access/permissions'
import type { Role } from './access'
import { api, segment, type ApiError, type ApiList } from './api'
import { pagedList } from './pages'
import { request } from './request'

export { MESSAGE_STATUSES, PROVIDER_KINDS } from '../../../contracts/messaging'
export type { Attempt, MessageStatus, ProviderKind }

/** A row of `GET /api/messages`. */
export interface Message {
  id: string
  contactId: string
  template: string
  subject: string | null
  status: MessageStatus
  reason: string | null
  attempts: Attempt[]
  journeyId: string | null
  kind: 'marketing' | 'transactional'
  createdAt: string
  updatedAt: string
}

/** What the `log` provider kept of a message: the email as it would have gone out. */
export interface RenderedEmail {
  from: string
  to: string
  subject: string
  html: string
  text: string
  headers: Record<string, string>
}

/** `GET /api/messages/:id`; `rendered` is null when another provider holds the content. */
export interface MessageDetail extends Message {
  rendered: RenderedEmail | null
}

export interface MessageFilters {
  status?: string
  contactId?: string
  journeyId?: string
  template?: string
}

/** A row of `GET /api/messaging/providers`, in fallback order. */
export interface MessagingProvider {
  kind: ProviderKind
  baseUrl?: string
  region?: string
  configurationSet?: string
  snsTopicArn?: string
  messageStream?: string
  webhookUsername?: string
  webhookPublicKey?: string
  /** Which secret fields are set; their values are never answered. */
  credentials: Partial<Record<string, 'set'>>
  health: {
    state: 'closed' | 'open' | 'half_open'
    failures: number
    openUntil: string | null
  }
}

const PAGE = 50

/** The message log with its filters, paged with the API's cursor. */
export const MessageLogModel = createModel(() => {
  const filters = signal<MessageFilters>({}, { name: 'messages.filters' })
  function query(after?: string) {
    return { ...filters.peek(), limit: PAGE, cursor: after }
  }
  const list = pagedList<Message>('messages', (after) =>
    api<ApiList<Message>>('/messages', { query: query(after) }),
  )

  return {
    filters,
    items: list.items,
    cursor: list.cursor,
    more: list.more,
    show(next: MessageFilters) {
      filters.value = next
      list.reload()
    },
    loadMore: list.loadMore,
  }
})

export const messageLog = new MessageLogModel()

/** One message with its rendered copy; the screen makes one per message id. */
export const MessageModel = createModel((id: string) => {
  const detail = request<MessageDetail>('message.detail')
  return {
    detail,
    load() {
      return detail.run(() => api<MessageDetail>(`/messages/${segment(id)}`))
    },
  }
})

export type MessageModel = InstanceType<typeof MessageModel>

/** One field of a provider's configuration; secrets are write-only. */
export interface ProviderField {
  name: string
  label: string
  secret: boolean
  /** Needed for a provider not yet configured (a stored secret stays when left empty). */
  required: boolean
}

const BASE_URL: ProviderField = {
  name: 'baseUrl',
  label: 'Base URL',
  secret: false,
  required: false,
}

/** What each kind takes (edge/messaging/provider-config.ts); `log` takes nothing. */
export const PROVIDER_FIELDS: Record<ProviderKind, readonly ProviderField[]> = {
  sendgrid: [
    { name: 'apiKey', label: 'API key', secret: true, required: true },
    BASE_URL,
    { name: 'webhookPublicKey', label: 'Webhook public key', secret: false, required: false },
  ],
  ses: [
    { name: 'region', label: 'Region', secret: false, required: true },
    { name: 'accessKeyId', label: 'Access key id', secret: true, required: true },
    { name: 'secretAccessKey', label: 'Secret access key', secret: true, required: true },
    BASE_URL,
    { name: 'configurationSet', label: 'Configuration set', secret: false, required: false },
    { name: 'snsTopicArn', label: 'SNS topic ARN', secret: false, required: false },
  ],
  resend: [
    { name: 'apiKey', label: 'API key', secret: true, required: true },
    BASE_URL,
    { name: 'webhookSecret', label: 'Webhook secret', secret: true, required: false },
  ],
  postmark: [
    { name: 'serverToken', label: 'Server token', secret: true, required: true },
    BASE_URL,
    { name: 'messageStream', label: 'Message stream', secret: false, required: false },
    { name: 'webhookUsername', label: 'Webhook user name', secret: false, required: false },
    { name: 'webhookPassword', label: 'Webhook password', secret: true, required: false },
  ],
  log: [],
}

/**
 * A provider as the settings form edits it: the configuration as typed, secrets empty unless
 * typed anew (the API keeps a stored one that is left out), which secrets are stored already.
 */
export interface ProviderRow {
  kind: ProviderKind
  values: Record<string, string>
  stored: string[]
  health?: MessagingProvider['health']
}

export function providerRowOf(provider: MessagingProvider): ProviderRow {
  const values: Record<string, string> = {}
  for (const field of PROVIDER_FIELDS[provider.kind]) {
    const value = (provider as unknown as Record<string, unknown>)[field.name]
    if (!field.secret && typeof value === 'string') values[field.name] = value
  }
  return {
    kind: provider.kind,
    values,
    stored: Object.keys(provider.credentials),
    health: provider.health,
  }
}

/** The body of `PUT /api/messaging/providers`: each row's kind and the fields filled in. */
export function providerChangeOf(rows: readonly ProviderRow[]): Record<string, string>[] {
  return rows.map((row) => {
    const body: Record<string, string> = { kind: row.kind }
    for (const field of PROVIDER_FIELDS[row.kind]) {
      const value = row.values[field.name]?.trim()
      if (value) body[field.name] = value
    }
    return body
  })
}

/**
 * A 400's issues by the path they name (`from`, `frequencyCap.count`, `[1].apiKey`), for
 * showing each next to its field; the first issue per path.
 */
export function issuesOf(error: ApiError | undefined): Record<string, string> {
  const issues = (error?.details as { issues?: { path: string; message: string }[] } | undefined)
    ?.issues
  const found: Record<string, string> = {}
  for (const issue of issues ?? []) found[issue.path] ??= issue.message
  return found
}

/** Who may change the fallback order and credentials, and the sender, caps and quiet hours. */
export function mayEditProviders(role: Role | undefined): boolean {
  return role !== undefined && allowed('PUT /api/messaging/providers', role)
}

export function mayEditMessagingSettings(role: Role | undefined): boolean {
  return role !== undefined && allowed('PUT /api/messaging/settings', role)
}

/** The providers in fallback order and each one's circuit, for roles that may read them. */
export const ProvidersModel = createModel(() => {
  const list = request<MessagingProvider[]>('providers.list')
  const save = request<MessagingProvider[]>('providers.save')
  return {
    list,
    save,
    load() {
      return list.run(async () => {
        const answer = await api<{ items: MessagingProvider[] }>('/messaging/providers')
        return answer.items
      })
    },
    /** Saves a new order; answers the providers as now configured, or undefined on error. */
    async change(rows: readonly ProviderRow[]) {
      const saved = await save.run(async () => {
        const answer = await api<{ items: MessagingProvider[] }>('/messaging/providers', {
          method: 'PUT',
          body: providerChangeOf(rows),
        })
        return answer.items
      })
      if (saved) list.set(saved)
      return saved
    },
  }
})

export const providers = new ProvidersModel()

export interface Duration {
  days?: number
  hours?: number
  minutes?: number
}

/** `GET/PUT /api/messaging/settings`. */
export interface MessagingSettings {
  from: string
  replyTo?: string
  frequencyCap?: { count: number; per: Duration }
  quietHours?: { start: string; end: string }
  timezone?: string
}

export const DURATION_UNITS = ['days', 'hours', 'minutes'] as const
export type DurationUnit = (typeof DURATION_UNITS)[number]

const MINUTES: Record<DurationUnit, number> = { days: 1440, hours: 60, minutes: 1 }

/** A duration as one amount of its largest whole unit: 36 hours, 2 days, 90 minutes. */
export function durationParts(duration: Duration): { amount: number; unit: DurationUnit } {
  const total = DURATION_UNITS.reduce((sum, unit) => sum + (duration[unit] ?? 0) * MINUTES[unit], 0)
  const unit = DURATION_UNITS.find((u) => total > 0 && total % MINUTES[u] === 0) ?? 'minutes'
  return { amount: total / MINUTES[unit], unit }
}

/** The sender, frequency cap and quiet hours that apply to every send. */
export const MessagingSettingsModel = createModel(() => {
  const settings = request<MessagingSettings>('messagingSettings.settings')
  const save = request<MessagingSettings>('messagingSettings.save')
  return {
    settings,
    save,
    load() {
      return settings.run(() => api<MessagingSettings>('/messaging/settings'))
    },
    async change(next: MessagingSettings) {
      const saved = await save.run(() =>
        api<MessagingSettings>('/messaging/settings', { method: 'PUT', body: next }),
      )
      if (saved) settings.set(saved)
      return saved
    },
  }
})

export const messagingSettings = new MessagingSettingsModel()
