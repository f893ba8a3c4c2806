import { drizzle } from 'drizzle-orm/d1'
import { desc } from 'drizzle-orm'
import { randomToken } from '../access/secrets'
import { attributionFits } from '../db/schema'
import { analyzePaths, bootstrapShares, type AggregatedPath } from '../../domain/attribution'
import type { Env } from '../env'
import { attributionConfig, forgetAttributionConfig } from './config'

const DAY_MS = 86_400_000
/** Scheduled refits run when the newest fit is older than this. */
export const REFIT_EVERY_MS = 6 * 3_600_000

/**
 * Journeys over the lookback window, converting and not, as aggregated paths: a conversion's
 * path is the touches the ContactDO credited it with; a contact with touches but no conversion
 * in the window is one non-converting journey.
 */
export async function journeyPaths(env: Pick<Env, 'DB'>, from: string): Promise<AggregatedPath[]> {
  const byPath = new Map<string, AggregatedPath>()
  const add = (path: string[], conversions: number, value: number, nulls: number) => {
    const key = JSON.stringify(path)
    const row = byPath.get(key) ?? { path, conversions: 0, value: 0, nulls: 0 }
    row.conversions += conversions
    row.value += value
    row.nulls += nulls
    byPath.set(key, row)
  }
  const converted = await env.DB.prepare('SELECT path, value FROM conversions WHERE at >= ?')
    .bind(from)
    .all<{ path: string; value: number }>()
  for (const row of converted.results) add(JSON.parse(row.path) as string[], 1, row.value, 0)
  const unconverted = await env.DB.prepare(
    `SELECT contact_key, json_group_array(channel) AS path FROM
       (SELECT contact_key, channel FROM touches WHERE at >= ?1
        AND contact_key NOT IN (SELECT contact_key FROM conversions WHERE at >= ?1 AND contact_key IS NOT NULL)
        ORDER BY contact_key, at)
     GROUP BY contact_key`,
  )
    .bind(from)
    .all<{ path: string }>()
  for (const row of unconverted.results) add(JSON.parse(row.path) as string[], 0, 0, 1)
  return [...byPath.values()]
}

/** Fits the data-driven models over all journeys and makes them the weights for new conversions. */
export async function refitAttribution(env: Pick<Env, 'DB'>, now = new Date()) {
  const started = Date.now()
  const config = await attributionConfig(env)
  const from = new Date(now.getTime() - config.lookbackDays * DAY_MS).toISOString()
  const paths = await journeyPaths(env, from)
  if (!paths.some((p) => p.conversions > 0)) return null
  const result = analyzePaths(paths, { halfLifeDays: config.halfLifeDays })
  const intervals = bootstrapShares(paths, { replicates: 200 })
  const fit = {
    id: `fit_${randomToken(12)}`,
    fittedAt: now.toISOString(),
    from: from.slice(0, 10),
    to: now.toISOString().slice(0, 10),
    paths: paths.length,
    durationMs: Date.now() - started,
    removalEffects: result.removalEffects,
    valueRemovalEffects: result.diagnostics.markov.valueRemovalEffects,
    intervals,
  }
  await drizzle(env.DB).insert(attributionFits).values(fit)
  forgetAttributionConfig()
  return fit
}

export async function refitIfStale(env: Pick<Env, 'DB'>, now: Date) {
  const [latest] = await drizzle(env.DB)
    .select({ fittedAt: attributionFits.fittedAt })
    .from(attributionFits)
    .orderBy(desc(attributionFits.fittedAt))
    .limit(1)
  if (latest && now.getTime() - Date.parse(latest.fittedAt) < REFIT_EVERY_MS) return null
  return refitAttribution(env, now)
}
