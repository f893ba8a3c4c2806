/**
 * How sure a report is.
 *
 * Confidence score: the share of converted value whose whole touch path is deterministic, every
 * touch tied to the contact by a first-party id or an identify link. A touch not marked
 * deterministic counts as inferred, so a caller that forgets the flag sees low confidence rather
 * than false certainty. When no conversion carries value the share of conversions is used.
 *
 * Bootstrap intervals: the data-driven models are refitted on resampled journeys and each
 * channel's share is read off every refit; the 2.5th and 97.5th percentiles bound the 95%
 * interval. Resampling is the Poisson bootstrap: every journey is kept a Poisson(1) number of
 * times, so an aggregated row of c conversions becomes Poisson(c) conversions (its value scaled
 * alike) and n nulls Poisson(n) nulls. It matches the classic draw-with-replacement bootstrap
 * for all but tiny samples and resamples aggregated rows without expanding them into journeys.
 */

import { preciseSum, type ChannelCredits } from './credits'
import { compileMarkovChain, fitMarkovChain } from './markov'
import { preparePaths, type AggregatedPath, type PathOptions, type Touch } from './paths'
import { poisson, seededRandom } from './random'
import { compileCoalitions, fitShapleyGame, type ShapleyOptions } from './shapley'

export interface ConfidenceScore {
  /** Null when there is nothing converted to be sure about. */
  score: number | null
  basis: 'value' | 'conversions'
  conversions: number
  deterministicConversions: number
  value: number
  deterministicValue: number
}

/** A path with no touches was credited to direct by default, which is an inference. */
export function isDeterministicPath(touches: readonly Touch[]): boolean {
  return touches.length > 0 && touches.every((touch) => touch.deterministic === true)
}

export function confidenceScore(
  conversions: Iterable<{ value: number; touches: readonly Touch[] }>,
): ConfidenceScore {
  const flagged: { value: number; deterministic: boolean }[] = []
  for (const conversion of conversions) {
    flagged.push({
      value: conversion.value,
      deterministic: isDeterministicPath(conversion.touches),
    })
  }
  return scoreConfidence(flagged)
}

/** The score from conversions already judged deterministic or not (as stored with credits). */
export function scoreConfidence(
  conversions: Iterable<{ value: number; deterministic: boolean }>,
): ConfidenceScore {
  const result: ConfidenceScore = {
    score: null,
    basis: 'value',
    conversions: 0,
    deterministicConversions: 0,
    value: 0,
    deterministicValue: 0,
  }
  for (const conversion of conversions) {
    result.conversions++
    result.value += conversion.value
    if (conversion.deterministic) {
      result.deterministicConversions++
      result.deterministicValue += conversion.value
    }
  }
  if (result.value > 0) {
    result.score = result.deterministicValue / result.value
  } else if (result.conversions > 0) {
    result.basis = 'conversions'
    result.score = result.deterministicConversions / result.conversions
  }
  return result
}

export interface BootstrapOptions extends PathOptions {
  /** Default 200. */
  replicates?: number
  /** Default 0.95. */
  level?: number
  /** Default 1; the same seed gives the same intervals. */
  seed?: number
  markovOrder?: number
  shapley?: ShapleyOptions
}

export interface ShareInterval {
  /** Share of the full data's total credited to the channel. */
  share: number
  low: number
  high: number
}

export type ChannelShareIntervals = Record<
  string,
  { conversions: ShareInterval; value: ShareInterval }
>

export interface BootstrapIntervals {
  level: number
  /** Replicates that had any conversion (only those have shares). */
  replicates: number
  markov: ChannelShareIntervals
  shapley: ChannelShareIntervals
}

export function bootstrapShares(
  paths: readonly AggregatedPath[],
  options: BootstrapOptions = {},
): BootstrapIntervals {
  const replicates = options.replicates ?? 200
  const level = options.level ?? 0.95
  if (!Number.isInteger(replicates) || replicates < 1) {
    throw new RangeError(`replicates must be a positive integer, got ${replicates}`)
  }
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`)
  const prepared = preparePaths(paths, options)
  const chain = compileMarkovChain(prepared, { order: options.markovOrder ?? 1 })
  const coalitions = compileCoalitions(prepared)
  const fit = (
    conversions: Float64Array,
    nulls: Float64Array,
    values: Float64Array,
    r: number,
  ) => ({
    markov: fitMarkovChain(chain, conversions, nulls, values).credits,
    shapley: fitShapleyGame(coalitions, conversions, values, {
      ...options.shapley,
      seed: (options.shapley?.seed ?? 1) + r,
    }).credits,
  })

  const { channels } = prepared
  const point = fit(prepared.conversions, prepared.nulls, prepared.values, 0)
  const samples = {
    markov: { conversions: [] as Float64Array[], value: [] as Float64Array[] },
    shapley: { conversions: [] as Float64Array[], value: [] as Float64Array[] },
  }
  const random = seededRandom(options.seed ?? 1)
  const count = prepared.paths.length
  for (let r = 1; r <= replicates; r++) {
    const conversions = new Float64Array(count)
    const nulls = new Float64Array(count)
    const values = new Float64Array(count)
    for (let p = 0; p < count; p++) {
      const original = prepared.conversions[p]!
      conversions[p] = poisson(random, original)
      nulls[p] = poisson(random, prepared.nulls[p]!)
      values[p] = original > 0 ? (prepared.values[p]! * conversions[p]!) / original : 0
    }
    if (preciseSum(conversions) === 0) continue
    const replicate = fit(conversions, nulls, values, r)
    for (const model of ['markov', 'shapley'] as const) {
      const shares = sharesOf(channels, replicate[model])
      samples[model].conversions.push(shares.conversions)
      if (shares.value) samples[model].value.push(shares.value)
    }
  }

  const intervals = (model: 'markov' | 'shapley'): ChannelShareIntervals => {
    const shares = sharesOf(channels, point[model])
    const out: ChannelShareIntervals = {}
    channels.forEach((channel, c) => {
      out[channel] = {
        conversions: interval(shares.conversions[c]!, samples[model].conversions, c, level),
        value: interval(shares.value?.[c] ?? 0, samples[model].value, c, level),
      }
    })
    return out
  }
  return {
    level,
    replicates: samples.markov.conversions.length,
    markov: intervals('markov'),
    shapley: intervals('shapley'),
  }
}

function sharesOf(channels: readonly string[], credits: ChannelCredits) {
  const totalConversions = preciseSum(channels.map((channel) => credits[channel]!.conversions))
  const totalValue = preciseSum(channels.map((channel) => credits[channel]!.value))
  return {
    conversions: Float64Array.from(channels, (channel) =>
      totalConversions > 0 ? credits[channel]!.conversions / totalConversions : 0,
    ),
    value:
      totalValue > 0
        ? Float64Array.from(channels, (channel) => credits[channel]!.value / totalValue)
        : null,
  }
}

function interval(share: number, replicates: Float64Array[], c: number, level: number) {
  if (replicates.length === 0) return { share, low: share, high: share }
  const column = Float64Array.from(replicates, (shares) => shares[c]!).sort()
  const tail = (1 - level) / 2
  return { share, low: quantile(column, tail), high: quantile(column, 1 - tail) }
}

/** Linear interpolation between order statistics (type 7, the R and numpy default). */
export function quantile(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q
  const below = Math.floor(position)
  const above = Math.min(sorted.length - 1, below + 1)
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below)
}
