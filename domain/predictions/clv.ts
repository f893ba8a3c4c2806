/**
 * Customer lifetime value and churn risk from the fitted models. Pure.
 */

import { type BgnbdParams, expectedPurchases, type PurchaseSummary } from './bgnbd'
import { expectedValue, type GammaGammaParams } from './gamma-gamma'

export interface ClvOptions {
  /** Periods in the horizon; default 12. */
  periods?: number
  /** One period in the summaries' time unit (30 for days and months). */
  periodLength: number
  /** Per period; default 0.01 (a month at 0.01 is about 12.7% a year, lifetimes' default). */
  discountRate?: number
}

/**
 * Expected value of the customer's purchases over the horizon, discounted: lifetimes'
 * customer_lifetime_value, that is
 *
 *   CLV = Σ_{i=1..periods} E[Z | x, m] · (E[Y(i·L)] − E[Y((i−1)·L)]) / (1 + d)^i
 *
 * with E[Y(t)] the BG/NBD's expected purchases by t (bgnbd.ts), E[Z | x, m] the Gamma-Gamma's
 * expected value per purchase (gamma-gamma.ts; the population mean when x = 0, so m is ignored
 * then), L the period length and d the discount rate. Only future purchases count, not what the
 * customer has spent already.
 */
export function customerLifetimeValue(
  bgnbd: BgnbdParams,
  gammaGamma: GammaGammaParams,
  customer: PurchaseSummary & { m: number },
  { periods = 12, periodLength, discountRate = 0.01 }: ClvOptions,
): number {
  const value = expectedValue(gammaGamma, customer)
  let total = 0
  let before = 0
  for (let i = 1; i <= periods; i++) {
    const byEnd = expectedPurchases(bgnbd, customer, i * periodLength)
    total += (value * (byEnd - before)) / (1 + discountRate) ** i
    before = byEnd
  }
  return total
}

/**
 * Repeat purchases at which churn risk is the BG/NBD's alone; below, it is blended with
 * engagement.
 */
export const REPEATS_FOR_FULL_TRUST = 3

export interface ChurnInputs {
  /** The engagement score, 0–100 (engagement.ts). */
  engagement: number
  /** Repeat purchases; absent for a contact who has never bought. */
  x?: number
  /** P(alive) from the fitted BG/NBD; absent when the contact has never bought or no fit exists. */
  pAlive?: number
}

/**
 * Churn risk, 0–1:
 *
 *   risk = w · (1 − pAlive) + (1 − w) · (1 − engagement/100),   w = min(1, x / 3)
 *
 * With three or more repeat purchases it is 1 − P(alive), the model's own answer. With fewer
 * the model knows little, and with none it claims P(alive) = 1 by construction (a BG/NBD customer
 * can drop out only right after a repeat purchase), so engagement decay carries the rest: one
 * third model at one repeat purchase, two thirds at two. Contacts who have never bought, or any
 * contact before the first fit, get engagement alone: w = 0.
 */
export function churnRisk({ engagement, x, pAlive }: ChurnInputs): number {
  const fromEngagement = 1 - Math.min(100, Math.max(0, engagement)) / 100
  if (x === undefined || pAlive === undefined) return fromEngagement
  const w = Math.min(1, x / REPEATS_FOR_FULL_TRUST)
  return w * (1 - pAlive) + (1 - w) * fromEngagement
}
