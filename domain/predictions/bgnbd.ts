/**
 * The BG/NBD model of repeat purchasing (Fader, Hardie and Lee 2005, "Counting Your Customers the
 * Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2); we follow the
 * formulas as lifetimes implements them in lifetimes/fitters/beta_geo_fitter.py). Pure.
 *
 * The story: while alive, a customer buys at the times of a Poisson process with rate λ; after
 * each repeat purchase they drop out for good with probability p. λ varies across customers as
 * Gamma(shape r, rate α), p as Beta(a, b), independently. Only purchases are seen, never the
 * dropout, so a customer is summarised by x (repeat purchases, i.e. all but the first), tx (time
 * of the last purchase, from the first) and T (age: time from the first purchase to now), in any
 * one time unit; α is in the same unit (a rate's inverse). Design: docs/design/predictions.md.
 */

import { minimize } from './optimize'
import { digamma, logGamma, logistic } from './special'

export interface BgnbdParams {
  r: number
  alpha: number
  a: number
  b: number
}

export interface PurchaseSummary {
  /** Repeat purchases: all but the first. */
  x: number
  /** Time of the last purchase, from the first; 0 when x = 0. */
  tx: number
  /** Age: time from the first purchase to the end of observation; tx ≤ T. */
  T: number
}

/** What is wrong with a summary, in words for an error message; null when it is sound. */
export function summaryProblem({ x, tx, T }: PurchaseSummary): string | null {
  if (!Number.isInteger(x) || x < 0) return 'x must be a whole number ≥ 0'
  if (!Number.isFinite(T) || T < 0) return 'T must be a number ≥ 0'
  if (!Number.isFinite(tx) || tx < 0 || tx > T) return 'tx must be between 0 and T'
  if (x === 0 && tx !== 0) return 'tx must be 0 when x is 0'
  return null
}

/**
 * Customers with the same (x, tx, T) counted once with a weight, as Fader and Hardie condense
 * their data: real summaries in whole days repeat a great deal, and the fit's cost is per group.
 * Each group also points at its x among the distinct ones, whose terms are computed once.
 */
export interface GroupedSummaries {
  x: Float64Array
  tx: Float64Array
  T: Float64Array
  weight: Float64Array
  /** Index of the group's x in distinctX. */
  xIndex: Int32Array
  distinctX: Float64Array
  /** Customers in all, the sum of the weights. */
  customers: number
}

/** Groups identical summaries; throws a RangeError naming the first unsound one (summaryProblem). */
export function groupSummaries(customers: readonly PurchaseSummary[]): GroupedSummaries {
  // Nested maps on the numbers: several times faster than one map on a string key.
  const index = new Map<number, Map<number, Map<number, number>>>()
  const xIndexOf = new Map<number, number>()
  const x: number[] = []
  const tx: number[] = []
  const T: number[] = []
  const weight: number[] = []
  const xIndex: number[] = []
  customers.forEach((customer, i) => {
    const problem = summaryProblem(customer)
    if (problem) throw new RangeError(`customer ${i}: ${problem}`)
    let byAge = index.get(customer.x)
    if (!byAge) index.set(customer.x, (byAge = new Map()))
    let byLast = byAge.get(customer.T)
    if (!byLast) byAge.set(customer.T, (byLast = new Map()))
    const at = byLast.get(customer.tx)
    if (at !== undefined) {
      weight[at]!++
      return
    }
    byLast.set(customer.tx, x.length)
    x.push(customer.x)
    tx.push(customer.tx)
    T.push(customer.T)
    weight.push(1)
    let k = xIndexOf.get(customer.x)
    if (k === undefined) xIndexOf.set(customer.x, (k = xIndexOf.size))
    xIndex.push(k)
  })
  return {
    x: Float64Array.from(x),
    tx: Float64Array.from(tx),
    T: Float64Array.from(T),
    weight: Float64Array.from(weight),
    xIndex: Int32Array.from(xIndex),
    distinctX: Float64Array.from(xIndexOf.keys()),
    customers: customers.length,
  }
}

/**
 * The log-likelihood of the customers, summed (lifetimes' _negative_log_likelihood, negated and
 * not averaged); throws a RangeError on an unsound summary. For one customer the likelihood is
 *
 *   L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
 *     + [x > 0] · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+tx)^(r+x))
 *
 * — alive at T, or dropped out right after the last purchase. In logs, with
 *   A1 = lnΓ(r+x) − lnΓ(r) + r ln α,   A2 = lnΓ(a+b) + lnΓ(b+x) − lnΓ(b) − lnΓ(a+b+x),
 *   A3 = −(r+x) ln(α+T),               A4 = ln a − ln(b+x−1) − (r+x) ln(α+tx),
 * ln L = A1 + A2 + ln(e^A3 + [x > 0] e^A4), the last term a log-sum-exp so that neither power
 * underflows for a frequent buyer.
 */
export function logLikelihood(
  params: BgnbdParams,
  customers: readonly PurchaseSummary[] | GroupedSummaries,
): number {
  const groups = 'weight' in customers ? customers : groupSummaries(customers)
  return likelihoodAndGradient(params, groups).value
}

/**
 * The summed log-likelihood and its gradient in (r, α, a, b), in one pass over the groups. Each
 * group's two terms are mixed by π = e^A4 / (e^A3 + e^A4), the posterior chance that the
 * customer dropped out right after the last purchase (1 − pAlive), and the derivatives follow:
 *   ∂/∂r = ψ(r+x) − ψ(r) + ln α − [(1−π) ln(α+T) + π ln(α+tx)]
 *   ∂/∂α = r/α − (r+x) [(1−π)/(α+T) + π/(α+tx)]
 *   ∂/∂a = ψ(a+b) − ψ(a+b+x) + π/a
 *   ∂/∂b = ψ(a+b) + ψ(b+x) − ψ(b) − ψ(a+b+x) − π/(b+x−1)
 */
function likelihoodAndGradient(
  { r, alpha, a, b }: BgnbdParams,
  groups: GroupedSummaries,
): { value: number; gradient: number[] } {
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return { value: NaN, gradient: [NaN, NaN, NaN, NaN] }
  const { x, tx, T, weight, xIndex, distinctX } = groups
  const distinct = distinctX.length
  // The terms that depend on x alone (A1 + A2, and A4's first part), once per distinct x.
  const common = new Float64Array(distinct)
  const dropout = new Float64Array(distinct)
  const base = -logGamma(r) + r * Math.log(alpha) + logGamma(a + b) - logGamma(b)
  distinctX.forEach((xk, k) => {
    common[k] = base + logGamma(r + xk) + logGamma(b + xk) - logGamma(a + b + xk)
    dropout[k] = xk > 0 ? Math.log(a) - Math.log(b + xk - 1) : -Infinity
  })
  const weightOfX = new Float64Array(distinct)
  const droppedOfX = new Float64Array(distinct)
  let value = 0
  let logTerms = 0
  let rateTerms = 0
  for (let i = 0; i < x.length; i++) {
    const k = xIndex[i]!
    const w = weight[i]!
    const power = r + x[i]!
    const logAge = Math.log(alpha + T[i]!)
    const logLast = Math.log(alpha + tx[i]!)
    const alive = -power * logAge
    const dropped = dropout[k]! - power * logLast
    // log(e^alive + e^dropped) and π without overflow: divide by the larger term.
    let mixed: number
    let pi: number
    if (alive >= dropped) {
      const ratio = Math.exp(dropped - alive)
      mixed = alive + Math.log1p(ratio)
      pi = ratio / (1 + ratio)
    } else {
      const ratio = Math.exp(alive - dropped)
      mixed = dropped + Math.log1p(ratio)
      pi = 1 / (1 + ratio)
    }
    value += w * (common[k]! + mixed)
    weightOfX[k]! += w
    droppedOfX[k]! += w * pi
    logTerms += w * ((1 - pi) * logAge + pi * logLast)
    rateTerms += w * power * ((1 - pi) / (alpha + T[i]!) + pi / (alpha + tx[i]!))
  }
  let dr = -logTerms
  let da = 0
  let db = 0
  const psiR = digamma(r)
  const psiAB = digamma(a + b)
  const psiB = digamma(b)
  distinctX.forEach((xk, k) => {
    const psiABX = digamma(a + b + xk)
    dr += weightOfX[k]! * (digamma(r + xk) - psiR + Math.log(alpha))
    da += weightOfX[k]! * (psiAB - psiABX) + droppedOfX[k]! / a
    db += weightOfX[k]! * (psiAB + digamma(b + xk) - psiB - psiABX)
    if (xk > 0) db -= droppedOfX[k]! / (b + xk - 1)
  })
  const dalpha = (groups.customers * r) / alpha - rateTerms
  return { value, gradient: [dr, dalpha, da, db] }
}

/**
 * P(alive | x, tx, T): the chance the customer has not dropped out (Hardie's note 021,
 * "Computing P(alive) Using the BG/NBD Model"; lifetimes' conditional_probability_alive):
 *
 *   P = 1 / (1 + [x > 0] · a/(b+x−1) · ((α+T)/(α+tx))^(r+x))
 *
 * It is 1 for x = 0: the model lets a customer drop out only right after a repeat purchase, so
 * someone who never came back has not had the chance. That is an artefact, not a sign of health;
 * clv.ts's churnRisk does not trust it for few purchases.
 */
export function pAlive({ r, alpha, a, b }: BgnbdParams, { x, tx, T }: PurchaseSummary): number {
  if (x === 0) return 1
  const logOdds = (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx)) + Math.log(a / (b + x - 1))
  return logistic(-logOdds)
}

/** Terms of the series below before giving up; see expectedPurchases. */
export const SERIES_MAX_TERMS = 100_000

/**
 * E[Y(t) | x, tx, T]: expected repeat purchases in the next t time units (the paper's equation 10,
 * lifetimes' conditional_expected_number_of_purchases_up_to_time):
 *
 *   E = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; z)]
 *       / (1 + [x > 0] · a/(b+x−1) · ((α+T)/(α+tx))^(r+x)),      z = t/(α+T+t) < 1.
 *
 * Evaluated in a form that stays finite everywhere: Euler's transformation
 * ₂F₁(A, B; C; z) = (1−z)^(C−A−B) ₂F₁(C−A, C−B; C; z) turns the hypergeometric into
 * ₂F₁(a+b−1−r, a−1; a+b+x−1; z), whose upper parameters do not grow with x (so a frequent buyer's
 * terms do not overflow); writing its series as 1 + (a−1)·S, with
 *
 *   S = Σ_{n≥1} (a+b−1−r)_n (a)_{n−1} / ((a+b+x−1)_n n!) · z^n,
 *
 * the bracket over (a−1) becomes −ln(1−z)·φ((a−1) ln(1−z)) − (1−z)^(a−1) S with φ(u) = (e^u−1)/u,
 * which has no 0/0 at a = 1 as the textbook form does.
 *
 * The series converges for z < 1, geometrically at rate z: fast while t is short beside α + T,
 * slowly as t grows far past it. It stops when a term no longer changes the sum, or after
 * SERIES_MAX_TERMS terms, adding a geometric estimate of the rest. The cap binds only when
 * z^SERIES_MAX_TERMS is not negligible, z above about 0.9996 (a horizon t over ~2,700 times
 * α + T: centuries, for a customer of a month when α is a month); the answer there is
 * approximate, and nothing in Cairn asks for it.
 */
export function expectedPurchases(
  { r, alpha, a, b }: BgnbdParams,
  { x, tx, T }: PurchaseSummary,
  t: number,
): number {
  if (t <= 0) return 0
  const z = t / (alpha + T + t)
  const logOneMinusZ = Math.log(alpha + T) - Math.log(alpha + T + t)
  const u = (a - 1) * logOneMinusZ
  const phi = u === 0 ? 1 : Math.expm1(u) / u
  const series = hypergeometricTail(a + b - 1 - r, a, a + b + x - 1, z)
  const bracket = -logOneMinusZ * phi - Math.exp(u) * series
  const denominator =
    x > 0
      ? 1 + (a / (b + x - 1)) * Math.exp((r + x) * (Math.log(alpha + T) - Math.log(alpha + tx)))
      : 1
  return ((a + b + x - 1) * bracket) / denominator
}

/**
 * E[X(t)]: expected repeat purchases in a new customer's first t time units (the paper's
 * equation 9) — the conditional expectation at x = tx = T = 0.
 */
export function expectedPurchasesNew(params: BgnbdParams, t: number): number {
  return expectedPurchases(params, { x: 0, tx: 0, T: 0 }, t)
}

/**
 * P(the customer drops out within the next h time units | x, tx, T): the chance they lapse soon,
 * which is what acting before churn needs (1 − P(alive) is the chance they are gone already).
 * Alive now, λ's posterior is Gamma(r+x, rate α+T) and p's Beta(a, b+x); dropouts then come as a
 * Poisson process of rate λp (each purchase, at rate λ, ends the customer with chance p), so
 * P(none in h | λ, p) = e^(−λph), and over λ's posterior (1 + p·h/(α+T))^−(r+x). Over p's:
 *
 *   E_p[(1 + c·p)^−(r+x)] = ₂F₁(r+x, a; a+b+x; −c) = (1+c)^−a · ₂F₁(a+b−r, a; a+b+x; z),
 *   c = h/(α+T), z = c/(1+c) = h/(α+T+h)
 *
 * (Euler's integral for ₂F₁, then Pfaff's and Euler's transformations, which bring the argument
 * into [0, 1) and keep the upper parameters from growing with x). So
 *
 *   lapse = P(alive) · (1 − (1+c)^−a · (1 + a · S)),  S = Σ_{n≥1} (a+b−r)_n (a+1)_{n−1} / ((a+b+x)_n n!) z^n
 *
 * with the same series and the same z as expectedPurchases. Design: docs/design/predictions.md.
 */
export function lapseProbability(params: BgnbdParams, summary: PurchaseSummary, h: number): number {
  if (h <= 0) return 0
  const { r, alpha, a, b } = params
  const logOnePlusC = Math.log(alpha + summary.T + h) - Math.log(alpha + summary.T)
  const z = h / (alpha + summary.T + h)
  const survives =
    Math.exp(-a * logOnePlusC) *
    (1 + a * hypergeometricTail(a + b - r, a + 1, a + b + summary.x, z))
  return pAlive(params, summary) * Math.min(1, Math.max(0, 1 - survives))
}

/** S above: Σ_{n≥1} (p)_n (q)_{n−1} / ((c)_n n!) z^n, for 0 ≤ z < 1. */
function hypergeometricTail(p: number, q: number, c: number, z: number): number {
  let term = (p / c) * z
  let sum = term
  for (let n = 1; n < SERIES_MAX_TERMS; n++) {
    const ratio = (((p + n) * (q + n - 1)) / ((c + n) * (n + 1))) * z
    term *= ratio
    const next = sum + term
    if (next === sum) return sum
    sum = next
  }
  // Past the cap the ratio is close to z and of one sign, so the rest is about a geometric tail.
  return sum + (term * z) / (1 - z)
}

export interface FitOptions {
  /**
   * L2 penalty on the parameters, as lifetimes' penalizer_coef: the fit minimises
   * −(log-likelihood)/customers + penalizer·(r² + α² + a² + b²), with α in time scaled so the
   * oldest customer's T is 1 (lifetimes scales the same way). 0 (the default) is the plain
   * maximum-likelihood estimate; 0.001–0.1 keeps small or degenerate data (nobody returns, or
   * everybody does) from running the parameters off to infinity.
   */
  penalizer?: number
  /**
   * Where the search starts, in the data's time unit: the last fit's parameters make a refit
   * quicker. Default lifetimes' start, e^0.1 for every parameter with α in scaled time.
   */
  start?: BgnbdParams
  /** Default 500 BFGS iterations. */
  maxIterations?: number
}

export interface BgnbdFit {
  params: BgnbdParams
  /** At params, summed over customers (not penalised). */
  logLikelihood: number
  iterations: number
  /**
   * True when the gradient of the objective (per customer, in log-parameters) vanished to 1e-7;
   * false when the search stopped first: params are then the best found, not a maximum.
   */
  converged: boolean
  customers: number
  /** Distinct (x, tx, T) among them: the cost of one likelihood evaluation. */
  groups: number
}

/**
 * Maximum-likelihood fit (optimize.ts's BFGS). The search runs over the logs of the parameters,
 * so they stay positive with no constraints, and in time scaled to the oldest customer (T = 1),
 * so α starts near its answer whatever the unit; the answer is in the data's unit.
 */
export function fitBgnbd(
  customers: readonly PurchaseSummary[] | GroupedSummaries,
  { penalizer = 0, start, maxIterations = 500 }: FitOptions = {},
): BgnbdFit {
  const groups = 'weight' in customers ? customers : groupSummaries(customers)
  if (groups.customers === 0) throw new RangeError('no customers to fit')
  let oldest = 0
  for (const T of groups.T) oldest = Math.max(oldest, T)
  const scale = oldest > 0 ? 1 / oldest : 1
  const scaled: GroupedSummaries = {
    ...groups,
    tx: groups.tx.map((v) => v * scale),
    T: groups.T.map((v) => v * scale),
  }
  const n = groups.customers
  const objective = (theta: readonly number[]) => {
    const values = theta.map(Math.exp)
    const [r, alpha, a, b] = values as [number, number, number, number]
    const { value, gradient } = likelihoodAndGradient({ r, alpha, a, b }, scaled)
    let penalty = 0
    for (const v of values) penalty += v * v
    return {
      value: -value / n + penalizer * penalty,
      // d/dθ of f(e^θ) is e^θ f'(e^θ); of (e^θ)² it is 2 e^(2θ).
      gradient: gradient.map((g, i) => (-g / n) * values[i]! + 2 * penalizer * values[i]! ** 2),
    }
  }
  const origin = start
    ? [start.r, start.alpha * scale, start.a, start.b].map(Math.log)
    : [0.1, 0.1, 0.1, 0.1]
  const found = minimize(objective, origin, { maxIterations })
  const [r, alpha, a, b] = found.x.map(Math.exp) as [number, number, number, number]
  const params = { r, alpha: alpha / scale, a, b }
  return {
    params,
    logLikelihood: likelihoodAndGradient(params, groups).value,
    iterations: found.iterations,
    converged: found.converged,
    customers: n,
    groups: groups.x.length,
  }
}
