import { describe, expect, it } from 'vitest'
import { evaluate } from '../segments/evaluate'
import type { ContactFacts, EventFact } from '../segments/facts'
import type { Prediction } from '../segments/rule'
import type { JourneyDefinition } from './definition'
import {
  checkExit,
  enter,
  observe,
  wake,
  type Advance,
  type JourneyEvent,
  type StepContext,
} from './engine'
import { JOURNEY_TEMPLATES, type JourneyTemplate } from './templates'
import { validateGraph } from './validate'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
// Friday 5 June 2026, 15:00 UTC.
const T0 = Date.parse('2026-06-05T15:00:00Z')

interface Contact {
  traits?: Record<string, unknown>
  /** Times of the contact's events, by name. */
  events?: Record<string, number[]>
  predictions?: Partial<Record<Prediction, number>>
  timeZone?: string
  marketing?: boolean
}

/** The contact as the engine sees it at `now`, rules answered by the segment evaluator. */
function context(now: number, contact: Contact = {}): StepContext {
  const facts: ContactFacts = {
    key: 'user:1',
    traits: contact.traits ?? {},
    events: (name) =>
      (contact.events?.[name] ?? []).map((at): EventFact => ({
        id: `${name}@${at}`,
        at,
        properties: {},
      })),
    consent: (purpose) => (purpose === 'marketing' ? (contact.marketing ?? true) : null),
    inList: () => false,
    accounts: () => [],
    messages: () => [],
    subscribed: () => null,
    journeyStates: () => [],
    prediction: (name) => contact.predictions?.[name] ?? null,
  }
  return {
    now,
    matches: (rule) => evaluate(rule, facts, now, () => undefined),
    timeZone: contact.timeZone ?? 'UTC',
    consent: () => true,
    winner: () => undefined,
    nextBestAction: () => null,
  }
}

function event(name: string, at: number, properties: Record<string, unknown> = {}): JourneyEvent {
  return { id: `${name}@${at}`, name, at, properties }
}

/** What a step did, read as the run's log reads it: node and outcome. */
function log(advance: Advance): string[] {
  return advance.steps.map((s) => `${s.node}: ${s.outcome}`)
}

function emails(advance: Advance): string[] {
  return advance.effects.flatMap((e) => (e.kind === 'email' ? [e.template] : []))
}

const templates = Object.values(JOURNEY_TEMPLATES) as JourneyTemplate[]

function definitionOf(id: keyof typeof JOURNEY_TEMPLATES): JourneyDefinition {
  return JOURNEY_TEMPLATES[id].definition
}

function start(
  id: keyof typeof JOURNEY_TEMPLATES,
  ctx: StepContext,
  trigger: JourneyEvent | null = null,
): Advance {
  const init = { id: `run-${id}`, journeyId: id, version: 1, trigger: trigger && { ...trigger } }
  return enter(definitionOf(id), init, ctx)
}

describe('the journey template library', () => {
  it('holds the six journeys, each under its id', () => {
    expect(Object.keys(JOURNEY_TEMPLATES)).toEqual([
      'welcome-series',
      'abandoned-cart',
      'post-purchase',
      'win-back',
      'before-lapse',
      're-engagement',
    ])
    for (const [id, template] of Object.entries(JOURNEY_TEMPLATES)) expect(template.id).toBe(id)
  })

  describe.each(templates.map((t) => [t.id, t] as const))('%s', (id, template) => {
    it('passes the graph check with only what it brings', () => {
      const known = {
        templates: new Set(template.emailTemplates.map((t) => t.id)),
        segments: new Set(template.segments.map((s) => s.id)),
        lists: new Set<string>(),
        subscriptionGroups: new Set<string>(),
      }
      expect(validateGraph(template.definition, known)).toEqual([])
    })

    it('brings exactly the email templates its email nodes send', () => {
      const sent = Object.values(template.definition.nodes).flatMap((n) =>
        n.type === 'email' ? [n.template] : [],
      )
      expect(new Set(sent)).toEqual(new Set(template.emailTemplates.map((t) => t.id)))
    })
  })
})

describe('welcome series, run by hand', () => {
  const definition = definitionOf('welcome-series')

  it('welcomes, sends tips after two days, nudges after three more and converts on Activated', () => {
    const signedUp = event('Signed Up', T0)
    const entered = start('welcome-series', context(T0), signedUp)
    expect(log(entered)).toEqual([
      'welcome: entered version 1',
      'welcome: email welcome-series-welcome',
      'wait-2-days: waiting until 2026-06-07T15:00:00.000Z',
    ])
    expect(emails(entered)).toEqual(['welcome-series-welcome'])

    const tips = wake(definition, entered.run, context(T0 + 2 * DAY))
    expect(emails(tips)).toEqual(['welcome-series-tips'])
    expect(tips.run).toMatchObject({ node: 'wait-for-activation', wakeAt: T0 + 5 * DAY })

    const nudge = wake(definition, tips.run, context(T0 + 5 * DAY))
    expect(log(nudge)).toEqual([
      'wait-for-activation: timed out waiting for Activated',
      'nudge: email welcome-series-nudge',
      'last-chance: waiting for Activated until 2026-06-12T15:00:00.000Z',
    ])
    expect(emails(nudge)).toEqual(['welcome-series-nudge'])

    const activated = observe(
      definition,
      nudge.run,
      event('Activated', T0 + 6 * DAY),
      context(T0 + 6 * DAY),
    )
    expect(activated.run).toMatchObject({
      state: 'completed',
      converted: true,
      reason: 'goal: Activated',
    })
  })

  it('sends no tips to a contact who activates on the first day', () => {
    const entered = start('welcome-series', context(T0), event('Signed Up', T0))
    const activated = observe(
      definition,
      entered.run,
      event('Activated', T0 + HOUR),
      context(T0 + HOUR),
    )
    expect(activated.run).toMatchObject({ state: 'completed', converted: true })
    expect(wake(definition, activated.run, context(T0 + 2 * DAY)).effects).toEqual([])
  })

  it('ends unconverted a week after sign-up without activation', () => {
    let run = start('welcome-series', context(T0)).run
    for (const day of [2, 5, 7]) run = wake(definition, run, context(T0 + day * DAY)).run
    expect(run).toMatchObject({
      state: 'completed',
      converted: false,
      reason: 'exit node',
      node: 'done',
    })
  })
})

describe('abandoned cart, run by hand', () => {
  const definition = definitionOf('abandoned-cart')
  const added = event('Product Added', T0, {
    name: 'Trail Shoes',
    price: 89,
    url: 'https://shop.example/cart',
  })

  it('reminds an hour after an add with no order and converts on the order', () => {
    const entered = start('abandoned-cart', context(T0), added)
    expect(entered.effects).toEqual([])
    expect(entered.run).toMatchObject({ node: 'wait-for-order', wakeAt: T0 + HOUR })

    const reminded = wake(definition, entered.run, context(T0 + HOUR))
    expect(reminded.effects).toEqual([
      {
        kind: 'email',
        node: 'reminder',
        idempotencyKey: 'run-abandoned-cart:2',
        template: 'abandoned-cart-reminder',
      },
    ])
    // The reminder's template names the product from the run's trigger (edge/journeys/library.test.ts).
    expect(reminded.run.trigger).toMatchObject({ properties: { name: 'Trail Shoes', price: 89 } })

    const ordered = observe(
      definition,
      reminded.run,
      event('Order Completed', T0 + 3 * HOUR),
      context(T0 + 3 * HOUR),
    )
    expect(ordered.run).toMatchObject({
      state: 'completed',
      converted: true,
      reason: 'goal: Order Completed',
    })
    expect(ordered.effects).toEqual([])
  })

  it('sends nothing to a shopper who orders within the hour', () => {
    const entered = start('abandoned-cart', context(T0), added)
    const ordered = observe(
      definition,
      entered.run,
      event('Order Completed', T0 + 20 * MINUTE),
      context(T0 + 20 * MINUTE),
    )
    expect(ordered.run).toMatchObject({ state: 'completed', converted: true })
    expect(wake(definition, ordered.run, context(T0 + HOUR)).effects).toEqual([])
  })

  it('offers the incentive a day after the reminder, then gives up unconverted', () => {
    const entered = start('abandoned-cart', context(T0), added)
    const reminded = wake(definition, entered.run, context(T0 + HOUR))
    const incentive = wake(definition, reminded.run, context(T0 + HOUR + DAY))
    expect(emails(incentive)).toEqual(['abandoned-cart-incentive'])
    const over = wake(definition, incentive.run, context(T0 + HOUR + 3 * DAY))
    expect(over.run).toMatchObject({ state: 'completed', converted: false, node: 'done' })
  })

  it('does not count an order after the three-day window as converted', () => {
    const entered = start('abandoned-cart', context(T0), added)
    const reminded = wake(definition, entered.run, context(T0 + HOUR))
    const incentive = wake(definition, reminded.run, context(T0 + HOUR + DAY))
    const late = T0 + 3 * DAY + 30 * MINUTE
    const ordered = observe(
      definition,
      incentive.run,
      event('Order Completed', late),
      context(late),
    )
    expect(ordered.run).toMatchObject({ state: 'completed', converted: false, reason: 'exit node' })
  })
})

describe('post-purchase, run by hand', () => {
  const definition = definitionOf('post-purchase')
  const newYork = { timeZone: 'America/New_York' }

  it('asks for a review after three days and cross-sells on a weekday at 10:00 local time', () => {
    // Friday 15:00 UTC: the review goes on Monday, the wait ends Friday 11:00 in New York, so
    // the cross-sell waits for Monday 10:00 there (14:00 UTC).
    const ordered = event('Order Completed', T0, { order_id: 'A-1001' })
    const entered = start('post-purchase', context(T0, newYork), ordered)
    expect(entered.run).toMatchObject({ node: 'wait-3-days', wakeAt: T0 + 3 * DAY })

    const review = wake(definition, entered.run, context(T0 + 3 * DAY, newYork))
    expect(emails(review)).toEqual(['post-purchase-review-request'])

    const weekEnd = T0 + 7 * DAY
    const morning = wake(definition, review.run, context(weekEnd, newYork))
    expect(log(morning)).toEqual([
      'wait-4-days: wait over',
      'weekday-morning: waiting until 2026-06-15T14:00:00.000Z',
    ])
    expect(morning.effects).toEqual([])

    const crossSell = wake(
      definition,
      morning.run,
      context(Date.parse('2026-06-15T14:00:00Z'), newYork),
    )
    expect(emails(crossSell)).toEqual(['post-purchase-cross-sell'])
    expect(crossSell.run).toMatchObject({ state: 'completed', reason: 'exit node' })
  })
})

describe('win-back, run by hand', () => {
  const definition = definitionOf('win-back')
  const segment = JOURNEY_TEMPLATES['win-back'].segments[0]!
  const customerAtRisk: Contact = {
    predictions: { churnRisk: 0.7 },
    events: { 'Order Completed': [T0 - 120 * DAY] },
  }

  it('enters customers at risk with marketing consent only', () => {
    const at = (contact: Contact) => context(T0, contact).matches(segment.rule)
    expect(at(customerAtRisk)).toBe(true)
    expect(at({ ...customerAtRisk, predictions: { churnRisk: 0.3 } })).toBe(false)
    expect(at({ ...customerAtRisk, marketing: false })).toBe(false)
    // A fresh sign-up's risk is engagement alone: high, but win-back is for lapsed customers.
    expect(at({ predictions: { churnRisk: 0.9 } })).toBe(false)
  })

  it('sends the incentive a week later to a contact still at risk and converts on an order', () => {
    const atRisk: Contact = { predictions: { churnRisk: 0.7 } }
    const entered = start('win-back', context(T0, atRisk))
    expect(emails(entered)).toEqual(['win-back-we-miss-you'])

    const week = wake(definition, entered.run, context(T0 + 7 * DAY, atRisk))
    expect(log(week)).toEqual([
      'wait-7-days: wait over',
      'still-at-risk: case 0 matched',
      'incentive: email win-back-incentive',
      'goal-window: waiting for Order Completed until 2026-07-05T15:00:00.000Z',
    ])

    const order = observe(
      definition,
      week.run,
      event('Order Completed', T0 + 10 * DAY),
      context(T0 + 10 * DAY),
    )
    expect(order.run).toMatchObject({ state: 'completed', converted: true })
  })

  it('sends no incentive to a contact no longer at risk, and keeps it until the window closes', () => {
    const entered = start('win-back', context(T0, { predictions: { churnRisk: 0.7 } }))
    const week = wake(
      definition,
      entered.run,
      context(T0 + 7 * DAY, { predictions: { churnRisk: 0.2 } }),
    )
    expect(week.effects).toEqual([])
    expect(week.run).toMatchObject({ node: 'goal-window', wakeAt: T0 + 30 * DAY })
    const closed = wake(definition, week.run, context(T0 + 30 * DAY))
    expect(closed.run).toMatchObject({ state: 'completed', converted: false })
  })
})

describe('before they lapse, run by hand', () => {
  const segment = JOURNEY_TEMPLATES['before-lapse'].segments[0]!
  const likely: Contact = { predictions: { lapseRisk: 0.08 } }

  it('enters customers likely to lapse with marketing consent only', () => {
    const at = (contact: Contact) => context(T0, contact).matches(segment.rule)
    expect(at(likely)).toBe(true)
    expect(at({ predictions: { lapseRisk: 0.01 } })).toBe(false)
    expect(at({ ...likely, marketing: false })).toBe(false)
    // Never bought: no lapse risk at all, however high the churn risk from engagement.
    expect(at({ predictions: { churnRisk: 0.95 } })).toBe(false)
  })

  it('thanks them once and converts on an order within 30 days', () => {
    const definition = definitionOf('before-lapse')
    const entered = start('before-lapse', context(T0, likely))
    expect(emails(entered)).toEqual(['before-lapse-thank-you'])
    const order = observe(
      definition,
      entered.run,
      event('Order Completed', T0 + 12 * DAY),
      context(T0 + 12 * DAY),
    )
    expect(order.run).toMatchObject({ state: 'completed', converted: true })
  })
})

describe('re-engagement, run by hand', () => {
  const definition = definitionOf('re-engagement')
  const segment = JOURNEY_TEMPLATES['re-engagement'].segments[0]!
  const lapsed: Contact = { events: { $page: [T0 - 40 * DAY] } }

  it('holds visitors of the last 90 days who did not come in the last 30', () => {
    const inSegment = (pages: number[]) =>
      context(T0, { events: { $page: pages } }).matches(segment.rule)
    expect(inSegment([T0 - 40 * DAY])).toBe(true)
    expect(inSegment([T0 - 40 * DAY, T0 - 10 * DAY])).toBe(false)
    expect(inSegment([T0 - 100 * DAY])).toBe(false)
    expect(inSegment([])).toBe(false)
  })

  it('writes twice a week apart, then marks a contact who never comes back', () => {
    const entered = start('re-engagement', context(T0, lapsed))
    expect(emails(entered)).toEqual(['re-engagement-we-miss-you'])
    const lastCall = wake(definition, entered.run, context(T0 + 7 * DAY, lapsed))
    expect(emails(lastCall)).toEqual(['re-engagement-last-call'])
    const marked = wake(definition, lastCall.run, context(T0 + 14 * DAY, lapsed))
    expect(marked.effects).toEqual([
      {
        kind: 'updateTraits',
        node: 'mark-unresponsive',
        traits: { engagementStatus: 'unresponsive' },
      },
    ])
    expect(marked.run).toMatchObject({ state: 'completed', converted: false, node: 'done' })
  })

  it('converts on a visit after the first email', () => {
    const entered = start('re-engagement', context(T0, lapsed))
    const visit = observe(
      definition,
      entered.run,
      event('$page', T0 + 3 * DAY),
      context(T0 + 3 * DAY),
    )
    expect(visit.run).toMatchObject({ state: 'completed', converted: true, reason: 'goal: $page' })
  })

  it('lets a contact active again leave, even by a visit the run never saw', () => {
    const entered = start('re-engagement', context(T0, lapsed))
    expect(checkExit(definition, entered.run, context(T0, lapsed)).run.state).toBe('active')
    // A page view from an offline device arrives late, stamped before the run began.
    const late: Contact = { events: { $page: [T0 - 40 * DAY, T0 - HOUR] } }
    const left = checkExit(definition, entered.run, context(T0 + DAY, late))
    expect(left.run).toMatchObject({ state: 'exited', reason: 'exitWhen', converted: false })
  })
})
