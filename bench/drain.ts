import type { BenchDb } from './d1-client.ts'
import type { Ledger } from './load/ledger.ts'
import { progress, sleep, withTimeout } from './progress.ts'

export interface DrainResult {
  /** Rows in D1 `events` when the wait ended. */
  d1Events: number
  /** Events acknowledged with a 2xx (`accepted` summed from the answers). */
  accepted: number
  /** Of the messages with an unknown outcome (cut off, failed), how many D1 holds anyway. */
  unknownMessages: number
  unknownStored: number
  /** D1 rows that belong to acknowledged events: d1Events - unknownStored. */
  acknowledgedStored: number
  /** Rows whose messageId is already in D1 (exactly-once means 0). */
  duplicates: number
  deadLetters: number
  /** Seconds from the end of the load until D1 held every acknowledged event (null: never). */
  drainSeconds: number | null
  zeroLoss: boolean
}

const POLL_MS = 500
/** Once every acknowledged event is in, wait this long for stragglers before counting. */
const QUIET_MS = 2_000
/** Short of the target and nothing moved for this long: longer than the ContactDO's 30 s outbox retry alarm. */
const STALL_MS = 45_000

/**
 * Waits for the queue to carry every acknowledged event into D1, then checks the books:
 * D1 must hold each acknowledged event exactly once. Messages with an unknown outcome are
 * looked up by messageId, so a request cut off at the end of a run can neither hide a loss nor
 * fake one.
 */
export async function waitForDrain(
  db: BenchDb,
  ledger: Ledger,
  timeoutSeconds: number,
  phase = 'drain',
  /** How long D1 may stay short of the target and still before the wait gives up. */
  stallMs = STALL_MS,
): Promise<DrainResult> {
  const started = performance.now()
  const deadline = started + timeoutSeconds * 1000
  let count = -1
  let reachedAt: number | null = null
  let lastChange = started
  let lastReport = 0
  for (;;) {
    const now = performance.now()
    const n = await countEvents(db)
    if (n !== count) lastChange = now
    count = n
    if (reachedAt === null && n >= ledger.accepted) reachedAt = now
    if (reachedAt !== null && now - lastChange >= QUIET_MS) break
    if (now >= deadline || now - lastChange >= stallMs) break
    if (now - lastReport >= 3000) {
      lastReport = now
      progress(
        phase,
        `D1 events ${n.toLocaleString('en')} of ${ledger.accepted.toLocaleString('en')} accepted, ${((now - started) / 1000).toFixed(0)}/${timeoutSeconds} s`,
      )
    }
    await sleep(POLL_MS)
  }
  const unknownStored = await countStored(db, ledger.unknown)
  const deadLetters = await countOf(db, 'SELECT COUNT(*) AS n FROM dead_letters')
  const distinct = await countOf(db, 'SELECT COUNT(DISTINCT message_id) AS n FROM events')
  const acknowledgedStored = distinct - unknownStored
  return {
    d1Events: count,
    accepted: ledger.accepted,
    unknownMessages: ledger.unknown.length,
    unknownStored,
    acknowledgedStored,
    duplicates: count - distinct,
    deadLetters,
    drainSeconds: reachedAt === null ? null : (reachedAt - started) / 1000,
    zeroLoss: acknowledgedStored === ledger.accepted && count === distinct,
  }
}

async function countEvents(db: BenchDb): Promise<number> {
  return countOf(db, 'SELECT COUNT(*) AS n FROM events')
}

/** A read that has not answered by then is asked again. */
const READ_TIMEOUT_MS = 30_000

/**
 * One COUNT query (through the bench's D1 reader, d1-client.ts). Its HTTP connection to workerd
 * can drop under load ("fetch failed") or stall; a failed or stalled read is simply asked again.
 */
export async function countOf(db: BenchDb, query: string, ...params: unknown[]): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const row = await withTimeout(
        db
          .prepare(query)
          .bind(...params)
          .first<{ n: number }>(),
        READ_TIMEOUT_MS,
        'D1 read',
      )
      return row?.n ?? 0
    } catch (error) {
      if (attempt >= 5) throw error
      const cause = (error as Error & { cause?: Error }).cause
      progress(
        'drain',
        `D1 read failed (${(error as Error).message}${cause ? `: ${cause.message}` : ''}); retrying`,
      )
      await sleep(500 * attempt)
    }
  }
}

/** One bound JSON array per statement keeps under D1's 100-parameter cap. */
async function countStored(db: BenchDb, messageIds: string[]): Promise<number> {
  let stored = 0
  for (let i = 0; i < messageIds.length; i += 5000) {
    const chunk = JSON.stringify(messageIds.slice(i, i + 5000))
    stored += await countOf(
      db,
      'SELECT COUNT(DISTINCT message_id) AS n FROM events WHERE message_id IN (SELECT value FROM json_each(?))',
      chunk,
    )
  }
  return stored
}
