import type { StoredEvent } from '../../contracts/stored-event'
import type { AbsorbContext, Facet } from '../facet'

export type EventRow = {
  id: string
  body: string
}

export interface TimelinePage {
  items: StoredEvent[]
  /** Where the next page starts after: the last event's timestamp and seq; null on the last page. */
  next: [number, number] | null
}

/** Past every timestamp and seq: the first page of the timeline starts before it. */
const END = Number.MAX_SAFE_INTEGER

/**
 * The contact's timeline (table events), one row per stored event, its body as stored. The
 * row's seq orders what the outbox sends (outbox.ts); a duplicate messageId is stored once.
 */
export class Events implements Facet<EventRow[]> {
  readonly tables = ['events'] as const

  constructor(private readonly sql: SqlStorage) {}

  prime() {}

  forget() {}

  /** Inserts the event; its seq, or null for a duplicate. */
  insert(event: StoredEvent, body: string, at: number): number | null {
    // RETURNING tells a stored row from an ignored duplicate; rowsWritten counts both.
    const [inserted] = this.sql
      .exec<{ seq: number }>(
        `INSERT INTO events (id, message_id, type, name, timestamp, received_at, bot, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq`,
        event.id,
        event.messageId,
        event.type,
        event.event ?? event.name ?? null,
        at,
        Date.parse(event.receivedAt),
        event.enrichment.bot ? 1 : 0,
        body,
      )
      .toArray()
    return inserted?.seq ?? null
  }

  /** Newest first by event time, after the position of a previous page's `next`. */
  timeline(options: { limit: number; after?: readonly [number, number] | null }): TimelinePage {
    const [timestamp, seq] = options.after ?? [END, END]
    const rows = this.sql
      .exec<{ seq: number; timestamp: number; body: string }>(
        `SELECT seq, timestamp, body FROM events WHERE (timestamp, seq) < (?, ?)
         ORDER BY timestamp DESC, seq DESC LIMIT ?`,
        timestamp,
        seq,
        options.limit + 1,
      )
      .toArray()
    const page = rows.slice(0, options.limit)
    const last = page[page.length - 1]
    return {
      items: page.map((row) => JSON.parse(row.body) as StoredEvent),
      next: rows.length > options.limit && last ? [last.timestamp, last.seq] : null,
    }
  }

  /** Every event, oldest first (the DSAR export). */
  all(): StoredEvent[] {
    return this.sql
      .exec<{ body: string }>('SELECT body FROM events ORDER BY timestamp, seq')
      .toArray()
      .map((row) => JSON.parse(row.body) as StoredEvent)
  }

  /**
   * Deletes events older than `before` that are known sent (seq up to `sentThrough`: the outbox
   * makes the messages of the others from them); returns how many events are left.
   */
  prune(before: number, sentThrough: number): number {
    this.sql.exec('DELETE FROM events WHERE timestamp < ? AND seq <= ?', before, sentThrough)
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM events').one().n
  }

  handOver(): EventRow[] {
    return this.sql.exec<EventRow>('SELECT id, body FROM events ORDER BY seq').toArray()
  }

  /** Stored through every facet, as events of this contact; they were sent under the other key. */
  absorb(rows: EventRow[], context: AbsorbContext) {
    const seqs = rows.flatMap((row) => {
      const seq = context.storeEvent(JSON.parse(row.body) as StoredEvent, row.body)
      return seq === null ? [] : [seq]
    })
    // The merge message moves them in D1.
    if (seqs.length > 0) context.alreadySent(seqs[0]!, seqs[seqs.length - 1]!)
  }

  profile() {
    return {}
  }
}
