import { describe, expect, it } from 'vitest'
import { preparePaths, type AggregatedPath } from './paths'
import { seededRandom } from './random'
import { fitShapley } from './shapley'
import { conversionsOf, expectClose, expectTotals, randomPaths, valuesOf } from './testing'

/**
 *   {A}     3 conversions, value 30
 *   {A, B}  6 conversions, value 120   (as B > A)
 *   {B, C}  3 conversions, value 60
 *   {C}     5 nulls only
 *   {D}     4 nulls only, D never on a converting path
 *
 * v(S) = conversions of paths whose channels lie inside S:
 *   v(A) = 3, v(B) = v(C) = 0, v(AB) = 9, v(AC) = 3, v(BC) = 3, v(ABC) = 12 (D adds nothing)
 * A's marginal contribution in each of the 6 join orders of A, B, C:
 *   ABC: v(A) − v(∅) = 3      ACB: 3
 *   BAC: v(AB) − v(B) = 9     BCA: v(ABC) − v(BC) = 9
 *   CAB: v(AC) − v(C) = 3     CBA: v(ABC) − v(BC) = 9
 *   A = (3 + 3 + 9 + 9 + 3 + 9) / 6 = 36/6 = 6
 * B: ABC: v(AB) − v(A) = 6; ACB: v(ABC) − v(AC) = 9; BAC: 0; BCA: 0; CAB: 9; CBA: v(BC) − v(C) = 3
 *   B = 27/6 = 4.5, and C = 12 − 6 − 4.5 = 1.5
 * The closed form agrees: A = 3 + 6/2 = 6, B = 6/2 + 3/2 = 4.5, C = 3/2 = 1.5.
 * Value the same way: A = 30 + 120/2 = 90, B = 120/2 + 60/2 = 90, C = 60/2 = 30.
 */
const example: AggregatedPath[] = [
  { path: ['A'], conversions: 3, value: 30, nulls: 0 },
  { path: ['B', 'A'], conversions: 6, value: 120, nulls: 2 },
  { path: ['B', 'C'], conversions: 3, value: 60, nulls: 1 },
  { path: ['C'], conversions: 0, value: 0, nulls: 5 },
  { path: ['D'], conversions: 0, value: 0, nulls: 4 },
]

describe('Shapley, worked by hand', () => {
  for (const method of ['exact', 'closed_form'] as const) {
    it(`${method}: A 6, B 4.5, C 1.5, D 0; value 90, 90, 30, 0`, () => {
      const fit = fitShapley(preparePaths(example), { method })
      expect(fit.method).toBe(method)
      expectClose(conversionsOf(fit.credits), { A: 6, B: 4.5, C: 1.5, D: 0 })
      expectClose(valuesOf(fit.credits), { A: 90, B: 90, C: 30, D: 0 })
      expectClose(conversionsOf(fit.standardError), { A: 0, B: 0, C: 0, D: 0 })
    })
  }

  it('sampled: within four standard errors of the exact values', () => {
    const fit = fitShapley(preparePaths(example), { method: 'sampled', samples: 4000, seed: 5 })
    expect(fit.samples).toBe(4000)
    const exact = { A: 6, B: 4.5, C: 1.5, D: 0 }
    for (const [channel, value] of Object.entries(exact)) {
      const error = fit.standardError[channel]!.conversions
      expect(Math.abs(fit.credits[channel]!.conversions - value)).toBeLessThanOrEqual(
        4 * error + 1e-9,
      )
    }
    // A's marginal is 3 or 9 with equal odds: sd 3, so its standard error is 3/√4000 ≈ 0.047.
    expect(fit.standardError.A!.conversions).toBeCloseTo(3 / Math.sqrt(4000), 2)
    expect(fit.standardError.D!.conversions).toBe(0)
  })

  it('sampled: the same seed gives the same result', () => {
    const once = fitShapley(preparePaths(example), { method: 'sampled', samples: 50, seed: 9 })
    const again = fitShapley(preparePaths(example), { method: 'sampled', samples: 50, seed: 9 })
    const other = fitShapley(preparePaths(example), { method: 'sampled', samples: 50, seed: 10 })
    expect(again).toEqual(once)
    expect(other.credits).not.toEqual(once.credits)
  })
})

describe('choosing the method', () => {
  const wide = (channels: number): AggregatedPath[] =>
    Array.from({ length: channels }, (_, i) => ({
      path: [`c${i}`, `c${(i + 1) % channels}`],
      conversions: i + 1,
      value: 10 * (i + 1),
      nulls: 1,
    }))

  it('auto is exact up to 12 contributing channels and closed form beyond', () => {
    expect(fitShapley(preparePaths(wide(12))).method).toBe('exact')
    expect(fitShapley(preparePaths(wide(13))).method).toBe('closed_form')
    expect(fitShapley(preparePaths(wide(13)), { exactMaxChannels: 13 }).method).toBe('exact')
  })

  it('counts only contributing channels against the exact limit', () => {
    const rows = [
      ...wide(12),
      ...Array.from({ length: 30 }, (_, i) => ({
        path: [`idle${i}`],
        conversions: 0,
        value: 0,
        nulls: 1,
      })),
    ]
    const fit = fitShapley(preparePaths(rows))
    expect(fit.method).toBe('exact')
    expect(fit.credits.idle7).toEqual({ conversions: 0, value: 0 })
  })

  it('refuses exact enumeration past 20 channels and bad options', () => {
    expect(() => fitShapley(preparePaths(wide(21)), { method: 'exact' })).toThrow(RangeError)
    expect(() => fitShapley(preparePaths(wide(3)), { exactMaxChannels: 21 })).toThrow(RangeError)
    expect(() => fitShapley(preparePaths(wide(3)), { method: 'sampled', samples: 1 })).toThrow(
      RangeError,
    )
  })

  it('closed form and exact agree at 16 channels', () => {
    const prepared = preparePaths(
      randomPaths(seededRandom(16), {
        rows: 300,
        channels: Array.from({ length: 16 }, (_, i) => `k${i}`),
      }),
    )
    const exact = fitShapley(prepared, { method: 'exact' })
    const closed = fitShapley(prepared, { method: 'closed_form' })
    for (const channel of prepared.channels) {
      expect(exact.credits[channel]!.conversions).toBeCloseTo(
        closed.credits[channel]!.conversions,
        9,
      )
      expect(exact.credits[channel]!.value).toBeCloseTo(closed.credits[channel]!.value, 7)
    }
  })
})

describe('Shapley properties on random paths', () => {
  const random = seededRandom(77)
  const datasets = Array.from({ length: 40 }, () => randomPaths(random))

  it('credits sum to conversions and value (efficiency), for every method', () => {
    for (const rows of datasets) {
      const conversions = rows.reduce((sum, row) => sum + row.conversions, 0)
      const value = rows.reduce((sum, row) => sum + row.value, 0)
      for (const method of ['exact', 'closed_form', 'sampled'] as const) {
        expectTotals(
          fitShapley(preparePaths(rows), { method, samples: 50 }).credits,
          conversions,
          value,
        )
      }
    }
  })

  it('exact and closed form agree; sampling lands within five standard errors', () => {
    for (const rows of datasets.slice(0, 10)) {
      const prepared = preparePaths(rows)
      const exact = fitShapley(prepared, { method: 'exact' })
      const closed = fitShapley(prepared, { method: 'closed_form' })
      const sampled = fitShapley(prepared, { method: 'sampled', samples: 2000, seed: 3 })
      for (const channel of prepared.channels) {
        const truth = exact.credits[channel]!.conversions
        expect(closed.credits[channel]!.conversions).toBeCloseTo(truth, 9)
        const error = sampled.standardError[channel]!.conversions
        expect(Math.abs(sampled.credits[channel]!.conversions - truth)).toBeLessThanOrEqual(
          5 * error + 1e-9,
        )
      }
    }
  })

  it('gives exactly 0 to a null player: a channel only on paths that never convert', () => {
    for (const rows of datasets) {
      // 'ghost' joins real paths, but only copies of them that did not convert.
      const ghostly = rows
        .filter((row) => row.nulls > 0)
        .map((row) => ({
          path: ['ghost', ...row.path],
          conversions: 0,
          value: 0,
          nulls: row.nulls,
        }))
      const fit = fitShapley(preparePaths([...rows, ...ghostly]), { method: 'exact' })
      expect(fit.credits.ghost ?? { conversions: 0, value: 0 }).toEqual({
        conversions: 0,
        value: 0,
      })
      // ...and the others' credits are the same as without it.
      const without = fitShapley(preparePaths(rows), { method: 'exact' })
      for (const [channel, credit] of Object.entries(without.credits)) {
        expect(fit.credits[channel]!.conversions).toBeCloseTo(credit.conversions, 9)
      }
    }
  })

  it('gives equal credit to symmetric channels', () => {
    // Mirroring every row with x and y swapped makes x and y interchangeable in v.
    for (const rows of datasets) {
      const labelled = rows.map((row) => ({
        ...row,
        path: row.path.map((c) => (c === 'a' ? 'x' : c === 'b' ? 'y' : c)),
      }))
      const mirrored = labelled.map((row) => ({
        ...row,
        path: row.path.map((c) => (c === 'x' ? 'y' : c === 'y' ? 'x' : c)),
      }))
      for (const method of ['exact', 'closed_form'] as const) {
        const fit = fitShapley(preparePaths([...labelled, ...mirrored]), { method })
        const x = fit.credits.x ?? { conversions: 0, value: 0 }
        const y = fit.credits.y ?? { conversions: 0, value: 0 }
        expect(x.conversions).toBeCloseTo(y.conversions, 9)
        expect(x.value).toBeCloseTo(y.value, 7)
      }
    }
  })

  it('ignores order and repeats within a path: only the channel set matters', () => {
    const rows = datasets[0]!
    const reordered = rows.map((row) => ({
      ...row,
      path: [...row.path].reverse().concat(row.path),
    }))
    const a = fitShapley(preparePaths(rows))
    const b = fitShapley(preparePaths(reordered))
    for (const [channel, credit] of Object.entries(a.credits)) {
      expect(b.credits[channel]!.conversions).toBeCloseTo(credit.conversions, 9)
    }
  })
})
