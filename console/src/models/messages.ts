import { createModel, signal } from '@preact/signals'
import type { Attempt, MessageStatus, ProviderKind } from '../../../contracts/messaging'
import { api, segment, type ApiList } from './api'
import { pagedList } from './pages'
import { request } from './request'

export { MESSAGE_STATUSES } from '../../../contracts/messaging'
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
}

/** A row of `GET /api/messaging/providers`, in fallback order. */
export interface MessagingProvider {
  kind: ProviderKind
  baseUrl?: string
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

/** The providers in fallback order and each one's circuit, for roles that may read them. */
export const ProvidersModel = createModel(() => {
  const list = request<MessagingProvider[]>('providers.list')
  return {
    list,
    load() {
      return list.run(async () => {
        const answer = await api<{ items: MessagingProvider[] }>('/messaging/providers')
        return answer.items
      })
    },
  }
})

export const providers = new ProvidersModel()
