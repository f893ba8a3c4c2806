import type { ChannelRule } from '../../domain/channel'
import type { MessageType } from '../../contracts/stored-event'
import { correctTimestamp } from '../../domain/clock'
import { canonicalKey, isPlaceholderId, usableId } from '../../domain/identity'
import { describeIssues } from '../errors'
import { describePage, parseDevice, segmentCampaign, type ClientInfo } from './enrich'
import { MessageSchema, SEGMENT_FIELDS, type Message, type Rejection } from './message-schema'
import type { IncomingEvent } from '../../contracts/stored-event'
import { hex } from '../../domain/hex'

export const MAX_MESSAGE_BYTES = 32 * 1024
export const MAX_BATCH_BYTES = 500 * 1024

/** Fields of a batch envelope that apply to every message in it. */
export interface Envelope {
  sentAt?: string
  context?: Record<string, unknown>
  integrations?: Record<string, unknown>
}

export interface RequestFacts {
  sourceId: string
  receivedAt: Date
  client: ClientInfo
  /** Length of the request body's text, which bounds every message in it. */
  bodyChars: number
  /** Keyed hash of an IP, memoised per request (server SDKs forward end users' IPs per message). */
  hashIp: (ip: string) => Promise<string>
  channelRules: readonly ChannelRule[]
}

export type Normalized =
  | { ok: true; key: string; event: IncomingEvent }
  | { ok: false; rejection: Omit<Rejection, 'index'> }

/**
 * Validates one message and turns it into the event Cairn stores: envelope merged, ids
 * checked, messageId assigned, timestamp corrected, enrichment added. Each message is judged
 * alone so that one bad message never costs its neighbours.
 */
export async function normalizeMessage(
  raw: unknown,
  envelope: Envelope,
  facts: RequestFacts,
  impliedType?: MessageType,
): Promise<Normalized> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return reject('invalid_message', 'A message must be a JSON object')
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit: a body this short holds no message over the
  // limit, and most requests (single events, small batches) skip measuring each message again.
  if (facts.bodyChars * 3 > MAX_MESSAGE_BYTES) {
    const size = new TextEncoder().encode(JSON.stringify(raw)).length
    if (size > MAX_MESSAGE_BYTES) {
      return reject(
        'message_too_large',
        `Message is ${size} bytes; the limit is ${MAX_MESSAGE_BYTES}`,
      )
    }
  }
  const candidate = impliedType ? { ...raw, type: impliedType } : raw
  const parsed = MessageSchema.safeParse(candidate)
  if (!parsed.success) {
    const first = describeIssues(parsed.error.issues)[0]
    return reject('invalid_message', first ? `${first.path}: ${first.message}` : 'Invalid message')
  }
  const message = parsed.data
  const userId = usableId(message.userId)
  const anonymousId = usableId(message.anonymousId)
  const key = canonicalKey({ userId, anonymousId })
  if (!key) {
    const placeholder = isPlaceholderId(message.userId) || isPlaceholderId(message.anonymousId)
    return reject(
      'missing_identity',
      placeholder
        ? 'userId/anonymousId hold only placeholder values (such as "null" or "anonymous"); a real userId or anonymousId is required'
        : 'Every message needs a userId or an anonymousId',
    )
  }

  const context: Record<string, unknown> = { ...envelope.context, ...message.context }
  const campaign = segmentCampaign(context.campaign)
  if (campaign) context.campaign = campaign
  context.timezone ??= facts.client.timezone
  context.locale ??= facts.client.locale
  const ip = typeof context.ip === 'string' ? context.ip : facts.client.ip
  delete context.ip
  const userAgent =
    typeof context.userAgent === 'string' ? context.userAgent : facts.client.userAgent
  const sentAt = message.sentAt ?? envelope.sentAt
  const time = correctTimestamp({
    timestamp: message.timestamp ?? message.originalTimestamp,
    sentAt,
    receivedAt: facts.receivedAt,
  })
  const fields = typeFields(message)
  const extra = clientFields(message)
  // Built from known fields only: nothing a client sends can take the place of what Cairn sets.
  const event: IncomingEvent = {
    ...fields,
    // A placeholder ("undefined", blanks) as every message's id would drop all but the first.
    messageId: usableId(message.messageId) ?? (await assignMessageId(message)),
    type: message.type,
    userId: userId ?? undefined,
    anonymousId: anonymousId ?? undefined,
    context,
    integrations: { ...envelope.integrations, ...message.integrations },
    timestamp: time.timestamp.toISOString(),
    originalTimestamp: time.originalTimestamp,
    sentAt,
    receivedAt: facts.receivedAt.toISOString(),
    sourceId: facts.sourceId,
    enrichment: {
      ...parseDevice(userAgent),
      country: facts.client.country,
      ipHash: ip ? await facts.hashIp(ip) : undefined,
      ...describePage(
        { type: message.type, properties: fields.properties, context },
        facts.channelRules,
      ),
    },
    ...(extra && { extra }),
  }
  return { ok: true, key, event }
}

function reject(code: string, message: string): Normalized {
  return { ok: false, rejection: { code, message } }
}

/** The fields Segment's spec gives the message's own type, each read from its schema. */
function typeFields(
  message: Message,
): Pick<
  IncomingEvent,
  'event' | 'name' | 'category' | 'properties' | 'traits' | 'groupId' | 'previousId'
> {
  switch (message.type) {
    case 'track':
      return { event: message.event, properties: message.properties }
    case 'identify':
      return { traits: message.traits }
    case 'page':
      return {
        name: message.name ?? undefined,
        category: message.category ?? undefined,
        properties: message.properties,
      }
    case 'screen':
      return { name: message.name ?? undefined, properties: message.properties }
    case 'group':
      return { groupId: message.groupId, traits: message.traits }
    case 'alias':
      return { previousId: message.previousId }
  }
}

/** Anything else the client sent at the top level (an SDK's own fields), kept as sent. */
function clientFields(message: Message): Record<string, unknown> | undefined {
  const known = SEGMENT_FIELDS[message.type]
  const extra = Object.entries(message).filter(([name]) => !known.has(name))
  return extra.length > 0 ? Object.fromEntries(extra) : undefined
}

/**
 * A message that arrives without a messageId still deserves retry safety: when it carries its
 * own timestamp, the same content retried is the same event, so the id is a hash of the content
 * (minus `sentAt`, which changes between attempts). Without a timestamp two identical messages
 * may be two real events, so they get random ids.
 */
async function assignMessageId(message: Record<string, unknown>) {
  if (!message.timestamp) return `cairn-${crypto.randomUUID()}`
  const { sentAt: _ignored, ...content } = message
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(stableStringify(content)),
  )
  return `cairn-${hex(digest, 16)}`
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}
