import { describe, expect, it } from 'vitest'
import { seededRandom } from '../attribution/random'
import { type Arm, chooseAction, priorFromRule, UNIFORM_PRIOR } from './bandit'
import { sampleBeta, sampleGamma } from './sample'

function meanAndVariance(draws: number[]) {
  const mean = draws.reduce((s, v) => s + v, 0) / draws.length
  const variance = draws.reduce((s, v) => s + (v - mean) ** 2, 0) / (draws.length - 1)
  return { mean, variance }
}

describe('the samplers', () => {
  it('draw Gamma(k) with mean k and variance k, above and below shape 1', () => {
    const random = seededRandom(11)
    for (const shape of [0.24, 1, 3.74, 40]) {
      const { mean, variance } = meanAndVariance(
        Array.from({ length: 40_000 }, () => sampleGamma(shape, random)),
      )
      // Standard error of the mean is √(k/n) ≈ 0.005 √k: four of them allowed.
      expect(Math.abs(mean - shape)).toBeLessThan(0.02 * Math.sqrt(shape))
      expect(variance / shape).toBeGreaterThan(0.9)
      expect(variance / shape).toBeLessThan(1.1)
    }
  })

  it('draw Beta(a, b) with mean a/(a+b) and variance ab/((a+b)²(a+b+1))', () => {
    const random = seededRandom(12)
    for (const [a, b] of [
      [0.79, 2.43],
      [30, 70],
    ] as const) {
      const draws = Array.from({ length: 40_000 }, () => sampleBeta(a, b, random))
      const { mean, variance } = meanAndVariance(draws)
      expect(mean).toBeCloseTo(a / (a + b), 2)
      expect(variance / ((a * b) / ((a + b) ** 2 * (a + b + 1)))).toBeCloseTo(1, 1)
      expect(draws.every((v) => v >= 0 && v <= 1)).toBe(true)
    }
  })
})

/** Plays `rounds` times against true success rates; answers how often each arm was chosen. */
function play(arms: Arm[], rates: Record<string, number>, rounds: number, seed: number) {
  const random = seededRandom(seed)
  const outcomes = seededRandom(seed + 1)
  const chosen: string[] = []
  for (let round = 0; round < rounds; round++) {
    const id = chooseAction(arms, random)
    chosen.push(id)
    const arm = arms.find((a) => a.id === id)!
    if (outcomes() < rates[id]!) arm.successes++
    else arm.failures++
  }
  return chosen
}

const fresh = (ids: string[]): Arm[] => ids.map((id) => ({ id, successes: 0, failures: 0 }))
const share = (chosen: string[], id: string) =>
  chosen.filter((c) => c === id).length / chosen.length

describe('chooseAction', () => {
  it('settles on the best of three journeys within a few thousand contacts', () => {
    const rates = { welcome: 0.04, discount: 0.07, survey: 0.02 }
    const chosen = play(fresh(Object.keys(rates)), rates, 5000, 1)
    expect(share(chosen.slice(-1000), 'discount')).toBeGreaterThan(0.9)
    // Early on it still explores.
    expect(share(chosen.slice(0, 200), 'discount')).toBeLessThan(0.8)
  })

  it('lets a strong rule prior dominate early, and data overrule it later', () => {
    const rates = { ruleFavourite: 0.03, better: 0.08 }
    const arms = fresh(Object.keys(rates))
    arms[0]!.prior = priorFromRule(0.5, 200)
    const chosen = play(arms, rates, 8000, 2)
    expect(share(chosen.slice(0, 100), 'ruleFavourite')).toBeGreaterThan(0.9)
    expect(share(chosen.slice(-1000), 'better')).toBeGreaterThan(0.9)
  })

  it('is the same choice for the same seed, with no Math.random', () => {
    const arms = [
      { id: 'a', successes: 3, failures: 7 },
      { id: 'b', successes: 4, failures: 6 },
    ]
    const first = Array.from({ length: 50 }, (_, i) => chooseAction(arms, seededRandom(i)))
    const again = Array.from({ length: 50 }, (_, i) => chooseAction(arms, seededRandom(i)))
    expect(again).toEqual(first)
    expect(new Set(first)).toEqual(new Set(['a', 'b']))
  })

  it('refuses an empty list', () => {
    expect(() => chooseAction([], seededRandom(1))).toThrow(RangeError)
  })
})

describe('priorFromRule', () => {
  it('is worth `strength` observations at the rule’s rate, on top of uniform', () => {
    expect(priorFromRule(0.3, 10)).toEqual({ alpha: 4, beta: 8 })
    expect(priorFromRule(0.5, 0)).toEqual(UNIFORM_PRIOR)
    expect(priorFromRule(2, 10)).toEqual({ alpha: 11, beta: 1 })
  })
})
