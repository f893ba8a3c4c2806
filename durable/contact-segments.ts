import { CAIRN_SOURCE, type StoredEvent } from '../contracts/stored-event'
import type { Purpose } from '../domain/consent'
import { ANON_PREFIX, isAnonymousKey } from '../domain/identity'
import { dependencies } from '../domain/segments/dependencies'
import type { ContactPredictions } from '../domain/predictions/forecast'
import type { ContactFacts, EventFact, MessageFact, SegmentLookup } from '../domain/segments/facts'
import {
  PAGE_EVENT,
  SCREEN_EVENT,
  type MessageEvent,
  type Prediction,
} from '../domain/segments/rule'
import { isOlderVersion, loadSegmentConfig, type SegmentDefinition } from '../edge/segments/config'
import type { Env } from '../edge/env'
import type { ConsentLedger } from './consent-ledger'
import {
  PROPERTIES_SQL,
  READ_ALL_UP_TO,
  READ_APART,
  countedEventsOf,
  type CountedEvent,
  type Events,
} from './facets/events'
import type { ContactCounters } from './contact-counters'
import { iso } from './facet'
import type { Groups } from './facets/groups'
import type { Memberships } from './facets/memberships'
import type { Messaging } from './facets/messaging'
import type { Journeys } from './facets/journeys'
import type { Predictions } from './facets/predictions'
import type { Traits } from './facets/traits'

/**
 * The segments as a contact object evaluates them, indexed by what each rule reads, so that a
 * change re-evaluates only the segments it can affect: an event those whose rules count its
 * name, an identify those reading its traits, a consent decision those reading consent.
 */
export interface SegmentPlan {
  version: string
  byId: ReadonlyMap<string, SegmentDefinition>
  lookup: SegmentLookup
  byEvent: ReadonlyMap<string, readonly string[]>
  /** Event names whose properties some rule reads: read with the events, in one statement. */
  properties: ReadonlySet<string>
  byTrait: ReadonlyMap<string, readonly string[]>
  byList: ReadonlyMap<string, readonly string[]>
  consent: readonly string[]
  accounts: readonly string[]
  /** Segments reading message events, and subscription choices (contracts/messaging.ts). */
  messages: readonly string[]
  subscriptions: readonly string[]
  /** Segments reading predictions (churn risk, engagement …: facets/predictions.ts). */
  predictions: readonly string[]
  /** Segments reading journey runs (`{ "journey": … }`). */
  journeys: readonly string[]
  /** Segments whose membership can change with time alone (a window, a date trait). */
  timed: ReadonlySet<string>
}

/** What changed in a transaction, as far as segments care. */
export interface SegmentChange {
  events?: readonly StoredEvent[]
  consent?: boolean
  lists?: readonly string[]
  /** A message was sent, or a provider reported on one. */
  messages?: boolean
  subscriptions?: boolean
  /** The contact's predictions moved: a person's event, the daily `predictions` job. */
  predictions?: boolean
  /** Traits set other than by an identify event (a journey's updateTraits node). */
  traits?: readonly string[]
  /** A journey run entered or ended. */
  journeys?: boolean
  /** Cairn's own events that rules may count (a journey's track node). */
  eventNames?: readonly string[]
  /** A merge, a new configuration: every segment. */
  everything?: boolean
  /** The scheduler's `segments` job: the segments that time alone can change. */
  timed?: boolean
}

function plan(version: string, segments: readonly SegmentDefinition[]): SegmentPlan {
  const byId = new Map(segments.map((segment) => [segment.id, segment]))
  const lookup: SegmentLookup = (id) => byId.get(id)?.rule
  const byEvent = new Map<string, string[]>()
  const properties = new Set<string>()
  const byTrait = new Map<string, string[]>()
  const byList = new Map<string, string[]>()
  const consent: string[] = []
  const accounts: string[] = []
  const messages: string[] = []
  const subscriptions: string[] = []
  const predictions: string[] = []
  const journeys: string[] = []
  const timed = new Set<string>()
  const add = (index: Map<string, string[]>, key: string, id: string) => {
    const ids = index.get(key)
    if (ids) ids.push(id)
    else index.set(key, [id])
  }
  for (const { id, rule } of segments) {
    const reads = dependencies(rule, lookup)
    for (const name of reads.events) add(byEvent, name, id)
    for (const name of reads.properties) properties.add(name)
    for (const trait of reads.traits) add(byTrait, trait, id)
    for (const list of reads.lists) add(byList, list, id)
    if (reads.consent.size > 0) consent.push(id)
    if (reads.accounts) accounts.push(id)
    if (reads.messages) messages.push(id)
    if (reads.subscriptions) subscriptions.push(id)
    if (reads.predictions) predictions.push(id)
    if (reads.journeys) journeys.push(id)
    if (reads.timed) timed.add(id)
  }
  return {
    version,
    byId,
    lookup,
    byEvent,
    properties,
    byTrait,
    byList,
    consent,
    accounts,
    messages,
    subscriptions,
    predictions,
    journeys,
    timed,
  }
}

/** Versions kept per isolate, as for the attribution configuration (contact-configuration.ts). */
const KEPT = 4
const byVersion = new Map<string, SegmentPlan>()

/**
 * The segments of `version`, read from D1 once per isolate when the version moves; `null` asks
 * for the newest (a call that names no version: a consent decision, a list change). A version
 * older than the one the contact last followed (`current`) is never taken back: the newest is.
 */
export async function contactSegments(
  env: Pick<Env, 'DB'>,
  version: string | null,
  current?: string,
): Promise<SegmentPlan> {
  if (version !== null && isOlderVersion(version, current)) version = current ?? null
  const known = version === null ? undefined : byVersion.get(version)
  if (known) return known
  const config = await loadSegmentConfig(env.DB)
  const loaded = byVersion.get(config.version) ?? plan(config.version, config.segments)
  if (byVersion.size >= KEPT) byVersion.clear()
  byVersion.set(loaded.version, loaded)
  if (version !== null) byVersion.set(version, loaded)
  return loaded
}

/** The ids of the segments a change can affect. */
export function affectedSegments(plan: SegmentPlan, change: SegmentChange): Set<string> {
  if (change.everything) return new Set(plan.byId.keys())
  const ids = new Set<string>(change.timed ? plan.timed : [])
  const take = (list: readonly string[] | undefined) => list?.forEach((id) => ids.add(id))
  for (const event of change.events ?? []) {
    if (event.enrichment.bot || event.sourceId === CAIRN_SOURCE) continue
    take(plan.byEvent.get(eventKind(event)))
    if (event.type === 'identify') {
      for (const trait of Object.keys(event.traits ?? {})) take(plan.byTrait.get(trait))
    }
    if (event.type === 'group') take(plan.accounts)
  }
  if (change.consent) take(plan.consent)
  if (change.messages) take(plan.messages)
  if (change.subscriptions) take(plan.subscriptions)
  if (change.predictions) take(plan.predictions)
  if (change.journeys) take(plan.journeys)
  for (const trait of change.traits ?? []) take(plan.byTrait.get(trait))
  for (const name of change.eventNames ?? []) take(plan.byEvent.get(name))
  for (const list of change.lists ?? []) take(plan.byList.get(list))
  return ids
}

/** The name a `performed` rule knows an event by. */
function eventKind(event: StoredEvent): string {
  if (event.type === 'page') return PAGE_EVENT
  if (event.type === 'screen') return SCREEN_EVENT
  return event.event ?? ''
}

/**
 * A contact's facts (domain/segments/facts.ts) read from its object's tables, each read at most
 * once per evaluation round.
 */
export class StoredContactFacts implements ContactFacts {
  private traitValues?: Record<string, unknown>
  private readonly eventsByName = new Map<string, EventFact[]>()
  private readonly bodyReaders = new Map<
    string,
    () => ReadonlyMap<string, Record<string, unknown>>
  >()
  private accountTraits?: Record<string, unknown>[]
  private predicted?: ContactPredictions

  constructor(
    readonly key: string,
    private readonly sql: SqlStorage,
    private readonly facets: {
      events: Events
      traits: Traits
      consent: ConsentLedger
      memberships: Memberships
      groups: Groups
      messaging: Messaging
      counters: ContactCounters
      predictions: Predictions
      journeys: Journeys
    },
    /** The round's time: predictions decay with it. */
    private readonly now = Date.now(),
    /** Names whose properties rules read (SegmentPlan.properties): they come with the events. */
    private readonly propertiesRead: ReadonlySet<string> = new Set(),
  ) {}

  get traits(): Record<string, unknown> {
    this.traitValues ??= this.facets.traits.all()
    return this.traitValues
  }

  events(name: string): readonly EventFact[] {
    let events = this.eventsByName.get(name)
    if (events) return events
    const counted = READ_APART.includes(name) ? undefined : this.counted()
    if (counted) {
      const bodies = this.bodies(name)
      events = (counted.get(name) ?? []).map(
        ({ id, at, properties }) => new StoredEventFact(id, at, bodies, properties),
      )
    } else {
      events = this.read(name)
    }
    this.eventsByName.set(name, events)
    return events
  }

  /**
   * The events facet's copy of every countable event, when the contact holds few: a change
   * re-evaluates the segments of several names (a page view 11 of the bench's 50, reading five
   * names), and a round's cost was mostly its statements and the values they hand over (~10 µs a
   * statement, ~1 µs a value in workerd: bench/results/2026-12-06-segments.md). Past
   * READ_ALL_UP_TO the copy would be large, so each name is read on its own.
   */
  private counted(): ReadonlyMap<string, readonly CountedEvent[]> | undefined {
    if ((this.facets.counters.all()?.count ?? 0) > READ_ALL_UP_TO) return undefined
    return this.facets.events.countedEvents(this.propertiesRead)
  }

  private read(name: string): EventFact[] {
    const [where, ...params] = eventsNamed(name)
    const row = this.sql
      .exec<{ ids: string; ats: string }>(
        `SELECT json_group_array(id) AS ids, json_group_array(timestamp) AS ats FROM events ${where}`,
        ...params,
      )
      .one()
    const ids = JSON.parse(row.ids) as string[]
    const ats = JSON.parse(row.ats) as number[]
    const bodies = this.bodies(name)
    return ids.map((id, i) => new StoredEventFact(id, ats[i]!, bodies))
  }

  /**
   * The properties of every event of a name by id, read in one statement when first asked. Only
   * the properties leave SQLite: parsing whole bodies (context, enrichment) was most of what a
   * `where` condition cost a round (bench/results/2026-12-07-segments.md).
   */
  private bodies(name: string): () => ReadonlyMap<string, Record<string, unknown>> {
    let read = this.bodyReaders.get(name)
    if (read) return read
    let bodies: Map<string, Record<string, unknown>> | undefined
    read = () => {
      if (bodies) return bodies
      const [where, ...params] = eventsNamed(name)
      bodies = new Map(
        this.sql
          .exec<{ id: string; properties: string }>(
            `SELECT id, ${PROPERTIES_SQL} AS properties FROM events ${where}`,
            ...params,
          )
          .toArray()
          .map((row) => [row.id, JSON.parse(row.properties)]),
      )
      return bodies
    }
    this.bodyReaders.set(name, read)
    return read
  }

  consent(purpose: Purpose): boolean | null {
    return this.facets.consent.current()[purpose]
  }

  inList(listId: string): boolean {
    return this.facets.memberships.has('list', listId)
  }

  accounts(): readonly Record<string, unknown>[] {
    this.accountTraits ??= this.facets.groups.accountTraits()
    return this.accountTraits
  }

  messages(kind: MessageEvent): readonly MessageFact[] {
    return this.facets.messaging.events(kind)
  }

  subscribed(groupId: string): boolean | null {
    return this.facets.messaging.choice(groupId)
  }

  journeyStates(journeyId: string) {
    return this.facets.journeys.states(journeyId)
  }

  prediction(name: Prediction): number | null {
    this.predicted ??= this.facets.predictions.predict(this.now)
    return this.predicted[name]
  }
}

/**
 * The facts `nextChange` needs after a change that added `events`: those events in place of the
 * contact's history. When each older event was stored, its round scheduled the end of its
 * windows (as did every round that re-evaluated all, and every `segments` job for all timed
 * segments), and the scheduler keeps the earliest entry, so only the new events can bring the
 * next change sooner. Cairn's membership events, stored by rounds without being a change of
 * their own, are read whole as before; everything else is the contact's.
 */
export function addedEventsOnly(facts: ContactFacts, events: readonly StoredEvent[]): ContactFacts {
  const added = countedEventsOf(events)
  return {
    key: facts.key,
    get traits() {
      return facts.traits
    },
    events: (name) => (READ_APART.includes(name) ? facts.events(name) : (added.get(name) ?? [])),
    consent: (purpose) => facts.consent(purpose),
    inList: (listId) => facts.inList(listId),
    accounts: () => facts.accounts(),
    messages: (kind) => facts.messages(kind),
    subscribed: (groupId) => facts.subscribed(groupId),
    journeyStates: (journeyId) => facts.journeyStates(journeyId),
    prediction: (name) => facts.prediction(name),
  }
}

/** The WHERE clause and parameters of the events a rule counts under `name`, bots left out. */
function eventsNamed(name: string): [string, ...(string | null)[]] {
  const type = name === PAGE_EVENT ? 'page' : name === SCREEN_EVENT ? 'screen' : 'track'
  // Page and screen views match by type alone; a track event by its name too.
  const match = type === 'track' ? name : null
  return ['WHERE type = ? AND (? IS NULL OR name = ?) AND bot = 0', type, match, match]
}

/**
 * An event as rules read it. Its body is read and parsed only when a rule asks for properties
 * (most count by name and time alone), and then for every event of that name in one query:
 * reading each event of a name with its body, for every change, was the largest part of what
 * 50 segments cost an ingest (318 of 440 µs in evaluateSegments per returning event, profiled in
 * bench/results/2026-12-06-segments.md).
 */
class StoredEventFact implements EventFact {
  constructor(
    readonly id: string,
    readonly at: number,
    private readonly bodies: () => ReadonlyMap<string, Record<string, unknown>>,
    /** Known without a read: the event was stored while the object was awake. */
    private readonly known?: Record<string, unknown>,
  ) {}

  get properties(): Record<string, unknown> {
    return this.known ?? this.bodies().get(this.id) ?? {}
  }
}

/**
 * An event Cairn writes to the contact's timeline itself (`Segment Entered`, `Added to List` …):
 * journeys can start on it, and it gives the contact's snapshot a new version. Not activity: it
 * moves no counter and no last-seen time (isOwnEvent).
 */
export function ownEvent(
  key: string,
  name: string,
  properties: Record<string, unknown>,
  at: number,
): StoredEvent {
  const id = crypto.randomUUID()
  return {
    id,
    messageId: `cairn-${id}`,
    type: 'track',
    event: name,
    ...(isAnonymousKey(key) ? { anonymousId: key.slice(ANON_PREFIX.length) } : { userId: key }),
    properties,
    context: {},
    timestamp: iso(at),
    receivedAt: iso(at),
    sourceId: CAIRN_SOURCE,
    enrichment: { device: 'other', bot: false, landing: false },
  }
}
