/**
 * Parameter recovery: customers drawn from known BG/NBD and Gamma-Gamma parameters (simulate.ts),
 * fitted back. The tolerance is the estimate's own uncertainty: each fitted parameter must lie
 * within three standard errors of the truth, the standard errors from the observed information
 * (the inverse of minus the log-likelihood's Hessian at the fit), which is how lifetimes reports
 * them. Three standard errors fail a correct fit about 0.3% of the time for one parameter; the
 * seed is fixed, so the test is deterministic, and the errors here are 1–2. So the test is not
 * vacuous, the standard errors must also be small: under 6% of each parameter with 50,000
 * customers. The yardstick itself is checked against lifetimes' standard errors on CDNOW.
 */

import { describe, expect, it } from 'vitest'
import { type BgnbdParams, fitBgnbd, groupSummaries, logLikelihood } from './bgnbd'
import { cdnowCustomers } from './cdnow-fixture'
import {
  fitGammaGamma,
  type GammaGammaParams,
  logLikelihood as spendLogLikelihood,
} from './gamma-gamma'
import { simulatePopulation } from './simulate'

/** −Hessian⁻¹ of f at x by central differences (relative steps of 1e-4), its diagonal's roots. */
function standardErrors(f: (x: number[]) => number, x: number[]): number[] {
  const n = x.length
  const h = x.map((v) => 1e-4 * Math.abs(v))
  const information = x.map(() => new Array<number>(n).fill(0))
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const at = (di: number, dj: number) => {
        const y = [...x]
        y[i]! += di * h[i]!
        y[j]! += dj * h[j]!
        return f(y)
      }
      const second = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h[i]! * h[j]!)
      information[i]![j] = -second
      information[j]![i] = -second
    }
  }
  const covariance = invert(information)
  return covariance.map((row, i) => Math.sqrt(row[i]!))
}

/** Gauss–Jordan with partial pivoting. */
function invert(matrix: number[][]): number[][] {
  const n = matrix.length
  const rows = matrix.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))])
  for (let c = 0; c < n; c++) {
    let pivot = c
    for (let r = c + 1; r < n; r++) {
      if (Math.abs(rows[r]![c]!) > Math.abs(rows[pivot]![c]!)) pivot = r
    }
    ;[rows[c], rows[pivot]] = [rows[pivot]!, rows[c]!]
    const lead = rows[c]![c]!
    rows[c] = rows[c]!.map((v) => v / lead)
    for (let r = 0; r < n; r++) {
      if (r === c) continue
      const factor = rows[r]![c]!
      rows[r] = rows[r]!.map((v, j) => v - factor * rows[c]![j]!)
    }
  }
  return rows.map((row) => row.slice(n))
}

const BGNBD_KEYS = ['r', 'alpha', 'a', 'b'] as const
const SPEND_KEYS = ['p', 'q', 'gamma'] as const
const asBgnbd = ([r, alpha, a, b]: number[]): BgnbdParams => ({
  r: r!,
  alpha: alpha!,
  a: a!,
  b: b!,
})
const asSpend = ([p, q, gamma]: number[]): GammaGammaParams => ({ p: p!, q: q!, gamma: gamma! })

describe('the standard errors used as the tolerance', () => {
  it("are lifetimes' on CDNOW (docs/Quickstart.md: 0.012557, 0.378221, 0.185719, 0.705345)", () => {
    const groups = groupSummaries(cdnowCustomers())
    const { params } = fitBgnbd(groups)
    const errors = standardErrors(
      (x) => logLikelihood(asBgnbd(x), groups),
      BGNBD_KEYS.map((k) => params[k]),
    )
    ;[0.012557, 0.378221, 0.185719, 0.705345].forEach((published, i) => {
      expect(errors[i]! / published).toBeCloseTo(1, 3)
    })
  })
})

describe('parameter recovery from 50,000 simulated customers', () => {
  // CDNOW's estimates (Fader, Hardie and Lee), time in weeks, ages between six and eighteen months.
  const truth = { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43 }
  const spendTruth = { p: 6.25, q: 3.74, gamma: 15.44 }
  const population = simulatePopulation({
    customers: 50_000,
    bgnbd: truth,
    gammaGamma: spendTruth,
    ages: { min: 26, max: 78 },
    seed: 1,
  })

  it('fits the BG/NBD back within three standard errors, each under 6%', () => {
    const groups = groupSummaries(population.customers)
    const fit = fitBgnbd(groups)
    expect(fit.converged).toBe(true)
    const fitted = BGNBD_KEYS.map((k) => fit.params[k])
    const errors = standardErrors((x) => logLikelihood(asBgnbd(x), groups), fitted)
    BGNBD_KEYS.forEach((key, i) => {
      expect(Math.abs(fitted[i]! - truth[key]) / errors[i]!, key).toBeLessThan(3)
      expect(errors[i]! / truth[key], key).toBeLessThan(0.06)
    })
    // The maximum is a maximum: no worse than the truth.
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(logLikelihood(truth, groups))
  })

  it('fits the Gamma-Gamma back within three standard errors, each under 6%', () => {
    const repeat = population.customers.filter((c) => c.x > 0)
    expect(repeat.length).toBeGreaterThan(20_000)
    const fit = fitGammaGamma(repeat)
    expect(fit.converged).toBe(true)
    const fitted = SPEND_KEYS.map((k) => fit.params[k])
    const errors = standardErrors((x) => spendLogLikelihood(asSpend(x), repeat), fitted)
    SPEND_KEYS.forEach((key, i) => {
      expect(Math.abs(fitted[i]! - spendTruth[key]) / errors[i]!, key).toBeLessThan(3)
      expect(errors[i]! / spendTruth[key], key).toBeLessThan(0.06)
    })
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(spendLogLikelihood(spendTruth, repeat))
  })
})
