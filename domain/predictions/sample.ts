/**
 * Draws from the distributions the bandit and the simulation need, from an injected uniform
 * source (domain/attribution/random.ts's seededRandom in tests and the bench), never Math.random,
 * so every run can be replayed from its seed.
 */

import type { Random } from '../attribution/random'

/** A uniform in (0, 1]: safe under a logarithm. */
function openUniform(random: Random): number {
  return 1 - random()
}

/** Standard normal (Box–Muller; the second value of the pair is discarded for simplicity). */
export function sampleNormal(random: Random): number {
  return Math.sqrt(-2 * Math.log(openUniform(random))) * Math.cos(2 * Math.PI * random())
}

/** Exponential with the given rate. */
export function sampleExponential(rate: number, random: Random): number {
  return -Math.log(openUniform(random)) / rate
}

/**
 * Gamma(shape, rate 1) by Marsaglia and Tsang (2000), "A Simple Method for Generating Gamma
 * Variables"; below shape 1, Gamma(shape + 1) · U^(1/shape), as they suggest. Divide by a rate.
 */
export function sampleGamma(shape: number, random: Random): number {
  if (shape < 1) {
    return sampleGamma(shape + 1, random) * openUniform(random) ** (1 / shape)
  }
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    let x: number
    let v: number
    do {
      x = sampleNormal(random)
      v = 1 + c * x
    } while (v <= 0)
    v = v * v * v
    const u = openUniform(random)
    if (u < 1 - 0.0331 * x ** 4) return d * v
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v
  }
}

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function sampleBeta(a: number, b: number, random: Random): number {
  const x = sampleGamma(a, random)
  const y = sampleGamma(b, random)
  return x / (x + y)
}
