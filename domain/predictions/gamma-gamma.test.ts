import { describe, expect, it } from 'vitest'
import { CDNOW_FIRST_TEN, cdnowCustomers } from './cdnow-fixture'
import { expectedValue, fitGammaGamma, logLikelihood, spendProblem } from './gamma-gamma'

/** Hardie's estimates on CDNOW (note 025; lifetimes' test_params_out_is_close_to_Hardie_paper). */
const HARDIE = { p: 6.25, q: 3.74, gamma: 15.44 }

const repeatCustomers = () => cdnowCustomers().filter((c) => c.x > 0)

describe('logLikelihood', () => {
  it('matches a hand computation for two customers', () => {
    // ln L = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(xm+γ).
    // p=1, q=2, γ=1, x=1, m=1: ln Γ(3) − ln Γ(1) − ln Γ(2) + 0 + 0 + 0 − 3 ln 2 = ln 2 − 3 ln 2 = ln(1/4).
    // p=1, q=2, γ=1, x=2, m=3: ln Γ(4) − ln Γ(2) − ln Γ(2) + 0 + ln 3 + 2 ln 2 − 4 ln 7
    //                          = ln(6 · 3 · 4 / 2401) = ln(72/2401).
    const params = { p: 1, q: 2, gamma: 1 }
    const customers = [
      { x: 1, m: 1 },
      { x: 2, m: 3 },
    ]
    expect(logLikelihood(params, customers)).toBeCloseTo(Math.log(1 / 4) + Math.log(72 / 2401), 12)
  })

  it('is NaN outside positive parameters', () => {
    expect(logLikelihood({ p: 0, q: 2, gamma: 1 }, [{ x: 1, m: 1 }])).toBeNaN()
  })
})

describe('expectedValue', () => {
  it('is the population mean pγ/(q−1) with no repeat purchase, and leans to m with more', () => {
    const params = { p: 2, q: 3, gamma: 10 }
    expect(expectedValue(params, { x: 0, m: 0 })).toBe(10)
    // w = px/(px+q−1): 2/4 at x = 1, 20/22 at x = 10.
    expect(expectedValue(params, { x: 1, m: 30 })).toBeCloseTo(0.5 * 10 + 0.5 * 30, 12)
    expect(expectedValue(params, { x: 10, m: 30 })).toBeCloseTo((2 / 22) * 10 + (20 / 22) * 30, 12)
  })

  it('has no finite population mean when q ≤ 1', () => {
    expect(expectedValue({ p: 2, q: 0.8, gamma: 10 }, { x: 0, m: 0 })).toBe(Infinity)
  })

  it("reproduces Hardie's spreadsheet on CDNOW's first ten customers", () => {
    // lifetimes' test_conditional_expected_average_profit (from brucehardie.com/notes/025), atol 0.1.
    const expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    CDNOW_FIRST_TEN.forEach((customer, i) => {
      expect(Math.abs(expectedValue(HARDIE, customer) - expected[i]!)).toBeLessThan(0.1)
    })
  })
})

describe('fitGammaGamma', () => {
  it("finds Hardie's estimates on CDNOW's 946 repeat customers", () => {
    const fit = fitGammaGamma(repeatCustomers())
    expect(fit.customers).toBe(946)
    expect(fit.converged).toBe(true)
    // lifetimes' test, to two decimal places.
    expect(fit.params.p).toBeCloseTo(HARDIE.p, 2)
    expect(fit.params.q).toBeCloseTo(HARDIE.q, 2)
    expect(fit.params.gamma).toBeCloseTo(HARDIE.gamma, 1)
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(logLikelihood(HARDIE, repeatCustomers()))
  })

  it("gives lifetimes' expected values within 5e-5 with the fitted parameters", () => {
    const { params } = fitGammaGamma(repeatCustomers())
    // docs/Quickstart.md, conditional_expected_average_profit of customers 1, 2, 3, 6 and 9.
    const published = [24.658619, 18.911489, 35.170981, 71.462843, 27.282408]
    ;[0, 1, 2, 5, 8].forEach((index, i) => {
      expect(expectedValue(params, CDNOW_FIRST_TEN[index]!)).toBeCloseTo(published[i]!, 4)
    })
  })

  it('answers γ in the data’s currency: cents give a hundred times the dollars’ one', () => {
    const inCents = repeatCustomers().map(({ x, m }) => ({ x, m: m * 100 }))
    const dollars = fitGammaGamma(repeatCustomers()).params
    const cents = fitGammaGamma(inCents).params
    expect(cents.gamma / dollars.gamma).toBeCloseTo(100, 3)
    expect(cents.p).toBeCloseTo(dollars.p, 4)
  })

  it('keeps q above 1 so the population mean stays finite', () => {
    // Wildly spread spend pulls q towards 0 without the constraint.
    const spread = Array.from({ length: 300 }, (_, i) => ({ x: 1, m: 10 ** ((i % 7) - 3) }))
    const fit = fitGammaGamma(spread)
    expect(fit.params.q).toBeGreaterThan(1)
    expect(Number.isFinite(expectedValue(fit.params, { x: 0, m: 0 }))).toBe(true)
  })

  it('names a customer it cannot fit', () => {
    expect(spendProblem({ x: 0, m: 10 })).toBe('x must be a whole number ≥ 1')
    expect(spendProblem({ x: 2, m: 0 })).toBe('m must be a number > 0')
    expect(() =>
      fitGammaGamma([
        { x: 1, m: 5 },
        { x: 0, m: 0 },
      ]),
    ).toThrow('customer 1: x must be a whole number ≥ 1')
    expect(() => fitGammaGamma([])).toThrow('no customers to fit')
  })
})
