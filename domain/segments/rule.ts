import type { Purpose } from '../consent'

/**
 * The segment rule grammar (the "Segment rules" contract in ARCHITECTURE.md), as types. Pure:
 * the zod schema that validates input and feeds the OpenAPI document is contracts/segment.ts,
 * typed against these; the evaluator (evaluate.ts) and the SQL compiler (sql.ts) read them.
 */

export interface Duration {
  days?: number
  hours?: number
  minutes?: number
}

export type Scalar = string | number | boolean

/** Operators on a value (trait, event property, account trait, prediction). */
export const VALUE_OPS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'in',
  'exists',
  'not_exists',
] as const
export type ValueOp = (typeof VALUE_OPS)[number]

/** A condition on one value: `value` is a list for `in`, absent for `exists`/`not_exists`. */
export interface ValueCondition {
  op: ValueOp
  value?: Scalar | Scalar[]
}

/** A condition on an event property (dotted path into `properties`). */
export interface PropertyCondition extends ValueCondition {
  property: string
}

export interface CountCondition {
  op: 'gte' | 'eq' | 'lte'
  value: number
}

export const MESSAGE_EVENTS = [
  'sent',
  'delivered',
  'opened',
  'clicked',
  'bounced',
  'complained',
  'unsubscribed',
] as const
export type MessageEvent = (typeof MESSAGE_EVENTS)[number]

export const JOURNEY_STATES = ['active', 'completed', 'exited'] as const
export type JourneyState = (typeof JOURNEY_STATES)[number]

export const PREDICTIONS = ['churnRisk', 'lapseRisk', 'engagement', 'pAlive', 'clv'] as const
export type Prediction = (typeof PREDICTIONS)[number]

/** `performed: "$page"` counts page views and `"$screen"` screen views; any other name track events. */
export const PAGE_EVENT = '$page'
export const SCREEN_EVENT = '$screen'

export type TraitRule =
  | ({ trait: string } & ValueCondition)
  | { trait: string; op: 'within' | 'before'; duration: Duration }

export interface PerformedRule {
  performed: string
  where?: PropertyCondition[]
  count?: CountCondition
  within?: Duration
}

export interface LastPerformedRule {
  lastPerformed: string
  where?: PropertyCondition[]
  has: PropertyCondition[]
}

/** The rule kinds, groups first, leaves in the order the console's builder offers them. */
export const RULE_KINDS = [
  'all',
  'any',
  'not',
  'trait',
  'performed',
  'lastPerformed',
  'consent',
  'message',
  'subscribed',
  'list',
  'bucket',
  'inSegment',
  'journey',
  'account',
  'prediction',
] as const

export type LeafKind = Exclude<(typeof RULE_KINDS)[number], 'all' | 'any' | 'not'>

/** The kinds a rule without children may have. */
export const LEAF_KINDS = RULE_KINDS.filter(
  (kind): kind is LeafKind => kind !== 'all' && kind !== 'any' && kind !== 'not',
)

export type Rule =
  | { all: Rule[] }
  | { any: Rule[] }
  | { not: Rule }
  | TraitRule
  | PerformedRule
  | LastPerformedRule
  | { consent: Purpose; granted: boolean }
  | { message: MessageEvent; template?: string; count?: CountCondition; within?: Duration }
  | { subscribed: string; value: boolean }
  | { list: string }
  | { bucket: { percent: number; salt?: string } }
  | { inSegment: string }
  | { journey: string; state: JourneyState }
  | { account: { trait: string } & ValueCondition }
  | ({ prediction: Prediction } & ValueCondition)

export const MINUTE_MS = 60_000

export function durationMs(d: Duration): number {
  return ((d.days ?? 0) * 24 * 60 + (d.hours ?? 0) * 60 + (d.minutes ?? 0)) * MINUTE_MS
}
