/**
 * Seeded synthetic journeys for property tests and fit benchmarks: one row per journey (so
 * duplicates are left for preparePaths to merge, as in a raw export), popular channels first,
 * and each channel lifting the conversion chance by its own amount so the models have a signal.
 */

import type { AggregatedPath } from './paths'
import { seededRandom } from './random'

export interface SyntheticOptions {
  /** Default 8. */
  channels?: number
  /** Default 6. */
  maxLength?: number
  /** Chance of continuing a path with one more touch; default 0.5. */
  continueChance?: number
  /** Default 0.02. */
  baseRate?: number
  seed?: number
}

const NAMES = [
  'organic_search',
  'paid_search',
  'direct',
  'email',
  'paid_social',
  'organic_social',
  'referral',
  'display',
  'affiliates',
  'sms',
  'paid_video',
  'organic_video',
]

export function syntheticChannels(count: number): string[] {
  return Array.from({ length: count }, (_, i) => NAMES[i] ?? `channel_${i + 1}`)
}

export function syntheticPaths(count: number, options: SyntheticOptions = {}): AggregatedPath[] {
  const { maxLength = 6, continueChance = 0.5, baseRate = 0.02, seed = 1 } = options
  const channels = syntheticChannels(options.channels ?? 8)
  const random = seededRandom(seed)
  // Zipf popularity: the first channels carry most traffic, as in real exports.
  const cumulative: number[] = []
  let total = 0
  channels.forEach((_, i) => cumulative.push((total += 1 / (i + 1))))
  const lift = channels.map((_, i) => 0.01 + 0.04 * (((i * 7919) % 10) / 10))
  const pick = () => {
    const target = random() * total
    let i = 0
    while (cumulative[i]! < target) i++
    return i
  }
  const rows: AggregatedPath[] = []
  for (let r = 0; r < count; r++) {
    const path = [pick()]
    while (path.length < maxLength && random() < continueChance) path.push(pick())
    let miss = 1 - baseRate
    for (const channel of new Set(path)) miss *= 1 - lift[channel]!
    const converted = random() < 1 - miss
    rows.push({
      path: path.map((channel) => channels[channel]!),
      conversions: converted ? 1 : 0,
      value: converted ? Math.round((20 + random() * 180) * 100) / 100 : 0,
      nulls: converted ? 0 : 1,
    })
  }
  return rows
}
