/**
 * Next-best-action: Thompson sampling over Beta posteriors (Thompson 1933; Chapelle and Li 2011,
 * "An Empirical Evaluation of Thompson Sampling"). Pure; the caller keeps one arm per (segment,
 * action) with the action's successes (the journey's goal reached) and failures, and the random
 * source, so a decision can be replayed from a seed.
 *
 * Each arm's success rate has a Beta(α + successes, β + failures) posterior, its prior Beta(α, β)
 * from the rules a user wrote (priorFromRule) or uniform. One draw from each posterior; the
 * highest draw wins. An arm is so chosen with the probability that it is the best, so actions that
 * have done well are taken more and uncertain ones still get tried, and the rules' prior counts
 * for as many observations as its strength, no more: data overrules it.
 */

import type { Random } from '../attribution/random'
import { sampleBeta } from './sample'

export interface BetaPrior {
  alpha: number
  beta: number
}

export interface Arm {
  id: string
  successes: number
  failures: number
  /** Default Beta(1, 1): every rate equally likely. */
  prior?: BetaPrior
}

export const UNIFORM_PRIOR: BetaPrior = { alpha: 1, beta: 1 }

/**
 * The prior for an action a rule favours: the rule's belief in its success rate, weight in
 * [0, 1], worth `strength` observations on top of the uniform prior, i.e.
 * Beta(1 + weight·strength, 1 + (1 − weight)·strength). Weight 0.5 at strength 0 is uniform.
 */
export function priorFromRule(weight: number, strength = 10): BetaPrior {
  const w = Math.min(1, Math.max(0, weight))
  return { alpha: 1 + w * strength, beta: 1 + (1 - w) * strength }
}

/** The id of the arm to play; the first arm's on a tie. Throws a RangeError on no arms. */
export function chooseAction(arms: readonly Arm[], random: Random): string {
  if (arms.length === 0) throw new RangeError('no actions to choose from')
  let chosen = arms[0]!.id
  let best = -Infinity
  for (const { id, successes, failures, prior = UNIFORM_PRIOR } of arms) {
    const draw = sampleBeta(prior.alpha + successes, prior.beta + failures, random)
    if (draw > best) {
      best = draw
      chosen = id
    }
  }
  return chosen
}
