import { z } from '@hono/zod-openapi'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import type { Feedback, FeedbackKind } from '../../../contracts/messaging'
import {
  isoMs,
  MESSAGE_TAG,
  parseJson,
  WebhookRefused,
  type ConfigOf,
  type WebhookRequest,
} from './webhook'

/**
 * Resend signs its webhooks through Svix, which follows Standard Webhooks: an HMAC-SHA256 of
 * `id.timestamp.body` with the endpoint's `whsec_` secret (the provider's `webhookSecret`), under
 * svix-* header names. The library checks the signature and that the timestamp is within five
 * minutes of now.
 */

const ID_HEADER = 'svix-id'

export async function verify(
  request: WebhookRequest,
  config: ConfigOf<'resend'>,
): Promise<boolean> {
  if (!config.webhookSecret) {
    throw new WebhookRefused('Resend webhooks are not verifiable: no webhookSecret configured')
  }
  let webhook: Webhook
  try {
    webhook = new Webhook(config.webhookSecret)
  } catch {
    throw new WebhookRefused('The configured webhookSecret is not a whsec_ secret')
  }
  try {
    webhook.verify(
      request.body,
      {
        'webhook-id': request.headers.get(ID_HEADER) ?? '',
        'webhook-timestamp': request.headers.get('svix-timestamp') ?? '',
        'webhook-signature': request.headers.get('svix-signature') ?? '',
      },
      { jsonParse: false },
    )
    return true
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error
    if (error.message === 'No matching signature found') return false
    throw new WebhookRefused(`Svix headers: ${error.message}`)
  }
}

/** Tags as Resend's webhooks carry them: a name → value map, or the `{name, value}` list sent. */
const TagsSchema = z.union([
  z.record(z.string(), z.string()),
  z.array(z.object({ name: z.string(), value: z.string() })),
])

const EventSchema = z.object({
  type: z.string(),
  created_at: z.string(),
  data: z.looseObject({
    tags: TagsSchema.optional(),
    click: z.looseObject({ link: z.string().optional() }).optional(),
    bounce: z
      .looseObject({
        type: z.string().optional(),
        subType: z.string().optional(),
        message: z.string().optional(),
      })
      .optional(),
  }),
})

const KINDS: Record<string, FeedbackKind> = {
  'email.delivered': 'delivered',
  'email.opened': 'opened',
  'email.clicked': 'clicked',
  'email.bounced': 'bounced',
  'email.complained': 'complained',
}

function messageTag(tags: z.infer<typeof TagsSchema> | undefined): string | undefined {
  if (Array.isArray(tags)) return tags.find((tag) => tag.name === MESSAGE_TAG)?.value
  return tags?.[MESSAGE_TAG]
}

/** One event per webhook; Svix's message id (the same on each retry) is the event's id. */
export function parse(request: WebhookRequest): Feedback[] {
  const parsed = EventSchema.safeParse(parseJson(request.body, 'Resend'))
  const eventId = request.headers.get(ID_HEADER)
  if (!parsed.success || !eventId) return []
  const event = parsed.data
  const kind = KINDS[event.type]
  const messageId = messageTag(event.data.tags)
  if (!kind || !messageId) return []
  const feedback: Feedback = {
    provider: 'resend',
    eventId,
    messageId,
    kind,
    at: isoMs(event.created_at) ?? Date.now(),
  }
  if (kind === 'clicked' && event.data.click?.link) feedback.url = event.data.click.link
  if (kind === 'bounced') {
    const bounce = event.data.bounce
    // Resend sends email.bounced for permanent rejections; a type it names otherwise is soft.
    feedback.hard = bounce?.type === undefined || bounce.type === 'Permanent'
    const detail = bounce?.message ?? bounce?.subType
    if (detail) feedback.detail = detail
  }
  return [feedback]
}
