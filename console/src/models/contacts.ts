import { computed, createModel, signal } from '@preact/signals'
import type { Contact, ContactProfile } from '../../../contracts/contact-profile'
import { api, segment, type ApiList } from './api'
import type { ChurnExplanation, ContactPredictions } from './predictions'
import { request } from './request'

export interface ContactSummary {
  key: string
  userId: string | null
  email: string | null
  anonymousIds: string[]
  traits: Record<string, unknown>
  firstSeen: string
  lastSeen: string
  eventCount: number
}

// `GET /api/contacts/:id`. A type only: the schema (and zod) stay out of the console bundle.
export type { Contact }

/** A journey run with its step log (`GET /api/contacts/:id/journeys`), newest first. */
export type JourneyRun = ContactProfile['journeys'][number]

/** The names of segments and journeys, by id, for roles that may list them. */
export interface Names {
  segments: Map<string, string>
  journeys: Map<string, string>
}

export interface Enrichment {
  browser?: string
  os?: string
  device?: string
  bot?: boolean
  country?: string
  url?: string
  path?: string
  referrer?: string
  referrerDomain?: string
  landing?: boolean
  channel?: string
  campaign?: Record<string, string>
  clickIds?: string[]
}

export interface TimelineEvent {
  id: string
  messageId: string
  type: string
  event?: string
  name?: string
  userId?: string
  anonymousId?: string
  timestamp: string
  receivedAt: string
  properties?: Record<string, unknown>
  traits?: Record<string, unknown>
  context: Record<string, unknown>
  enrichment: Enrichment
}

/** A visit's entry through a channel: from the profile (ContactDO rows) or the timeline. */
export interface Touch {
  /** ISO time, or epoch milliseconds as the ContactDO stores it. */
  at: string | number
  channel: string
  campaign?: string | Record<string, string> | null
  source?: string | null
  medium?: string | null
  referrerDomain?: string
  clickIds?: string[]
  path?: string
}

export const PURPOSES = ['analytics', 'marketing', 'personalization', 'advertising'] as const
export type Purpose = (typeof PURPOSES)[number]

export interface ConsentRecord {
  current: Record<Purpose, boolean | null>
  ledger: {
    at: string
    purposes: Partial<Record<Purpose, boolean>>
    policyVersion: string
    source: string
    method: string
    identity?: string | null
    ipHash?: string | null
  }[]
}

const SEARCH_PAGE = 50

/** The contact list: a search and its pages. */
export const ContactSearchModel = createModel(() => {
  const query = signal<string | undefined>(undefined, { name: 'contacts.query' })
  const results = request<ContactSummary[]>('contacts.results')
  const cursor = signal<string | null>(null, { name: 'contacts.cursor' })
  const more = request<ContactSummary[]>('contacts.more')

  return {
    query,
    results,
    cursor,
    more,
    async search(q: string) {
      if (q === query.peek() && results.data.peek()) return
      query.value = q
      cursor.value = null
      more.reset()
      await results.run(
        async () => {
          const page = await api<ApiList<ContactSummary>>('/contacts', {
            query: { q, limit: SEARCH_PAGE },
          })
          cursor.value = page.cursor
          return page.items
        },
        { keepData: false },
      )
    },
    async loadMore() {
      const after = cursor.peek()
      if (!after || more.loading.peek()) return
      const page = await more.run(async () => {
        const next = await api<ApiList<ContactSummary>>('/contacts', {
          query: { q: query.peek(), limit: SEARCH_PAGE, cursor: after },
        })
        cursor.value = next.cursor
        return next.items
      })
      if (page) results.set([...(results.data.peek() ?? []), ...page])
    },
    /** Forget the last search so the next visit reads fresh results (after an erasure, say). */
    invalidate() {
      query.value = undefined
      results.reset()
    },
  }
})

export const contactSearch = new ContactSearchModel()

/** Events per page of the timeline; pages are fetched as the reader scrolls toward them. */
export const TIMELINE_PAGE = 1000

/**
 * One contact's timeline, newest first, fetched page by page with the API's cursor. The list
 * can reach 100k events: the view renders only the rows in sight.
 */
export function createTimeline(contactId: string) {
  const events = signal<TimelineEvent[]>([], { name: 'timeline.events' })
  const cursor = signal<string | null>(null, { name: 'timeline.cursor' })
  const page = request<number>('timeline.page')
  const done = signal(false, { name: 'timeline.done' })
  const started = signal(false, { name: 'timeline.started' })

  async function loadMore() {
    if (done.peek() || page.loading.peek()) return
    started.value = true
    await page.run(async () => {
      const next = await api<ApiList<TimelineEvent>>(`/contacts/${segment(contactId)}/events`, {
        query: { limit: TIMELINE_PAGE, cursor: cursor.peek() },
      })
      events.value = events.peek().concat(next.items)
      cursor.value = next.cursor
      if (!next.cursor) done.value = true
      return next.items.length
    })
  }

  return { events, cursor, page, done, started, loadMore }
}

export type Timeline = ReturnType<typeof createTimeline>

/** Touches: events that arrived through a marketing channel (a visit's landing page). */
export function touchesOf(events: readonly TimelineEvent[]): Touch[] {
  const touches: Touch[] = []
  for (const event of events) {
    const e = event.enrichment
    if (!e?.channel || e.landing === false) continue
    touches.push({
      at: event.timestamp,
      channel: e.channel,
      campaign: e.campaign,
      referrerDomain: e.referrerDomain,
      clickIds: e.clickIds,
      path: e.path,
    })
  }
  return touches
}

/**
 * Segment and journey names for the profile's tabs, read once per visit to a contact. Each list
 * is read only when `may` says the role can (others see ids); a failed list leaves ids too.
 */
async function readNames(may: { segments: boolean; journeys: boolean }): Promise<Names> {
  const names = (path: string) =>
    api<ApiList<{ id: string; name: string }>>(path).then(
      (page) => new Map(page.items.map((item) => [item.id, item.name])),
      () => new Map<string, string>(),
    )
  const [segments, journeys] = await Promise.all([
    may.segments ? names('/segments') : new Map<string, string>(),
    may.journeys ? names('/journeys') : new Map<string, string>(),
  ])
  return { segments, journeys }
}

/**
 * One contact: profile, consent ledger, timeline, journey runs and predictions, each loaded
 * when first shown.
 */
export const ContactModel = createModel((contactId: string) => {
  const profile = request<Contact>('contact.profile')
  const consent = request<ConsentRecord>('contact.consent')
  const timeline = createTimeline(contactId)
  const id = signal(contactId, { name: 'contact.id' })
  const journeys = request<JourneyRun[]>('contact.journeys')
  const names = request<Names>('contact.names')
  const predictions = request<ContactPredictions>('contact.predictions')
  const explanation = request<ChurnExplanation>('contact.explanation')
  const base = `/contacts/${segment(contactId)}`

  return {
    id,
    profile,
    consent,
    timeline,
    journeys,
    names,
    predictions,
    explanation,
    touches: computed(() => profile.data.value?.touches ?? touchesOf(timeline.events.value), {
      name: 'contact.touches',
    }),
    touchesFromProfile: computed(() => Array.isArray(profile.data.value?.touches), {
      name: 'contact.touchesFromProfile',
    }),
    loadProfile() {
      return profile.run(() => api<Contact>(`/contacts/${segment(contactId)}`))
    },
    loadConsent() {
      if (consent.data.peek() || consent.loading.peek()) return
      return consent.run(() => api<ConsentRecord>(`/contacts/${segment(contactId)}/consent`))
    },
    loadTimeline: timeline.loadMore,
    loadJourneys() {
      return journeys.run(async () => (await api<{ runs: JourneyRun[] }>(`${base}/journeys`)).runs)
    },
    loadNames(may: { segments: boolean; journeys: boolean }) {
      if (names.data.peek() || names.loading.peek()) return
      return names.run(() => readNames(may))
    },
    loadPredictions() {
      return predictions.run(() => api<ContactPredictions>(`${base}/predictions`))
    },
    /** Asked for by the reader: it may call Workers AI. */
    explain() {
      if (explanation.loading.peek()) return
      return explanation.run(() => api<ChurnExplanation>(`${base}/predictions/explanation`))
    },
  }
})

export type ContactModel = InstanceType<typeof ContactModel>
