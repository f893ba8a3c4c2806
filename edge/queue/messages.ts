import type { StoredEvent } from '../ingest/stored-event'

/**
 * Messages the ContactDO sends on the `events` queue. The consumer turns them into D1 rows and
 * archive objects; every kind is safe to apply twice.
 */

/** An archive line: event metadata in clear, the whole event sealed with the contact's data key. */
export interface ArchiveRecord {
  id: string
  type: string
  receivedAt: string
  timestamp: string
  sourceId: string
  /** Id of the contact's data key; destroying that key makes `sealed` unreadable. */
  keyId: string
  iv: string
  sealed: string
}

export interface EventMessage {
  kind: 'event'
  contactKey: string
  event: StoredEvent
  archive: ArchiveRecord
}

/** The latest profile summary of a contact, versioned so older snapshots never overwrite newer. */
export interface ContactSnapshot {
  kind: 'contact'
  key: string
  version: number
  userId?: string
  anonymousIds: string[]
  email?: string
  traits: Record<string, unknown>
  firstSeen: string
  lastSeen: string
  eventCount: number
}

/** `from` (an anonymous contact) now lives inside `into`. */
export interface MergeMessage {
  kind: 'merge'
  from: string
  into: string
  at: string
}

export type QueuedMessage = EventMessage | ContactSnapshot | MergeMessage
