import { LatencyRecorder, type LatencySummary } from './load/latency.ts'

/**
 * Pure helpers of the event → message measurement: how long after each event its row turned up,
 * from rows stamped by workerd's clock or seen by the bench's poll (both on this machine's clock).
 */

/** An event sent for one contact, by the bench's wall clock (ms since the epoch). */
export interface SentEvent {
  contactKey: string
  startedAt: number
}

/** A row found for a contact, stamped or seen at `at` (ms since the epoch). */
export interface FoundRow {
  contactKey: string
  at: number
}

export interface Delays {
  /** Per event with a row: its first row's time less the event's start. */
  latency: LatencySummary
  /** Events with no row. */
  missing: number
  /** Rows beyond the first for a contact. */
  extra: number
  /** Rows of contacts the run did not send for. */
  unknown: number
}

export function delays(sent: readonly SentEvent[], rows: readonly FoundRow[]): Delays {
  const started = new Map(sent.map((s) => [s.contactKey, s.startedAt]))
  const first = new Map<string, number>()
  let extra = 0
  let unknown = 0
  for (const row of rows) {
    if (!started.has(row.contactKey)) {
      unknown++
      continue
    }
    const seen = first.get(row.contactKey)
    if (seen === undefined) first.set(row.contactKey, row.at)
    else {
      extra++
      first.set(row.contactKey, Math.min(seen, row.at))
    }
  }
  const recorder = new LatencyRecorder()
  for (const [key, at] of first) recorder.record(at - started.get(key)!)
  return { latency: recorder.summary(), missing: sent.length - first.size, extra, unknown }
}

/**
 * The first time a poll saw each row: rows keep the time of the poll that first returned them
 * (`seen`, by the row's key), so repeated polls of the same table add none twice.
 */
export function recordSeen(
  seen: Map<string, FoundRow>,
  rows: readonly { key: string; contactKey: string }[],
  at: number,
): number {
  let added = 0
  for (const row of rows) {
    if (seen.has(row.key)) continue
    seen.set(row.key, { contactKey: row.contactKey, at })
    added++
  }
  return added
}
