import { describe, expect, it } from 'vitest'
import { compileMarkovChain, fitMarkov, fitMarkovChain } from './markov'
import { preparePaths, type AggregatedPath } from './paths'
import { seededRandom } from './random'
import { conversionsOf, expectClose, expectTotals, randomPaths, valuesOf } from './testing'

/**
 * A small graph with a cycle (A → B → … and B → A), eight journeys:
 *
 *   A > B   2 conversions, value 200
 *   A       2 nulls
 *   B       1 conversion, 1 null, value 40
 *   B > A   1 conversion, 1 null, value 20
 *
 * Transition counts, each journey walking its path:
 *   start → A 4, start → B 4                                  P = 1/2, 1/2
 *   A → B 2, A → conv 1, A → null 2 + 1 = 3   (out of 6)      P = 1/3, 1/6, 1/2
 *   B → A 2, B → conv 2 + 1 = 3, B → null 1   (out of 6)      P = 1/3, 1/2, 1/6
 *
 * Conversion probabilities x:
 *   x_A = 1/6 + x_B/3,  x_B = 1/2 + x_A/3
 *   x_A = 1/6 + 1/6 + x_A/9  →  (8/9) x_A = 1/3  →  x_A = 3/8,  x_B = 1/2 + 1/8 = 5/8
 *   x_start = (3/8 + 5/8) / 2 = 1/2          (4 conversions out of 8 journeys)
 * Remove A (x_A = 0): x_B = 1/2, x_start = 1/4          → effect 1 − (1/4)/(1/2) = 1/2
 * Remove B (x_B = 0): x_A = 1/6, x_start = 1/12         → effect 1 − (1/12)/(1/2) = 5/6
 * Shares: A (1/2)/(1/2 + 5/6) = 3/8, B 5/8  →  of 4 conversions: A 1.5, B 2.5
 *
 * Value chain, leaving to conversion earns the state's conversion value per journey leaving it:
 *   earn_A = 20/6 = 10/3,  earn_B = (200 + 40)/6 = 40
 *   y_A = 10/3 + y_B/3,  y_B = 40 + y_A/3  →  y_A = 50/3 + y_A/9  →  y_A = 75/4, y_B = 185/4
 *   y_start = (75/4 + 185/4) / 2 = 32.5      (260 of value over 8 journeys)
 * Remove A: y_B = 40, y_start = 20          → effect 1 − 20/32.5 = 5/13
 * Remove B: y_A = 10/3, y_start = 5/3       → effect 1 − (5/3)/32.5 = 37/39
 * Shares: A (5/13)/(5/13 + 37/39) = 15/52, B 37/52  →  of 260: A 75, B 185
 */
const cycle: AggregatedPath[] = [
  { path: ['A', 'B'], conversions: 2, value: 200, nulls: 0 },
  { path: ['A'], conversions: 0, value: 0, nulls: 2 },
  { path: ['B'], conversions: 1, value: 40, nulls: 1 },
  { path: ['B', 'A'], conversions: 1, value: 20, nulls: 1 },
]

describe('first-order Markov, worked by hand', () => {
  const fit = fitMarkov(preparePaths(cycle))

  it('converges to the conversion probability 1/2', () => {
    expect(fit.converged).toBe(true)
    expect(fit.conversionProbability).toBeCloseTo(0.5, 12)
  })

  it('has removal effects 1/2 for A and 5/6 for B', () => {
    expectClose(fit.removalEffects, { A: 1 / 2, B: 5 / 6 })
  })

  it('credits A 1.5 and B 2.5 of the 4 conversions', () => {
    expectClose(conversionsOf(fit.credits), { A: 1.5, B: 2.5 })
  })

  it('credits value by the value-weighted chain: A 75, B 185 of 260', () => {
    expectClose(fit.valueRemovalEffects, { A: 5 / 13, B: 37 / 39 })
    expectClose(valuesOf(fit.credits), { A: 75, B: 185 }, 9)
  })
})

describe('second-order Markov, worked by hand', () => {
  /**
   *   A > B  1 conversion;  C > B  1 null
   * First order cannot tell the two B's apart: x_B = 1/2, so removing A or C each halves
   * x_start (effects 1/2, 1/2) and removing B zeroes it (1); shares A 1/4, B 1/2, C 1/4.
   * Second order has states (A) → (A,B) → conv and (C) → (C,B) → null, so x_(A) = 1,
   * x_(C) = 0, x_start = 1/2. Removing A (states (A), (A,B)) gives 0: effect 1. Removing C
   * leaves 1/2: effect 0. Removing B ((A,B), (C,B)) gives 0: effect 1. Shares A 1/2, B 1/2.
   */
  const paths: AggregatedPath[] = [
    { path: ['A', 'B'], conversions: 1, value: 10, nulls: 0 },
    { path: ['C', 'B'], conversions: 0, value: 0, nulls: 1 },
  ]

  it('first order spreads credit to C', () => {
    const fit = fitMarkov(preparePaths(paths))
    expectClose(fit.removalEffects, { A: 0.5, B: 1, C: 0.5 })
    expectClose(conversionsOf(fit.credits), { A: 0.25, B: 0.5, C: 0.25 })
  })

  it('second order sees that only A before B converts', () => {
    const fit = fitMarkov(preparePaths(paths), { order: 2 })
    expect(fit.order).toBe(2)
    expect(fit.conversionProbability).toBeCloseTo(0.5, 12)
    expectClose(fit.removalEffects, { A: 1, B: 1, C: 0 })
    expectClose(conversionsOf(fit.credits), { A: 0.5, B: 0.5, C: 0 })
  })

  it('rejects orders outside 1..4', () => {
    expect(() => fitMarkov(preparePaths(paths), { order: 0 })).toThrow(RangeError)
    expect(() => fitMarkov(preparePaths(paths), { order: 5 })).toThrow(RangeError)
    expect(() => fitMarkov(preparePaths(paths), { order: 1.5 })).toThrow(RangeError)
  })
})

describe('Markov properties on random paths', () => {
  const random = seededRandom(2024)
  const datasets = Array.from({ length: 30 }, () => randomPaths(random))

  it('reproduces the observed conversion rate from start (conversions / journeys)', () => {
    // The fitted chain's expected flows equal the observed ones, so from start it converts
    // exactly as often as the data did; likewise for value per journey.
    for (const rows of datasets) {
      const prepared = preparePaths(rows)
      const journeys = rows.reduce((sum, row) => sum + row.conversions + row.nulls, 0)
      const conversions = rows.reduce((sum, row) => sum + row.conversions, 0)
      for (const order of [1, 2, 3]) {
        const fit = fitMarkov(prepared, { order })
        expect(fit.converged).toBe(true)
        expect(fit.conversionProbability).toBeCloseTo(conversions / journeys, 10)
      }
    }
  })

  it('credits sum to conversions and value, and effects lie in [0, 1]', () => {
    for (const rows of datasets) {
      const prepared = preparePaths(rows)
      const conversions = rows.reduce((sum, row) => sum + row.conversions, 0)
      const value = rows.reduce((sum, row) => sum + row.value, 0)
      for (const order of [1, 2]) {
        const fit = fitMarkov(prepared, { order })
        expectTotals(fit.credits, conversions, value)
        for (const effect of Object.values(fit.removalEffects)) {
          expect(effect).toBeGreaterThanOrEqual(0)
          expect(effect).toBeLessThanOrEqual(1)
        }
      }
    }
  })

  it('first-order removal effects ignore runs of the same channel', () => {
    for (const rows of datasets.slice(0, 10)) {
      const collapsed = fitMarkov(preparePaths(rows, { collapse: true }))
      const kept = fitMarkov(preparePaths(rows, { collapse: false }))
      for (const [channel, effect] of Object.entries(collapsed.removalEffects)) {
        expect(kept.removalEffects[channel]).toBeCloseTo(effect, 10)
      }
    }
  })

  it('gives 0 to a channel whose transitions all end in null', () => {
    // 'never' is only ever the end of failed journeys, so x_never = 0 and sending it to null
    // changes nothing.
    const rows = [
      ...datasets[0]!,
      { path: ['never'], conversions: 0, value: 0, nulls: 50 },
      { path: ['a', 'never'], conversions: 0, value: 0, nulls: 5 },
    ]
    const fit = fitMarkov(preparePaths(rows))
    expect(fit.removalEffects.never).toBe(0)
    expect(fit.credits.never).toEqual({ conversions: 0, value: 0 })
  })

  it('is memoryless: a failing channel that leads into a converting one earns credit', () => {
    // Unlike Shapley, first order cannot tell that the journeys through 'never' all failed:
    // never → a is a way into a, and a converts half the time.
    const rows = [
      { path: ['a'], conversions: 1, value: 1, nulls: 1 },
      { path: ['never', 'a'], conversions: 0, value: 0, nulls: 2 },
    ]
    // start → a 2, start → never 2; never → a 2; a → conv 1, a → null 1 + 2 = 3
    // x_a = 1/4, x_never = 1/4, x_start = 1/4; without never: x_start = 1/2 · 1/4 = 1/8 → 1/2
    const fit = fitMarkov(preparePaths(rows))
    expectClose(fit.removalEffects, { a: 1, never: 0.5 })
  })
})

describe('compiled chains', () => {
  it('refit with other counts equals a fresh fit with those counts', () => {
    const prepared = preparePaths(cycle)
    const chain = compileMarkovChain(prepared)
    const doubledNulls = prepared.nulls.map((n) => 2 * n)
    const refit = fitMarkovChain(chain, prepared.conversions, doubledNulls, prepared.values)
    const fresh = fitMarkov(preparePaths(cycle.map((row) => ({ ...row, nulls: 2 * row.nulls }))))
    expectClose(refit.removalEffects, fresh.removalEffects)
  })

  it('answers zeros when nothing converted', () => {
    const fit = fitMarkov(preparePaths([{ path: ['a', 'b'], conversions: 0, value: 0, nulls: 3 }]))
    expect(fit.conversionProbability).toBe(0)
    expect(fit.removalEffects).toEqual({ a: 0, b: 0 })
    expect(fit.credits).toEqual({
      a: { conversions: 0, value: 0 },
      b: { conversions: 0, value: 0 },
    })
  })
})
