import { queueText, type JourneyFanOutMessage } from '../../contracts/queue-messages'
import { contactStub } from '../../durable/contact-client'
import type { Env } from '../env'

/**
 * Tells every contact with an active run of a journey (D1's journey_runs, as the objects
 * reported them) to resume its runs after a pause, or to move them to another version. A walk
 * is a chain of JourneyFanOutMessages on the events queue, one page of contacts each, like a
 * segment backfill (segments/backfill.ts): no request or consumer invocation walks them all. A
 * page delivered twice tells its contacts twice, which the objects make harmless (a resumed run
 * with nothing due and a run already moved do nothing).
 */

const PAGE_KEYS = 100
/** Contact objects called at once. */
const CONCURRENT_CONTACTS = 10

export type FanOutOperation = JourneyFanOutMessage['operation']

/** Starts a walk (the routes' resume and migrate). */
export async function startFanOut(
  env: Pick<Env, 'EVENTS'>,
  journeyId: string,
  operation: FanOutOperation,
): Promise<void> {
  await send(env, { kind: 'journey-fanout', journeyId, operation, after: null })
}

/**
 * One page (the queue consumer's `journey-fanout` kind): tells its contacts, then sends the
 * next page. Every contact is tried; any failure fails the message, whose retry tells the page
 * again.
 */
export async function runFanOutPage(
  env: Pick<Env, 'DB' | 'EVENTS' | 'CONTACTS'>,
  message: JourneyFanOutMessage,
): Promise<void> {
  const keys = await pageKeys(env.DB, message)
  const failures: unknown[] = []
  for (let i = 0; i < keys.length; i += CONCURRENT_CONTACTS) {
    const slice = keys.slice(i, i + CONCURRENT_CONTACTS)
    const results = await Promise.allSettled(slice.map((key) => tell(env, key, message)))
    for (const result of results) if (result.status === 'rejected') failures.push(result.reason)
  }
  if (failures.length > 0) {
    throw new AggregateError(
      failures,
      `${failures.length} contacts failed to ${message.operation.op}`,
    )
  }
  if (keys.length === PAGE_KEYS) await send(env, { ...message, after: keys[keys.length - 1]! })
}

async function tell(env: Pick<Env, 'CONTACTS'>, key: string, message: JourneyFanOutMessage) {
  const contact = contactStub(env, key)
  const { operation, journeyId } = message
  if (operation.op === 'resume') await contact.resumeJourney(key, journeyId)
  else {
    await contact.migrateRuns(key, journeyId, operation.from, operation.to, operation.nodeMap)
  }
}

/** A migration needs only the contacts with runs in the version it moves from. */
async function pageKeys(db: D1Database, { journeyId, operation, after }: JourneyFanOutMessage) {
  const version = operation.op === 'migrate' ? operation.from : null
  const rows = await db
    .prepare(
      `SELECT DISTINCT contact_key AS key FROM journey_runs
       WHERE journey_id = ?1 AND state = 'active' AND contact_key > ?2
         AND (?3 IS NULL OR version = ?3)
       ORDER BY contact_key LIMIT ?4`,
    )
    .bind(journeyId, after ?? '', version, PAGE_KEYS)
    .all<{ key: string }>()
  return rows.results.map((row) => row.key)
}

async function send(env: Pick<Env, 'EVENTS'>, message: JourneyFanOutMessage) {
  await env.EVENTS.send(queueText(message), { contentType: 'text' })
}
