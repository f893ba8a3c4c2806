import { describe, expect, it } from 'vitest'
import { analyzePaths, MODEL_NAMES } from './analyze'
import { preparePaths, type Conversion } from './paths'
import { seededRandom } from './random'
import {
  creditConversionAllModels,
  creditMarkovConversion,
  creditShapleyConversion,
} from './realtime'
import { fitShapley } from './shapley'
import { conversionsOf, expectClose, randomPaths, sums, valuesOf } from './testing'

const conversion: Conversion = {
  at: 10,
  value: 90,
  touches: [
    { channel: 'email', at: 1 },
    { channel: 'search', at: 2 },
    { channel: 'email', at: 3 },
  ],
}

describe('creditMarkovConversion', () => {
  it('splits by the fitted removal effects of the channels on the path', () => {
    // email 0.2, search 0.6 → 1/4 and 3/4; value by value effects 0.5 : 0.5
    const credits = creditMarkovConversion(conversion, {
      removalEffects: { email: 0.2, search: 0.6, display: 0.9 },
      valueRemovalEffects: { email: 0.5, search: 0.5 },
    })
    expectClose(conversionsOf(credits), { email: 0.25, search: 0.75 })
    expectClose(valuesOf(credits), { email: 45, search: 45 })
  })

  it('gives a channel the fit has not seen the mean fitted effect', () => {
    // fitted mean (0.2 + 0.6) / 2 = 0.4 for 'sms': shares 0.2 : 0.4 → 1/3, 2/3
    const credits = creditMarkovConversion(
      {
        at: 5,
        value: 3,
        touches: [
          { channel: 'email', at: 1 },
          { channel: 'sms', at: 2 },
        ],
      },
      { removalEffects: { email: 0.2, search: 0.6 } },
    )
    expectClose(conversionsOf(credits), { email: 1 / 3, sms: 2 / 3 })
  })

  it('splits evenly when nothing on the path has weight', () => {
    const credits = creditMarkovConversion(conversion, { removalEffects: { email: 0, search: 0 } })
    expectClose(conversionsOf(credits), { email: 0.5, search: 0.5 })
    expect(sums(creditMarkovConversion(conversion, { removalEffects: {} }))).toEqual({
      conversions: 1,
      value: 90,
    })
  })
})

describe('creditShapleyConversion', () => {
  it('splits evenly among distinct channels', () => {
    expectClose(valuesOf(creditShapleyConversion(conversion)), { email: 45, search: 45 })
  })

  it('adds up, over every conversion, to the fitted Shapley credits', () => {
    const rows = randomPaths(seededRandom(12), { rows: 60 })
    const perConversion: Record<string, number> = {}
    for (const row of rows) {
      if (row.conversions === 0) continue
      const credits = creditShapleyConversion({
        at: 0,
        value: row.value,
        touches: row.path.map((channel, i) => ({ channel, at: i })),
      })
      for (const [channel, credit] of Object.entries(credits)) {
        perConversion[channel] =
          (perConversion[channel] ?? 0) + credit.conversions * row.conversions
      }
    }
    const fitted = fitShapley(preparePaths(rows), { method: 'exact' })
    for (const [channel, total] of Object.entries(perConversion)) {
      expect(fitted.credits[channel]!.conversions).toBeCloseTo(total, 9)
    }
  })
})

describe('creditConversionAllModels', () => {
  it('credits exactly 1 and the value under every model, with fitted weights from analyzePaths', () => {
    const random = seededRandom(4)
    const rows = randomPaths(random, { rows: 50 })
    const fit = analyzePaths(rows)
    const fitted = {
      removalEffects: fit.removalEffects,
      valueRemovalEffects: fit.diagnostics.markov.valueRemovalEffects,
    }
    for (let trial = 0; trial < 300; trial++) {
      const touches = Array.from({ length: Math.floor(random() * 7) }, (_, i) => ({
        channel: ['a', 'b', 'c', 'd', 'e', 'new'][Math.floor(random() * 6)]!,
        at: i * 3_600_000 * random() * 48,
      }))
      const value = Math.round(random() * 10_000) / 100
      const credits = creditConversionAllModels({ at: 200 * 3_600_000, value, touches }, fitted)
      expect(Object.keys(credits)).toEqual([...MODEL_NAMES])
      for (const model of MODEL_NAMES) {
        expect(sums(credits[model])).toEqual({ conversions: 1, value })
      }
    }
  })
})
