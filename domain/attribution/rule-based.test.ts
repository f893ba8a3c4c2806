import { describe, expect, it } from 'vitest'
import { preparePaths, type Conversion } from './paths'
import {
  creditConversion,
  creditRuleModels,
  RULE_MODELS,
  ruleCreditsForPaths,
  touchWeights,
} from './rule-based'
import { conversionsOf, expectClose, sums, valuesOf } from './testing'

const DAY = 86_400_000

/**
 * Four touches a week apart, converting with the last, worth 100:
 *   day 0 paid_search, day 7 email, day 14 organic_social, day 21 direct (conversion on day 21)
 */
const journey: Conversion = {
  at: 21 * DAY,
  value: 100,
  touches: [
    { channel: 'paid_search', at: 0 },
    { channel: 'email', at: 7 * DAY },
    { channel: 'organic_social', at: 14 * DAY },
    { channel: 'direct', at: 21 * DAY },
  ],
}

const creditsOf = (model: (typeof RULE_MODELS)[number], conversion = journey, options = {}) =>
  creditConversion(model, conversion, options)

describe('rule-based models, worked by hand', () => {
  it('first touch: everything to paid_search', () => {
    expectClose(conversionsOf(creditsOf('first')), {
      paid_search: 1,
      email: 0,
      organic_social: 0,
      direct: 0,
    })
    expect(creditsOf('first').paid_search).toEqual({ conversions: 1, value: 100 })
  })

  it('last touch: everything to direct', () => {
    expect(creditsOf('last').direct).toEqual({ conversions: 1, value: 100 })
    expect(creditsOf('last').organic_social).toEqual({ conversions: 0, value: 0 })
  })

  it('last non-direct: skips the final direct visit to organic_social', () => {
    expect(creditsOf('last_non_direct').organic_social).toEqual({ conversions: 1, value: 100 })
    expect(creditsOf('last_non_direct').direct).toEqual({ conversions: 0, value: 0 })
  })

  it('last non-direct: falls back to direct when every touch is direct, whatever its spelling', () => {
    const allDirect: Conversion = {
      at: 2 * DAY,
      value: 10,
      touches: [
        { channel: 'Direct', at: 0 },
        { channel: '(direct)', at: DAY },
      ],
    }
    // Both spellings are direct; the last one, '(direct)', keeps the conversion.
    expect(creditsOf('last_non_direct', allDirect)).toEqual({
      Direct: { conversions: 0, value: 0 },
      '(direct)': { conversions: 1, value: 10 },
    })
  })

  it('linear: 1/4 each, 25 of the 100 each', () => {
    expectClose(valuesOf(creditsOf('linear')), {
      paid_search: 25,
      email: 25,
      organic_social: 25,
      direct: 25,
    })
  })

  it('time decay (half-life 7 days): ages 21, 14, 7, 0 days weigh 1/8, 1/4, 1/2, 1', () => {
    // weights 2^(-21/7) = 0.125, 2^(-14/7) = 0.25, 2^(-7/7) = 0.5, 2^0 = 1; sum 1.875
    // shares 0.125/1.875 = 1/15, 0.25/1.875 = 2/15, 0.5/1.875 = 4/15, 1/1.875 = 8/15
    expectClose(conversionsOf(creditsOf('time_decay')), {
      paid_search: 1 / 15,
      email: 2 / 15,
      organic_social: 4 / 15,
      direct: 8 / 15,
    })
    // value: 100/15 = 6.667, 13.333, 26.667, 53.333
    expectClose(valuesOf(creditsOf('time_decay')), {
      paid_search: 100 / 15,
      email: 200 / 15,
      organic_social: 400 / 15,
      direct: 800 / 15,
    })
  })

  it('time decay honours another half-life: 14 days gives 2^-1.5, 2^-1, 2^-0.5, 1', () => {
    const w = [2 ** -1.5, 2 ** -1, 2 ** -0.5, 1]
    const sum = w[0]! + w[1]! + w[2]! + w[3]! // 0.35355 + 0.5 + 0.70711 + 1 = 2.56066
    expectClose(conversionsOf(creditsOf('time_decay', journey, { halfLifeDays: 14 })), {
      paid_search: w[0]! / sum,
      email: w[1]! / sum,
      organic_social: w[2]! / sum,
      direct: w[3]! / sum,
    })
  })

  it('position: 40% first, 40% last, the middle 20% split (10% each)', () => {
    expectClose(valuesOf(creditsOf('position')), {
      paid_search: 40,
      email: 10,
      organic_social: 10,
      direct: 40,
    })
  })

  it('position: one touch gets 100%, two touches 50/50, three 40/20/40', () => {
    const touches = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ channel: `c${i}`, at: i * DAY }))
    expect(touchWeights('position', touches(1), 3 * DAY)).toEqual([1])
    expect(touchWeights('position', touches(2), 3 * DAY)).toEqual([0.5, 0.5])
    const three = touchWeights('position', touches(3), 3 * DAY)
    expect(three[0]).toBeCloseTo(0.4, 15)
    expect(three[1]).toBeCloseTo(0.2, 15)
    expect(three[2]).toBeCloseTo(0.4, 15)
    expect(three[0]! + three[1]! + three[2]!).toBe(1)
  })

  it('credits a channel once per touch: email > search > email is 2/3 email under linear', () => {
    const returning: Conversion = {
      at: 3 * DAY,
      value: 30,
      touches: [
        { channel: 'email', at: 0 },
        { channel: 'search', at: DAY },
        { channel: 'email', at: 2 * DAY },
      ],
    }
    expectClose(valuesOf(creditsOf('linear', returning)), { email: 20, search: 10 })
  })
})

describe('collapsing runs in a conversion', () => {
  // email on day 0 and day 5, search on day 6, conversion on day 7.
  const withRun: Conversion = {
    at: 7 * DAY,
    value: 1,
    touches: [
      { channel: 'email', at: 0 },
      { channel: 'email', at: 5 * DAY },
      { channel: 'search', at: 6 * DAY },
    ],
  }

  it('linear splits by channel run: 1/2 each collapsed, 2/3 and 1/3 when not', () => {
    expectClose(conversionsOf(creditsOf('linear', withRun)), { email: 0.5, search: 0.5 })
    expectClose(conversionsOf(creditsOf('linear', withRun, { collapse: false })), {
      email: 2 / 3,
      search: 1 / 3,
    })
  })

  it('time decay weighs a run by its latest touch', () => {
    // collapsed: email at age 2 days, search at age 1 day
    // email = 2^(-2/7) / (2^(-2/7) + 2^(-1/7)) = 1 / (1 + 2^(1/7)) = 1 / 2.10409 = 0.47526
    const email = 1 / (1 + 2 ** (1 / 7))
    expectClose(conversionsOf(creditsOf('time_decay', withRun)), { email, search: 1 - email })
    // not collapsed: ages 7, 2, 1 -> 0.5, 0.82034, 0.90572; email = 1.32034 / 2.22606 = 0.59313
    const w = [0.5, 2 ** (-2 / 7), 2 ** (-1 / 7)]
    const uncollapsed = conversionsOf(creditsOf('time_decay', withRun, { collapse: false }))
    expect(uncollapsed.email).toBeCloseTo((w[0]! + w[1]!) / (w[0]! + w[1]! + w[2]!), 12)
  })
})

describe('edge cases', () => {
  it('a conversion with no touches is direct under every model', () => {
    const bare: Conversion = { at: DAY, value: 7, touches: [] }
    for (const credits of Object.values(creditRuleModels(bare))) {
      expect(credits).toEqual({ direct: { conversions: 1, value: 7 } })
    }
  })

  it('sorts touches by time before crediting', () => {
    const shuffled: Conversion = {
      at: 10 * DAY,
      value: 1,
      touches: [
        { channel: 'late', at: 9 * DAY },
        { channel: 'early', at: DAY },
      ],
    }
    expect(creditsOf('first', shuffled).early!.conversions).toBe(1)
  })

  it('time decay survives touches far older than the half-life', () => {
    // Raw 2^(-10000/7) underflows to 0 for every touch; weights relative to the youngest do not.
    const ancient: Conversion = {
      at: 20_000 * DAY,
      value: 1,
      touches: [
        { channel: 'a', at: 0 },
        { channel: 'b', at: 7 * DAY },
      ],
    }
    expectClose(conversionsOf(creditsOf('time_decay', ancient)), { a: 1 / 3, b: 2 / 3 })
  })

  it('time decay treats a touch stamped after the conversion as age 0', () => {
    const skewed: Conversion = {
      at: 7 * DAY,
      value: 1,
      touches: [
        { channel: 'a', at: 0 },
        { channel: 'b', at: 7 * DAY + 5_000 },
      ],
    }
    expectClose(conversionsOf(creditsOf('time_decay', skewed)), { a: 1 / 3, b: 2 / 3 })
  })

  it('rejects a half-life that is not a positive number', () => {
    expect(() => creditsOf('time_decay', journey, { halfLifeDays: 0 })).toThrow(RangeError)
    expect(() => creditsOf('time_decay', journey, { halfLifeDays: NaN })).toThrow(RangeError)
  })

  it('touch weights add up to exactly 1 where tenths do not', () => {
    const ten = Array.from({ length: 10 }, (_, i) => ({ channel: `c${i}`, at: i }))
    expect(touchWeights('linear', ten, 10).reduce((a, b) => a + b, 0)).toBe(1)
    expect(touchWeights('linear', [], 10)).toEqual([])
  })

  it('splits an awkward value exactly: 0.1 over three channels', () => {
    const awkward: Conversion = {
      at: 3,
      value: 0.1,
      touches: ['a', 'b', 'c'].map((channel, i) => ({ channel, at: i })),
    }
    for (const credits of Object.values(creditRuleModels(awkward))) {
      expect(sums(credits)).toEqual({ conversions: 1, value: 0.1 })
    }
  })
})

describe('rule models over aggregated paths', () => {
  // email > email > search collapses to email > search and merges with the second row:
  //   email > search: 3 conversions, value 60 (10 + 50); organic > email > search: 1, value 30.
  const prepared = preparePaths([
    { path: ['email', 'email', 'search'], conversions: 1, value: 10, nulls: 4 },
    { path: ['email', 'search'], conversions: 2, value: 50, nulls: 0 },
    { path: ['organic', 'email', 'search'], conversions: 1, value: 30, nulls: 1 },
    { path: ['banner'], conversions: 0, value: 0, nulls: 9 },
  ])
  const credits = ruleCreditsForPaths(prepared)

  it('first and last', () => {
    // first: email gets 3 (value 60), organic 1 (value 30); last: search gets all 4 (value 90)
    expect(credits.first).toEqual({
      banner: { conversions: 0, value: 0 },
      email: { conversions: 3, value: 60 },
      organic: { conversions: 1, value: 30 },
      search: { conversions: 0, value: 0 },
    })
    expect(credits.last.search).toEqual({ conversions: 4, value: 90 })
  })

  it('linear', () => {
    // email: 3 × 1/2 + 1 × 1/3 = 1.8333; search the same; organic: 1/3
    // value: email 60/2 + 30/3 = 40; search 40; organic 10
    expectClose(conversionsOf(credits.linear), {
      banner: 0,
      email: 1.5 + 1 / 3,
      organic: 1 / 3,
      search: 1.5 + 1 / 3,
    })
    expectClose(valuesOf(credits.linear), { banner: 0, email: 40, organic: 10, search: 40 })
  })

  it('position', () => {
    // two touches 50/50: email 1.5, search 1.5; three touches 40/20/40: organic 0.4,
    // email 0.2, search 0.4. email = 1.7, search = 1.9, organic = 0.4
    // value: email 30 + 6 = 36, search 30 + 12 = 42, organic 12
    expectClose(conversionsOf(credits.position), {
      banner: 0,
      email: 1.7,
      organic: 0.4,
      search: 1.9,
    })
    expectClose(valuesOf(credits.position), { banner: 0, email: 36, organic: 12, search: 42 })
  })

  it('time decay places touches a day apart, the last on the conversion day', () => {
    // two touches: ages 1, 0 -> 2^(-1/7) = 0.905724, 1; email share a = 0.905724 / 1.905724
    // three touches: ages 2, 1, 0 -> 0.820335, 0.905724, 1 (sum 2.726059)
    const a = 2 ** (-1 / 7) / (2 ** (-1 / 7) + 1)
    const t = [2 ** (-2 / 7), 2 ** (-1 / 7), 1]
    const s = t[0]! + t[1]! + t[2]!
    expectClose(conversionsOf(credits.time_decay), {
      banner: 0,
      email: 3 * a + t[1]! / s,
      organic: t[0]! / s,
      search: 3 * (1 - a) + t[2]! / s,
    })
    expectClose(valuesOf(credits.time_decay), {
      banner: 0,
      email: 60 * a + (30 * t[1]!) / s,
      organic: (30 * t[0]!) / s,
      search: 60 * (1 - a) + (30 * t[2]!) / s,
    })
  })

  it('every model credits exactly the 4 conversions and 90 of value', () => {
    for (const model of RULE_MODELS)
      expect(sums(credits[model])).toEqual({ conversions: 4, value: 90 })
  })
})
