/**
 * The Gamma-Gamma model of spend per transaction (Fader, Hardie and Lee 2005, "RFM and CLV:
 * Using Iso-Value Curves for Customer Base Analysis", Journal of Marketing Research 42(4); Hardie's
 * note 025, "The Gamma-Gamma Model of Monetary Value"; lifetimes' gamma_gamma_fitter.py). Pure.
 *
 * The story: a customer's transaction values are Gamma(shape p, rate ν) around their own mean
 * p/ν, and ν varies across customers as Gamma(shape q, rate γ). A customer is summarised by x
 * (repeat purchases, at least 1) and m (the mean value of those x purchases).
 *
 * The assumption that matters: spend is independent of purchase frequency (how much someone
 * spends per order says nothing about how often they order). Check it on real data before trusting
 * CLV: the correlation of m and x among repeat customers should be near 0 (lifetimes' docs find
 * 0.11 on CDNOW). When it fails, CLV = purchases × value double-counts or under-counts the heavy
 * buyers.
 */

import { minimize } from './optimize'
import { digamma, logGamma } from './special'

export interface GammaGammaParams {
  p: number
  q: number
  /** γ, the rate of ν's distribution; in the currency's unit (lifetimes calls it v). */
  gamma: number
}

export interface SpendSummary {
  /** Repeat purchases, ≥ 1 to be fitted. */
  x: number
  /** Mean value of those purchases, > 0. */
  m: number
}

/** What is wrong with a spend summary for fitting, in words; null when it is sound. */
export function spendProblem({ x, m }: SpendSummary): string | null {
  if (!Number.isInteger(x) || x < 1) return 'x must be a whole number ≥ 1'
  if (!Number.isFinite(m) || m <= 0) return 'm must be a number > 0'
  return null
}

/**
 * Summed log-likelihood (Hardie's note 025, equation 1a; lifetimes' _negative_log_likelihood,
 * negated and not averaged): for one customer,
 *
 *   ln L = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(xm+γ).
 */
export function logLikelihood(
  params: GammaGammaParams,
  customers: readonly SpendSummary[],
): number {
  return likelihoodAndGradient(params, prepare(customers)).value
}

/** Customers with ln m taken once, and the index of their x among the distinct ones. */
interface Prepared {
  x: Float64Array
  m: Float64Array
  logM: Float64Array
  xIndex: Int32Array
  distinctX: Float64Array
}

function prepare(customers: readonly SpendSummary[]): Prepared {
  const indexOf = new Map<number, number>()
  const xIndex = new Int32Array(customers.length)
  customers.forEach(({ x }, i) => {
    let k = indexOf.get(x)
    if (k === undefined) indexOf.set(x, (k = indexOf.size))
    xIndex[i] = k
  })
  return {
    x: Float64Array.from(customers, (c) => c.x),
    m: Float64Array.from(customers, (c) => c.m),
    logM: Float64Array.from(customers, (c) => Math.log(c.m)),
    xIndex,
    distinctX: Float64Array.from(indexOf.keys()),
  }
}

/**
 * The log-likelihood and its gradient in (p, q, γ); the Γ and ψ terms depend on x alone and are
 * taken once per distinct x:
 *   ∂/∂p = x [ψ(px+q) − ψ(px) + ln m + ln x − ln(xm+γ)]
 *   ∂/∂q = ψ(px+q) − ψ(q) + ln γ − ln(xm+γ)
 *   ∂/∂γ = q/γ − (px+q)/(xm+γ)
 */
function likelihoodAndGradient(
  { p, q, gamma }: GammaGammaParams,
  { x, m, logM, xIndex, distinctX }: Prepared,
): { value: number; gradient: number[] } {
  if (!(p > 0 && q > 0 && gamma > 0)) return { value: NaN, gradient: [NaN, NaN, NaN] }
  const constant = -logGamma(q) + q * Math.log(gamma)
  const byX = Array.from(distinctX, (xk) => ({
    value: logGamma(p * xk + q) - logGamma(p * xk) + constant + p * xk * Math.log(xk),
    dp: xk * (digamma(p * xk + q) - digamma(p * xk) + Math.log(xk)),
    dq: digamma(p * xk + q) - digamma(q) + Math.log(gamma),
  }))
  let value = 0
  let dp = 0
  let dq = 0
  let dgamma = 0
  for (let i = 0; i < x.length; i++) {
    const terms = byX[xIndex[i]!]!
    const xi = x[i]!
    const px = p * xi
    const total = xi * m[i]! + gamma
    const logTotal = Math.log(total)
    value += terms.value + (px - 1) * logM[i]! - (px + q) * logTotal
    dp += terms.dp + xi * (logM[i]! - logTotal)
    dq += terms.dq - logTotal
    dgamma += q / gamma - (px + q) / total
  }
  return { value, gradient: [dp, dq, dgamma] }
}

/**
 * E[Z | x, m]: the expected value of this customer's future transactions (note 025, equation 5),
 * a weighted average of the population mean pγ/(q−1) and the customer's own mean m, the weight on
 * m growing with x:
 *
 *   E = (1 − w)·pγ/(q−1) + w·m,   w = px/(px+q−1).
 *
 * For x = 0 it is the population mean, which is finite only for q > 1 (fitGammaGamma keeps q
 * there); with q ≤ 1 it is Infinity.
 */
export function expectedValue({ p, q, gamma }: GammaGammaParams, { x, m }: SpendSummary): number {
  if (x === 0) return q > 1 ? (p * gamma) / (q - 1) : Infinity
  return (p * (gamma + x * m)) / (p * x + q - 1)
}

export interface GammaGammaFitOptions {
  /** As bgnbd.ts's: L2 on (p, q, γ) with values scaled to a mean of 1; default 0. */
  penalizer?: number
  /** Default 500 BFGS iterations. */
  maxIterations?: number
}

export interface GammaGammaFit {
  params: GammaGammaParams
  logLikelihood: number
  iterations: number
  /** As BgnbdFit's. */
  converged: boolean
  customers: number
}

/**
 * Maximum-likelihood fit (optimize.ts's BFGS) over customers with x ≥ 1 (throws a RangeError
 * naming the first that is not; spendProblem says why). The search runs over ln p, ln(q − 1) and
 * ln γ: q stays above 1 so every contact, purchasers without a repeat included, has a finite
 * expected value (lifetimes offers the same as q_constraint). Values are scaled to a mean of 1
 * during the search so γ starts near its answer in any currency.
 */
export function fitGammaGamma(
  customers: readonly SpendSummary[],
  { penalizer = 0, maxIterations = 500 }: GammaGammaFitOptions = {},
): GammaGammaFit {
  const n = customers.length
  if (n === 0) throw new RangeError('no customers to fit')
  let totalSpend = 0
  customers.forEach((customer, i) => {
    const problem = spendProblem(customer)
    if (problem) throw new RangeError(`customer ${i}: ${problem}`)
    totalSpend += customer.m
  })
  const scale = n / totalSpend
  const scaled = prepare(customers.map(({ x, m }) => ({ x, m: m * scale })))
  const toParams = ([p, q, gamma]: readonly number[]): GammaGammaParams => ({
    p: Math.exp(p!),
    q: 1 + Math.exp(q!),
    gamma: Math.exp(gamma!),
  })
  const objective = (theta: readonly number[]) => {
    const params = toParams(theta)
    const { value, gradient } = likelihoodAndGradient(params, scaled)
    const [dp, dq, dgamma] = gradient as [number, number, number]
    const { p, q, gamma } = params
    return {
      value: -value / n + penalizer * (p * p + q * q + gamma * gamma),
      // Chain rule through p = e^θ1, q = 1 + e^θ2, γ = e^θ3.
      gradient: [
        (-dp / n + 2 * penalizer * p) * p,
        (-dq / n + 2 * penalizer * q) * (q - 1),
        (-dgamma / n + 2 * penalizer * gamma) * gamma,
      ],
    }
  }
  const found = minimize(objective, [0.1, 0.1, 0.1], { maxIterations })
  const fitted = toParams(found.x)
  const params = { ...fitted, gamma: fitted.gamma / scale }
  return {
    params,
    logLikelihood: logLikelihood(params, customers),
    iterations: found.iterations,
    converged: found.converged,
    customers: n,
  }
}
