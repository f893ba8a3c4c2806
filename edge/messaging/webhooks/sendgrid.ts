import { z } from '@hono/zod-openapi'
import * as asn1js from 'asn1js'
import type { Feedback, FeedbackKind } from '../../../contracts/messaging'
import {
  base64Bytes,
  MESSAGE_TAG,
  parseJson,
  WebhookMalformed,
  WebhookRefused,
  type ConfigOf,
  type WebhookDeps,
  type WebhookRequest,
} from './webhook'

/**
 * SendGrid's Signed Event Webhook: an ECDSA P-256 / SHA-256 signature over the timestamp header
 * followed by the body, made with a key pair SendGrid holds; its public half (Mail Settings →
 * Signed Event Webhook) is the provider's `webhookPublicKey`.
 */

const SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature'
const TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp'
/** A signed body older than this is refused: a captured webhook cannot be replayed later. */
export const SENDGRID_MAX_AGE_MS = 5 * 60_000
const P256_SCALAR_BYTES = 32

export async function verify(
  request: WebhookRequest,
  config: ConfigOf<'sendgrid'>,
  deps: Pick<WebhookDeps, 'now'>,
): Promise<boolean> {
  if (!config.webhookPublicKey) {
    throw new WebhookRefused('SendGrid webhooks are not verifiable: no webhookPublicKey configured')
  }
  const signature = request.headers.get(SIGNATURE_HEADER)
  const timestamp = request.headers.get(TIMESTAMP_HEADER)
  if (!signature || !timestamp) {
    throw new WebhookRefused(`${SIGNATURE_HEADER} and ${TIMESTAMP_HEADER} are required`)
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookRefused(`${TIMESTAMP_HEADER} is not a time`)
  const age = deps.now - Number(timestamp) * 1000
  if (Math.abs(age) > SENDGRID_MAX_AGE_MS) {
    throw new WebhookRefused(`${TIMESTAMP_HEADER} is more than 5 minutes from now`)
  }
  const key = await publicKey(config.webhookPublicKey)
  const raw = ecdsaRawSignature(base64Bytes(signature))
  if (!raw) return false
  return crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    raw,
    new TextEncoder().encode(timestamp + request.body),
  )
}

/** The key as SendGrid shows it (base64 SPKI), or pasted as PEM. */
async function publicKey(configured: string): Promise<CryptoKey> {
  const der = base64Bytes(configured.replace(/-----[A-Z ]+-----/g, ''))
  try {
    if (!der) throw new Error('not base64')
    return await crypto.subtle.importKey(
      'spki',
      der,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    )
  } catch {
    throw new WebhookRefused('The configured webhookPublicKey is not a P-256 public key')
  }
}

/**
 * SendGrid sends the DER `SEQUENCE { INTEGER r, INTEGER s }`; WebCrypto verifies r || s, each
 * padded to the curve's 32 bytes (DER drops leading zeros and adds one before a high bit).
 */
function ecdsaRawSignature(der: Uint8Array | null): Uint8Array<ArrayBuffer> | null {
  if (!der) return null
  const parsed = asn1js.fromBER(der)
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return null
  const parts = parsed.result.valueBlock.value
  if (parts.length !== 2) return null
  const raw = new Uint8Array(P256_SCALAR_BYTES * 2)
  for (const [i, part] of parts.entries()) {
    if (!(part instanceof asn1js.Integer)) return null
    let bytes = part.valueBlock.valueHexView
    while (bytes.length > P256_SCALAR_BYTES && bytes[0] === 0) bytes = bytes.subarray(1)
    if (bytes.length > P256_SCALAR_BYTES) return null
    raw.set(bytes, P256_SCALAR_BYTES * (i + 1) - bytes.length)
  }
  return raw
}

const EventSchema = z.looseObject({
  event: z.string(),
  sg_event_id: z.string().min(1),
  /** Seconds since the epoch. */
  timestamp: z.number(),
  /** Custom arguments of the message arrive as top-level fields of each event. */
  [MESSAGE_TAG]: z.string().min(1).optional(),
  url: z.string().optional(),
  /** Bounces: `bounce` (the server refused the address for good) or `blocked` (for now). */
  type: z.string().optional(),
  reason: z.string().optional(),
})

/** SendGrid's event names → feedback; `processed` and `deferred` say nothing the contact needs. */
const KINDS: Record<string, FeedbackKind> = {
  delivered: 'delivered',
  open: 'opened',
  click: 'clicked',
  bounce: 'bounced',
  // Dropped: SendGrid never tried (the address is on its own bounce, spam or invalid list). The
  // message will not arrive, which is what a bounce means here; soft, as Cairn did not see why.
  dropped: 'bounced',
  spamreport: 'complained',
  unsubscribe: 'unsubscribed',
  group_unsubscribe: 'unsubscribed',
}

/** A batch of events (a JSON array); events of mail Cairn did not send are left out. */
export function parse(request: Pick<WebhookRequest, 'body'>): Feedback[] {
  const events = parseJson(request.body, 'SendGrid')
  if (!Array.isArray(events)) throw new WebhookMalformed('A SendGrid webhook body is an array')
  return events.flatMap((raw): Feedback[] => {
    const parsed = EventSchema.safeParse(raw)
    if (!parsed.success) return []
    const event = parsed.data
    const kind = KINDS[event.event]
    const messageId = event[MESSAGE_TAG]
    if (!kind || !messageId) return []
    const feedback: Feedback = {
      provider: 'sendgrid',
      eventId: event.sg_event_id,
      messageId,
      kind,
      at: event.timestamp * 1000,
    }
    if (kind === 'clicked' && event.url) feedback.url = event.url
    if (kind === 'bounced') {
      feedback.hard = event.event === 'bounce' && event.type !== 'blocked'
      if (event.reason) feedback.detail = event.reason
    }
    return [feedback]
  })
}
