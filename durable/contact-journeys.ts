import type { JourneyActionJob, QueuedMessage } from '../contracts/queue-messages'
import type { StoredEvent } from '../contracts/stored-event'
import type { MessageStatus } from '../contracts/messaging'
import type { Purpose } from '../domain/consent'
import type { JourneyDefinition } from '../domain/journeys/definition'
import {
  checkExit,
  enter,
  entryMatches,
  mayEnter,
  observe,
  pickVersion,
  reachGoal,
  wake,
  type Advance,
  type Effect,
  type JourneyEvent,
  type Run,
  type StepContext,
} from '../domain/journeys/engine'
import { PAGE_EVENT, SCREEN_EVENT, type Rule } from '../domain/segments/rule'
import type { Env } from '../edge/env'
import {
  journeyConfig,
  journeyDefinition,
  nextBestActionCandidates,
  type JourneyConfig,
  type LiveJourney,
} from '../edge/journeys/config'
import { nextBestAction } from '../domain/predictions/next-action'
import { actionKey } from '../domain/journeys/action-key'
import {
  ADDED_TO_LIST_EVENT,
  REMOVED_FROM_LIST_EVENT,
  TRAITS_UPDATED_EVENT,
} from '../domain/journeys/own-events'
import type { MessageRequest } from './contact-messaging'
import type { SegmentChange } from './contact-segments'
import { propertiesOf } from './facets/events'
import type { Journeys } from './facets/journeys'

/**
 * How a contact object runs its journeys (docs/design/journeys.md): the journeys and versions
 * it needs, read before its transaction (JourneyPlan), and the round that offers a change's
 * events to the runs and the entries inside that transaction (JourneyRound), carrying out what
 * the pure engine (domain/journeys/engine.ts) answers.
 */

/** The scheduler kind of a run's timer; one entry per waiting run, named by `timerId`. */
export const JOURNEY_TIMER = 'journeys'

export function timerId(runId: string): string {
  return `journey:${runId}`
}

/** Events one round may handle, its own effects' included: journeys that feed each other stop. */
const MAX_EVENTS_PER_ROUND = 100

export interface JourneyPlan {
  config: JourneyConfig
  byId: ReadonlyMap<string, LiveJourney>
  /** Definitions by `<journeyId>:<version>`: the live ones and those active runs are pinned to. */
  definitions: ReadonlyMap<string, JourneyDefinition>
  /** Live journeys whose entry (in some live version) is an event of that name. */
  byEvent: ReadonlyMap<string, readonly string[]>
  /** Live journeys whose entry is entering or leaving that segment. */
  bySegment: ReadonlyMap<string, readonly string[]>
  /** The contact's next-best-action now (predictions), for nextBestAction nodes. */
  nextBestAction(contactKey: string, segments: readonly string[], now: number): string | null
}

function hasNextBestAction(definitions: Iterable<JourneyDefinition>): boolean {
  for (const definition of definitions) {
    for (const node of Object.values(definition.nodes))
      if (node.type === 'nextBestAction') return true
  }
  return false
}

const definitionKey = (journeyId: string, version: number) => `${journeyId}:${version}`

/** What the live journeys of one configuration read give every plan: their definitions and indexes. */
interface LiveIndex {
  byId: ReadonlyMap<string, LiveJourney>
  definitions: ReadonlyMap<string, JourneyDefinition>
  byEvent: ReadonlyMap<string, readonly string[]>
  bySegment: ReadonlyMap<string, readonly string[]>
  /** Whether a live definition has a nextBestAction node. */
  nextBestAction: boolean
}

/**
 * Built once per configuration read (journeyConfig answers the same object for a few seconds),
 * not on every ingest: only the definitions of active runs on versions no longer live are looked
 * up per plan.
 */
const liveIndexes = new WeakMap<JourneyConfig, Promise<LiveIndex>>()

function liveIndex(env: Pick<Env, 'DB'>, config: JourneyConfig): Promise<LiveIndex> {
  let index = liveIndexes.get(config)
  if (!index) {
    index = buildLiveIndex(env, config)
    liveIndexes.set(config, index)
    index.catch(() => liveIndexes.delete(config))
  }
  return index
}

async function buildLiveIndex(env: Pick<Env, 'DB'>, config: JourneyConfig): Promise<LiveIndex> {
  const definitions = new Map<string, JourneyDefinition>()
  await Promise.all(
    config.journeys.flatMap((journey) =>
      journey.live.map(async ({ version }) => {
        const definition = await journeyDefinition(env, journey.id, version)
        if (definition) definitions.set(definitionKey(journey.id, version), definition)
      }),
    ),
  )
  const byEvent = new Map<string, string[]>()
  const bySegment = new Map<string, string[]>()
  const add = (index: Map<string, string[]>, k: string, id: string) => {
    const ids = index.get(k) ?? []
    if (!ids.includes(id)) ids.push(id)
    index.set(k, ids)
  }
  for (const journey of config.journeys) {
    for (const { version } of journey.live) {
      const entry = definitions.get(definitionKey(journey.id, version))?.entry
      if (!entry) continue
      if ('event' in entry) add(byEvent, entry.event, journey.id)
      if ('segment' in entry) add(bySegment, entry.segment, journey.id)
    }
  }
  return {
    byId: new Map(config.journeys.map((journey) => [journey.id, journey])),
    definitions,
    byEvent,
    bySegment,
    nextBestAction: hasNextBestAction(definitions.values()),
  }
}

/** The plan of the newest configuration for a contact with these active runs. */
export async function loadJourneyPlan(
  env: Pick<Env, 'DB'>,
  active: readonly Run[],
): Promise<JourneyPlan> {
  const config = await journeyConfig(env)
  const live = await liveIndex(env, config)
  const pinned = active.filter(
    (run) => !live.definitions.has(definitionKey(run.journeyId, run.version)),
  )
  let definitions = live.definitions
  let withChooser = live.nextBestAction
  if (pinned.length > 0) {
    const all = new Map(live.definitions)
    for (const run of pinned) {
      const definition = await journeyDefinition(env, run.journeyId, run.version)
      if (!definition) continue
      all.set(definitionKey(run.journeyId, run.version), definition)
      withChooser ||= hasNextBestAction([definition])
    }
    definitions = all
  }
  const chooser = withChooser ? await nextBestActionCandidates(env) : null
  return {
    config,
    byId: live.byId,
    definitions,
    byEvent: live.byEvent,
    bySegment: live.bySegment,
    nextBestAction: (key, segments, now) =>
      chooser && chooser.actions.length > 0
        ? nextBestAction(chooser.actions, { key, segments }, chooser.outcomes, new Date(now))
        : null,
  }
}

/** What a round needs of its contact object, inside the object's transaction. */
export interface JourneyHost {
  key: string
  now: number
  journeys: Journeys
  traits(): Record<string, unknown>
  /** A segment rule against the contact as it is at this moment. */
  matches(rule: Rule): boolean
  consent(purpose: Purpose): boolean
  timeZone(): string
  nextBestAction(): string | null
  /** Stores one of Cairn's own events; its seq. */
  storeOwnEvent(name: string, properties: Record<string, unknown>): number
  /** Makes a message (messaging's rules decide whether it may go); its status and why not. */
  makeMessage(request: MessageRequest): { status: MessageStatus; reason: string | null }
  setTraits(traits: Record<string, unknown>): string[]
  /** Puts the contact on a list or takes it off; whether that changed anything. */
  setList(listId: string, member: boolean): boolean
  /** Re-evaluates the segments a change affects (their own events are then `drained`). */
  updateSegments(change: SegmentChange): void
  /** The own events stored since the last call (segment moves, list changes …). */
  drain(): StoredEvent[]
  enqueue(message: QueuedMessage): void
  /** Keeps the run's timer due at `at`, or drops it (null). */
  schedule(runId: string, at: number | null): void
}

/** A stored event as journeys see it. */
export function journeyEvent(event: StoredEvent): JourneyEvent {
  const name =
    event.type === 'page'
      ? PAGE_EVENT
      : event.type === 'screen'
        ? SCREEN_EVENT
        : (event.event ?? '')
  return {
    id: event.id,
    name,
    at: Date.parse(event.timestamp),
    properties: propertiesOf(event),
  }
}

/** The trigger a run keeps: what templates read as `event`. */
function trigger(event: StoredEvent): Record<string, unknown> {
  const { name, properties } = journeyEvent(event)
  return { event: name, properties, timestamp: event.timestamp, messageId: event.messageId }
}

/** One change's journeys: made inside the transaction that stores the change. */
export class JourneyRound {
  private readonly context: StepContext

  constructor(
    private readonly host: JourneyHost,
    private readonly plan: JourneyPlan,
  ) {
    this.context = {
      now: host.now,
      matches: (rule) => host.matches(rule),
      timeZone: '',
      consent: (purpose) => host.consent(purpose),
      winner: () => undefined,
      nextBestAction: () => host.nextBestAction(),
    }
    let zone: string | undefined
    Object.defineProperty(this.context, 'timeZone', { get: () => (zone ??= host.timeZone()) })
  }

  /**
   * Offers the events (stored by the change, then those the round's own effects store) to every
   * active run, then to the entries, then checks every run's exitWhen.
   */
  handle(events: readonly StoredEvent[], checkExits = true) {
    const queue = [...events, ...this.host.drain()]
    let handled = 0
    while (queue.length > 0) {
      if (handled++ >= MAX_EVENTS_PER_ROUND) {
        console.error('journey round stopped: too many events', this.host.key, queue.length)
        break
      }
      const event = queue.shift()!
      if (event.enrichment.bot) continue
      const seen = journeyEvent(event)
      for (const run of this.host.journeys.active()) {
        const definition = this.definition(run)
        if (!definition) continue
        const advance = this.paused(run.journeyId)
          ? reachGoal(definition, run, seen, this.host.now)
          : observe(definition, run, seen, this.contextFor(run))
        this.apply(run, advance)
      }
      this.enterOn(event, seen)
      if (checkExits) this.checkExits()
      queue.push(...this.host.drain())
    }
  }

  /** A run's timer came (the `journeys` job). */
  wake(run: Run) {
    const definition = this.definition(run)
    if (!definition || this.paused(run.journeyId)) return
    this.apply(run, wake(definition, run, this.contextFor(run)))
    this.handle([])
  }

  /** `POST /api/journeys/:id/enter`: whether the contact entered, and why not. */
  enterByApi(
    journeyId: string,
    data: Record<string, unknown>,
  ): { runId?: string; refused?: string } {
    const journey = this.plan.byId.get(journeyId)
    if (!journey || journey.status !== 'live') return { refused: 'the journey is not live' }
    const result = this.tryEnter(journey, (entry) => 'api' in entry, { data })
    this.handle([])
    return result
  }

  /** After a pause: due timers go on, and a waitFor looks for its event since it began waiting. */
  resume(
    journeyId: string,
    matchingSince: (run: Run, definition: JourneyDefinition) => JourneyEvent | null,
  ) {
    for (const run of this.host.journeys.active()) {
      if (run.journeyId !== journeyId) continue
      const definition = this.definition(run)
      if (!definition) continue
      const found = matchingSince(run, definition)
      const context = this.contextFor(run)
      const advance = found
        ? observe(definition, run, found, context)
        : wake(definition, run, context)
      this.apply(run, advance)
    }
    this.handle([])
  }

  /** Moves a run as a migration asks (the caller checked the node map); logs it. */
  migrate(run: Run, version: number, node: string) {
    const moved: Run = { ...run, version, node }
    const step = {
      at: this.host.now,
      node,
      type:
        this.plan.definitions.get(definitionKey(run.journeyId, version))?.nodes[node]?.type ??
        'exit',
      outcome: `migrated from version ${run.version} at ${run.node}`,
    }
    this.apply(run, { run: moved, effects: [], steps: [step] })
    this.handle([])
  }

  private definition(run: Run): JourneyDefinition | undefined {
    return this.plan.definitions.get(definitionKey(run.journeyId, run.version))
  }

  private paused(journeyId: string): boolean {
    return this.plan.byId.get(journeyId)?.status !== 'live'
  }

  private contextFor(run: Run): StepContext {
    const winners = this.plan.byId.get(run.journeyId)?.winners ?? {}
    return Object.create(this.context, {
      winner: { value: (node: string) => winners[`${run.version}:${node}`] },
      apply: { value: (effect: Effect) => this.change(run.journeyId, effect) },
    }) as StepContext
  }

  private enterOn(event: StoredEvent, seen: JourneyEvent) {
    const candidates = new Set(this.plan.byEvent.get(seen.name) ?? [])
    const segmentId = event.properties?.segmentId
    const move =
      seen.name === 'Segment Entered' ? 'enter' : seen.name === 'Segment Exited' ? 'exit' : null
    if (move && typeof segmentId === 'string') {
      for (const id of this.plan.bySegment.get(segmentId) ?? []) candidates.add(id)
    }
    for (const id of candidates) {
      const journey = this.plan.byId.get(id)
      if (!journey || journey.status !== 'live') continue
      this.tryEnter(
        journey,
        (entry) =>
          'segment' in entry
            ? move === entry.on && entry.segment === segmentId
            : entryMatches(entry, seen),
        { trigger: trigger(event) },
      )
    }
  }

  private tryEnter(
    journey: LiveJourney,
    accepts: (entry: JourneyDefinition['entry']) => boolean,
    init: { data?: Record<string, unknown>; trigger?: Record<string, unknown> },
  ): { runId?: string; refused?: string } {
    if (journey.live.length === 0) return { refused: 'no live version' }
    const version = pickVersion(journey.live, this.host.key, journey.id)
    const definition = this.plan.definitions.get(definitionKey(journey.id, version))
    if (!definition || !accepts(definition.entry)) return { refused: 'the entry does not match' }
    const earlier = this.host.journeys.runsOf(journey.id)
    if (!mayEnter(definition.reentry, earlier, this.host.now)) {
      return {
        refused: earlier.some((run) => run.state === 'active')
          ? 'already in it'
          : 're-entry not allowed',
      }
    }
    const id = `run_${crypto.randomUUID()}`
    const placeholder = { id, journeyId: journey.id, version } as Run
    const advance = enter(
      definition,
      { id, journeyId: journey.id, version, ...init },
      this.contextFor(placeholder),
    )
    this.apply(null, advance)
    return { runId: id }
  }

  private checkExits() {
    for (const run of this.host.journeys.active()) {
      const definition = this.definition(run)
      if (definition?.exitWhen) this.apply(run, checkExit(definition, run, this.contextFor(run)))
    }
  }

  /** Carries out an advance: its effects, the run and its log, its timer, and the report to D1. */
  private apply(before: Run | null, advance: Advance) {
    if (before && advance.run === before && advance.steps.length === 0) return
    const { run } = advance
    const steps = advance.steps.map((step) => ({ ...step }))
    for (const effect of advance.effects) {
      const note = this.send(run, effect)
      const step = steps.find(
        (s) => s.node === effect.node && s.type === effect.kind && !/^entered|: /.test(s.outcome),
      )
      if (step) step.outcome = `${step.outcome}: ${note}`
    }
    this.host.enqueue(this.host.journeys.save(this.host.key, run, steps, this.host.now))
    this.host.schedule(run.id, run.state === 'active' ? run.wakeAt : null)
    if (before === null || before.state !== run.state) this.host.updateSegments({ journeys: true })
  }

  /**
   * A node that changes the contact (updateTraits, list, track) as it runs, with its own event on
   * the timeline and the segments it can move, so the nodes after it see the change.
   */
  private change(journeyId: string, effect: Effect) {
    const host = this.host
    if (effect.kind === 'updateTraits') {
      const changed = host.setTraits(effect.traits)
      if (changed.length === 0) return
      const traits = Object.fromEntries(changed.map((name) => [name, effect.traits[name]]))
      host.storeOwnEvent(TRAITS_UPDATED_EVENT, { journeyId, node: effect.node, traits })
      host.updateSegments({ traits: changed })
    } else if (effect.kind === 'list') {
      if (!host.setList(effect.listId, effect.member)) return
      const name = effect.member ? ADDED_TO_LIST_EVENT : REMOVED_FROM_LIST_EVENT
      host.storeOwnEvent(name, { listId: effect.listId, journeyId })
      host.updateSegments({ lists: [effect.listId] })
    } else if (effect.kind === 'track') {
      host.storeOwnEvent(effect.event, { ...effect.properties, journeyId })
      host.updateSegments({ eventNames: [effect.event] })
    }
  }

  /** A node that reaches out (email, webhook, ticket): made here, sent after the commit. */
  private send(run: Run, effect: Effect): string {
    const host = this.host
    const idempotencyKey = actionKey(
      run.journeyId,
      run.version,
      effect.node,
      'idempotencyKey' in effect ? effect.idempotencyKey : '',
    )
    if (effect.kind === 'email') {
      const target = this.plan.config.targets[effect.template]
      if (!target) return `skipped: no template ${effect.template}`
      const groupId = effect.subscriptionGroup ?? target.groupId
      const { status, reason } = host.makeMessage({
        templateId: target.templateId,
        kind: target.kind,
        groupId,
        groupDefault:
          groupId === target.groupId
            ? target.groupDefault
            : (this.plan.config.groupDefaults[groupId] ?? false),
        idempotencyKey,
        journeyId: run.journeyId,
        data: run.data,
        event: run.trigger,
        rules: this.plan.config.sendRules,
      })
      return reason ? `${status} (${reason})` : status
    }
    if (effect.kind !== 'webhook' && effect.kind !== 'ticket') return 'done'
    const traits = host.traits()
    const job: JourneyActionJob = {
      kind: effect.kind,
      idempotencyKey,
      contactKey: host.key,
      journeyId: run.journeyId,
      version: run.version,
      runId: run.id,
      node: effect.node,
      contact: {
        key: host.key,
        email: typeof traits.email === 'string' ? traits.email : null,
        traits,
      },
      event: run.trigger,
      data: run.data,
      ...(effect.kind === 'webhook'
        ? { webhook: { url: effect.url, method: effect.method, body: effect.body } }
        : { ticket: { subject: effect.subject, body: effect.body } }),
      at: new Date(host.now).toISOString(),
    }
    host.enqueue({ kind: 'journey-action', job })
    return 'queued'
  }
}
