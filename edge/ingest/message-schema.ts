import { z } from '@hono/zod-openapi'
import { MESSAGE_TYPES, type MessageType } from '../../contracts/stored-event'

/**
 * Segment's message spec, as the wire contract of `/v1/*`. Objects stay loose: SDKs add fields
 * we do not know, and dropping them would lose data the customer sent.
 */

/** What a JSON value that is neither string nor number is, for an error message. */
function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** A user, anonymous, group or previous id: SDKs send strings, some numbers; kept as a string. */
export const IdSchema = z
  .union([z.string().max(255), z.number()], {
    error: ({ input }) =>
      input === undefined
        ? 'is required (a string or a number)'
        : `must be a string or a number, not ${describeType(input)}`,
  })
  .transform(String)
  .openapi({ type: 'string' })
/** Date.parse alone takes "1" for 2001-01-01; a date must look like one. */
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$/
const isoDate = z
  .string()
  .max(64)
  .refine(
    (value) => ISO_8601.test(value) && !Number.isNaN(Date.parse(value)),
    'must be an ISO-8601 date',
  )
/** SDKs send `null` for an empty object as often as they leave it out; both mean none. */
const record = z
  .record(z.string(), z.unknown())
  .nullish()
  .transform((value) => value ?? undefined)

const common = {
  messageId: z.string().max(100).optional(),
  userId: IdSchema.nullish(),
  anonymousId: IdSchema.nullish(),
  timestamp: isoDate.optional(),
  originalTimestamp: isoDate.optional(),
  sentAt: isoDate.optional(),
  context: record,
  integrations: record,
  writeKey: z.string().optional(),
}

export const TrackSchema = z.looseObject({
  ...common,
  type: z.literal('track'),
  event: z.string().trim().min(1, 'track needs an event name').max(200),
  properties: record,
})
export const IdentifySchema = z.looseObject({
  ...common,
  type: z.literal('identify'),
  traits: record,
})
export const PageSchema = z.looseObject({
  ...common,
  type: z.literal('page'),
  name: z.string().max(200).nullish(),
  category: z.string().max(200).nullish(),
  properties: record,
})
export const ScreenSchema = z.looseObject({
  ...common,
  type: z.literal('screen'),
  name: z.string().max(200).nullish(),
  properties: record,
})
export const GroupSchema = z.looseObject({
  ...common,
  type: z.literal('group'),
  groupId: IdSchema.pipe(z.string().min(1, 'group needs a groupId')),
  traits: record,
})
export const AliasSchema = z.looseObject({
  ...common,
  type: z.literal('alias'),
  previousId: IdSchema.pipe(z.string().min(1, 'alias needs a previousId')),
})

/** The fields Segment's spec gives each message type; anything else is the client's own. */
const fieldsOf = (schema: { shape: object }): ReadonlySet<string> =>
  new Set(Object.keys(schema.shape))
export const SEGMENT_FIELDS: Record<MessageType, ReadonlySet<string>> = {
  track: fieldsOf(TrackSchema),
  identify: fieldsOf(IdentifySchema),
  page: fieldsOf(PageSchema),
  screen: fieldsOf(ScreenSchema),
  group: fieldsOf(GroupSchema),
  alias: fieldsOf(AliasSchema),
}

export const MessageSchema = z
  .discriminatedUnion(
    'type',
    [TrackSchema, IdentifySchema, PageSchema, ScreenSchema, GroupSchema, AliasSchema],
    {
      error: ({ code, input }) => {
        if (code !== 'invalid_union') return undefined
        const type = (input as { type?: unknown } | undefined)?.type
        const expected = `one of ${MESSAGE_TYPES.join(', ')}`
        return type === undefined
          ? `is required: ${expected}`
          : `${JSON.stringify(type)} is not a message type; expected ${expected}`
      },
    },
  )
  .openapi('SegmentMessage')
export type Message = z.infer<typeof MessageSchema>

export const BatchSchema = z
  .looseObject({
    batch: z.array(z.unknown()).openapi({
      description: 'Segment messages (see SegmentMessage); each is accepted or rejected alone',
      items: { $ref: '#/components/schemas/SegmentMessage' },
    }),
    sentAt: isoDate.optional(),
    context: record,
    integrations: record,
    writeKey: z.string().optional(),
  })
  .openapi('Batch')

export const RejectionSchema = z.object({
  index: z.number().int(),
  code: z.string(),
  message: z.string(),
})
export type Rejection = z.infer<typeof RejectionSchema>

export const IngestResponseSchema = z
  .object({
    success: z.literal(true),
    accepted: z.number().int(),
    rejected: z.array(RejectionSchema),
  })
  .openapi('IngestResult')
