import type { StoredEvent } from '../../contracts/stored-event'
import type { EventFact } from '../../domain/segments/facts'
import { PAGE_EVENT, SCREEN_EVENT } from '../../domain/segments/rule'
import type { ActivationState } from '../activation'
import type { AbsorbContext, Facet } from '../facet'
import { execRows } from '../multi-row'

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
 * An event as segment rules count it: its id and time, and its properties when the event was
 * stored while the copy was kept (a rule that reads the others' properties asks apart).
 */
export interface CountedEvent {
  id: string
  at: number
  properties?: Record<string, unknown>
}

/**
 * Cairn's membership events: most of a contact's rows and rarely counted, so rules that name
 * them read them apart rather than every round carrying them.
 */
export const READ_APART: readonly string[] = ['Segment Entered', 'Segment Exited']

/**
 * The name a `performed` rule counts an event under (`$page`, `$screen`, a track event's name),
 * or null for one it never counts: bots, identify and the like, the membership events (read
 * apart), and a track event named like a page or screen view, which is no view.
 */
export function countedName(type: string, name: string | null, bot: boolean): string | null {
  if (bot) return null
  if (type === 'page') return PAGE_EVENT
  if (type === 'screen') return SCREEN_EVENT
  if (type !== 'track' || name === null) return null
  if (name === PAGE_EVENT || name === SCREEN_EVENT || READ_APART.includes(name)) return null
  return name
}

/**
 * The contact's timeline (table events), one row per stored event, its body as stored. The
 * row's seq orders what the outbox sends (outbox.ts); a duplicate messageId is stored once.
 */
export class Events implements Facet<EventRow[]> {
  readonly tables = ['events'] as const
  /**
   * The in-memory copy of countedEvents: from the wake-up query when the contact's segments read
   * events (COUNTED_PROPERTIES_KEY), empty for a new contact, else read when a round first asks;
   * kept by every insert, dropped by a prune, a rolled-back transaction or wiped storage (forget).
   */
  private counted: Map<string, CountedEvent[]> | null = null

  constructor(private readonly sql: SqlStorage) {}

  prime(state: Pick<ActivationState, 'counted'>) {
    this.counted = state.counted === null ? null : parseCounted(state.counted)
  }

  forget() {
    this.counted = null
  }

  /**
   * Every event segment rules can count, by the name they count it under, with the properties of
   * those whose names are in `properties` (rules read them: SegmentPlan.properties). Read with
   * the object's wake-up query, or in one statement the first time a round asks, then kept in
   * step with the table, so a session's later events do not read them again. An object is mostly
   * woken for the event, and each distinct statement costs a fresh object far more than the rows
   * it reads (bench/results/2026-12-07-segments.md).
   */
  countedEvents(properties: ReadonlySet<string>): ReadonlyMap<string, readonly CountedEvent[]> {
    if (this.counted) return this.counted
    const { rows } = this.sql
      .exec<{ rows: string }>(
        `SELECT (${countedEventsQuery('?')}) AS rows`,
        JSON.stringify([...properties]),
      )
      .one()
    this.counted = parseCounted(rows)
    return this.counted
  }

  /** Inserts the event; its seq, or null for a duplicate. */
  insert(event: StoredEvent, body: string, at: number): number | null {
    return this.insertAll([{ event, body, at }])[0] ?? null
  }

  /**
   * Inserts the events in as few statements as the parameter cap allows (a round's membership
   * moves: a first visit enters several segments); each one's seq, or null for a duplicate.
   */
  insertAll(rows: readonly { event: StoredEvent; body: string; at: number }[]): (number | null)[] {
    if (rows.length === 0) return []
    // RETURNING tells a stored row from an ignored duplicate; rowsWritten counts both.
    const inserted = execRows<{ seq: number; message_id: string }>(
      this.sql,
      'INSERT INTO events (id, message_id, type, name, timestamp, received_at, bot, body)',
      rows.map(({ event, body, at }) => [
        event.id,
        event.messageId,
        event.type,
        event.event ?? event.name ?? null,
        at,
        Date.parse(event.receivedAt),
        event.enrichment.bot ? 1 : 0,
        body,
      ]),
      'ON CONFLICT DO NOTHING RETURNING seq, message_id',
    )
    const stored = new Map(inserted.map((row) => [row.message_id, row.seq]))
    return rows.map(({ event, at }) => {
      const seq = stored.get(event.messageId)
      // A messageId twice in the rows: the first was stored.
      if (seq === undefined) return null
      stored.delete(event.messageId)
      if (this.counted) add(this.counted, ...counting(event, at))
      return seq
    })
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
    this.counted = null
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

/** The name rules count an event under (null: never) and the event as they count it. */
function counting(event: StoredEvent, at: number): [string | null, EventFact] {
  const name = countedName(event.type, event.event ?? event.name ?? null, event.enrichment.bot)
  return [name, { id: event.id, at, properties: propertiesOf(event) }]
}

/** Events not stored yet, by the name rules count them under, as rules count them. */
export function countedEventsOf(events: readonly StoredEvent[]): Map<string, EventFact[]> {
  const counted = new Map<string, EventFact[]>()
  for (const event of events) add(counted, ...counting(event, Date.parse(event.timestamp)))
  return counted
}

function add<T extends CountedEvent>(counted: Map<string, T[]>, name: string | null, event: T) {
  if (name === null) return
  const events = counted.get(name)
  if (events) events.push(event)
  else counted.set(name, [event])
}

/**
 * Meta: the names whose properties the copy of counted events holds (a JSON array), written by a
 * segment round when the contact's segments read events; while it is there, the wake-up query
 * reads the copy (activation.ts).
 */
export const COUNTED_PROPERTIES_KEY = 'counted_properties'

/**
 * Past this many events (as the counters count them: bots and membership events aside) a
 * contact is read name by name, so a long history is not brought into the isolate for a round
 * that needs one name. A bound chosen, not measured: the measured contacts held under 50.
 */
export const READ_ALL_UP_TO = 500

/**
 * The SELECT of the counted events as one JSON array of rows, with the properties of the events
 * whose names are in the JSON array `names` (an SQL expression: a parameter, a meta value).
 * Membership events stay out (READ_APART: constants, so written into the text).
 */
export function countedEventsQuery(names: string): string {
  const apart = READ_APART.map((name) => `'${name}'`).join(', ')
  return `SELECT json_group_array(json_array(type, name, id, timestamp,
      CASE WHEN kind IN (SELECT value FROM json_each(${names}))
        THEN json(${PROPERTIES_SQL})
      END))
    FROM (SELECT *, CASE type WHEN 'page' THEN '${PAGE_EVENT}' WHEN 'screen' THEN '${SCREEN_EVENT}'
        ELSE name END AS kind
      FROM events WHERE bot = 0 AND type IN ('page', 'screen', 'track')
        AND NOT (type = 'track' AND name IN (${apart})))`
}

type CountedRow = [string, string | null, string, number, Record<string, unknown> | null]

function parseCounted(rows: string): Map<string, CountedEvent[]> {
  const counted = new Map<string, CountedEvent[]>()
  for (const [type, name, id, at, read] of JSON.parse(rows) as CountedRow[]) {
    const event = read === null ? { id, at } : { id, at, properties: read }
    add(counted, countedName(type, name, false), event)
  }
  return counted
}

/** What `where` conditions read of an event: its properties (an identify's traits). */
export function propertiesOf(event: StoredEvent): Record<string, unknown> {
  return event.properties ?? event.traits ?? {}
}

/** `propertiesOf` in SQL over a stored body: JSON text, `{}` when it has neither. */
export const PROPERTIES_SQL = `coalesce(json_extract(body, '$.properties'), json_extract(body, '$.traits'), '{}')`
