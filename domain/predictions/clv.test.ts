import { describe, expect, it } from 'vitest'
import { expectedPurchases, fitBgnbd } from './bgnbd'
import { CDNOW_FIRST_TEN, cdnowCustomers } from './cdnow-fixture'
import { churnRisk, customerLifetimeValue } from './clv'
import { expectedValue, fitGammaGamma } from './gamma-gamma'

describe('customerLifetimeValue', () => {
  it("reproduces lifetimes' CLV of CDNOW's first ten customers", () => {
    const customers = cdnowCustomers()
    const bgnbd = fitBgnbd(customers).params
    const gammaGamma = fitGammaGamma(customers.filter((c) => c.x > 0)).params
    // docs/Quickstart.md: customer_lifetime_value(bgf, …, time=12, discount_rate=0.01). Its freq
    // defaults to "D", so on CDNOW's weekly data each of the twelve "months" is 30 weeks long.
    const published = [
      140.096211, 18.943467, 38.180574, 38.180574, 38.180574, 1003.868107, 28.109683, 38.180574,
      167.418216, 38.180574,
    ]
    CDNOW_FIRST_TEN.forEach((customer, i) => {
      const clv = customerLifetimeValue(bgnbd, gammaGamma, customer, {
        periods: 12,
        periodLength: 30,
        discountRate: 0.01,
      })
      expect(clv / published[i]! - 1).toBeCloseTo(0, 6)
    })
  })

  it('adds undiscounted purchases × value at rate 0, and halves a period at rate 1', () => {
    // As lifetimes' test_customer_lifetime_value_with_known_values checks.
    const bgnbd = { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43 }
    const gammaGamma = { p: 6.25, q: 3.74, gamma: 15.44 }
    const customer = { x: 3, tx: 20, T: 30, m: 40 }
    const value = expectedValue(gammaGamma, customer)
    const oneWeek = expectedPurchases(bgnbd, customer, 1)
    const options = { periods: 1, periodLength: 1 }
    expect(
      customerLifetimeValue(bgnbd, gammaGamma, customer, { ...options, discountRate: 0 }),
    ).toBeCloseTo(value * oneWeek, 12)
    expect(
      customerLifetimeValue(bgnbd, gammaGamma, customer, { ...options, discountRate: 1 }),
    ).toBeCloseTo((value * oneWeek) / 2, 12)
    const year = customerLifetimeValue(bgnbd, gammaGamma, customer, {
      periods: 52,
      periodLength: 1,
      discountRate: 0,
    })
    expect(year).toBeCloseTo(value * expectedPurchases(bgnbd, customer, 52), 10)
  })
})

describe('churnRisk', () => {
  it('is engagement alone for a contact who never bought or before any fit', () => {
    expect(churnRisk({ engagement: 80 })).toBeCloseTo(0.2, 15)
    expect(churnRisk({ engagement: 0 })).toBe(1)
    expect(churnRisk({ engagement: 30, x: 4 })).toBeCloseTo(0.7, 15)
  })

  it('blends the model in by a third per repeat purchase, and is the model alone from three', () => {
    const engagement = 40 // 0.6 from engagement
    const pAlive = 0.9 // 0.1 from the model
    expect(churnRisk({ engagement, x: 0, pAlive: 1 })).toBeCloseTo(0.6, 15)
    expect(churnRisk({ engagement, x: 1, pAlive })).toBeCloseTo(0.1 / 3 + (2 / 3) * 0.6, 15)
    expect(churnRisk({ engagement, x: 2, pAlive })).toBeCloseTo((2 / 3) * 0.1 + 0.6 / 3, 15)
    expect(churnRisk({ engagement, x: 3, pAlive })).toBeCloseTo(0.1, 15)
    expect(churnRisk({ engagement, x: 40, pAlive })).toBeCloseTo(0.1, 15)
  })

  it('stays within 0–1 whatever engagement it is given', () => {
    expect(churnRisk({ engagement: 140 })).toBe(0)
    expect(churnRisk({ engagement: -5 })).toBe(1)
  })
})
