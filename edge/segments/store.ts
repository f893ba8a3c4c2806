import { drizzle } from 'drizzle-orm/d1'
import { and, between, desc, eq, getTableColumns, inArray, sql } from 'drizzle-orm'
import { referencedSegments } from '../../domain/segments/dependencies'
import type { SegmentLookup } from '../../domain/segments/facts'
import type { Rule } from '../../domain/segments/rule'
import { dailyRollups, segmentMembers, segments } from '../db/schema'
import { insertBelowLimit } from '../db/bounded-insert'
import { SEGMENT_LIMITS } from '../../contracts/segment'
import { segmentsChanged, type SegmentConfig } from './config'

/**
 * Segments as D1 holds them. Writes that depend on other segments (a rule naming one, a delete
 * while one names it) are single guarded statements: the route checks first to name what is
 * wrong, and the statement checks again at the instant it writes, so two requests racing can
 * neither close a reference cycle nor delete a segment another has just come to refer to. Every
 * write moves the configuration's generation (config.ts segmentsChanged).
 */

export interface StoredSegment {
  id: string
  name: string
  rule: Rule
  createdAt: string
  updatedAt: string
  changedAt: string | null
  /** Rows in segment_members: the members the contacts' objects have reported. */
  count: number
}

/** What refers to a segment and so keeps it from being deleted. */
export interface SegmentUser {
  kind: 'segment' | 'journey'
  id: string
  name: string
}

export function segmentLookup(config: SegmentConfig): SegmentLookup {
  const byId = new Map(config.segments.map((segment) => [segment.id, segment.rule]))
  return (id) => byId.get(id)
}

/**
 * Segments whose rules name `id`, and journeys any of whose versions enter on it or name it in a
 * rule (a run may still be pinned to an old version).
 */
export async function usersOf(
  db: D1Database,
  config: SegmentConfig,
  id: string,
): Promise<SegmentUser[]> {
  const { results } = await db
    .prepare(
      `SELECT DISTINCT j.id, j.name FROM journeys j JOIN journey_versions v ON v.journey_id = j.id
       WHERE EXISTS (SELECT 1 FROM ${JOURNEY_REFERENCES}) ORDER BY j.id`,
    )
    .bind(id)
    .all<{ id: string; name: string }>()
  const journeys = results.map((row) => ({ kind: 'journey' as const, ...row }))
  return [...segmentUsersOf(config, id), ...journeys]
}

/** The segments whose rules name `id`. */
export function segmentUsersOf(config: SegmentConfig, id: string): SegmentUser[] {
  return config.segments
    .filter((segment) => referencedSegments(segment.rule).includes(id))
    .map((segment) => ({ kind: 'segment', id: segment.id, name: segment.name }))
}

/**
 * Where a journey version names segment ?1: its `entry.segment`, or `inSegment` in a branch case
 * or its exitWhen (the grammar's objects are strict, so these keys mean nothing else).
 */
const JOURNEY_REFERENCES = `json_tree(v.definition) t WHERE t.atom = ?1
  AND (t.key = 'inSegment' OR (t.key = 'segment' AND t.path = '$.entry'))`

function selectSegments(db: D1Database) {
  return drizzle(db)
    .select({
      ...getTableColumns(segments),
      count: sql<number>`(SELECT COUNT(*) FROM ${segmentMembers}
        WHERE ${segmentMembers.segmentId} = ${segments.id})`,
    })
    .from(segments)
}

function stored(row: Awaited<ReturnType<typeof selectSegments>>[number]): StoredSegment {
  return { ...row, rule: row.rule as Rule }
}

export async function listSegments(db: D1Database): Promise<StoredSegment[]> {
  const rows = await selectSegments(db).orderBy(desc(segments.createdAt), desc(segments.id))
  return rows.map(stored)
}

export async function findSegment(db: D1Database, id: string): Promise<StoredSegment | null> {
  const [row] = await selectSegments(db).where(eq(segments.id, id))
  return row ? stored(row) : null
}

export async function segmentExists(db: D1Database, id: string): Promise<boolean> {
  const [row] = await drizzle(db)
    .select({ id: segments.id })
    .from(segments)
    .where(eq(segments.id, id))
  return row !== undefined
}

/**
 * A 409 `limit_reached` past SEGMENT_LIMITS.segments. The generation moves just after the
 * insert, not with it (insertBelowLimit runs its own statement): were that lost, the digest in
 * the version still names the new configuration.
 */
export async function insertSegment(
  db: D1Database,
  segment: { id: string; name: string; rule: Rule; createdAt: string },
): Promise<void> {
  await insertBelowLimit(db, {
    table: 'segments',
    row: {
      id: segment.id,
      name: segment.name,
      rule: JSON.stringify(segment.rule),
      created_at: segment.createdAt,
      updated_at: segment.createdAt,
    },
    limit: SEGMENT_LIMITS.segments,
    full: `There are already ${SEGMENT_LIMITS.segments} segments, the limit; delete one first`,
  })
  await segmentsChanged(db).run()
}

/**
 * Writes what is given of name and rule, only while every segment the rule names exists and
 * none of them leads back to `id` (through the rules stored at that instant). False when the
 * segment is missing or a guard failed.
 */
export async function updateSegment(
  db: D1Database,
  id: string,
  changes: { name?: string; rule?: Rule; updatedAt: string },
): Promise<boolean> {
  const refs = JSON.stringify(changes.rule ? referencedSegments(changes.rule) : [])
  const update = db
    .prepare(
      `UPDATE segments
       SET name = COALESCE(?2, name), rule = COALESCE(?3, rule), updated_at = ?4
       WHERE id = ?1
         AND (SELECT COUNT(*) FROM segments WHERE id IN (SELECT value FROM json_each(?5)))
           = json_array_length(?5)
         AND NOT EXISTS (
           WITH RECURSIVE reach(id) AS (
             SELECT value FROM json_each(?5)
             UNION
             SELECT t.atom FROM reach JOIN segments s ON s.id = reach.id, json_tree(s.rule) t
             WHERE t.key = 'inSegment')
           SELECT 1 FROM reach WHERE id = ?1)`,
    )
    .bind(
      id,
      changes.name ?? null,
      changes.rule ? JSON.stringify(changes.rule) : null,
      changes.updatedAt,
      refs,
    )
  // A refused write moves the generation too, which only makes objects read the same segments.
  const [{ meta }] = (await db.batch([update, segmentsChanged(db)])) as [D1Result]
  return meta.changes > 0
}

/**
 * Deletes the segment unless a rule or a journey names it. `inSegment` is a key only where a rule refers to
 * a segment (the grammar's objects are strict), so the JSON tree finds exactly those.
 */
export async function deleteUnused(
  db: D1Database,
  id: string,
): Promise<'deleted' | 'missing' | 'in_use'> {
  const remove = db
    .prepare(
      `DELETE FROM segments WHERE id = ?1 AND NOT EXISTS (
         SELECT 1 FROM segments s, json_tree(s.rule) t WHERE t.key = 'inSegment' AND t.atom = ?1)
       AND NOT EXISTS (SELECT 1 FROM journey_versions v, ${JOURNEY_REFERENCES})`,
    )
    .bind(id)
  const [{ meta }] = (await db.batch([remove, segmentsChanged(db)])) as [D1Result]
  if (meta.changes > 0) return 'deleted'
  return (await segmentExists(db, id)) ? 'in_use' : 'missing'
}

export const HISTORY_DAYS = 90

/**
 * Contacts entering and leaving per UTC day over the last HISTORY_DAYS days, oldest first, every
 * day present: the rollups the queue consumer counts from `Segment Entered` / `Segment Exited`.
 */
export async function segmentHistory(
  db: D1Database,
  id: string,
  now: number,
): Promise<{ day: string; entered: number; exited: number }[]> {
  const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10)
  const days = Array.from({ length: HISTORY_DAYS }, (_, i) =>
    dayOf(now - (HISTORY_DAYS - 1 - i) * 86_400_000),
  )
  const rows = await drizzle(db)
    .select({ day: dailyRollups.day, metric: dailyRollups.metric, count: dailyRollups.count })
    .from(dailyRollups)
    .where(
      and(
        between(dailyRollups.day, days[0]!, days[days.length - 1]!),
        inArray(dailyRollups.metric, ['segment_entered', 'segment_exited']),
        eq(dailyRollups.dimension, id),
      ),
    )
  const history = new Map(days.map((day) => [day, { day, entered: 0, exited: 0 }]))
  for (const row of rows) {
    const entry = history.get(row.day)
    if (!entry) continue
    if (row.metric === 'segment_entered') entry.entered += row.count
    else entry.exited += row.count
  }
  return [...history.values()]
}
