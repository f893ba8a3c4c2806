/**
 * The special functions the prediction models need, written here because domain/ takes no
 * packages and these are a few lines each: log Γ for any positive argument (the attribution
 * module's Stirling series covers x ≥ 1 only; the BG/NBD's r and a are often below 1), its
 * derivative ψ for the likelihoods' gradients, and the logistic function without overflow.
 */

/** Lanczos coefficients for g = 7, n = 9 (as in Numerical Recipes and Boost): ~15 digits. */
const LANCZOS_G = 7
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
]
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI)

/** log Γ(x) for x > 0; NaN otherwise. */
export function logGamma(x: number): number {
  if (!(x > 0)) return NaN
  // The approximation is written for x ≥ 1/2; below, Γ(x) = Γ(x + 1) / x.
  if (x < 0.5) return logGamma(x + 1) - Math.log(x)
  const z = x - 1
  let series = LANCZOS[0]!
  for (let i = 1; i < LANCZOS.length; i++) series += LANCZOS[i]! / (z + i)
  const t = z + LANCZOS_G + 0.5
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(series)
}

/**
 * ψ(x) = d/dx log Γ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the
 * asymptotic series to x^−10, good to about 1e-14 there.
 */
export function digamma(x: number): number {
  if (!(x > 0)) return NaN
  let shift = 0
  while (x < 10) {
    shift -= 1 / x
    x += 1
  }
  const inverse2 = 1 / (x * x)
  const series =
    inverse2 *
    (1 / 12 - inverse2 * (1 / 120 - inverse2 * (1 / 252 - inverse2 * (1 / 240 - inverse2 / 132))))
  return shift + Math.log(x) - 0.5 / x - series
}

/** 1 / (1 + e^−v), without overflow for large |v|. */
export function logistic(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v))
  const e = Math.exp(v)
  return e / (1 + e)
}
