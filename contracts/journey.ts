import { z } from '@hono/zod-openapi'
import { PURPOSES } from '../domain/consent'
import {
  NODE_TYPES,
  WEEKDAYS,
  type JourneyDefinition,
  type JourneyNode,
} from '../domain/journeys/definition'
import { DurationSchema, RuleSchema, Text, Where } from './segment'

/**
 * The journey definition grammar as zod (the "Journeys" contract in ARCHITECTURE.md): it validates
 * every definition the API takes and feeds the OpenAPI document (`JourneyDefinition`). Typed
 * against domain/journeys/definition.ts, so the two cannot drift. The graph itself (unknown next,
 * unreachable nodes, loops without a wait, missing templates and segments) is checked after this,
 * by domain/journeys/validate.ts.
 */

export const JOURNEY_LIMITS = {
  nameChars: 100,
  nodes: 200,
  /** Cases of a branch, paths of a split or experiment, actions of a nextBestAction. */
  choices: 20,
  /** Bytes of a webhook body, trait values or track properties, as JSON. */
  payloadBytes: 8_192,
} as const

const NodeId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')

const Payload = z
  .record(z.string().max(200), z.unknown())
  .refine(
    (value) =>
      new TextEncoder().encode(JSON.stringify(value)).length <= JOURNEY_LIMITS.payloadBytes,
    `at most ${JOURNEY_LIMITS.payloadBytes} bytes as JSON`,
  )

const Next = NodeId
const Purpose = z.enum(PURPOSES).optional()
const Weight = z.number().gt(0).max(1_000_000)
const Choices = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(JOURNEY_LIMITS.choices)

const NodeSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('wait'), for: DurationSchema, next: Next }),
    z.strictObject({
      type: z.literal('waitUntil'),
      time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time HH:MM (24-hour)'),
      days: z.array(z.enum(WEEKDAYS)).min(1).max(7).optional(),
      timezone: z
        .string()
        .refine((zone) => zone === 'contact' || knownZone(zone), '"contact" or an IANA time zone')
        .optional(),
      next: Next,
    }),
    z.strictObject({
      type: z.literal('waitFor'),
      performed: Text,
      where: Where.optional(),
      timeout: DurationSchema,
      next: Next,
      onTimeout: Next,
    }),
    z.strictObject({
      type: z.literal('branch'),
      cases: Choices(z.strictObject({ rule: RuleSchema, next: Next })),
      otherwise: Next,
    }),
    z.strictObject({
      type: z.literal('split'),
      paths: Choices(z.strictObject({ weight: Weight, next: Next })).min(2),
    }),
    z.strictObject({
      type: z.literal('experiment'),
      paths: Choices(
        z.strictObject({ name: z.string().min(1).max(64), weight: Weight, next: Next }),
      )
        .min(2)
        .refine((paths) => new Set(paths.map((p) => p.name)).size === paths.length, {
          message: 'path names must differ',
        }),
      minPerPath: z.number().int().min(10).max(1_000_000),
    }),
    z.strictObject({
      type: z.literal('email'),
      template: Text,
      subscriptionGroup: Text.optional(),
      next: Next,
    }),
    z.strictObject({
      type: z.literal('webhook'),
      url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(2_048),
      method: z.enum(['POST', 'PUT', 'PATCH']).optional(),
      body: Payload.optional(),
      purpose: Purpose,
      next: Next,
    }),
    z.strictObject({ type: z.literal('updateTraits'), traits: Payload, next: Next }),
    z
      .strictObject({
        type: z.literal('list'),
        add: Text.optional(),
        remove: Text.optional(),
        next: Next,
      })
      .refine((n) => (n.add === undefined) !== (n.remove === undefined), {
        message: 'name exactly one of add or remove',
      }),
    z.strictObject({
      type: z.literal('ticket'),
      subject: z.string().min(1).max(500),
      body: z.string().min(1).max(JOURNEY_LIMITS.payloadBytes),
      purpose: Purpose,
      next: Next,
    }),
    z.strictObject({
      type: z.literal('track'),
      event: Text,
      properties: Payload.optional(),
      next: Next,
    }),
    z.strictObject({
      type: z.literal('nextBestAction'),
      actions: Choices(z.strictObject({ action: Text, next: Next })),
      otherwise: Next,
    }),
    z.strictObject({ type: z.literal('exit') }),
  ])
  .openapi('JourneyNode', {
    description: `One of the node types ${NODE_TYPES.join(', ')} (ARCHITECTURE.md "Journeys")`,
    example: { type: 'wait', for: { days: 1 }, next: 'n2' },
  }) as unknown as z.ZodType<JourneyNode>

const EntrySchema = z.union(
  [
    z.strictObject({ event: Text, where: Where.optional() }),
    z.strictObject({ segment: Text, on: z.enum(['enter', 'exit']) }),
    z.strictObject({ api: z.literal(true) }),
  ],
  { error: 'one of {event, where?}, {segment, on}, {api: true}' },
)

export const JourneyDefinitionSchema = z
  .strictObject({
    entry: EntrySchema,
    reentry: z
      .union([z.enum(['never', 'after_exit']), z.strictObject({ after: DurationSchema })])
      .optional(),
    goal: z
      .strictObject({ performed: Text, where: Where.optional(), within: DurationSchema.optional() })
      .optional(),
    exitWhen: RuleSchema.optional(),
    start: NodeId,
    nodes: z
      .record(NodeId, NodeSchema)
      .refine((nodes) => Object.keys(nodes).length >= 1, 'at least one node')
      .refine(
        (nodes) => Object.keys(nodes).length <= JOURNEY_LIMITS.nodes,
        `at most ${JOURNEY_LIMITS.nodes} nodes`,
      ),
  })
  .openapi('JourneyDefinition', {
    example: {
      entry: { event: 'Signed Up' },
      start: 'welcome',
      nodes: {
        welcome: { type: 'email', template: 'welcome', next: 'wait' },
        wait: { type: 'wait', for: { days: 2 }, next: 'done' },
        done: { type: 'exit' },
      },
    },
  }) as unknown as z.ZodType<JourneyDefinition>

function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
