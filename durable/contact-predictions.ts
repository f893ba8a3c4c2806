import type { BgnbdParams } from '../domain/predictions/bgnbd'
import {
  DEFAULT_PREDICTION_SETTINGS,
  type FittedModels,
  type PredictionSettings,
} from '../domain/predictions/forecast'
import type { GammaGammaParams } from '../domain/predictions/gamma-gamma'
import type { Env } from '../edge/env'

/**
 * The predictions configuration: the settings (D1 `settings`, key `predictions`) and the newest
 * fit (D1 `prediction_fits`), read here for the edge and the contact objects alike.
 */

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

/** A row of prediction_fits. */
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
 * What every contact's object computes its predictions with. Ingest calls name it by `version`
 * (a digest: it moves whenever the settings or the fit do); objects load it per isolate by that
 * version (`contactPredictionsConfig`), as the attribution configuration.
 */
export interface PredictionsConfig {
  settings: PredictionSettings
  models: FittedModels | null
  version: string
}

export async function readPredictionSettings(db: D1Database): Promise<PredictionSettings> {
  const row = await db
    .prepare('SELECT value FROM settings WHERE key = ?')
    .bind(PREDICTION_SETTINGS_KEY)
    .first<{ value: string }>()
  const stored = row ? (JSON.parse(row.value) as Partial<PredictionSettings>) : {}
  return { ...DEFAULT_PREDICTION_SETTINGS, ...stored }
}

export async function newestFit(db: D1Database): Promise<PredictionFit | null> {
  const row = await db
    .prepare(
      `SELECT id, fitted_at AS fittedAt, source, customers, bgnbd, gamma_gamma AS gammaGamma,
         log_likelihood AS logLikelihood, settings
       FROM prediction_fits ORDER BY fitted_at DESC LIMIT 1`,
    )
    .first<Record<keyof PredictionFit, string | number | null>>()
  if (!row) return null
  return {
    ...row,
    bgnbd: JSON.parse(row.bgnbd as string),
    gammaGamma: row.gammaGamma === null ? null : JSON.parse(row.gammaGamma as string),
    settings: JSON.parse(row.settings as string),
  } as PredictionFit
}

export function fittedModels(fit: PredictionFit): FittedModels {
  const { r, alpha, a, b } = fit.bgnbd
  const gammaGamma = fit.gammaGamma
    ? { p: fit.gammaGamma.p, q: fit.gammaGamma.q, gamma: fit.gammaGamma.gamma }
    : null
  return { bgnbd: { r, alpha, a, b }, gammaGamma, fittedAt: fit.fittedAt }
}

/** Reads the configuration from D1, uncached (edge/predictions/config.ts caches it). */
export async function loadPredictionsConfig(db: D1Database): Promise<PredictionsConfig> {
  const [settings, fit] = await Promise.all([readPredictionSettings(db), newestFit(db)])
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(JSON.stringify({ settings, fit: fit?.id ?? null })),
  )
  const version = new Uint8Array(digest).slice(0, 16).toHex()
  return { settings, models: fit ? fittedModels(fit) : null, version }
}

/** Versions kept per isolate, as for the attribution configuration (contact-configuration.ts). */
const KEPT = 4
const byVersion = new Map<string, PredictionsConfig>()

/** How long the newest configuration serves calls that name none. */
const NEWEST_MS = 5_000
let newest: { config: PredictionsConfig; until: number } | undefined

/**
 * The configuration of `version`, read from D1 once per isolate when the version moves, as
 * contact-configuration.ts reads attribution's; D1 may hold a newer one than named: it serves as
 * well, and is kept under both names. `null` asks for the newest (the daily job, a change that
 * names no version, the predictions RPC), read again when older than a few seconds.
 */
export async function contactPredictionsConfig(
  env: Pick<Env, 'DB'>,
  version: string | null,
): Promise<PredictionsConfig> {
  const now = Date.now()
  if (version === null && newest && newest.until > now) return newest.config
  const known = version === null ? undefined : byVersion.get(version)
  if (known) return known
  const loaded = await loadPredictionsConfig(env.DB)
  if (byVersion.size >= KEPT) byVersion.clear()
  if (version !== null) byVersion.set(version, loaded)
  byVersion.set(loaded.version, loaded)
  newest = { config: loaded, until: now + NEWEST_MS }
  return loaded
}

/** The isolate that stored a fit or settings drops its newest copy at once. */
export function forgetNewestPredictionsConfig() {
  newest = undefined
}
