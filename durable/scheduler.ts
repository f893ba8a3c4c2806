/**
 * A Durable Object's one alarm, shared by every timer it needs: a schedule table (`id, due_at,
 * kind, payload`) with the alarm armed for its earliest row, and a handler per kind.
 *
 * The promise to handlers (as cloudflare/agents makes for its scheduler): alarms are delivered
 * at least once, so a handler may run again for a time it already handled, after a crash or a
 * retried alarm; every handler is idempotent. A handler returns when it wants to run next (its
 * row is kept, due then) or null (its row is deleted). A handler that throws is logged and tried
 * again RETRY_MS later; the others still run, and the alarm is re-armed in `finally` for the
 * earliest row left, so one failing job never stops the rest.
 *
 * Entries are named: scheduling an id that exists moves it earlier, never later (`scheduleBy`),
 * so a job asked for by many events is one row. The rows are read with the object's wake-up
 * query (activation.ts) and kept in memory, so asking for a job that is already due soon costs
 * no statement.
 */

export interface ScheduleEntry {
  id: string
  dueAt: number
  kind: string
  payload: string | null
}

/** Returns when the job runs next, or null when it is done. */
export type ScheduleHandler = (entry: ScheduleEntry, now: number) => Promise<number | null>

/** How long after a handler threw it runs again. */
export const RETRY_MS = 30_000

export class Scheduler {
  private entries?: Map<string, ScheduleEntry>
  /** The alarm as last set or read; undefined until known. */
  private armedAt?: number | null

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly hasTable: () => boolean,
  ) {}

  /** The rows read when the object woke (see activation.ts), sparing a query. */
  prime(entries: ScheduleEntry[]) {
    this.entries = new Map(entries.map((entry) => [entry.id, entry]))
  }

  /** After wiped storage or a rolled-back transaction: read again when needed. */
  forget() {
    this.entries = undefined
    this.armedAt = undefined
  }

  due(id: string): number | undefined {
    return this.rows().get(id)?.dueAt
  }

  /**
   * Makes `id` due at `at` or earlier; a statement only when that changes its row. Call inside
   * or outside a transaction; `arm` afterwards sets the alarm.
   */
  scheduleBy(id: string, at: number, kind: string, payload: string | null = null) {
    const current = this.rows().get(id)
    if (current && current.dueAt <= at) return
    this.write({ id, dueAt: at, kind, payload })
  }

  cancel(id: string) {
    if (!this.rows().has(id)) return
    this.storage.sql.exec('DELETE FROM schedule WHERE id = ?', id)
    this.entries!.delete(id)
  }

  /** Arms the alarm for the earliest row (or removes it when none is left). */
  async arm(): Promise<void> {
    let earliest: number | null = null
    for (const entry of this.rows().values()) {
      if (earliest === null || entry.dueAt < earliest) earliest = entry.dueAt
    }
    this.armedAt ??= await this.storage.getAlarm()
    if (earliest === this.armedAt) return
    if (earliest === null) await this.storage.deleteAlarm()
    else await this.storage.setAlarm(earliest)
    this.armedAt = earliest
  }

  /** Runs every due row's handler, oldest first, then re-arms; call from `alarm()`. */
  async run(handlers: Record<string, ScheduleHandler>, now = Date.now()): Promise<void> {
    // The alarm that woke us has fired: whatever was armed is gone.
    this.armedAt = null
    try {
      const due = [...this.rows().values()]
        .filter((entry) => entry.dueAt <= now)
        .sort((a, b) => a.dueAt - b.dueAt)
      for (const entry of due) {
        let next: number | null
        try {
          const handler = handlers[entry.kind]
          next = handler ? await handler(entry, now) : null
          if (!handler) console.error('no handler for scheduled kind; dropped', entry.kind)
        } catch (error) {
          console.error('scheduled job failed; it runs again', entry.kind, error)
          next = now + RETRY_MS
        }
        // The handler may have erased the object's storage (and with it this row).
        if (!this.hasTable()) return
        if (next === null) this.cancel(entry.id)
        else this.write({ ...entry, dueAt: next })
      }
    } finally {
      if (this.hasTable()) await this.arm()
    }
  }

  private write(entry: ScheduleEntry) {
    this.storage.sql.exec(
      `INSERT INTO schedule (id, due_at, kind, payload) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, kind = excluded.kind,
       payload = excluded.payload`,
      entry.id,
      entry.dueAt,
      entry.kind,
      entry.payload,
    )
    this.rows().set(entry.id, entry)
  }

  private rows(): Map<string, ScheduleEntry> {
    this.entries ??= this.hasTable()
      ? new Map(
          this.storage.sql
            .exec<{ id: string; due_at: number; kind: string; payload: string | null }>(
              'SELECT id, due_at, kind, payload FROM schedule',
            )
            .toArray()
            .map((row) => [
              row.id,
              { id: row.id, dueAt: row.due_at, kind: row.kind, payload: row.payload },
            ]),
        )
      : new Map()
    return this.entries
  }
}
