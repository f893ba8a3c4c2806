import { DurableObject } from 'cloudflare:workers'
import { gpcDecision, mayMerge, mayStoreIdentified, type ConsentMode } from '../domain/consent'
import { anonymousKey, isAnonymousKey, usableId } from '../domain/identity'
import type { Env } from '../edge/env'
import { requestErasure } from '../edge/privacy/erasure'
import { identifierOfKey } from '../edge/privacy/identifiers'
import { readRetention } from '../edge/privacy/retention'
import { segmentConfig } from '../edge/segments/config'
import { isOwnEvent, type IncomingEvent, type StoredEvent } from '../contracts/stored-event'
import type { ContactSnapshot, QueuedMessage } from '../contracts/queue-messages'
import { contactAttribution } from './contact-configuration'
import { contactPredictionsConfig } from './contact-predictions'
import type { ContactPredictions } from '../domain/predictions/forecast'
import {
  affectedSegments,
  contactSegments,
  ownEvent,
  StoredContactFacts,
  addedEventsOnly,
  type SegmentChange,
  type SegmentPlan,
} from './contact-segments'
import { evaluate, nextChange } from '../domain/segments/evaluate'
import type { ContactFacts } from '../domain/segments/facts'
import type { ContactProfile } from '../contracts/contact-profile'
import type { ConsentRecord, LedgerRow } from './consent-ledger'
import { touchMessage } from './contact-attribution'
import { readActivationState, type ActivationState } from './activation'
import { ContactMeta } from './contact-meta'
import { contactStub } from './contact-client'
import { peerStub } from './contact-peer'
import {
  CONTACT_TABLES,
  FULL_SCHEMA,
  migrateContactStorage,
  SCHEDULE_TABLE,
  SCHEMA_VERSION_KEY,
  schemaVersion,
  storedSchema,
} from './contact-schema'
import { contactSnapshot, eventMessage, withheldEventMessage } from './contact-messages'
import { iso, type AbsorbContext, type Facet } from './facet'
import { createFacets, EMPTY_HAND_OVER, type ContactFacets } from './facets'
import { linkedEmail } from './facets/identities'
import type {
  ConsentOutcome,
  ConsentView,
  ContactExport,
  ErasureReport,
  HandOver,
  HandOverResult,
  IngestOptions,
  IngestResult,
  MergeConsent,
  MergeTerms,
  ProfileResult,
  TimelinePage,
} from './contact-rpc'
import { emailDirectory } from './identity-directory'
import {
  ALL_MARKETING_GROUP,
  EMAIL_FAILED_EVENT,
  EMAIL_SENT_EVENT,
  FEEDBACK_EVENTS,
  type Attempt,
  type Feedback,
  type MessageStatus,
  type SendJob,
  type TemplateKind,
} from '../contracts/messaging'
import {
  capReached,
  knownTimeZone,
  quietUntil,
  reachable,
  statusAfter,
} from '../domain/messaging/policy'
import {
  CLAIM_LEASE_MS,
  messageReport,
  messageView,
  REDISPATCH_MS,
  subscriptionMessage,
  type ClaimResult,
  type CreateResult,
  type MessageRequest,
  type Settlement,
  type SubscriptionSource,
} from './contact-messaging'
import type { MessageRow } from './facets/messaging'
import type { Move } from './facets/memberships'
import { COUNTED_PROPERTIES_KEY } from './facets/events'
import { Outbox, type Resend } from './outbox'
import { forgetJourneyConfig, journeyDefinition } from '../edge/journeys/config'
import { matchesWhere } from '../domain/journeys/engine'
import { mapNode } from '../domain/journeys/migrate'
import { ADDED_TO_LIST_EVENT, REMOVED_FROM_LIST_EVENT } from '../domain/journeys/own-events'
import type { RunView } from './facets/journeys'
import {
  JOURNEY_TIMER,
  JourneyRound,
  loadJourneyPlan,
  timerId,
  type JourneyHost,
  type JourneyPlan,
} from './contact-journeys'
import { RETRY_MS, Scheduler } from './scheduler'

/**
 * An object whose sends are not confirmed yet keeps an `outbox` job due this soon, so what it
 * acknowledged reaches D1 within minutes even if the runtime dies before its send (the consumer
 * drops what arrives twice). Data is to be queryable within 5 minutes of ingestion.
 */
const OUTBOX_SWEEP_MS = 2 * 60_000

/** The tables of a contact whose schema was just created. */
const NEW_CONTACT: Omit<ActivationState, 'meta'> = {
  identities: [],
  traits: [],
  total: null,
  siteLastAt: null,
  ownDataKey: null,
  consentRows: 0,
  outboxRows: 0,
  lastSeq: 0,
  schedule: [],
  memberships: [],
  // No events yet: the copy of counted events starts empty and every insert joins it.
  counted: '[]',
}

const DAY_MS = 86_400_000

/**
 * A purchase brings the `predictions` job this close, so D1's contact_predictions (the at-risk
 * list, SQL segments) follows a purchase within minutes rather than the next day.
 */
const PURCHASE_PROJECTION_MS = 60_000

/** The meta key holding the address that bounced hard or complained: no marketing goes to it. */
const SUPPRESSED_ADDRESS_KEY = 'suppressed_address'

type MessagePayload = { data: Record<string, unknown>; event: Record<string, unknown> | null }

/** The meta key naming the segment configuration this contact's memberships follow. */
const SEGMENTS_VERSION_KEY = 'segments_version'

/** What a change of the contact is evaluated against: its segments, then its journeys. */
interface ChangePlans {
  segments: SegmentPlan
  journeys: JourneyPlan
}

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
  private readonly facets: ContactFacets
  private readonly scheduler: Scheduler
  /** Migrations applied so far (see contact-schema.ts); raised to full on first real use. */
  private schema: number
  /** Own events stored in the current transaction, for journeys to see (contact-journeys.ts). */
  private ownEvents: StoredEvent[] = []
  /** The seq of the newest own event stored in the current transaction. */
  private ownSeq = 0
  /** A transaction made a message due now: `ship` hands it to the send queue at once. */
  private messageDue = false

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.metaValues = new ContactMeta(this.sql, () => this.schema > 0)
    this.outbox = new Outbox(
      this.sql,
      this.metaValues,
      () => ({ events: env.EVENTS, conversions: env.CONVERSIONS }),
      (after, upTo) => this.resendEvents(after, upTo),
    )
    this.facets = createFacets(this.sql, this.metaValues)
    this.scheduler = new Scheduler(ctx.storage, () => this.schema >= SCHEDULE_TABLE)
    // Asked first: a new object is common (every first visit), and letting the activation query
    // fail on its missing tables cost about 0.27 ms, most of its wake-up (docs/design/contact-state.md).
    const stored = storedSchema(this.sql)
    this.schema =
      stored === 'contact'
        ? this.wake(readActivationState(this.sql))
        : schemaVersion(this.sql, stored)
  }

  /** Fills the in-memory copies from what the object read when it woke; returns its schema. */
  private wake(state: ActivationState): number {
    this.metaValues.prime(state.meta)
    this.primeCopies(state)
    return Number(this.meta(SCHEMA_VERSION_KEY) ?? FULL_SCHEMA)
  }

  /** The copies of the contact's tables, from their rows (meta aside). */
  private primeCopies(state: Omit<ActivationState, 'meta'>) {
    for (const facet of this.facetList()) facet.prime(state)
    this.outbox.inherit({ rows: state.outboxRows, lastSeq: state.lastSeq })
    this.scheduler.prime(state.schedule)
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
    // Before anything stores an event: a merge stores the absorbed contact's here too.
    await this.configurePredictions(options.predictionsVersion ?? null)
    // Consent is decided before anything links an identifier: a merge needs it as much as an
    // event does, and the grant may live in the ledger of a contact about to be merged.
    const absorbed = isAnonymousKey(key)
      ? { mayLink: true, erased: new Set<string>() }
      : await this.absorbAnonymousContacts(key, events, options.consentMode)
    const mayLink = absorbed.mayLink
    // An erased anonymous id stays erased: the events keep their user, not that identifier.
    if (absorbed.erased.size > 0) events = withoutIdentifiers(events, absorbed.erased)
    // Erased while a hand-over was under way: the tombstone drops these as any later event.
    if (this.meta('erased_at')) return { ...result, suppressed: events.length }
    // Read after the waits, so that a decision recorded meanwhile applies here.
    let consent = this.facets.consent.current()
    const gpc = options.gpc ? gpcDecision(consent) : null
    if (!mayLink || !mayStoreIdentified(options.consentMode, consent)) {
      await this.withhold(events)
      return { ...result, withheld: events.length }
    }

    await this.registerNewEmails(key, events)
    const [attribution, segments, journeys] = await Promise.all([
      contactAttribution(this.env, options.attributionVersion),
      contactSegments(this.env, options.segmentsVersion, this.meta(SEGMENTS_VERSION_KEY)),
      loadJourneyPlan(this.env, this.facets.journeys.active()),
    ])
    const plans: ChangePlans = { segments, journeys }
    const sealing = await this.dataKey()
    const prepared = await Promise.all(
      events.map(async (incoming) => {
        const event: StoredEvent = { ...incoming, id: crypto.randomUUID() }
        const body = JSON.stringify(event)
        return { event, body, message: await eventMessage(key, event, body, sealing) }
      }),
    )

    let stored = 0
    const overruled = this.transaction(() => {
      // The waits above let other calls in: an erasure or a withdrawal made meanwhile wins, and
      // a contact handed over meanwhile stores nothing more here (its tables are about to go).
      if (this.meta('erased_at')) return 'erased'
      if (this.meta('merged_into')) return 'merged'
      if (!mayStoreIdentified(options.consentMode, this.facets.consent.current())) return 'withheld'
      this.setMeta('key', key)
      if (gpc) {
        this.facets.consent.append({
          purposes: gpc,
          policyVersion: 'gpc',
          source: 'gpc',
          method: 'gpc',
        })
        consent = this.facets.consent.current()
        this.enqueue({
          kind: 'consent',
          contactKey: key,
          state: consent,
          at: new Date().toISOString(),
        })
      }
      let lastSeq = 0
      const storedEvents: StoredEvent[] = []
      let activity = false
      for (const { event, body, message } of prepared) {
        const seq = this.storeEvent(event, body)
        if (seq === null) continue
        lastSeq = seq
        stored++
        storedEvents.push(event)
        this.outbox.addFromEvents(message, seq)
        if (!event.enrichment.bot) {
          const { touch, conversion } = this.facets.touches.observe(key, event, attribution)
          if (touch) this.outbox.addFromEvents(touch, seq)
          if (conversion) this.enqueue(conversion)
          if (!isOwnEvent(event)) {
            this.schedulePredictions(event)
            activity = true
          }
        }
      }
      if (stored > 0 || gpc) {
        const change = { events: storedEvents, consent: gpc !== null, predictions: activity }
        lastSeq = Math.max(lastSeq, this.updateSegments(key, plans, change))
      }
      if (lastSeq > 0) this.outbox.addFromEvents(this.snapshot(key, lastSeq), lastSeq)
      return null
    })
    if (overruled === 'erased') return { ...result, suppressed: events.length }
    if (overruled === 'merged') {
      const into = this.meta('merged_into')!
      return contactStub(this.env, into).ingest(into, events, options)
    }
    if (overruled === 'withheld') {
      await this.withhold(events)
      return { ...result, withheld: events.length }
    }
    if (stored > 0 || gpc) await this.ship()
    return { ...result, stored, duplicates: events.length - stored }
  }

  /**
   * Appends a consent decision to the ledger (`/v1/consent`, the API, an import), unless it is
   * already in force. An erased person's decision is not stored: their identifiers are
   * suppressed, as for their events; the outcome says so, and the edge words the answer.
   */
  async recordConsent(key: string, record: ConsentRecord): Promise<ConsentOutcome> {
    if (this.meta('erased_at')) return { status: 'suppressed' }
    const forward = this.meta('merged_into')
    if (forward) return contactStub(this.env, forward).recordConsent(forward, record)
    this.ensureSchema()
    const segments = await this.currentSegments()
    // Decided in the turn that writes, so two copies of one decision racing in append it once.
    const status = this.transaction(() => {
      if (this.meta('erased_at')) return 'suppressed'
      // Handed over while the segments were read: the decision belongs to the new owner.
      if (this.meta('merged_into')) return 'merged'
      if (this.facets.consent.repeats(record)) return 'repeated'
      this.setMeta('key', key)
      this.facets.consent.append(record)
      this.enqueue({
        kind: 'consent',
        contactKey: key,
        state: this.facets.consent.current(),
        at: new Date().toISOString(),
      })
      this.updateSegmentsWithSnapshot(key, segments, { consent: true })
      return 'recorded'
    })
    if (status === 'suppressed') return { status }
    if (status === 'merged') {
      const into = this.meta('merged_into')!
      return contactStub(this.env, into).recordConsent(into, record)
    }
    if (status === 'recorded') await this.ship()
    return { status, contactKey: key, ...(await this.consent()) }
  }

  /** Callers resolve merges first (contact-client.ts resolveContact). */
  async consent(): Promise<ConsentView> {
    this.ensureSchema()
    return { current: this.facets.consent.current(), ledger: this.facets.consent.rows() }
  }

  /**
   * Removes everything this object holds about the person (events, traits, consent, identities,
   * data keys: the archive copies become unreadable) and its alarm, and leaves a tombstone
   * without identifiers so that late or replayed events for this key are dropped.
   */
  async erase(): Promise<ErasureReport> {
    this.ensureSchema()
    const counts: Record<string, number> = {}
    for (const table of [...this.facetTables(), 'outbox']) {
      counts[table] = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n
    }
    const report: ErasureReport = {
      key: this.meta('key') ?? null,
      mergedInto: this.meta('merged_into') ?? null,
      identities: this.facets.identities.linked(),
      removed: counts,
    }
    await this.ctx.storage.deleteAlarm()
    await this.ctx.storage.deleteAll()
    this.metaValues.forget()
    this.outbox.forget()
    this.forgetCopies()
    this.schema = migrateContactStorage(this.ctx.storage, 0)
    this.setMeta('erased_at', new Date().toISOString())
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
      events: this.facets.events.all(),
      consent: await this.consent(),
    }
  }

  /**
   * Called on an anonymous contact by the identified contact `into`. Hands over its whole state
   * and from then on forwards its events to `into`. An anonymous contact joins one identified
   * contact only: a second claimant is refused, so identified contacts never absorb each other
   * through a shared device id. The state stays here until `completeHandOver`, so a claimant
   * that fails before committing can ask again.
   *
   * Consent is decided here, on the claimant's ledger and this one's together, in the same turn
   * that sets the forward pointer: a withdrawal recorded under this id just before cannot be
   * missed, and without the consent the merge needs nothing changes here.
   */
  async handOver(into: string, terms: MergeTerms): Promise<HandOverResult> {
    if (this.meta('erased_at')) return { merged: false, reason: 'erased' }
    const current = this.meta('merged_into')
    if (current && current !== into) return { merged: false, reason: 'claimed' }
    // Already handed to this claimant (which asks again after a failure): decided then.
    if (!current && !mayMerge(terms.consentMode, [terms.ledger, this.consentRows()])) {
      return { merged: false, reason: 'no_consent' }
    }
    if (this.schema < CONTACT_TABLES) {
      // Nothing was ever stored here: leave only the forward pointer.
      this.schema = migrateContactStorage(this.ctx.storage, this.schema, 1)
      this.setMeta('merged_into', into)
      return { merged: true, state: EMPTY_HAND_OVER, pointerOnly: true }
    }
    this.ensureSchema()
    const state = Object.fromEntries(
      Object.entries(this.facets).map(([name, facet]) => [name, facet.handOver()]),
    ) as HandOver
    this.setMeta('merged_into', into)
    return { merged: true, state, pointerOnly: false }
  }

  /**
   * The ledger this anonymous contact would bring into `into` (a read: nothing changes), for a
   * claimant that merges several at once and must weigh them together before it asks any.
   */
  async mergeConsent(into: string): Promise<MergeConsent> {
    if (this.meta('erased_at')) return { available: false, reason: 'erased' }
    const current = this.meta('merged_into')
    if (current && current !== into) return { available: false, reason: 'claimed' }
    return { available: true, ledger: this.consentRows() }
  }

  /**
   * The claimant decided against the merge after the hand-over (consent withdrawn or the person
   * erased meanwhile): this contact is its own again, with everything it held.
   */
  async cancelHandOver(into: string): Promise<void> {
    if (this.meta('merged_into') === into) this.metaValues.delete('merged_into')
  }

  /** The ledger's rows, none for an object that never stored anything (and stays so). */
  private consentRows(): LedgerRow[] {
    if (this.schema < CONTACT_TABLES) return []
    this.ensureSchema()
    return this.facets.consent.rows()
  }

  /** The claimant committed the hand-over: drop the copy, keep only the forward pointer. */
  async completeHandOver(into: string): Promise<void> {
    if (this.meta('merged_into') !== into) return
    this.ensureSchema()
    // What was not sent yet still belongs in D1 and the archive: it stays, in the outbox table.
    const unsent = await this.resendEvents(this.outbox.mark())
    this.transaction(() => {
      // Not the snapshot: the contact it describes is the claimant now.
      for (const message of unsent?.messages ?? []) {
        if (message.kind !== 'contact') this.enqueue(message)
      }
      for (const table of this.facetTables()) this.sql.exec(`DELETE FROM ${table}`)
    })
    this.forgetCopies()
    await this.ship()
  }

  /** Whether the person this key named was erased (and not let back since). */
  async erased(): Promise<boolean> {
    return this.meta('erased_at') !== undefined
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
    const parts = this.facetList().map((facet) => facet.profile())
    return {
      found: true,
      profile: Object.assign(
        { key, userId: isAnonymousKey(key) ? null : key },
        ...parts,
      ) as ContactProfile,
    }
  }

  /** Newest first by event time, after the position of a previous page's `next`. */
  async timeline(options: {
    limit: number
    after?: readonly [number, number] | null
  }): Promise<TimelinePage> {
    this.ensureSchema()
    return this.facets.events.timeline(options)
  }

  /** Raw data keys of this contact (its own and those of contacts it absorbed). */
  async dataKeys(): Promise<{ keyId: string; raw: string }[]> {
    this.ensureSchema()
    return this.facets.dataKeys.all()
  }

  /** The scheduler's jobs (scheduler.ts), each idempotent: an alarm may come twice. */
  override async alarm(): Promise<void> {
    this.ensureSchema()
    await this.scheduler.run({
      outbox: (_, now) => this.sweepOutbox(now),
      retention: (_, now) => this.applyRetention(now),
      segments: (_, now) => this.segmentWindows(now),
      messages: (_, now) => this.dispatchMessages(now),
      predictions: (_, now) => this.refreshPredictions(now),
      [JOURNEY_TIMER]: (entry, now) => this.wakeJourney(entry.payload, now),
    })
  }

  /**
   * A journey run's timer (contact-journeys.ts): its wait ran out. Idempotent: a repeated alarm
   * finds the run moved on and does nothing. A paused journey's run stays where it is; its resume
   * wakes it.
   */
  private async wakeJourney(runId: string | null, now: number): Promise<number | null> {
    const key = this.meta('key')
    if (!key || !runId || this.meta('merged_into') || this.meta('erased_at')) return null
    const waiting = this.facets.journeys.run(runId)
    if (waiting?.state !== 'active' || waiting.wakeAt === null) return null
    if (waiting.wakeAt > now) return waiting.wakeAt
    const plans = await this.currentSegments()
    this.transaction(() => {
      const run = this.facets.journeys.run(runId)
      if (this.meta('erased_at') || this.meta('merged_into') || run?.state !== 'active') return
      this.journeyRound(key, plans, now)?.wake(run)
      if (this.ownSeq > 0) this.outbox.addFromEvents(this.snapshot(key, this.ownSeq), this.ownSeq)
    })
    await this.ship()
    const after = this.facets.journeys.run(runId)
    const next = after?.state === 'active' ? after.wakeAt : null
    return next !== null && next > now ? next : null
  }

  /**
   * `POST /api/journeys/:id/enter`: the contact enters a live journey whose entry is the API, as
   * its re-entry rule allows. Callers resolve the contact first.
   */
  async enterJourney(
    key: string,
    journeyId: string,
    data: Record<string, unknown>,
  ): Promise<{ found: boolean; runId?: string; refused?: string }> {
    if (this.meta('erased_at') || !this.meta('key')) return { found: false }
    const forward = this.meta('merged_into')
    if (forward) return contactStub(this.env, forward).enterJourney(forward, journeyId, data)
    this.ensureSchema()
    const plans = await this.currentSegments()
    const now = Date.now()
    const outcome = this.transaction(() => {
      if (this.meta('erased_at') || this.meta('merged_into')) return null
      const round = this.journeyRound(key, plans, now)
      const result = round?.enterByApi(journeyId, data) ?? { refused: 'the journey is not live' }
      if (this.ownSeq > 0) this.outbox.addFromEvents(this.snapshot(key, this.ownSeq), this.ownSeq)
      return result
    })
    if (!outcome) return this.enterJourney(key, journeyId, data)
    await this.ship()
    return { found: true, ...outcome }
  }

  /**
   * A paused journey resumed (edge/journeys/fanout.ts): waits that ran out meanwhile go on, and
   * a waitFor whose event came meanwhile takes it, as if the pause had held only the steps.
   */
  async resumeJourney(key: string, journeyId: string): Promise<void> {
    if (this.meta('erased_at') || this.meta('key') !== key || this.meta('merged_into')) return
    this.ensureSchema()
    // This isolate may still hold the configuration from before the resume (a few seconds):
    // read as it is now, or the runs would stay held with nothing left to wake them.
    forgetJourneyConfig()
    const plans = await this.currentSegments()
    const now = Date.now()
    this.transaction(() => {
      if (this.meta('erased_at') || this.meta('merged_into')) return
      const facts = this.contactFacts(key, plans.segments, now)
      this.journeyRound(key, plans, now)?.resume(journeyId, (run, definition) => {
        const node = definition.nodes[run.node]
        const since = this.facets.journeys.waitingSince(run.id)
        if (node?.type !== 'waitFor' || since === null) return null
        const found = facts
          .events(node.performed)
          .filter((e) => e.at >= since && matchesWhere(e.properties, node.where))
          .sort((a, b) => a.at - b.at)[0]
        return found ? { ...found, name: node.performed } : null
      })
      if (this.ownSeq > 0) this.outbox.addFromEvents(this.snapshot(key, this.ownSeq), this.ownSeq)
    })
    await this.ship()
  }

  /**
   * Moves this contact's runs waiting in version `from` of a journey to version `to`, each to
   * the node the map names (or the node of the same id and type); a run with nowhere to go stays
   * where it is. The route checked the map against both versions.
   */
  async migrateRuns(
    key: string,
    journeyId: string,
    from: number,
    to: number,
    nodeMap: Record<string, string>,
  ): Promise<{ migrated: number; stayed: number }> {
    const none = { migrated: 0, stayed: 0 }
    if (this.meta('erased_at') || this.meta('key') !== key || this.meta('merged_into')) return none
    this.ensureSchema()
    const [plans, source, target] = await Promise.all([
      this.currentSegments(),
      journeyDefinition(this.env, journeyId, from),
      journeyDefinition(this.env, journeyId, to),
    ])
    if (!source || !target) return none
    const definitions = new Map(plans.journeys.definitions)
    definitions.set(`${journeyId}:${to}`, target)
    const withTarget = { ...plans, journeys: { ...plans.journeys, definitions } }
    const now = Date.now()
    const moved = this.transaction(() => {
      const counts = { ...none }
      const round = this.journeyRound(key, withTarget, now)
      for (const run of this.facets.journeys.active()) {
        if (run.journeyId !== journeyId || run.version !== from) continue
        const node = mapNode(nodeMap, source, target, run.node)
        if (node === null || !round) counts.stayed++
        else {
          round.migrate(run, to, node)
          counts.migrated++
        }
      }
      if (this.ownSeq > 0) this.outbox.addFromEvents(this.snapshot(key, this.ownSeq), this.ownSeq)
      return counts
    })
    if (moved.migrated > 0) await this.ship()
    return moved
  }

  /** The contact's journey runs with their step logs (`GET /api/contacts/:id/journeys`). */
  async journeyRuns(): Promise<RunView[] | null> {
    if (this.meta('erased_at') || this.meta('merged_into') || !this.meta('key')) return null
    this.ensureSchema()
    return this.facets.journeys.views()
  }

  /**
   * The contact's predictions now (`GET /api/contacts/:id/predictions`), under the newest
   * settings and fit. Callers resolve merges first; null for no contact here.
   */
  async predictions(): Promise<ContactPredictions | null> {
    if (this.meta('erased_at') || this.meta('merged_into') || !this.meta('key')) return null
    this.ensureSchema()
    await this.configurePredictions(null)
    return this.facets.predictions.predict(Date.now())
  }

  /**
   * The `predictions` job, daily while the contact is active (and a minute after a purchase):
   * decays engagement, projects the predictions to D1's contact_predictions and moves the
   * segments that read them. Idempotent: run twice, it projects the same numbers twice.
   */
  private async refreshPredictions(now: number): Promise<number | null> {
    const key = this.meta('key')
    if (!key || this.meta('merged_into') || this.meta('erased_at')) return null
    const segments = await this.currentSegments()
    const active = this.transaction(() => {
      if (this.meta('erased_at') || this.meta('merged_into')) return false
      const predictions = this.facets.predictions
      predictions.decay(now)
      const { engagement, churnRisk, lapseRisk, pAlive, clv } = predictions.predict(now)
      this.enqueue({
        kind: 'prediction',
        contactKey: key,
        engagement,
        churnRisk,
        lapseRisk,
        pAlive,
        clv,
        at: iso(now),
      })
      this.updateSegmentsWithSnapshot(key, segments, { predictions: true })
      return predictions.active(now)
    })
    await this.dispatchIfDue()
    // A failed send is the outbox job's to retry (the transaction scheduled it).
    await this.outbox.send().catch(() => undefined)
    return active ? now + DAY_MS : null
  }

  /**
   * Puts the contact on a manual list or takes it off (`POST/DELETE /api/lists/:id/members`),
   * with an `Added to List` / `Removed from List` event, and re-evaluates the segments that
   * read the list. Callers resolve merges first; `found` is false for no contact here, `changed`
   * false when it already was (or was not) on the list.
   */
  async setList(
    key: string,
    listId: string,
    member: boolean,
  ): Promise<{ found: boolean; changed: boolean }> {
    if (this.meta('erased_at') || this.meta('merged_into') || !this.meta('key')) {
      return { found: false, changed: false }
    }
    this.ensureSchema()
    const segments = await this.currentSegments()
    const outcome = this.transaction(() => {
      if (this.meta('erased_at')) return 'gone'
      if (this.meta('merged_into')) return 'merged'
      const now = Date.now()
      if (!this.facets.memberships.set('list', listId, member, now)) return 'unchanged'
      const name = member ? ADDED_TO_LIST_EVENT : REMOVED_FROM_LIST_EVENT
      const event = ownEvent(key, name, { listId }, now)
      const seq = this.storeOwnEvent(key, event)
      const lastSeq = Math.max(seq, this.updateSegments(key, segments, { lists: [listId] }))
      this.outbox.addFromEvents(this.snapshot(key, lastSeq), lastSeq)
      return 'changed'
    })
    if (outcome === 'gone') return { found: false, changed: false }
    if (outcome === 'merged') {
      const into = this.meta('merged_into')!
      return contactStub(this.env, into).setList(into, listId, member)
    }
    if (outcome === 'changed') await this.ship()
    return { found: true, changed: outcome === 'changed' }
  }

  /**
   * Makes a message for this contact (docs/design/messaging.md): the message its idempotency key
   * made before, or a new one whose status says at once whether it may go (`queued`, due now or
   * when quiet hours end) or why not (`no_consent`, `suppressed`, `capped`), recorded either way.
   */
  async createMessage(key: string, request: MessageRequest): Promise<CreateResult> {
    if (this.meta('erased_at') || !this.meta('key')) return { found: false }
    const forward = this.meta('merged_into')
    if (forward) return contactStub(this.env, forward).createMessage(forward, request)
    this.ensureSchema()
    const now = Date.now()
    const outcome = this.transaction(() =>
      this.meta('erased_at') || this.meta('merged_into')
        ? null
        : this.makeMessage(key, request, now),
    )
    if (!outcome) return this.createMessage(key, request)
    if (!outcome.duplicate) await this.ship()
    return { found: true, message: messageView(outcome.row, outcome.duplicate) }
  }

  /**
   * The message an idempotency key made before, or a new one with the status messaging's rules
   * give it now (docs/design/messaging.md); inside the caller's transaction. A message due now
   * is handed to the send queue by the `ship` that follows.
   */
  private makeMessage(
    key: string,
    request: MessageRequest,
    now: number,
  ): { row: MessageRow; duplicate: boolean } {
    const messaging = this.facets.messaging
    const known = messaging.byIdempotencyKey(request.idempotencyKey)
    if (known) return { row: known, duplicate: true }
    const verdict = this.reachability(request.kind, request.groupId, request.groupDefault)
    let status: MessageStatus = 'queued'
    let reason: string | null = null
    let dueAt: number | null = now
    const { frequencyCap, quietHours } = request.rules
    if (!verdict.ok) [status, reason, dueAt] = [verdict.status, verdict.reason, null]
    else if (request.kind === 'marketing' && frequencyCap) {
      if (capReached(messaging.marketingSince(now - frequencyCap.perMs), frequencyCap, now)) {
        ;[status, reason, dueAt] = ['capped', 'frequency cap reached', null]
      }
    }
    if (status === 'queued' && request.kind === 'marketing' && quietHours) {
      dueAt = quietUntil(now, quietHours, this.timeZone(request.rules.timeZone)) ?? now
    }
    const row: MessageRow = {
      id: `msg_${crypto.randomUUID()}`,
      idempotency_key: request.idempotencyKey,
      template_id: request.templateId,
      journey_id: request.journeyId ?? null,
      kind: request.kind,
      group_id: request.groupId,
      status,
      reason,
      attempts: '[]',
      subject: null,
      payload: JSON.stringify({ data: request.data ?? {}, event: request.event ?? null }),
      due_at: dueAt,
      dispatched_at: null,
      lease_until: null,
      created_at: now,
      updated_at: now,
      sent_at: null,
      provider_message_id: null,
      version: 1,
    }
    messaging.insert(row)
    this.enqueue(messageReport(key, row))
    if (dueAt !== null) this.scheduler.scheduleBy('messages', dueAt, 'messages')
    if (dueAt !== null && dueAt <= now) this.messageDue = true
    return { row, duplicate: false }
  }

  /**
   * Gives a send consumer a queued message to send, once at a time (a lease), after checking
   * again, now, that the contact may get it: consent withdrawn, an unsubscribe or a bounce since
   * the message was made stop it here, recorded on the message.
   */
  async claimMessage(key: string, messageId: string): Promise<ClaimResult> {
    if (this.meta('erased_at')) return { claimed: false, status: 'unknown' }
    const forward = this.meta('merged_into')
    if (forward) return contactStub(this.env, forward).claimMessage(forward, messageId)
    if (this.meta('key') !== key) return { claimed: false, status: 'unknown' }
    this.ensureSchema()
    const now = Date.now()
    const result = this.transaction((): ClaimResult => {
      const row = this.facets.messaging.message(messageId)
      if (!row) return { claimed: false, status: 'unknown' }
      if (row.status !== 'queued') return { claimed: false, status: row.status }
      if ((row.lease_until ?? 0) > now) {
        return { claimed: false, status: 'held', retryAfterMs: row.lease_until! - now }
      }
      // Not due yet (quiet hours): its own dispatch will come.
      if ((row.due_at ?? 0) > now) return { claimed: false, status: 'waiting' }
      const verdict = this.reachability(row.kind, row.group_id, null)
      if (!verdict.ok) {
        const update = { status: verdict.status, reason: verdict.reason, lease_until: null }
        this.enqueue(messageReport(key, this.facets.messaging.update(row.id, update, now)))
        return { claimed: false, status: verdict.status }
      }
      this.facets.messaging.update(row.id, { lease_until: now + CLAIM_LEASE_MS }, now)
      const traits = this.facets.traits.all()
      const payload = JSON.parse(row.payload) as MessagePayload
      return {
        claimed: true,
        message: {
          messageId: row.id,
          idempotencyKey: row.idempotency_key,
          templateId: row.template_id,
          kind: row.kind,
          groupId: row.group_id,
          to: String(traits.email),
          contact: { key, traits },
          account: this.facets.groups.accountTraits()[0] ?? null,
          event: payload.event,
          data: payload.data,
          attempts: JSON.parse(row.attempts) as Attempt[],
        },
      }
    })
    if (!result.claimed && !['unknown', 'held', 'waiting'].includes(result.status)) {
      await this.ship()
    }
    return result
  }

  /**
   * Records how a claimed send ended: `sent` (with `Email Sent` on the timeline), `failed` (with
   * `Email Failed`, so a journey or segment can react) or `retry` (the lease ends and the queue's
   * next delivery claims it again). Only the claimed message's first settlement counts.
   */
  async settleMessage(key: string, messageId: string, settlement: Settlement): Promise<boolean> {
    if (this.meta('erased_at')) return false
    const forward = this.meta('merged_into')
    if (forward) return contactStub(this.env, forward).settleMessage(forward, messageId, settlement)
    if (this.meta('key') !== key) return false
    this.ensureSchema()
    const segments = await this.currentSegments()
    const now = Date.now()
    const settled = this.transaction(() => {
      const row = this.facets.messaging.message(messageId)
      if (!row || row.status !== 'queued') return false
      const attempts = JSON.stringify(settlement.attempts)
      const subject = settlement.subject ?? row.subject
      if (settlement.outcome === 'retry') {
        const update = { attempts, subject, lease_until: null, dispatched_at: now }
        this.enqueue(messageReport(key, this.facets.messaging.update(row.id, update, now)))
        return true
      }
      const sent = settlement.outcome === 'sent'
      const updated = this.facets.messaging.update(
        row.id,
        sent
          ? {
              status: 'sent',
              attempts,
              subject,
              lease_until: null,
              sent_at: now,
              provider_message_id: settlement.providerMessageId ?? null,
            }
          : { status: 'failed', reason: settlement.error, attempts, subject, lease_until: null },
        now,
      )
      const properties = {
        messageId: row.id,
        templateId: row.template_id,
        journeyId: row.journey_id,
        ...(sent
          ? { provider: settlement.provider }
          : { error: settlement.error, attempts: settlement.attempts.length }),
      }
      const event = ownEvent(key, sent ? EMAIL_SENT_EVENT : EMAIL_FAILED_EVENT, properties, now)
      let lastSeq = this.storeOwnEvent(key, event)
      if (sent) {
        const fact = {
          id: event.id,
          message_id: row.id,
          kind: 'sent',
          template_id: row.template_id,
          at: now,
        }
        this.facets.messaging.addEvent(fact)
        this.enqueue(messageReport(key, updated, fact))
      } else this.enqueue(messageReport(key, updated))
      // Journeys see `Email Sent` and `Email Failed` (a failure can open a support ticket).
      const change = sent ? { messages: true } : {}
      lastSeq = Math.max(lastSeq, this.updateSegments(key, segments, change))
      this.outbox.addFromEvents(this.snapshot(key, lastSeq), lastSeq)
      return true
    })
    if (settled) await this.ship()
    return settled
  }

  /**
   * A provider's report on a sent message (edge/messaging/webhooks), applied once: an event on
   * the timeline, the status moved forward, and for a hard bounce or a complaint the address
   * suppressed for marketing; an unsubscribe reported by the provider is the contact's choice.
   */
  async recordFeedback(
    key: string,
    feedback: Feedback,
  ): Promise<{ found: boolean; applied: boolean }> {
    if (this.meta('erased_at')) return { found: false, applied: false }
    const forward = this.meta('merged_into')
    if (forward) return contactStub(this.env, forward).recordFeedback(forward, feedback)
    if (this.meta('key') !== key) return { found: false, applied: false }
    this.ensureSchema()
    const segments = await this.currentSegments()
    const now = Date.now()
    const outcome = this.transaction(() => {
      const messaging = this.facets.messaging
      const row = messaging.message(feedback.messageId)
      if (!row) return 'unknown'
      const fact = {
        id: `${feedback.provider}:${feedback.eventId}`,
        message_id: row.id,
        kind: feedback.kind,
        template_id: row.template_id,
        at: feedback.at,
      }
      if (!messaging.addEvent(fact)) return 'duplicate'
      const properties = {
        messageId: row.id,
        templateId: row.template_id,
        provider: feedback.provider,
        ...(feedback.url ? { url: feedback.url } : {}),
        ...(feedback.kind === 'bounced' ? { hard: feedback.hard === true } : {}),
        ...(feedback.detail ? { detail: feedback.detail } : {}),
        ...(feedback.kind === 'unsubscribed' ? { groupId: row.group_id } : {}),
      }
      const event = ownEvent(key, FEEDBACK_EVENTS[feedback.kind], properties, now)
      let lastSeq = this.storeOwnEvent(key, event)
      const next = statusAfter(row.status, feedback.kind)
      const updated = next ? messaging.update(row.id, { status: next as MessageStatus }, now) : row
      this.enqueue(messageReport(key, updated, { ...fact, id: event.id }))
      const suppresses =
        (feedback.kind === 'bounced' && feedback.hard) || feedback.kind === 'complained'
      const address = this.facets.traits.all().email
      if (suppresses && typeof address === 'string') this.setMeta(SUPPRESSED_ADDRESS_KEY, address)
      const change: SegmentChange = { messages: true }
      if (
        feedback.kind === 'unsubscribed' &&
        messaging.choose(row.group_id, false, 'webhook', now)
      ) {
        this.enqueue(subscriptionMessage(key, row.group_id, false, now))
        change.subscriptions = true
      }
      lastSeq = Math.max(lastSeq, this.updateSegments(key, segments, change))
      this.outbox.addFromEvents(this.snapshot(key, lastSeq), lastSeq)
      return 'applied'
    })
    if (outcome === 'applied') await this.ship()
    return { found: outcome !== 'unknown', applied: outcome === 'applied' }
  }

  /**
   * The contact opts into or out of a subscription group (the unsubscribe link, the preference
   * page, the API), with `Subscribed` / `Unsubscribed` on the timeline.
   */
  async setSubscription(
    key: string,
    groupId: string,
    subscribed: boolean,
    source: SubscriptionSource,
  ): Promise<{ found: boolean; changed: boolean }> {
    if (this.meta('erased_at') || !this.meta('key')) return { found: false, changed: false }
    const forward = this.meta('merged_into')
    if (forward) {
      return contactStub(this.env, forward).setSubscription(forward, groupId, subscribed, source)
    }
    this.ensureSchema()
    const segments = await this.currentSegments()
    const now = Date.now()
    const changed = this.transaction(() => {
      if (this.meta('erased_at') || this.meta('merged_into')) return false
      if (!this.facets.messaging.choose(groupId, subscribed, source, now)) return false
      const name = subscribed ? 'Subscribed' : 'Unsubscribed'
      const seq = this.storeOwnEvent(key, ownEvent(key, name, { groupId, source }, now))
      this.enqueue(subscriptionMessage(key, groupId, subscribed, now))
      const lastSeq = Math.max(seq, this.updateSegments(key, segments, { subscriptions: true }))
      this.outbox.addFromEvents(this.snapshot(key, lastSeq), lastSeq)
      return true
    })
    if (changed) await this.ship()
    return { found: true, changed }
  }

  /** The contact's explicit subscription choices, for the preference page. */
  async messagingPreferences(
    key: string,
  ): Promise<{ found: boolean; subscriptions: Record<string, boolean> }> {
    if (this.meta('erased_at')) return { found: false, subscriptions: {} }
    const forward = this.meta('merged_into')
    if (forward) return contactStub(this.env, forward).messagingPreferences(forward)
    if (this.meta('key') !== key) return { found: false, subscriptions: {} }
    this.ensureSchema()
    return { found: true, subscriptions: this.facets.messaging.choices() }
  }

  /** Whether this contact may get a message of a kind and group now (domain/messaging/policy.ts). */
  private reachability(kind: TemplateKind, groupId: string, groupDefault: boolean | null) {
    const messaging = this.facets.messaging
    const address = this.facets.traits.all().email
    return reachable({
      kind,
      marketingConsent: this.facets.consent.current().marketing,
      groupChoice: messaging.choice(groupId),
      // A claim does not know the group's default: the message was made only if it held then.
      groupDefault: groupDefault ?? true,
      allMarketingChoice: messaging.choice(ALL_MARKETING_GROUP),
      addressSuppressed:
        typeof address === 'string' && this.meta(SUPPRESSED_ADDRESS_KEY) === address,
      hasAddress: typeof address === 'string' && address.includes('@'),
    })
  }

  /** The contact's time zone: its `timezone` trait, else its latest event's, else the account's. */
  private timeZone(fallback: string | undefined): string {
    const trait = this.facets.traits.all().timezone
    const fromTrait = knownTimeZone(typeof trait === 'string' ? trait : null)
    if (fromTrait) return fromTrait
    const row = this.sql
      .exec<{ zone: string | null }>(
        `SELECT json_extract(body, '$.context.timezone') AS zone FROM events
         WHERE json_extract(body, '$.context.timezone') IS NOT NULL ORDER BY seq DESC LIMIT 1`,
      )
      .toArray()[0]
    return knownTimeZone(row?.zone) ?? knownTimeZone(fallback) ?? 'UTC'
  }

  /**
   * A journey made a message due now in the transaction just committed: it goes to the send
   * queue before the change is answered (event to message queued within a second). Should this
   * fail, the `messages` job the transaction scheduled sends it.
   */
  private async dispatchIfDue() {
    if (!this.messageDue) return
    this.messageDue = false
    await this.dispatchMessages(Date.now()).catch((error: unknown) => {
      console.error('dispatching a journey message failed; the messages job retries', error)
    })
  }

  /**
   * The `messages` job: hands the messages that are due to the send queue. A message handed
   * over but never claimed (its queue message went to the dead-letter queue) is handed over
   * again after REDISPATCH_MS; a claim makes a second delivery harmless.
   */
  private async dispatchMessages(now: number): Promise<number | null> {
    const key = this.meta('key')
    if (!key || this.meta('merged_into') || this.meta('erased_at')) return null
    const due = this.facets.messaging.dispatchable(now, now - REDISPATCH_MS)
    if (due.length > 0) {
      await this.env.MESSAGES.sendBatch(
        due.map((row) => ({
          body: JSON.stringify({
            kind: 'send',
            contactKey: key,
            messageId: row.id,
          } satisfies SendJob),
          contentType: 'text' as const,
        })),
      )
      this.transaction(() => {
        for (const row of due) this.facets.messaging.update(row.id, { dispatched_at: now }, now)
      })
    }
    const queuedLater = this.facets.messaging.nextDue(now)
    const redispatch = this.facets.messaging.dispatchable(Number.MAX_SAFE_INTEGER, now + 1).length
    if (redispatch > 0) return Math.min(queuedLater ?? Infinity, now + REDISPATCH_MS)
    return queuedLater
  }

  /**
   * Evaluates every segment again with the configuration of `version` (a segment was created,
   * edited or deleted: edge/segments/backfill.ts), so membership never waits for the contact's
   * next event.
   */
  async reevaluateSegments(key: string, version: string): Promise<void> {
    if (this.meta('erased_at')) return
    const forward = this.meta('merged_into')
    if (forward) return contactStub(this.env, forward).reevaluateSegments(forward, version)
    if (this.meta('key') !== key) return
    this.ensureSchema()
    const [segments, journeys] = await Promise.all([
      contactSegments(this.env, version, this.meta(SEGMENTS_VERSION_KEY)),
      loadJourneyPlan(this.env, this.facets.journeys.active()),
      this.configurePredictions(null),
    ])
    const changed = this.transaction(() =>
      this.meta('erased_at') || this.meta('merged_into')
        ? false
        : this.updateSegmentsWithSnapshot(key, { segments, journeys }, { everything: true }),
    )
    if (changed) await this.ship()
  }

  /** The `segments` job: windows that ran out, dates that came (contact-segments.ts). */
  private async segmentWindows(now: number): Promise<number | null> {
    const key = this.meta('key')
    if (!key || this.meta('merged_into')) return null
    const plans = await this.currentSegments()
    let next: number | null = null
    const changed = this.transaction(() => {
      if (this.meta('erased_at') || this.meta('merged_into')) return false
      const round = this.evaluateSegments(key, plans.segments, { timed: true }, now)
      next = round.next
      if (round.lastSeq === 0) return false
      // Leaving or entering a segment by time alone can start or end journeys.
      this.journeyRound(key, plans, now)?.handle([])
      this.outbox.addFromEvents(this.snapshot(key, this.ownSeq), this.ownSeq)
      return true
    })
    // A failed send is the outbox job's to retry (the transaction scheduled it).
    if (changed) {
      await this.dispatchIfDue()
      await this.outbox.send().catch(() => undefined)
    }
    return next
  }

  /**
   * Sends what is not known sent (a send that failed, or never ran because the runtime died)
   * and records how far sending got. Done when nothing is left.
   */
  private async sweepOutbox(now: number): Promise<number | null> {
    await this.outbox.send()
    this.outbox.recordMark()
    return this.outbox.unsent() ? now + RETRY_MS : null
  }

  /**
   * Daily while the contact holds events: prunes timeline events past the raw-event retention.
   * A contact with no events left that only ever recorded consent has no row in D1's contacts,
   * where the cron finds inactive profiles, so this job expires it: once its last decision is
   * older than the inactive-profile lifetime it is erased like any inactive profile.
   */
  private async applyRetention(now: number): Promise<number | null> {
    // The mark must be current: events past it are kept until they are known sent.
    await this.sweepOutbox(now)
    const retention = await readRetention(this.env.DB)
    // Events not known sent stay until they are: the outbox makes their messages from them.
    const left = this.facets.events.prune(
      now - retention.rawEventsDays * DAY_MS,
      this.outbox.mark(),
    )
    if (left > 0) return now + DAY_MS
    const key = this.meta('key')
    const last = this.facets.consent.rows().at(-1)
    if (!key || !last || this.facets.counters.all()) return null
    const due = Date.parse(last.at) + retention.inactiveProfileDays * DAY_MS
    if (due > now) return due
    await requestErasure(this.env, identifierOfKey(key), 'retention', 'retention')
    return null
  }

  private async absorbAnonymousContacts(
    key: string,
    events: IncomingEvent[],
    consentMode: ConsentMode,
  ): Promise<{ mayLink: boolean; erased: Set<string> }> {
    const candidates = new Set<string>()
    for (const event of events) {
      if (event.anonymousId) candidates.add(event.anonymousId)
      if (event.type === 'alias') {
        const previous = usableId(event.previousId)
        if (previous && previous !== key) candidates.add(previous)
      }
    }
    const ids = [...candidates].filter((id) => !this.facets.identities.has('anonymousId', id))
    const erased = new Set<string>()
    if (ids.length === 0) return { mayLink: true, erased }
    const stubs = ids.map((id) => peerStub(this.env, anonymousKey(id)))
    const own = this.facets.consent.rows()
    const offered =
      ids.length > 1 && !mayMerge(consentMode, [own])
        ? await Promise.all(stubs.map((stub) => stub.mergeConsent(key)))
        : []
    const others = (i: number) =>
      offered.flatMap((offer, j) => (j !== i && offer.available ? offer.ledger : []))
    const results = await Promise.all(
      stubs.map((stub, i) => stub.handOver(key, { consentMode, ledger: [...own, ...others(i)] })),
    )
    const handed = ids.flatMap((id, i) => {
      const result = results[i]!
      return result.merged ? [{ id, stub: stubs[i]!, ...result }] : []
    })
    const now = Date.now()
    const linked =
      results.every((result) => result.merged || result.reason !== 'no_consent') &&
      this.transaction(() => {
        const consent = [this.facets.consent.rows(), ...handed.map(({ state }) => state.consent)]
        if (this.meta('erased_at') || !mayMerge(consentMode, consent)) return false
        // Another call of this contact may have absorbed one while this one waited.
        for (const { id, state } of handed) {
          if (!this.facets.identities.has('anonymousId', id))
            this.importHandOver(key, id, state, now)
        }
        ids.forEach((id, i) => {
          const result = results[i]!
          // An erased identifier is not linked again, not even as a conflict.
          if (result.merged || result.reason !== 'claimed') return
          this.facets.identities.markConflict(
            id,
            now,
            'already merged into another identified contact',
          )
        })
        return true
      })
    ids.forEach((id, i) => {
      const result = results[i]!
      if (!result.merged && result.reason === 'erased') erased.add(id)
    })
    if (!linked) {
      await Promise.all(handed.map(({ stub }) => stub.cancelHandOver(key)))
      return { mayLink: false, erased }
    }
    // A visitor who signs in on the first page has an anonymous contact that is only a pointer.
    await Promise.all(
      handed.filter((h) => !h.pointerOnly).map(({ stub }) => stub.completeHandOver(key)),
    )
    return { mayLink: true, erased }
  }

  /** Takes in the state an anonymous contact handed over; called in the linking transaction. */
  private importHandOver(key: string, anonymousId: string, state: HandOver, now: number) {
    const fromKey = anonymousKey(anonymousId)
    const context: AbsorbContext = {
      fromKey,
      now,
      storeEvent: (event, body) => this.storeEvent(event, body),
      alreadySent: (first, last) => this.outbox.alreadySent(first, last),
    }
    for (const [name, facet] of Object.entries(this.facets) as [keyof HandOver, Facet][]) {
      facet.absorb(state[name], context)
    }
    this.facets.identities.markMerged(anonymousId, now)
    // The absorbed runs go on here: their timers come with them.
    for (const run of this.facets.journeys.active()) {
      if (run.wakeAt !== null)
        this.scheduler.scheduleBy(timerId(run.id), run.wakeAt, JOURNEY_TIMER, run.id)
    }
    // The histories combined: the transaction of the events that follow evaluates every segment.
    this.metaValues.delete(SEGMENTS_VERSION_KEY)
    this.enqueue({ kind: 'merge', from: fromKey, into: key, at: new Date(now).toISOString() })
  }

  /**
   * Inserts one event, and gives every facet its share (counters, traits, links, groups);
   * returns its seq, or null for a duplicate.
   */
  private storeEvent(event: StoredEvent, body: string): number | null {
    const at = Date.parse(event.timestamp)
    const seq = this.facets.events.insert(event, body, at)
    if (seq === null) return null
    // Cairn's own events are not the person's activity: no counter, trait or touch.
    if (!isOwnEvent(event)) for (const facet of this.facetList()) facet.onEvent?.(event, at)
    return seq
  }

  /** Stores one of Cairn's own events and queues it; its seq (0 for a duplicate, never seen). */
  private storeOwnEvent(key: string, event: StoredEvent): number {
    return this.storeOwnEvents(key, [event])
  }

  /** `storeOwnEvent` for several, in one statement; the last seq (0 for none stored). */
  private storeOwnEvents(key: string, events: readonly StoredEvent[]): number {
    const rows = events.map((event) => ({
      event,
      body: JSON.stringify(event),
      at: Date.parse(event.timestamp),
    }))
    const seqs = this.facets.events.insertAll(rows)
    const stored = events.filter((_, i) => seqs[i] !== null)
    if (stored.length === 0) return 0
    const seq = Math.max(...seqs.map((s) => s ?? 0))
    // Derived from the contact's data, so not sealed into the archive.
    for (const event of stored) {
      this.outbox.addFromEvents({ kind: 'event', contactKey: key, event }, seq)
    }
    this.ownEvents.push(...stored)
    this.ownSeq = Math.max(this.ownSeq, seq)
    return seq
  }

  /**
   * The newest segments, as the edge's cache knows them (a few seconds), for changes that come
   * from elsewhere than ingest (a list, a subscription, a message, a timer). They once took the
   * configuration the contact last evaluated, so a segment created since on what such a change
   * reads (`{ "subscribed": … }` with no one subscribed yet: its backfill told no one) was never
   * entered until the contact's next event.
   */
  private async currentSegments(): Promise<ChangePlans> {
    const [newest, journeys] = await Promise.all([
      segmentConfig(this.env),
      loadJourneyPlan(this.env, this.facets.journeys.active()),
      this.configurePredictions(null),
    ])
    const segments = await contactSegments(
      this.env,
      newest.version,
      this.meta(SEGMENTS_VERSION_KEY),
    )
    return { segments, journeys }
  }

  /** The predictions configuration of `version` (null: the newest) for what follows. */
  private async configurePredictions(version: string | null) {
    this.facets.predictions.configure(await contactPredictionsConfig(this.env, version))
  }

  /**
   * A person's event keeps the `predictions` job coming while they are active: a day out, or a
   * minute out after a purchase.
   */
  private schedulePredictions(event: StoredEvent) {
    const delay = this.facets.predictions.isPurchase(event) ? PURCHASE_PROJECTION_MS : DAY_MS
    this.scheduler.scheduleBy('predictions', Date.now() + delay, 'predictions')
  }

  /**
   * Re-evaluates what `change` can affect, inside the caller's transaction, and schedules the
   * `segments` job for the next instant a window can end. Returns the seq of the last
   * membership event written (0 for none): the snapshot that follows must name it.
   */
  private updateSegments(key: string, plans: ChangePlans, change: SegmentChange): number {
    const now = Date.now()
    this.moveSegments(key, plans.segments, change, now)
    this.journeyRound(key, plans, now)?.handle(change.events ?? [])
    return this.ownSeq
  }

  /** The segment half of `updateSegments`. */
  private moveSegments(key: string, plan: SegmentPlan, change: SegmentChange, now: number) {
    const round = this.evaluateSegments(key, plan, change, now)
    if (round.next !== null) this.scheduler.scheduleBy('segments', round.next, 'segments')
  }

  /**
   * The journeys of a change (contact-journeys.ts), inside its transaction; none when no journey
   * is live and the contact has no run under way.
   */
  private journeyRound(key: string, plans: ChangePlans, now: number): JourneyRound | null {
    const journeys = this.facets.journeys
    if (plans.journeys.byId.size === 0 && journeys.active().length === 0) return null
    let facts: StoredContactFacts | undefined
    // What rules read is read again after the round itself changed the contact.
    const changed = () => (facts = undefined)
    const host: JourneyHost = {
      key,
      now,
      journeys,
      traits: () => this.facets.traits.all(),
      matches: (rule) =>
        evaluate(
          rule,
          (facts ??= this.contactFacts(key, plans.segments, now)),
          now,
          plans.segments.lookup,
        ),
      consent: (purpose) => this.facets.consent.current()[purpose] === true,
      timeZone: () => this.timeZone(plans.journeys.config.sendRules.timeZone),
      nextBestAction: () =>
        plans.journeys.nextBestAction(key, [...this.facets.memberships.of('segment').keys()], now),
      storeOwnEvent: (name, properties) => {
        changed()
        return this.storeOwnEvent(key, ownEvent(key, name, properties, now))
      },
      makeMessage: (request) => {
        const { row } = this.makeMessage(key, request, now)
        return { status: row.status, reason: row.reason }
      },
      setTraits: (traits) => {
        changed()
        return this.facets.traits.set(traits, now, 'journey')
      },
      setList: (listId, member) => {
        changed()
        return this.facets.memberships.set('list', listId, member, now)
      },
      updateSegments: (change) => {
        changed()
        this.moveSegments(key, plans.segments, change, now)
      },
      drain: () => this.ownEvents.splice(0),
      enqueue: (message) => this.enqueue(message),
      schedule: (runId, at) => {
        const id = timerId(runId)
        if (this.scheduler.due(id) === (at ?? undefined)) return
        this.scheduler.cancel(id)
        if (at !== null) this.scheduler.scheduleBy(id, at, JOURNEY_TIMER, runId)
      },
    }
    return new JourneyRound(host, plans.journeys)
  }

  /** `updateSegments`, followed by the snapshot when membership changed; whether it did. */
  private updateSegmentsWithSnapshot(key: string, plan: ChangePlans, change: SegmentChange) {
    const lastSeq = this.updateSegments(key, plan, change)
    if (lastSeq > 0) this.outbox.addFromEvents(this.snapshot(key, lastSeq), lastSeq)
    return lastSeq > 0
  }

  /**
   * Enters and leaves the segments a change can affect: each move is a `Segment Entered` or
   * `Segment Exited` event on the timeline, in the transaction of the change. A configuration
   * this contact has not evaluated yet (a segment created or edited, a merge) re-evaluates all,
   * and ends memberships of segments that no longer exist.
   */
  private evaluateSegments(
    key: string,
    plan: SegmentPlan,
    change: SegmentChange,
    now: number,
  ): { lastSeq: number; next: number | null } {
    const everything = change.everything || this.meta(SEGMENTS_VERSION_KEY) !== plan.version
    const ids = affectedSegments(plan, everything ? { everything } : change)
    const memberships = this.facets.memberships
    if (everything) {
      for (const id of memberships.of('segment').keys()) ids.add(id)
      this.setMeta(SEGMENTS_VERSION_KEY, plan.version)
      // Rules that count events: have the next wake-up read them with its one query.
      if (plan.byEvent.size > 0) {
        this.setMeta(COUNTED_PROPERTIES_KEY, JSON.stringify([...plan.properties]))
      } else if (this.meta(COUNTED_PROPERTIES_KEY) !== undefined) {
        this.metaValues.delete(COUNTED_PROPERTIES_KEY)
      }
    }
    if (ids.size === 0) return { lastSeq: 0, next: null }
    const facts = this.contactFacts(key, plan, now)
    // A journey's own events (eventNames) are not in the change: those rounds look at all.
    const added = !everything && !change.timed && change.eventNames === undefined
    let timing: ContactFacts | undefined
    let next: number | null = null
    const decided: Move[] = []
    for (const id of ids) {
      const segment = plan.byId.get(id)
      decided.push([id, segment ? evaluate(segment.rule, facts, now, plan.lookup) : false])
      if (segment && plan.timed.has(id)) {
        timing ??= added ? addedEventsOnly(facts, change.events ?? []) : facts
        const at = nextChange(segment.rule, timing, now, plan.lookup)
        if (at !== null && (next === null || at < next)) next = at
      }
    }
    // Written together: a first visit enters five to eight segments, and each move had two
    // statements of its own (bench/results/2026-12-07-segments-moves.md).
    const moved = memberships.setAll('segment', decided, now).map(([id, member]) => {
      const properties = { segmentId: id, segmentName: plan.byId.get(id)?.name ?? null }
      return ownEvent(key, member ? 'Segment Entered' : 'Segment Exited', properties, now)
    })
    return { lastSeq: this.storeOwnEvents(key, moved), next }
  }

  /** What the rules of `plan` read of this contact, for one round at `now`. */
  private contactFacts(key: string, plan: SegmentPlan, now: number): StoredContactFacts {
    return new StoredContactFacts(key, this.sql, this.facets, now, plan.properties)
  }

  /**
   * Emails these events are about to link are entered in the directory first (see
   * identity-directory.ts): an erasure by email then finds this contact from the moment the
   * identify is acknowledged. An entry whose events then fail to commit names a contact that
   * holds nothing of the address, which an erasure passes over.
   */
  private async registerNewEmails(key: string, events: IncomingEvent[]) {
    const emails = new Set<string>()
    for (const event of events) {
      const email = linkedEmail(event)
      if (email && !this.facets.identities.has('email', email)) emails.add(email)
    }
    await Promise.all(
      [...emails].map(async (email) => (await emailDirectory(this.env, email)).register(key)),
    )
  }

  /** Built from the in-memory copies: a snapshot per ingest costs no query. */
  private snapshot(key: string, version: number): ContactSnapshot {
    return contactSnapshot(key, version, {
      total: this.facets.counters.all(),
      traits: this.facets.traits.all(),
      anonymousIds: this.facets.identities.anonymousIds(),
      segments: this.facets.memberships.of('segment'),
      lists: this.facets.memberships.of('list'),
    })
  }

  /** Counts the events without any identifier: nothing about the person is kept. */
  private async withhold(events: IncomingEvent[]) {
    this.transaction(() => {
      for (const event of events) this.enqueue(withheldEventMessage(event))
    })
    await this.ship()
  }

  private enqueue(message: QueuedMessage) {
    this.outbox.add(message)
  }

  /**
   * Ships the outbox without holding up the caller. The transaction that filled it scheduled the
   * `outbox` job (see `transaction`), armed here before the caller's answer, so a send that
   * never happens (the runtime died) is made by the alarm; a failed one brings the job forward.
   */
  private async ship() {
    await this.scheduler.arm()
    await this.dispatchIfDue()
    this.ctx.waitUntil(
      this.outbox
        .send()
        .catch((error: unknown) => {
          console.error('outbox send failed; the alarm retries it', error)
          this.scheduler.scheduleBy('outbox', Date.now() + RETRY_MS, 'outbox')
          return this.scheduler.arm()
        })
        .catch(() => undefined),
    )
  }

  /**
   * The messages of the stored events after `after` (up to `upTo`), the touches they made and
   * the contact's snapshot, made again (see outbox.ts). The rows are read before the first
   * await, so that events stored meanwhile stay with the transactions that stored them. A touch
   * the bound on kept touches trimmed away before its send (a late one, older than all the
   * others) is not made again.
   */
  private resendEvents(after: number, upTo = Number.MAX_SAFE_INTEGER): Promise<Resend | null> {
    const rows = this.sql
      .exec<{ seq: number; body: string; channel: string | null; campaign: string | null }>(
        `SELECT e.seq, e.body, t.channel, t.campaign FROM events AS e
         LEFT JOIN touches AS t ON t.id = e.id WHERE e.seq > ? AND e.seq <= ? ORDER BY e.seq`,
        after,
        upTo,
      )
      .toArray()
    const key = this.meta('key')
    if (rows.length === 0 || !key) return Promise.resolve(null)
    const through = rows[rows.length - 1]!.seq
    const snapshot = this.snapshot(key, through)
    return this.dataKey().then(async (sealing) => ({
      messages: [
        ...(
          await Promise.all(
            rows.map(async ({ body, channel, campaign }) => {
              const event = JSON.parse(body) as StoredEvent
              const message = await eventMessage(key, event, body, sealing)
              if (channel === null) return [message]
              return [message, touchMessage(key, event, { channel, campaign })]
            }),
          )
        ).flat(),
        snapshot,
      ],
      through,
    }))
  }

  private dataKey(): Promise<{ id: string; key: CryptoKey }> {
    return this.facets.dataKeys.sealingKey()
  }

  private facetList(): Facet[] {
    return Object.values(this.facets)
  }

  /** Every table the facets own (the outbox's and the schedule's are the object's). */
  private facetTables(): string[] {
    return this.facetList().flatMap((facet) => [...facet.tables])
  }

  private meta(key: string): string | undefined {
    return this.metaValues.get(key)
  }

  /**
   * One SQLite transaction. Meta values, counters and outbox messages written during `work` are
   * collected and written at its end, one statement each; on a rollback the in-memory copies
   * are dropped with it.
   */
  private transaction<T>(work: () => T): T {
    try {
      return this.ctx.storage.transactionSync(() => {
        this.ownEvents = []
        this.ownSeq = 0
        this.metaValues.stage()
        const result = work()
        this.facets.counters.flush()
        if (this.outbox.commit()) this.scheduleAfterWrite(Date.now())
        this.metaValues.commit()
        return result
      })
    } catch (error) {
      this.metaValues.forget()
      this.outbox.forget()
      this.forgetCopies()
      throw error
    }
  }

  /**
   * The jobs of an object whose transaction queued messages, written in that transaction and
   * armed by `ship`: `outbox` re-sends what is not confirmed within OUTBOX_SWEEP_MS, and the daily
   * `retention` job prunes the timeline and expires the contact when inactive. A job already due
   * sooner is left as it is, so most transactions write neither.
   */
  private scheduleAfterWrite(now: number) {
    this.scheduler.scheduleBy('outbox', now + OUTBOX_SWEEP_MS, 'outbox')
    this.scheduler.scheduleBy('retention', now + DAY_MS, 'retention')
  }

  /** Drops the in-memory copies of the contact's tables; they are read again when needed. */
  private forgetCopies() {
    for (const facet of this.facetList()) facet.forget()
    this.scheduler.forget()
  }

  private ensureSchema() {
    if (this.schema >= FULL_SCHEMA) return
    const from = this.schema
    this.schema = migrateContactStorage(this.ctx.storage, from)
    // The migrations wrote meta values (the version, the outbox mark) under the copy.
    this.metaValues.forget()
    // The contact's tables were just created, so their copies start empty without a read.
    if (from < CONTACT_TABLES) {
      this.primeCopies(NEW_CONTACT)
      for (const facet of this.facetList()) facet.primeNew?.()
    }
    // An upgrade of a stored contact: the outbox reads its mark again.
    else this.outbox.forget()
  }

  private setMeta(key: string, value: string) {
    this.metaValues.set(key, value)
  }
}

/** The events without the anonymous ids (and alias previousIds) in `erased`. */
function withoutIdentifiers(events: IncomingEvent[], erased: Set<string>): IncomingEvent[] {
  return events.map((event) => {
    const anonymousId = event.anonymousId && erased.has(event.anonymousId)
    const previousId = event.type === 'alias' && erased.has(usableId(event.previousId) ?? '')
    if (!anonymousId && !previousId) return event
    const { anonymousId: _a, previousId: _p, ...rest } = event
    return {
      ...rest,
      ...(anonymousId ? {} : { anonymousId: event.anonymousId }),
      ...(previousId ? {} : { previousId: event.previousId }),
    } as IncomingEvent
  })
}
