import type { ContactProfile } from '../contracts/contact-profile'
import { onSite } from '../domain/touches'
import type { StoredEvent } from '../contracts/stored-event'
import type { ActivationState } from './activation'
import { iso, type Facet } from './facet'
import { execRows } from './multi-row'

/** A counter row: how many events of one name, first and last event time (ms). */
export interface Counter {
  count: number
  firstAt: number
  lastAt: number
}

/** The counter over all of a contact's events (the rest are per event name). */
export const ALL_EVENTS = '*'
/**
 * The counter over events that happened on the site (a page with its channel), not those sent
 * by a server: its last_at is where the contact's current visit stands (see domain/touches.ts).
 */
export const SITE_EVENTS = '*site'

/**
 * The ContactDO's event counters (table counters). Counts are collected while a transaction
 * stores its events and written by one statement at `flush`, whatever the number of events and
 * names. The all-events counter, which every contact snapshot reads, is kept in memory.
 */
export class ContactCounters implements Facet<null> {
  readonly tables = ['counters'] as const
  private total?: Counter | null
  private pending = new Map<string, Counter>()

  constructor(private readonly sql: SqlStorage) {}

  /** Sets the all-events counter read when the object woke (see activation.ts). */
  prime(state: Pick<ActivationState, 'total'>) {
    this.total = state.total
  }

  /** Bots are stored but counted nowhere. */
  onEvent(event: StoredEvent, at: number) {
    if (!event.enrichment.bot) this.add(counterName(event), at, onSite(event.enrichment))
  }

  /** Nothing: the absorbing contact counts the handed-over events as it stores them. */
  handOver(): null {
    return null
  }

  absorb() {}

  profile(): Pick<ContactProfile, 'counters' | 'firstSeen' | 'lastSeen' | 'eventCount'> {
    const all = this.all()
    return {
      counters: this.byName().map((row) => ({
        name: row.name,
        count: row.count,
        firstAt: iso(row.firstAt),
        lastAt: iso(row.lastAt),
      })),
      firstSeen: all ? iso(all.firstAt) : null,
      lastSeen: all ? iso(all.lastAt) : null,
      eventCount: all?.count ?? 0,
    }
  }

  add(name: string, at: number, onSite: boolean) {
    for (const key of onSite ? [ALL_EVENTS, SITE_EVENTS, name] : [ALL_EVENTS, name]) {
      const counter = this.pending.get(key)
      if (counter) this.pending.set(key, merge(counter, at))
      else this.pending.set(key, { count: 1, firstAt: at, lastAt: at })
    }
    const total = this.all()
    this.total = total ? merge(total, at) : { count: 1, firstAt: at, lastAt: at }
  }

  /** All events of the contact, including those not yet flushed. */
  all(): Counter | null {
    if (this.total === undefined) {
      const row = this.sql
        .exec<{ count: number; first_at: number; last_at: number }>(
          'SELECT count, first_at, last_at FROM counters WHERE name = ?',
          ALL_EVENTS,
        )
        .toArray()[0]
      this.total = row ? { count: row.count, firstAt: row.first_at, lastAt: row.last_at } : null
    }
    return this.total
  }

  /** Per event name, largest first, without the all-events and on-site counters. */
  byName(): ({ name: string } & Counter)[] {
    return this.sql
      .exec<{ name: string; count: number; first_at: number; last_at: number }>(
        'SELECT name, count, first_at, last_at FROM counters WHERE name NOT IN (?, ?) ORDER BY count DESC',
        ALL_EVENTS,
        SITE_EVENTS,
      )
      .toArray()
      .map((row) => ({
        name: row.name,
        count: row.count,
        firstAt: row.first_at,
        lastAt: row.last_at,
      }))
  }

  /** Writes the collected counts; call inside the transaction that stored the events. */
  flush() {
    if (this.pending.size === 0) return
    const rows = [...this.pending].map(([name, c]) => [name, c.count, c.firstAt, c.lastAt])
    this.pending = new Map()
    execRows(
      this.sql,
      'INSERT INTO counters (name, count, first_at, last_at)',
      rows,
      `ON CONFLICT (name) DO UPDATE SET count = count + excluded.count,
       first_at = MIN(first_at, excluded.first_at), last_at = MAX(last_at, excluded.last_at)`,
    )
  }

  forget() {
    this.total = undefined
    this.pending = new Map()
  }
}

function counterName(event: StoredEvent): string {
  if (event.type === 'track') return event.event ?? 'track'
  return `$${event.type}`
}

function merge(counter: Counter, at: number): Counter {
  return {
    count: counter.count + 1,
    firstAt: Math.min(counter.firstAt, at),
    lastAt: Math.max(counter.lastAt, at),
  }
}
