/**
 * Credits that add up. Every model promises that a conversion's credits sum to exactly 1 and to
 * exactly its value; proportional splits in floating point miss by an ulp or two, so the
 * rounding remainder is handed to the largest part, where it is relatively smallest.
 */

export interface Credit {
  conversions: number
  value: number
}

export type ChannelCredits = Record<string, Credit>

/**
 * Splits `total` in proportion to non-negative `weights`. The parts, added left to right from 0
 * (JSON key order, as a reader would), give `total` exactly; in any other order they stay within
 * a few ulps of it.
 */
export function apportion(weights: ArrayLike<number>, total: number): number[] {
  if (total < 0) return apportion(weights, -total).map((part) => -part)
  const parts = new Array<number>(weights.length).fill(0)
  if (weights.length === 0 || total === 0) return parts
  let sum = 0
  for (let i = 0; i < weights.length; i++) {
    const weight = weights[i]!
    if (!(weight >= 0) || !Number.isFinite(weight)) {
      throw new RangeError(`apportion: weight ${i} is ${weight}, expected a finite number ≥ 0`)
    }
    sum += weight
  }
  if (sum === 0) throw new RangeError('apportion: every weight is 0, nothing to split by')
  for (let i = 0; i < parts.length; i++) parts[i] = (total * weights[i]!) / sum
  // The remainder goes to the largest part, where it is relatively smallest. Rounding ties in
  // the running sum can make that impossible; the last non-zero part, whose addition is the
  // final rounding, then nearly always can take it, and failing that the next largest parts.
  const bySize = parts.map((_, i) => i).sort((a, b) => parts[b]! - parts[a]!)
  const lastNonZero = parts.findLastIndex((part) => part > 0)
  const candidates = [...new Set([bySize[0]!, lastNonZero, ...bySize.slice(1, 8)])]
  for (const candidate of candidates) if (settle(parts, candidate, total)) break
  return parts
}

/**
 * Moves one part until the in-order sum is exactly `total`, or reports that it cannot. With
 * non-negative parts the sum only grows with the part, so after the plain correction a search
 * over the part's neighbouring floats finds the value if one exists; a rounding tie further
 * down the sum can skip `total`, which is why the caller has other parts to try.
 */
function settle(parts: number[], index: number, total: number): boolean {
  const sumWith = (candidate: number) => {
    let added = 0
    for (let i = 0; i < parts.length; i++) added += i === index ? candidate : parts[i]!
    return added
  }
  const original = parts[index]!
  let part = original
  for (let attempt = 0; attempt < 2; attempt++) {
    const added = sumWith(part)
    if (added === total) break
    part = Math.max(0, part + (total - added))
  }
  if (sumWith(part) !== total) {
    const up = sumWith(part) < total
    let near = toBits(part)
    let far = near
    let step = 1n
    // Gallop outwards until the sum reaches the total, then bisect the bit patterns.
    for (;;) {
      far = up ? near + step : near - step
      if (far <= 0n) {
        far = 0n
        if (sumWith(0) > total) return false
        break
      }
      const added = sumWith(fromBits(far))
      if (up ? added >= total : added <= total) break
      near = far
      step *= 2n
    }
    while (up ? far - near > 1n : near - far > 1n) {
      const middle = (near + far) / 2n
      const added = sumWith(fromBits(middle))
      if (up ? added < total : added > total) near = middle
      else far = middle
    }
    part = fromBits(far)
  }
  if (sumWith(part) !== total) return false
  parts[index] = part
  return true
}

const floatView = new Float64Array(1)
const bitsView = new BigInt64Array(floatView.buffer)

function toBits(x: number): bigint {
  floatView[0] = x
  return bitsView[0]!
}

function fromBits(bits: bigint): number {
  bitsView[0] = bits
  return floatView[0]!
}

/** Per-channel credits from per-channel weights; every channel is listed, zeros included. */
export function channelCredits(
  channels: readonly string[],
  conversionWeights: ArrayLike<number>,
  valueWeights: ArrayLike<number>,
  totals: Credit,
): ChannelCredits {
  const conversions = apportion(conversionWeights, totals.conversions)
  const value = apportion(valueWeights, totals.value)
  const credits: ChannelCredits = {}
  channels.forEach((channel, i) => {
    credits[channel] = { conversions: conversions[i]!, value: value[i]! }
  })
  return credits
}

/** Sum of a credit field in key order, the order `apportion` makes exact. */
export function creditTotal(credits: ChannelCredits): Credit {
  let conversions = 0
  let value = 0
  for (const credit of Object.values(credits)) {
    conversions += credit.conversions
    value += credit.value
  }
  return { conversions, value }
}

/**
 * Neumaier-compensated sum: totals of many fractional rows should not drift before they are
 * apportioned, or the credits would sum exactly to a slightly wrong total.
 */
export function preciseSum(values: ArrayLike<number>): number {
  let sum = 0
  let compensation = 0
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!
    const t = sum + value
    compensation += Math.abs(sum) >= Math.abs(value) ? sum - t + value : value - t + sum
    sum = t
  }
  return sum + compensation
}
