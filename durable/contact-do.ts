import { DurableObject } from 'cloudflare:workers'
import {
  gpcDecision,
  mayStoreIdentified,
  type ConsentMode,
  type ConsentState,
} from '../edge/domain/consent'
import { anonymousKey, isAnonymousKey, usableId } from '../edge/domain/identity'
import type { LastActivity } from '../edge/domain/touches'
import type { Env } from '../edge/env'
import { readRetention } from '../edge/privacy/retention'
import type { IncomingEvent, StoredEvent } from '../edge/ingest/stored-event'
import { WITHHELD_CONTACT, type ContactSnapshot, type QueuedMessage } from '../edge/queue/messages'
import type { ContactAttribution } from '../edge/attribution/config'
import { ConsentLedger, type ConsentRecord, type LedgerRow } from './consent-ledger'
import { ContactTouches, type TouchRow } from './contact-attribution'
import { ContactMeta } from './contact-meta'
import { contactStub } from './contact-client'
import { FULL_SCHEMA, migrateContactStorage, schemaVersion } from './contact-schema'
import { generateDataKey, importDataKey, sealText } from './data-key'
import { Outbox } from './outbox'

export interface IngestOptions {
  consentMode: ConsentMode
  /** The request carried `Sec-GPC: 1`. */
  gpc: boolean
  /** Conversion definitions and fitted weights for crediting conversions as they happen. */
  attribution: ContactAttribution
}

export interface IngestResult {
  /** The contact that finally stored the events (differs from the target after a merge). */
  contactKey: string
  stored: number
  duplicates: number
  /** Counted without identifiers only: the person has not consented to analytics. */
  withheld: number
  /** Dropped: the person was erased and their identifiers are suppressed. */
  suppressed: number
}

export interface ConsentView {
  current: ConsentState
  ledger: LedgerRow[]
}

/** What an erasure removed from this object, and the identifiers linked to it. */
export interface ErasureReport {
  key: string | null
  mergedInto: string | null
  identities: { kind: string; value: string }[]
  removed: Record<string, number>
}

export interface ContactExport {
  profile: ContactProfile
  events: StoredEvent[]
  consent: ConsentView
}

/** Everything an anonymous contact hands to the identified contact that absorbs it. */
export interface HandOver {
  events: { id: string; body: string }[]
  traits: { key: string; value: string; updated_at: number; message_id: string | null }[]
  traitChanges: {
    key: string
    old_value: string | null
    new_value: string
    changed_at: number
    message_id: string | null
  }[]
  groups: { group_id: string; traits: string; joined_at: number; updated_at: number }[]
  identities: { kind: string; value: string; status: string; linked_at: number }[]
  dataKeys: { key_id: string; raw: string; created_at: number }[]
  consent: LedgerRow[]
  touches: TouchRow[]
  lastActivity: LastActivity | null
}

export type HandOverResult = { merged: true; state: HandOver } | { merged: false; reason: string }

export interface TimelinePage {
  items: StoredEvent[]
  cursor: string | null
}

export interface ContactProfile {
  key: string
  userId: string | null
  anonymousIds: string[]
  traits: Record<string, unknown>
  traitHistory: { key: string; from: unknown; to: unknown; at: string; messageId: string | null }[]
  identities: { kind: string; value: string; status: string; linkedAt: string; detail?: string }[]
  groups: { groupId: string; traits: Record<string, unknown>; joinedAt: string }[]
  counters: { name: string; count: number; firstAt: string; lastAt: string }[]
  firstSeen: string | null
  lastSeen: string | null
  eventCount: number
  consent: ConsentState
  /** Session entries that attribution credits, oldest first. */
  touches: {
    at: string
    channel: string
    campaign: string | null
    source: string | null
    medium: string | null
  }[]
}

export type ProfileResult =
  { found: true; profile: ContactProfile } | { found: false; mergedInto?: string }

/** How long after an ingest the alarm re-checks that the outbox reached the queue. */
const OUTBOX_RETRY_MS = 30_000
const ALL = '*'

const EMPTY_HAND_OVER: HandOver = {
  events: [],
  traits: [],
  traitChanges: [],
  groups: [],
  identities: [],
  dataKeys: [],
  consent: [],
  touches: [],
  lastActivity: null,
}
const DAY_MS = 86_400_000

/** Tables holding a person's data: emptied by an erasure and by a completed hand-over. */
const ERASED_TABLES = [
  'events',
  'counters',
  'traits',
  'trait_changes',
  'groups',
  'identities',
  'data_keys',
  'consent_ledger',
  'touches',
  'outbox',
]

/** An absorbed contact's touches are kept up to this bound; ingest trims to the configured one. */
const MAX_IMPORTED_TOUCHES = 1_000

/**
 * One object per contact, named by its canonical key (see domain/identity.ts). It is the
 * contact's system of record: an event is stored when this object's transaction commits, and
 * everything downstream (D1, the R2 archive) is fed from its outbox, so nothing acknowledged
 * can be lost between the two.
 */
export class ContactDO extends DurableObject<Env> {
  private readonly sql: SqlStorage
  private readonly metaValues: ContactMeta
  private readonly outbox: Outbox
  /** Identifiers already in the identities table (see identitySet). */
  private identities?: Set<string>
  private readonly ledger: ConsentLedger
  private readonly touchesOf: ContactTouches
  private sealingKey?: Promise<{ id: string; key: CryptoKey }>
  /** Migrations applied so far (see contact-schema.ts); raised to full on first real use. */
  private schema: number
  /** When the armed alarm fires, as far as this instance knows (it set it). */
  private alarmAt?: number
  private flushing = false
  private flushAgain = false

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.metaValues = new ContactMeta(this.sql, () => this.schema > 0)
    this.outbox = new Outbox(this.sql, () => ({ events: env.EVENTS, conversions: env.CONVERSIONS }))
    this.ledger = new ConsentLedger(this.sql)
    this.touchesOf = new ContactTouches(this.sql, this.metaValues)
    this.schema = schemaVersion(this.sql)
  }

  /**
   * Stores events for this contact in one transaction; duplicates by messageId are skipped.
   * Consent is enforced here, where the ledger lives: without the needed consent the events are
   * counted in the rollups without any identifier and nothing about the person is kept.
   */
  async ingest(
    key: string,
    events: IncomingEvent[],
    options: IngestOptions,
  ): Promise<IngestResult> {
    const result = { contactKey: key, stored: 0, duplicates: 0, withheld: 0, suppressed: 0 }
    if (this.meta('erased_at')) return { ...result, suppressed: events.length }
    const forward = this.meta('merged_into')
    if (forward) return contactStub(this.env, forward).ingest(forward, events, options)
    this.ensureSchema()
    if (!isAnonymousKey(key)) await this.absorbAnonymousContacts(key, events)

    let consent = this.ledger.current()
    const gpc = options.gpc ? gpcDecision(consent) : null
    if (!mayStoreIdentified(options.consentMode, consent)) {
      this.transaction(() => {
        for (const event of events) this.enqueueWithheld(event)
      })
      this.shipOutbox()
      return { ...result, withheld: events.length }
    }

    const sealing = await this.dataKey()
    const prepared = await Promise.all(
      events.map(async (incoming) => {
        const event: StoredEvent = { id: crypto.randomUUID(), ...incoming }
        const body = JSON.stringify(event)
        return { event, body, sealed: await sealText(sealing.key, body) }
      }),
    )

    let stored = 0
    this.transaction(() => {
      this.setMeta('key', key)
      if (gpc) {
        this.ledger.append({ purposes: gpc, policyVersion: 'gpc', source: 'gpc', method: 'gpc' })
        consent = this.ledger.current()
        this.enqueue({
          kind: 'consent',
          contactKey: key,
          state: consent,
          at: new Date().toISOString(),
        })
      }
      for (const { event, body, sealed } of prepared) {
        if (!this.storeEvent(event, body)) continue
        stored++
        if (!event.enrichment.bot) {
          for (const message of this.touchesOf.observe(key, event, options.attribution))
            this.enqueue(message)
        }
        this.enqueue({
          kind: 'event',
          contactKey: key,
          event,
          archive: {
            id: event.id,
            type: event.type,
            receivedAt: event.receivedAt,
            timestamp: event.timestamp,
            sourceId: event.sourceId,
            keyId: sealing.id,
            ...sealed,
          },
        })
      }
      if (stored > 0) this.enqueue(this.snapshot(key))
    })
    if (stored > 0 || gpc) {
      // The alarm is the safety net should this object stop before the send below completes.
      await this.armSafetyAlarm()
      this.shipOutbox()
    }
    return { ...result, stored, duplicates: events.length - stored }
  }

  /** Appends a consent decision to the ledger (`/v1/consent`, the API, an import). */
  async recordConsent(
    key: string,
    record: ConsentRecord,
  ): Promise<ConsentView & { contactKey: string }> {
    this.ensureSchema()
    if (this.meta('erased_at')) throw new Error('contact erased')
    const forward = this.meta('merged_into')
    if (forward) return contactStub(this.env, forward).recordConsent(forward, record)
    if (this.ledger.repeats(record)) return { contactKey: key, ...(await this.consent()) }
    this.transaction(() => {
      this.setMeta('key', key)
      this.ledger.append(record)
      this.enqueue({
        kind: 'consent',
        contactKey: key,
        state: this.ledger.current(),
        at: new Date().toISOString(),
      })
    })
    await this.armSafetyAlarm()
    this.shipOutbox()
    return { contactKey: key, ...(await this.consent()) }
  }

  /** Callers resolve merges first (contact-client.ts resolveContact). */
  async consent(): Promise<ConsentView> {
    this.ensureSchema()
    return { current: this.ledger.current(), ledger: this.ledger.rows() }
  }

  /**
   * Removes everything this object holds about the person (events, traits, consent, identities,
   * data keys: the archive copies become unreadable) and its alarm, and leaves a tombstone
   * without identifiers so that late or replayed events for this key are dropped.
   */
  async erase(): Promise<ErasureReport> {
    this.ensureSchema()
    const counts: Record<string, number> = {}
    for (const table of ERASED_TABLES) {
      counts[table] = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n
    }
    const report: ErasureReport = {
      key: this.meta('key') ?? null,
      mergedInto: this.meta('merged_into') ?? null,
      identities: this.sql
        .exec<{ kind: string; value: string }>(
          "SELECT kind, value FROM identities WHERE status != 'conflict'",
        )
        .toArray(),
      removed: counts,
    }
    await this.ctx.storage.deleteAlarm()
    this.alarmAt = undefined
    await this.ctx.storage.deleteAll()
    this.metaValues.forget()
    this.ledger.forget()
    this.outbox.forget()
    this.identities = undefined
    this.schema = migrateContactStorage(this.sql, 0)
    this.setMeta('erased_at', new Date().toISOString())
    this.sealingKey = undefined
    return report
  }

  /** A compliance officer lifted the suppression: this key may collect data again. */
  async liftSuppression(): Promise<boolean> {
    this.ensureSchema()
    const erased = this.meta('erased_at')
    if (erased) this.metaValues.delete('erased_at')
    return Boolean(erased)
  }

  /** Everything held about the person, for a data subject access request. */
  async exportAll(): Promise<ContactExport | null> {
    const result = await this.profile()
    if (!result.found) return null
    return {
      profile: result.profile,
      events: this.sql
        .exec<{ body: string }>('SELECT body FROM events ORDER BY timestamp, seq')
        .toArray()
        .map((row) => JSON.parse(row.body) as StoredEvent),
      consent: await this.consent(),
    }
  }

  /**
   * Called on an anonymous contact by the identified contact `into`. Hands over its whole state
   * and from then on forwards its events to `into`. An anonymous contact joins one identified
   * contact only: a second claimant is refused, so identified contacts never absorb each other
   * through a shared device id. The state stays here until `completeHandOver`, so a claimant
   * that fails before committing can ask again.
   */
  async handOver(into: string): Promise<HandOverResult> {
    if (this.meta('erased_at')) return { merged: false, reason: 'erased' }
    const current = this.meta('merged_into')
    if (current && current !== into) {
      return { merged: false, reason: `already merged into another identified contact` }
    }
    if (this.schema < FULL_SCHEMA) {
      // Nothing was ever stored here: leave only the forward pointer.
      this.schema = migrateContactStorage(this.sql, this.schema, 1)
      this.setMeta('merged_into', into)
      return { merged: true, state: EMPTY_HAND_OVER }
    }
    const state: HandOver = {
      events: this.sql
        .exec<{ id: string; body: string }>('SELECT id, body FROM events ORDER BY seq')
        .toArray(),
      traits: this.sql
        .exec<HandOver['traits'][number]>('SELECT key, value, updated_at, message_id FROM traits')
        .toArray(),
      traitChanges: this.sql
        .exec<HandOver['traitChanges'][number]>(
          'SELECT key, old_value, new_value, changed_at, message_id FROM trait_changes ORDER BY seq',
        )
        .toArray(),
      groups: this.sql
        .exec<HandOver['groups'][number]>(
          'SELECT group_id, traits, joined_at, updated_at FROM groups',
        )
        .toArray(),
      identities: this.sql
        .exec<HandOver['identities'][number]>(
          'SELECT kind, value, status, linked_at FROM identities',
        )
        .toArray(),
      dataKeys: this.sql
        .exec<HandOver['dataKeys'][number]>('SELECT key_id, raw, created_at FROM data_keys')
        .toArray(),
      consent: this.ledger.rows(),
      touches: this.touchesOf.rows(),
      lastActivity: this.touchesOf.lastActivity(),
    }
    this.setMeta('merged_into', into)
    return { merged: true, state }
  }

  /** The claimant committed the hand-over: drop the copy, keep only the forward pointer. */
  async completeHandOver(into: string): Promise<void> {
    // A pointer-only object (see handOver) has nothing to drop.
    if (this.schema < FULL_SCHEMA || this.meta('merged_into') !== into) return
    this.transaction(() => {
      // The outbox stays: what it has not shipped yet still belongs in D1 and the archive.
      for (const table of ERASED_TABLES) {
        if (table !== 'outbox') this.sql.exec(`DELETE FROM ${table}`)
      }
    })
    this.ledger.forget()
    this.identities = undefined
    this.sealingKey = undefined
  }

  /** Whether this object holds a contact, or where its contact moved. */
  async locate(): Promise<{ found: boolean; mergedInto?: string }> {
    const mergedInto = this.meta('merged_into')
    if (mergedInto) return { found: false, mergedInto }
    return { found: this.meta('key') !== undefined }
  }

  async profile(): Promise<ProfileResult> {
    this.ensureSchema()
    const mergedInto = this.meta('merged_into')
    if (mergedInto) return { found: false, mergedInto }
    const key = this.meta('key')
    if (!key) return { found: false }
    const all = this.counter(ALL)
    const identities = this.sql
      .exec<{
        kind: string
        value: string
        status: string
        linked_at: number
        detail: string | null
      }>('SELECT kind, value, status, linked_at, detail FROM identities ORDER BY linked_at')
      .toArray()
    return {
      found: true,
      profile: {
        key,
        userId: isAnonymousKey(key) ? null : key,
        anonymousIds: identities
          .filter((i) => i.kind === 'anonymousId' && i.status !== 'conflict')
          .map((i) => i.value),
        traits: this.traits(),
        traitHistory: this.sql
          .exec<{
            key: string
            old_value: string | null
            new_value: string
            changed_at: number
            message_id: string | null
          }>(
            'SELECT key, old_value, new_value, changed_at, message_id FROM trait_changes ORDER BY seq DESC LIMIT 200',
          )
          .toArray()
          .map((row) => ({
            key: row.key,
            from: row.old_value === null ? null : JSON.parse(row.old_value),
            to: JSON.parse(row.new_value),
            at: iso(row.changed_at),
            messageId: row.message_id,
          })),
        identities: identities.map((row) => ({
          kind: row.kind,
          value: row.value,
          status: row.status,
          linkedAt: iso(row.linked_at),
          ...(row.detail ? { detail: row.detail } : {}),
        })),
        groups: this.sql
          .exec<{ group_id: string; traits: string; joined_at: number }>(
            'SELECT group_id, traits, joined_at FROM groups',
          )
          .toArray()
          .map((row) => ({
            groupId: row.group_id,
            traits: JSON.parse(row.traits),
            joinedAt: iso(row.joined_at),
          })),
        counters: this.sql
          .exec<{ name: string; count: number; first_at: number; last_at: number }>(
            'SELECT name, count, first_at, last_at FROM counters WHERE name != ? ORDER BY count DESC',
            ALL,
          )
          .toArray()
          .map((row) => ({
            name: row.name,
            count: row.count,
            firstAt: iso(row.first_at),
            lastAt: iso(row.last_at),
          })),
        firstSeen: all ? iso(all.first_at) : null,
        lastSeen: all ? iso(all.last_at) : null,
        eventCount: all?.count ?? 0,
        consent: this.ledger.current(),
        touches: this.touchesOf
          .rows()
          .map(({ id: _id, at, ...touch }) => ({ at: iso(at), ...touch })),
      },
    }
  }

  /** Newest first by event time; the cursor is opaque to callers. */
  async timeline(options: { limit: number; cursor?: string | null }): Promise<TimelinePage> {
    this.ensureSchema()
    const [timestamp, seq] = decodeCursor(options.cursor)
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
      cursor: rows.length > options.limit && last ? `${last.timestamp}.${last.seq}` : null,
    }
  }

  /** Raw data keys of this contact (its own and those of contacts it absorbed). */
  async dataKeys(): Promise<{ keyId: string; raw: string }[]> {
    this.ensureSchema()
    return this.sql
      .exec<{ key_id: string; raw: string }>('SELECT key_id, raw FROM data_keys')
      .toArray()
      .map((row) => ({ keyId: row.key_id, raw: row.raw }))
  }

  /** Safety net: ships what a failed or interrupted send left in the outbox. */
  /**
   * The object's one alarm serves two schedules: shipping whatever the outbox still holds (the
   * safety net for a send interrupted after its commit), and pruning timeline events past the
   * raw-event retention once a day while the contact has events. It re-arms for the earlier of
   * the two. Both jobs are idempotent, since alarms are delivered at least once.
   */
  override async alarm(): Promise<void> {
    this.ensureSchema()
    this.alarmAt = undefined
    try {
      await this.outbox.sendStored()
    } finally {
      const now = Date.now()
      if (Number(this.meta('prune_due_at') ?? 0) <= now) await this.pruneExpiredEvents(now)
      const left = this.outbox.size()
      const prune = this.meta('prune_due_at')
      const next = left > 0 ? now + OUTBOX_RETRY_MS : prune ? Number(prune) : undefined
      if (next !== undefined) await this.armAlarm(next)
    }
  }

  private async pruneExpiredEvents(now: number) {
    const retention = await readRetention(this.env.DB)
    this.sql.exec('DELETE FROM events WHERE timestamp < ?', now - retention.rawEventsDays * DAY_MS)
    const left = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM events').one().n
    if (left > 0) this.setMeta('prune_due_at', String(now + DAY_MS))
    else this.metaValues.delete('prune_due_at')
  }

  /**
   * Makes sure an alarm fires within OUTBOX_RETRY_MS; cheap when one already will, so a busy
   * contact arms it once per window rather than once per event.
   */
  private async armSafetyAlarm() {
    const due = Date.now() + OUTBOX_RETRY_MS
    if (this.alarmAt !== undefined && this.alarmAt <= due) return
    if (!this.meta('prune_due_at')) this.setMeta('prune_due_at', String(Date.now() + DAY_MS))
    await this.armAlarm(due)
  }

  private async armAlarm(at: number) {
    await this.ctx.storage.setAlarm(at)
    this.alarmAt = at
  }

  private async absorbAnonymousContacts(key: string, events: IncomingEvent[]): Promise<void> {
    const candidates = new Set<string>()
    for (const event of events) {
      if (event.anonymousId) candidates.add(event.anonymousId)
      if (event.type === 'alias') {
        const previous = usableId(event.previousId)
        if (previous && previous !== key) candidates.add(previous)
      }
    }
    const known = this.identitySet()
    await Promise.all(
      [...candidates]
        .filter((id) => !known.has(`anonymousId:${id}`))
        .map((id) => this.absorb(key, id)),
    )
  }

  private async absorb(key: string, anonymousId: string): Promise<void> {
    const fromKey = anonymousKey(anonymousId)
    const source = contactStub(this.env, fromKey)
    const result = await source.handOver(key)
    const now = Date.now()
    if (!result.merged) {
      // An erased identifier is not linked again, not even as a conflict.
      if (result.reason === 'erased') return
      this.sql.exec(
        `INSERT OR IGNORE INTO identities (kind, value, status, linked_at, detail) VALUES ('anonymousId', ?, 'conflict', ?, ?)`,
        anonymousId,
        now,
        result.reason,
      )
      this.identities = undefined
      return
    }
    const { state } = result
    this.transaction(() => {
      for (const row of state.events) this.storeEvent(JSON.parse(row.body) as StoredEvent, row.body)
      for (const trait of state.traits) {
        this.applyTrait(trait.key, trait.value, trait.updated_at, trait.message_id, false)
      }
      for (const change of state.traitChanges) {
        this.sql.exec(
          'INSERT INTO trait_changes (key, old_value, new_value, changed_at, message_id) VALUES (?, ?, ?, ?, ?)',
          change.key,
          change.old_value,
          change.new_value,
          change.changed_at,
          change.message_id,
        )
      }
      for (const group of state.groups) {
        this.sql.exec(
          `INSERT INTO groups (group_id, traits, joined_at, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (group_id) DO UPDATE SET joined_at = MIN(joined_at, excluded.joined_at)`,
          group.group_id,
          group.traits,
          group.joined_at,
          group.updated_at,
        )
      }
      for (const identity of state.identities) {
        this.sql.exec(
          'INSERT OR IGNORE INTO identities (kind, value, status, linked_at) VALUES (?, ?, ?, ?)',
          identity.kind,
          identity.value,
          identity.status,
          identity.linked_at,
        )
      }
      for (const dataKey of state.dataKeys) {
        this.sql.exec(
          `INSERT OR IGNORE INTO data_keys (key_id, raw, created_at, origin) VALUES (?, ?, ?, ?)`,
          dataKey.key_id,
          dataKey.raw,
          dataKey.created_at,
          fromKey,
        )
      }
      this.ledger.import(state.consent)
      this.touchesOf.import(state.touches, state.lastActivity, MAX_IMPORTED_TOUCHES)
      this.sql.exec(
        `INSERT OR REPLACE INTO identities (kind, value, status, linked_at) VALUES ('anonymousId', ?, 'merged', ?)`,
        anonymousId,
        now,
      )
      this.enqueue({ kind: 'merge', from: fromKey, into: key, at: new Date(now).toISOString() })
    })
    this.identities = undefined
    await source.completeHandOver(key)
  }

  /** Inserts one event and updates the contact's counters and traits; false for a duplicate. */
  private storeEvent(event: StoredEvent, body: string): boolean {
    const at = Date.parse(event.timestamp)
    // RETURNING tells a stored row from an ignored duplicate; rowsWritten counts both.
    const inserted = this.sql
      .exec(
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
    if (inserted.length === 0) return false
    if (event.userId) this.linkIdentity('userId', event.userId, at)
    if (event.anonymousId) this.linkIdentity('anonymousId', event.anonymousId, at)
    if (event.enrichment.bot) return true
    this.count(ALL, at)
    this.count(counterName(event), at)
    if (event.type === 'identify' && event.traits) {
      for (const [name, value] of Object.entries(event.traits)) {
        this.applyTrait(name, JSON.stringify(value ?? null), at, event.messageId, true)
      }
      const email = event.traits.email
      if (typeof email === 'string' && email) this.linkIdentity('email', email.toLowerCase(), at)
    }
    if (event.type === 'group' && event.groupId) {
      this.sql.exec(
        `INSERT INTO groups (group_id, traits, joined_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (group_id) DO UPDATE SET traits = excluded.traits, updated_at = excluded.updated_at
         WHERE excluded.updated_at >= groups.updated_at`,
        event.groupId,
        JSON.stringify(event.traits ?? {}),
        at,
        at,
      )
    }
    return true
  }

  /**
   * Last write wins by event time, so an identify that arrives late (an offline queue flushing)
   * never overwrites a newer value; every change is kept in the history either way.
   */
  private applyTrait(
    name: string,
    value: string,
    at: number,
    messageId: string | null,
    record: boolean,
  ) {
    const current = this.sql
      .exec<{ value: string; updated_at: number }>(
        'SELECT value, updated_at FROM traits WHERE key = ?',
        name,
      )
      .toArray()[0]
    if (current && (current.value === value || current.updated_at > at)) return
    this.sql.exec(
      `INSERT INTO traits (key, value, updated_at, message_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
       message_id = excluded.message_id`,
      name,
      value,
      at,
      messageId,
    )
    if (record) {
      this.sql.exec(
        'INSERT INTO trait_changes (key, old_value, new_value, changed_at, message_id) VALUES (?, ?, ?, ?, ?)',
        name,
        current?.value ?? null,
        value,
        at,
        messageId,
      )
    }
  }

  /** Links an identifier unless already linked (most events repeat the contact's own ids). */
  private linkIdentity(kind: string, value: string, at: number) {
    const known = this.identitySet()
    const id = `${kind}:${value}`
    if (known.has(id)) return
    this.sql.exec(
      `INSERT OR IGNORE INTO identities (kind, value, status, linked_at) VALUES (?, ?, 'linked', ?)`,
      kind,
      value,
      at,
    )
    known.add(id)
  }

  /** Every identifier in the identities table, any status, as `kind:value`; kept in memory. */
  private identitySet(): Set<string> {
    this.identities ??= new Set(
      this.sql
        .exec<{ kind: string; value: string }>('SELECT kind, value FROM identities')
        .toArray()
        .map((row) => `${row.kind}:${row.value}`),
    )
    return this.identities
  }

  private count(name: string, at: number) {
    this.sql.exec(
      `INSERT INTO counters (name, count, first_at, last_at) VALUES (?, 1, ?, ?)
       ON CONFLICT (name) DO UPDATE SET count = count + 1,
       first_at = MIN(first_at, excluded.first_at), last_at = MAX(last_at, excluded.last_at)`,
      name,
      at,
      at,
    )
  }

  private counter(name: string) {
    return this.sql
      .exec<{ count: number; first_at: number; last_at: number }>(
        'SELECT count, first_at, last_at FROM counters WHERE name = ?',
        name,
      )
      .toArray()[0]
  }

  private traits(): Record<string, unknown> {
    const traits: Record<string, unknown> = {}
    for (const row of this.sql.exec<{ key: string; value: string }>(
      'SELECT key, value FROM traits',
    )) {
      traits[row.key] = JSON.parse(row.value)
    }
    return traits
  }

  private snapshot(key: string): ContactSnapshot {
    const version = Number(this.meta('version') ?? 0) + 1
    this.setMeta('version', String(version))
    const all = this.counter(ALL)
    const traits = this.traits()
    const email = typeof traits.email === 'string' ? traits.email.toLowerCase() : undefined
    const anonymousIds = this.sql
      .exec<{ value: string }>(
        "SELECT value FROM identities WHERE kind = 'anonymousId' AND status != 'conflict'",
      )
      .toArray()
      .map((row) => row.value)
    const now = Date.now()
    return {
      kind: 'contact',
      key,
      version,
      userId: isAnonymousKey(key) ? undefined : key,
      anonymousIds,
      email,
      traits,
      firstSeen: iso(all?.first_at ?? now),
      lastSeen: iso(all?.last_at ?? now),
      eventCount: all?.count ?? 0,
    }
  }

  /** An identifier-free copy of the event, so rollups still count it. */
  private enqueueWithheld(event: IncomingEvent) {
    const {
      ipHash: _ipHash,
      url: _url,
      referrer: _referrer,
      campaign: _campaign,
      ...enrichment
    } = event.enrichment
    const id = crypto.randomUUID()
    this.enqueue({
      kind: 'event',
      contactKey: WITHHELD_CONTACT,
      event: {
        id,
        messageId: id,
        type: event.type,
        event: event.type === 'track' ? event.event : undefined,
        context: {},
        timestamp: event.timestamp,
        receivedAt: event.receivedAt,
        sourceId: event.sourceId,
        enrichment,
      },
    })
  }

  private enqueue(message: QueuedMessage) {
    this.outbox.add(message)
  }

  /** Ships the outbox without holding up the caller; the alarm retries whatever fails. */
  private shipOutbox() {
    this.ctx.waitUntil(this.flushOutbox().catch(() => undefined))
  }

  private async flushOutbox(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true
      return
    }
    this.flushing = true
    try {
      do {
        this.flushAgain = false
        await this.outbox.sendPending()
      } while (this.flushAgain)
    } finally {
      this.flushing = false
    }
  }

  private async dataKey(): Promise<{ id: string; key: CryptoKey }> {
    this.sealingKey ??= (async () => {
      let row = this.sql
        .exec<{ key_id: string; raw: string }>(
          "SELECT key_id, raw FROM data_keys WHERE origin = 'own' ORDER BY created_at DESC LIMIT 1",
        )
        .toArray()[0]
      if (!row) {
        row = { key_id: crypto.randomUUID(), raw: generateDataKey() }
        this.sql.exec(
          `INSERT INTO data_keys (key_id, raw, created_at, origin) VALUES (?, ?, ?, 'own')`,
          row.key_id,
          row.raw,
          Date.now(),
        )
      }
      return { id: row.key_id, key: await importDataKey(row.raw) }
    })()
    return this.sealingKey
  }

  private meta(key: string): string | undefined {
    return this.metaValues.get(key)
  }

  /** One SQLite transaction; on a rollback the in-memory copies are dropped with it. */
  private transaction<T>(work: () => T): T {
    try {
      return this.ctx.storage.transactionSync(work)
    } catch (error) {
      this.metaValues.forget()
      this.ledger.forget()
      this.outbox.forget()
      this.identities = undefined
      throw error
    }
  }

  private ensureSchema() {
    this.schema = migrateContactStorage(this.sql, this.schema)
  }

  private setMeta(key: string, value: string) {
    this.metaValues.set(key, value)
  }
}

function counterName(event: StoredEvent): string {
  if (event.type === 'track') return event.event ?? 'track'
  return `$${event.type}`
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

const END = Number.MAX_SAFE_INTEGER

function decodeCursor(cursor: string | null | undefined): [number, number] {
  if (!cursor) return [END, END]
  const [timestamp, seq] = cursor.split('.').map(Number)
  if (!Number.isFinite(timestamp) || !Number.isFinite(seq)) return [END, END]
  return [timestamp!, seq!]
}
