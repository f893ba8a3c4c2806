import { actionOrigin } from '../domain/journeys/action-key'
import type { Attempt, MessageStatus, TemplateKind } from '../contracts/messaging'
import type { MessageReport, SubscriptionMessage } from '../contracts/queue-messages'
import type { FrequencyCap, QuietHours } from '../domain/messaging/policy'
import { iso } from './facet'
import type { MessageRow } from './facets/messaging'

/**
 * What a ContactDO's messaging methods take and answer (docs/design/messaging.md), and the
 * reports they send to D1.
 */

/** How long a send consumer holds a claimed message before another may claim it. */
export const CLAIM_LEASE_MS = 5 * 60_000

/**
 * A message handed to the queue and still waiting after this is handed over again: its job may
 * have gone to the dead-letter queue (a consumer failing before it could retry it). Longer than
 * the claim and the longest backoff, so a job still under way is rarely doubled (a claim makes a
 * double harmless anyway).
 */
export const REDISPATCH_MS = 10 * 60_000

/** The messaging settings that decide when a marketing message may go. */
export interface SendRules {
  frequencyCap?: FrequencyCap
  quietHours?: QuietHours
  /** The account's time zone, for contacts whose own is unknown. */
  timeZone?: string
}

export interface MessageRequest {
  templateId: string
  kind: TemplateKind
  /** The template's subscription group. */
  groupId: string
  /** Whether that group counts a contact who never chose as subscribed. */
  groupDefault: boolean
  idempotencyKey: string
  journeyId?: string | null
  data?: Record<string, unknown>
  /** The event that triggered the send, in the template's scope as `event`. */
  event?: Record<string, unknown> | null
  rules: SendRules
}

export interface MessageView {
  id: string
  status: MessageStatus
  reason: string | null
  /** When a queued message may go (later than now in quiet hours); ISO. */
  dueAt: string | null
  /** The idempotency key was known: this is the message it made then, nothing new was made. */
  duplicate: boolean
}

export type CreateResult = { found: false } | { found: true; message: MessageView }

/** What the send consumer needs to render and send a claimed message. */
export interface ClaimedMessage {
  messageId: string
  idempotencyKey: string
  templateId: string
  kind: TemplateKind
  groupId: string
  to: string
  contact: { key: string; traits: Record<string, unknown> }
  account: Record<string, unknown> | null
  event: Record<string, unknown> | null
  data: Record<string, unknown>
  /** Provider attempts made so far (earlier queue deliveries). */
  attempts: Attempt[]
}

export type ClaimResult =
  | { claimed: true; message: ClaimedMessage }
  /** Nothing to send now: settled already, unknown, refused now, or not due (quiet hours). */
  | { claimed: false; status: MessageStatus | 'unknown' | 'waiting' }
  /**
   * Another delivery holds it. It may have died holding it: this job comes back when the claim
   * runs out rather than leaving the message to a dispatch an hour later.
   */
  | { claimed: false; status: 'held'; retryAfterMs: number }

/** How a claimed send ended; `subject` as rendered, when it got that far. */
export type Settlement = { attempts: Attempt[]; subject?: string } & (
  | { outcome: 'sent'; provider: string; providerMessageId?: string }
  | { outcome: 'failed'; error: string }
  /** Every provider failed retryably: the message waits for the queue's next delivery. */
  | { outcome: 'retry' }
)

export function messageView(row: MessageRow, duplicate: boolean): MessageView {
  return {
    id: row.id,
    status: row.status,
    reason: row.reason,
    dueAt: row.status === 'queued' && row.due_at !== null ? iso(row.due_at) : null,
    duplicate,
  }
}

export function messageReport(
  contactKey: string,
  row: MessageRow,
  event?: { id: string; kind: string; at: number },
): MessageReport {
  return {
    kind: 'message',
    id: row.id,
    contactKey,
    templateId: row.template_id,
    journeyId: row.journey_id,
    ...(row.journey_id ? journeyOrigin(row.idempotency_key) : {}),
    audience: row.kind,
    subject: row.subject,
    status: row.status,
    reason: row.reason,
    attempts: JSON.parse(row.attempts) as Attempt[],
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    ...(event ? { event: { id: event.id, kind: event.kind, at: iso(event.at) } } : {}),
  }
}

function journeyOrigin(key: string): Pick<MessageReport, 'journeyVersion' | 'journeyNode'> {
  const origin = actionOrigin(key)
  return origin ? { journeyVersion: origin.version, journeyNode: origin.node } : {}
}

/** Where a subscription choice came from, as the timeline and the ledger of choices say. */
export type SubscriptionSource = 'unsubscribe_link' | 'preference_page' | 'api' | 'webhook'

export function subscriptionMessage(
  contactKey: string,
  groupId: string,
  subscribed: boolean,
  at: number,
): SubscriptionMessage {
  return { kind: 'subscription', contactKey, groupId, subscribed, at: iso(at) }
}
