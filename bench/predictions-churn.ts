import type { BgnbdParams } from '../domain/predictions/bgnbd.ts'
import type { ArmOutcome, TargetingScore, WinBackResult } from '../domain/predictions/simulate.ts'
import type { PredictionsDomain } from './predictions-domain.ts'
import { progress } from './progress.ts'
import { int, pct } from './report.ts'

/**
 * "Does it reduce churn?" (issue #25): a synthetic customer base drawn from the BG/NBD and
 * Gamma-Gamma with CDNOW's parameters, a win-back campaign run on it with and without the
 * message (domain/predictions/simulate.ts), over a small grid of thresholds and response rates,
 * and the response rate each threshold needs for the promised reduction. It is a model: the
 * response rate is an input, not a measurement.
 */

const PHASE = 'predictions'

export const CHURN_SCENARIO = {
  /**
   * CDNOW's BG/NBD (Fader, Hardie and Lee 2005; lifetimes' fit: r 0.243, α 4.414 weeks, a 0.793,
   * b 2.426), with α in days (4.414 × 7): the simulation's unit, in which engagement decays.
   */
  bgnbd: { r: 0.243, alpha: 30.898, a: 0.793, b: 2.426 },
  /** CDNOW's Gamma-Gamma (lifetimes' documentation). */
  gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 },
  /** CDNOW's cohort: first purchases in the first 12 weeks of 1997, observed to week 39. */
  ages: { min: 27 * 7, max: 39 * 7 },
  horizonDays: 90,
  /**
   * 0 messages everyone, the reference without targeting; 0.5 is the product's default at-risk
   * threshold (DEFAULT_PREDICTION_SETTINGS); 0.7 and 0.9 narrow it. Lower ones add little: with
   * purchases alone feeding engagement, one-time buyers score near 1 (see the summary).
   */
  thresholds: [0, 0.5, 0.7, 0.9],
  responseRates: [0.1, 0.2, 0.3],
  /**
   * Lapse risk (the chance of dropping out within the horizon) as the score instead, at the quoted
   * response rate: a 2% chance is about the median customer's here, 5% and 10% narrow it.
   */
  lapseThresholds: [0.02, 0.05, 0.1],
  /** The row the README quotes: the default threshold at the middle response rate. */
  quoted: { threshold: 0.5, responseRate: 0.2 },
  /** The requirements' promise: churn down by this share. */
  promisedReduction: 0.15,
} as const

export interface ChurnPlan {
  customers: number
  seed: number
}

export interface ChurnRow {
  score: TargetingScore
  threshold: number
  responseRate: number
  quoted: boolean
  messaged: number
  reachable: number
  responded: number
  wouldHaveChurned: number
  /** Share of the control arm's churners the message reached (alive and messaged). */
  churnersReached: number
  /** churnersReached ÷ the share of customers messaged: 1 is no better than messaging at random. */
  lift: number
  control: ArmOutcome
  treatment: ArmOutcome
  relativeReduction: number
}

export interface BreakEven {
  threshold: number
  /** Smallest response rate (to BISECTION_STEPS halvings) reaching the promise; null: none does. */
  responseRate: number | null
  /** The reduction if every customer reached responded. */
  atFullResponse: number
}

export interface ChurnOutcome {
  plan: ChurnPlan
  scenario: typeof CHURN_SCENARIO
  population: {
    customers: number
    /** x = 0: only the first purchase seen by the observation point. */
    oneTimeBuyers: number
    aliveAtObservation: number
    meanRepeatPurchases: number
  }
  /** The BG/NBD fitted to the observed summaries, which the targeting scores with. */
  scoring: BgnbdParams
  rows: ChurnRow[]
  /** Targeting on lapse risk at the quoted response rate, per lapseThresholds. */
  lapseRows: ChurnRow[]
  /** Lapse risk's top customers, as many as the quoted row messages: the two scores at one volume. */
  lapseAtQuotedVolume: ChurnRow
  breakEven: BreakEven[]
  /** simulateWinBack's assumptions for the quoted row, in words. */
  assumptions: string[]
  seconds: number
}

/** Halvings of [0, 1] in the break-even search: the response rate to within 0.001. */
const BISECTION_STEPS = 10

export function measureChurn(domain: PredictionsDomain, plan: ChurnPlan): ChurnOutcome {
  const started = performance.now()
  const s = CHURN_SCENARIO
  progress(
    PHASE,
    `churn: simulating ${int(plan.customers)} customers (CDNOW's parameters, seed ${plan.seed})`,
  )
  const population = domain.simulatePopulation({
    customers: plan.customers,
    bgnbd: s.bgnbd,
    gammaGamma: s.gammaGamma,
    ages: s.ages,
    seed: plan.seed,
  })
  const { customers } = population
  // The quoted row first, scored with parameters the harness fits itself, as Cairn would; the
  // other runs reuse them (the same fit of the same data) rather than fitting again each time.
  const quoted = domain.simulateWinBack(population, {
    threshold: s.quoted.threshold,
    responseRate: s.quoted.responseRate,
    horizon: s.horizonDays,
  })
  const run = (threshold: number, responseRate: number, score: TargetingScore = 'churnRisk') =>
    isQuoted(score, threshold, responseRate)
      ? quoted
      : domain.simulateWinBack(population, {
          threshold,
          responseRate,
          score,
          horizon: s.horizonDays,
          scoring: quoted.scoring,
        })
  const rows: ChurnRow[] = []
  for (const threshold of s.thresholds) {
    for (const responseRate of s.responseRates) {
      const row = churnRow(run(threshold, responseRate), threshold, responseRate)
      rows.push(row)
      progress(
        PHASE,
        `  threshold ${threshold}, response ${responseRate}: messaged ${pct(row.messaged / customers.length)}, ` +
          `churn ${pct4(row.control.churnRate)} → ${pct4(row.treatment.churnRate)} (${pct1(row.relativeReduction)} less)`,
      )
    }
  }
  const breakEven = s.thresholds.map((threshold) => {
    const reductionAt = (rate: number) => run(threshold, rate).relativeReduction
    const found = {
      threshold,
      ...breakEvenResponse(reductionAt, s.promisedReduction, BISECTION_STEPS),
    }
    progress(
      PHASE,
      `  threshold ${threshold}: ${found.responseRate === null ? 'no response rate' : `a response rate of ${found.responseRate.toFixed(3)}`} ` +
        `reaches ${pct(s.promisedReduction)} (${pct1(found.atFullResponse)} if all respond)`,
    )
    return found
  })
  const lapseRow = (threshold: number) => {
    const row = churnRow(
      run(threshold, s.quoted.responseRate, 'lapseRisk'),
      threshold,
      s.quoted.responseRate,
      'lapseRisk',
    )
    progress(
      PHASE,
      `  lapse risk ≥ ${threshold.toFixed(4)}, response ${s.quoted.responseRate}: messaged ${pct(row.messaged / customers.length)}, ` +
        `churn ${pct4(row.control.churnRate)} → ${pct4(row.treatment.churnRate)} (${pct1(row.relativeReduction)} less)`,
    )
    return row
  }
  const lapseRows = s.lapseThresholds.map(lapseRow)
  const lapseScores = domain
    .targetingScores(population, {
      scoring: quoted.scoring,
      horizon: s.horizonDays,
      score: 'lapseRisk',
    })
    .sort((a, b) => b - a)
  const lapseAtQuotedVolume = lapseRow(lapseScores[Math.max(0, quoted.messaged - 1)]!)
  const repeat = customers.reduce((sum, c) => sum + c.x, 0)
  return {
    plan,
    scenario: s,
    population: {
      customers: customers.length,
      oneTimeBuyers: customers.filter((c) => c.x === 0).length,
      aliveAtObservation: customers.filter((c) => c.aliveAtObservation).length,
      meanRepeatPurchases: repeat / customers.length,
    },
    scoring: quoted.scoring,
    rows,
    lapseRows,
    lapseAtQuotedVolume,
    breakEven,
    assumptions: quoted.assumptions,
    seconds: (performance.now() - started) / 1000,
  }
}

/** The campaign the README quotes: churn risk at the default threshold, the middle response rate. */
function isQuoted(score: TargetingScore, threshold: number, responseRate: number): boolean {
  const { quoted } = CHURN_SCENARIO
  return (
    score === 'churnRisk' && threshold === quoted.threshold && responseRate === quoted.responseRate
  )
}

export function churnRow(
  result: WinBackResult,
  threshold: number,
  responseRate: number,
  score: TargetingScore = 'churnRisk',
): ChurnRow {
  const churnersReached =
    result.control.churned > 0 ? result.wouldHaveChurned / result.control.churned : NaN
  const messagedShare = result.messaged / result.customers
  return {
    score,
    threshold,
    responseRate,
    quoted: isQuoted(score, threshold, responseRate),
    messaged: result.messaged,
    reachable: result.reachable,
    responded: result.responded,
    wouldHaveChurned: result.wouldHaveChurned,
    churnersReached,
    lift: messagedShare > 0 ? churnersReached / messagedShare : NaN,
    control: result.control,
    treatment: result.treatment,
    relativeReduction: result.relativeReduction,
  }
}

/**
 * The smallest response rate whose reduction reaches `goal`, by bisection over [0, 1]: the
 * reduction never falls as the rate grows, because the simulation draws each customer's
 * response from one uniform number compared with the rate, so a higher rate keeps every
 * responder of a lower one.
 */
export function breakEvenResponse(
  reductionAt: (responseRate: number) => number,
  goal: number,
  steps: number,
): { responseRate: number | null; atFullResponse: number } {
  const atFullResponse = reductionAt(1)
  if (!(atFullResponse >= goal)) return { responseRate: null, atFullResponse }
  let low = 0
  let high = 1
  for (let i = 0; i < steps; i++) {
    const mid = (low + high) / 2
    if (reductionAt(mid) >= goal) high = mid
    else low = mid
  }
  return { responseRate: high, atFullResponse }
}

/** Churn rates are a few percent: one decimal more than pct. */
export function pct4(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(2)}%` : '-'
}

/** A relative reduction, to a tenth of a percent: the grid's steps are a few points apart. */
export function pct1(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)}%` : '-'
}
