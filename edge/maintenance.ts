import { drizzle } from 'drizzle-orm/d1'
import { sql } from 'drizzle-orm'
import { refitIfStale } from './attribution/refit'
import type { Env } from './env'
import { resendStalledErasures } from './privacy/erasure'
import { cutoff, enforceRetention } from './privacy/retention'
import { seedMissingBuckets } from './projections/bucket-seeds'
import { requestFitIfStale } from './predictions/fit'

/** Dead letters are kept this long for inspection and replay. */
export const DEAD_LETTER_RETENTION_DAYS = 30

/**
 * The cron trigger's work: retention of personal data, attribution refits, the daily prediction
 * fit (asked of the queue: a million purchasers is no cron's work), housekeeping.
 */
export async function runScheduledMaintenance(env: Env, now: Date) {
  const retention = await enforceRetention(env, now)
  const resentErasures = await resendStalledErasures(env, now)
  await refitIfStale(env, now)
  await requestFitIfStale(env, now)
  const db = drizzle(env.DB)
  await db.run(
    sql`DELETE FROM dead_letters WHERE received_at < ${cutoff(now, DEAD_LETTER_RETENTION_DAYS)}`,
  )
  await db.run(sql`DELETE FROM sessions WHERE expires_at < ${now.toISOString()}`)
  await seedMissingBuckets(env.DB)
  return { ...retention, resentErasures }
}
