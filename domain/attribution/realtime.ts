/**
 * Crediting one conversion the moment it is ingested (inside the ContactDO) under every model,
 * the data-driven ones with the latest fitted weights.
 */

import type { ModelName } from './analyze'
import { channelCredits, type ChannelCredits } from './credits'
import type { Conversion, PathOptions } from './paths'
import { creditRuleModels, touchesToCredit, type RuleOptions } from './rule-based'

/** What the scheduled Markov fit leaves for real-time crediting. */
export interface FittedWeights {
  removalEffects: Record<string, number>
  /** Falls back to `removalEffects` when absent. */
  valueRemovalEffects?: Record<string, number>
}

/**
 * Splits the conversion among its distinct channels in proportion to their removal effects.
 * A channel the fit has not seen yet gets the mean removal effect of the fitted channels, a
 * neutral prior until the next refit; if nothing on the path has any weight, the channels share
 * evenly.
 */
export function creditMarkovConversion(
  conversion: Conversion,
  fitted: FittedWeights,
  options: PathOptions = {},
): ChannelCredits {
  const channels = distinctChannels(conversion, options)
  const conversionWeights = weightsFor(channels, fitted.removalEffects)
  const valueWeights = fitted.valueRemovalEffects
    ? weightsFor(channels, fitted.valueRemovalEffects)
    : conversionWeights
  return channelCredits(channels, conversionWeights, valueWeights, {
    conversions: 1,
    value: conversion.value,
  })
}

/**
 * Under the cumulative game (see shapley.ts) a path's conversions are a unanimity game of its
 * channels, so this conversion's Shapley credit is an even split among its distinct channels,
 * whatever the rest of the data; summed over conversions it equals the fitted Shapley credits.
 */
export function creditShapleyConversion(
  conversion: Conversion,
  options: PathOptions = {},
): ChannelCredits {
  const channels = distinctChannels(conversion, options)
  const even = channels.map(() => 1)
  return channelCredits(channels, even, even, { conversions: 1, value: conversion.value })
}

export function creditConversionAllModels(
  conversion: Conversion,
  fitted: FittedWeights,
  options: RuleOptions & PathOptions = {},
): Record<ModelName, ChannelCredits> {
  return {
    ...creditRuleModels(conversion, options),
    markov: creditMarkovConversion(conversion, fitted, options),
    shapley: creditShapleyConversion(conversion, options),
  }
}

function distinctChannels(conversion: Conversion, options: PathOptions): string[] {
  return [...new Set(touchesToCredit(conversion, options).map((touch) => touch.channel))]
}

function weightsFor(channels: readonly string[], fitted: Record<string, number>): number[] {
  const known = Object.values(fitted).filter((weight) => Number.isFinite(weight) && weight >= 0)
  const prior = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1
  const weights = channels.map((channel) => {
    const weight = Object.hasOwn(fitted, channel) ? fitted[channel]! : prior
    return Number.isFinite(weight) && weight > 0 ? weight : 0
  })
  return weights.some((weight) => weight > 0) ? weights : channels.map(() => 1)
}
