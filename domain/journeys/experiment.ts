/**
 * Deciding an experiment node's winner by goal rate. Each run that took a path either reached the
 * journey's goal (converted) or did not, so a path's result is the rate of a binary outcome, and
 * comparing two paths is comparing two proportions: the two-proportion z-test, two-sided, with the
 * rates pooled under the null hypothesis that the paths convert alike.
 *
 * - The best path (highest rate) is tested against each other path; it wins only if it beats
 *   every one of them. With k paths that is k − 1 tests, each at alpha / (k − 1) (Bonferroni), so
 *   the chance of declaring a winner among paths that convert alike stays under alpha.
 * - The decision is looked at again as runs arrive, and every look is another chance to catch a
 *   fluctuation: repeated looks inflate false positives well past a single test's alpha. Hence
 *   no look before every path has `minPerPath` runs, and alpha 0.01 by default rather than the
 *   usual 0.05.
 * - The z-test rests on the normal approximation to the binomial, which holds when each path's
 *   expected conversions and non-conversions (its runs times the pooled rate, and times one
 *   minus it) are both at least 5. When they are not (a goal almost nobody or almost everybody
 *   reaches) there is no decision, with that reason.
 */

export interface PathTally {
  name: string
  entered: number
  converted: number
}

export interface Decision {
  winner: string | null
  /** Why, in words for the journey's page. */
  reason: string
  /** The largest p-value of the best path's tests (the one deciding); null before testing. */
  pValue: number | null
  test: string
}

export const EXPERIMENT_TEST =
  'two-proportion z-test (pooled, two-sided) of the best goal rate against each other path, Bonferroni-corrected'

/** Below this many expected conversions or non-conversions the normal approximation fails. */
const MIN_EXPECTED = 5

export function decideWinner(
  paths: readonly PathTally[],
  minPerPath: number,
  alpha = 0.01,
): Decision {
  const undecided = (reason: string, pValue: number | null = null): Decision => ({
    winner: null,
    reason,
    pValue,
    test: EXPERIMENT_TEST,
  })
  if (paths.length < 2) return undecided('an experiment needs two paths or more')
  // A path with no runs has no rate, whatever minPerPath says.
  const short = paths.filter((p) => p.entered < Math.max(1, minPerPath))
  if (short.length > 0) {
    const counts = short.map((p) => `${p.name} ${p.entered}`).join(', ')
    return undecided(`waiting for ${minPerPath} runs on every path (${counts})`)
  }

  const rate = (p: PathTally) => p.converted / p.entered
  const best = paths.reduce((a, b) => (rate(b) > rate(a) ? b : a))
  const others = paths.filter((p) => p !== best)
  const threshold = alpha / others.length

  let worst = { path: others[0]!, pValue: 0 }
  for (const other of others) {
    const pooled = (best.converted + other.converted) / (best.entered + other.entered)
    const thin = [best, other].find(
      (p) => p.entered * pooled < MIN_EXPECTED || p.entered * (1 - pooled) < MIN_EXPECTED,
    )
    if (thin) {
      return undecided(
        `too few conversions or non-conversions expected on ${thin.name} (pooled rate ${percent(pooled)} of ${thin.entered} runs) for the normal approximation: at least ${MIN_EXPECTED} of each are needed`,
      )
    }
    const pValue = twoProportionTest(best, other).pValue
    if (pValue >= worst.pValue) worst = { path: other, pValue }
  }

  const rates = `${best.name} ${percent(rate(best))} against ${worst.path.name} ${percent(rate(worst.path))}`
  if (worst.pValue >= threshold) {
    return undecided(
      `no significant difference yet: ${rates}, p = ${format(worst.pValue)} ≥ ${format(threshold)}`,
      worst.pValue,
    )
  }
  return {
    winner: best.name,
    reason: `${best.name} converts best: ${rates}, p = ${format(worst.pValue)} < ${format(threshold)}`,
    pValue: worst.pValue,
    test: EXPERIMENT_TEST,
  }
}

/** The pooled two-proportion z statistic of a against b and its two-sided p-value. */
export function twoProportionTest(a: PathTally, b: PathTally): { z: number; pValue: number } {
  const pooled = (a.converted + b.converted) / (a.entered + b.entered)
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.entered + 1 / b.entered))
  const z = (a.converted / a.entered - b.converted / b.entered) / se
  // P(|Z| ≥ |z|) = 2 (1 − Φ(|z|)) = erfc(|z| / √2).
  return { z, pValue: erfc(Math.abs(z) / Math.SQRT2) }
}

/**
 * The complementary error function, to a fractional error below 1.2e-7 everywhere: the Chebyshev
 * fit `erfcc` of Numerical Recipes in C (2nd ed., §6.2).
 */
export function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x))
  const y =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? y : 2 - y
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`
}

function format(p: number): string {
  return p.toPrecision(2)
}
