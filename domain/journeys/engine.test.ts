import { describe, expect, it } from 'vitest'
import type { Purpose } from '../consent'
import { evaluate } from '../segments/evaluate'
import type { ContactFacts } from '../segments/facts'
import type { Rule } from '../segments/rule'
import type { JourneyDefinition, JourneyNode } from './definition'
import {
  checkExit,
  enter,
  entryMatches,
  MAX_STEPS_PER_ADVANCE,
  mayEnter,
  observe,
  pickVersion,
  stop,
  wake,
  type Advance,
  type Effect,
  type JourneyEvent,
  type Run,
  type StepContext,
} from './engine'

// Monday 1 June 2026, 10:00 UTC.
const T0 = Date.parse('2026-06-01T10:00:00Z')
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** The contact as the engine sees it: traits answer branch rules through the segment evaluator. */
function context(
  options: {
    now?: number
    traits?: Record<string, unknown>
    timeZone?: string
    consent?: Partial<Record<Purpose, boolean>>
    winners?: Record<string, string>
    nextBestAction?: string | null
  } = {},
): StepContext {
  const facts: ContactFacts = {
    key: 'user:1',
    traits: options.traits ?? {},
    events: () => [],
    consent: (purpose) => options.consent?.[purpose] ?? null,
    inList: () => false,
    accounts: () => [],
    messages: () => [],
    subscribed: () => null,
    journeyStates: () => [],
    prediction: () => null,
  }
  const now = options.now ?? T0
  return {
    now,
    matches: (rule) => evaluate(rule, facts, now, () => undefined),
    timeZone: options.timeZone ?? 'UTC',
    consent: (purpose) => options.consent?.[purpose] === true,
    winner: (node) => options.winners?.[node],
    nextBestAction: () => options.nextBestAction ?? null,
  }
}

function journey(
  nodes: Record<string, JourneyNode>,
  extra: Partial<JourneyDefinition> = {},
): JourneyDefinition {
  return { entry: { event: 'Signed Up' }, start: Object.keys(nodes)[0]!, nodes, ...extra }
}

const init = { id: 'run_1', journeyId: 'j1', version: 1 }

function event(name: string, at: number, properties: Record<string, unknown> = {}): JourneyEvent {
  return { id: `e_${name}_${at}`, name, at, properties }
}

/** The nodes the run executed, in order (the final end line of a finished run aside). */
function path(advance: Advance): string[] {
  return advance.steps.filter((s) => s.type !== 'exit' || s.outcome === 'exit').map((s) => s.node)
}

const emails = (advance: Advance) =>
  advance.effects.filter((e): e is Extract<Effect, { kind: 'email' }> => e.kind === 'email')

const unchanged = (advance: Advance, run: Run) => {
  expect(advance.run).toBe(run)
  expect(advance.effects).toEqual([])
  expect(advance.steps).toEqual([])
}

describe('entering', () => {
  it('starts at the start node, logs the version entered and keeps data and trigger', () => {
    const def = journey({
      hello: { type: 'email', template: 'welcome', next: 'bye' },
      bye: { type: 'exit' },
    })
    const advance = enter(
      def,
      { ...init, data: { coupon: 'X' }, trigger: { event: 'Signed Up' } },
      context(),
    )
    expect(advance.steps[0]).toMatchObject({ at: T0, node: 'hello', outcome: 'entered version 1' })
    expect(advance.run).toMatchObject({
      id: 'run_1',
      journeyId: 'j1',
      version: 1,
      enteredAt: T0,
      data: { coupon: 'X' },
      trigger: { event: 'Signed Up' },
    })
  })
})

describe('wait', () => {
  const def = journey({
    w: { type: 'wait', for: { hours: 2 }, next: 'mail' },
    mail: { type: 'email', template: 'day-two', next: 'done' },
    done: { type: 'exit' },
  })

  it('holds the run for its duration', () => {
    const { run, effects } = enter(def, init, context())
    expect(run).toMatchObject({ state: 'active', node: 'w', wakeAt: T0 + 2 * HOUR })
    expect(effects).toEqual([])
  })

  it('does not give way before its time', () => {
    const { run } = enter(def, init, context())
    unchanged(wake(def, run, context({ now: T0 + 2 * HOUR - 1 })), run)
  })

  it('goes on to its next node when its time comes', () => {
    const { run } = enter(def, init, context())
    const woken = wake(def, run, context({ now: T0 + 2 * HOUR }))
    expect(emails(woken).map((e) => e.template)).toEqual(['day-two'])
    expect(woken.run).toMatchObject({ state: 'completed', reason: 'exit node', wakeAt: null })
    expect(woken.steps[0]).toMatchObject({ node: 'w', outcome: 'wait over', next: 'mail' })
  })

  it('a second wake for the same timer changes nothing (a repeated alarm sends no second email)', () => {
    const { run } = enter(def, init, context())
    const first = wake(def, run, context({ now: T0 + 2 * HOUR }))
    unchanged(wake(def, first.run, context({ now: T0 + 2 * HOUR })), first.run)
    unchanged(wake(def, first.run, context({ now: T0 + 3 * HOUR })), first.run)
  })

  it('a second wake while the run waits at the next wait changes nothing', () => {
    const twice = journey({
      a: { type: 'wait', for: { hours: 1 }, next: 'b' },
      b: { type: 'wait', for: { days: 1 }, next: 'done' },
      done: { type: 'exit' },
    })
    const { run } = enter(twice, init, context())
    const first = wake(twice, run, context({ now: T0 + HOUR }))
    expect(first.run).toMatchObject({ node: 'b', wakeAt: T0 + HOUR + DAY })
    unchanged(wake(twice, first.run, context({ now: T0 + HOUR })), first.run)
  })
})

describe('waitUntil', () => {
  it('waits for the time in a named zone', () => {
    const def = journey({
      w: { type: 'waitUntil', time: '09:00', timezone: 'Europe/Paris', next: 'done' },
      done: { type: 'exit' },
    })
    // 10:00 UTC is 12:00 in Paris: nine o'clock comes tomorrow, 07:00 UTC.
    const { run } = enter(def, init, context({ timeZone: 'America/New_York' }))
    expect(run.wakeAt).toBe(Date.parse('2026-06-02T07:00:00Z'))
  })

  it('waits for the time in the contact’s zone when none is named', () => {
    const def = journey({
      w: { type: 'waitUntil', time: '09:00', next: 'done' },
      done: { type: 'exit' },
    })
    // 10:00 UTC is 06:00 in New York: nine o'clock comes today, 13:00 UTC.
    const { run } = enter(def, init, context({ timeZone: 'America/New_York' }))
    expect(run.wakeAt).toBe(Date.parse('2026-06-01T13:00:00Z'))
  })

  it('waits for the next named day in the contact’s zone ("contact")', () => {
    const def = journey({
      w: { type: 'waitUntil', time: '09:00', days: ['sat'], timezone: 'contact', next: 'done' },
      done: { type: 'exit' },
    })
    const { run } = enter(def, init, context({ timeZone: 'Asia/Tokyo' }))
    // Saturday 6 June, 09:00 in Tokyo (+09:00).
    expect(run.wakeAt).toBe(Date.parse('2026-06-06T00:00:00Z'))
    const woken = wake(def, run, context({ now: run.wakeAt! }))
    expect(woken.run).toMatchObject({ state: 'completed', reason: 'exit node' })
  })
})

describe('waitFor', () => {
  const def = journey({
    cart: {
      type: 'waitFor',
      performed: 'Order Completed',
      where: [{ property: 'revenue', op: 'gt', value: 0 }],
      timeout: { hours: 1 },
      next: 'thanks',
      onTimeout: 'reminder',
    },
    thanks: { type: 'email', template: 'thanks', next: 'done' },
    reminder: { type: 'email', template: 'reminder', next: 'done' },
    done: { type: 'exit' },
  })

  it('holds the run until its timeout', () => {
    const { run } = enter(def, init, context())
    expect(run).toMatchObject({ state: 'active', node: 'cart', wakeAt: T0 + HOUR })
  })

  it('is resumed down next by an event that matches its name and where', () => {
    const { run } = enter(def, init, context())
    const now = T0 + 30 * MINUTE
    const resumed = observe(
      def,
      run,
      event('Order Completed', now, { revenue: 40 }),
      context({ now }),
    )
    expect(emails(resumed).map((e) => e.template)).toEqual(['thanks'])
    expect(resumed.steps[0]).toMatchObject({
      node: 'cart',
      outcome: 'Order Completed arrived',
      next: 'thanks',
    })
  })

  it('is not resumed by an event of another name', () => {
    const { run } = enter(def, init, context())
    const now = T0 + 30 * MINUTE
    unchanged(
      observe(def, run, event('Product Added', now, { revenue: 40 }), context({ now })),
      run,
    )
  })

  it('is not resumed by the event when its where does not hold', () => {
    const { run } = enter(def, init, context())
    const now = T0 + 30 * MINUTE
    unchanged(
      observe(def, run, event('Order Completed', now, { revenue: 0 }), context({ now })),
      run,
    )
    unchanged(observe(def, run, event('Order Completed', now), context({ now })), run)
  })

  it('goes down onTimeout when its timeout comes (wake)', () => {
    const { run } = enter(def, init, context())
    const timedOut = wake(def, run, context({ now: T0 + HOUR }))
    expect(emails(timedOut).map((e) => e.template)).toEqual(['reminder'])
    expect(timedOut.steps[0]).toMatchObject({
      node: 'cart',
      outcome: 'timed out waiting for Order Completed',
      next: 'reminder',
    })
  })

  it('ignores the event once the timeout has moved the run on', () => {
    const { run } = enter(def, init, context())
    const timedOut = wake(def, run, context({ now: T0 + HOUR }))
    const now = T0 + 2 * HOUR
    unchanged(
      observe(def, timedOut.run, event('Order Completed', now, { revenue: 40 }), context({ now })),
      timedOut.run,
    )
  })
})

describe('branch', () => {
  const def = journey({
    b: {
      type: 'branch',
      cases: [
        { rule: { trait: 'plan', op: 'eq', value: 'pro' }, next: 'pro' },
        { rule: { trait: 'seats', op: 'gte', value: 10 }, next: 'team' },
      ],
      otherwise: 'free',
    },
    pro: { type: 'email', template: 'pro', next: 'done' },
    team: { type: 'email', template: 'team', next: 'done' },
    free: { type: 'email', template: 'free', next: 'done' },
    done: { type: 'exit' },
  })
  const templateFor = (traits: Record<string, unknown>) =>
    emails(enter(def, init, context({ traits }))).map((e) => e.template)

  it('takes the first case whose rule holds', () => {
    expect(templateFor({ plan: 'pro', seats: 50 })).toEqual(['pro'])
    expect(templateFor({ plan: 'basic', seats: 50 })).toEqual(['team'])
  })

  it('takes otherwise when no case holds', () => {
    expect(templateFor({ plan: 'basic', seats: 2 })).toEqual(['free'])
    const advance = enter(def, init, context())
    expect(advance.steps[1]).toMatchObject({ node: 'b', outcome: 'no case matched: otherwise' })
  })
})

describe('split', () => {
  const def = journey({
    s: {
      type: 'split',
      paths: [
        { weight: 70, next: 'a' },
        { weight: 20, next: 'b' },
        { weight: 10, next: 'c' },
      ],
    },
    a: { type: 'exit' },
    b: { type: 'exit' },
    c: { type: 'exit' },
  })
  const pathOf = (id: string) => enter(def, { ...init, id }, context()).run.node

  it('sends a run down the same path every time (a hash of its id)', () => {
    for (const id of ['run_a', 'run_b', 'run_c', 'run_d']) expect(pathOf(id)).toBe(pathOf(id))
  })

  it('shares 10,000 runs by the weights, each within 2 percentage points', () => {
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 }
    for (let i = 0; i < 10_000; i++) counts[pathOf(`run_${i}`)]!++
    expect(Math.abs(counts.a! / 10_000 - 0.7)).toBeLessThan(0.02)
    expect(Math.abs(counts.b! / 10_000 - 0.2)).toBeLessThan(0.02)
    expect(Math.abs(counts.c! / 10_000 - 0.1)).toBeLessThan(0.02)
  })

  it('never takes a path of weight zero', () => {
    const zero = journey({
      s: {
        type: 'split',
        paths: [
          { weight: 0, next: 'a' },
          { weight: 1, next: 'b' },
        ],
      },
      a: { type: 'exit' },
      b: { type: 'exit' },
    })
    for (let i = 0; i < 200; i++) {
      expect(enter(zero, { ...init, id: `run_${i}` }, context()).run.node).toBe('b')
    }
  })
})

describe('experiment', () => {
  const def = journey({
    x: {
      type: 'experiment',
      minPerPath: 100,
      paths: [
        { name: 'A', weight: 1, next: 'a' },
        { name: 'B', weight: 1, next: 'b' },
      ],
    },
    a: { type: 'email', template: 'subject-a', next: 'done' },
    b: { type: 'email', template: 'subject-b', next: 'done' },
    done: { type: 'exit' },
  })

  it('records the path each run took in run.paths', () => {
    const taken = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const advance = enter(def, { ...init, id: `run_${i}` }, context())
      const name = advance.run.paths.x!
      taken.add(name)
      expect(emails(advance)[0]!.template).toBe(name === 'A' ? 'subject-a' : 'subject-b')
    }
    expect(taken).toEqual(new Set(['A', 'B']))
  })

  it('sends everyone down a declared winner', () => {
    for (let i = 0; i < 50; i++) {
      const advance = enter(def, { ...init, id: `run_${i}` }, context({ winners: { x: 'B' } }))
      expect(advance.run.paths).toEqual({ x: 'B' })
      expect(emails(advance)[0]!.template).toBe('subject-b')
      expect(advance.steps[1]).toMatchObject({ node: 'x', outcome: 'winner B' })
    }
  })
})

describe('effects', () => {
  const def = journey({
    mail: { type: 'email', template: 'welcome', subscriptionGroup: 'news', next: 'hook' },
    hook: {
      type: 'webhook',
      url: 'https://crm.example/hooks',
      body: { plan: 'pro' },
      purpose: 'marketing',
      next: 'support',
    },
    support: {
      type: 'ticket',
      subject: 'Call them',
      body: 'They signed up',
      purpose: 'personalization',
      next: 'traits',
    },
    traits: { type: 'updateTraits', traits: { onboarded: true }, next: 'join' },
    join: { type: 'list', add: 'onboarded', next: 'leave' },
    leave: { type: 'list', remove: 'prospects', next: 'note' },
    note: { type: 'track', event: 'Onboarding Started', next: 'done' },
    done: { type: 'exit' },
  })
  const consenting = { marketing: true, personalization: true }

  it('asks for each node’s effect, keyed <run>:<step>', () => {
    const advance = enter(def, init, context({ consent: consenting }))
    expect(advance.effects).toEqual([
      {
        kind: 'email',
        node: 'mail',
        idempotencyKey: 'run_1:1',
        template: 'welcome',
        subscriptionGroup: 'news',
      },
      {
        kind: 'webhook',
        node: 'hook',
        idempotencyKey: 'run_1:2',
        url: 'https://crm.example/hooks',
        method: 'POST',
        body: { plan: 'pro' },
      },
      {
        kind: 'ticket',
        node: 'support',
        idempotencyKey: 'run_1:3',
        subject: 'Call them',
        body: 'They signed up',
      },
      { kind: 'updateTraits', node: 'traits', traits: { onboarded: true } },
      { kind: 'list', node: 'join', listId: 'onboarded', member: true },
      { kind: 'list', node: 'leave', listId: 'prospects', member: false },
      { kind: 'track', node: 'note', event: 'Onboarding Started', properties: {} },
    ])
    expect(advance.run).toMatchObject({ state: 'completed', reason: 'exit node', steps: 8 })
  })

  it('gives the same idempotency keys when the same change is replayed', () => {
    const keys = (a: Advance) =>
      a.effects.map((e) => ('idempotencyKey' in e ? e.idempotencyKey : null))
    const first = enter(def, init, context({ consent: consenting }))
    const replay = enter(def, init, context({ consent: consenting }))
    expect(keys(replay)).toEqual(keys(first))

    const waiting = journey({
      w: { type: 'wait', for: { days: 1 }, next: 'mail' },
      mail: { type: 'email', template: 'day-two', next: 'done' },
      done: { type: 'exit' },
    })
    const { run } = enter(waiting, init, context())
    // An alarm whose transaction did not commit runs again against the same stored run.
    const once = wake(waiting, run, context({ now: T0 + DAY }))
    const again = wake(waiting, run, context({ now: T0 + DAY + 5 * MINUTE }))
    expect(emails(once)[0]!.idempotencyKey).toBe('run_1:2')
    expect(emails(again)[0]!.idempotencyKey).toBe('run_1:2')
  })

  it('defaults a webhook to POST with no body', () => {
    const bare = journey({
      hook: { type: 'webhook', url: 'https://crm.example/hooks', next: 'done' },
      done: { type: 'exit' },
    })
    expect(enter(bare, init, context()).effects[0]).toMatchObject({ method: 'POST', body: null })
  })

  it('skips and logs a webhook or ticket without the consent its purpose names, and goes on', () => {
    const advance = enter(def, init, context({ consent: { marketing: false } }))
    expect(advance.effects.map((e) => e.kind)).toEqual([
      'email',
      'updateTraits',
      'list',
      'list',
      'track',
    ])
    expect(advance.steps.find((s) => s.node === 'hook')).toMatchObject({
      outcome: 'skipped: no marketing consent',
      next: 'support',
    })
    expect(advance.steps.find((s) => s.node === 'support')).toMatchObject({
      outcome: 'skipped: no personalization consent',
      next: 'traits',
    })
    expect(advance.run).toMatchObject({ state: 'completed', reason: 'exit node' })
  })

  it('sends a webhook that names no purpose whatever the consent', () => {
    const open = journey({
      hook: { type: 'webhook', url: 'https://crm.example/hooks', next: 'done' },
      done: { type: 'exit' },
    })
    expect(enter(open, init, context({ consent: {} })).effects.map((e) => e.kind)).toEqual([
      'webhook',
    ])
  })

  it('passes a track node’s properties on', () => {
    const tracked = journey({
      t: { type: 'track', event: 'Coupon Issued', properties: { code: 'W10' }, next: 'done' },
      done: { type: 'exit' },
    })
    expect(enter(tracked, init, context()).effects[0]).toEqual({
      kind: 'track',
      node: 't',
      event: 'Coupon Issued',
      properties: { code: 'W10' },
    })
  })
})

describe('nextBestAction', () => {
  const def = journey({
    nba: {
      type: 'nextBestAction',
      actions: [
        { action: 'discount', next: 'coupon' },
        { action: 'content', next: 'guide' },
      ],
      otherwise: 'generic',
    },
    coupon: { type: 'email', template: 'coupon', next: 'done' },
    guide: { type: 'email', template: 'guide', next: 'done' },
    generic: { type: 'email', template: 'generic', next: 'done' },
    done: { type: 'exit' },
  })
  const templateFor = (action: string | null) =>
    emails(enter(def, init, context({ nextBestAction: action })))[0]!.template

  it('takes the path named for the contact’s next-best-action', () => {
    expect(templateFor('discount')).toBe('coupon')
    expect(templateFor('content')).toBe('guide')
  })

  it('takes otherwise when there is none or it has no path', () => {
    expect(templateFor(null)).toBe('generic')
    expect(templateFor('call')).toBe('generic')
  })
})

describe('exit', () => {
  it('completes the run at the exit node', () => {
    const def = journey({ done: { type: 'exit' } })
    const advance = enter(def, init, context())
    expect(advance.run).toMatchObject({
      state: 'completed',
      node: 'done',
      reason: 'exit node',
      endedAt: T0,
      converted: false,
      wakeAt: null,
    })
  })

  it('exits a run sent to a node that does not exist', () => {
    const def = journey({ w: { type: 'email', template: 'x', next: 'nowhere' } })
    expect(enter(def, init, context()).run).toMatchObject({
      state: 'exited',
      reason: 'unknown node nowhere',
    })
  })

  it('exits a waiting run whose node no longer exists when its timer comes', () => {
    const def = journey({
      w: { type: 'wait', for: { hours: 1 }, next: 'done' },
      done: { type: 'exit' },
    })
    const { run } = enter(def, init, context())
    const { w: _gone, ...rest } = def.nodes
    const changed = { ...def, nodes: rest }
    expect(wake(changed, run, context({ now: T0 + HOUR })).run).toMatchObject({
      state: 'exited',
      reason: 'node w no longer exists',
    })
  })
})

describe('goal', () => {
  const def = journey(
    {
      w: { type: 'wait', for: { days: 3 }, next: 'mail' },
      mail: { type: 'email', template: 'nudge', next: 'done' },
      done: { type: 'exit' },
    },
    {
      goal: {
        performed: 'Order Completed',
        where: [{ property: 'revenue', op: 'gt', value: 0 }],
        within: { days: 2 },
      },
    },
  )

  it('ends the run as converted when reached within its window', () => {
    const { run } = enter(def, init, context())
    const now = T0 + DAY
    const reached = observe(
      def,
      run,
      event('Order Completed', now, { revenue: 9 }),
      context({ now }),
    )
    expect(reached.run).toMatchObject({
      state: 'completed',
      converted: true,
      reason: 'goal: Order Completed',
      endedAt: now,
      wakeAt: null,
    })
    expect(reached.effects).toEqual([])
    unchanged(wake(def, reached.run, context({ now: T0 + 3 * DAY })), reached.run)
  })

  it('counts a goal reached at the very end of its window', () => {
    const { run } = enter(def, init, context())
    const now = T0 + 2 * DAY
    const reached = observe(
      def,
      run,
      event('Order Completed', now, { revenue: 9 }),
      context({ now }),
    )
    expect(reached.run.converted).toBe(true)
  })

  it('does not convert a run when the goal comes too late', () => {
    const { run } = enter(def, init, context())
    const now = T0 + 2 * DAY + 1
    unchanged(
      observe(def, run, event('Order Completed', now, { revenue: 9 }), context({ now })),
      run,
    )
  })

  it('does not count an event stamped before the run entered', () => {
    const { run } = enter(def, init, context())
    const late = event('Order Completed', T0 - MINUTE, { revenue: 9 })
    unchanged(observe(def, run, late, context({ now: T0 + MINUTE })), run)
  })

  it('does not count an event whose properties miss the goal’s where', () => {
    const { run } = enter(def, init, context())
    const now = T0 + DAY
    unchanged(
      observe(def, run, event('Order Completed', now, { revenue: 0 }), context({ now })),
      run,
    )
  })
})

describe('exitWhen', () => {
  const def = journey(
    {
      w: { type: 'wait', for: { days: 3 }, next: 'done' },
      done: { type: 'exit' },
    },
    { exitWhen: { trait: 'unsubscribed', op: 'eq', value: true } },
  )

  it('ends the run as exited once its rule holds', () => {
    const { run } = enter(def, init, context())
    const now = T0 + HOUR
    const left = checkExit(def, run, context({ now, traits: { unsubscribed: true } }))
    expect(left.run).toMatchObject({ state: 'exited', reason: 'exitWhen', endedAt: now })
  })

  it('keeps the run while its rule does not hold', () => {
    const { run } = enter(def, init, context())
    unchanged(checkExit(def, run, context({ traits: { unsubscribed: false } })), run)
  })

  it('does nothing for a journey without one', () => {
    const plain = journey({
      w: { type: 'wait', for: { days: 3 }, next: 'done' },
      done: { type: 'exit' },
    })
    const { run } = enter(plain, init, context())
    unchanged(checkExit(plain, run, context({ traits: { unsubscribed: true } })), run)
  })
})

describe('stop', () => {
  it('exits an active run with the reason given, and leaves an ended one alone', () => {
    const def = journey({
      w: { type: 'wait', for: { days: 3 }, next: 'done' },
      done: { type: 'exit' },
    })
    const { run } = enter(def, init, context())
    const stopped = stop(run, 'api', T0 + HOUR)
    expect(stopped.run).toMatchObject({ state: 'exited', reason: 'api', endedAt: T0 + HOUR })
    unchanged(stop(stopped.run, 'api', T0 + 2 * HOUR), stopped.run)
  })
})

describe('entryMatches', () => {
  it('accepts an event of the entry’s name whose properties meet its where', () => {
    const entry = {
      event: 'Product Added',
      where: [{ property: 'price', op: 'gte' as const, value: 20 }],
    }
    expect(entryMatches(entry, event('Product Added', T0, { price: 25 }))).toBe(true)
    expect(entryMatches(entry, event('Product Added', T0, { price: 5 }))).toBe(false)
    expect(entryMatches(entry, event('Product Viewed', T0, { price: 25 }))).toBe(false)
  })

  it('never starts a segment or API journey on an event', () => {
    expect(entryMatches({ api: true }, event('Signed Up', T0))).toBe(false)
    expect(entryMatches({ segment: 'vip', on: 'enter' }, event('Segment Entered', T0))).toBe(false)
  })
})

describe('mayEnter', () => {
  const ended = { state: 'completed' as const, enteredAt: T0, endedAt: T0 + HOUR }
  const active = { state: 'active' as const, enteredAt: T0, endedAt: null }

  it('lets anyone in the first time', () => {
    expect(mayEnter(undefined, [], T0)).toBe(true)
    expect(mayEnter('never', [], T0)).toBe(true)
  })

  it('never: one run per contact, ever (the default)', () => {
    expect(mayEnter('never', [ended], T0 + 30 * DAY)).toBe(false)
    expect(mayEnter(undefined, [ended], T0 + 30 * DAY)).toBe(false)
  })

  it('after_exit: again once the earlier run has ended, never twice at once', () => {
    expect(mayEnter('after_exit', [active], T0 + DAY)).toBe(false)
    expect(mayEnter('after_exit', [ended], T0 + 2 * HOUR)).toBe(true)
  })

  it('{after}: again once that long has passed since the last entry', () => {
    const rule = { after: { days: 7 } }
    const later = { state: 'exited' as const, enteredAt: T0 + DAY, endedAt: T0 + 2 * DAY }
    expect(mayEnter(rule, [ended, later], T0 + 7 * DAY)).toBe(false)
    expect(mayEnter(rule, [ended, later], T0 + 8 * DAY - 1)).toBe(false)
    expect(mayEnter(rule, [ended, later], T0 + 8 * DAY)).toBe(true)
    expect(mayEnter(rule, [{ ...active, enteredAt: T0 - 30 * DAY }], T0)).toBe(false)
  })
})

describe('pickVersion', () => {
  const live = [
    { version: 3, weight: 80 },
    { version: 4, weight: 20 },
  ]

  it('gives a contact the same version every time', () => {
    for (let i = 0; i < 20; i++) {
      const key = `user:${i}`
      expect(pickVersion(live, key, 'j1')).toBe(pickVersion(live, key, 'j1'))
    }
  })

  it('shares 10,000 contacts by the weights, within 2 percentage points', () => {
    let four = 0
    for (let i = 0; i < 10_000; i++) if (pickVersion(live, `user:${i}`, 'j1') === 4) four++
    expect(Math.abs(four / 10_000 - 0.2)).toBeLessThan(0.02)
  })

  it('gives everyone the one live version', () => {
    expect(pickVersion([{ version: 7, weight: 1 }], 'user:1', 'j1')).toBe(7)
  })
})

describe('the loop guard', () => {
  it('exits a run caught in a loop without a wait after a bounded number of steps', () => {
    const rule: Rule = { trait: 'never', op: 'exists' }
    const def = journey({
      a: { type: 'branch', cases: [{ rule, next: 'done' }], otherwise: 'b' },
      b: { type: 'updateTraits', traits: { seen: true }, next: 'a' },
      done: { type: 'exit' },
    })
    const advance = enter(def, init, context())
    expect(advance.run).toMatchObject({ state: 'exited', reason: 'loop without a wait' })
    expect(advance.run.steps).toBe(MAX_STEPS_PER_ADVANCE)
    expect(path(advance).slice(0, 4)).toEqual(['a', 'a', 'b', 'a'])
  })
})

describe('a run that has ended', () => {
  it('takes no further step from events, timers or exit checks', () => {
    const def = journey(
      {
        w: {
          type: 'waitFor',
          performed: 'Clicked',
          timeout: { hours: 1 },
          next: 'done',
          onTimeout: 'done',
        },
        done: { type: 'exit' },
      },
      { goal: { performed: 'Order Completed' }, exitWhen: { trait: 'x', op: 'exists' } },
    )
    const { run } = enter(def, init, context())
    const ended = stop(run, 'api', T0 + MINUTE).run
    const now = T0 + 2 * HOUR
    unchanged(observe(def, ended, event('Clicked', now), context({ now })), ended)
    unchanged(observe(def, ended, event('Order Completed', now), context({ now })), ended)
    unchanged(wake(def, ended, context({ now })), ended)
    unchanged(checkExit(def, ended, context({ now, traits: { x: 1 } })), ended)
  })
})
