import { describe, expect, it } from 'vitest'
import { apportion, channelCredits, preciseSum } from './credits'
import { seededRandom } from './random'

describe('apportion', () => {
  it('splits in proportion: 1 by 1:2:1 is 0.25, 0.5, 0.25', () => {
    expect(apportion([1, 2, 1], 1)).toEqual([0.25, 0.5, 0.25])
  })

  it('makes splits that do not add up in binary add up exactly', () => {
    // Ten equal parts of 1 are 0.1 each, and 0.1 added ten times is 0.9999999999999999;
    // the largest part (the first of equals) absorbs the difference.
    const naive = new Array(10).fill(0.1).reduce((a: number, b: number) => a + b, 0)
    expect(naive).not.toBe(1)
    const parts = apportion(new Array(10).fill(1), 1)
    expect(parts.reduce((a, b) => a + b, 0)).toBe(1)
    for (const part of parts) expect(part).toBeCloseTo(0.1, 15)
  })

  it('adds up exactly for thousands of random weights and totals', () => {
    const random = seededRandom(99)
    for (let trial = 0; trial < 5000; trial++) {
      const weights = Array.from({ length: 1 + Math.floor(random() * 12) }, (): number =>
        random() < 0.2 ? 0 : random() ** 3 * 1e3,
      )
      if (!weights.some((w) => w > 0)) weights[0] = 1
      const total = random() < 0.5 ? 1 : Math.round(random() * 1e7) / 100
      const parts = apportion(weights, total)
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total)
      const sum = weights.reduce((a, b) => a + b, 0)
      parts.forEach((part, i) => {
        expect(Math.abs(part - (total * weights[i]!) / sum)).toBeLessThanOrEqual(1e-12 * total)
      })
    }
  })

  it('returns zeros for a zero total and refuses weights it cannot split by', () => {
    expect(apportion([0, 0], 0)).toEqual([0, 0])
    expect(() => apportion([0, 0], 1)).toThrow(RangeError)
    expect(() => apportion([1, -1], 1)).toThrow(RangeError)
    expect(() => apportion([1, NaN], 1)).toThrow(RangeError)
  })
})

describe('channelCredits', () => {
  it('lists every channel, zeros included', () => {
    expect(
      channelCredits(['a', 'b', 'c'], [1, 0, 3], [1, 0, 1], { conversions: 2, value: 10 }),
    ).toEqual({
      a: { conversions: 0.5, value: 5 },
      b: { conversions: 0, value: 0 },
      c: { conversions: 1.5, value: 5 },
    })
  })
})

describe('preciseSum', () => {
  it('does not drift where plain addition does', () => {
    const tenths = new Array(1000).fill(0.1)
    expect(tenths.reduce((a, b) => a + b, 0)).not.toBe(100)
    expect(preciseSum(tenths)).toBe(100)
    expect(preciseSum([1e16, 1, -1e16])).toBe(1)
  })
})
