import { loadDomainBundle } from './domain.ts'

/**
 * The prediction code the predictions section runs in this Node process: the simulation harness
 * (domain/predictions/simulate.ts), the fit the scheduled fit and `POST /api/predictions/fit`
 * call (edge/predictions/fit.ts fitPurchaseModels) and the statement that reads the purchase
 * summaries from D1 (edge/predictions/summaries.ts), so the bench times Cairn's own code and SQL.
 * Their modules import each other without extensions, so esbuild joins them first (domain.ts).
 */
export type PredictionsDomain = Pick<
  typeof import('../domain/predictions/simulate.ts'),
  'simulatePopulation' | 'simulateWinBack' | 'targetingScores'
> &
  Pick<typeof import('../domain/predictions/forecast.ts'), 'DEFAULT_PREDICTION_SETTINGS'> &
  Pick<typeof import('../edge/predictions/fit.ts'), 'fitPurchaseModels'> &
  Pick<typeof import('../edge/predictions/summaries.ts'), 'readPurchaseSummaries'>

export function loadPredictionsDomain(): Promise<PredictionsDomain> {
  return loadDomainBundle<PredictionsDomain>('predictions', {
    stdin: {
      contents: [
        "export { simulatePopulation, simulateWinBack, targetingScores } from './domain/predictions/simulate.ts'",
        "export { DEFAULT_PREDICTION_SETTINGS } from './domain/predictions/forecast.ts'",
        "export { fitPurchaseModels } from './edge/predictions/fit.ts'",
        "export { readPurchaseSummaries } from './edge/predictions/summaries.ts'",
      ].join('\n'),
      resolveDir: process.cwd(),
      sourcefile: 'bench-predictions-entry.ts',
      loader: 'ts',
    },
  })
}
