import type { ContactProfile } from '../contracts/contact-profile'
import type { StoredEvent } from '../contracts/stored-event'
import type { ActivationState } from './activation'

/** What a facet is given when an absorbed contact's part arrives in a merge. */
export interface AbsorbContext {
  /** The absorbed contact's key (`anon:…`). */
  fromKey: string
  now: number
  /** Stores an event through every facet (its counters, traits, links); its seq, or null. */
  storeEvent(event: StoredEvent, body: string): number | null
  /** Events from `first` to `last` arrived already sent to the queue (see outbox.ts). */
  alreadySent(first: number, last: number): void
}

/**
 * One slice of a contact's state (events, traits, identities, consent …): the tables it owns and
 * how each of the object's use cases treats them. The ContactDO loops over its facets to wake,
 * store an event, hand over and absorb in a merge, erase and describe the contact, so a new
 * capability is one new facet and touches no other facet's file.
 */
export interface Facet<Part = unknown> {
  /** The tables it owns: counted and dropped by an erasure, emptied when a hand-over completes. */
  readonly tables: readonly string[]
  /** Fills its in-memory copies from the object's one wake-up read (activation.ts). */
  prime(state: Omit<ActivationState, 'meta'>): void
  /** The contact's tables were just created: what it knows without a read. */
  primeNew?(): void
  /** Drops its in-memory copies, after a rolled-back transaction or wiped storage. */
  forget(): void
  /** Its share of every stored event, bots included (each facet decides what bots count for). */
  onEvent?(event: StoredEvent, at: number): void
  /** Its part of what this contact hands to the identified contact absorbing it. */
  handOver(): Part
  /** Takes in that part from an absorbed contact, inside the linking transaction. */
  absorb(part: Part, context: AbsorbContext): void
  /** What it adds to the profile, and so to the DSAR export. */
  profile(): Partial<ContactProfile>
}

export function iso(ms: number): string {
  return new Date(ms).toISOString()
}
