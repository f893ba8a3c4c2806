import type { ConsentState } from '../domain/consent'
import type { Attempt, MessageStatus } from './messaging'
import type { StoredEvent } from './stored-event'

/** Contact key of events counted without identifiers (no consent for analytics). */
export const WITHHELD_CONTACT = '(withheld)'

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
  /** Absent for withheld events: nothing about the person is archived. */
  archive?: ArchiveRecord
}

/** The contact's effective consent after a ledger change, projected to D1 for totals. */
export interface ConsentMessage {
  kind: 'consent'
  contactKey: string
  state: ConsentState
  at: string
}

/** A session entry of the contact (see domain/touches.ts). */
export interface TouchMessage {
  kind: 'touch'
  id: string
  contactKey: string
  at: string
  channel: string
  campaign?: string
}

/** A conversion credited under every model the moment it was ingested. */
export interface ConversionMessage {
  kind: 'conversion'
  id: string
  contactKey: string
  definitionId: string
  name: string
  at: string
  value: number
  deterministic: boolean
  path: string[]
  credits: Record<string, Record<string, { conversions: number; value: number }>>
}

/** Runs an erasure request (see edge/privacy/erasure.ts); retried until it completes. */
export interface EraseMessage {
  kind: 'erase'
  requestId: string
}

/**
 * Tells each named contact's object to evaluate the segments again (a segment was created,
 * edited or deleted: see edge/segments/backfill.ts), with the configuration of `version`.
 */
export interface ReevaluateMessage {
  kind: 'reevaluate'
  version: string
  keys: string[]
}

/** Which contacts a backfill page walks: see edge/segments/backfill.ts. */
export type BackfillPhase = 'matches' | 'members' | 'contacts'

/**
 * One page of a segment backfill (edge/segments/backfill.ts): it sends the ReevaluateMessages
 * of the next contacts of its phase after `after`, then itself again with the next cursor, so no
 * request or consumer invocation walks every contact.
 */
export interface BackfillMessage {
  kind: 'backfill'
  /** The segment created, edited or deleted. */
  segmentId: string
  phase: BackfillPhase
  /** The last contact key of the previous page; null at the start of a phase. */
  after: string | null
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
  /** Segment id → since (ISO): the contact's memberships, which D1's segment_members follows. */
  segments?: Record<string, string>
  /** List id → since (ISO): the manual lists the contact is on (D1's list_members). */
  lists?: Record<string, string>
}

/**
 * A message as its contact's object holds it now (docs/design/messaging.md), for D1's messages;
 * `event` is a message event to add to D1's message_events (sent, delivered, opened …).
 */
export interface MessageReport {
  kind: 'message'
  id: string
  contactKey: string
  templateId: string
  journeyId: string | null
  /** A journey's email node: the version and node of the run that made it (for its metrics). */
  journeyVersion?: number | null
  journeyNode?: string | null
  audience: 'marketing' | 'transactional'
  subject: string | null
  status: MessageStatus
  reason: string | null
  attempts: Attempt[]
  version: number
  createdAt: string
  updatedAt: string
  event?: { id: string; kind: string; at: string }
}

/** A contact chose to be in or out of a subscription group (D1's contact_subscriptions). */
export interface SubscriptionMessage {
  kind: 'subscription'
  contactKey: string
  groupId: string
  subscribed: boolean
  at: string
}

/**
 * Fits the prediction models over D1's purchase summaries (edge/predictions/fit.ts): asked by
 * `POST /api/predictions/refit` (manual) or the cron (scheduled, skipped if a fit is fresh).
 */
export interface PredictionFitMessage {
  kind: 'prediction-fit'
  source: 'scheduled' | 'manual'
}

/** A contact's predictions as its object computed them at `at`, for D1's contact_predictions. */
export interface PredictionMessage {
  kind: 'prediction'
  contactKey: string
  engagement: number
  churnRisk: number
  lapseRisk: number | null
  pAlive: number | null
  clv: number | null
  at: string
}

/**
 * A contact's journey run as its object holds it now, and the steps it logged since the last
 * report (docs/design/journeys.md), for D1's journey_runs and journey_steps: the metrics count
 * them. Steps are numbered per run, so a report delivered twice adds nothing.
 */
export interface JourneyRunMessage {
  kind: 'journey-run'
  contactKey: string
  run: {
    id: string
    journeyId: string
    version: number
    state: 'active' | 'completed' | 'exited'
    node: string
    /** Held at a wait, waitUntil or waitFor node. */
    waiting: boolean
    converted: boolean
    reason: string | null
    /** Experiment node → path taken. */
    paths: Record<string, string>
    enteredAt: string
    endedAt: string | null
  }
  steps: {
    seq: number
    at: string
    node: string
    type: string
    outcome: string
    next: string | null
  }[]
  at: string
}

/**
 * A webhook or ticket node's work, made in the contact's transaction and carried by the outbox
 * (never lost); the events consumer forwards it to the `cairn-messages` queue, whose consumer
 * sends it with retries (edge/journeys/actions). `idempotencyKey` is the Standard Webhooks
 * `webhook-id`: a receiver drops a repeat.
 */
export interface JourneyActionJob {
  kind: 'webhook' | 'ticket'
  idempotencyKey: string
  contactKey: string
  journeyId: string
  version: number
  runId: string
  node: string
  /** What templates and payloads may show of the contact: its key, email and traits. */
  contact: { key: string; email: string | null; traits: Record<string, unknown> }
  /** The event that started the run and the API's entry data. */
  event: Record<string, unknown> | null
  data: Record<string, unknown>
  webhook?: { url: string; method: 'POST' | 'PUT' | 'PATCH'; body: Record<string, unknown> | null }
  /** Liquid, rendered by the consumer with contact, event and data in scope. */
  ticket?: { subject: string; body: string }
  at: string
}

export interface JourneyActionMessage {
  kind: 'journey-action'
  job: JourneyActionJob
}

/**
 * Tells every contact with an active run of a journey, a page at a time (like BackfillMessage):
 * `resume` after a pause, so waits that ran out meanwhile go on; `migrate` moves runs waiting in
 * version `from` to version `to` at the mapped nodes.
 */
export interface JourneyFanOutMessage {
  kind: 'journey-fanout'
  journeyId: string
  operation:
    { op: 'resume' } | { op: 'migrate'; from: number; to: number; nodeMap: Record<string, string> }
  /** The last contact key of the page before; null for the first. */
  after: string | null
}

/** `from` (an anonymous contact) now lives inside `into`. */
export interface MergeMessage {
  kind: 'merge'
  from: string
  into: string
  at: string
}

/**
 * A message as it is sent: JSON text, by every producer (the outbox already holds the text, and
 * serialising it again for the queue cost more than the rest of a send), so the consumer reads
 * one format (queue/consumer.ts). Send it with `contentType: 'text'`.
 */
export function queueText(message: QueuedMessage): string {
  return JSON.stringify(message)
}

const encoder = new TextEncoder()

/** Queues refuse a message over 128 KB; a bundle stays under it with room for the envelope. */
export const MAX_BUNDLE_BYTES = 120 * 1024

/**
 * Packs messages, given as their JSON text, into as few bundles as fit MAX_BUNDLE_BYTES each: a
 * bundle is one queue message holding a JSON array of messages. A ContactDO sends what one
 * transaction produced together, so the queue and its consumer handle one message per stored
 * transaction rather than one per event, contact snapshot and touch. A message larger than the
 * limit travels alone (and the queue refuses it, as it would unbundled).
 */
export function bundleTexts(texts: string[]): string[] {
  // At most 3 UTF-8 bytes per UTF-16 unit: when even that bound fits, nothing needs measuring.
  const units = texts.reduce((sum, text) => sum + text.length + 1, 1)
  if (units * 3 <= MAX_BUNDLE_BYTES) return texts.length > 0 ? [`[${texts.join(',')}]`] : []
  const bundles: string[] = []
  let current: string[] = []
  let bytes = 2
  for (const text of texts) {
    const size = encoder.encode(text).byteLength + 1
    if (current.length > 0 && bytes + size > MAX_BUNDLE_BYTES) {
      bundles.push(`[${current.join(',')}]`)
      current = []
      bytes = 2
    }
    current.push(text)
    bytes += size
  }
  if (current.length > 0) bundles.push(`[${current.join(',')}]`)
  return bundles
}

export type QueuedMessage =
  | EventMessage
  | ContactSnapshot
  | MergeMessage
  | ConsentMessage
  | TouchMessage
  | ConversionMessage
  | EraseMessage
  | ReevaluateMessage
  | BackfillMessage
  | MessageReport
  | SubscriptionMessage
  | PredictionFitMessage
  | PredictionMessage
  | JourneyRunMessage
  | JourneyActionMessage
  | JourneyFanOutMessage
