import { prepare } from '../db/raw'
import { readSetting, writeSetting } from '../db/settings'
import { expiryStatements } from '../projections/contact-tables'
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
  const rawCutoff = cutoff(now, retention.rawEventsDays)
  // Every contact-keyed table with per-event data, from the one registry (events, touches,
  // active days, conversions' link to the person): the identifier-free rollups remain.
  const expiries = expiryStatements({ at: rawCutoff, day: rawCutoff.slice(0, 10) })
  const results = await env.DB.batch(expiries.map(([, statement]) => prepare(env.DB, statement)))
  const expired = Object.fromEntries(
    expiries.map(([table], i) => [table, results[i]?.meta.changes ?? 0]),
  )
  const exports = await deleteObjectsBefore(env.ARCHIVE, 'exports/', (object) =>
    object.uploaded < new Date(cutoff(now, retention.exportsDays)) ? 'expired' : 'kept',
  )
  // Archive objects are named by the day their events arrived (archive/dt=YYYY-MM-DD/), and
  // listed in name order: the listing stops at the first day inside the lifetime.
  const archiveStart = `archive/dt=${rawCutoff.slice(0, 10)}`
  const archive = await deleteObjectsBefore(env.ARCHIVE, 'archive/', (object) =>
    object.key < archiveStart ? 'expired' : 'stop',
  )

  const inactive = await env.DB.prepare(
    'SELECT key FROM contacts WHERE last_seen < ? AND merged_into IS NULL LIMIT ?',
  )
    .bind(cutoff(now, retention.inactiveProfileDays), ERASURES_PER_RUN)
    .all<{ key: string }>()
  for (const { key } of inactive.results) {
    await requestErasure(env, identifierOfKey(key), 'retention', 'retention')
  }
  return {
    events: expired.events ?? 0,
    expired,
    exports,
    archiveObjects: archive,
    inactiveProfiles: inactive.results.length,
  }
}

/** Deletes listed objects under `prefix` while `verdict` says expired; returns how many. */
async function deleteObjectsBefore(
  bucket: R2Bucket,
  prefix: string,
  verdict: (object: R2Object) => 'expired' | 'kept' | 'stop',
): Promise<number> {
  let deleted = 0
  for (let cursor: string | undefined; ;) {
    const listed = await bucket.list({ prefix, cursor })
    const expired: string[] = []
    let stop = false
    for (const object of listed.objects) {
      const outcome = verdict(object)
      if (outcome === 'stop') {
        stop = true
        break
      }
      if (outcome === 'expired') expired.push(object.key)
    }
    if (expired.length > 0) await bucket.delete(expired)
    deleted += expired.length
    if (stop || !listed.truncated) return deleted
    cursor = listed.cursor
  }
}
