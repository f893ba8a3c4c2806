import { describe, expect, it } from 'vitest'
import { evaluate } from '../segments/evaluate'
import type { ContactFacts } from '../segments/facts'
import type { JourneyDefinition } from './definition'
import { enter, observe, type Effect, type StepContext } from './engine'

/** Behaviour engine.ts once got wrong (found by the engine's tests on issue #24). */

const T0 = Date.parse('2026-06-01T10:00:00Z')
const HOUR = 3_600_000
const init = { id: 'run_1', journeyId: 'j1', version: 1 }

/**
 * A contact whose traits a host changes "there and then" (docs/design/journeys.md): `apply` is
 * the proposed hook through which the engine hands a contact-changing effect to the host as the
 * node runs, so the nodes after it see the contact as changed.
 */
function changingContact(traits: Record<string, unknown>): StepContext & {
  apply(effect: Effect): void
} {
  const facts: ContactFacts = {
    key: 'user:1',
    traits,
    events: () => [],
    consent: () => null,
    inList: () => false,
    accounts: () => [],
    messages: () => [],
    subscribed: () => null,
    journeyStates: () => [],
    prediction: () => null,
  }
  return {
    now: T0,
    matches: (rule) => evaluate(rule, facts, T0, () => undefined),
    timeZone: 'UTC',
    consent: () => true,
    winner: () => undefined,
    nextBestAction: () => null,
    apply(effect) {
      if (effect.kind === 'updateTraits') Object.assign(traits, effect.traits)
    },
  }
}

describe('engine regressions', () => {
  it('a branch right after updateTraits sees the trait it set', () => {
    const def: JourneyDefinition = {
      entry: { event: 'Order Completed' },
      start: 'tier',
      nodes: {
        tier: { type: 'updateTraits', traits: { tier: 'gold' }, next: 'b' },
        b: {
          type: 'branch',
          cases: [{ rule: { trait: 'tier', op: 'eq', value: 'gold' }, next: 'gold' }],
          otherwise: 'other',
        },
        gold: { type: 'email', template: 'welcome-gold', next: 'done' },
        other: { type: 'email', template: 'generic', next: 'done' },
        done: { type: 'exit' },
      },
    }
    const advance = enter(def, init, changingContact({}))
    expect(advance.steps.find((s) => s.node === 'b')?.next).toBe('gold')
  })

  it('the loop guard asks for no node’s effect twice (a loop of an email sends one at most)', () => {
    const def: JourneyDefinition = {
      entry: { event: 'Signed Up' },
      start: 'mail',
      nodes: {
        mail: { type: 'email', template: 'welcome', next: 'again' },
        again: {
          type: 'branch',
          cases: [{ rule: { trait: 'never', op: 'exists' }, next: 'done' }],
          otherwise: 'mail',
        },
        done: { type: 'exit' },
      },
    }
    const advance = enter(def, init, changingContact({}))
    expect(advance.run.reason).toBe('loop without a wait')
    expect(advance.effects.filter((e) => e.kind === 'email').length).toBeLessThanOrEqual(1)
  })

  it('an event after a waitFor’s timeout (its alarm late) takes onTimeout, not next', () => {
    const def: JourneyDefinition = {
      entry: { event: 'Product Added' },
      start: 'cart',
      nodes: {
        cart: {
          type: 'waitFor',
          performed: 'Order Completed',
          timeout: { hours: 1 },
          next: 'thanks',
          onTimeout: 'reminder',
        },
        thanks: { type: 'email', template: 'thanks', next: 'done' },
        reminder: { type: 'email', template: 'reminder', next: 'done' },
        done: { type: 'exit' },
      },
    }
    const { run } = enter(def, init, changingContact({}))
    const later = T0 + 2 * HOUR
    const ctx = { ...changingContact({}), now: later }
    const order = { id: 'e1', name: 'Order Completed', at: later, properties: {} }
    const advance = observe(def, run, order, ctx)
    expect(advance.effects.map((e) => (e.kind === 'email' ? e.template : e.kind))).not.toContain(
      'thanks',
    )
  })
})
