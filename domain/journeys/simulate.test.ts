import { describe, expect, it } from 'vitest'
import type { Rule } from '../segments/rule'
import type { JourneyDefinition } from './definition'
import {
  MAX_SIMULATED_STEPS,
  simulate,
  type SimulationError,
  type SimulationInput,
  type SimulationResult,
} from './simulate'

// Monday 1 June 2026, 15:00 UTC.
const START = Date.parse('2026-06-01T15:00:00Z')
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const at = (ms: number) => new Date(START + ms).toISOString()

/** Product Added → wait for the order an hour → reminder → wait a day → last chance. */
const abandonedCart: JourneyDefinition = {
  entry: { event: 'Product Added' },
  goal: { performed: 'Order Completed', within: { days: 3 } },
  start: 'cart',
  nodes: {
    cart: {
      type: 'waitFor',
      performed: 'Order Completed',
      timeout: { hours: 1 },
      next: 'thanks',
      onTimeout: 'reminder',
    },
    reminder: { type: 'email', template: 'cart-reminder', next: 'again' },
    again: {
      type: 'waitFor',
      performed: 'Order Completed',
      timeout: { days: 1 },
      next: 'thanks',
      onTimeout: 'last',
    },
    last: { type: 'email', template: 'cart-last-chance', next: 'done' },
    thanks: { type: 'email', template: 'thanks', next: 'done' },
    done: { type: 'exit' },
  },
}

function run(input: Partial<SimulationInput> & Pick<SimulationInput, 'definition'>) {
  const result = simulate({
    journeyId: 'j1',
    version: 1,
    contact: { traits: {} },
    events: [],
    until: { days: 7 },
    start: START,
    ...input,
  })
  if ('error' in result) throw new Error(result.error.message)
  return result
}

const templates = (result: SimulationResult) => result.wouldSend.map((s) => s.template)

describe('simulating an abandoned cart', () => {
  it('sends the reminder an hour after the product was added when no order comes', () => {
    const result = run({
      definition: abandonedCart,
      events: [{ event: 'Product Added', properties: { sku: 'A1' }, after: { minutes: 5 } }],
    })
    expect(result.entered).toBe(true)
    expect(result.wouldSend).toMatchObject([
      { at: at(5 * MINUTE + HOUR), node: 'reminder', template: 'cart-reminder' },
      { at: at(5 * MINUTE + HOUR + DAY), node: 'last', template: 'cart-last-chance' },
    ])
    // What the template reads: the cart's event, as the contact object keeps it for the run.
    expect(result.wouldSend[0]!.event).toMatchObject({
      event: 'Product Added',
      properties: { sku: 'A1' },
    })
    expect(result.trace).toContainEqual({
      at: at(5 * MINUTE + HOUR),
      node: 'cart',
      type: 'waitFor',
      outcome: 'timed out waiting for Order Completed',
      next: 'reminder',
    })
    expect(result.run).toMatchObject({
      state: 'completed',
      reason: 'exit node',
      converted: false,
      enteredAt: at(5 * MINUTE),
      endedAt: at(5 * MINUTE + HOUR + DAY),
    })
  })

  it('converts the run and sends no reminder when the order comes after 30 minutes', () => {
    const result = run({
      definition: abandonedCart,
      events: [
        { event: 'Product Added', after: {} },
        { event: 'Order Completed', properties: { revenue: 42 }, after: { minutes: 30 } },
      ],
    })
    expect(result.wouldSend).toMatchObject([])
    expect(result.run).toMatchObject({
      state: 'completed',
      converted: true,
      reason: 'goal: Order Completed',
      endedAt: at(30 * MINUTE),
    })
  })

  it('takes the waitFor’s next path when the order is not the journey’s goal', () => {
    const { goal: _none, ...noGoal } = abandonedCart
    const result = run({
      definition: noGoal,
      events: [
        { event: 'Product Added', after: {} },
        { event: 'Order Completed', after: { minutes: 30 } },
      ],
    })
    expect(result.wouldSend).toMatchObject([
      { at: at(30 * MINUTE), node: 'thanks', template: 'thanks' },
    ])
    expect(result.trace).toContainEqual({
      at: at(30 * MINUTE),
      node: 'cart',
      type: 'waitFor',
      outcome: 'Order Completed arrived',
      next: 'thanks',
    })
    expect(result.run).toMatchObject({ state: 'completed', converted: false, reason: 'exit node' })
  })

  it('counts the order made at the very moment the wait times out (an event before a timer)', () => {
    const { goal: _none, ...noGoal } = abandonedCart
    const result = run({
      definition: noGoal,
      events: [
        { event: 'Product Added', after: {} },
        { event: 'Order Completed', after: { hours: 1 } },
      ],
    })
    expect(templates(result)).toEqual(['thanks'])
  })

  it('counts every event’s after from the start of the simulation, not from the event before', () => {
    const result = run({
      definition: abandonedCart,
      events: [
        { event: 'Product Added', after: { hours: 2 } },
        { event: 'Order Completed', after: { hours: 1 } },
      ],
    })
    // The order (1h) came before the product was added (2h): it neither converts nor resumes.
    expect(result.run).toMatchObject({ enteredAt: at(2 * HOUR), converted: false })
    expect(templates(result)).toEqual(['cart-reminder', 'cart-last-chance'])
  })

  it('does not convert a goal reached after its window', () => {
    const result = run({
      definition: abandonedCart,
      events: [
        { event: 'Product Added', after: {} },
        { event: 'Order Completed', after: { days: 3, minutes: 1 } },
      ],
    })
    expect(result.run).toMatchObject({ converted: false, state: 'completed' })
  })

  it('stops at until, the run still waiting', () => {
    const result = run({
      definition: abandonedCart,
      events: [{ event: 'Product Added', after: {} }],
      until: { hours: 2 },
    })
    expect(templates(result)).toEqual(['cart-reminder'])
    expect(result.run).toMatchObject({
      state: 'active',
      node: 'again',
      endedAt: null,
      wakeAt: at(HOUR + DAY),
    })
  })

  it('gives the same answer every time (nothing depends on the real clock or chance)', () => {
    const input = {
      definition: abandonedCart,
      events: [{ event: 'Product Added', after: {} }],
    }
    expect(run(input)).toEqual(run(input))
  })
})

describe('the simulated contact', () => {
  it('a branch reads a trait an earlier updateTraits node set', () => {
    const definition: JourneyDefinition = {
      entry: { api: true },
      start: 'tag',
      nodes: {
        tag: { type: 'updateTraits', traits: { tier: 'gold' }, next: 'pause' },
        pause: { type: 'wait', for: { hours: 1 }, next: 'pick' },
        pick: {
          type: 'branch',
          cases: [{ rule: { trait: 'tier', op: 'eq', value: 'gold' }, next: 'gold' }],
          otherwise: 'plain',
        },
        gold: { type: 'email', template: 'gold-welcome', next: 'done' },
        plain: { type: 'email', template: 'welcome', next: 'done' },
        done: { type: 'exit' },
      },
    }
    const input = { tier: 'silver', name: 'Ada' }
    const result = run({ definition, contact: { traits: input } })
    expect(templates(result)).toEqual(['gold-welcome'])
    expect(result.contact.traits).toEqual({ tier: 'gold', name: 'Ada' })
    expect(input.tier).toBe('silver')
  })

  it('a waitUntil 09:00 waits for nine in the contact’s time zone trait', () => {
    const definition: JourneyDefinition = {
      entry: { api: true },
      start: 'morning',
      nodes: {
        morning: { type: 'waitUntil', time: '09:00', next: 'mail' },
        mail: { type: 'email', template: 'digest', next: 'done' },
        done: { type: 'exit' },
      },
    }
    // 15:00 UTC is 11:00 in New York: nine comes tomorrow, 13:00 UTC.
    const newYork = run({ definition, contact: { traits: { timezone: 'America/New_York' } } })
    expect(newYork.wouldSend).toMatchObject([
      { at: '2026-06-02T13:00:00.000Z', node: 'mail', template: 'digest' },
    ])
    // Without the trait, the zone given for the contact: 09:00 in Paris is 07:00 UTC.
    const paris = run({ definition, contact: { traits: {}, timeZone: 'Europe/Paris' } })
    expect(paris.wouldSend[0]!.at).toBe('2026-06-02T07:00:00.000Z')
    // Neither: UTC.
    expect(run({ definition }).wouldSend[0]!.at).toBe('2026-06-02T09:00:00.000Z')
  })

  it('a track node’s event resumes a waitFor for it', () => {
    const definition: JourneyDefinition = {
      entry: { api: true },
      start: 'note',
      nodes: {
        note: { type: 'track', event: 'Quiz Scored', properties: { score: 9 }, next: 'hold' },
        hold: {
          type: 'waitFor',
          performed: 'Quiz Scored',
          where: [{ property: 'score', op: 'gte', value: 5 }],
          timeout: { days: 1 },
          next: 'praise',
          onTimeout: 'done',
        },
        praise: { type: 'email', template: 'well-done', next: 'done' },
        done: { type: 'exit' },
      },
    }
    const result = run({ definition })
    expect(result.wouldSend).toMatchObject([{ at: at(0), node: 'praise', template: 'well-done' }])
    expect(result.effects[0]).toMatchObject({
      kind: 'track',
      event: 'Quiz Scored',
      properties: { score: 9 },
      at: at(0),
    })
  })

  it('a list node changes the contact’s lists, which exitWhen reads', () => {
    const definition: JourneyDefinition = {
      entry: { api: true },
      exitWhen: { list: 'do-not-contact' },
      start: 'pause',
      nodes: {
        pause: { type: 'wait', for: { hours: 1 }, next: 'leave' },
        leave: { type: 'list', remove: 'prospects', next: 'block' },
        block: { type: 'list', add: 'do-not-contact', next: 'late' },
        late: { type: 'wait', for: { days: 1 }, next: 'mail' },
        mail: { type: 'email', template: 'never', next: 'done' },
        done: { type: 'exit' },
      },
    }
    const result = run({ definition, contact: { traits: {}, lists: ['prospects'] } })
    expect(result.contact.lists).toEqual(['do-not-contact'])
    expect(result.wouldSend).toMatchObject([])
    expect(result.run).toMatchObject({ state: 'exited', reason: 'exitWhen', endedAt: at(HOUR) })
  })

  it('a scripted event that makes exitWhen hold ends the run then', () => {
    const definition: JourneyDefinition = {
      entry: { event: 'Signed Up' },
      exitWhen: { performed: 'Unsubscribed' },
      start: 'pause',
      nodes: {
        pause: { type: 'wait', for: { days: 2 }, next: 'mail' },
        mail: { type: 'email', template: 'tips', next: 'done' },
        done: { type: 'exit' },
      },
    }
    const result = run({
      definition,
      events: [
        { event: 'Signed Up', after: {} },
        { event: 'Unsubscribed', after: { hours: 5 } },
      ],
    })
    expect(result.wouldSend).toMatchObject([])
    expect(result.run).toMatchObject({ state: 'exited', reason: 'exitWhen', endedAt: at(5 * HOUR) })
  })

  it('skips and logs a webhook the contact has not consented to, and goes on', () => {
    const definition: JourneyDefinition = {
      entry: { api: true },
      start: 'hook',
      nodes: {
        hook: { type: 'webhook', url: 'https://crm.example/h', purpose: 'marketing', next: 'mail' },
        mail: { type: 'email', template: 'hello', next: 'done' },
        done: { type: 'exit' },
      },
    }
    const refused = run({ definition, contact: { traits: {}, consent: { marketing: false } } })
    expect(refused.effects.map((e) => e.kind)).toEqual(['email'])
    expect(refused.trace).toContainEqual(
      expect.objectContaining({ node: 'hook', outcome: 'skipped: no marketing consent' }),
    )
    const granted = run({ definition, contact: { traits: {}, consent: { marketing: true } } })
    expect(granted.effects.map((e) => e.kind)).toEqual(['webhook', 'email'])
  })

  it('branches on the predictions given for the contact', () => {
    const definition: JourneyDefinition = {
      entry: { api: true },
      start: 'risk',
      nodes: {
        risk: {
          type: 'branch',
          cases: [{ rule: { prediction: 'churnRisk', op: 'gte', value: 0.7 }, next: 'save' }],
          otherwise: 'done',
        },
        save: { type: 'email', template: 'win-back', next: 'done' },
        done: { type: 'exit' },
      },
    }
    expect(
      templates(run({ definition, contact: { traits: {}, predictions: { churnRisk: 0.9 } } })),
    ).toEqual(['win-back'])
    expect(templates(run({ definition }))).toEqual([])
  })
})

describe('segment entry', () => {
  const bigSpender: Rule = {
    performed: 'Order Completed',
    where: [{ property: 'revenue', op: 'gte', value: 100 }],
  }
  const active: Rule = { performed: 'Session Started', within: { days: 7 } }
  const segments = (id: string) => ({ 'big-spenders': bigSpender, active })[id]
  const welcome: JourneyDefinition['nodes'] = {
    mail: { type: 'email', template: 'vip', next: 'done' },
    done: { type: 'exit' },
  }

  it('enters at the first moment the segment’s rule holds', () => {
    const result = run({
      definition: {
        entry: { segment: 'big-spenders', on: 'enter' },
        start: 'mail',
        nodes: welcome,
      },
      segments,
      events: [
        { event: 'Order Completed', properties: { revenue: 50 }, after: { hours: 1 } },
        { event: 'Order Completed', properties: { revenue: 150 }, after: { days: 2 } },
      ],
    })
    expect(result.run).toMatchObject({ enteredAt: at(2 * DAY), state: 'completed' })
    expect(result.wouldSend).toMatchObject([{ at: at(2 * DAY), node: 'mail', template: 'vip' }])
  })

  it('enters at the start when the contact is already in the segment', () => {
    const result = run({
      definition: { entry: { segment: 'vip', on: 'enter' }, start: 'mail', nodes: welcome },
      segments: (id) => (id === 'vip' ? { trait: 'plan', op: 'eq', value: 'vip' } : undefined),
      contact: { traits: { plan: 'vip' } },
    })
    expect(result.run?.enteredAt).toBe(at(0))
  })

  it('on exit: enters when the contact leaves the segment, as its time window closes', () => {
    const result = run({
      definition: { entry: { segment: 'active', on: 'exit' }, start: 'mail', nodes: welcome },
      segments,
      events: [{ event: 'Session Started', after: { days: 1 } }],
      until: { days: 30 },
    })
    // In the segment from day 1; out of it just after day 8, with no new event.
    expect(result.run?.enteredAt).toBe(at(8 * DAY + 1))
  })

  it('on exit: does not enter a contact who was never in the segment', () => {
    const result = run({
      definition: { entry: { segment: 'active', on: 'exit' }, start: 'mail', nodes: welcome },
      segments,
      until: { days: 30 },
    })
    expect(result.entered).toBe(false)
    expect(result.reason).toBe('the contact never was in segment active, so never left it')
  })
})

describe('when nothing is entered', () => {
  const priced: JourneyDefinition = {
    ...abandonedCart,
    entry: { event: 'Product Added', where: [{ property: 'price', op: 'gte', value: 20 }] },
  }

  it('says the entry event never matched its conditions', () => {
    const result = run({
      definition: priced,
      events: [{ event: 'Product Added', properties: { price: 5 }, after: {} }],
    })
    expect(result).toMatchObject({
      entered: false,
      run: null,
      trace: [],
      wouldSend: [],
      reason: "no scripted Product Added event met the entry's conditions",
    })
  })

  it('says the entry event was never scripted', () => {
    const result = run({ definition: priced, events: [{ event: 'Page Viewed', after: {} }] })
    expect(result.reason).toBe("no scripted Product Added event (the journey's entry)")
  })

  it('says the entry event comes after until', () => {
    const result = run({
      definition: priced,
      events: [{ event: 'Product Added', properties: { price: 50 }, after: { days: 9 } }],
    })
    expect(result.reason).toBe('Product Added is scripted after until')
  })

  it('says the contact never joined the entry segment, or that it is unknown', () => {
    const definition: JourneyDefinition = {
      entry: { segment: 'vip', on: 'enter' },
      start: 'done',
      nodes: { done: { type: 'exit' } },
    }
    const rule: Rule = { trait: 'plan', op: 'eq', value: 'vip' }
    expect(run({ definition, segments: () => rule }).reason).toBe(
      'the contact never was in segment vip',
    )
    expect(run({ definition }).reason).toBe('segment vip is unknown')
  })
})

describe('the guards', () => {
  const error = (result: SimulationResult | SimulationError) =>
    'error' in result ? result.error.code : null

  it('refuses an until over 365 days', () => {
    const base = { journeyId: 'j1', version: 1, contact: { traits: {} }, events: [], start: START }
    expect(error(simulate({ ...base, definition: abandonedCart, until: { days: 366 } }))).toBe(
      'until_out_of_range',
    )
    expect(error(simulate({ ...base, definition: abandonedCart, until: { days: 365 } }))).toBe(null)
  })

  it(`refuses a simulation of more than ${MAX_SIMULATED_STEPS} steps`, () => {
    const definition: JourneyDefinition = {
      entry: { api: true },
      start: 'tick',
      nodes: {
        tick: { type: 'wait', for: { minutes: 1 }, next: 'note' },
        note: { type: 'track', event: 'Tick', next: 'tick' },
      },
    }
    const result = simulate({
      definition,
      journeyId: 'j1',
      version: 1,
      contact: { traits: {} },
      events: [],
      until: { days: 1 },
      start: START,
    })
    expect(error(result)).toBe('too_many_steps')
  })
})
