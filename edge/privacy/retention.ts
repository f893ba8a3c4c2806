import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { readSetting, writeSetting } from '../db/settings'
import type { Env } from '../env'
import { requestErasure } from './erasure'
import { identifierOfKey } from './identifiers'

export interface Retention {
  /** Raw events (D1 rows, ContactDO timelines) older than this are deleted; rollups stay. */
  rawEventsDays: number
  /** Contacts not seen for this long are erased entirely. */
  inactiveProfileDays: number
  /** DSAR export copies in R2 are deleted after this. */
  exportsDays: number
}

export const DEFAULT_RETENTION: Retention = {
  rawEventsDays: 395,
  inactiveProfileDays: 730,
  exportsDays: 30,
}
const KEY = 'retention'
const DAY_MS = 86_400_000
/** Inactive contacts erased per cron run, so one run stays short; the next run continues. */
const ERASURES_PER_RUN = 200

export async function readRetention(db: D1Database): Promise<Retention> {
  return { ...DEFAULT_RETENTION, ...(await readSetting<Partial<Retention>>(db, KEY)) }
}

export function writeRetention(db: D1Database, retention: Retention): Promise<Retention> {
  return writeSetting(db, KEY, retention)
}

export function cutoff(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString()
}

/** The cron side of retention; each ContactDO prunes its own timeline on its alarm. */
export async function enforceRetention(env: Env, now: Date) {
  const retention = await readRetention(env.DB)
  const db = drizzle(env.DB)
  const events = await db.run(
    sql`DELETE FROM events WHERE timestamp < ${cutoff(now, retention.rawEventsDays)}`,
  )

  let exports = 0
  const exportCutoff = new Date(cutoff(now, retention.exportsDays))
  for (let cursor: string | undefined; ;) {
    const listed = await env.ARCHIVE.list({ prefix: 'exports/', cursor })
    const expired = listed.objects.filter((o) => o.uploaded < exportCutoff).map((o) => o.key)
    if (expired.length > 0) await env.ARCHIVE.delete(expired)
    exports += expired.length
    if (!listed.truncated) break
    cursor = listed.cursor
  }

  const inactive = await env.DB.prepare(
    'SELECT key FROM contacts WHERE last_seen < ? AND merged_into IS NULL LIMIT ?',
  )
    .bind(cutoff(now, retention.inactiveProfileDays), ERASURES_PER_RUN)
    .all<{ key: string }>()
  for (const { key } of inactive.results) {
    await requestErasure(env, identifierOfKey(key), 'retention', 'retention')
  }
  return { events: events.meta.changes ?? 0, exports, inactiveProfiles: inactive.results.length }
}
