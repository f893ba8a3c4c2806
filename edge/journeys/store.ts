import { drizzle } from 'drizzle-orm/d1'
import { and, asc, desc, eq, sql } from 'drizzle-orm'
import type { JourneyDefinition } from '../../domain/journeys/definition'
import { liveSets, type LiveSet, type PublishAction } from '../../domain/journeys/live-sets'
import { randomToken } from '../access/secrets'
import { journeyPublishes, journeys, journeyVersions } from '../db/schema'
import { ApiError } from '../errors'
import { slugOf } from '../messaging/slug'
import { forgetJourneyConfig, journeysChanged } from './config'

/**
 * Journeys as D1 holds them: the journey, its immutable versions and the history of its live
 * set (docs/design/journeys.md "Versions"). Every change is one batch with the configuration's
 * generation (config.ts journeysChanged), and drops this isolate's cached configuration.
 */

export type JourneyStatus = 'draft' | 'live' | 'paused'
export type { LiveSet, PublishAction }

export interface JourneyRow {
  id: string
  name: string
  status: JourneyStatus
  /** The versions new entrants take, with their weights; null until the first publish. */
  live: LiveSet | null
  createdAt: string
  updatedAt: string
}

export interface JourneyDetail extends JourneyRow {
  versions: { version: number; createdAt: string }[]
  /** Every change of the live set or status, oldest first. */
  history: { seq: number; live: LiveSet; action: PublishAction; at: string }[]
}

export interface JourneyVersion {
  journeyId: string
  version: number
  definition: JourneyDefinition
  createdAt: string
}

const rowColumns = {
  id: journeys.id,
  name: journeys.name,
  status: journeys.status,
  live: journeys.live,
  createdAt: journeys.createdAt,
  updatedAt: journeys.updatedAt,
}

function notFound(id: string) {
  return new ApiError(404, 'not_found', `No journey ${id}`)
}

async function changed(db: D1Database, statements: D1PreparedStatement[]): Promise<D1Result[]> {
  const results = await db.batch([...statements, journeysChanged(db)])
  forgetJourneyConfig()
  return results
}

/**
 * A new draft journey, its id the one given or the slug of its name (a generated one when
 * nothing of the name is left); 409 `journey_exists` when that id is taken.
 */
export async function createJourney(
  db: D1Database,
  fields: { id?: string; name: string },
): Promise<JourneyRow> {
  const now = new Date().toISOString()
  const journey: JourneyRow = {
    id: fields.id ?? (slugOf(fields.name) || `jrn_${randomToken(12).toLowerCase()}`),
    name: fields.name,
    status: 'draft',
    live: null,
    createdAt: now,
    updatedAt: now,
  }
  const [result] = await changed(db, [
    db
      .prepare(
        `INSERT INTO journeys (id, name, status, live, created_at, updated_at)
         VALUES (?, ?, 'draft', NULL, ?, ?) ON CONFLICT (id) DO NOTHING`,
      )
      .bind(journey.id, journey.name, now, now),
  ])
  if (result!.meta.changes === 0) {
    throw new ApiError(409, 'journey_exists', `There is already a journey ${journey.id}`, {
      id: journey.id,
    })
  }
  return journey
}

/** Newest first, each with its highest version number (null before the first is saved). */
export async function listJourneys(
  db: D1Database,
): Promise<(JourneyRow & { latestVersion: number | null })[]> {
  return drizzle(db)
    .select({
      ...rowColumns,
      latestVersion: sql<number | null>`(SELECT MAX(${journeyVersions.version})
        FROM ${journeyVersions} WHERE ${journeyVersions.journeyId} = ${journeys.id})`,
    })
    .from(journeys)
    .orderBy(desc(journeys.createdAt), desc(journeys.id))
}

export async function getJourney(db: D1Database, id: string): Promise<JourneyDetail | null> {
  const orm = drizzle(db)
  const [rows, versions, history] = await orm.batch([
    orm.select(rowColumns).from(journeys).where(eq(journeys.id, id)),
    orm
      .select({ version: journeyVersions.version, createdAt: journeyVersions.createdAt })
      .from(journeyVersions)
      .where(eq(journeyVersions.journeyId, id))
      .orderBy(asc(journeyVersions.version)),
    orm
      .select({
        seq: journeyPublishes.seq,
        live: journeyPublishes.live,
        action: journeyPublishes.action,
        at: journeyPublishes.at,
      })
      .from(journeyPublishes)
      .where(eq(journeyPublishes.journeyId, id))
      .orderBy(asc(journeyPublishes.seq)),
  ])
  const [row] = rows
  return row ? { ...row, versions, history } : null
}

/**
 * Saves a definition as the journey's next version (1, 2, …) and answers its number. The number
 * is taken inside the insert, so two saves at once get two numbers; 404 for no journey.
 */
export async function addVersion(
  db: D1Database,
  id: string,
  definition: JourneyDefinition,
): Promise<number> {
  const now = new Date().toISOString()
  const [inserted] = await changed(db, [
    db
      .prepare(
        `INSERT INTO journey_versions (journey_id, version, definition, created_at)
         SELECT ?1, next, ?2, ?3 FROM (
           SELECT COALESCE(MAX(version), 0) + 1 AS next FROM journey_versions WHERE journey_id = ?1)
         WHERE EXISTS (SELECT 1 FROM journeys WHERE id = ?1)
         RETURNING version`,
      )
      .bind(id, JSON.stringify(definition), now),
    db.prepare('UPDATE journeys SET updated_at = ? WHERE id = ?').bind(now, id),
  ])
  const version = (inserted as D1Result<{ version: number }>).results[0]?.version
  if (version === undefined) throw notFound(id)
  return version
}

export async function getVersion(
  db: D1Database,
  id: string,
  version: number,
): Promise<JourneyVersion | null> {
  const [row] = await drizzle(db)
    .select()
    .from(journeyVersions)
    .where(and(eq(journeyVersions.journeyId, id), eq(journeyVersions.version, version)))
  return row ? { ...row, definition: row.definition as JourneyDefinition } : null
}

/**
 * Makes `live` the versions new entrants take (`publish`, or `promote` for one version of a
 * split made sole). A draft becomes live; a paused journey stays paused until resumed, which
 * tells its waiting runs. 404 for no journey, 400 `unknown_version` for a version not saved.
 */
export async function publish(db: D1Database, id: string, live: LiveSet): Promise<JourneyRow> {
  const journey = await getJourney(db, id)
  if (!journey) throw notFound(id)
  // Versions are never deleted, so what exists now still does when the batch runs.
  const saved = new Set(journey.versions.map((v) => v.version))
  const versions = live.map((entry) => entry.version)
  const unknown = versions.filter((version) => !saved.has(version))
  if (unknown.length > 0) {
    throw new ApiError(400, 'unknown_version', `No version ${unknown.join(', ')} of ${id}`, {
      unknown,
    })
  }
  const weighed = live.every((entry) => Number.isFinite(entry.weight) && entry.weight > 0)
  if (live.length === 0 || new Set(versions).size !== versions.length || !weighed) {
    throw new ApiError(
      400,
      'invalid_live_set',
      'Publish one or more different versions, each with a positive weight',
    )
  }
  // One side of the split made the only one.
  const split = journey.live ?? []
  const promote =
    split.length > 1 && live.length === 1 && split.some((v) => v.version === live[0]!.version)
  return record(db, journey, live, promote ? 'promote' : 'publish', null)
}

/**
 * Makes the live set the one before the current publish, as a new `rollback` in the history;
 * rollbacks in a row walk further back. 409 `no_previous_version` when there is none.
 */
export async function rollback(db: D1Database, id: string): Promise<JourneyRow> {
  const journey = await getJourney(db, id)
  if (!journey) throw notFound(id)
  const previous = liveSets(journey.history).at(-2)
  if (!previous) {
    throw new ApiError(409, 'no_previous_version', `${id} has no earlier live version to return to`)
  }
  return record(db, journey, previous, 'rollback', journey.history.at(-1)?.seq ?? 0)
}

/**
 * Pauses or resumes a published journey; false when it already was so (nothing recorded).
 * 409 `not_published` for a draft. Resuming must then tell its runs (fanout.ts).
 */
export async function setPaused(db: D1Database, id: string, paused: boolean): Promise<boolean> {
  const journey = await getJourney(db, id)
  if (!journey) throw notFound(id)
  if (journey.status === 'draft' || !journey.live) {
    throw new ApiError(409, 'not_published', `${id} has never been published`)
  }
  if ((journey.status === 'paused') === paused) return false
  await record(
    db,
    journey,
    journey.live,
    paused ? 'pause' : 'resume',
    journey.history.at(-1)?.seq ?? 0,
  )
  return true
}

/**
 * Appends a history row and applies it to the journey in one batch. With `after` (the last
 * sequence number the caller read), the row is written only if the history has not moved since,
 * so a decision made on what was read applies to that; otherwise 409 `journey_changed`.
 */
async function record(
  db: D1Database,
  journey: JourneyDetail,
  live: LiveSet,
  action: PublishAction,
  after: number | null,
): Promise<JourneyRow> {
  const now = new Date().toISOString()
  const [appended] = await changed(db, [
    db
      .prepare(
        `INSERT INTO journey_publishes (journey_id, seq, live, action, at)
         SELECT ?1, next, ?2, ?3, ?4 FROM (
           SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM journey_publishes WHERE journey_id = ?1)
         WHERE ?5 IS NULL OR next = ?5 + 1
         RETURNING seq`,
      )
      .bind(journey.id, JSON.stringify(live), action, now, after),
    // The journey follows the newest row of its history, whoever wrote it: applying a row twice
    // changes nothing, so this needs no guard of its own.
    db
      .prepare(
        `UPDATE journeys SET live = newest.live, updated_at = ?2,
           status = CASE newest.action WHEN 'pause' THEN 'paused' WHEN 'resume' THEN 'live'
             ELSE CASE journeys.status WHEN 'paused' THEN 'paused' ELSE 'live' END END
         FROM (SELECT live, action FROM journey_publishes WHERE journey_id = ?1
           ORDER BY seq DESC LIMIT 1) AS newest
         WHERE journeys.id = ?1`,
      )
      .bind(journey.id, now),
  ])
  if ((appended as D1Result<{ seq: number }>).results.length === 0) {
    throw new ApiError(409, 'journey_changed', `${journey.id} changed meanwhile; try again`)
  }
  return { ...rowOf(journey), live, status: statusAfter(journey.status, action), updatedAt: now }
}

/** What the journeys UPDATE in `record` makes of the status. */
function statusAfter(status: JourneyStatus, action: PublishAction): JourneyStatus {
  if (action === 'pause') return 'paused'
  if (action === 'resume') return 'live'
  return status === 'paused' ? 'paused' : 'live'
}

function rowOf(journey: JourneyDetail): JourneyRow {
  const { versions: _versions, history: _history, ...row } = journey
  return row
}
