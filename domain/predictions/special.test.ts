import { describe, expect, it } from 'vitest'
import { digamma, logGamma, logistic } from './special'

describe('logGamma', () => {
  it('matches log((x−1)!) at whole numbers and log √π at one half', () => {
    let logFactorial = 0
    for (let x = 1; x <= 170; x++) {
      if (x > 1) logFactorial += Math.log(x - 1)
      expect(logGamma(x)).toBeCloseTo(logFactorial, 9)
    }
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13)
  })

  it('is right below 1, where the BG/NBD parameters often are', () => {
    // Γ(1/3) = 2.678938534707747…, Γ(1/4) = 3.625609908221908…, Γ(0.01) = 99.43258511915060…
    expect(logGamma(1 / 3)).toBeCloseTo(Math.log(2.678938534707747), 13)
    expect(logGamma(0.25)).toBeCloseTo(Math.log(3.625609908221908), 13)
    expect(logGamma(0.01)).toBeCloseTo(Math.log(99.4325851191506), 12)
    // Γ(x + 1) = x Γ(x) across the switch at 1/2.
    for (const x of [0.1, 0.24, 0.49, 0.5, 0.79, 2.43]) {
      expect(logGamma(x + 1)).toBeCloseTo(logGamma(x) + Math.log(x), 12)
    }
  })

  it('is NaN outside x > 0', () => {
    expect(logGamma(0)).toBeNaN()
    expect(logGamma(-1.5)).toBeNaN()
  })
})

describe('digamma', () => {
  it('matches known values and the recurrence', () => {
    const eulerGamma = 0.5772156649015329
    expect(digamma(1)).toBeCloseTo(-eulerGamma, 13)
    expect(digamma(0.5)).toBeCloseTo(-eulerGamma - 2 * Math.log(2), 13)
    for (const x of [0.05, 0.24, 3.7, 12.5, 400]) {
      expect(digamma(x + 1)).toBeCloseTo(digamma(x) + 1 / x, 12)
    }
  })

  it('is the derivative of logGamma', () => {
    for (const x of [0.3, 1.7, 8, 55.5]) {
      const h = 1e-5 * x
      const slope = (logGamma(x + h) - logGamma(x - h)) / (2 * h)
      expect(digamma(x)).toBeCloseTo(slope, 7)
    }
  })
})

describe('logistic', () => {
  it('stays in [0, 1] with no overflow at the extremes', () => {
    expect(logistic(0)).toBe(0.5)
    expect(logistic(800)).toBe(1)
    expect(logistic(-800)).toBe(0)
    expect(logistic(-30)).toBeCloseTo(Math.exp(-30), 25)
    expect(logistic(2) + logistic(-2)).toBeCloseTo(1, 15)
  })
})
