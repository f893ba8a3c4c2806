import { z } from '@hono/zod-openapi'
import * as asn1js from 'asn1js'
import type { Feedback, FeedbackKind } from '../../../contracts/messaging'
import {
  base64Bytes,
  isoMs,
  MESSAGE_TAG,
  WebhookRefused,
  type ConfigOf,
  type WebhookDeps,
  type WebhookRequest,
} from './webhook'

/**
 * Amazon SES events published to an SNS topic with an HTTPS subscription. SNS signs each message
 * with RSA over a canonical string of its fields (SignatureVersion 1: SHA-1, 2: SHA-256) and
 * names the certificate in `SigningCertURL`. The URL is part of the unverified body, so it is
 * fetched only from an SNS host over HTTPS: the certificate is then Amazon's because TLS says
 * so, and no caller can make the Worker fetch anything else.
 */

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/

const EnvelopeSchema = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1),
  TopicArn: z.string().min(1),
  Message: z.string(),
  Timestamp: z.string(),
  Subject: z.string().optional(),
  SubscribeURL: z.string().optional(),
  Token: z.string().optional(),
  SignatureVersion: z.string(),
  Signature: z.string(),
  SigningCertURL: z.string(),
})
type Envelope = z.infer<typeof EnvelopeSchema>

/** The fields SNS signs, in the order it signs them; Subject only when the message has one. */
const SIGNED_FIELDS: Record<Envelope['Type'], (keyof Envelope)[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
  ],
  UnsubscribeConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
  ],
}

const HASHES: Record<string, string> = { '1': 'SHA-1', '2': 'SHA-256' }

/**
 * SNS gives up on an HTTPS endpoint within an hour of the message (a hard limit of its delivery
 * policies), so an older signed message is a replay; five minutes more for the clocks.
 */
export const SNS_MAX_AGE_MS = 65 * 60_000

function envelope(body: string): Envelope {
  let json: unknown = null
  try {
    json = JSON.parse(body)
  } catch {
    // Refused below: whatever it is, it is no SNS message.
  }
  const parsed = EnvelopeSchema.safeParse(json)
  if (!parsed.success) throw new WebhookRefused('The body is not a signed SNS message')
  return parsed.data
}

/** Whether SNS's certificate or confirmation link may be fetched from `url`. */
export function isSnsUrl(url: string): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  return (
    parsed.protocol === 'https:' &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === '' &&
    SNS_HOST.test(parsed.hostname)
  )
}

export function stringToSign(message: Envelope): string {
  return SIGNED_FIELDS[message.Type]
    .filter((field) => message[field] !== undefined)
    .map((field) => `${field}\n${message[field]}\n`)
    .join('')
}

export async function verify(
  request: WebhookRequest,
  config: ConfigOf<'ses'>,
  deps: WebhookDeps,
): Promise<boolean> {
  const message = envelope(request.body)
  if (config.snsTopicArn && message.TopicArn !== config.snsTopicArn) {
    throw new WebhookRefused(`Topic ${message.TopicArn} is not the configured snsTopicArn`)
  }
  const age = deps.now - (isoMs(message.Timestamp) ?? Number.NaN)
  if (!(Math.abs(age) <= SNS_MAX_AGE_MS)) {
    throw new WebhookRefused('The SNS message Timestamp is more than an hour from now')
  }
  const hash = HASHES[message.SignatureVersion]
  if (!hash) throw new WebhookRefused(`Unknown SignatureVersion ${message.SignatureVersion}`)
  if (!isSnsUrl(message.SigningCertURL)) {
    throw new WebhookRefused('SigningCertURL is not an https URL on an SNS host')
  }
  const signature = base64Bytes(message.Signature)
  if (!signature) return false
  const key = await crypto.subtle.importKey(
    'spki',
    await signingKey(message.SigningCertURL, deps.fetch),
    { name: 'RSASSA-PKCS1-v1_5', hash },
    false,
    ['verify'],
  )
  return crypto.subtle.verify(
    'RSASSA-PKCS1-v1_5',
    key,
    signature,
    new TextEncoder().encode(stringToSign(message)),
  )
}

/** SNS signs with few certificates, each used for months: one fetch per isolate and URL. */
const CACHED_CERTIFICATES = 16
const certificates = new Map<string, Promise<Uint8Array<ArrayBuffer>>>()

function signingKey(url: string, fetcher: typeof fetch): Promise<Uint8Array<ArrayBuffer>> {
  let key = certificates.get(url)
  if (!key) {
    key = fetchPublicKey(url, fetcher)
    certificates.set(url, key)
    key.catch(() => certificates.delete(url))
    if (certificates.size > CACHED_CERTIFICATES) {
      certificates.delete(certificates.keys().next().value as string)
    }
  }
  return key
}

async function fetchPublicKey(url: string, fetcher: typeof fetch) {
  const response = await fetcher(url)
  if (!response.ok) {
    await response.body?.cancel()
    throw new Error(`SNS signing certificate ${url}: HTTP ${response.status}`)
  }
  const pem = await response.text()
  const der = base64Bytes(
    /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem)?.[1] ?? '',
  )
  const spki = der && subjectPublicKeyInfo(der)
  if (!spki) throw new Error(`SNS signing certificate ${url} is not a PEM X.509 certificate`)
  return spki
}

/**
 * The SubjectPublicKeyInfo of an X.509 certificate (RFC 5280: Certificate → tbsCertificate →
 * [version], serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo), the one
 * part of it WebCrypto can import.
 */
export function subjectPublicKeyInfo(der: Uint8Array): Uint8Array<ArrayBuffer> | null {
  const parsed = asn1js.fromBER(der)
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return null
  const tbs = parsed.result.valueBlock.value[0]
  if (!(tbs instanceof asn1js.Sequence)) return null
  const fields = tbs.valueBlock.value
  const explicitVersion = fields[0]?.idBlock.tagClass === 3 && fields[0].idBlock.tagNumber === 0
  const spki = fields[(explicitVersion ? 1 : 0) + 5]
  if (!(spki instanceof asn1js.Sequence)) return null
  return new Uint8Array(spki.toBER(false))
}

/**
 * A verified SubscriptionConfirmation is confirmed by visiting its SubscribeURL (on an SNS host,
 * like the certificate): SNS then starts delivering the topic's notifications here.
 */
export async function confirmSubscription(
  request: Pick<WebhookRequest, 'body'>,
  deps: Pick<WebhookDeps, 'fetch'>,
): Promise<boolean> {
  const message = envelope(request.body)
  if (message.Type !== 'SubscriptionConfirmation') return false
  if (!message.SubscribeURL || !isSnsUrl(message.SubscribeURL)) {
    throw new WebhookRefused('SubscribeURL is not an https URL on an SNS host')
  }
  // A plain call: the runtime's fetch refuses to run as `deps`'s method.
  const fetcher = deps.fetch
  const response = await fetcher(message.SubscribeURL)
  await response.body?.cancel()
  if (!response.ok) throw new Error(`Confirming the SNS subscription: HTTP ${response.status}`)
  return true
}

const MailSchema = z.looseObject({
  timestamp: z.string().optional(),
  /** Message tags, each a list of values (SES allows one per name on a send). */
  tags: z.record(z.string(), z.array(z.string())).optional(),
})

const EventSchema = z.looseObject({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: MailSchema,
  bounce: z
    .looseObject({
      bounceType: z.string().optional(),
      bounceSubType: z.string().optional(),
      timestamp: z.string().optional(),
    })
    .optional(),
  complaint: z
    .looseObject({
      complaintFeedbackType: z.string().optional(),
      timestamp: z.string().optional(),
    })
    .optional(),
  delivery: z.looseObject({ timestamp: z.string().optional() }).optional(),
  open: z.looseObject({ timestamp: z.string().optional() }).optional(),
  click: z
    .looseObject({ timestamp: z.string().optional(), link: z.string().optional() })
    .optional(),
  subscription: z
    .looseObject({
      timestamp: z.string().optional(),
      newTopicPreferences: z.looseObject({ unsubscribeAll: z.boolean().optional() }).optional(),
    })
    .optional(),
})
type SesEvent = z.infer<typeof EventSchema>

/** Event publishing's `eventType` (or a notification's `notificationType`) → feedback. */
const KINDS: Record<string, FeedbackKind> = {
  Delivery: 'delivered',
  Open: 'opened',
  Click: 'clicked',
  Bounce: 'bounced',
  Complaint: 'complained',
  Subscription: 'unsubscribed',
}

/** Where each kind of event keeps its time. */
const DETAIL_OF: Record<FeedbackKind, (e: SesEvent) => { timestamp?: string } | undefined> = {
  delivered: (e) => e.delivery,
  opened: (e) => e.open,
  clicked: (e) => e.click,
  bounced: (e) => e.bounce,
  complained: (e) => e.complaint,
  unsubscribed: (e) => e.subscription,
}

/**
 * The one SES event a Notification carries (its MessageId is the event's id); confirmations and
 * SNS's own test messages carry none.
 */
export function parse(request: Pick<WebhookRequest, 'body'>): Feedback[] {
  const message = envelope(request.body)
  if (message.Type !== 'Notification') return []
  let json: unknown
  try {
    json = JSON.parse(message.Message)
  } catch {
    return []
  }
  const parsed = EventSchema.safeParse(json)
  if (!parsed.success) return []
  const event = parsed.data
  const kind = KINDS[event.eventType ?? event.notificationType ?? '']
  const messageId = event.mail.tags?.[MESSAGE_TAG]?.[0]
  if (!kind || !messageId) return []
  if (kind === 'unsubscribed' && !event.subscription?.newTopicPreferences?.unsubscribeAll) return []
  const feedback: Feedback = {
    provider: 'ses',
    eventId: message.MessageId,
    messageId,
    kind,
    at:
      isoMs(DETAIL_OF[kind](event)?.timestamp) ??
      isoMs(message.Timestamp) ??
      isoMs(event.mail.timestamp) ??
      Date.now(),
  }
  if (kind === 'clicked' && event.click?.link) feedback.url = event.click.link
  if (kind === 'bounced') {
    feedback.hard = event.bounce?.bounceType === 'Permanent'
    const detail = [event.bounce?.bounceType, event.bounce?.bounceSubType].filter(Boolean)
    if (detail.length > 0) feedback.detail = detail.join(' / ')
  }
  if (kind === 'complained' && event.complaint?.complaintFeedbackType) {
    feedback.detail = event.complaint.complaintFeedbackType
  }
  return [feedback]
}
