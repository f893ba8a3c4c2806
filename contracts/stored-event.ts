/** Segment's message types. */
export const MESSAGE_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const
export type MessageType = (typeof MESSAGE_TYPES)[number]

/** What Cairn derives about an event at the edge; never contains a clear IP address. */
export interface Enrichment {
  browser?: string
  os?: string
  device: 'desktop' | 'mobile' | 'tablet' | 'bot' | 'other'
  bot: boolean
  country?: string
  /** Keyed hash of the client IP: counts distinct networks without storing the address. */
  ipHash?: string
  url?: string
  path?: string
  referrer?: string
  referrerDomain?: string
  /** True unless the referrer is the same site: the event starts a visit. */
  landing: boolean
  /** Marketing channel of the page the event happened on (see domain/channel.ts). */
  channel?: string
  campaign?: Record<string, string>
  clickIds?: string[]
}

/** A message as stored in the ContactDO and shipped to D1 and the archive. */
export interface StoredEvent {
  /** Globally unique storage id, assigned by the ContactDO when it first stores the event. */
  id: string
  messageId: string
  type: MessageType
  /** Track event name, or page/screen name (and page category). */
  event?: string
  name?: string
  category?: string
  userId?: string
  anonymousId?: string
  groupId?: string
  previousId?: string
  properties?: Record<string, unknown>
  traits?: Record<string, unknown>
  context: Record<string, unknown>
  integrations?: Record<string, unknown>
  /** Clock-skew corrected event time, ISO-8601. */
  timestamp: string
  originalTimestamp?: string
  sentAt?: string
  receivedAt: string
  sourceId: string
  enrichment: Enrichment
  /**
   * Top-level fields the client sent that Segment's spec does not give this message type, kept
   * as sent. They live apart so that none can stand for a field Cairn sets (id, receivedAt,
   * sourceId, enrichment) or one of another type that storage reads (a track's `traits`).
   */
  extra?: Record<string, unknown>
}

/** An accepted message on its way to the ContactDO: everything but the storage id. */
export type IncomingEvent = Omit<StoredEvent, 'id'>

/** The source of events Cairn writes to a timeline itself (`Segment Entered` …). */
export const CAIRN_SOURCE = 'cairn'

/** Written by Cairn, not sent by a client: not activity, not traffic. */
export function isOwnEvent(event: Pick<StoredEvent, 'sourceId'>): boolean {
  return event.sourceId === CAIRN_SOURCE
}
