import { describe, expect, it } from 'vitest'
import { expectedPurchases, lapseProbability, pAlive, summaryProblem } from './bgnbd'
import { simulatePopulation, simulateWinBack, targetingScores } from './simulate'

// CDNOW-like customers with time in days: α = 4.41 weeks = 30.87 days.
const TRUTH = { r: 0.24, alpha: 30.87, a: 0.79, b: 2.43 }
const SPEND = { p: 6.25, q: 3.74, gamma: 15.44 }
const population = simulatePopulation({
  customers: 20_000,
  bgnbd: TRUTH,
  gammaGamma: SPEND,
  ages: { min: 180, max: 540 },
  seed: 7,
})

/** Nobody messaged, scored with the truth: the population as the model lets it live on. */
const untouched = simulateWinBack(population, {
  threshold: 2,
  responseRate: 0,
  horizon: 90,
  scoring: TRUTH,
})

describe('simulatePopulation', () => {
  it('draws sound summaries, the same for the same seed', () => {
    for (const customer of population.customers) {
      expect(summaryProblem(customer)).toBeNull()
      expect(customer.m > 0).toBe(customer.x > 0)
    }
    const again = simulatePopulation({ ...population.options, customers: 100 })
    expect(again.customers).toEqual(population.customers.slice(0, 100))
    const other = simulatePopulation({ ...population.options, customers: 100, seed: 8 })
    expect(other.customers).not.toEqual(again.customers)
  })

  it('agrees with the model it draws from: mean P(alive) is the share alive', () => {
    // The share alive has a standard error of about 0.003 at n = 20,000; 0.01 is over three.
    const alive = population.customers.filter((c) => c.aliveAtObservation).length
    const expected = population.customers.reduce((sum, c) => sum + pAlive(TRUTH, c), 0)
    expect(Math.abs(alive - expected) / population.customers.length).toBeLessThan(0.01)
  })

  it('agrees with the model it draws from: expected purchases in the next 90 days happen', () => {
    const expected = population.customers.reduce(
      (sum, c) => sum + expectedPurchases(TRUTH, c, 90),
      0,
    )
    // About 4,400 purchases; their count varies by about 2% (over-dispersed Poisson), so 6%.
    expect(Math.abs(untouched.control.purchases / expected - 1)).toBeLessThan(0.06)
  })
})

describe('lapse risk on the simulated customers', () => {
  it('is calibrated: the lapse risks add up to the dropouts that happen in the horizon', () => {
    const expected = population.customers.reduce(
      (sum, c) => sum + lapseProbability(TRUTH, c, 90),
      0,
    )
    // About 650 dropouts, each customer's a Bernoulli draw: a standard deviation of ~25 (4%),
    // plus the draw of who is alive; 12% is about three of them.
    expect(untouched.control.churned).toBeGreaterThan(300)
    expect(Math.abs(untouched.control.churned / expected - 1)).toBeLessThan(0.12)
  })

  it('reaches more of the coming churn than churn risk does, messaging as many', () => {
    const options = { horizon: 90, scoring: TRUTH, responseRate: 0.2 }
    const byChurnRisk = simulateWinBack(population, { ...options, threshold: 0.5 })
    const lapse = targetingScores(population, { ...options, score: 'lapseRisk' })
    const threshold = [...lapse].sort((a, b) => b - a)[byChurnRisk.messaged - 1]!
    const byLapseRisk = simulateWinBack(population, { ...options, threshold, score: 'lapseRisk' })
    // Ties at the threshold may add a few; the volume is the same to within 1%.
    expect(Math.abs(byLapseRisk.messaged / byChurnRisk.messaged - 1)).toBeLessThan(0.01)
    expect(byLapseRisk.wouldHaveChurned).toBeGreaterThan(1.1 * byChurnRisk.wouldHaveChurned)
    expect(byLapseRisk.relativeReduction).toBeGreaterThan(byChurnRisk.relativeReduction)
  })
})

describe('simulateWinBack', () => {
  it('changes nothing when nobody responds or nobody is messaged', () => {
    for (const options of [
      { threshold: 0, responseRate: 0 },
      { threshold: 1.01, responseRate: 1 },
    ]) {
      const run = simulateWinBack(population, { ...options, horizon: 90, scoring: TRUTH })
      expect(run.treatment).toEqual(run.control)
      expect(run.relativeReduction).toBe(0)
    }
  })

  it('cancels dropouts among those it reaches, and no one else’s', () => {
    const everyone = simulateWinBack(population, {
      threshold: 0,
      responseRate: 1,
      horizon: 90,
      scoring: TRUTH,
    })
    expect(everyone.messaged).toBe(20_000)
    expect(everyone.reachable).toBe(everyone.control.atRisk)
    expect(everyone.responded).toBe(everyone.reachable)
    // Everyone's first dropout is cancelled: only a second one in 90 days counts.
    expect(everyone.treatment.churned).toBeLessThan(everyone.control.churned * 0.2)
    expect(everyone.treatment.purchases).toBeGreaterThan(everyone.control.purchases)
    expect(everyone.wouldHaveChurned).toBe(everyone.control.churned)
  })

  it('runs both arms on the same customers, so only the message differs', () => {
    const options = { responseRate: 0.3, horizon: 90, scoring: TRUTH }
    const broad = simulateWinBack(population, { ...options, threshold: 0.2 })
    const narrow = simulateWinBack(population, { ...options, threshold: 0.8 })
    expect(narrow.control).toEqual(broad.control)
    expect(narrow.messaged).toBeLessThan(broad.messaged)
    expect(broad.treatment.churned).toBeLessThanOrEqual(narrow.treatment.churned)
    expect(broad.treatment.churned).toBeLessThan(broad.control.churned)
    expect(broad.relativeReduction).toBeCloseTo(
      1 - broad.treatment.churnRate / broad.control.churnRate,
      15,
    )
  })

  it('states its assumptions, the response rate and the seed among them', () => {
    const run = simulateWinBack(population, { threshold: 0.5, responseRate: 0.25, horizon: 90 })
    expect(run.seed).toBe(7)
    expect(run.assumptions.join('\n')).toMatch(/probability 0\.25/)
    expect(run.assumptions.join('\n')).toMatch(/seed 7/)
    expect(run.assumptions.join('\n')).toMatch(/under fitted parameters r=0\.2/)
    // Scored with parameters fitted to what was observed, not the truth.
    expect(run.scoring).not.toEqual(TRUTH)
    expect(run.scoring.r / TRUTH.r).toBeCloseTo(1, 0)
  })
})
