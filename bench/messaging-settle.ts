import type { BenchDb } from './d1-client.ts'
import { countOf } from './drain.ts'
import type { FakeProviders } from './messaging-fake-providers.ts'
import type { MessageRow } from './messaging-tally.ts'
import { progress, sleep, withTimeout } from './progress.ts'
import { int } from './report.ts'

/**
 * Waiting for the messages to settle, read where the console reads them: D1 `messages`, which
 * the events consumer writes from the contact objects' reports. A message is settled once it is
 * no longer `queued` (sent, failed, or stopped by its contact's object).
 */

const PHASE = 'messaging'
const POLL_MS = 1000
const REPORT_MS = 5000
const PAGE = 2000

export interface SettleWait {
  /** Every message made had settled in D1 before the wait's bound. */
  settled: boolean
  /** Seconds from `startMs` until the wait saw them settled, or gave up. */
  seconds: number
  /** ms since the epoch when the wait ended. */
  endedAt: number
}

export async function waitForSettlement(
  db: BenchDb,
  fake: FakeProviders,
  created: number,
  startMs: number,
  timeoutSeconds: number,
): Promise<SettleWait> {
  const deadline = performance.now() + timeoutSeconds * 1000
  let reported = 0
  for (;;) {
    const statuses = await statusCounts(db)
    const rows = Object.values(statuses).reduce((a, b) => a + b, 0)
    const queued = statuses.queued ?? 0
    const settled = rows - queued
    const now = performance.now()
    const done = rows >= created && queued === 0
    if (done || now >= deadline || now - reported >= REPORT_MS) {
      reported = now
      const counts = fake.counts()
      progress(
        PHASE,
        `settled ${int(settled)}/${int(created)} in D1 (sent ${int(statuses.sent ?? 0)}, failed ` +
          `${int(statuses.failed ?? 0)}, queued ${int(queued)}${rows < created ? `, ${int(created - rows)} not in D1 yet` : ''}); ` +
          `fake: accepted ${int(counts.accepted)}, flaky 500s ${int(counts.flakyFailed)}, down tried ${int(counts.down)}; ` +
          `${((Date.now() - startMs) / 1000).toFixed(0)} s`,
      )
    }
    if (done || now >= deadline) {
      return { settled: done, seconds: (Date.now() - startMs) / 1000, endedAt: Date.now() }
    }
    await sleep(POLL_MS)
  }
}

async function statusCounts(db: BenchDb): Promise<Record<string, number>> {
  const rows = await withTimeout(
    db
      .prepare('SELECT status, count(*) AS n FROM messages GROUP BY status')
      .all<{ status: string; n: number }>(),
    30_000,
    'D1 read of message statuses',
  )
  return Object.fromEntries(rows.results.map((row) => [row.status, row.n]))
}

/** Every row of D1 `messages`, attempts parsed, a page at a time in id order. */
export async function readMessageRows(db: BenchDb): Promise<MessageRow[]> {
  const rows: MessageRow[] = []
  let after = ''
  for (;;) {
    const page = await db
      .prepare(
        `SELECT id, status, reason, attempts, created_at AS createdAt, updated_at AS updatedAt
         FROM messages WHERE id > ? ORDER BY id LIMIT ${PAGE}`,
      )
      .bind(after)
      .all<Omit<MessageRow, 'attempts'> & { attempts: string }>()
    for (const row of page.results) rows.push({ ...row, attempts: JSON.parse(row.attempts) })
    if (page.results.length < PAGE) return rows
    after = page.results.at(-1)!.id
  }
}

/** Rows of the events D1 holds by name, for the Email Sent / Email Failed events of the run. */
export function eventsNamed(db: BenchDb, name: string): Promise<number> {
  return countOf(db, 'SELECT count(*) AS n FROM events WHERE event = ?', name)
}
