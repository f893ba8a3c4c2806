/** Helpers shared by this folder's tests; not part of the attribution API. */

import { expect } from 'vitest'
import type { ChannelCredits } from './credits'
import type { AggregatedPath } from './paths'
import type { Random } from './random'

/** Sums in key order, the order credits.ts makes exact. */
export function sums(credits: ChannelCredits) {
  let conversions = 0
  let value = 0
  for (const credit of Object.values(credits)) {
    conversions += credit.conversions
    value += credit.value
  }
  return { conversions, value }
}

export function expectTotals(credits: ChannelCredits, conversions: number, value: number) {
  const total = sums(credits)
  expect(Math.abs(total.conversions - conversions)).toBeLessThanOrEqual(
    1e-9 * Math.max(1, conversions),
  )
  expect(Math.abs(total.value - value)).toBeLessThanOrEqual(1e-9 * Math.max(1, value))
  for (const credit of Object.values(credits)) {
    expect(credit.conversions).toBeGreaterThanOrEqual(0)
    expect(credit.value).toBeGreaterThanOrEqual(0)
  }
}

export function conversionsOf(credits: ChannelCredits): Record<string, number> {
  return Object.fromEntries(Object.entries(credits).map(([c, credit]) => [c, credit.conversions]))
}

export function valuesOf(credits: ChannelCredits): Record<string, number> {
  return Object.fromEntries(Object.entries(credits).map(([c, credit]) => [c, credit.value]))
}

/** Expects each named number within `digits` decimal places. */
export function expectClose(
  actual: Record<string, number>,
  expected: Record<string, number>,
  digits = 12,
) {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort())
  for (const [key, value] of Object.entries(expected)) {
    expect(actual[key], key).toBeCloseTo(value, digits)
  }
}

/**
 * Random aggregated rows: paths of 1..maxLength channels from `channels`, with fractional and
 * whole counts and awkward values (0.1-style decimals that do not add up exactly in binary).
 */
export function randomPaths(
  random: Random,
  { rows = 40, channels = ['a', 'b', 'c', 'd', 'e'], maxLength = 6 } = {},
): AggregatedPath[] {
  return Array.from({ length: rows }, () => {
    const length = 1 + Math.floor(random() * maxLength)
    const path = Array.from({ length }, () => channels[Math.floor(random() * channels.length)]!)
    const conversions =
      random() < 0.3 ? 0 : random() < 0.5 ? 1 + Math.floor(random() * 9) : random() * 5
    const value = conversions > 0 ? Math.round(random() * 100_000) / 100 + 0.1 : 0
    const nulls = random() < 0.3 ? 0 : Math.floor(random() * 20)
    return { path, conversions, value, nulls }
  })
}
