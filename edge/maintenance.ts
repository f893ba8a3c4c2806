import { drizzle } from 'drizzle-orm/d1'
import { sql } from 'drizzle-orm'
import type { Env } from './env'

/** Dead letters are kept this long for inspection and replay. */
export const DEAD_LETTER_RETENTION_DAYS = 30

/** The cron trigger's work. Retention of personal data joins it with issue #4. */
export async function runScheduledMaintenance(env: Env, now: Date): Promise<void> {
  const cutoff = new Date(now.getTime() - DEAD_LETTER_RETENTION_DAYS * 86_400_000).toISOString()
  await drizzle(env.DB).run(sql`DELETE FROM dead_letters WHERE received_at < ${cutoff}`)
}
