/**
 * Rule-based models: fixed rules for sharing one conversion among its touches. Each credits a
 * conversion with exactly 1 and exactly its value (see credits.ts), per touch or per channel.
 */

import { apportion, channelCredits, preciseSum, type ChannelCredits } from './credits'
import {
  collapseTouchRuns,
  DIRECT,
  isDirectChannel,
  type Conversion,
  type PathOptions,
  type PreparedPaths,
  type Touch,
} from './paths'

export const RULE_MODELS = [
  'first',
  'last',
  'last_non_direct',
  'linear',
  'time_decay',
  'position',
] as const

export type RuleModel = (typeof RULE_MODELS)[number]

export interface RuleOptions {
  /** Time decay: a touch this many days older than another gets half its weight; default 7. */
  halfLifeDays?: number
  /** Which channels last non-direct skips; default `direct` in any case, with or without (). */
  isDirect?: (channel: string) => boolean
}

export const DEFAULT_HALF_LIFE_DAYS = 7
const POSITION_END_SHARE = 0.4
const DAY_MS = 86_400_000

/**
 * Unnormalised weight per touch, oldest first. `ageDays(i)` is how long before the conversion
 * touch i happened; only time decay reads it.
 */
function rawWeights(
  model: RuleModel,
  length: number,
  isDirectAt: (i: number) => boolean,
  ageDays: (i: number) => number,
  halfLifeDays: number,
): Float64Array {
  const weights = new Float64Array(length)
  switch (model) {
    case 'first':
      weights[0] = 1
      break
    case 'last':
      weights[length - 1] = 1
      break
    case 'last_non_direct': {
      let chosen = length - 1
      while (chosen >= 0 && isDirectAt(chosen)) chosen--
      // Every touch direct: direct is then the honest answer, not "no one".
      weights[chosen < 0 ? length - 1 : chosen] = 1
      break
    }
    case 'linear':
      weights.fill(1)
      break
    case 'time_decay': {
      // Relative to the youngest touch, so a path of very old touches cannot underflow to 0/0.
      let youngest = Infinity
      for (let i = 0; i < length; i++) youngest = Math.min(youngest, Math.max(0, ageDays(i)))
      for (let i = 0; i < length; i++) {
        weights[i] = 2 ** (-(Math.max(0, ageDays(i)) - youngest) / halfLifeDays)
      }
      break
    }
    case 'position':
      if (length <= 2) {
        weights.fill(1)
      } else {
        weights.fill((1 - 2 * POSITION_END_SHARE) / (length - 2))
        weights[0] = POSITION_END_SHARE
        weights[length - 1] = POSITION_END_SHARE
      }
      break
  }
  return weights
}

function halfLifeOf(options: RuleOptions): number {
  const halfLife = options.halfLifeDays ?? DEFAULT_HALF_LIFE_DAYS
  if (!(halfLife > 0) || !Number.isFinite(halfLife)) {
    throw new RangeError(`halfLifeDays must be a positive number, got ${halfLife}`)
  }
  return halfLife
}

/** Share of one conversion per touch (touches oldest first); the shares add up to exactly 1. */
export function touchWeights(
  model: RuleModel,
  touches: readonly Touch[],
  convertedAt: number,
  options: RuleOptions = {},
): number[] {
  if (touches.length === 0) return []
  const isDirect = options.isDirect ?? isDirectChannel
  const raw = rawWeights(
    model,
    touches.length,
    (i) => isDirect(touches[i]!.channel),
    (i) => (convertedAt - touches[i]!.at) / DAY_MS,
    halfLifeOf(options),
  )
  return apportion(raw, 1)
}

/**
 * Touches in time order, runs collapsed unless told otherwise; a conversion without touches is
 * a direct one, as a session with no known source is.
 */
export function touchesToCredit(conversion: Conversion, { collapse = true }: PathOptions = {}) {
  const sorted = conversion.touches.slice().sort((a, b) => a.at - b.at)
  const touches = collapse ? collapseTouchRuns(sorted) : sorted
  return touches.length > 0 ? touches : [{ channel: DIRECT, at: conversion.at }]
}

/** One conversion's credits per channel (channels in order of first touch). */
export function creditConversion(
  model: RuleModel,
  conversion: Conversion,
  options: RuleOptions & PathOptions = {},
): ChannelCredits {
  const touches = touchesToCredit(conversion, options)
  const isDirect = options.isDirect ?? isDirectChannel
  const raw = rawWeights(
    model,
    touches.length,
    (i) => isDirect(touches[i]!.channel),
    (i) => (conversion.at - touches[i]!.at) / DAY_MS,
    halfLifeOf(options),
  )
  const channels: string[] = []
  const perChannel: number[] = []
  touches.forEach((touch, i) => {
    let slot = channels.indexOf(touch.channel)
    if (slot < 0) {
      slot = channels.push(touch.channel) - 1
      perChannel.push(0)
    }
    perChannel[slot]! += raw[i]!
  })
  return channelCredits(channels, perChannel, perChannel, {
    conversions: 1,
    value: conversion.value,
  })
}

export function creditRuleModels(
  conversion: Conversion,
  options: RuleOptions & PathOptions = {},
): Record<RuleModel, ChannelCredits> {
  const credits = {} as Record<RuleModel, ChannelCredits>
  for (const model of RULE_MODELS) credits[model] = creditConversion(model, conversion, options)
  return credits
}

/**
 * Every rule model over aggregated paths. Exported paths carry no timestamps, so time decay
 * places touches one day apart with the last on the conversion day; only the gaps matter, since
 * shifting every age by the same amount scales every weight alike.
 */
export function ruleCreditsForPaths(
  prepared: PreparedPaths,
  options: RuleOptions = {},
): Record<RuleModel, ChannelCredits> {
  const halfLife = halfLifeOf(options)
  const isDirect = options.isDirect ?? isDirectChannel
  const directFlags = prepared.channels.map((channel) => isDirect(channel))
  const n = prepared.channels.length
  const sums = RULE_MODELS.map(() => ({
    conversions: new Float64Array(n),
    value: new Float64Array(n),
  }))
  prepared.paths.forEach((path, p) => {
    const conversions = prepared.conversions[p]!
    const value = prepared.values[p]!
    if (conversions === 0 && value === 0) return
    const length = path.length
    RULE_MODELS.forEach((model, m) => {
      const raw = rawWeights(
        model,
        length,
        (i) => directFlags[path[i]!]!,
        (i) => length - 1 - i,
        halfLife,
      )
      let total = 0
      for (let i = 0; i < length; i++) total += raw[i]!
      const sum = sums[m]!
      for (let i = 0; i < length; i++) {
        const share = raw[i]! / total
        sum.conversions[path[i]!]! += share * conversions
        sum.value[path[i]!]! += share * value
      }
    })
  })
  const totals = {
    conversions: preciseSum(prepared.conversions),
    value: preciseSum(prepared.values),
  }
  const credits = {} as Record<RuleModel, ChannelCredits>
  RULE_MODELS.forEach((model, m) => {
    credits[model] = channelCredits(prepared.channels, sums[m]!.conversions, sums[m]!.value, totals)
  })
  return credits
}
