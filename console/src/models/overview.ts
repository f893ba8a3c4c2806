import { createModel, effect, signal } from '@preact/signals'
import { api } from './api'
import type { Period } from './period'
import { request } from './request'

export interface Ranked {
  name: string
  count: number
}

export interface Overview {
  from: string
  to: string
  /** `conversions` once the overview reports it; until then it comes from attribution. */
  totals: { events: number; pageviews: number; visitors: number; conversions?: number }
  days: { day: string; events: number; pageviews: number; visitors: number }[]
  topPages: Ranked[]
  referrers: Ranked[]
  channels: Ranked[]
  topEvents: Ranked[]
  countries: Ranked[]
  devices: Ranked[]
  browsers: Ranked[]
  deadLetters: number
  messages: { total: number; sent: number; failed: number; errorRate: number | null }
}

export interface Conversions {
  conversions: number
  value: number
}

/** How often an open overview re-reads its numbers, live stream or not. */
const POLL_MS = 10_000
/** Rollups land in D1 through the queue a moment after an event; read once they have. */
const AFTER_EVENT_MS = 2_500

/** The overview's numbers for one period, refreshed while the screen is open. */
export const OverviewModel = createModel(() => {
  const period = signal<Period | undefined>(undefined, { name: 'overview.period' })
  const report = request<Overview>('overview.report')
  const conversions = request<Conversions>('overview.conversions')
  const updatedAt = signal<Date | undefined>(undefined, { name: 'overview.updatedAt' })
  const active = signal(false, { name: 'overview.active' })
  let pending: ReturnType<typeof setTimeout> | undefined

  async function load() {
    const current = period.peek()
    if (!current) return
    const query = { from: current.from, to: current.to }
    const [result] = await Promise.all([
      report.run(() => api<Overview>('/insights/overview', { query })),
      // Conversions (defined events, credited at ingest) are counted by the attribution API.
      conversions.run(async () => {
        const compare = await api<{ confidence?: { conversions?: number; value?: number } }>(
          '/attribution/compare',
          { query },
        )
        return {
          conversions: compare.confidence?.conversions ?? 0,
          value: compare.confidence?.value ?? 0,
        }
      }),
    ])
    if (result) updatedAt.value = new Date()
  }

  effect(() => {
    if (!active.value) return
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load()
    }, POLL_MS)
    return () => clearInterval(timer)
  })

  return {
    period,
    report,
    conversions,
    updatedAt,
    show(next: Period) {
      active.value = true
      const current = period.peek()
      if (current?.from === next.from && current.to === next.to && report.data.peek()) return
      period.value = next
      void load()
    },
    hide() {
      active.value = false
    },
    refresh: load,
    /** A live event arrived: read the numbers again once the rollups have caught up. */
    eventArrived() {
      if (pending) return
      pending = setTimeout(() => {
        pending = undefined
        void load()
      }, AFTER_EVENT_MS)
    },
  }
})

export const overview = new OverviewModel()
