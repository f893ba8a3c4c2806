import { describe, expect, it } from 'vitest'
import { logGamma, poisson, randomInt, seededRandom, shuffle } from './random'

describe('seededRandom', () => {
  it('repeats a stream for the same seed and differs across seeds', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    const c = seededRandom(43)
    const first = Array.from({ length: 5 }, a)
    expect(Array.from({ length: 5 }, b)).toEqual(first)
    expect(Array.from({ length: 5 }, c)).not.toEqual(first)
  })

  it('is uniform enough in [0, 1): ten bins within 5% of 10,000 each', () => {
    const random = seededRandom(7)
    const bins = new Array(10).fill(0)
    let low = 1
    let high = 0
    for (let i = 0; i < 100_000; i++) {
      const u = random()
      low = Math.min(low, u)
      high = Math.max(high, u)
      bins[Math.floor(u * 10)]++
    }
    expect(low).toBeGreaterThanOrEqual(0)
    expect(high).toBeLessThan(1)
    for (const count of bins) expect(Math.abs(count - 10_000)).toBeLessThan(500)
  })

  it('shuffles into a permutation and draws integers in range', () => {
    const random = seededRandom(3)
    const items = [0, 1, 2, 3, 4, 5, 6, 7]
    shuffle(random, items)
    expect(items.slice().sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    for (let i = 0; i < 1000; i++) {
      const k = randomInt(random, 3)
      expect([0, 1, 2]).toContain(k)
    }
  })
})

describe('logGamma', () => {
  it('matches log((x-1)!) for integers', () => {
    let logFactorial = 0
    for (let x = 1; x <= 170; x++) {
      if (x > 1) logFactorial += Math.log(x - 1)
      expect(logGamma(x)).toBeCloseTo(logFactorial, 8)
    }
  })
})

describe('poisson', () => {
  // Mean and variance of Poisson(λ) are both λ; with 20,000 draws the sample mean's standard
  // error is sqrt(λ/20000), and 5 standard errors is a loose but failing-when-wrong bound.
  it.each([0.3, 3, 9.5, 10, 55, 2_000])('has mean and variance λ = %d', (lambda) => {
    const random = seededRandom(11)
    const n = 20_000
    let sum = 0
    let squares = 0
    for (let i = 0; i < n; i++) {
      const k = poisson(random, lambda)
      expect(Number.isInteger(k) && k >= 0).toBe(true)
      sum += k
      squares += k * k
    }
    const mean = sum / n
    const variance = squares / n - mean * mean
    expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n))
    expect(Math.abs(variance / lambda - 1)).toBeLessThan(0.06)
  })

  it('returns 0 for λ = 0', () => {
    expect(poisson(seededRandom(1), 0)).toBe(0)
  })
})
