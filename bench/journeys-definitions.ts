import type { JourneyDefinition, JourneyNode } from '../domain/journeys/definition.ts'
import type { Rule } from '../domain/segments/rule.ts'

/**
 * What the journeys section creates through the API: templates, the segments some journeys start
 * on, the one journey whose email the latency measurement waits for, and twenty journeys as a shop
 * might run them for the CPU comparison. Their entries read what the ingest workload (workload.ts)
 * sends, so its events really start, advance and end runs; some wait for events it never sends.
 * A template or segment is named here by its slug (`template:<slug>`, `segment:<slug>`);
 * `withRefs` swaps in the id the API gave it.
 */

export interface BenchTemplate {
  slug: string
  name: string
  kind: 'marketing' | 'transactional'
  subject: string
  html: string
}

/** The welcome is transactional: it goes without consent, so every latency contact gets one. */
export const TEMPLATES: BenchTemplate[] = [
  {
    slug: 'welcome',
    name: 'bench-journey-welcome',
    kind: 'transactional',
    subject: 'Welcome, {{ contact.traits.firstName | default: "there" }}',
    html:
      '<h1>Welcome aboard, {{ contact.traits.firstName | default: "there" }}!</h1>' +
      '<p>Your account is ready. Start at <a href="https://shop.example/start">shop.example</a>.</p>',
  },
  {
    slug: 'cart',
    name: 'bench-journey-cart',
    kind: 'marketing',
    subject: 'Still thinking about {{ event.properties.name | default: "your cart" }}?',
    html:
      '<p>Hi {{ contact.traits.firstName | default: "there" }}, your cart is waiting.</p>' +
      '<p><a href="https://shop.example/cart">Back to your cart</a></p>',
  },
  {
    slug: 'thanks',
    name: 'bench-journey-thanks',
    kind: 'marketing',
    subject: 'Thank you for your order',
    html: '<p>Thanks, {{ contact.traits.firstName | default: "friend" }}. Tell us how it went?</p>',
  },
]

export interface BenchSegment {
  slug: string
  name: string
  rule: Rule
}

/** Created in both runs of a pair, so only the journeys differ between them. */
export const SEGMENTS: BenchSegment[] = [
  { slug: 'pro', name: 'bench: pro plan', rule: { trait: 'plan', op: 'eq', value: 'pro' } },
  {
    slug: 'browsers',
    name: 'bench: viewed 3+ products this week',
    rule: { performed: 'Product Viewed', count: { op: 'gte', value: 3 }, within: { days: 7 } },
  },
  { slug: 'buyers', name: 'bench: ever ordered', rule: { performed: 'Order Completed' } },
]

/** The event whose journey the latency measurement times; no other journey starts on it. */
export const SIGNUP_EVENT = 'Bench Signup'

export const LATENCY_JOURNEY: JourneyDefinition = {
  entry: { event: SIGNUP_EVENT },
  start: 'e',
  nodes: {
    e: { type: 'email', template: 'template:welcome', next: 'x' },
    x: { type: 'exit' },
  },
}

export interface BenchJourney {
  slug: string
  /** What happens to it under the workload, for the summary. */
  kind: 'workload event' | 'segment' | 'never entered'
  definition: JourneyDefinition
}

const exit: JourneyNode = { type: 'exit' }
const email = (template: string, next: string): JourneyNode => ({
  type: 'email',
  template: `template:${template}`,
  next,
})
const wait = (hours: number, next: string): JourneyNode => ({
  type: 'wait',
  for: { hours },
  next,
})

/**
 * Ten journeys on events the workload sends (most with waits, so contacts stay in them across
 * the run), three on segment moves, seven on events it never sends or by API (each event still
 * offered to them).
 */
export const LIVE_JOURNEYS: BenchJourney[] = [
  {
    slug: 'abandoned-cart',
    kind: 'workload event',
    definition: {
      entry: { event: 'Product Added' },
      reentry: 'after_exit',
      goal: { performed: 'Order Completed', within: { days: 2 } },
      start: 'w',
      nodes: {
        w: {
          type: 'waitFor',
          performed: 'Order Completed',
          timeout: { days: 1 },
          next: 'x',
          onTimeout: 'm',
        },
        m: email('cart', 'x'),
        x: exit,
      },
    },
  },
  {
    slug: 'checkout-nudge',
    kind: 'workload event',
    definition: {
      entry: { event: 'Checkout Started' },
      start: 'w',
      nodes: {
        w: wait(2, 'b'),
        b: {
          type: 'branch',
          cases: [{ rule: { performed: 'Order Completed', within: { days: 1 } }, next: 'x' }],
          otherwise: 'm',
        },
        m: email('cart', 'x'),
        x: exit,
      },
    },
  },
  {
    slug: 'post-purchase',
    kind: 'workload event',
    definition: {
      entry: { event: 'Order Completed' },
      reentry: { after: { days: 30 } },
      start: 'm1',
      nodes: {
        m1: email('thanks', 'w'),
        w: wait(72, 'm2'),
        m2: email('thanks', 'x'),
        x: exit,
      },
    },
  },
  {
    slug: 'newsletter-welcome',
    kind: 'workload event',
    definition: {
      entry: { event: 'Newsletter Subscribed' },
      start: 'm1',
      nodes: { m1: email('welcome', 'w'), w: wait(48, 'm2'), m2: email('cart', 'x'), x: exit },
    },
  },
  {
    slug: 'jacket-interest',
    kind: 'workload event',
    definition: {
      entry: {
        event: 'Product Viewed',
        where: [{ property: 'category', op: 'eq', value: 'Jackets' }],
      },
      exitWhen: { performed: 'Order Completed', within: { days: 1 } },
      start: 'w',
      nodes: { w: wait(24, 'm'), m: email('cart', 'x'), x: exit },
    },
  },
  {
    slug: 'tent-search',
    kind: 'workload event',
    definition: {
      entry: {
        event: 'Products Searched',
        where: [{ property: 'query', op: 'contains', value: 'tent' }],
      },
      start: 't',
      nodes: { t: { type: 'updateTraits', traits: { interest: 'camping' }, next: 'x' }, x: exit },
    },
  },
  {
    slug: 'video-engaged',
    kind: 'workload event',
    definition: {
      entry: { event: 'Video Played' },
      reentry: 'after_exit',
      start: 't',
      nodes: {
        t: { type: 'track', event: 'Bench Video Engaged', next: 'x' },
        x: exit,
      },
    },
  },
  {
    slug: 'big-order',
    kind: 'workload event',
    definition: {
      entry: {
        event: 'Order Completed',
        where: [{ property: 'revenue', op: 'gte', value: 300 }],
      },
      start: 's',
      nodes: {
        s: {
          type: 'split',
          paths: [
            { weight: 1, next: 'm' },
            { weight: 1, next: 'w' },
          ],
        },
        m: email('thanks', 'x'),
        w: wait(24, 'x'),
        x: exit,
      },
    },
  },
  {
    slug: 'newsletter-experiment',
    kind: 'workload event',
    definition: {
      entry: { event: 'Newsletter Subscribed' },
      goal: { performed: 'Order Completed', within: { days: 7 } },
      start: 'e',
      nodes: {
        e: {
          type: 'experiment',
          minPerPath: 100,
          paths: [
            { name: 'welcome', weight: 1, next: 'a' },
            { name: 'cart', weight: 1, next: 'b' },
          ],
        },
        a: email('welcome', 'w'),
        b: email('cart', 'w'),
        w: wait(168, 'x'),
        x: exit,
      },
    },
  },
  {
    slug: 'review-request',
    kind: 'workload event',
    definition: {
      entry: { event: 'Order Completed' },
      exitWhen: { trait: 'plan', op: 'eq', value: 'free' },
      start: 'u',
      nodes: {
        u: {
          type: 'waitUntil',
          time: '10:00',
          days: ['mon', 'tue', 'wed', 'thu', 'fri'],
          next: 'm',
        },
        m: email('thanks', 'x'),
        x: exit,
      },
    },
  },
  {
    slug: 'pro-onboarding',
    kind: 'segment',
    definition: {
      entry: { segment: 'segment:pro', on: 'enter' },
      start: 'm',
      nodes: { m: email('welcome', 'w'), w: wait(24, 'x'), x: exit },
    },
  },
  {
    slug: 'browse-abandonment',
    kind: 'segment',
    definition: {
      entry: { segment: 'segment:browsers', on: 'enter' },
      start: 'w',
      nodes: {
        w: wait(24, 'b'),
        b: {
          type: 'branch',
          cases: [{ rule: { inSegment: 'segment:buyers' }, next: 'x' }],
          otherwise: 'm',
        },
        m: email('cart', 'x'),
        x: exit,
      },
    },
  },
  {
    slug: 'lapsed-browser',
    kind: 'segment',
    definition: {
      entry: { segment: 'segment:browsers', on: 'exit' },
      start: 'm',
      nodes: { m: email('cart', 'x'), x: exit },
    },
  },
  ...(
    [
      ['win-back', 'Bench Churn Risk'],
      ['trial-ended', 'Trial Ended'],
      ['cancellation', 'Subscription Cancelled'],
      ['referral', 'Referral Sent'],
      ['renewal-failed', 'Payment Failed'],
      ['support-follow-up', 'Ticket Solved'],
    ] as const
  ).map(([slug, event]): BenchJourney => ({
    slug,
    kind: 'never entered',
    definition: {
      entry: { event },
      start: 'm',
      nodes: { m: email('thanks', 'w'), w: wait(24, 'x'), x: exit },
    },
  })),
  {
    slug: 'api-entry',
    kind: 'never entered',
    definition: {
      entry: { api: true },
      start: 'm',
      nodes: { m: email('welcome', 'x'), x: exit },
    },
  },
]

/**
 * The definition with every `template:<slug>` and `segment:<slug>` string replaced by the id
 * the API gave that template or segment; a slug not created is an error.
 */
export function withRefs<T>(
  value: T,
  ids: { templates: ReadonlyMap<string, string>; segments: ReadonlyMap<string, string> },
): T {
  const swap = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const [kind, slug] = v.split(':', 2)
      if (slug === undefined || (kind !== 'template' && kind !== 'segment')) return v
      const id = (kind === 'template' ? ids.templates : ids.segments).get(slug)
      if (id === undefined) throw new Error(`no ${kind} "${slug}" created`)
      return id
    }
    if (Array.isArray(v)) return v.map(swap)
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, swap(inner)]))
    }
    return v
  }
  return swap(value) as T
}
