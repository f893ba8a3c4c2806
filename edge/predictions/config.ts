import {
  forgetNewestPredictionsConfig,
  loadPredictionsConfig,
  PREDICTION_SETTINGS_KEY,
  type PredictionsConfig,
} from '../../durable/contact-predictions'
import type { PredictionSettings } from '../../domain/predictions/forecast'
import { RefreshedValue } from '../cache/refreshed-value'
import { writeSetting } from '../db/settings'
import type { Env } from '../env'

/**
 * Read on every ingest request, changed about once a day: cached per isolate for a few seconds
 * like the segments (segments/config.ts); the isolate that changes it forgets at once. The
 * configuration itself (settings and newest fit) is read by durable/contact-predictions.ts.
 */
const CACHE_MS = 5_000
const cached = new RefreshedValue<PredictionsConfig>(CACHE_MS)

export function predictionsConfig(env: Pick<Env, 'DB'>): Promise<PredictionsConfig> {
  return cached.get(() => loadPredictionsConfig(env.DB))
}

export function forgetPredictionsConfig() {
  cached.forget()
  forgetNewestPredictionsConfig()
}

export async function writePredictionSettings(db: D1Database, value: PredictionSettings) {
  await writeSetting(db, PREDICTION_SETTINGS_KEY, value)
  forgetPredictionsConfig()
}
