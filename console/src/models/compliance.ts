import { createModel, effect, signal } from '@preact/signals'
import { api, apiDownload, ApiError, asApiError, segment, type ApiList } from './api'
import type { Contact, ContactSummary, Purpose } from './contacts'
import { pagedList } from './pages'
import { request } from './request'
import type { AuditRow } from '../../../domain/audit-chain'

export type ErasureStatus = 'pending' | 'running' | 'completed' | 'failed'
export type IdentifierKind = 'userId' | 'anonymousId' | 'email'

export interface Erasure {
  id: string
  status: ErasureStatus
  identifierKind: IdentifierKind
  requestedAt: string
  completedAt: string | null
  requestedBy: string
  reason?: string
  error?: string | null
  receipt?: {
    /** Absent on receipts written before it existed. */
    summary?: string
    contacts: number
    identifiers?: number
    stores: { store: string; action: string; removed: Record<string, number>; at: string }[]
  } | null
}

/** What an erasure will remove, read before it is confirmed. */
export interface ErasurePreview {
  kind: IdentifierKind
  value: string
  contacts: Contact[]
}

export interface ConsentTotals {
  contacts?: number
  purposes: Record<Purpose, { granted: number; denied: number; unknown?: number }>
}

/** Rows of the audit log as the API returns them (the chain's own row type). */
export type AuditEntry = AuditRow

export interface AuditFilters {
  subject?: string
  actor?: string
  from?: string
  to?: string
}

export interface Verification {
  ok: boolean
  rows: number
  firstBroken?: { seq: number; reason: string }
}

const UNFINISHED = new Set<ErasureStatus>(['pending', 'running'])
const POLL_MS = 1_500
const AUDIT_PAGE = 100

function contactKeyOf(kind: IdentifierKind, value: string) {
  return kind === 'anonymousId' ? `anon:${value}` : value
}

async function readContact(key: string): Promise<Contact | undefined> {
  try {
    return await api<Contact>(`/contacts/${segment(key)}`)
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined
    throw error
  }
}

/** Erasure requests: the list, one request's receipt, and starting a new one. */
export const ErasureModel = createModel(() => {
  const list = request<Erasure[]>('erasures.list')
  const cursor = signal<string | null>(null, { name: 'erasures.cursor' })
  const detail = request<Erasure>('erasures.detail')
  const preview = request<ErasurePreview>('erasures.preview')
  const submission = request<{ id: string; status: ErasureStatus }>('erasures.submission')
  const watching = signal<string | undefined>(undefined, { name: 'erasures.watching' })
  const listActive = signal(false, { name: 'erasures.listActive' })

  async function loadList() {
    await list.run(async () => {
      const page = await api<ApiList<Erasure>>('/privacy/erasure', { query: { limit: 50 } })
      cursor.value = page.cursor
      return page.items
    })
  }

  async function loadDetail(id: string) {
    await detail.run(() => api<Erasure>(`/privacy/erasure/${segment(id)}`), {
      keepData: detail.data.peek()?.id === id,
    })
  }

  // Unfinished requests are polled until they complete or fail.
  effect(() => {
    const id = watching.value
    const status = detail.data.value?.id === id ? detail.data.value?.status : undefined
    if (!id || (status && !UNFINISHED.has(status)) || detail.error.value) return
    const timer = setTimeout(() => void loadDetail(id), POLL_MS)
    return () => clearTimeout(timer)
  })
  effect(() => {
    if (!listActive.value || !list.data.value?.some((e) => UNFINISHED.has(e.status))) return
    const timer = setTimeout(() => void loadList(), POLL_MS)
    return () => clearTimeout(timer)
  })

  return {
    list,
    cursor,
    detail,
    preview,
    submission,
    showList() {
      listActive.value = true
      void loadList()
    },
    hideList() {
      listActive.value = false
    },
    async loadMore() {
      const after = cursor.peek()
      if (!after) return
      const page = await api<ApiList<Erasure>>('/privacy/erasure', {
        query: { limit: 50, cursor: after },
      })
      cursor.value = page.cursor
      list.set([...(list.data.peek() ?? []), ...page.items])
    },
    watch(id: string | undefined) {
      watching.value = id
      if (id) void loadDetail(id)
    },
    /** Finds every contact the identifier reaches, so the confirmation can name them. */
    async review(kind: IdentifierKind, value: string) {
      submission.reset()
      const trimmed = value.trim()
      await preview.run(
        async () => {
          let contacts: Contact[] = []
          if (kind === 'email') {
            const found = await api<ApiList<ContactSummary>>('/contacts', {
              query: { q: trimmed, limit: 20 },
            })
            const matches = found.items.filter(
              (c) => c.email?.toLowerCase() === trimmed.toLowerCase(),
            )
            const profiles = await Promise.all(matches.map((c) => readContact(c.key)))
            contacts = profiles.filter((c): c is Contact => c !== undefined)
          } else {
            const contact = await readContact(contactKeyOf(kind, trimmed))
            contacts = contact ? [contact] : []
          }
          return { kind, value: trimmed, contacts }
        },
        { keepData: false },
      )
    },
    cancelReview() {
      preview.reset()
    },
    /** Starts the erasure reviewed; resolves to its id. */
    async confirm(): Promise<string | undefined> {
      const reviewed = preview.data.peek()
      if (!reviewed) return undefined
      const result = await submission.run(() =>
        api<{ id: string; status: ErasureStatus }>('/privacy/erasure', {
          method: 'POST',
          body: { [reviewed.kind]: reviewed.value },
        }),
      )
      if (result) {
        preview.reset()
        void loadList()
      }
      return result?.id
    },
  }
})

export const erasures = new ErasureModel()

/** The data subject access request: everything held about a contact, as a JSON download. */
export const ExportModel = createModel(() => {
  const downloading = signal(false, { name: 'export.downloading' })
  const error = signal<ApiError | undefined>(undefined, { name: 'export.error' })
  const lastFile = signal<string | undefined>(undefined, { name: 'export.lastFile' })

  return {
    downloading,
    error,
    lastFile,
    async download(contactId: string) {
      downloading.value = true
      error.value = undefined
      try {
        const id = contactId.trim()
        const file = await apiDownload(
          `/privacy/export/${segment(id)}`,
          `cairn-export-${id.replace(/[^\w.-]+/g, '_')}.json`,
        )
        const url = URL.createObjectURL(file.blob)
        const link = document.createElement('a')
        link.href = url
        link.download = file.filename
        document.body.append(link)
        link.click()
        link.remove()
        setTimeout(() => URL.revokeObjectURL(url), 10_000)
        lastFile.value = file.filename
      } catch (caught) {
        error.value = asApiError(caught)
      } finally {
        downloading.value = false
      }
    },
  }
})

export const dsar = new ExportModel()

export const ConsentTotalsModel = createModel(() => {
  const totals = request<ConsentTotals>('consentTotals')
  return {
    totals,
    load() {
      return totals.run(() => api<ConsentTotals>('/consent/totals'))
    },
  }
})

export const consentTotals = new ConsentTotalsModel()

/** The audit log with its filters, and the hash-chain verification. */
export const AuditModel = createModel(() => {
  const filters = signal<AuditFilters>({}, { name: 'audit.filters' })
  const verification = request<Verification>('audit.verification')

  function query(extra: Record<string, string | number | null> = {}) {
    const f = filters.peek()
    return { ...f, limit: AUDIT_PAGE, ...extra }
  }
  const list = pagedList<AuditEntry>('audit', (after) =>
    api<ApiList<AuditEntry>>('/audit', { query: query(after ? { cursor: after } : {}) }),
  )

  return {
    filters,
    entries: list.items,
    cursor: list.cursor,
    more: list.more,
    verification,
    show(next: AuditFilters) {
      filters.value = next
      list.reload()
    },
    loadMore: list.loadMore,
    verify() {
      return verification.run(() => api<Verification>('/audit/verify'), { keepData: false })
    },
  }
})

export const audit = new AuditModel()
