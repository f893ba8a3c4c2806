/**
 * A synthetic customer base with known purchase and dropout processes, and a win-back campaign run
 * on it with and without the message: the bench's "does it reduce churn?" harness. Pure and
 * seeded. It is a model: it shows what the targeting does if customers behave as the BG/NBD says
 * and respond as the stated response rate says, not that any real customer will.
 */

import { type Random, seededRandom } from '../attribution/random'
import { type BgnbdParams, fitBgnbd, lapseProbability, pAlive, type PurchaseSummary } from './bgnbd'
import { churnRisk } from './clv'
import { emptyEngagement, engagementAfterEvent, engagementScore } from './engagement'
import type { GammaGammaParams } from './gamma-gamma'
import { sampleBeta, sampleExponential, sampleGamma } from './sample'

const DAY_MS = 86_400_000

export interface PopulationOptions {
  customers: number
  bgnbd: BgnbdParams
  /** Transaction values; without, every purchase is worth 1. */
  gammaGamma?: GammaGammaParams
  /** Ages at the observation point (time since the first purchase), uniform in [min, max]. */
  ages: { min: number; max: number }
  seed: number
}

export interface SimulatedCustomer extends PurchaseSummary {
  /** Mean value of the repeat purchases observed; 0 when x = 0. */
  m: number
  /** The hidden purchase rate, p and ν (transaction values are Gamma(gammaGamma.p, rate ν)). */
  lambda: number
  dropout: number
  spendRate: number
  /** Not yet dropped out at the observation point (the truth pAlive estimates). */
  aliveAtObservation: boolean
  /** Seed of the customer's own stream: every replay of their life draws the same numbers. */
  stream: number
}

export interface Population {
  options: PopulationOptions
  customers: SimulatedCustomer[]
}

/**
 * Draws the customers: λ ~ Gamma(r, rate α), p ~ Beta(a, b), ν ~ Gamma(q, rate γ) for each; then
 * their lives from the first purchase at time 0 (lifeOf) and the summary of what is seen by their
 * age T, as lifetimes' beta_geometric_nbd_model does.
 */
export function simulatePopulation(options: PopulationOptions): Population {
  const { customers: n, bgnbd, gammaGamma, ages, seed } = options
  const random = seededRandom(seed)
  const customers: SimulatedCustomer[] = []
  for (let i = 0; i < n; i++) {
    const lambda = sampleGamma(bgnbd.r, random) / bgnbd.alpha
    const dropout = sampleBeta(bgnbd.a, bgnbd.b, random)
    const spendRate = gammaGamma ? sampleGamma(gammaGamma.q, random) / gammaGamma.gamma : 1
    const T = ages.min + (ages.max - ages.min) * random()
    const stream = Math.floor(random() * 2 ** 32)
    const hidden = { lambda, dropout, spendRate, stream }
    const life = lifeOf(hidden, gammaGamma, T, null)
    const x = life.purchases.length
    const spent = life.values.reduce((sum, v) => sum + v, 0)
    customers.push({
      ...hidden,
      x,
      tx: x > 0 ? life.purchases[x - 1]! : 0,
      T,
      m: x > 0 ? spent / x : 0,
      aliveAtObservation: life.droppedAt === null,
    })
  }
  return { options, customers }
}

interface Hidden {
  lambda: number
  dropout: number
  spendRate: number
  stream: number
}

interface Life {
  firstValue: number
  /** Repeat purchase times up to the end, from the first purchase. */
  purchases: number[]
  values: number[]
  /** Time of the purchase after which the customer dropped out, or null if still alive at end. */
  droppedAt: number | null
}

/**
 * One customer's life to `end`: purchases at exponential gaps of rate λ; after each, a coin
 * with chance p of dropping out for good. A message that lands at `reprieveFrom` cancels the
 * first dropout after it (the response model below). Every step draws the same numbers in the
 * same order with or without the reprieve, so both arms of the campaign see the same customer.
 */
function lifeOf(
  { lambda, dropout, spendRate, stream }: Hidden,
  gammaGamma: GammaGammaParams | undefined,
  end: number,
  reprieveFrom: number | null,
): Life {
  const random: Random = seededRandom(stream)
  const value = () => (gammaGamma ? sampleGamma(gammaGamma.p, random) / spendRate : 1)
  const firstValue = value()
  const purchases: number[] = []
  const values: number[] = []
  let reprieve = reprieveFrom !== null
  let time = 0
  for (;;) {
    time += sampleExponential(lambda, random)
    if (!(time <= end)) return { firstValue, purchases, values, droppedAt: null }
    purchases.push(time)
    values.push(value())
    if (random() < dropout) {
      if (reprieve && time > reprieveFrom!) {
        reprieve = false
        continue
      }
      return { firstValue, purchases, values, droppedAt: time }
    }
  }
}

/**
 * What the campaign targets on: `churnRisk` (clv.ts's blend, 1 − P(alive) for repeat buyers) or
 * `lapseRisk` (the chance of dropping out within the horizon, bgnbd.ts lapseProbability).
 */
export type TargetingScore = 'churnRisk' | 'lapseRisk'

export interface WinBackOptions {
  /** Message everyone whose score at the observation point is at least this. */
  threshold: number
  /** Default churnRisk. */
  score?: TargetingScore
  /**
   * Chance that a messaged customer who has not yet dropped out responds: their next dropout
   * is cancelled (they carry on buying at their own rate and may still drop out later).
   */
  responseRate: number
  /** How long after the observation point churn is counted, in the population's time unit. */
  horizon: number
  /** One time unit in ms, to decay engagement; default a day. */
  timeUnitMs?: number
  /**
   * The BG/NBD parameters the targeting uses; default: fitted to the population's summaries, as
   * Cairn would fit them, rather than the true ones.
   */
  scoring?: BgnbdParams
}

export interface ArmOutcome {
  /** Customers alive at the observation point: those who can churn in the horizon. */
  atRisk: number
  /** Of them, dropped out by the end of the horizon. */
  churned: number
  churnRate: number
  /** Purchases and their value in the horizon, over the whole population. */
  purchases: number
  revenue: number
}

export interface WinBackResult {
  seed: number
  customers: number
  /** Messaged (risk ≥ threshold), alive or not. */
  messaged: number
  /** Of the messaged, alive at the observation point: the only ones the message can help. */
  reachable: number
  /** Of the reachable, those who responded (drawn at the response rate). */
  responded: number
  /** Of the messaged, those who drop out in the horizon without the message: the targeting's hits. */
  wouldHaveChurned: number
  control: ArmOutcome
  treatment: ArmOutcome
  /** 1 − treatment churn rate / control churn rate; NaN when nobody churns without the message. */
  relativeReduction: number
  scoring: BgnbdParams
  /** In words, for the bench to print beside the numbers. */
  assumptions: string[]
}

/**
 * The campaign at each customer's observation point (age T), both arms on the same customers and
 * the same random numbers. Targeting uses clv.ts's churnRisk with P(alive) from the scoring
 * parameters and an engagement score from the customer's purchases alone.
 */
export function simulateWinBack(population: Population, options: WinBackOptions): WinBackResult {
  const { threshold, responseRate, horizon, score = 'churnRisk' } = options
  const { customers, options: made } = population
  const scoring = options.scoring ?? fitBgnbd(customers).params
  const scores = targetingScores(population, { ...options, scoring })
  const responses = seededRandom(made.seed ^ 0x5bd1e995)
  const control = emptyOutcome()
  const treatment = emptyOutcome()
  let messaged = 0
  let reachable = 0
  let responded = 0
  let wouldHaveChurned = 0
  customers.forEach((customer, i) => {
    const targeted = scores[i]! >= threshold
    // Drawn for every customer, so the stream does not depend on who was targeted.
    const responds = responses() < responseRate
    if (targeted) messaged++
    const reprieved = targeted && customer.aliveAtObservation && responds
    if (targeted && customer.aliveAtObservation) reachable++
    if (reprieved) responded++
    const end = customer.T + horizon
    const without = lifeOf(customer, made.gammaGamma, end, null)
    const withMessage = reprieved ? lifeOf(customer, made.gammaGamma, end, customer.T) : without
    if (targeted && customer.aliveAtObservation && without.droppedAt !== null) wouldHaveChurned++
    record(control, customer, without)
    record(treatment, customer, withMessage)
  })
  for (const arm of [control, treatment]) arm.churnRate = arm.churned / arm.atRisk
  return {
    seed: made.seed,
    customers: customers.length,
    messaged,
    reachable,
    responded,
    wouldHaveChurned,
    control,
    treatment,
    relativeReduction: 1 - treatment.churnRate / control.churnRate,
    scoring,
    assumptions: [
      `customers follow the BG/NBD with r=${made.bgnbd.r}, alpha=${made.bgnbd.alpha}, a=${made.bgnbd.a}, b=${made.bgnbd.b}: purchases at a constant personal rate, dropout only right after a purchase, for good`,
      made.gammaGamma
        ? `transaction values follow the Gamma-Gamma with p=${made.gammaGamma.p}, q=${made.gammaGamma.q}, gamma=${made.gammaGamma.gamma}, independent of purchase frequency`
        : 'every purchase is worth 1',
      `ages at the observation point uniform in [${made.ages.min}, ${made.ages.max}] time units; churn counted over the next ${horizon}`,
      score === 'churnRisk'
        ? `messaged when churn risk ≥ ${threshold} (clv.ts's blend), P(alive) under ${options.scoring ? 'given' : 'fitted'} parameters r=${scoring.r}, alpha=${scoring.alpha}, a=${scoring.a}, b=${scoring.b}, engagement fed by purchases alone (no page views are simulated), one time unit taken as ${(options.timeUnitMs ?? DAY_MS) / DAY_MS} days for its decay`
        : `messaged when the chance of dropping out within ${horizon} (lapse risk, bgnbd.ts) is ≥ ${threshold}, under ${options.scoring ? 'given' : 'fitted'} parameters r=${scoring.r}, alpha=${scoring.alpha}, a=${scoring.a}, b=${scoring.b}`,
      `a messaged customer who has not yet dropped out responds with probability ${responseRate}, and a response cancels their next dropout, no more; the message changes nothing else (not their rate, not their spend)`,
      'a customer who has already dropped out is not won back, so the model cannot credit the message with reactivations',
      `the message is free and reaches everyone it is sent to; seed ${made.seed}`,
    ],
  }
}

/**
 * Each customer's targeting score at their observation point, in the population's order: what
 * simulateWinBack compares with its threshold, and what a harness ranks to message the top N.
 */
export function targetingScores(
  { customers, options: made }: Population,
  {
    scoring,
    horizon,
    score = 'churnRisk',
    timeUnitMs = DAY_MS,
  }: Pick<WinBackOptions, 'horizon' | 'score' | 'timeUnitMs'> & { scoring: BgnbdParams },
): number[] {
  return customers.map((customer) =>
    score === 'lapseRisk'
      ? lapseProbability(scoring, customer, horizon)
      : churnRisk({
          engagement: purchaseEngagement(customer, made.gammaGamma, timeUnitMs),
          x: customer.x,
          pAlive: pAlive(scoring, customer),
        }),
  )
}

function emptyOutcome(): ArmOutcome {
  return { atRisk: 0, churned: 0, churnRate: 0, purchases: 0, revenue: 0 }
}

function record(arm: ArmOutcome, customer: SimulatedCustomer, life: Life): void {
  if (customer.aliveAtObservation) {
    arm.atRisk++
    if (life.droppedAt !== null) arm.churned++
  }
  life.purchases.forEach((time, k) => {
    if (time > customer.T) {
      arm.purchases++
      arm.revenue += life.values[k]!
    }
  })
}

/** Engagement at the observation point from the customer's purchases, first one included. */
function purchaseEngagement(
  customer: SimulatedCustomer,
  gammaGamma: GammaGammaParams | undefined,
  timeUnitMs: number,
): number {
  const life = lifeOf(customer, gammaGamma, customer.T, null)
  const first = { kind: 'purchase', at: 0, value: life.firstValue } as const
  let state = engagementAfterEvent(emptyEngagement(0), first, 0)
  life.purchases.forEach((time, k) => {
    const at = time * timeUnitMs
    state = engagementAfterEvent(state, { kind: 'purchase', at, value: life.values[k] }, at)
  })
  return engagementScore(state, customer.T * timeUnitMs)
}
