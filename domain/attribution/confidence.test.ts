import { describe, expect, it } from 'vitest'
import { bootstrapShares, confidenceScore, isDeterministicPath, quantile } from './confidence'
import type { AggregatedPath } from './paths'
import { syntheticPaths } from './synthetic'

describe('confidenceScore', () => {
  it('is the share of converted value whose every touch is deterministic', () => {
    // 100 fully deterministic, 60 with one inferred touch, 40 with an unmarked touch:
    // 100 / (100 + 60 + 40) = 0.5
    const score = confidenceScore([
      {
        value: 100,
        touches: [
          { channel: 'email', at: 1, deterministic: true },
          { channel: 'search', at: 2, deterministic: true },
        ],
      },
      {
        value: 60,
        touches: [
          { channel: 'email', at: 1, deterministic: true },
          { channel: 'display', at: 2, deterministic: false },
        ],
      },
      { value: 40, touches: [{ channel: 'search', at: 1 }] },
    ])
    expect(score).toEqual({
      score: 0.5,
      basis: 'value',
      conversions: 3,
      deterministicConversions: 1,
      value: 200,
      deterministicValue: 100,
    })
  })

  it('falls back to the share of conversions when nothing carries value', () => {
    const score = confidenceScore([
      { value: 0, touches: [{ channel: 'a', at: 1, deterministic: true }] },
      { value: 0, touches: [{ channel: 'a', at: 1, deterministic: true }] },
      { value: 0, touches: [{ channel: 'a', at: 1 }] },
      { value: 0, touches: [] },
    ])
    expect(score.basis).toBe('conversions')
    expect(score.score).toBe(0.5)
  })

  it('is null with no conversions, and a path without touches is not deterministic', () => {
    expect(confidenceScore([]).score).toBeNull()
    expect(isDeterministicPath([])).toBe(false)
  })
})

describe('quantile', () => {
  it('interpolates between order statistics', () => {
    const sorted = Float64Array.from([1, 2, 3, 4])
    // position (4 − 1) · 0.5 = 1.5 → halfway between 2 and 3
    expect(quantile(sorted, 0.5)).toBe(2.5)
    // position 3 · 0.025 = 0.075 → 1 + 0.075 · (2 − 1)
    expect(quantile(sorted, 0.025)).toBeCloseTo(1.075, 12)
    expect(quantile(sorted, 1)).toBe(4)
  })
})

describe('bootstrapShares', () => {
  const rows = syntheticPaths(4000, { channels: 5, seed: 8, baseRate: 0.05 })

  it('is reproducible for a seed and changes with it', () => {
    const once = bootstrapShares(rows, { replicates: 30, seed: 1 })
    expect(bootstrapShares(rows, { replicates: 30, seed: 1 })).toEqual(once)
    expect(bootstrapShares(rows, { replicates: 30, seed: 2 })).not.toEqual(once)
  })

  it('brackets each share with an interval that narrows with more data', () => {
    const small = bootstrapShares(rows, { replicates: 100 })
    // The same journeys ten times over: same shares, about 1/√10 the spread.
    const large = bootstrapShares(
      rows.map((row) => ({
        ...row,
        conversions: 10 * row.conversions,
        value: 10 * row.value,
        nulls: 10 * row.nulls,
      })),
      { replicates: 100 },
    )
    expect(small.replicates).toBe(100)
    expect(small.level).toBe(0.95)
    for (const model of ['markov', 'shapley'] as const) {
      let shareSum = 0
      for (const [channel, interval] of Object.entries(small[model])) {
        const { share, low, high } = interval.conversions
        shareSum += share
        expect(low).toBeLessThanOrEqual(share + 1e-12)
        expect(high).toBeGreaterThanOrEqual(share - 1e-12)
        expect(high - low).toBeGreaterThan(0)
        const wide = high - low
        const narrow =
          large[model][channel]!.conversions.high - large[model][channel]!.conversions.low
        expect(large[model][channel]!.conversions.share).toBeCloseTo(share, 9)
        expect(narrow).toBeLessThan(0.6 * wide)
        expect(interval.value.low).toBeLessThanOrEqual(interval.value.high)
      }
      expect(shareSum).toBeCloseTo(1, 12)
    }
  })

  it('gives a rarely seen channel a wider interval than a common one', () => {
    const paths: AggregatedPath[] = [
      { path: ['common'], conversions: 400, value: 4000, nulls: 4000 },
      { path: ['rare'], conversions: 4, value: 40, nulls: 40 },
      { path: ['common', 'rare'], conversions: 4, value: 40, nulls: 40 },
    ]
    const { shapley } = bootstrapShares(paths, { replicates: 200 })
    const relative = (i: { share: number; low: number; high: number }) => (i.high - i.low) / i.share
    expect(relative(shapley.rare!.conversions)).toBeGreaterThan(
      3 * relative(shapley.common!.conversions),
    )
  })

  it('rejects nonsense options', () => {
    expect(() => bootstrapShares(rows, { replicates: 0 })).toThrow(RangeError)
    expect(() => bootstrapShares(rows, { level: 1 })).toThrow(RangeError)
  })
})
