import {
  queueText,
  type BackfillMessage,
  type ReevaluateMessage,
} from '../../contracts/queue-messages'
import { contactStub } from '../../durable/contact-client'
import { dependencies } from '../../domain/segments/dependencies'
import { membersQuery } from '../../domain/segments/sql'
import type { Env } from '../env'
import { sendTexts } from '../queue/send-texts'
import { loadSegmentConfig, type SegmentConfig } from './config'
import { segmentLookup, segmentUsersOf } from './store'

/**
 * Membership must never wait for a contact's next event: after a segment is created, edited or
 * deleted, every contact whose membership may change is told through the queue to evaluate its
 * segments again. Which contacts:
 * - a rule without time windows: those it matches now, then its current members (segment_members,
 *   the ones that may leave);
 * - a timed rule: every live contact, for one that matches no window yet must still schedule the
 *   instant it enters;
 * - a deleted segment: its current members.
 * Segments that refer to the changed one (`inSegment`) move with it, so each gets its own walk.
 *
 * A walk is a chain of BackfillMessages, each one page: it sends that page's ReevaluateMessages
 * and then itself with the next cursor. A page delivered twice (the queue delivers at least
 * once) tells its contacts twice, which changes nothing, and may fork the rest of its walk,
 * which only repeats it.
 */

/** Contacts per page: five ReevaluateMessages. */
const PAGE_KEYS = 500
const KEYS_PER_MESSAGE = 100
/** Contact objects called at once by one ReevaluateMessage. */
const CONCURRENT_CONTACTS = 10

/**
 * Starts the walks a change to `segmentId` needs. `config` is the configuration after the
 * change (loadSegmentConfig): a segment absent from it was deleted.
 */
export async function startBackfill(
  env: Pick<Env, 'EVENTS'>,
  config: SegmentConfig,
  segmentId: string,
): Promise<void> {
  await send(env, firstPages(config, segmentId))
}

function firstPages(config: SegmentConfig, segmentId: string): BackfillMessage[] {
  const page = (id: string, phase: BackfillMessage['phase']): BackfillMessage => ({
    kind: 'backfill',
    segmentId: id,
    phase,
    after: null,
  })
  const lookup = segmentLookup(config)
  if (lookup(segmentId) === undefined) return [page(segmentId, 'members')]
  const moved = withReferrers(config, segmentId)
  // A timed rule among them needs every contact told, for one may enter when a window passes;
  // and one walk of every contact covers the others.
  if (moved.some((id) => dependencies(lookup(id)!, lookup).timed)) {
    return [page(segmentId, 'contacts')]
  }
  return moved.map((id) => page(id, 'matches'))
}

/** `segmentId` and every segment that refers to it, directly or through others. */
function withReferrers(config: SegmentConfig, segmentId: string): string[] {
  const found = [segmentId]
  for (let i = 0; i < found.length; i++) {
    for (const user of segmentUsersOf(config, found[i]!)) {
      if (!found.includes(user.id)) found.push(user.id)
    }
  }
  return found
}

/**
 * One page of a walk (the queue consumer's `backfill` kind). The configuration is read afresh,
 * so the contacts are told the version in force, and a rule edited since the walk began is
 * walked as it is now (its own walk covers the rest).
 */
export async function runBackfillPage(
  env: Pick<Env, 'DB' | 'EVENTS'>,
  message: BackfillMessage,
): Promise<void> {
  const config = await loadSegmentConfig(env.DB)
  const keys = await pageKeys(env.DB, config, message)
  const reevaluations: ReevaluateMessage[] = []
  for (let i = 0; i < keys.length; i += KEYS_PER_MESSAGE) {
    const slice = keys.slice(i, i + KEYS_PER_MESSAGE)
    reevaluations.push({ kind: 'reevaluate', version: config.version, keys: slice })
  }
  await send(env, reevaluations)
  const next = nextPage(message, keys)
  if (next) await send(env, [next])
}

async function pageKeys(
  db: D1Database,
  config: SegmentConfig,
  { segmentId, phase, after }: BackfillMessage,
): Promise<string[]> {
  const from = after ?? ''
  if (phase === 'matches') {
    const lookup = segmentLookup(config)
    const rule = lookup(segmentId)
    // Deleted since the walk began: its members are next, as for any deletion.
    if (rule === undefined) return []
    const query = membersQuery(rule, { now: Date.now(), lookup }, after, PAGE_KEYS)
    return keysOf(db.prepare(query.sql).bind(...query.params))
  }
  if (phase === 'members') {
    return keysOf(
      db
        .prepare(
          `SELECT contact_key AS key FROM segment_members
           WHERE segment_id = ? AND contact_key > ? ORDER BY contact_key LIMIT ?`,
        )
        .bind(segmentId, from, PAGE_KEYS),
    )
  }
  return keysOf(
    db
      .prepare(
        `SELECT key FROM contacts WHERE merged_into IS NULL AND key > ? ORDER BY key LIMIT ?`,
      )
      .bind(from, PAGE_KEYS),
  )
}

async function keysOf(statement: D1PreparedStatement): Promise<string[]> {
  return (await statement.all<{ key: string }>()).results.map((row) => row.key)
}

/** The same phase after the last key while pages come full; then the next phase, or the end. */
function nextPage(message: BackfillMessage, keys: string[]): BackfillMessage | null {
  if (keys.length === PAGE_KEYS) return { ...message, after: keys[keys.length - 1]! }
  if (message.phase === 'matches') return { ...message, phase: 'members', after: null }
  return null
}

/**
 * Tells each contact of the message to evaluate its segments with configuration `version`
 * (the queue consumer's `reevaluate` kind). Every contact is tried; any failure fails the
 * message, whose retry tells them all again, which changes nothing for those already told.
 */
export async function reevaluateContacts(
  env: Pick<Env, 'CONTACTS'>,
  message: ReevaluateMessage,
): Promise<void> {
  const failures: unknown[] = []
  for (let i = 0; i < message.keys.length; i += CONCURRENT_CONTACTS) {
    const slice = message.keys.slice(i, i + CONCURRENT_CONTACTS)
    const results = await Promise.allSettled(
      slice.map((key) => contactStub(env, key).reevaluateSegments(key, message.version)),
    )
    for (const result of results) if (result.status === 'rejected') failures.push(result.reason)
  }
  if (failures.length > 0) {
    throw new AggregateError(failures, `${failures.length} contacts failed to re-evaluate`)
  }
}

/** Sends in as few batches as the queue's limits allow. */
function send(env: Pick<Env, 'EVENTS'>, messages: (BackfillMessage | ReevaluateMessage)[]) {
  return sendTexts(env.EVENTS, messages.map(queueText))
}
