import type { Verdict } from './sections/section.ts'
import type { LatencySummary } from './load/latency.ts'
import { SEGMENT_TARGETS, timing, type CpuPair } from './segments-targets.ts'

/**
 * The journeys targets (issue #24), defined once: what the journeys section judges, and the pure
 * verdict functions its node test checks.
 */
export const JOURNEY_TARGETS = {
  /** An event that starts a journey has its email queued within this (ms), at the p99. */
  queuedMs: 1000,
  /** Management API requests at this concurrency … */
  clients: 16,
  /** … answer within this (ms), at the p95 (the requirements' figure). */
  managementP95Ms: 200,
  /** Journeys live in the CPU comparison. */
  liveJourneys: 20,
  /**
   * Not a target: the issue asks for the CPU per event with journeys against none measured, with
   * no bound. Live segments' bound (+20%) is printed beside the ratio as a yardstick.
   */
  referenceCpuRatio: SEGMENT_TARGETS.maxCpuRatio,
} as const

/**
 * Event → message queued. The contact's object hands the journey's email to the send queue
 * before it answers the event, so the event request's own latency bounds the time to queued.
 */
export function judgeQueued(latency: LatencySummary | null): Verdict {
  const t = JOURNEY_TARGETS
  const name = 'event → journey email queued (the event request, answered after the hand-over)'
  const target = `p99 < ${t.queuedMs} ms`
  if (!latency || latency.count === 0) {
    return { name, figure: '-', target, met: null, note: 'not measured in this run' }
  }
  return {
    name,
    figure: `p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms (${latency.count} events)`,
    target,
    met: latency.p99 < t.queuedMs,
    ...(latency.count < 100 ? { note: `with ${latency.count} events the p99 is the slowest` } : {}),
  }
}

/** What the latency run found in D1 for its journey events. */
export interface MessageBooks {
  events: number
  /** Contacts with a journey message in D1 `messages`, and rows beyond one per contact. */
  contactsWithMessage: number
  extraMessages: number
  /** The same in the log provider's `logged_emails`. */
  contactsWithEmail: number
  extraEmails: number
}

/** Each journey event makes one message and one sent email: none missing, none doubled. */
export function judgeOnce(books: MessageBooks | null): Verdict {
  const name = 'each journey event made one message and one email'
  const target = 'all, none twice'
  if (!books) return { name, figure: '-', target, met: null, note: 'not measured in this run' }
  const figure =
    `${books.contactsWithMessage} of ${books.events} with a message (${books.extraMessages} extra), ` +
    `${books.contactsWithEmail} with an email (${books.extraEmails} extra)`
  const met =
    books.contactsWithMessage === books.events &&
    books.contactsWithEmail === books.events &&
    books.extraMessages === 0 &&
    books.extraEmails === 0
  return { name, figure, target, met }
}

/** One management operation at JOURNEY_TARGETS.clients concurrent clients. */
export interface OperationRun {
  name: string
  latency: LatencySummary
  /** Requests answered otherwise than expected, or not answered. */
  failed: number
  /** Why it did not run at all. */
  skipped?: string
}

export function judgeOperation(run: OperationRun): Verdict {
  const t = JOURNEY_TARGETS
  const name = `${run.name} at ${t.clients} clients`
  const target = `p95 < ${t.managementP95Ms} ms`
  if (run.skipped) return { name, figure: '-', target, met: null, note: `not run: ${run.skipped}` }
  if (run.latency.count === 0) {
    return {
      name,
      figure: '-',
      target,
      met: false,
      note: `no request answered, ${run.failed} failed`,
    }
  }
  const figure =
    `p50 ${run.latency.p50.toFixed(1)} ms, p95 ${run.latency.p95.toFixed(1)} ms ` +
    `(${run.latency.count} requests${run.failed > 0 ? `, ${run.failed} failed` : ''})`
  return {
    name,
    figure,
    target,
    met: run.latency.p95 < t.managementP95Ms && run.failed === 0,
    ...(run.failed > 0 ? { note: `${run.failed} requests failed` } : {}),
  }
}

/**
 * workerd's CPU per event with the live journeys ÷ without, for one shape: the median of the
 * pairs' ratios. Reported, not judged (JOURNEY_TARGETS.referenceCpuRatio).
 */
export function compareCpu(shape: string, pairs: readonly CpuPair[]) {
  const measured = pairs.flatMap(({ none, live }) =>
    none === null || live === null || none <= 0 ? [] : [{ none, live, ratio: live / none }],
  )
  const name = `${shape}: workerd CPU/event with ${JOURNEY_TARGETS.liveJourneys} journeys ÷ without`
  if (measured.length === 0) return { name, figure: '-', ratio: null, note: 'not measured' }
  const ratios = measured.map((m) => m.ratio)
  const ratio = timing(ratios).median
  const ms = (values: number[]) => timing(values).median.toFixed(2)
  const range =
    ratios.length > 1
      ? ` (pairs ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`
      : ''
  const failed = pairs.reduce((sum, pair) => sum + pair.failed, 0)
  const reference = JOURNEY_TARGETS.referenceCpuRatio
  const notes = [
    `${ratio <= reference ? 'within' : 'over'} live segments' ≤ ${reference} (a yardstick, not a target)`,
    ...(ratios.length === 1
      ? ['one pair only: a quick run varies by about ±0.5 ms per event']
      : []),
    ...(failed > 0 ? [`${failed} requests not answered 2xx`] : []),
  ]
  return {
    name,
    figure:
      `${ms(measured.map((m) => m.none))} → ${ms(measured.map((m) => m.live))} ms, ` +
      `median ratio ${ratio.toFixed(2)}${range}`,
    ratio,
    note: notes.join('; '),
  }
}
