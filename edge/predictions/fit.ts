import { drizzle } from 'drizzle-orm/d1'
import { queueText } from '../../contracts/queue-messages'
import { fitBgnbd, type BgnbdFit, type PurchaseSummary } from '../../domain/predictions/bgnbd'
import {
  engagementFromLastPurchase,
  forecastContact,
  type FittedModels,
  type PredictionSettings,
} from '../../domain/predictions/forecast'
import { fitGammaGamma, type GammaGammaFit } from '../../domain/predictions/gamma-gamma'
import { randomToken } from '../access/secrets'
import { predictionFits } from '../db/schema'
import type { Env } from '../env'
import {
  fittedModels,
  newestFit,
  readPredictionSettings,
  type PredictionFit,
} from '../../durable/contact-predictions'
import { forgetPredictionsConfig } from './config'
import { readPurchaseSummaries, type ContactPurchaseSummary } from './summaries'

/** Scheduled fits run when the newest is older than this (the cron, edge/maintenance.ts). */
export const FIT_EVERY_MS = 24 * 3_600_000

/**
 * Repeat buyers the Gamma-Gamma needs: with fewer, its three parameters rest on too little and
 * CLV is left out (null) rather than made up.
 */
export const MIN_REPEAT_BUYERS = 20

/**
 * The penalty a fit that did not converge is made again with (lifetimes' penalizer_coef; its
 * smallest suggested value): small or degenerate data (nobody seen to drop out) sends a and b
 * off to infinity, where expected purchases are no longer finite. Never used on data the plain
 * maximum-likelihood fit handles: at 30,000 simulated customers 0.001 moves a and b by 35–45%.
 */
export const FALLBACK_PENALIZER = 0.001

/** Rows of contact_predictions per statement: a JSON parameter well under D1's 2 MB a value. */
const WRITE_CHUNK = 4_000

export interface PurchaseModelsFit {
  bgnbd: BgnbdFit & { penalizer: number }
  gammaGamma: (GammaGammaFit & { penalizer: number }) | null
}

/**
 * Both models over sound summaries (summaryProblem; the caller names a bad row): the BG/NBD on
 * everyone, the Gamma-Gamma on the repeat buyers whose mean value is positive, when there are
 * MIN_REPEAT_BUYERS of them; each by plain maximum likelihood, or with FALLBACK_PENALIZER when
 * that does not converge. The scheduled fit and `POST /api/predictions/fit` both call this.
 */
export function fitPurchaseModels(
  customers: readonly (PurchaseSummary & { m?: number })[],
): PurchaseModelsFit {
  const bgnbd = converging((penalizer) => fitBgnbd(customers, { penalizer }))
  const spenders = customers.flatMap(({ x, m }) =>
    x >= 1 && m !== undefined && m > 0 ? [{ x, m }] : [],
  )
  const gammaGamma =
    spenders.length >= MIN_REPEAT_BUYERS
      ? converging((penalizer) => fitGammaGamma(spenders, { penalizer }))
      : null
  return { bgnbd, gammaGamma }
}

function converging<F extends { converged: boolean }>(
  fit: (penalizer: number) => F,
): F & { penalizer: number } {
  const plain = fit(0)
  return plain.converged
    ? { ...plain, penalizer: 0 }
    : { ...fit(FALLBACK_PENALIZER), penalizer: FALLBACK_PENALIZER }
}

/** Asks the events consumer for a fit (edge/queue/consumer.ts): no request does one itself. */
export function requestPredictionFit(env: Pick<Env, 'EVENTS'>, source: PredictionFit['source']) {
  return env.EVENTS.send(queueText({ kind: 'prediction-fit', source }), { contentType: 'text' })
}

/** The cron's part: a fit once the newest is a day old (a scheduled one checks again when run). */
export async function requestFitIfStale(env: Pick<Env, 'DB' | 'EVENTS'>, now: Date) {
  if (await fitIsFresh(env.DB, now)) return false
  await requestPredictionFit(env, 'scheduled')
  return true
}

async function fitIsFresh(db: D1Database, now: Date): Promise<boolean> {
  const latest = await newestFit(db)
  return latest !== null && now.getTime() - Date.parse(latest.fittedAt) < FIT_EVERY_MS
}

/**
 * Fits both models over every purchaser in D1, stores the fit (the predictions configuration's
 * version moves with it) and writes every purchaser's predictions to contact_predictions, so the
 * at-risk list and SQL segments follow at once. Null when nobody has bought, or, for a scheduled
 * fit, when another made the newest fit fresh meanwhile (the cron asks every 15 minutes).
 */
export async function runPredictionFit(
  env: Pick<Env, 'DB'>,
  source: PredictionFit['source'],
  now = new Date(),
): Promise<PredictionFit | null> {
  if (source === 'scheduled' && (await fitIsFresh(env.DB, now))) return null
  const settings = await readPredictionSettings(env.DB)
  const summaries = await readPurchaseSummaries(env.DB, settings, now)
  if (summaries.length === 0) return null
  const { bgnbd, gammaGamma } = fitPurchaseModels(summaries)
  const fit: PredictionFit = {
    id: `pfit_${randomToken(12)}`,
    fittedAt: now.toISOString(),
    source,
    customers: bgnbd.customers,
    bgnbd: {
      ...bgnbd.params,
      logLikelihood: bgnbd.logLikelihood,
      converged: bgnbd.converged,
      penalizer: bgnbd.penalizer,
    },
    gammaGamma: gammaGamma && {
      ...gammaGamma.params,
      logLikelihood: gammaGamma.logLikelihood,
      converged: gammaGamma.converged,
      penalizer: gammaGamma.penalizer,
      customers: gammaGamma.customers,
    },
    logLikelihood: bgnbd.logLikelihood,
    settings,
  }
  await drizzle(env.DB).insert(predictionFits).values(fit)
  forgetPredictionsConfig()
  await writePurchaserPredictions(env.DB, summaries, fittedModels(fit), settings, fit.fittedAt)
  return fit
}

/**
 * Every purchaser's P(alive), CLV and churn risk under the new fit. Engagement is the contact's
 * object's to project (it sees every event); the risk blends in the engagement last projected,
 * or, for a contact not projected yet, what its last purchase alone gives (a lower bound). Only
 * contacts D1 still holds are written: an erasure that commits meanwhile keeps its person out.
 */
async function writePurchaserPredictions(
  db: D1Database,
  summaries: readonly ContactPurchaseSummary[],
  models: FittedModels,
  settings: PredictionSettings,
  at: string,
) {
  const { results } = await db
    .prepare(
      'SELECT contact_key AS key, engagement FROM contact_predictions WHERE engagement IS NOT NULL',
    )
    .all<{ key: string; engagement: number }>()
  const engagements = new Map(results.map((row) => [row.key, row.engagement]))
  for (let start = 0; start < summaries.length; start += WRITE_CHUNK) {
    const rows = summaries.slice(start, start + WRITE_CHUNK).map((summary) => {
      const engagement =
        engagements.get(summary.contactKey) ?? engagementFromLastPurchase(summary, settings)
      const forecast = forecastContact(engagement, summary, models, settings)
      const { churnRisk, lapseRisk, pAlive, clv } = forecast
      return [summary.contactKey, churnRisk, lapseRisk, pAlive, clv]
    })
    await db
      .prepare(
        `INSERT INTO contact_predictions (contact_key, churn_risk, lapse_risk, p_alive, clv,
           updated_at)
         SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, ?2
         FROM json_each(?1) AS r WHERE r.value ->> 0 IN (SELECT key FROM contacts)
         ON CONFLICT (contact_key) DO UPDATE SET churn_risk = excluded.churn_risk,
           lapse_risk = excluded.lapse_risk, p_alive = excluded.p_alive, clv = excluded.clv,
           updated_at = max(updated_at, excluded.updated_at)`,
      )
      .bind(JSON.stringify(rows), at)
      .run()
  }
}
