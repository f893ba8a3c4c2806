import type { Purpose } from '../consent'
import { bucketOf, bucketSeed } from '../segments/bucket'
import { durationMs, type PropertyCondition, type Rule } from '../segments/rule'
import { compare, valueAt } from '../segments/values'
import type { Entry, JourneyDefinition, JourneyNode, NodeType, Reentry } from './definition'
import { nextLocalTime } from './local-time'

/**
 * How one contact's run moves through a journey version's graph. Pure: the ContactDO (and the
 * simulator, on a made-up contact and a simulated clock) hands it the run, what the contact looks
 * like now (StepContext) and what happened (entry, a due timer, an event, any change), and carries
 * out the effects it answers inside the transaction that made the change.
 *
 * A run executes nodes until one holds it (a wait, a waitUntil, a waitFor) or it ends (an exit
 * node, a node with nowhere to go). Every node executed is a step: the run's step counter names
 * it, so an effect's idempotency key (`<run>:<step>`) is the same however often the change that
 * caused it is replayed, and a second alarm for a wait already passed finds nothing due.
 */

export type RunState = 'active' | 'completed' | 'exited'

export interface Run {
  id: string
  journeyId: string
  version: number
  state: RunState
  /** The node the run waits at while active; its last node once it ended. */
  node: string
  /** When the node it waits at gives way (a wait's end, a waitFor's timeout); null otherwise. */
  wakeAt: number | null
  /** Nodes executed so far. */
  steps: number
  enteredAt: number
  endedAt: number | null
  /** Ended by reaching the journey's goal. */
  converted: boolean
  /** Why it ended: `exit node`, `end of path`, `goal`, `exitWhen`, `api`, `loop` … */
  reason: string | null
  /** The path each experiment node sent it down. */
  paths: Record<string, string>
  /** `data` given at entry by the API, in templates' scope as `data`. */
  data: Record<string, unknown>
  /** The event that started the run, in templates' scope as `event`. */
  trigger: Record<string, unknown> | null
}

/** An event as journeys see it (a stored event of the contact, or one the simulator scripts). */
export interface JourneyEvent {
  id: string
  name: string
  at: number
  properties: Record<string, unknown>
}

/** What the engine may ask about the contact, now. */
export interface StepContext {
  now: number
  /** A segment rule (branch cases, exitWhen) against the contact as it is now. */
  matches(rule: Rule): boolean
  /** The contact's IANA time zone, for waitUntil nodes with `timezone: "contact"`. */
  timeZone: string
  consent(purpose: Purpose): boolean
  /** The winner declared for an experiment node of this version, if any. */
  winner(node: string): string | undefined
  /** The contact's next-best-action (predictions), or null when none is configured. */
  nextBestAction(): string | null
  /**
   * Carries out a change to the contact (updateTraits, list, track) as its node runs, so the
   * nodes after it see the contact changed. Without it those effects are returned with the rest.
   */
  apply?(effect: Effect): void
}

/** What a step asks the platform to do, in the transaction of the change. */
export type Effect =
  | {
      kind: 'email'
      node: string
      idempotencyKey: string
      template: string
      subscriptionGroup?: string
    }
  | {
      kind: 'webhook'
      node: string
      idempotencyKey: string
      url: string
      method: 'POST' | 'PUT' | 'PATCH'
      body: Record<string, unknown> | null
    }
  | { kind: 'ticket'; node: string; idempotencyKey: string; subject: string; body: string }
  | { kind: 'updateTraits'; node: string; traits: Record<string, unknown> }
  | { kind: 'list'; node: string; listId: string; member: boolean }
  | { kind: 'track'; node: string; event: string; properties: Record<string, unknown> }

/** One line of a run's step log. */
export interface Step {
  at: number
  node: string
  type: NodeType
  /** What happened there, in words a marketer reads in the log. */
  outcome: string
  /** Where the run went from it, if anywhere. */
  next?: string
}

export interface Advance {
  run: Run
  effects: Effect[]
  steps: Step[]
}

/** A graph the validator accepted cannot loop without a wait; this stops one that slipped by. */
export const MAX_STEPS_PER_ADVANCE = 200

export interface NewRun {
  id: string
  journeyId: string
  version: number
  data?: Record<string, unknown>
  trigger?: Record<string, unknown> | null
}

/** Starts a run at the definition's start node and takes it as far as it goes now. */
export function enter(definition: JourneyDefinition, init: NewRun, ctx: StepContext): Advance {
  const run: Run = {
    id: init.id,
    journeyId: init.journeyId,
    version: init.version,
    state: 'active',
    node: definition.start,
    wakeAt: null,
    steps: 0,
    enteredAt: ctx.now,
    endedAt: null,
    converted: false,
    reason: null,
    paths: {},
    data: init.data ?? {},
    trigger: init.trigger ?? null,
  }
  const type = definition.nodes[definition.start]?.type ?? 'exit'
  const entered = {
    at: ctx.now,
    node: definition.start,
    type,
    outcome: `entered version ${init.version}`,
  }
  return proceed(definition, run, definition.start, ctx, [entered])
}

/**
 * The timer of a waiting run came (the scheduler's alarm, or the simulator's clock): a wait or
 * waitUntil goes on to its next node, a waitFor to its onTimeout. A timer not yet due, or one
 * for a run that moved on (a repeated alarm), changes nothing.
 */
export function wake(definition: JourneyDefinition, run: Run, ctx: StepContext): Advance {
  if (run.state !== 'active' || run.wakeAt === null || run.wakeAt > ctx.now) return unchanged(run)
  const node = definition.nodes[run.node]
  if (!node) return end(run, 'exited', `node ${run.node} no longer exists`, ctx.now, [])
  const steps: Step[] = []
  const waited = { ...run, wakeAt: null }
  if (node.type === 'waitFor') {
    steps.push(
      step(ctx.now, run.node, node, `timed out waiting for ${node.performed}`, node.onTimeout),
    )
    return proceed(definition, waited, node.onTimeout, ctx, steps)
  }
  if (node.type !== 'wait' && node.type !== 'waitUntil') return unchanged(run)
  steps.push(step(ctx.now, run.node, node, 'wait over', node.next))
  return proceed(definition, waited, node.next, ctx, steps)
}

/**
 * An event of the contact, stored in the transaction that calls this: the journey's goal ends
 * the run as converted; a waitFor it matches goes on to its next node.
 */
export function observe(
  definition: JourneyDefinition,
  run: Run,
  event: JourneyEvent,
  ctx: StepContext,
): Advance {
  if (run.state !== 'active') return unchanged(run)
  const converted = reachGoal(definition, run, event, ctx.now)
  if (converted.run !== run) return converted
  // The timeout came before the event, only its alarm is late: the run takes onTimeout first.
  if (run.wakeAt !== null && event.at > run.wakeAt && ctx.now >= run.wakeAt) {
    const woken = wake(definition, run, ctx)
    if (woken.run.state !== 'active' || woken.run === run) return woken
    const then = observe(definition, woken.run, event, ctx)
    return {
      run: then.run,
      effects: [...woken.effects, ...then.effects],
      steps: [...woken.steps, ...then.steps],
    }
  }
  const node = definition.nodes[run.node]
  if (node?.type !== 'waitFor' || run.wakeAt === null) return unchanged(run)
  if (event.name !== node.performed || !matchesWhere(event.properties, node.where)) {
    return unchanged(run)
  }
  const steps = [step(ctx.now, run.node, node, `${node.performed} arrived`, node.next)]
  return proceed(definition, { ...run, wakeAt: null }, node.next, ctx, steps)
}

/**
 * The goal alone: an event that reaches it ends the run as converted. A paused journey's runs
 * take no step, but a goal reached meanwhile still counts (it sends nothing).
 */
export function reachGoal(
  definition: JourneyDefinition,
  run: Run,
  event: JourneyEvent,
  now: number,
): Advance {
  const goal = definition.goal
  if (run.state !== 'active' || !goal || event.name !== goal.performed) return unchanged(run)
  if (!matchesWhere(event.properties, goal.where) || event.at < run.enteredAt) return unchanged(run)
  if (goal.within && event.at - run.enteredAt > durationMs(goal.within)) return unchanged(run)
  return end({ ...run, converted: true }, 'completed', `goal: ${goal.performed}`, now, [])
}

/** Any change to the contact: a run whose journey's `exitWhen` now holds leaves. */
export function checkExit(definition: JourneyDefinition, run: Run, ctx: StepContext): Advance {
  if (run.state !== 'active' || !definition.exitWhen || !ctx.matches(definition.exitWhen)) {
    return unchanged(run)
  }
  return end(run, 'exited', 'exitWhen', ctx.now, [])
}

/** Ends an active run from outside the graph (the API, a migration refused, an erasure). */
export function stop(run: Run, reason: string, now: number): Advance {
  if (run.state !== 'active') return unchanged(run)
  return end(run, 'exited', reason, now, [])
}

/** Whether an event starts the journey (before re-entry rules). */
export function entryMatches(entry: Entry, event: JourneyEvent): boolean {
  if ('event' in entry)
    return event.name === entry.event && matchesWhere(event.properties, entry.where)
  return false
}

/**
 * Whether a contact with these earlier runs of the journey may enter again. One run at a time
 * always: a contact still in the journey is never entered twice.
 */
export function mayEnter(
  reentry: Reentry | undefined,
  earlier: readonly Pick<Run, 'state' | 'enteredAt' | 'endedAt'>[],
  now: number,
): boolean {
  if (earlier.length === 0) return true
  if (earlier.some((run) => run.state === 'active')) return false
  const rule = reentry ?? 'never'
  if (rule === 'never') return false
  if (rule === 'after_exit') return true
  const last = Math.max(...earlier.map((run) => run.enteredAt))
  return now - last >= durationMs(rule.after)
}

/**
 * The version a new entrant takes among the live ones and their weights: stable for the contact
 * (a hash of its key and the journey), so a contact re-entering meets the same side of a split.
 */
export function pickVersion(
  live: readonly { version: number; weight: number }[],
  contactKey: string,
  journeyId: string,
): number {
  return weighted(live, unit(`${journeyId}:version`, contactKey)).version
}

/** A number in [0, 1) fixed by the seed: splits and experiments are reproducible per run. */
export function unit(salt: string, seed: string): number {
  return bucketOf(bucketSeed(seed), salt) / 10_000
}

function weighted<T extends { weight: number }>(options: readonly T[], u: number): T {
  const total = options.reduce((sum, option) => sum + Math.max(0, option.weight), 0)
  let point = u * total
  for (const option of options) {
    point -= Math.max(0, option.weight)
    if (point < 0) return option
  }
  return options[options.length - 1]!
}

/** Executes nodes from `from` until one holds the run or it ends. */
function proceed(
  definition: JourneyDefinition,
  start: Run,
  from: string,
  ctx: StepContext,
  steps: Step[],
): Advance {
  let run = start
  const effects: Effect[] = []
  const change = (effect: Effect) => (ctx.apply ? ctx.apply(effect) : effects.push(effect))
  let id: string | undefined = from
  for (let n = 0; n < MAX_STEPS_PER_ADVANCE; n++) {
    if (id === undefined) return end(run, 'completed', 'end of path', ctx.now, steps, effects)
    const node: JourneyNode | undefined = definition.nodes[id]
    if (!node) return end(run, 'exited', `unknown node ${id}`, ctx.now, steps, effects)
    run = { ...run, node: id, steps: run.steps + 1 }
    const key = `${run.id}:${run.steps}`
    const at = ctx.now
    switch (node.type) {
      case 'wait':
      case 'waitUntil':
      case 'waitFor': {
        const wakeAt =
          node.type === 'wait'
            ? at + durationMs(node.for)
            : node.type === 'waitFor'
              ? at + durationMs(node.timeout)
              : nextLocalTime(at, node.time, node.days, zoneOf(node.timezone, ctx))
        const what =
          node.type === 'waitFor' ? `waiting for ${node.performed} until` : 'waiting until'
        steps.push(step(at, id, node, `${what} ${new Date(wakeAt).toISOString()}`))
        return { run: { ...run, wakeAt }, effects, steps }
      }
      case 'branch': {
        const index: number = node.cases.findIndex((c) => ctx.matches(c.rule))
        const next: string = index === -1 ? node.otherwise : node.cases[index]!.next
        const why = index === -1 ? 'no case matched: otherwise' : `case ${index} matched`
        steps.push(step(at, id, node, why, next))
        id = next
        continue
      }
      case 'split': {
        const path: { weight: number; next: string } = weighted(
          node.paths,
          unit(`${run.journeyId}:${id}`, run.id),
        )
        steps.push(step(at, id, node, `path ${node.paths.indexOf(path)}`, path.next))
        id = path.next
        continue
      }
      case 'experiment': {
        const winner = ctx.winner(id)
        const declared = winner ? node.paths.find((p) => p.name === winner) : undefined
        const path: { name: string; weight: number; next: string } =
          declared ?? weighted(node.paths, unit(`${run.journeyId}:${id}`, run.id))
        run = { ...run, paths: { ...run.paths, [id]: path.name } }
        const why = declared ? `winner ${path.name}` : `path ${path.name}`
        steps.push(step(at, id, node, why, path.next))
        id = path.next
        continue
      }
      case 'nextBestAction': {
        const action = ctx.nextBestAction()
        const match: { action: string; next: string } | undefined = node.actions.find(
          (a) => a.action === action,
        )
        const next: string = match ? match.next : node.otherwise
        const why = match ? `next-best-action ${action}` : 'no matching action: otherwise'
        steps.push(step(at, id, node, why, next))
        id = next
        continue
      }
      case 'email':
        effects.push({
          kind: 'email',
          node: id,
          idempotencyKey: key,
          template: node.template,
          ...(node.subscriptionGroup ? { subscriptionGroup: node.subscriptionGroup } : {}),
        })
        steps.push(step(at, id, node, `email ${node.template}`, node.next))
        id = node.next
        continue
      case 'webhook':
      case 'ticket': {
        if (node.purpose && !ctx.consent(node.purpose)) {
          steps.push(step(at, id, node, `skipped: no ${node.purpose} consent`, node.next))
          id = node.next
          continue
        }
        effects.push(
          node.type === 'webhook'
            ? {
                kind: 'webhook',
                node: id,
                idempotencyKey: key,
                url: node.url,
                method: node.method ?? 'POST',
                body: node.body ?? null,
              }
            : {
                kind: 'ticket',
                node: id,
                idempotencyKey: key,
                subject: node.subject,
                body: node.body,
              },
        )
        const what = node.type === 'webhook' ? `webhook ${node.url}` : `ticket "${node.subject}"`
        steps.push(step(at, id, node, what, node.next))
        id = node.next
        continue
      }
      case 'updateTraits':
        change({ kind: 'updateTraits', node: id, traits: node.traits })
        steps.push(step(at, id, node, `traits ${Object.keys(node.traits).join(', ')}`, node.next))
        id = node.next
        continue
      case 'list': {
        const member = 'add' in node
        const listId = 'add' in node ? node.add : node.remove
        change({ kind: 'list', node: id, listId, member })
        steps.push(
          step(at, id, node, `${member ? 'added to' : 'removed from'} ${listId}`, node.next),
        )
        id = node.next
        continue
      }
      case 'track':
        change({
          kind: 'track',
          node: id,
          event: node.event,
          properties: node.properties ?? {},
        })
        steps.push(step(at, id, node, `tracked ${node.event}`, node.next))
        id = node.next
        continue
      case 'exit':
        steps.push(step(at, id, node, 'exit'))
        return end(run, 'completed', 'exit node', at, steps, effects)
    }
  }
  // Nothing the loop asked for goes out: its emails would be one per pass.
  return end(run, 'exited', 'loop without a wait', ctx.now, steps, [])
}

function end(
  run: Run,
  state: Exclude<RunState, 'active'>,
  reason: string,
  now: number,
  steps: Step[],
  effects: Effect[] = [],
): Advance {
  return {
    run: { ...run, state, reason, endedAt: now, wakeAt: null },
    effects,
    steps: [...steps, { at: now, node: run.node, type: 'exit', outcome: `${state}: ${reason}` }],
  }
}

function unchanged(run: Run): Advance {
  return { run, effects: [], steps: [] }
}

function step(at: number, id: string, node: JourneyNode, outcome: string, next?: string): Step {
  return next === undefined
    ? { at, node: id, type: node.type, outcome }
    : { at, node: id, type: node.type, outcome, next }
}

function zoneOf(timezone: string | undefined, ctx: StepContext): string {
  return !timezone || timezone === 'contact' ? ctx.timeZone : timezone
}

/** Every condition holds for the event's properties (none: any event of the name). */
export function matchesWhere(
  properties: Record<string, unknown>,
  where: readonly PropertyCondition[] | undefined,
): boolean {
  if (!where) return true
  return where.every((condition) => compare(valueAt(properties, condition.property), condition))
}
