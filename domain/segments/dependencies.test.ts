import { describe, expect, it } from 'vitest'
import { dependencies, expandedSize, findCycle, referencedSegments } from './dependencies'
import type { SegmentLookup } from './facts'
import type { Rule } from './rule'

const segments =
  (rules: Record<string, Rule>): SegmentLookup =>
  (id) =>
    rules[id]
const noSegments: SegmentLookup = () => undefined

describe('dependencies', () => {
  it('names everything a rule of every kind reads', () => {
    const rule: Rule = {
      all: [
        { trait: 'address.city', op: 'eq', value: 'Lyon' },
        { trait: 'plan', op: 'exists' },
        { performed: '$page', where: [{ property: 'path', op: 'eq', value: '/pricing' }] },
        { lastPerformed: 'Plan Changed', has: [{ property: 'plan', op: 'eq', value: 'pro' }] },
        { consent: 'marketing', granted: true },
        { not: { consent: 'analytics', granted: false } },
        { any: [{ list: 'vip' }, { list: 'press' }] },
        { account: { trait: 'tier', op: 'eq', value: 'gold' } },
        { message: 'opened' },
        { subscribed: 'news', value: true },
        { journey: 'onboarding', state: 'active' },
        { prediction: 'churnRisk', op: 'gt', value: 0.5 },
        { bucket: { percent: 10 } },
      ],
    }
    expect(dependencies(rule, noSegments)).toEqual({
      events: new Set(['$page', 'Plan Changed']),
      // A `where` on page views, a `has` on the latest plan change.
      properties: new Set(['$page', 'Plan Changed']),
      traits: new Set(['address', 'plan']),
      consent: new Set(['marketing', 'analytics']),
      lists: new Set(['vip', 'press']),
      accounts: true,
      messages: true,
      subscriptions: true,
      journeys: true,
      predictions: true,
      // No window, no date op: time alone changes nothing here.
      timed: false,
      bucket: true,
    })
  })

  it('reads the properties only of events a condition looks into', () => {
    const rule: Rule = {
      any: [
        { performed: 'Order Completed', count: { op: 'gte', value: 2 } },
        {
          performed: 'Product Viewed',
          where: [{ property: 'category', op: 'eq', value: 'Jackets' }],
        },
        { lastPerformed: 'Signed Up', has: [{ property: 'source', op: 'exists' }] },
      ],
    }
    expect(dependencies(rule, noSegments).properties).toEqual(
      new Set(['Product Viewed', 'Signed Up']),
    )
  })

  it('reads nothing for a rule on one list, and nothing is timed', () => {
    expect(dependencies({ list: 'vip' }, noSegments)).toEqual({
      events: new Set(),
      properties: new Set(),
      traits: new Set(),
      consent: new Set(),
      lists: new Set(['vip']),
      accounts: false,
      messages: false,
      subscriptions: false,
      journeys: false,
      predictions: false,
      timed: false,
      bucket: false,
    })
  })

  it('is timed by a performed or message window, or a date op on a trait', () => {
    const timed = (rule: Rule) => dependencies(rule, noSegments).timed
    expect(timed({ performed: 'Login', within: { days: 7 } })).toBe(true)
    expect(timed({ performed: 'Login' })).toBe(false)
    expect(timed({ message: 'sent', within: { hours: 1 } })).toBe(true)
    expect(timed({ message: 'sent' })).toBe(false)
    expect(timed({ not: { trait: 'trialEnds', op: 'before', duration: { days: 1 } } })).toBe(true)
    expect(timed({ trait: 'trialEnds', op: 'within', duration: { days: 1 } })).toBe(true)
    expect(timed({ trait: 'trialEnds', op: 'exists' })).toBe(false)
  })

  it('reads referenced segments in place, through several levels', () => {
    const lookup = segments({
      active: { performed: 'Login', within: { days: 30 } },
      activePro: { all: [{ inSegment: 'active' }, { trait: 'plan', op: 'eq', value: 'pro' }] },
    })
    const found = dependencies({ any: [{ inSegment: 'activePro' }, { list: 'vip' }] }, lookup)
    expect(found.events).toEqual(new Set(['Login']))
    expect(found.traits).toEqual(new Set(['plan']))
    expect(found.lists).toEqual(new Set(['vip']))
    expect(found.timed).toBe(true)
  })

  it('reads nothing for an unknown segment, and ends on a cycle saved by mistake', () => {
    expect(dependencies({ inSegment: 'gone' }, noSegments).events).toEqual(new Set())
    const lookup = segments({
      a: { all: [{ inSegment: 'b' }, { performed: 'A' }] },
      b: { all: [{ inSegment: 'a' }, { performed: 'B' }] },
    })
    expect(dependencies({ inSegment: 'a' }, lookup).events).toEqual(new Set(['A', 'B']))
  })
})

describe('referencedSegments', () => {
  it('lists the ids a rule names itself, once each, not those of the segments it names', () => {
    const rule: Rule = {
      any: [{ inSegment: 'a' }, { not: { all: [{ inSegment: 'b' }, { inSegment: 'a' }] } }],
    }
    expect(referencedSegments(rule)).toEqual(['a', 'b'])
    expect(referencedSegments({ trait: 'plan', op: 'exists' })).toEqual([])
  })
})

describe('findCycle', () => {
  it('finds a two-segment cycle: a → b → a', () => {
    const lookup = segments({ b: { inSegment: 'a' } })
    expect(findCycle('a', { inSegment: 'b' }, lookup)).toEqual(['a', 'b', 'a'])
  })

  it('finds a segment naming itself, however deep in its rule', () => {
    const rule: Rule = { any: [{ list: 'vip' }, { not: { inSegment: 'a' } }] }
    expect(findCycle('a', rule, noSegments)).toEqual(['a', 'a'])
  })

  it('finds a longer cycle behind a branch that ends, with the path taken', () => {
    const lookup = segments({
      b: { list: 'vip' },
      c: { all: [{ inSegment: 'd' }] },
      d: { any: [{ inSegment: 'b' }, { inSegment: 'a' }] },
    })
    const rule: Rule = { all: [{ inSegment: 'b' }, { inSegment: 'c' }] }
    expect(findCycle('a', rule, lookup)).toEqual(['a', 'c', 'd', 'a'])
  })

  it('reads the new rule of the segment saved, not its stored one', () => {
    // The stored `a` names `b`, which names `a`; the new `a` no longer does.
    const lookup = segments({ a: { inSegment: 'b' }, b: { inSegment: 'a' } })
    expect(findCycle('a', { list: 'vip' }, lookup)).toBeNull()
    expect(findCycle('b', { inSegment: 'a' }, lookup)).toEqual(['b', 'a', 'b'])
  })

  it('allows shared references (a diamond) and unknown ids', () => {
    const lookup = segments({
      b: { inSegment: 'd' },
      c: { inSegment: 'd' },
      d: { trait: 'plan', op: 'exists' },
    })
    const rule: Rule = { all: [{ inSegment: 'b' }, { inSegment: 'c' }, { inSegment: 'gone' }] }
    expect(findCycle('a', rule, lookup)).toBeNull()
  })

  it('ends on a cycle among other segments that does not pass through the one saved', () => {
    const lookup = segments({ b: { inSegment: 'c' }, c: { inSegment: 'b' } })
    expect(findCycle('a', { inSegment: 'b' }, lookup)).toBeNull()
  })
})

describe('expandedSize', () => {
  const leaf: Rule = { list: 'l' }
  it('counts every rule once, and a referenced segment each time it is named', () => {
    const lookup: SegmentLookup = (id) => (id === 'b' ? { any: [leaf, leaf] } : undefined)
    // all + leaf + 2 × (inSegment + any + 2 leaves)
    const rule: Rule = { all: [leaf, { inSegment: 'b' }, { inSegment: 'b' }] }
    expect(expandedSize(rule, lookup, 100)).toBe(10)
  })

  it('stops counting past the limit, however large the expansion', () => {
    const wide = (id: string): Rule => ({
      any: Array.from({ length: 10 }, () => ({ inSegment: id })),
    })
    const lookup: SegmentLookup = (id) => (id === 'c' ? wide('d') : id === 'd' ? wide('e') : leaf)
    // 10 × 10 × 10 leaves and more: far past the limit.
    expect(expandedSize(wide('c'), lookup, 500)).toBe(501)
  })
})
