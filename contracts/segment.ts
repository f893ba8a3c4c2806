import { z } from '@hono/zod-openapi'
import { PURPOSES } from '../domain/consent'
import {
  JOURNEY_STATES,
  MESSAGE_EVENTS,
  PREDICTIONS,
  VALUE_OPS,
  type Duration,
  type ValueOp,
  type Rule,
} from '../domain/segments/rule'
import { RULE_KINDS } from '../domain/segments/rule'

/**
 * The segment rule grammar as zod: it validates every rule the API takes and feeds the OpenAPI
 * document (`SegmentRule`). Typed against domain/segments/rule.ts, so the two cannot drift.
 * Errors name the path of the bad part (see `ruleIssues`).
 */

export const SEGMENT_LIMITS = {
  nameChars: 100,
  /** Strings in a rule: event names, trait paths, values, ids. */
  textChars: 200,
  /** Values in an `in` list, rules in an all/any, conditions in a where/has. */
  listItems: 100,
  durationDays: 3650,
  segments: 500,
  /** Rules in one segment with the segments it names read in place (each contact evaluates them). */
  expandedRules: 2_000,
} as const

export const Text = z.string().min(1).max(SEGMENT_LIMITS.textChars)

/**
 * A dotted path into traits or properties (`address.city`). Quotes and backslashes are refused:
 * the SQL compiler quotes each part as a JSON path label.
 */
const Path = Text.regex(/^[^."\\]+(\.[^."\\]+)*$/, 'a dotted path without quotes or backslashes')

export const DurationSchema: z.ZodType<Duration> = z
  .strictObject({
    days: z.number().int().min(0).max(SEGMENT_LIMITS.durationDays).optional(),
    hours: z
      .number()
      .int()
      .min(0)
      .max(24 * SEGMENT_LIMITS.durationDays)
      .optional(),
    minutes: z
      .number()
      .int()
      .min(0)
      .max(1440 * SEGMENT_LIMITS.durationDays)
      .optional(),
  })
  .refine((d) => (d.days ?? 0) + (d.hours ?? 0) + (d.minutes ?? 0) > 0, 'must be longer than 0')
  .openapi('Duration', { example: { days: 7 } })

const Scalar = z.union([z.string().max(SEGMENT_LIMITS.textChars), z.number(), z.boolean()])

/** `op` and `value` together: a list for `in`, nothing for `exists`, one value otherwise. */
function checkValue(c: { op: ValueOp; value?: unknown }, ctx: z.RefinementCtx) {
  const needs = c.op === 'exists' || c.op === 'not_exists' ? 'none' : c.op === 'in' ? 'list' : 'one'
  const has = c.value === undefined ? 'none' : Array.isArray(c.value) ? 'list' : 'one'
  if (needs === has) return
  const message =
    needs === 'none'
      ? `${c.op} takes no value`
      : needs === 'list'
        ? 'in takes a list of values'
        : c.value === undefined
          ? 'required'
          : `${c.op} takes one value, not a list`
  ctx.addIssue({ code: 'custom', path: ['value'], message })
}

const OpValue = {
  op: z.enum(VALUE_OPS),
  value: z.union([Scalar, z.array(Scalar).max(SEGMENT_LIMITS.listItems)]).optional(),
}

const condition = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject({ ...shape, ...OpValue }).superRefine((c, ctx) => checkValue(c as never, ctx))

const PropertyCondition = condition({ property: Path })
export const Where = z.array(PropertyCondition).max(SEGMENT_LIMITS.listItems)
const Count = z.strictObject({ op: z.enum(['gte', 'eq', 'lte']), value: z.number().int().min(0) })

/** Timeline events Cairn writes itself: segment membership reads `inSegment`, not them. */
const OWN_EVENTS = ['Segment Entered', 'Segment Exited']
const EventName = Text.refine((name) => !OWN_EVENTS.includes(name), {
  message: 'membership events cannot be counted: use inSegment',
})

/** The key that says which kind a rule is, in the order the union tries them. */
export { RULE_KINDS }

export const RuleSchema: z.ZodType<Rule> = z
  .lazy(() =>
    z.union(
      [
        z.strictObject({ all: z.array(RuleSchema).min(1).max(SEGMENT_LIMITS.listItems) }),
        z.strictObject({ any: z.array(RuleSchema).min(1).max(SEGMENT_LIMITS.listItems) }),
        z.strictObject({ not: RuleSchema }),
        z.strictObject({ trait: Path, op: z.enum(['within', 'before']), duration: DurationSchema }),
        condition({ trait: Path }),
        z.strictObject({
          performed: EventName,
          where: Where.optional(),
          count: Count.optional(),
          within: DurationSchema.optional(),
        }),
        z.strictObject({ lastPerformed: EventName, where: Where.optional(), has: Where.min(1) }),
        z.strictObject({ consent: z.enum(PURPOSES), granted: z.boolean() }),
        z.strictObject({
          message: z.enum(MESSAGE_EVENTS),
          template: Text.optional(),
          count: Count.optional(),
          within: DurationSchema.optional(),
        }),
        z.strictObject({ subscribed: Text, value: z.boolean() }),
        z.strictObject({ list: Text }),
        z.strictObject({
          bucket: z.strictObject({
            percent: z.number().gt(0).max(100).multipleOf(0.01),
            salt: z.string().max(SEGMENT_LIMITS.textChars).optional(),
          }),
        }),
        z.strictObject({ inSegment: Text }),
        z.strictObject({ journey: Text, state: z.enum(JOURNEY_STATES) }),
        z.strictObject({ account: condition({ trait: Path }) }),
        condition({ prediction: z.enum(PREDICTIONS) }),
      ],
      { error: `not a rule: expected one of ${RULE_KINDS.join(', ')}` },
    ),
  )
  .openapi('SegmentRule', {
    description:
      'One of: all/any/not, trait, performed, lastPerformed, consent, message, subscribed, list, bucket, inSegment, journey, account, prediction (ARCHITECTURE.md "Segment rules")',
    example: {
      all: [
        { trait: 'plan', op: 'eq', value: 'pro' },
        { performed: 'Viewed Pricing', within: { days: 7 } },
      ],
    },
  }) as unknown as z.ZodType<Rule>
