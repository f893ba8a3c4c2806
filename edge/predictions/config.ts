import { drizzle } from 'drizzle-orm/d1'
import { desc } from 'drizzle-orm'
import type { BgnbdParams } from '../../domain/predictions/bgnbd'
import {
  DEFAULT_PREDICTION_SETTINGS,
  type FittedModels,
  type PredictionSettings,
} from '../../domain/predictions/forecast'
import type { GammaGammaParams } from '../../domain/predictions/gamma-gamma'
import { sha256Hex } from '../access/secrets'
import { RefreshedValue } from '../cache/refreshed-value'
import { predictionFits } from '../db/schema'
import { readSetting, writeSetting } from '../db/settings'
import type { Env } from '../env'

export const PREDICTION_SETTINGS_KEY = 'predictions'

/** The BG/NBD as a fit stores it: the parameters with how the search ended. */
export interface StoredBgnbd extends BgnbdParams {
  logLikelihood: number
  converged: boolean
  /** 0, or edge/predictions/fit.ts FALLBACK_PENALIZER when the plain fit did not converge. */
  penalizer: number
}

export interface StoredGammaGamma extends GammaGammaParams {
  logLikelihood: number
  converged: boolean
  penalizer: number
  /** Repeat buyers it was fitted on. */
  customers: number
}

/** A row of prediction_fits, typed. */
export interface PredictionFit {
  id: string
  fittedAt: string
  source: 'scheduled' | 'manual'
  customers: number
  bgnbd: StoredBgnbd
  gammaGamma: StoredGammaGamma | null
  logLikelihood: number
  settings: PredictionSettings
}

/**
 * What every contact's object computes its predictions with: the settings and the newest fit.
 * Ingest calls name it by `version` (a digest: it changes whenever either does); objects load it
 * per isolate by that version (durable/contact-predictions.ts), as the attribution configuration.
 */
export interface PredictionsConfig {
  settings: PredictionSettings
  models: FittedModels | null
  version: string
}

export async function readPredictionSettings(db: D1Database): Promise<PredictionSettings> {
  const stored = await readSetting<Partial<PredictionSettings>>(db, PREDICTION_SETTINGS_KEY)
  return { ...DEFAULT_PREDICTION_SETTINGS, ...stored }
}

export async function writePredictionSettings(db: D1Database, value: PredictionSettings) {
  await writeSetting(db, PREDICTION_SETTINGS_KEY, value)
  forgetPredictionsConfig()
}

export async function newestFit(db: D1Database): Promise<PredictionFit | null> {
  const [row] = await drizzle(db)
    .select()
    .from(predictionFits)
    .orderBy(desc(predictionFits.fittedAt))
    .limit(1)
  return (row as PredictionFit | undefined) ?? null
}

/** Reads the configuration from D1, uncached (the edge caches it: `predictionsConfig`). */
export async function loadPredictionsConfig(db: D1Database): Promise<PredictionsConfig> {
  const [settings, fit] = await Promise.all([readPredictionSettings(db), newestFit(db)])
  const models = fit ? fittedModels(fit) : null
  const version = (await sha256Hex(JSON.stringify({ settings, fit: fit?.id ?? null }))).slice(0, 32)
  return { settings, models, version }
}

export function fittedModels(fit: PredictionFit): FittedModels {
  const { r, alpha, a, b } = fit.bgnbd
  const gammaGamma = fit.gammaGamma
    ? { p: fit.gammaGamma.p, q: fit.gammaGamma.q, gamma: fit.gammaGamma.gamma }
    : null
  return { bgnbd: { r, alpha, a, b }, gammaGamma, fittedAt: fit.fittedAt }
}

/**
 * Read on every ingest request, changed about once a day: cached per isolate for a few seconds
 * like the segments (segments/config.ts); the isolate that changes it forgets at once.
 */
const CACHE_MS = 5_000
const cached = new RefreshedValue<PredictionsConfig>(CACHE_MS)

export function predictionsConfig(env: Pick<Env, 'DB'>): Promise<PredictionsConfig> {
  return cached.get(() => loadPredictionsConfig(env.DB))
}

export function forgetPredictionsConfig() {
  cached.forget()
}
