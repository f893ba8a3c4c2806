import type { Purpose } from '../consent'
import type { Duration, PropertyCondition, Rule } from '../segments/rule'

/**
 * A journey version's definition (the "Journeys" contract in ARCHITECTURE.md), as types. Pure:
 * the zod schema that validates input and feeds the OpenAPI document is contracts/journey.ts,
 * typed against these; the engine (engine.ts), the validator (validate.ts) and the simulator
 * (simulate.ts) read them.
 */

export type Entry =
  | { event: string; where?: PropertyCondition[] }
  | { segment: string; on: 'enter' | 'exit' }
  | { api: true }

export type Reentry = 'never' | 'after_exit' | { after: Duration }

export interface Goal {
  performed: string
  where?: PropertyCondition[]
  /** Counted from entry: a goal reached later does not convert the run. */
  within?: Duration
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type Weekday = (typeof WEEKDAYS)[number]

/**
 * A node that does something for the contact may name the consent purpose it needs: without it
 * the node is skipped and logged, and the run goes on (email nodes need marketing consent for
 * marketing templates, which messaging decides and records on the message).
 */
interface Needs {
  purpose?: Purpose
}

export type JourneyNode =
  | { type: 'wait'; for: Duration; next: string }
  | {
      type: 'waitUntil'
      /** Local wall-clock time, `HH:MM`. */
      time: string
      days?: Weekday[]
      /** `contact` (the default): the contact's time zone; or an IANA zone. */
      timezone?: string
      next: string
    }
  | {
      type: 'waitFor'
      performed: string
      where?: PropertyCondition[]
      timeout: Duration
      next: string
      onTimeout: string
    }
  | { type: 'branch'; cases: { rule: Rule; next: string }[]; otherwise: string }
  | { type: 'split'; paths: { weight: number; next: string }[] }
  | {
      type: 'experiment'
      paths: { name: string; weight: number; next: string }[]
      minPerPath: number
    }
  | { type: 'email'; template: string; subscriptionGroup?: string; next: string }
  | ({
      type: 'webhook'
      url: string
      method?: 'POST' | 'PUT' | 'PATCH'
      body?: Record<string, unknown>
      next: string
    } & Needs)
  | { type: 'updateTraits'; traits: Record<string, unknown>; next: string }
  | { type: 'list'; add: string; next: string }
  | { type: 'list'; remove: string; next: string }
  | ({ type: 'ticket'; subject: string; body: string; next: string } & Needs)
  | { type: 'track'; event: string; properties?: Record<string, unknown>; next: string }
  | {
      /** Picks the contact's next-best-action (predictions) and takes the path named for it. */
      type: 'nextBestAction'
      actions: { action: string; next: string }[]
      otherwise: string
    }
  | { type: 'exit' }

export type NodeType = JourneyNode['type']

export const NODE_TYPES = [
  'wait',
  'waitUntil',
  'waitFor',
  'branch',
  'split',
  'experiment',
  'email',
  'webhook',
  'updateTraits',
  'list',
  'ticket',
  'track',
  'nextBestAction',
  'exit',
] as const satisfies readonly NodeType[]

/** Nodes that hold a run until a time or an event: a loop must pass one. */
export const WAITING_TYPES: ReadonlySet<NodeType> = new Set(['wait', 'waitUntil', 'waitFor'])

export interface JourneyDefinition {
  entry: Entry
  reentry?: Reentry
  goal?: Goal
  exitWhen?: Rule
  start: string
  nodes: Record<string, JourneyNode>
}

/** The nodes a node leads to, in order, with the label the step log gives each. */
export function successors(node: JourneyNode): { label: string; next: string }[] {
  switch (node.type) {
    case 'exit':
      return []
    case 'waitFor':
      return [
        { label: 'next', next: node.next },
        { label: 'onTimeout', next: node.onTimeout },
      ]
    case 'branch':
      return [
        ...node.cases.map((c, i) => ({ label: `cases[${i}]`, next: c.next })),
        { label: 'otherwise', next: node.otherwise },
      ]
    case 'split':
      return node.paths.map((p, i) => ({ label: `paths[${i}]`, next: p.next }))
    case 'experiment':
      return node.paths.map((p) => ({ label: p.name, next: p.next }))
    case 'nextBestAction':
      return [
        ...node.actions.map((a) => ({ label: a.action, next: a.next })),
        { label: 'otherwise', next: node.otherwise },
      ]
    default:
      return [{ label: 'next', next: node.next }]
  }
}
