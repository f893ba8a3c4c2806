import type { Purpose } from '../consent'
import { ADDED_TO_LIST_EVENT, REMOVED_FROM_LIST_EVENT, TRAITS_UPDATED_EVENT } from './own-events'
import { knownTimeZone } from '../messaging/policy'
import { evaluate, nextChange } from '../segments/evaluate'
import type { ContactFacts, EventFact, SegmentLookup } from '../segments/facts'
import { durationMs, type Duration, type Prediction, type Rule } from '../segments/rule'
import type { JourneyDefinition, NodeType } from './definition'
import {
  checkExit,
  enter,
  entryMatches,
  observe,
  wake,
  type Advance,
  type Effect,
  type JourneyEvent,
  type Run,
  type RunState,
  type StepContext,
} from './engine'

/**
 * The journey simulator behind `POST /api/journeys/:id/simulate`: one made-up contact runs one
 * version (or a draft) through the same engine the contact objects run, on a simulated clock,
 * sending nothing and storing nothing.
 *
 * - The clock starts at `start` (the route passes the real time, so `waitUntil` and time windows
 *   read as they would today). Each scripted event happens `after` its duration **counted from
 *   the start of the simulation** (`after: {days: 1}` is one day after the start, whatever the
 *   events before it), so a marketer can read every event's time straight off the script. Events
 *   at the same moment happen in the order given.
 * - Entry: `{event}` enters on the first scripted event that matches (with its `where`); `{api}`
 *   enters at the start (with `data`); `{segment, on: "enter"}` enters at the first moment the
 *   segment's rule holds for the contact and `on: "exit"` when it stops holding after having
 *   held, the rule looked at the start, after every event and whenever its time windows move.
 *   One run only: re-entry rules are not simulated.
 * - Then scripted events go to the run (goal, waitFor), timers fire at their time in clock order
 *   with the events (an event at the very moment a timer is due comes first: a waitFor's timeout,
 *   like a goal's `within`, includes its last instant), and `exitWhen` is checked after every
 *   change and whenever its time windows move. Effects change the simulated contact as the
 *   contact object changes the real one: traits (with a `Traits Updated` event), lists (`Added
 *   to List` / `Removed from List`), `track` events; those events reach the run in turn and may
 *   satisfy its waitFor or goal. Emails are collected in `wouldSend` for the route to render.
 * - Rules (branches, exitWhen, segment entry) read the contact's traits, events so far with their
 *   simulated times, consent, lists and the predictions given; messages, subscription groups and
 *   other journeys answer nothing, so rules on them never match.
 * - Splits and experiments hash the run's id, which the simulation fixes (`simulated:<contact
 *   key>`): one simulation shows one of their paths, the same one each time.
 * - It stops at `until` (from the start) or when the run ends. Input past the guards (until over
 *   365 days or negative, more than 1,000 steps) answers a SimulationError, which the route turns
 *   into a 400.
 */

export const MAX_SIMULATED_STEPS = 1_000
export const MAX_SIMULATED_DAYS = 365

/** How many own events one change may feed back to the run, as in the contact object. */
const MAX_OWN_EVENTS_PER_CHANGE = 100

export interface ScriptedEvent {
  event: string
  properties?: Record<string, unknown>
  /** From the start of the simulation. */
  after: Duration
}

export interface SimulatedContact {
  key?: string
  traits: Record<string, unknown>
  consent?: Partial<Record<Purpose, boolean>>
  /** Used when the contact has no `timezone` trait; UTC when neither is a known zone. */
  timeZone?: string
  lists?: string[]
  predictions?: Partial<Record<Prediction, number>>
}

export interface SimulationInput {
  definition: JourneyDefinition
  journeyId: string
  version: number
  contact: SimulatedContact
  events: ScriptedEvent[]
  until: Duration
  /** The simulated clock's start, ms since the epoch. */
  start: number
  /** The rules of segments (entry, `inSegment`); unknown ones match no one. */
  segments?: SegmentLookup
  /** Declared experiment winners by node id. */
  winners?: Record<string, string>
  nextBestAction?: string | null
  /** An API entry's `data`. */
  data?: Record<string, unknown>
}

export interface SimulatedStep {
  at: string
  node: string
  type: NodeType
  outcome: string
  next?: string
}

export type SimulatedEffect = Effect & { at: string }

export interface WouldSend {
  at: string
  node: string
  template: string
  subscriptionGroup?: string
  /** What the template would read: the contact as it was then, the run's trigger. */
  contact: { key: string; traits: Record<string, unknown> }
  event: Record<string, unknown> | null
}

export interface SimulatedRun {
  state: RunState
  node: string
  converted: boolean
  reason: string | null
  enteredAt: string
  endedAt: string | null
  /** When the node it waits at gives way, if the simulation stopped while it waited. */
  wakeAt: string | null
  paths: Record<string, string>
}

export interface SimulationResult {
  entered: boolean
  /** Why the contact never entered. */
  reason?: string
  trace: SimulatedStep[]
  effects: SimulatedEffect[]
  wouldSend: WouldSend[]
  run: SimulatedRun | null
  /** The contact as the simulation left it. */
  contact: { traits: Record<string, unknown>; lists: string[] }
}

export interface SimulationError {
  error: { code: 'until_out_of_range' | 'too_many_steps'; message: string }
}

const MAX_UNTIL_MS = MAX_SIMULATED_DAYS * 86_400_000

export function simulate(input: SimulationInput): SimulationResult | SimulationError {
  const until = durationMs(input.until)
  if (!(until >= 0 && until <= MAX_UNTIL_MS)) {
    return {
      error: {
        code: 'until_out_of_range',
        message: `until must be between 0 and ${MAX_SIMULATED_DAYS} days`,
      },
    }
  }
  return new Simulation(input).play(input.start + until)
}

interface Scripted {
  at: number
  name: string
  properties: Record<string, unknown>
}

type Moment = { at: number; kind: 'event' | 'timer' | 'rules' }

class Simulation {
  private now: number
  private readonly traits: Record<string, unknown>
  private readonly lists: Set<string>
  private readonly history = new Map<string, EventFact[]>()
  private readonly script: Scripted[]
  private played = 0
  private eventCount = 0
  private run: Run | null = null
  private readonly ownEvents: JourneyEvent[] = []
  private readonly trace: SimulatedStep[] = []
  private readonly effects: SimulatedEffect[] = []
  private readonly wouldSend: WouldSend[] = []
  /** Whether the entry segment's rule held when last looked at. */
  private segmentHeld = false
  private readonly lookup: SegmentLookup
  private readonly key: string

  constructor(private readonly input: SimulationInput) {
    this.now = input.start
    this.traits = { ...input.contact.traits }
    this.lists = new Set(input.contact.lists ?? [])
    this.lookup = input.segments ?? (() => undefined)
    this.key = input.contact.key ?? 'simulated'
    this.script = input.events
      .map((e, order) => ({ e, order, at: input.start + durationMs(e.after) }))
      .sort((a, b) => a.at - b.at || a.order - b.order)
      .map(({ e, at }) => ({ at, name: e.event, properties: e.properties ?? {} }))
  }

  play(end: number): SimulationResult | SimulationError {
    const entry = this.input.definition.entry
    if ('api' in entry) this.enterNow(null)
    if ('segment' in entry) this.lookAtEntrySegment()
    this.settle()
    for (;;) {
      if (this.trace.length > MAX_SIMULATED_STEPS) break
      if (this.run && this.run.state !== 'active') break
      const moment = this.nextMoment()
      if (!moment || moment.at > end) break
      this.now = Math.max(this.now, moment.at)
      if (moment.kind === 'event') this.happen(this.script[this.played++]!)
      else if (moment.kind === 'timer')
        this.advance(wake(this.input.definition, this.run!, this.ctx()))
      else if (!this.run) this.lookAtEntrySegment()
      this.settle()
    }
    if (this.trace.length > MAX_SIMULATED_STEPS) {
      return {
        error: {
          code: 'too_many_steps',
          message: `more than ${MAX_SIMULATED_STEPS} steps by ${iso(this.now)}: shorten until`,
        },
      }
    }
    return this.result(end)
  }

  /** The earliest thing to happen next: a scripted event, the run's timer, a rule's time window. */
  private nextMoment(): Moment | null {
    const candidates: Moment[] = []
    const scripted = this.script[this.played]
    if (scripted) candidates.push({ at: scripted.at, kind: 'event' })
    if (this.run?.state === 'active' && this.run.wakeAt !== null) {
      candidates.push({ at: this.run.wakeAt, kind: 'timer' })
    }
    const watched = this.run ? this.input.definition.exitWhen : this.entryRule()
    const moves = watched ? nextChange(watched, this.facts(), this.now, this.lookup) : null
    if (moves !== null) candidates.push({ at: moves, kind: 'rules' })
    // Sorting is stable: at the same instant an event comes before a timer, a timer before a rule.
    return candidates.sort((a, b) => a.at - b.at)[0] ?? null
  }

  private happen(scripted: Scripted) {
    const event = this.record(scripted.name, scripted.properties)
    if (this.run) {
      this.advance(observe(this.input.definition, this.run, event, this.ctx()))
      return
    }
    const entry = this.input.definition.entry
    if ('event' in entry && entryMatches(entry, event)) {
      this.enterNow({ event: event.name, properties: event.properties, timestamp: iso(event.at) })
    }
    if ('segment' in entry) this.lookAtEntrySegment()
  }

  /** After every change: the run's own events reach it, then its exitWhen is checked. */
  private settle() {
    let handled = 0
    while (this.ownEvents.length > 0 && handled++ < MAX_OWN_EVENTS_PER_CHANGE) {
      const event = this.ownEvents.shift()!
      if (this.run) this.advance(observe(this.input.definition, this.run, event, this.ctx()))
      if (this.run) this.advance(checkExit(this.input.definition, this.run, this.ctx()))
    }
    this.ownEvents.length = 0
    if (this.run) this.advance(checkExit(this.input.definition, this.run, this.ctx()))
  }

  private entryRule(): Rule | undefined {
    const entry = this.input.definition.entry
    return 'segment' in entry ? this.lookup(entry.segment) : undefined
  }

  private lookAtEntrySegment() {
    const entry = this.input.definition.entry
    const rule = this.entryRule()
    if (!('segment' in entry) || !rule) return
    const holds = evaluate(rule, this.facts(), this.now, this.lookup)
    const moved = entry.on === 'enter' ? holds : this.segmentHeld && !holds
    this.segmentHeld = holds
    if (!moved) return
    const event = entry.on === 'enter' ? 'Segment Entered' : 'Segment Exited'
    this.enterNow({ event, properties: { segmentId: entry.segment }, timestamp: iso(this.now) })
  }

  private enterNow(trigger: Record<string, unknown> | null) {
    const { definition, journeyId, version, data } = this.input
    const id = `simulated:${this.key}`
    this.advance(enter(definition, { id, journeyId, version, data, trigger }, this.ctx()))
  }

  /** Takes an engine's answer: the run, its steps in the trace, its effects on the contact. */
  private advance(advance: Advance) {
    this.run = advance.run
    for (const step of advance.steps) this.trace.push({ ...step, at: iso(step.at) })
    for (const effect of advance.effects) this.carryOut(effect)
  }

  private carryOut(effect: Effect) {
    const at = iso(this.now)
    const journeyId = this.input.journeyId
    this.effects.push({ ...effect, at })
    switch (effect.kind) {
      case 'email':
        this.wouldSend.push({
          at,
          node: effect.node,
          template: effect.template,
          ...(effect.subscriptionGroup ? { subscriptionGroup: effect.subscriptionGroup } : {}),
          contact: { key: this.key, traits: { ...this.traits } },
          event: this.run?.trigger ?? null,
        })
        return
      case 'updateTraits': {
        const changed: Record<string, unknown> = {}
        for (const [name, value] of Object.entries(effect.traits)) {
          if (JSON.stringify(this.traits[name] ?? null) === JSON.stringify(value ?? null)) continue
          this.traits[name] = value ?? null
          changed[name] = value
        }
        if (Object.keys(changed).length > 0) {
          this.own(TRAITS_UPDATED_EVENT, { journeyId, node: effect.node, traits: changed })
        }
        return
      }
      case 'list':
        if (this.lists.has(effect.listId) === effect.member) return
        if (effect.member) this.lists.add(effect.listId)
        else this.lists.delete(effect.listId)
        this.own(effect.member ? ADDED_TO_LIST_EVENT : REMOVED_FROM_LIST_EVENT, {
          listId: effect.listId,
          journeyId,
        })
        return
      case 'track':
        this.own(effect.event, { ...effect.properties, journeyId })
        return
      case 'webhook':
      case 'ticket':
        return
    }
  }

  private own(name: string, properties: Record<string, unknown>) {
    this.ownEvents.push(this.record(name, properties))
  }

  /** Puts an event in the contact's history at the simulated now. */
  private record(name: string, properties: Record<string, unknown>): JourneyEvent {
    const event = {
      id: `sim_${String(this.eventCount++).padStart(6, '0')}`,
      name,
      at: this.now,
      properties,
    }
    const list = this.history.get(name) ?? []
    list.push({ id: event.id, at: event.at, properties })
    this.history.set(name, list)
    return event
  }

  private facts(): ContactFacts {
    const { consent, predictions } = this.input.contact
    return {
      key: this.key,
      traits: this.traits,
      events: (name) => this.history.get(name) ?? [],
      consent: (purpose) => consent?.[purpose] ?? null,
      inList: (listId) => this.lists.has(listId),
      accounts: () => [],
      messages: () => [],
      subscribed: () => null,
      journeyStates: () => [],
      prediction: (name) => predictions?.[name] ?? null,
    }
  }

  private ctx(): StepContext {
    const facts = this.facts()
    const now = this.now
    const { consent, timeZone } = this.input.contact
    const zone = this.traits.timezone
    return {
      now,
      matches: (rule) => evaluate(rule, facts, now, this.lookup),
      timeZone:
        knownTimeZone(typeof zone === 'string' ? zone : null) ?? knownTimeZone(timeZone) ?? 'UTC',
      consent: (purpose) => consent?.[purpose] === true,
      winner: (node) => this.input.winners?.[node],
      nextBestAction: () => this.input.nextBestAction ?? null,
      // Traits, lists and tracked events change as their node runs, as in the contact's object.
      apply: (effect) => this.carryOut(effect),
    }
  }

  private result(end: number): SimulationResult {
    const run = this.run
    const base = {
      entered: run !== null,
      trace: this.trace,
      effects: this.effects,
      wouldSend: this.wouldSend,
      contact: { traits: this.traits, lists: [...this.lists] },
    }
    if (!run) return { ...base, run: null, reason: this.whyNotEntered(end) }
    return {
      ...base,
      run: {
        state: run.state,
        node: run.node,
        converted: run.converted,
        reason: run.reason,
        enteredAt: iso(run.enteredAt),
        endedAt: run.endedAt === null ? null : iso(run.endedAt),
        wakeAt: run.wakeAt === null ? null : iso(run.wakeAt),
        paths: run.paths,
      },
    }
  }

  private whyNotEntered(end: number): string {
    const entry = this.input.definition.entry
    if ('segment' in entry) {
      if (!this.entryRule()) return `segment ${entry.segment} is unknown`
      if (entry.on === 'enter') return `the contact never was in segment ${entry.segment}`
      return this.segmentHeld
        ? `the contact never left segment ${entry.segment}`
        : `the contact never was in segment ${entry.segment}, so never left it`
    }
    if ('event' in entry) {
      const named = this.script.filter((e) => e.name === entry.event)
      if (named.length === 0) return `no scripted ${entry.event} event (the journey's entry)`
      if (named.every((e) => e.at > end)) return `${entry.event} is scripted after until`
      return `no scripted ${entry.event} event met the entry's conditions`
    }
    return 'the journey was not entered'
  }
}

function iso(at: number): string {
  return new Date(at).toISOString()
}
