import { describe, expect, it } from 'vitest'
import {
  type BgnbdParams,
  expectedPurchases,
  expectedPurchasesNew,
  fitBgnbd,
  groupSummaries,
  lapseProbability,
  logLikelihood,
  pAlive,
  summaryProblem,
} from './bgnbd'
import { cdnowCustomers } from './cdnow-fixture'
import { logGamma } from './special'

/** Whole-number parameters, so every Γ and B below is a factorial. */
const SIMPLE: BgnbdParams = { r: 2, alpha: 1, a: 1, b: 2 }

/** Hardie's estimates on CDNOW (the paper; lifetimes' test_params_out_is_close_to_Hardie_paper). */
const PAPER: BgnbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }

describe('logLikelihood', () => {
  it('matches a hand computation for four customers', () => {
    // L = B(a,b+x)/B(a,b) · Γ(r+x)α^r/(Γ(r)(α+T)^(r+x))
    //   + [x>0] B(a+1,b+x−1)/B(a,b) · Γ(r+x)α^r/(Γ(r)(α+tx)^(r+x)), with r=2, α=1, a=1, b=2:
    // x=0, T=1:          (1/2)^2                                          = 1/4
    // x=1, tx=1, T=2:    B(1,3)/B(1,2)=2/3, Γ(3)/Γ(2)=2, 3^-3; B(2,2)/B(1,2)=1/3, 2^-3
    //                    → 2/3·2/27 + 1/3·2/8 = 4/81 + 1/12               = 43/324
    // x=2, tx=3, T=4:    B(1,4)/B(1,2)=1/2, Γ(4)/Γ(2)=6, 5^-4; B(2,3)/B(1,2)=1/6, 4^-4
    //                    → 1/2·6/625 + 1/6·6/256 = 3/625 + 1/256          = 1393/160000
    // x=1, tx=0.5, T=2:  4/81 + 1/3·2/1.5^3 = 4/81 + 16/81                = 20/81
    const customers = [
      { x: 0, tx: 0, T: 1 },
      { x: 1, tx: 1, T: 2 },
      { x: 2, tx: 3, T: 4 },
      { x: 1, tx: 0.5, T: 2 },
    ]
    const byHand =
      Math.log(1 / 4) + Math.log(43 / 324) + Math.log(1393 / 160000) + Math.log(20 / 81)
    expect(logLikelihood(SIMPLE, customers)).toBeCloseTo(byHand, 12)
  })

  it('counts grouped customers by their weight', () => {
    const one = { x: 1, tx: 1, T: 2 }
    const groups = groupSummaries([one, { x: 0, tx: 0, T: 1 }, one, one])
    expect(Array.from(groups.weight)).toEqual([3, 1])
    expect(groups.customers).toBe(4)
    expect(logLikelihood(SIMPLE, groups)).toBeCloseTo(3 * Math.log(43 / 324) + Math.log(1 / 4), 12)
  })

  it('stays finite for a customer whose two terms underflow on their own', () => {
    // (α+T)^−(r+x) is about 1e-3000 here: summed as plain numbers, ln(0 + 0) would be −∞.
    const frequent = { x: 1500, tx: 99, T: 100 }
    expect((PAPER.alpha + frequent.T) ** -(PAPER.r + frequent.x)).toBe(0)
    expect(Number.isFinite(logLikelihood(PAPER, [frequent]))).toBe(true)
  })

  it('reproduces the paper on CDNOW: −9582.4 at the published estimates', () => {
    const customers = cdnowCustomers()
    expect(customers).toHaveLength(2357)
    expect(logLikelihood(PAPER, customers)).toBeCloseTo(-9582.4, 1)
  })
})

describe('summaryProblem and grouping', () => {
  it('names what is wrong with a summary', () => {
    expect(summaryProblem({ x: 2, tx: 3, T: 4 })).toBeNull()
    expect(summaryProblem({ x: 1.5, tx: 3, T: 4 })).toMatch(/^x/)
    expect(summaryProblem({ x: 2, tx: 5, T: 4 })).toMatch(/^tx/)
    expect(summaryProblem({ x: 0, tx: 1, T: 4 })).toBe('tx must be 0 when x is 0')
    expect(summaryProblem({ x: 0, tx: 0, T: -1 })).toMatch(/^T/)
    expect(() =>
      groupSummaries([
        { x: 0, tx: 0, T: 1 },
        { x: 1, tx: 2, T: 1 },
      ]),
    ).toThrow('customer 1: tx must be between 0 and T')
  })
})

describe('pAlive', () => {
  it('is 1 for a customer with no repeat purchase, whatever their age', () => {
    expect(pAlive(PAPER, { x: 0, tx: 0, T: 1 })).toBe(1)
    expect(pAlive(PAPER, { x: 0, tx: 0, T: 500 })).toBe(1)
  })

  it('is 1 / (1 + a/(b+x−1)) for a customer who bought just now (tx = T)', () => {
    expect(pAlive(SIMPLE, { x: 1, tx: 2, T: 2 })).toBeCloseTo(1 / (1 + 1 / 2), 15)
    expect(pAlive(PAPER, { x: 4, tx: 30, T: 30 })).toBeCloseTo(1 / (1 + 0.793 / (2.426 + 3)), 15)
  })

  it('falls the longer a customer stays away, and faster for a frequent one', () => {
    const sooner = pAlive(PAPER, { x: 3, tx: 10, T: 20 })
    const later = pAlive(PAPER, { x: 3, tx: 10, T: 40 })
    expect(later).toBeLessThan(sooner)
    expect(pAlive(PAPER, { x: 10, tx: 10, T: 40 })).toBeLessThan(later)
    // lifetimes' test_no_runtime_warnings_high_frequency: 0, with no overflow on the way.
    expect(pAlive(PAPER, { x: 1000, tx: 10, T: 100 })).toBe(0)
  })
})

/** Equation 10 as printed, with ₂F₁ summed term by term: fine for small x and z. */
function textbookExpectation(
  { r, alpha, a, b }: BgnbdParams,
  { x, tx, T }: { x: number; tx: number; T: number },
  t: number,
): number {
  const z = t / (alpha + T + t)
  let term = 1
  let f = 1
  for (let n = 0; n < 400; n++) {
    term *= (((r + x + n) * (b + x + n)) / ((a + b + x - 1 + n) * (n + 1))) * z
    f += term
  }
  const bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * f
  const denominator = 1 + (x > 0 ? (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x) : 0)
  return ((a + b + x - 1) / (a - 1)) * (bracket / denominator)
}

describe('expectedPurchases', () => {
  it('agrees with the textbook form of the equation where that form is safe', () => {
    const cases = [
      { x: 0, tx: 0, T: 10 },
      { x: 1, tx: 3, T: 10 },
      { x: 4, tx: 9.5, T: 10 },
      { x: 2, tx: 2, T: 2 },
    ]
    for (const params of [PAPER, { r: 1.3, alpha: 6, a: 2.5, b: 4 }]) {
      for (const customer of cases) {
        for (const t of [0.5, 5, 20]) {
          const expected = textbookExpectation(params, customer, t)
          expect(expectedPurchases(params, customer, t)).toBeCloseTo(expected, 10)
        }
      }
    }
  })

  it('is 0 over no time, and the same for tx = T as the paper writes it', () => {
    expect(expectedPurchases(PAPER, { x: 3, tx: 20, T: 30 }, 0)).toBe(0)
    const now = { x: 3, tx: 30, T: 30 }
    expect(expectedPurchases(PAPER, now, 10)).toBeCloseTo(textbookExpectation(PAPER, now, 10), 10)
  })

  it('has no hole at a = 1, where the textbook form divides 0 by 0', () => {
    const at = (a: number) => expectedPurchases({ ...PAPER, a }, { x: 2, tx: 8, T: 12 }, 10)
    const around =
      (textbookExpectation({ ...PAPER, a: 1 - 1e-5 }, { x: 2, tx: 8, T: 12 }, 10) +
        textbookExpectation({ ...PAPER, a: 1 + 1e-5 }, { x: 2, tx: 8, T: 12 }, 10)) /
      2
    expect(Number.isFinite(at(1))).toBe(true)
    expect(at(1)).toBeCloseTo(around, 7)
  })

  it('approaches the expected purchases before dropping out, (a+b−1)/(a−1), over a long horizon', () => {
    // A new customer makes a first repeat purchase and then Geometric(p) more: E[1/p] in all.
    const params = { r: 1, alpha: 1, a: 2, b: 3 }
    expect(expectedPurchasesNew(params, 1e6)).toBeCloseTo(4, 3)
    let previous = 0
    for (const t of [1, 10, 100, 1000, 1e4]) {
      const value = expectedPurchasesNew(params, t)
      expect(value).toBeGreaterThan(previous)
      previous = value
    }
  })

  it("reproduces Hardie's spreadsheet and lifetimes on CDNOW", () => {
    const { params } = fitBgnbd(cdnowCustomers())
    // lifetimes' test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet.
    expect(expectedPurchases(params, { x: 2, tx: 30.43, T: 38.86 }, 39)).toBeCloseTo(1.226, 3)
    // lifetimes' test_expectation_returns_same_value_Hardie_excel_sheet (its tolerance, 3 places).
    const times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
    const expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    times.forEach((t, i) => expect(expectedPurchasesNew(params, t)).toBeCloseTo(expected[i]!, 3))
    // The top five for next week in lifetimes' Quickstart (docs/Quickstart.md).
    const top = [
      [{ x: 18, tx: 35.14, T: 35.86 }, 0.424877],
      [{ x: 19, tx: 34.0, T: 34.14 }, 0.474738],
      [{ x: 17, tx: 28.43, T: 28.86 }, 0.486526],
      [{ x: 29, tx: 37.71, T: 38.0 }, 0.662396],
      [{ x: 26, tx: 30.86, T: 31.0 }, 0.710623],
    ] as const
    for (const [customer, value] of top) {
      expect(expectedPurchases(params, customer, 1)).toBeCloseTo(value, 5)
    }
  })
})

describe('lapseProbability', () => {
  /**
   * P(alive) · (1 − E_p[(1 + p·h/(α+T))^−(r+x)]) with the expectation over Beta(a, b+x) done by
   * brute force: p = u^(1/a) takes p^(a−1) dp to du/a (no singularity at 0 for a < 1), then a
   * 200,000-point midpoint rule; the series in lapseProbability is checked against it.
   */
  function byIntegration(
    params: BgnbdParams,
    summary: { x: number; tx: number; T: number },
    h: number,
  ) {
    const { r, alpha, a, b } = params
    const B = b + summary.x
    const logBeta = logGamma(a) + logGamma(B) - logGamma(a + B)
    const n = 200_000
    let sum = 0
    for (let i = 0; i < n; i++) {
      const p = ((i + 0.5) / n) ** (1 / a)
      sum += (1 - p) ** (B - 1) * (1 + (p * h) / (alpha + summary.T)) ** -(r + summary.x)
    }
    return pAlive(params, summary) * (1 - sum / n / a / Math.exp(logBeta))
  }

  it('agrees with the integral it sums, for new, occasional and frequent customers', () => {
    const cases = [
      { x: 0, tx: 0, T: 30 },
      { x: 2, tx: 20, T: 39 },
      { x: 7, tx: 35, T: 38 },
      { x: 50, tx: 250, T: 270 },
    ]
    for (const params of [PAPER, SIMPLE, { r: 0.5, alpha: 30, a: 0.6, b: 4 }]) {
      for (const summary of cases) {
        for (const h of [1, 13, 90, 1000]) {
          expect(lapseProbability(params, summary, h)).toBeCloseTo(
            byIntegration(params, summary, h),
            5,
          )
        }
      }
    }
  })

  it('is 0 over no time and P(alive) over an endless one: everyone alive drops out some day', () => {
    const summary = { x: 3, tx: 20, T: 30 }
    expect(lapseProbability(PAPER, summary, 0)).toBe(0)
    expect(lapseProbability(PAPER, summary, 1e12)).toBeCloseTo(pAlive(PAPER, summary), 3)
  })

  it('is the fixed-p formula when p hardly varies across customers', () => {
    // Beta(200, 800): p = 0.2 give or take 0.013, so E_p[f(p)] ≈ f(0.2).
    const params = { r: 2, alpha: 10, a: 200, b: 800 }
    const summary = { x: 4, tx: 25, T: 30 }
    const fixed = pAlive(params, summary) * (1 - (1 + (0.2 * 30) / (10 + 30)) ** -(2 + 4))
    expect(lapseProbability(params, summary, 30)).toBeCloseTo(fixed, 2)
  })

  it('ranks a frequent, recent buyer above a lapsed one: the soon-to-lapse are those still buying', () => {
    const frequent = { x: 10, tx: 38, T: 39 }
    const lapsed = { x: 2, tx: 5, T: 39 }
    expect(lapseProbability(PAPER, frequent, 13)).toBeGreaterThan(
      3 * lapseProbability(PAPER, lapsed, 13),
    )
    expect(pAlive(PAPER, lapsed)).toBeLessThan(pAlive(PAPER, frequent))
  })
})

describe('fitBgnbd', () => {
  it("finds lifetimes' estimates on CDNOW and the paper's log-likelihood", () => {
    const fit = fitBgnbd(cdnowCustomers())
    expect(fit.converged).toBe(true)
    // lifetimes' Quickstart: r 0.242593, alpha 4.413532, a 0.792886, b 2.425752.
    expect(fit.params.r).toBeCloseTo(0.242593, 5)
    expect(fit.params.alpha).toBeCloseTo(4.413532, 4)
    expect(fit.params.a).toBeCloseTo(0.792886, 5)
    expect(fit.params.b).toBeCloseTo(2.425752, 4)
    expect(fit.logLikelihood).toBeCloseTo(-9582.43, 2)
    expect(fit.customers).toBe(2357)
    expect(fit.groups).toBeLessThan(2357)
  })

  it('answers in the data’s time unit: days give α seven times the weeks’ one', () => {
    const inDays = cdnowCustomers().map(({ x, tx, T }) => ({ x, tx: tx * 7, T: T * 7 }))
    const fit = fitBgnbd(inDays)
    expect(fit.params.alpha).toBeCloseTo(4.413532 * 7, 3)
    expect(fit.params.r).toBeCloseTo(0.242593, 5)
  })

  it('shrinks every parameter with the penalizer, more with more (as lifetimes tests)', () => {
    const customers = cdnowCustomers()
    const plain = fitBgnbd(customers).params
    const some = fitBgnbd(customers, { penalizer: 0.1 }).params
    const more = fitBgnbd(customers, { penalizer: 10 }).params
    for (const key of ['r', 'alpha', 'a', 'b'] as const) {
      expect(some[key]).toBeLessThan(plain[key])
      expect(more[key]).toBeLessThan(some[key])
    }
  })

  it('keeps degenerate data finite with a penalizer: nobody ever returned', () => {
    const nobody = Array.from({ length: 500 }, (_, i) => ({ x: 0, tx: 0, T: 10 + (i % 30) }))
    const fit = fitBgnbd(nobody, { penalizer: 0.01 })
    expect(fit.converged).toBe(true)
    for (const value of Object.values(fit.params)) {
      expect(Number.isFinite(value) && value > 0).toBe(true)
    }
    // The rate it implies is tiny: expected repeat purchases in the next 10 units near 0.
    expect(expectedPurchasesNew(fit.params, 10)).toBeLessThan(0.05)
  })

  it('refits from the last parameters in fewer steps to the same answer', () => {
    const customers = cdnowCustomers()
    const cold = fitBgnbd(customers)
    const warm = fitBgnbd(customers, { start: PAPER })
    expect(warm.iterations).toBeLessThan(cold.iterations)
    for (const key of ['r', 'alpha', 'a', 'b'] as const) {
      expect(warm.params[key] / cold.params[key]).toBeCloseTo(1, 5)
    }
  })

  it('refuses no customers', () => {
    expect(() => fitBgnbd([])).toThrow('no customers to fit')
  })
})
