/**
 * Every model over a set of aggregated paths: the body of `POST /api/attribution/analyze`, and
 * the scheduled refit of the data-driven models over all paths in D1.
 */

import { preciseSum, type ChannelCredits } from './credits'
import { fitMarkov } from './markov'
import { preparePaths, type AggregatedPath, type PathOptions } from './paths'
import { RULE_MODELS, ruleCreditsForPaths, type RuleOptions } from './rule-based'
import { fitShapley, type ShapleyMethod, type ShapleyOptions } from './shapley'

export const MODEL_NAMES = [...RULE_MODELS, 'markov', 'shapley'] as const

export type ModelName = (typeof MODEL_NAMES)[number]

export interface AnalyzeOptions extends RuleOptions, PathOptions {
  /** Default 1. */
  markovOrder?: number
  shapley?: ShapleyOptions
}

export interface AnalyzeResult {
  models: Record<ModelName, ChannelCredits>
  /** Markov removal effects (relative drop in conversion probability), per channel. */
  removalEffects: Record<string, number>
  /** How the numbers were obtained; not part of the models' credits. */
  diagnostics: {
    rows: number
    uniquePaths: number
    channels: number
    conversions: number
    value: number
    nulls: number
    collapsed: boolean
    markov: {
      order: number
      conversionProbability: number
      valueRemovalEffects: Record<string, number>
      converged: boolean
    }
    shapley: { method: ShapleyMethod; samples: number; standardError: ChannelCredits }
  }
}

export function analyzePaths(
  paths: readonly AggregatedPath[],
  options: AnalyzeOptions = {},
): AnalyzeResult {
  const collapse = options.collapse ?? true
  const prepared = preparePaths(paths, { collapse })
  const rules = ruleCreditsForPaths(prepared, options)
  const markov = fitMarkov(prepared, { order: options.markovOrder ?? 1 })
  const shapley = fitShapley(prepared, options.shapley)
  return {
    models: { ...rules, markov: markov.credits, shapley: shapley.credits },
    removalEffects: markov.removalEffects,
    diagnostics: {
      rows: paths.length,
      uniquePaths: prepared.paths.length,
      channels: prepared.channels.length,
      conversions: preciseSum(prepared.conversions),
      value: preciseSum(prepared.values),
      nulls: preciseSum(prepared.nulls),
      collapsed: collapse,
      markov: {
        order: markov.order,
        conversionProbability: markov.conversionProbability,
        valueRemovalEffects: markov.valueRemovalEffects,
        converged: markov.converged,
      },
      shapley: {
        method: shapley.method,
        samples: shapley.samples,
        standardError: shapley.standardError,
      },
    },
  }
}
