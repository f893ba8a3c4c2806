export {
  analyzePaths,
  MODEL_NAMES,
  type AnalyzeOptions,
  type AnalyzeResult,
  type ModelName,
} from './analyze'
export {
  bootstrapShares,
  confidenceScore,
  scoreConfidence,
  isDeterministicPath,
  type BootstrapIntervals,
  type BootstrapOptions,
  type ChannelShareIntervals,
  type ConfidenceScore,
  type ShareInterval,
} from './confidence'
export { apportion, creditTotal, type ChannelCredits, type Credit } from './credits'
export { parsePathsCsv } from './csv'
export {
  compileMarkovChain,
  fitMarkov,
  fitMarkovChain,
  type MarkovChain,
  type MarkovFit,
  type MarkovOptions,
} from './markov'
export {
  collapseRepeats,
  collapseTouchRuns,
  DIRECT,
  isDirectChannel,
  preparePaths,
  touchesForConversion,
  type AggregatedPath,
  type Conversion,
  type PathOptions,
  type PreparedPaths,
  type Touch,
} from './paths'
export {
  creditConversionAllModels,
  creditMarkovConversion,
  creditShapleyConversion,
  type FittedWeights,
} from './realtime'
export type {
  AttributionError,
  AttributionErrorCode,
  PathIssue,
  PathIssueCode,
  Result,
} from './result'
export {
  creditConversion,
  creditRuleModels,
  DEFAULT_HALF_LIFE_DAYS,
  RULE_MODELS,
  touchWeights,
  type RuleModel,
  type RuleOptions,
} from './rule-based'
export {
  compileCoalitions,
  fitShapley,
  fitShapleyGame,
  type Coalitions,
  type ShapleyFit,
  type ShapleyMethod,
  type ShapleyOptions,
} from './shapley'
export { DEFAULT_PATH_LIMITS, validatePaths, type PathLimits } from './validate'
