import { z } from '@hono/zod-openapi'
import type { Feedback, FeedbackKind } from '../../../contracts/messaging'
import { equalSecrets } from '../../access/secrets'
import {
  base64Bytes,
  isoMs,
  MESSAGE_TAG,
  parseJson,
  WebhookRefused,
  type ConfigOf,
  type WebhookRequest,
} from './webhook'

/**
 * Postmark signs nothing. Its webhook URL carries HTTP Basic credentials
 * (`https://user:pass@…/webhooks/email/postmark`), sent as an Authorization header, which must
 * match the provider's `webhookUsername` and `webhookPassword`.
 */
export async function verify(
  request: WebhookRequest,
  config: ConfigOf<'postmark'>,
): Promise<boolean> {
  if (!config.webhookUsername || !config.webhookPassword) {
    throw new WebhookRefused(
      'Postmark webhooks are not verifiable: no webhookUsername and webhookPassword configured',
    )
  }
  const encoded = /^Basic\s+(\S+)$/i.exec(request.headers.get('Authorization') ?? '')?.[1]
  if (!encoded) throw new WebhookRefused('HTTP Basic credentials are required')
  const bytes = base64Bytes(encoded)
  if (!bytes) return false
  return equalSecrets(
    new TextDecoder().decode(bytes),
    `${config.webhookUsername}:${config.webhookPassword}`,
  )
}

const EventSchema = z.looseObject({
  RecordType: z.string(),
  MessageID: z.string().min(1),
  Metadata: z.record(z.string(), z.unknown()).optional(),
  /** Bounces: HardBounce, SoftBounce, Transient, BadEmailAddress … */
  Type: z.string().optional(),
  Description: z.string().optional(),
  OriginalLink: z.string().optional(),
  SuppressSending: z.boolean().optional(),
  /** Why a SubscriptionChange suppressed the address: HardBounce, SpamComplaint, ManualSuppression. */
  SuppressionReason: z.string().nullish(),
  DeliveredAt: z.string().optional(),
  BouncedAt: z.string().optional(),
  ReceivedAt: z.string().optional(),
  ChangedAt: z.string().optional(),
})
type PostmarkEvent = z.infer<typeof EventSchema>

const KINDS: Record<string, { kind: FeedbackKind; at: (e: PostmarkEvent) => string | undefined }> =
  {
    Delivery: { kind: 'delivered', at: (e) => e.DeliveredAt },
    Open: { kind: 'opened', at: (e) => e.ReceivedAt },
    Click: { kind: 'clicked', at: (e) => e.ReceivedAt },
    Bounce: { kind: 'bounced', at: (e) => e.BouncedAt },
    SpamComplaint: { kind: 'complained', at: (e) => e.BouncedAt },
    SubscriptionChange: { kind: 'unsubscribed', at: (e) => e.ChangedAt },
  }

/** Bounce types that say the address will never take mail. */
const HARD_BOUNCES = new Set(['HardBounce', 'BadEmailAddress'])

/**
 * One event per webhook. Postmark gives events no id of their own, so the record type, the
 * message and the event's time stand for one: a retried webhook repeats all three.
 */
export function parse(request: Pick<WebhookRequest, 'body'>): Feedback[] {
  const parsed = EventSchema.safeParse(parseJson(request.body, 'Postmark'))
  if (!parsed.success) return []
  const event = parsed.data
  const known = KINDS[event.RecordType]
  const messageId = event.Metadata?.[MESSAGE_TAG]
  if (!known || typeof messageId !== 'string' || messageId === '') return []
  // A suppression for a bounce or a complaint arrives as that event too; only the recipient's own
  // unsubscribe (ManualSuppression) is one, and a reactivation (SuppressSending false) is not.
  if (
    known.kind === 'unsubscribed' &&
    (!event.SuppressSending ||
      (event.SuppressionReason ?? 'ManualSuppression') !== 'ManualSuppression')
  ) {
    return []
  }
  const time = known.at(event)
  const feedback: Feedback = {
    provider: 'postmark',
    eventId: `${event.RecordType}:${event.MessageID}:${time ?? ''}`,
    messageId,
    kind: known.kind,
    at: isoMs(time) ?? Date.now(),
  }
  if (known.kind === 'clicked' && event.OriginalLink) feedback.url = event.OriginalLink
  if (known.kind === 'bounced') {
    feedback.hard = HARD_BOUNCES.has(event.Type ?? '')
    if (event.Description) feedback.detail = event.Description
  }
  return [feedback]
}
