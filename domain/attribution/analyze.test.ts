import { describe, expect, it } from 'vitest'
import { analyzePaths, MODEL_NAMES } from './analyze'
import type { AggregatedPath } from './paths'
import { seededRandom } from './random'
import { syntheticPaths } from './synthetic'
import { conversionsOf, expectClose, expectTotals, randomPaths, sums } from './testing'

/**
 * Two paths, 3 conversions worth 90, 5 journeys in all:
 *   email > search   2 conversions, value 60, 1 null
 *   search           1 conversion,  value 30, 1 null
 * first: email 2, search 1        last / last non-direct: search 3
 * linear: email 2 × 1/2 = 1, search 1 + 1 = 2      position: the same (two touches are 50/50)
 * time decay (touches a day apart): email 2 × w, search 2 × (1 − w) + 1, w = 2^(-1/7)/(2^(-1/7)+1)
 * Markov: start → email 3, start → search 2; email → search 3; search → conv 3, search → null 2
 *   x_search = 3/5, x_email = 3/5, x_start = 3/5; removing email: x_start = 2/5 · 3/5 = 6/25
 *   effect email = 1 − (6/25)/(3/5) = 3/5; removing search: 0, effect 1
 *   shares 3/8, 5/8 of 3: email 1.125, search 1.875
 * Shapley: {email, search} worth 2 split evenly, {search} worth 1: email 1, search 2
 */
const paths: AggregatedPath[] = [
  { path: ['email', 'search'], conversions: 2, value: 60, nulls: 1 },
  { path: ['search'], conversions: 1, value: 30, nulls: 1 },
]

describe('analyzePaths', () => {
  const result = analyzePaths(paths)

  it('answers every model and the removal effects', () => {
    expect(Object.keys(result.models)).toEqual([...MODEL_NAMES])
    for (const model of MODEL_NAMES)
      expect(Object.keys(result.models[model])).toEqual(['email', 'search'])
    expectClose(result.removalEffects, { email: 3 / 5, search: 1 })
  })

  it('matches the hand computation for every model', () => {
    const w = 2 ** (-1 / 7) / (2 ** (-1 / 7) + 1)
    const expected = {
      first: { email: 2, search: 1 },
      last: { email: 0, search: 3 },
      last_non_direct: { email: 0, search: 3 },
      linear: { email: 1, search: 2 },
      time_decay: { email: 2 * w, search: 2 * (1 - w) + 1 },
      position: { email: 1, search: 2 },
      markov: { email: 1.125, search: 1.875 },
      shapley: { email: 1, search: 2 },
    }
    for (const model of MODEL_NAMES) {
      expectClose(conversionsOf(result.models[model]), expected[model])
      expect(sums(result.models[model])).toEqual({ conversions: 3, value: 90 })
    }
  })

  it('reports how it got there', () => {
    expect(result.diagnostics).toMatchObject({
      rows: 2,
      uniquePaths: 2,
      channels: 2,
      conversions: 3,
      value: 90,
      nulls: 2,
      collapsed: true,
      markov: { order: 1, converged: true },
      shapley: { method: 'exact', samples: 0 },
    })
    expect(result.diagnostics.markov.conversionProbability).toBeCloseTo(3 / 5, 12)
  })

  it('collapses runs unless asked not to', () => {
    const repeated = [{ path: ['email', 'email', 'search'], conversions: 1, value: 3, nulls: 0 }]
    expectClose(conversionsOf(analyzePaths(repeated).models.linear), { email: 0.5, search: 0.5 })
    expectClose(conversionsOf(analyzePaths(repeated, { collapse: false }).models.linear), {
      email: 2 / 3,
      search: 1 / 3,
    })
  })

  it('passes model options through', () => {
    const second = analyzePaths(paths, { markovOrder: 2, shapley: { method: 'closed_form' } })
    expect(second.diagnostics.markov.order).toBe(2)
    expect(second.diagnostics.shapley.method).toBe('closed_form')
  })
})

describe('analyzePaths properties', () => {
  it('every model credits exactly the conversions and the value, on many random path sets', () => {
    const random = seededRandom(31337)
    for (let trial = 0; trial < 60; trial++) {
      const rows = randomPaths(random, {
        rows: 1 + Math.floor(random() * 80),
        channels: ['direct', 'email', 'search', 'social', 'display', 'referral', 'sms'].slice(
          0,
          2 + Math.floor(random() * 6),
        ),
        maxLength: 1 + Math.floor(random() * 8),
      })
      const conversions = rows.reduce((sum, row) => sum + row.conversions, 0)
      const value = rows.reduce((sum, row) => sum + row.value, 0)
      const result = analyzePaths(rows, {
        collapse: random() < 0.5,
        markovOrder: 1 + Math.floor(random() * 3),
      })
      for (const model of MODEL_NAMES) expectTotals(result.models[model], conversions, value)
    }
  })

  it('fits 10,000 rows in well under a few seconds', () => {
    const rows = syntheticPaths(10_000, { channels: 12, seed: 4 })
    const started = performance.now()
    const result = analyzePaths(rows)
    const elapsed = performance.now() - started
    expect(elapsed).toBeLessThan(3000)
    expect(result.diagnostics.rows).toBe(10_000)
    const conversions = rows.reduce((sum, row) => sum + row.conversions, 0)
    const value = rows.reduce((sum, row) => sum + row.value, 0)
    for (const model of MODEL_NAMES) expectTotals(result.models[model], conversions, value)
  })

  it('handles a set with no conversions at all', () => {
    const result = analyzePaths([{ path: ['a', 'b'], conversions: 0, value: 0, nulls: 5 }])
    for (const model of MODEL_NAMES) {
      expect(result.models[model]).toEqual({
        a: { conversions: 0, value: 0 },
        b: { conversions: 0, value: 0 },
      })
    }
    expect(result.removalEffects).toEqual({ a: 0, b: 0 })
  })
})
