import type { Purpose } from '../consent'
import type { JourneyState, MessageEvent, Prediction, Rule } from './rule'

/** One stored event as rules read it: bots and events stored without consent are never here. */
export interface EventFact {
  /** The event's storage id: orders events with the same timestamp (lastPerformed). */
  id: string
  /** Event time, ms since the epoch. */
  at: number
  properties: Record<string, unknown>
}

export interface MessageFact {
  template: string | null
  at: number
}

/**
 * What a rule can ask about one contact. The ContactDO answers from its own tables
 * (durable/facets/segments.ts); tests answer from plain data. Capabilities that have not landed
 * yet (messages, subscriptions, journeys, predictions) answer "nothing", so their rules match
 * no one until they do.
 */
export interface ContactFacts {
  /** The contact's canonical key (random buckets hash it). */
  key: string
  traits: Record<string, unknown>
  /** Events named so (`$page`, `$screen`, or a track event name), in any order. */
  events(name: string): readonly EventFact[]
  /** Effective consent for a purpose: null when no decision was recorded. */
  consent(purpose: Purpose): boolean | null
  inList(listId: string): boolean
  /** Traits of each account (group) the contact belongs to, as its group calls set them. */
  accounts(): readonly Record<string, unknown>[]
  messages(kind: MessageEvent): readonly MessageFact[]
  subscribed(groupId: string): boolean | null
  /** The states of the contact's runs of a journey (one per run). */
  journeyStates(journeyId: string): readonly JourneyState[]
  prediction(name: Prediction): number | null
}

/** Resolves `inSegment` references: the rule of a segment by id, undefined when unknown. */
export type SegmentLookup = (id: string) => Rule | undefined
