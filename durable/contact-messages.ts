import type { ContactSnapshot, EventMessage, QueuedMessage } from '../contracts/queue-messages'
import { WITHHELD_CONTACT } from '../contracts/queue-messages'
import type { IncomingEvent, StoredEvent } from '../contracts/stored-event'
import { isAnonymousKey } from '../domain/identity'
import type { Counter } from './contact-counters'
import { sealText } from './data-key'
import { iso } from './facet'

/**
 * The queue messages a contact object sends, made from what it stored: an event (sealed for the
 * archive), the contact's snapshot, and the identifier-free copy of an event stored without
 * consent. Pure but for WebCrypto: the object decides when to send them (see outbox.ts).
 */

/** An event as the queue carries it: to D1 in clear, to the archive sealed with the data key. */
export async function eventMessage(
  contactKey: string,
  event: StoredEvent,
  body: string,
  sealing: { id: string; key: CryptoKey },
): Promise<EventMessage> {
  return {
    kind: 'event',
    contactKey,
    event,
    archive: {
      id: event.id,
      type: event.type,
      receivedAt: event.receivedAt,
      timestamp: event.timestamp,
      sourceId: event.sourceId,
      keyId: sealing.id,
      ...(await sealText(sealing.key, body)),
    },
  }
}

/**
 * The contact's summary for D1. Its version is the seq of the newest event stored with it, which
 * only grows, so D1 keeps the newest snapshot whatever order the queue delivers them in.
 */
export function contactSnapshot(
  key: string,
  version: number,
  state: {
    total: Counter | null
    traits: Record<string, unknown>
    anonymousIds: string[]
    segments: ReadonlyMap<string, number>
    lists: ReadonlyMap<string, number>
  },
): ContactSnapshot {
  const { total, traits, anonymousIds } = state
  const email = typeof traits.email === 'string' ? traits.email.toLowerCase() : undefined
  const now = Date.now()
  return {
    kind: 'contact',
    key,
    version,
    userId: isAnonymousKey(key) ? undefined : key,
    anonymousIds,
    email,
    traits,
    firstSeen: iso(total?.firstAt ?? now),
    lastSeen: iso(total?.lastAt ?? now),
    eventCount: total?.count ?? 0,
    segments: Object.fromEntries([...state.segments].map(([id, since]) => [id, iso(since)])),
    lists: Object.fromEntries([...state.lists].map(([id, at]) => [id, iso(at)])),
  }
}

/** An identifier-free copy of the event, so rollups still count it. */
export function withheldEventMessage(event: IncomingEvent): QueuedMessage {
  const {
    ipHash: _ipHash,
    url: _url,
    referrer: _referrer,
    campaign: _campaign,
    ...enrichment
  } = event.enrichment
  const id = crypto.randomUUID()
  return {
    kind: 'event',
    contactKey: WITHHELD_CONTACT,
    event: {
      id,
      messageId: id,
      type: event.type,
      event: event.type === 'track' ? event.event : undefined,
      context: {},
      timestamp: event.timestamp,
      receivedAt: event.receivedAt,
      sourceId: event.sourceId,
      enrichment,
    },
  }
}
