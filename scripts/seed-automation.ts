import type { DemoApi } from './seed-api.ts'

/**
 * What the demo automates, defined before any event so each contact enters the segments and
 * journeys as its events arrive, as it would live: demo segments, and three journeys of the
 * template library published. Whatever exists already (by name) is kept as it is, so a second
 * `npm start` keeps a marketer's edits.
 */

const CHURN_RISK_HIGH = { prediction: 'churnRisk', op: 'gte', value: 0.5 }
const BOUGHT = { performed: 'Order Completed' }

export const DEMO_SEGMENTS = [
  {
    name: 'Bought in the last 30 days',
    rule: { performed: 'Order Completed', within: { days: 30 } },
  },
  {
    name: 'Signed up, never bought',
    rule: { all: [{ performed: 'Signed Up' }, { not: BOUGHT }] },
  },
  {
    name: 'Big spenders',
    rule: {
      performed: 'Order Completed',
      where: [{ property: 'revenue', op: 'gte', value: 150 }],
    },
  },
  {
    name: 'Browsed 3+ pages this week',
    rule: { performed: '$page', count: { op: 'gte', value: 3 }, within: { days: 7 } },
  },
  {
    name: 'Customers at risk of churning',
    rule: { all: [CHURN_RISK_HIGH, BOUGHT] },
  },
]

export async function demoSegments(api: DemoApi): Promise<number> {
  const { items } = await api.get<{ items: { name: string }[] }>(
    'listing segments',
    '/api/segments',
  )
  for (const segment of DEMO_SEGMENTS) {
    if (items.some((s) => s.name === segment.name)) continue
    await api.post(`creating the segment "${segment.name}"`, '/api/segments', segment)
  }
  return DEMO_SEGMENTS.length
}

export interface DemoJourney {
  id: string
  name: string
  status: string
}

/**
 * The library's journeys the demo runs: every sign-up enters the welcome series, every cart the
 * abandoned-cart reminders, every customer the churn model marks at risk the win-back.
 */
const DEMO_JOURNEYS = [
  { name: 'Welcome series', template: 'welcome-series' },
  { name: 'Abandoned cart', template: 'abandoned-cart' },
  { name: 'Win-back', template: 'win-back' },
]

export async function demoJourneys(api: DemoApi): Promise<DemoJourney[]> {
  const { items } = await api.get<{ items: DemoJourney[] }>('listing journeys', '/api/journeys')
  const journeys: DemoJourney[] = []
  for (const { name, template } of DEMO_JOURNEYS) {
    const existing = items.find((j) => j.name === name)
    if (existing) {
      journeys.push(existing)
      continue
    }
    const { id } = await api.post<{ id: string }>(`creating the journey ${name}`, '/api/journeys', {
      name,
      template,
    })
    await api.post(`publishing the journey ${name}`, `/api/journeys/${id}/publish`, {
      version: 1,
    })
    journeys.push({ id, name, status: 'live' })
  }
  return journeys
}

export interface JourneyMetrics {
  entered: number
  active: number
  converted: number
  /** Messages of every email node, by status. */
  messages: Record<string, number>
}

interface MetricsAnswer {
  versions: {
    entered: number
    active: number
    converted: number
    nodes: Record<string, { messages?: Record<string, number> }>
  }[]
}

export async function journeyMetrics(api: DemoApi, id: string): Promise<JourneyMetrics> {
  const { versions } = await api.get<MetricsAnswer>(
    `reading the metrics of ${id}`,
    `/api/journeys/${id}/metrics`,
  )
  const total: JourneyMetrics = { entered: 0, active: 0, converted: 0, messages: {} }
  for (const version of versions) {
    total.entered += version.entered
    total.active += version.active
    total.converted += version.converted
    for (const node of Object.values(version.nodes)) {
      for (const [status, n] of Object.entries(node.messages ?? {})) {
        total.messages[status] = (total.messages[status] ?? 0) + n
      }
    }
  }
  return total
}
