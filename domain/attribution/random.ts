/**
 * Seeded randomness for bootstrap resampling and Shapley sampling. Reports must be reproducible
 * (the same request gives the same intervals), so nothing here touches Math.random.
 */

/** Uniform in [0, 1). */
export type Random = () => number

/** sfc32 seeded through splitmix32, so neighbouring seeds give unrelated streams. */
export function seededRandom(seed: number): Random {
  let state = Math.trunc(seed) >>> 0
  const splitmix = () => {
    state = (state + 0x9e3779b9) | 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
    return (z ^ (z >>> 15)) >>> 0
  }
  let a = splitmix()
  let b = splitmix()
  let c = splitmix()
  let d = splitmix()
  return function sfc32() {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
}

/** Integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n)
}

/** Fisher–Yates, in place. */
export function shuffle<T>(random: Random, items: T[] | Int32Array): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1)
    const held = items[i]!
    items[i] = items[j]!
    items[j] = held
  }
}

/**
 * Poisson(lambda) draw. Small means multiply uniforms (cost grows with lambda); large means use
 * Hörmann's PTRS transformed rejection, as numpy does, so a cell of a million journeys costs the
 * same as a cell of ten.
 */
export function poisson(random: Random, lambda: number): number {
  if (!(lambda > 0)) return 0
  if (lambda < 10) {
    const limit = Math.exp(-lambda)
    let k = 0
    let product = random()
    while (product > limit) {
      k++
      product *= random()
    }
    return k
  }
  return poissonPtrs(random, lambda)
}

function poissonPtrs(random: Random, lambda: number): number {
  const sqrtLambda = Math.sqrt(lambda)
  const logLambda = Math.log(lambda)
  const b = 0.931 + 2.53 * sqrtLambda
  const a = -0.059 + 0.02483 * b
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4)
  const vr = 0.9277 - 3.6224 / (b - 2)
  for (;;) {
    const u = random() - 0.5
    const v = random()
    const us = 0.5 - Math.abs(u)
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43)
    if (us >= 0.07 && v <= vr) return k
    if (k < 0 || (us < 0.013 && v > us)) continue
    const lhs = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b)
    if (lhs <= -lambda + k * logLambda - logGamma(k + 1)) return k
  }
}

const STIRLING = [
  8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4,
  8.417508417508418e-4, -1.917526917526918e-3, 6.41025641025641e-3, -2.955065359477124e-2,
  1.796443723688307e-1, -1.3924322169059,
]

/** log Γ(x) for x ≥ 1 (Stirling series, shifted up to x ≥ 7 where it is accurate). */
export function logGamma(x: number): number {
  if (x === 1 || x === 2) return 0
  const shift = x < 7 ? Math.floor(7 - x) : 0
  let x0 = x + shift
  const x2 = 1 / (x0 * x0)
  let series = STIRLING[9]!
  for (let k = 8; k >= 0; k--) series = series * x2 + STIRLING[k]!
  let result = series / x0 + 0.5 * Math.log(2 * Math.PI) + (x0 - 0.5) * Math.log(x0) - x0
  for (let k = 0; k < shift; k++) {
    x0 -= 1
    result -= Math.log(x0)
  }
  return result
}
