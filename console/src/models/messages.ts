import { createModel, signal } from '@preact/signals'
import type { Attempt, MessageStatus, ProviderKind } from '../../../contracts/messaging'
import { allowed } from '../../../edge/access/permissions'
import type { Role } from './access'
import { api, segment, type ApiList } from './api'
import {
  providerChangeOf,
  type MessagingProvider,
  type MessagingSettings,
  type ProviderRow,
} from './messaging-config'
import { pagedList } from './pages'
import { request } from './request'

export { MESSAGE_STATUSES, PROVIDER_KINDS } from '../../../contracts/messaging'
export type { Attempt, MessageStatus, ProviderKind }
export * from './messaging-config'

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
