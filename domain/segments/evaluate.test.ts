import { describe, expect, it } from 'vitest'
import type { Purpose } from '../consent'
import { bucketOf, bucketSeed } from './bucket'
import { evaluate, nextChange } from './evaluate'
import type { ContactFacts, EventFact, MessageFact, SegmentLookup } from './facts'
import type { JourneyState, MessageEvent, Prediction, Rule } from './rule'

const NOW = Date.parse('2026-12-10T12:00:00Z')
const MINUTE = 60_000
const DAY = 86_400_000

interface ContactData {
  key?: string
  traits?: Record<string, unknown>
  /** By name; ids default to `e0`, `e1`… in order, properties to none. */
  events?: Record<string, { at: number; id?: string; properties?: Record<string, unknown> }[]>
  consent?: Partial<Record<Purpose, boolean>>
  lists?: string[]
  accounts?: Record<string, unknown>[]
  messages?: Partial<Record<MessageEvent, { at: number; template?: string }[]>>
  subscriptions?: Record<string, boolean>
  journeys?: Record<string, JourneyState[]>
  predictions?: Partial<Record<Prediction, number>>
}

/** ContactFacts from plain data: whatever is not given is absent. */
function contact(data: ContactData = {}): ContactFacts {
  const events = new Map<string, EventFact[]>()
  let n = 0
  for (const [name, list] of Object.entries(data.events ?? {})) {
    events.set(
      name,
      list.map((e) => ({ id: e.id ?? `e${n++}`, at: e.at, properties: e.properties ?? {} })),
    )
  }
  const messages = (kind: MessageEvent): MessageFact[] =>
    (data.messages?.[kind] ?? []).map((m) => ({ at: m.at, template: m.template ?? null }))
  return {
    key: data.key ?? 'user:1',
    traits: data.traits ?? {},
    events: (name) => events.get(name) ?? [],
    consent: (purpose) => data.consent?.[purpose] ?? null,
    inList: (id) => (data.lists ?? []).includes(id),
    accounts: () => data.accounts ?? [],
    messages,
    subscribed: (group) => data.subscriptions?.[group] ?? null,
    journeyStates: (id) => data.journeys?.[id] ?? [],
    prediction: (name) => data.predictions?.[name] ?? null,
  }
}

const noSegments: SegmentLookup = () => undefined
const segments =
  (rules: Record<string, Rule>): SegmentLookup =>
  (id) =>
    rules[id]

function isMember(rule: Rule, facts: ContactFacts, now = NOW, lookup = noSegments): boolean {
  return evaluate(rule, facts, now, lookup)
}

describe('trait compare', () => {
  const pro = contact({ traits: { plan: 'pro', seats: 5, beta: true, nothing: null } })
  const bare = contact()

  it('eq: the same kind and equal; case matters; "5" is not 5; a missing trait never', () => {
    expect(isMember({ trait: 'plan', op: 'eq', value: 'pro' }, pro)).toBe(true)
    expect(isMember({ trait: 'plan', op: 'eq', value: 'Pro' }, pro)).toBe(false)
    expect(isMember({ trait: 'seats', op: 'eq', value: 5 }, pro)).toBe(true)
    expect(isMember({ trait: 'seats', op: 'eq', value: '5' }, pro)).toBe(false)
    expect(isMember({ trait: 'beta', op: 'eq', value: true }, pro)).toBe(true)
    expect(isMember({ trait: 'beta', op: 'eq', value: 'true' }, pro)).toBe(false)
    expect(isMember({ trait: 'plan', op: 'eq', value: 'pro' }, bare)).toBe(false)
  })

  it('neq: a missing trait, null, or another kind matches neq; the equal value does not', () => {
    expect(isMember({ trait: 'plan', op: 'neq', value: 'pro' }, bare)).toBe(true)
    expect(isMember({ trait: 'nothing', op: 'neq', value: 'pro' }, pro)).toBe(true)
    expect(isMember({ trait: 'seats', op: 'neq', value: '5' }, pro)).toBe(true)
    expect(isMember({ trait: 'plan', op: 'neq', value: 'free' }, pro)).toBe(true)
    expect(isMember({ trait: 'plan', op: 'neq', value: 'pro' }, pro)).toBe(false)
  })

  it('exists / not_exists: null is absent, false is present', () => {
    expect(isMember({ trait: 'plan', op: 'exists' }, pro)).toBe(true)
    expect(isMember({ trait: 'beta', op: 'exists' }, contact({ traits: { beta: false } }))).toBe(
      true,
    )
    expect(isMember({ trait: 'nothing', op: 'exists' }, pro)).toBe(false)
    expect(isMember({ trait: 'plan', op: 'exists' }, bare)).toBe(false)
    expect(isMember({ trait: 'nothing', op: 'not_exists' }, pro)).toBe(true)
    expect(isMember({ trait: 'plan', op: 'not_exists' }, bare)).toBe(true)
    expect(isMember({ trait: 'plan', op: 'not_exists' }, pro)).toBe(false)
  })

  it('gt / gte / lt / lte on numbers: the boundary is in for gte/lte, out for gt/lt', () => {
    expect(isMember({ trait: 'seats', op: 'gt', value: 4 }, pro)).toBe(true)
    expect(isMember({ trait: 'seats', op: 'gt', value: 5 }, pro)).toBe(false)
    expect(isMember({ trait: 'seats', op: 'gte', value: 5 }, pro)).toBe(true)
    expect(isMember({ trait: 'seats', op: 'gte', value: 5.5 }, pro)).toBe(false)
    expect(isMember({ trait: 'seats', op: 'lt', value: 6 }, pro)).toBe(true)
    expect(isMember({ trait: 'seats', op: 'lt', value: 5 }, pro)).toBe(false)
    expect(isMember({ trait: 'seats', op: 'lte', value: 5 }, pro)).toBe(true)
    expect(isMember({ trait: 'seats', op: 'lte', value: 4.9 }, pro)).toBe(false)
  })

  it('gt / lt on strings by code point: "Z" < "a", and "10" < "9" (no numeric reading)', () => {
    expect(isMember({ trait: 'plan', op: 'gt', value: 'basic' }, pro)).toBe(true)
    expect(isMember({ trait: 'plan', op: 'lt', value: 'pro ' }, pro)).toBe(true)
    expect(isMember({ trait: 'plan', op: 'gt', value: 'Z' }, pro)).toBe(true)
    const ten = contact({ traits: { code: '10' } })
    expect(isMember({ trait: 'code', op: 'lt', value: '9' }, ten)).toBe(true)
  })

  it('gt / lt never compare across kinds, booleans, or a missing trait', () => {
    expect(isMember({ trait: 'seats', op: 'gt', value: '1' }, pro)).toBe(false)
    expect(isMember({ trait: 'seats', op: 'lt', value: '9' }, pro)).toBe(false)
    expect(isMember({ trait: 'beta', op: 'gt', value: false }, pro)).toBe(false)
    expect(isMember({ trait: 'beta', op: 'gte', value: true }, pro)).toBe(false)
    expect(isMember({ trait: 'seats', op: 'lte', value: 100 }, bare)).toBe(false)
    expect(isMember({ trait: 'nothing', op: 'lte', value: 100 }, pro)).toBe(false)
  })

  it('contains: a substring (case-sensitive) of a string, or an element of an array', () => {
    const c = contact({ traits: { email: 'ann@Example.com', tags: ['vip', 2, ['nested']] } })
    expect(isMember({ trait: 'email', op: 'contains', value: '@Example' }, c)).toBe(true)
    expect(isMember({ trait: 'email', op: 'contains', value: '@example' }, c)).toBe(false)
    expect(isMember({ trait: 'tags', op: 'contains', value: 'vip' }, c)).toBe(true)
    expect(isMember({ trait: 'tags', op: 'contains', value: 2 }, c)).toBe(true)
    // Elements match by eq: not a substring of one, not another kind, never a nested array.
    expect(isMember({ trait: 'tags', op: 'contains', value: 'vi' }, c)).toBe(false)
    expect(isMember({ trait: 'tags', op: 'contains', value: '2' }, c)).toBe(false)
    expect(isMember({ trait: 'tags', op: 'contains', value: 'nested' }, c)).toBe(false)
    expect(isMember({ trait: 'seats', op: 'contains', value: 5 }, pro)).toBe(false)
  })

  it('in: eq to one of the listed values, kinds included', () => {
    expect(isMember({ trait: 'plan', op: 'in', value: ['free', 'pro'] }, pro)).toBe(true)
    expect(isMember({ trait: 'plan', op: 'in', value: ['free', 'team'] }, pro)).toBe(false)
    expect(isMember({ trait: 'seats', op: 'in', value: ['5', 6] }, pro)).toBe(false)
    expect(isMember({ trait: 'plan', op: 'in', value: ['pro'] }, bare)).toBe(false)
  })

  it('an array or object trait is never eq, never ordered', () => {
    const c = contact({ traits: { tags: ['a'], address: { city: 'Lyon' } } })
    expect(isMember({ trait: 'tags', op: 'eq', value: ['a'] }, c)).toBe(false)
    expect(isMember({ trait: 'address', op: 'eq', value: 'Lyon' }, c)).toBe(false)
    expect(isMember({ trait: 'address', op: 'neq', value: 'Lyon' }, c)).toBe(true)
    expect(isMember({ trait: 'address', op: 'gt', value: 'A' }, c)).toBe(false)
  })

  it('reads dotted paths through objects, never through arrays', () => {
    const c = contact({ traits: { address: { city: 'Lyon' }, items: [{ sku: 'a' }] } })
    expect(isMember({ trait: 'address.city', op: 'eq', value: 'Lyon' }, c)).toBe(true)
    expect(isMember({ trait: 'items.0.sku', op: 'eq', value: 'a' }, c)).toBe(false)
    expect(isMember({ trait: 'items.0.sku', op: 'not_exists' }, c)).toBe(true)
  })
})

describe('trait within / before', () => {
  const dated = (value: unknown) => contact({ traits: { trialEnds: value } })
  const iso = (ms: number) => new Date(ms).toISOString()
  const within7: Rule = { trait: 'trialEnds', op: 'within', duration: { days: 7 } }
  const before7: Rule = { trait: 'trialEnds', op: 'before', duration: { days: 7 } }

  it('within d: from exactly d ago to now, both ends in', () => {
    expect(isMember(within7, dated(iso(NOW - 7 * DAY)))).toBe(true)
    expect(isMember(within7, dated(iso(NOW - 7 * DAY - 1)))).toBe(false)
    expect(isMember(within7, dated(iso(NOW)))).toBe(true)
    expect(isMember(within7, dated('2026-12-05'))).toBe(true)
  })

  it('within d: a date in the future is not yet in', () => {
    expect(isMember(within7, dated(iso(NOW + 1)))).toBe(false)
  })

  it('before d: strictly more than d ago', () => {
    expect(isMember(before7, dated(iso(NOW - 7 * DAY - 1)))).toBe(true)
    expect(isMember(before7, dated(iso(NOW - 7 * DAY)))).toBe(false)
    expect(isMember(before7, dated('2020-01-01'))).toBe(true)
  })

  it('reads the offset: 14:00+02:00 seven days ago is exactly on the edge', () => {
    expect(isMember(within7, dated('2026-12-03T14:00:00+02:00'))).toBe(true)
    expect(isMember(within7, dated('2026-12-03T13:59:59.999+02:00'))).toBe(false)
  })

  it('a missing trait, a number, or a string that is not a date matches neither op', () => {
    for (const value of [undefined, NOW - DAY, 'yesterday', '2026-02-30', '2026-12-05T25:00']) {
      expect(isMember(within7, dated(value)), String(value)).toBe(false)
      expect(isMember(before7, dated(value)), String(value)).toBe(false)
      // So `not before` is where they end up.
      expect(isMember({ not: before7 }, dated(value)), String(value)).toBe(true)
    }
  })

  it('counts minutes and hours in the duration', () => {
    const rule: Rule = { trait: 'at', op: 'within', duration: { hours: 1, minutes: 30 } }
    expect(isMember(rule, contact({ traits: { at: iso(NOW - 90 * MINUTE) } }))).toBe(true)
    expect(isMember(rule, contact({ traits: { at: iso(NOW - 90 * MINUTE - 1) } }))).toBe(false)
  })
})

describe('performed', () => {
  it('counts events of that name only', () => {
    const c = contact({ events: { Signup: [{ at: NOW }], $page: [{ at: NOW }] } })
    expect(isMember({ performed: 'Signup' }, c)).toBe(true)
    expect(isMember({ performed: 'Purchase' }, c)).toBe(false)
    expect(isMember({ performed: '$page' }, c)).toBe(true)
    expect(isMember({ performed: '$screen' }, c)).toBe(false)
  })

  it('counts only events whose properties satisfy every where condition', () => {
    const c = contact({
      events: {
        Purchase: [
          { at: NOW, properties: { total: 120, currency: 'EUR' } },
          { at: NOW, properties: { total: 80, currency: 'EUR' } },
          { at: NOW, properties: { total: 200, currency: 'USD' } },
        ],
      },
    })
    const big = (value: number): Rule => ({
      performed: 'Purchase',
      where: [
        { property: 'total', op: 'gte', value: 100 },
        { property: 'currency', op: 'eq', value: 'EUR' },
      ],
      count: { op: 'gte', value },
    })
    // Only the first event is both ≥ 100 and in EUR.
    expect(isMember(big(1), c)).toBe(true)
    expect(isMember(big(2), c)).toBe(false)
  })

  it('within d: an event exactly d ago counts, 1 ms older does not', () => {
    const rule: Rule = { performed: 'Signup', within: { days: 7 } }
    expect(isMember(rule, contact({ events: { Signup: [{ at: NOW - 7 * DAY }] } }))).toBe(true)
    expect(isMember(rule, contact({ events: { Signup: [{ at: NOW - 7 * DAY - 1 }] } }))).toBe(false)
  })

  it('within d has no upper bound: an event stamped in the future counts', () => {
    const c = contact({ events: { Signup: [{ at: NOW + DAY }] } })
    expect(isMember({ performed: 'Signup', within: { days: 1 } }, c)).toBe(true)
  })

  it('count gte / eq / lte against the number of matching events (three here)', () => {
    const c = contact({
      events: { Login: [{ at: NOW }, { at: NOW - DAY }, { at: NOW - 2 * DAY }] },
    })
    const times = (op: 'gte' | 'eq' | 'lte', value: number): Rule => ({
      performed: 'Login',
      count: { op, value },
    })
    expect(isMember(times('gte', 3), c)).toBe(true)
    expect(isMember(times('gte', 4), c)).toBe(false)
    expect(isMember(times('eq', 3), c)).toBe(true)
    expect(isMember(times('eq', 2), c)).toBe(false)
    expect(isMember(times('eq', 4), c)).toBe(false)
    expect(isMember(times('lte', 3), c)).toBe(true)
    expect(isMember(times('lte', 2), c)).toBe(false)
  })

  it('count lte 0 or eq 0: never performed, or not within the window', () => {
    const never: Rule = { performed: 'Login', count: { op: 'lte', value: 0 } }
    expect(isMember(never, contact())).toBe(true)
    expect(isMember(never, contact({ events: { Login: [{ at: NOW }] } }))).toBe(false)
    const notThisWeek: Rule = {
      performed: 'Login',
      within: { days: 7 },
      count: { op: 'eq', value: 0 },
    }
    expect(isMember(notThisWeek, contact({ events: { Login: [{ at: NOW - 8 * DAY }] } }))).toBe(
      true,
    )
  })

  it('without count means at least once', () => {
    expect(isMember({ performed: 'Login' }, contact())).toBe(false)
    expect(isMember({ performed: 'Login' }, contact({ events: { Login: [{ at: 0 }] } }))).toBe(true)
  })
})

describe('lastPerformed', () => {
  const plan = (value: string): Rule => ({
    lastPerformed: 'Plan Changed',
    has: [{ property: 'plan', op: 'eq', value }],
  })

  it('reads the latest event only: an earlier match does not count', () => {
    const c = contact({
      events: {
        'Plan Changed': [
          { at: NOW - DAY, properties: { plan: 'pro' } },
          { at: NOW, properties: { plan: 'free' } },
          { at: NOW - 2 * DAY, properties: { plan: 'team' } },
        ],
      },
    })
    expect(isMember(plan('free'), c)).toBe(true)
    expect(isMember(plan('pro'), c)).toBe(false)
  })

  it('breaks a tie on at by id, the greater id winning, whatever the order given', () => {
    const events = [
      { id: 'b', at: NOW, properties: { plan: 'pro' } },
      { id: 'a', at: NOW, properties: { plan: 'free' } },
    ]
    for (const list of [events, [...events].reverse()]) {
      const c = contact({ events: { 'Plan Changed': list } })
      expect(isMember(plan('pro'), c)).toBe(true)
      expect(isMember(plan('free'), c)).toBe(false)
    }
  })

  it('orders tied ids by code point, as SQLite does: an emoji id beats U+FF61', () => {
    const c = contact({
      events: {
        'Plan Changed': [
          { id: '\u{1f600}', at: NOW, properties: { plan: 'pro' } },
          { id: '\uff61', at: NOW, properties: { plan: 'free' } },
        ],
      },
    })
    expect(isMember(plan('pro'), c)).toBe(true)
  })

  it('chooses the latest among the events matching where, then tests has on it', () => {
    const c = contact({
      events: {
        'Plan Changed': [
          { at: NOW - DAY, properties: { plan: 'pro', source: 'sales' } },
          { at: NOW, properties: { plan: 'free', source: 'self' } },
        ],
      },
    })
    const bySales: Rule = {
      lastPerformed: 'Plan Changed',
      where: [{ property: 'source', op: 'eq', value: 'sales' }],
      has: [{ property: 'plan', op: 'eq', value: 'pro' }],
    }
    expect(isMember(bySales, c)).toBe(true)
  })

  it('needs every has condition on the latest event', () => {
    const c = contact({
      events: { 'Plan Changed': [{ at: NOW, properties: { plan: 'pro', seats: 3 } }] },
    })
    const rule = (seats: number): Rule => ({
      lastPerformed: 'Plan Changed',
      has: [
        { property: 'plan', op: 'eq', value: 'pro' },
        { property: 'seats', op: 'gte', value: seats },
      ],
    })
    expect(isMember(rule(3), c)).toBe(true)
    expect(isMember(rule(4), c)).toBe(false)
  })

  it('a contact with no such event is out, even for a has that a missing value meets', () => {
    const rule: Rule = {
      lastPerformed: 'Plan Changed',
      has: [{ property: 'plan', op: 'not_exists' }],
    }
    expect(isMember(rule, contact())).toBe(false)
    expect(isMember(rule, contact({ events: { 'Plan Changed': [{ at: NOW }] } }))).toBe(true)
  })
})

describe('consent', () => {
  const granted = (value: boolean): Rule => ({ consent: 'marketing', granted: value })

  it('granted true: only an effective grant', () => {
    expect(isMember(granted(true), contact({ consent: { marketing: true } }))).toBe(true)
    expect(isMember(granted(true), contact({ consent: { marketing: false } }))).toBe(false)
    expect(isMember(granted(true), contact())).toBe(false)
    expect(isMember(granted(true), contact({ consent: { analytics: true } }))).toBe(false)
  })

  it('granted false: denied or never decided', () => {
    expect(isMember(granted(false), contact({ consent: { marketing: false } }))).toBe(true)
    expect(isMember(granted(false), contact())).toBe(true)
    expect(isMember(granted(false), contact({ consent: { marketing: true } }))).toBe(false)
  })
})

describe('message', () => {
  const c = contact({
    messages: {
      opened: [
        { at: NOW - DAY, template: 'welcome' },
        { at: NOW - 10 * DAY, template: 'digest' },
      ],
      sent: [{ at: NOW - DAY }],
    },
  })

  it('counts message events of that kind', () => {
    expect(isMember({ message: 'opened' }, c)).toBe(true)
    expect(isMember({ message: 'clicked' }, c)).toBe(false)
    expect(isMember({ message: 'opened', count: { op: 'eq', value: 2 } }, c)).toBe(true)
  })

  it('matches the template when given', () => {
    expect(isMember({ message: 'opened', template: 'welcome' }, c)).toBe(true)
    expect(isMember({ message: 'opened', template: 'promo' }, c)).toBe(false)
    // A message sent without a template does not match a named one.
    expect(isMember({ message: 'sent', template: 'welcome' }, c)).toBe(false)
  })

  it('within d: exactly d ago counts, 1 ms older does not', () => {
    const rule: Rule = { message: 'opened', template: 'digest', within: { days: 10 } }
    expect(isMember(rule, c)).toBe(true)
    expect(isMember(rule, c, NOW + 1)).toBe(false)
    expect(
      isMember({ message: 'opened', within: { days: 2 }, count: { op: 'eq', value: 1 } }, c),
    ).toBe(true)
  })
})

describe('subscribed', () => {
  it('value true: subscribed; value false: unsubscribed or never set', () => {
    const c = contact({ subscriptions: { news: true, promos: false } })
    expect(isMember({ subscribed: 'news', value: true }, c)).toBe(true)
    expect(isMember({ subscribed: 'promos', value: true }, c)).toBe(false)
    expect(isMember({ subscribed: 'other', value: true }, c)).toBe(false)
    expect(isMember({ subscribed: 'news', value: false }, c)).toBe(false)
    expect(isMember({ subscribed: 'promos', value: false }, c)).toBe(true)
    expect(isMember({ subscribed: 'other', value: false }, c)).toBe(true)
  })
})

describe('list', () => {
  it('the contact is on that manual list', () => {
    const c = contact({ lists: ['vip'] })
    expect(isMember({ list: 'vip' }, c)).toBe(true)
    expect(isMember({ list: 'press' }, c)).toBe(false)
  })
})

describe('bucket', () => {
  const key = 'jean.dupont@example.com'
  const c = contact({ key })
  // This key's bucket under 'exp-42' is 1067 (bucket.test.ts pins it).
  const bucket = bucketOf(bucketSeed(key), 'exp-42')

  it('in when its bucket is below round(percent × 100): 1067 is in at 10.68 %, out at 10.67 %', () => {
    expect(bucket).toBe(1067)
    expect(isMember({ bucket: { percent: 10.68, salt: 'exp-42' } }, c)).toBe(true)
    expect(isMember({ bucket: { percent: 10.67, salt: 'exp-42' } }, c)).toBe(false)
  })

  it('no salt is the empty salt', () => {
    const unsalted = bucketOf(bucketSeed(key), '')
    expect(unsalted).not.toBe(bucket)
    const percent = (unsalted + 1) / 100
    expect(isMember({ bucket: { percent } }, c)).toBe(true)
    expect(isMember({ bucket: { percent, salt: '' } }, c)).toBe(true)
    expect(isMember({ bucket: { percent: unsalted / 100 } }, c)).toBe(false)
  })

  it('100 % takes everyone', () => {
    for (const k of ['a', 'b', 'c', key]) {
      expect(isMember({ bucket: { percent: 100 } }, contact({ key: k }))).toBe(true)
    }
  })
})

describe('inSegment', () => {
  const lookup = segments({
    pro: { trait: 'plan', op: 'eq', value: 'pro' },
    proBuyers: { all: [{ inSegment: 'pro' }, { performed: 'Purchase' }] },
  })
  const pro = contact({ traits: { plan: 'pro' } })

  it("evaluates the other segment's rule in place, through several levels", () => {
    expect(isMember({ inSegment: 'pro' }, pro, NOW, lookup)).toBe(true)
    expect(isMember({ inSegment: 'pro' }, contact(), NOW, lookup)).toBe(false)
    const buyer = contact({ traits: { plan: 'pro' }, events: { Purchase: [{ at: NOW }] } })
    expect(isMember({ inSegment: 'proBuyers' }, buyer, NOW, lookup)).toBe(true)
    expect(isMember({ inSegment: 'proBuyers' }, pro, NOW, lookup)).toBe(false)
  })

  it('an unknown id matches no one, so its negation matches everyone', () => {
    expect(isMember({ inSegment: 'gone' }, pro, NOW, lookup)).toBe(false)
    expect(isMember({ not: { inSegment: 'gone' } }, pro, NOW, lookup)).toBe(true)
  })
})

describe('journey', () => {
  it('one of the runs of that journey is in that state', () => {
    const c = contact({ journeys: { onboarding: ['completed', 'active'] } })
    expect(isMember({ journey: 'onboarding', state: 'active' }, c)).toBe(true)
    expect(isMember({ journey: 'onboarding', state: 'completed' }, c)).toBe(true)
    expect(isMember({ journey: 'onboarding', state: 'exited' }, c)).toBe(false)
    expect(isMember({ journey: 'winback', state: 'active' }, c)).toBe(false)
  })
})

describe('account', () => {
  const c = contact({
    accounts: [{ plan: 'free' }, { plan: 'enterprise', address: { country: 'FR' } }],
  })

  it('some account has a trait satisfying the condition', () => {
    expect(isMember({ account: { trait: 'plan', op: 'eq', value: 'enterprise' } }, c)).toBe(true)
    expect(isMember({ account: { trait: 'plan', op: 'eq', value: 'team' } }, c)).toBe(false)
    expect(isMember({ account: { trait: 'address.country', op: 'eq', value: 'FR' } }, c)).toBe(true)
  })

  it('neq holds for an account lacking the trait, but not for a contact with no account', () => {
    expect(isMember({ account: { trait: 'address.country', op: 'neq', value: 'FR' } }, c)).toBe(
      true,
    )
    expect(isMember({ account: { trait: 'plan', op: 'neq', value: 'free' } }, contact())).toBe(
      false,
    )
    expect(isMember({ account: { trait: 'plan', op: 'not_exists' } }, contact())).toBe(false)
  })
})

describe('prediction', () => {
  const c = contact({ predictions: { churnRisk: 0.8 } })

  it('compares the prediction as a number', () => {
    expect(isMember({ prediction: 'churnRisk', op: 'gte', value: 0.8 }, c)).toBe(true)
    expect(isMember({ prediction: 'churnRisk', op: 'gt', value: 0.8 }, c)).toBe(false)
    expect(isMember({ prediction: 'churnRisk', op: 'eq', value: '0.8' }, c)).toBe(false)
  })

  it('no prediction is a missing value: not_exists and neq hold, lt does not', () => {
    expect(isMember({ prediction: 'clv', op: 'not_exists' }, c)).toBe(true)
    expect(isMember({ prediction: 'clv', op: 'neq', value: 0 }, c)).toBe(true)
    expect(isMember({ prediction: 'clv', op: 'lt', value: 100 }, c)).toBe(false)
    expect(isMember({ prediction: 'churnRisk', op: 'exists' }, c)).toBe(true)
  })
})

describe('all / any / not', () => {
  const yes: Rule = { list: 'vip' }
  const no: Rule = { list: 'press' }
  const c = contact({ lists: ['vip'] })

  it('all: every child; any: one child; not: the opposite', () => {
    expect(isMember({ all: [yes, yes] }, c)).toBe(true)
    expect(isMember({ all: [yes, no] }, c)).toBe(false)
    expect(isMember({ any: [no, yes] }, c)).toBe(true)
    expect(isMember({ any: [no, no] }, c)).toBe(false)
    expect(isMember({ not: yes }, c)).toBe(false)
    expect(isMember({ not: no }, c)).toBe(true)
    expect(isMember({ not: { not: yes } }, c)).toBe(true)
  })

  it('stop at the first child that settles them: no events are read after it', () => {
    let reads = 0
    const counting: ContactFacts = {
      ...c,
      events: (name) => {
        reads++
        return c.events(name)
      },
    }
    expect(isMember({ all: [no, { performed: 'Login' }] }, counting)).toBe(false)
    expect(isMember({ any: [yes, { performed: 'Login' }] }, counting)).toBe(true)
    expect(reads).toBe(0)
    expect(isMember({ any: [no, { performed: 'Login' }] }, counting)).toBe(false)
    expect(reads).toBe(1)
  })
})

describe('nextChange', () => {
  const at = NOW - 2 * DAY
  const week: Rule = { performed: 'Login', within: { days: 7 } }

  it('performed within 7 days ends on day 8: at + 7 d + 1 ms', () => {
    const c = contact({ events: { Login: [{ at }] } })
    const change = nextChange(week, c, NOW, noSegments)
    expect(change).toBe(at + 7 * DAY + 1)
    expect(isMember(week, c, change! - 1)).toBe(true)
    expect(isMember(week, c, change!)).toBe(false)
  })

  it('names the earliest event to leave, ignoring those already out and not matching where', () => {
    const c = contact({
      events: {
        Login: [
          { at: NOW - 10 * DAY },
          { at: NOW - 3 * DAY, properties: { device: 'ios' } },
          { at: NOW - 5 * DAY, properties: { device: 'web' } },
          { at: NOW - DAY, properties: { device: 'web' } },
        ],
      },
    })
    expect(nextChange(week, c, NOW, noSegments)).toBe(NOW + 2 * DAY + 1)
    const web: Rule = { ...week, where: [{ property: 'device', op: 'eq', value: 'web' }] }
    expect(nextChange(web, c, NOW, noSegments)).toBe(NOW + 2 * DAY + 1)
    const ios: Rule = { ...week, where: [{ property: 'device', op: 'eq', value: 'ios' }] }
    expect(nextChange(ios, c, NOW, noSegments)).toBe(NOW + 4 * DAY + 1)
  })

  it('an event leaving exactly now has already left: the next is strictly after now', () => {
    const c = contact({ events: { Login: [{ at: NOW - 7 * DAY - 1 }, { at: NOW - DAY }] } })
    expect(nextChange(week, c, NOW, noSegments)).toBe(NOW + 6 * DAY + 1)
  })

  it('a future event leaves d after its time', () => {
    const c = contact({ events: { Login: [{ at: NOW + DAY }] } })
    expect(nextChange(week, c, NOW, noSegments)).toBe(NOW + 8 * DAY + 1)
  })

  it('a trait within d: enters at t when t is ahead, leaves at t + d + 1', () => {
    const rule: Rule = { trait: 'renewal', op: 'within', duration: { days: 7 } }
    const on = (date: string) => contact({ traits: { renewal: date } })
    const ahead = Date.UTC(2026, 11, 20)
    expect(nextChange(rule, on('2026-12-20'), NOW, noSegments)).toBe(ahead)
    expect(isMember(rule, on('2026-12-20'), ahead - 1)).toBe(false)
    expect(isMember(rule, on('2026-12-20'), ahead)).toBe(true)
    const past = Date.UTC(2026, 11, 8)
    expect(nextChange(rule, on('2026-12-08'), NOW, noSegments)).toBe(past + 7 * DAY + 1)
    expect(nextChange(rule, on('2026-11-01'), NOW, noSegments)).toBeNull()
  })

  it('a trait before d: turns at t + d + 1, then never again', () => {
    const rule: Rule = { trait: 'signedUp', op: 'before', duration: { days: 30 } }
    const t = Date.UTC(2026, 11, 1)
    const c = contact({ traits: { signedUp: '2026-12-01' } })
    expect(nextChange(rule, c, NOW, noSegments)).toBe(t + 30 * DAY + 1)
    expect(isMember(rule, c, t + 30 * DAY)).toBe(false)
    expect(isMember(rule, c, t + 30 * DAY + 1)).toBe(true)
    expect(nextChange(rule, c, t + 30 * DAY + 1, noSegments)).toBeNull()
  })

  it('a trait that is not a date never changes with time', () => {
    const rule: Rule = { trait: 'signedUp', op: 'before', duration: { days: 1 } }
    expect(nextChange(rule, contact({ traits: { signedUp: NOW } }), NOW, noSegments)).toBeNull()
  })

  it('message within d, of the template asked', () => {
    const c = contact({
      messages: {
        opened: [
          { at: NOW - DAY, template: 'promo' },
          { at: NOW - 2 * DAY, template: 'welcome' },
        ],
      },
    })
    const rule: Rule = { message: 'opened', template: 'welcome', within: { days: 3 } }
    expect(nextChange(rule, c, NOW, noSegments)).toBe(NOW + DAY + 1)
    expect(nextChange({ message: 'opened', within: { days: 3 } }, c, NOW, noSegments)).toBe(
      NOW + DAY + 1,
    )
    expect(nextChange({ message: 'opened' }, c, NOW, noSegments)).toBeNull()
  })

  it('looks inside not, any, all and referenced segments, whatever they decide now', () => {
    const c = contact({ lists: ['vip'], events: { Login: [{ at }] } })
    const change = at + 7 * DAY + 1
    expect(nextChange({ not: week }, c, NOW, noSegments)).toBe(change)
    expect(nextChange({ any: [{ list: 'vip' }, week] }, c, NOW, noSegments)).toBe(change)
    expect(nextChange({ all: [{ list: 'press' }, week] }, c, NOW, noSegments)).toBe(change)
    const lookup = segments({ active: { not: { not: week } } })
    expect(nextChange({ inSegment: 'active' }, c, NOW, lookup)).toBe(change)
    expect(nextChange({ inSegment: 'unknown' }, c, NOW, lookup)).toBeNull()
  })

  it('takes the earliest over every windowed part', () => {
    const c = contact({
      traits: { renewal: '2026-12-11' },
      events: { Login: [{ at }] },
    })
    const rule: Rule = {
      all: [week, { trait: 'renewal', op: 'within', duration: { days: 1 } }],
    }
    expect(nextChange(rule, c, NOW, noSegments)).toBe(Date.UTC(2026, 11, 11))
  })

  it('is null for a rule without windows or date traits', () => {
    const c = contact({ traits: { plan: 'pro' }, events: { Login: [{ at }] } })
    const rule: Rule = {
      any: [{ performed: 'Login' }, { trait: 'plan', op: 'eq', value: 'pro' }, { list: 'vip' }],
    }
    expect(nextChange(rule, c, NOW, noSegments)).toBeNull()
  })

  it('is never later than a real change: every millisecond of 5 minutes, checked', () => {
    const start = NOW
    const iso = (ms: number) => new Date(ms).toISOString()
    const c = contact({
      traits: { a: iso(start + 30_000), b: iso(start - 20_000), c: iso(start + 100_000) },
      events: {
        Login: [{ at: start - 10_000 }, { at: start + 45_000 }, { at: start + 45_000 }],
        Buy: [
          { at: start + 5_000, properties: { ok: true } },
          { at: start + 1, properties: {} },
        ],
      },
      messages: { opened: [{ at: start + 70_000 }] },
    })
    const minute = { minutes: 1 }
    const lookup = segments({
      buyer: {
        performed: 'Buy',
        within: minute,
        where: [{ property: 'ok', op: 'eq', value: true }],
      },
    })
    // Each part turns on and off in the 5 minutes (the times in comments are from `start`).
    const parts: Rule[] = [
      // Three logins in the window, then two from 50.001 s, then none from 105.001 s.
      { performed: 'Login', within: minute, count: { op: 'eq', value: 2 } },
      // `a` from 30 s to 90 s; the purchase counts until 65 s.
      { all: [{ trait: 'a', op: 'within', duration: minute }, { not: { inSegment: 'buyer' } }] },
      // `b` more than a minute ago from 40.001 s; the message counts until 130 s.
      {
        all: [
          { trait: 'b', op: 'before', duration: minute },
          { message: 'opened', within: minute },
        ],
      },
      // `c` from 100 s to 220 s.
      { not: { trait: 'c', op: 'within', duration: { minutes: 2 } } },
    ]
    const end = start + 5 * MINUTE
    /** Every ms from `start` to `end`; the number of changes seen at the instants nextChange named. */
    const changesOf = (rule: Rule): number => {
      let changes = 0
      let now = start
      while (now < end) {
        const next: number = nextChange(rule, c, now, lookup) ?? end
        expect(next).toBeGreaterThan(now)
        const member = evaluate(rule, c, now, lookup)
        for (let t = now + 1; t < Math.min(next, end); t++) {
          if (evaluate(rule, c, t, lookup) !== member) {
            expect.fail(
              `changed at ${t - start} ms, nextChange(${now - start}) said ${next - start}`,
            )
          }
        }
        if (next < end && evaluate(rule, c, next, lookup) !== member) changes++
        now = next
      }
      return changes
    }
    // Each rule changes twice, so the check above had changes to miss.
    for (const rule of [...parts, { any: parts }, { all: [parts[0]!, { not: parts[3]! }] }]) {
      expect(changesOf(rule), JSON.stringify(rule)).toBe(2)
    }
  })
})
