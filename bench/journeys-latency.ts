import { cpus } from 'node:os'
import { ingest } from './api.ts'
import type { BenchDb } from './d1-client.ts'
import {
  delays,
  recordSeen,
  type Delays,
  type FoundRow,
  type SentEvent,
} from './journeys-delays.ts'
import { signupMessages } from './journeys-load.ts'
import type { MessageBooks } from './journeys-targets.ts'
import { cpuSnapshot, cpuUsage, type CpuUsage } from './load/cpu.ts'
import { LatencyRecorder, type LatencySummary } from './load/latency.ts'
import type { Failures } from './messaging-load.ts'
import { progress, sleep } from './progress.ts'
import { int } from './report.ts'
import type { CairnTarget } from './runtime.ts'

/**
 * Event → message queued: fresh contacts, each identified with an address and then sent the
 * event a journey starts on, at a fixed rate (an open loop: a slow answer does not hold back the
 * next contact). The contact's object makes the journey's message and hands it to the
 * `cairn-messages` queue before it answers the event, so the event's own latency is the time to
 * queued; D1 confirms it afterwards: the `messages` row (its creation time is the object's clock;
 * the row itself reaches D1 through the events queue, which a poll times) and the log provider's
 * `logged_emails` row (stamped by the send consumer). The baseline sends the same events with no
 * journey live, the poll running alike.
 */

const PHASE = 'journeys'
/** How often D1 is asked for new rows while events are sent: the resolution of "seen". */
export const POLL_MS = 100
/** After the last event, how long the rows may take to reach D1. */
const ROWS_WAIT_MS = 60_000
const WARM_UP_CONTACTS = 10

export type LatencyVariant = 'baseline' | 'journey'

export interface LatencyPlan {
  events: number
  /** Contacts started per second. */
  rate: number
}

export interface LatencyRun {
  variant: LatencyVariant
  /** The event request, from its start to its answer. */
  request: LatencySummary
  /** Journey variant only: row times less the event's start. */
  made: Delays | null
  rowSeen: Delays | null
  email: Delays | null
  emailSeen: Delays | null
  books: MessageBooks | null
  failures: Failures
  /** Polls of D1 the reader did not answer (gaps in the "seen" timings). */
  failedPolls: number
  seconds: number
  /** Cores used while the events were sent: workerd's, and other processes' (noise). */
  cpu: CpuUsage
  /** How long the bench waited for the rows after the last event. */
  waitedSeconds: number
}

export async function measureLatency(
  target: CairnTarget,
  variant: LatencyVariant,
  plan: LatencyPlan,
): Promise<LatencyRun> {
  const failures: Failures = {}
  const prefix = `bench-${variant}-`
  progress(PHASE, `${variant}: warm-up, ${WARM_UP_CONTACTS} contacts`)
  for (let i = 0; i < WARM_UP_CONTACTS; i++) {
    await signup(target, `bench-${variant}-warm-${i}`, failures)
  }
  const watcher = watchRows(target.db, `${prefix}c`)
  const sent: SentEvent[] = []
  const request = new LatencyRecorder()
  const interval = 1000 / plan.rate
  progress(
    PHASE,
    `${variant}: ${int(plan.events)} contacts, ${plan.rate}/s (identify, then "${signupMessages('x', 0).track.event}" timed)`,
  )
  const started = performance.now()
  const before = cpuSnapshot()
  const pending: Promise<void>[] = []
  for (let i = 0; i < plan.events; i++) {
    const due = started + i * interval
    const now = performance.now()
    if (due > now) await sleep(due - now)
    const contactKey = `${prefix}c${i}`
    pending.push(
      signup(target, contactKey, failures).then((timed) => {
        if (!timed) return
        request.record(timed.ms)
        sent.push({ contactKey, startedAt: timed.startedAt })
      }),
    )
  }
  await Promise.all(pending)
  const cpu = cpuUsage(before, cpuSnapshot(), cpus().length)
  const seconds = (performance.now() - started) / 1000
  const waitStarted = performance.now()
  if (variant === 'journey') await watcher.until(sent.length, ROWS_WAIT_MS)
  const seen = await watcher.stop()
  const waitedSeconds = (performance.now() - waitStarted) / 1000
  const summary = request.summary()
  progress(
    PHASE,
    `${variant}: event requests p50 ${summary.p50.toFixed(1)} ms, p99 ${summary.p99.toFixed(1)} ms; ` +
      `rows seen: ${int(seen.messages.size)} messages, ${int(seen.emails.size)} emails`,
  )
  if (variant === 'baseline') {
    return {
      variant,
      request: summary,
      made: null,
      rowSeen: null,
      email: null,
      emailSeen: null,
      books: null,
      failures,
      failedPolls: seen.failedPolls,
      seconds,
      cpu,
      waitedSeconds,
    }
  }
  const stamped = await stampedRows(target.db, `${prefix}c`)
  const made = delays(sent, stamped.messages)
  const email = delays(sent, stamped.emails)
  return {
    variant,
    request: summary,
    made,
    rowSeen: delays(sent, [...seen.messages.values()]),
    email,
    emailSeen: delays(sent, [...seen.emails.values()]),
    books: {
      events: sent.length,
      contactsWithMessage: sent.length - made.missing,
      extraMessages: made.extra,
      contactsWithEmail: sent.length - email.missing,
      extraEmails: email.extra,
    },
    failures,
    failedPolls: seen.failedPolls,
    seconds,
    cpu,
    waitedSeconds,
  }
}

/** Identifies the contact, then sends the timed event; null when either failed. */
async function signup(
  target: CairnTarget,
  userId: string,
  failures: Failures,
): Promise<{ ms: number; startedAt: number } | null> {
  const messages = signupMessages(userId, Date.now())
  try {
    await ingest(target, '/v1/identify', messages.identify, 1)
    const startedAt = Date.now()
    const answer = await ingest(target, '/v1/track', messages.track, 1)
    return { ms: answer.ms, startedAt }
  } catch (error) {
    const reason = (error as Error).message.slice(0, 160)
    failures[reason] = (failures[reason] ?? 0) + 1
    return null
  }
}

interface Seen {
  messages: Map<string, FoundRow>
  emails: Map<string, FoundRow>
}

/**
 * Polls D1 every POLL_MS for the journey messages and logged emails of contacts whose key starts
 * with `prefix`, keeping when each row was first seen.
 */
function watchRows(db: BenchDb, prefix: string) {
  const seen: Seen = { messages: new Map(), emails: new Map() }
  const like = `${prefix}%`
  let stopped = false
  let failedPolls = 0
  const poll = async () => {
    while (!stopped) {
      const next = performance.now() + POLL_MS
      try {
        await pollOnce()
      } catch {
        // A poll the reader did not answer is a gap in the timings, not a reason to stop.
        failedPolls++
      }
      const wait = next - performance.now()
      if (wait > 0) await sleep(wait)
    }
  }
  const pollOnce = async () => {
    const [messages, emails] = await Promise.all([
      db
        .prepare(
          'SELECT id AS key, contact_key AS contactKey FROM messages WHERE contact_key LIKE ?',
        )
        .bind(like)
        .all<{ key: string; contactKey: string }>(),
      db
        .prepare(
          'SELECT message_id AS key, contact_key AS contactKey FROM logged_emails WHERE contact_key LIKE ?',
        )
        .bind(like)
        .all<{ key: string; contactKey: string }>(),
    ])
    const at = Date.now()
    recordSeen(seen.messages, messages.results, at)
    recordSeen(seen.emails, emails.results, at)
  }
  const running = poll()
  return {
    /** Resolves when `count` messages and emails were seen, or after `ms`. */
    async until(count: number, ms: number) {
      const deadline = performance.now() + ms
      let reported = performance.now()
      while (performance.now() < deadline) {
        if (seen.messages.size >= count && seen.emails.size >= count) return
        if (performance.now() - reported >= 5000) {
          reported = performance.now()
          progress(
            PHASE,
            `waiting for rows: ${int(seen.messages.size)} messages, ${int(seen.emails.size)} emails of ${int(count)}`,
          )
        }
        await sleep(POLL_MS)
      }
    },
    async stop(): Promise<Seen & { failedPolls: number }> {
      stopped = true
      await running
      return { ...seen, failedPolls }
    },
  }
}

/** Every journey message and logged email of the run's contacts, with the time each was made. */
async function stampedRows(db: BenchDb, prefix: string) {
  const like = `${prefix}%`
  const read = async (query: string) =>
    (
      await db.prepare(query).bind(like).all<{ contactKey: string; createdAt: string }>()
    ).results.map((row) => ({ contactKey: row.contactKey, at: Date.parse(row.createdAt) }))
  return {
    messages: await read(
      'SELECT contact_key AS contactKey, created_at AS createdAt FROM messages WHERE contact_key LIKE ?',
    ),
    emails: await read(
      'SELECT contact_key AS contactKey, created_at AS createdAt FROM logged_emails WHERE contact_key LIKE ?',
    ),
  }
}
