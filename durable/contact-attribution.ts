import type { ContactAttribution as AttributionOptions } from '../edge/attribution/config'
import {
  creditConversionAllModels,
  isDeterministicPath,
  touchesForConversion,
  type Touch,
} from '../domain/attribution'
import { matchConversion } from '../domain/conversions'
import { campaignKey, onSite, touchOf, type LastActivity } from '../domain/touches'
import type { StoredEvent } from '../contracts/stored-event'
import type { ConversionMessage, TouchMessage } from '../contracts/queue-messages'
import { SITE_EVENTS } from './contact-counters'
import type { ContactMeta } from './contact-meta'
import type { ContactProfile } from '../contracts/contact-profile'
import type { ActivationState } from './activation'
import { iso, type Facet } from './facet'

/**
 * The queue message of the touch an event made. It is made from the event and its row in the
 * touches table alone, so the outbox can make it again from the two (see outbox.ts).
 */
export function touchMessage(
  contactKey: string,
  event: Pick<StoredEvent, 'id' | 'timestamp'>,
  touch: { channel: string; campaign?: string | null },
): TouchMessage {
  return {
    kind: 'touch',
    id: event.id,
    contactKey,
    at: event.timestamp,
    channel: touch.channel,
    campaign: touch.campaign ?? undefined,
  }
}

export type TouchRow = {
  id: string
  at: number
  channel: string
  campaign: string | null
  source: string | null
  medium: string | null
}

/**
 * The contact's touches (session entries) and real-time crediting of its conversions, kept in
 * the ContactDO's SQLite (tables touches and meta). Every touch here is tied to the contact by
 * a first-party id or an identify link, so every touch is deterministic.
 */
/** What a contact hands over of its touches: the rows, and where its current visit stands. */
export interface TouchesPart {
  touches: TouchRow[]
  lastActivity: LastActivity | null
}

/** An absorbed contact's touches are kept up to this bound; ingest trims to the configured one. */
const MAX_IMPORTED_TOUCHES = 1_000

export class ContactTouches implements Facet<TouchesPart> {
  readonly tables = ['touches'] as const
  /**
   * Time of the contact's last on-site event: the on-site counter's last_at (see
   * contact-counters.ts SITE_EVENTS), kept here as of before the event being observed (the
   * counter itself is written at the end of the transaction), so that sessions need no write of
   * their own per event. Server events (no page, no channel) neither start nor extend a visit:
   * an identify from a back end must not hide the entry of the visit that follows it.
   */
  private lastAt?: number | null
  /**
   * How many touch rows there are at most, when known without a read (a new contact has none;
   * a trim leaves at most the cap): the trim below runs only past the cap. Unknown after a wake
   * until the first trim.
   */
  private rowCount?: number

  constructor(
    private readonly sql: SqlStorage,
    private readonly metaValues: ContactMeta,
  ) {}

  /** Sets the last on-site event time read when the object woke (see activation.ts). */
  prime(state: Pick<ActivationState, 'siteLastAt'>) {
    this.lastAt = state.siteLastAt
  }

  /** The contact's tables were just created. */
  primeNew() {
    this.rowCount = 0
  }

  handOver(): TouchesPart {
    return { touches: this.rows(), lastActivity: this.lastActivity() }
  }

  absorb(part: TouchesPart) {
    this.import(part.touches, part.lastActivity, MAX_IMPORTED_TOUCHES)
  }

  profile(): Pick<ContactProfile, 'touches'> {
    return {
      touches: this.rows().map(({ id: _id, at, ...touch }) => ({ at: iso(at), ...touch })),
    }
  }

  forget() {
    this.lastAt = undefined
    this.rowCount = undefined
  }

  /**
   * Records a touch and credits a conversion if the event is either; returns their messages.
   * The touch's can be made again from its row (see touchMessage), the conversion's cannot.
   */
  observe(
    contactKey: string,
    event: StoredEvent,
    options: AttributionOptions,
  ): { touch?: TouchMessage; conversion?: ConversionMessage } {
    const at = Date.parse(event.timestamp)
    const shipped: { touch?: TouchMessage; conversion?: ConversionMessage } = {}
    const last = this.lastActivity()
    const sessionId =
      typeof event.context.sessionId === 'string' ? event.context.sessionId : undefined
    const touch = touchOf(
      {
        at,
        sessionId,
        channel: event.enrichment.channel,
        landing: event.enrichment.landing,
        campaign: event.enrichment.campaign,
      },
      last,
    )
    if (onSite(event.enrichment) && (!last || at >= last.at)) {
      this.lastAt = at
      // Written only when it changes: once per session, not once per event.
      if (sessionId) this.setMeta('last_session', sessionId)
    }
    if (touch) {
      this.sql.exec(
        `INSERT OR IGNORE INTO touches (id, at, channel, campaign, source, medium) VALUES (?, ?, ?, ?, ?, ?)`,
        event.id,
        touch.at,
        touch.channel,
        touch.campaign ?? null,
        touch.source ?? null,
        touch.medium ?? null,
      )
      const key = campaignKey(event.enrichment.campaign)
      if (key) this.setMeta('last_campaign', key)
      this.trim(options.maxTouches, 1)
      shipped.touch = touchMessage(contactKey, event, touch)
    }

    const conversion = matchConversion(event, options.conversions)
    if (conversion) {
      const touches = touchesForConversion(this.touches(), at, {
        lookbackDays: options.lookbackDays,
        maxTouches: options.maxTouches,
      })
      const credits = creditConversionAllModels(
        { at, value: conversion.value, touches },
        options.fitted ?? { removalEffects: {} },
        { halfLifeDays: options.halfLifeDays },
      )
      shipped.conversion = {
        kind: 'conversion',
        id: event.id,
        contactKey,
        definitionId: conversion.definition.id,
        name: conversion.definition.name,
        at: event.timestamp,
        value: conversion.value,
        deterministic: isDeterministicPath(touches),
        path: touches.map((t) => t.channel),
        credits,
      }
    }
    return shipped
  }

  touches(): Touch[] {
    return this.rows().map((row) => ({ channel: row.channel, at: row.at, deterministic: true }))
  }

  rows(): TouchRow[] {
    return this.sql
      .exec<TouchRow>(
        'SELECT id, at, channel, campaign, source, medium FROM touches ORDER BY at, seq',
      )
      .toArray()
  }

  /** Where the contact's current session stands, so a merge does not start a new visit. */
  lastActivity(): LastActivity | null {
    if (this.lastAt === undefined) {
      // Outside a transaction's pending counts: the time before the events being stored.
      const row = this.sql
        .exec<{ last_at: number }>('SELECT last_at FROM counters WHERE name = ?', SITE_EVENTS)
        .toArray()[0]
      this.lastAt = row?.last_at ?? null
    }
    if (this.lastAt === null) return null
    return {
      at: this.lastAt,
      sessionId: this.meta('last_session'),
      campaignKey: this.meta('last_campaign'),
    }
  }

  /** Touches of an absorbed anonymous contact keep their ids and times; its session goes on. */
  import(rows: TouchRow[], last: LastActivity | null, maxTouches: number) {
    const mine = this.lastActivity()
    if (last && (!mine || last.at > mine.at)) {
      this.lastAt = last.at
      if (last.sessionId) this.setMeta('last_session', last.sessionId)
      if (last.campaignKey) this.setMeta('last_campaign', last.campaignKey)
    }
    for (const row of rows) {
      this.sql.exec(
        `INSERT OR IGNORE INTO touches (id, at, channel, campaign, source, medium) VALUES (?, ?, ?, ?, ?, ?)`,
        row.id,
        row.at,
        row.channel,
        row.campaign,
        row.source,
        row.medium,
      )
    }
    this.trim(maxTouches, rows.length)
  }

  /** Keeps the newest `maxTouches` touches, after `added` rows were inserted (or ignored). */
  private trim(maxTouches: number, added: number) {
    if (this.rowCount !== undefined) {
      this.rowCount += added
      if (this.rowCount <= maxTouches) return
    }
    this.sql.exec(
      'DELETE FROM touches WHERE seq NOT IN (SELECT seq FROM touches ORDER BY at DESC, seq DESC LIMIT ?)',
      maxTouches,
    )
    this.rowCount = maxTouches
  }

  private meta(key: string): string | undefined {
    return this.metaValues.get(key)
  }

  private setMeta(key: string, value: string) {
    this.metaValues.set(key, value)
  }
}
