/**
 * What the parts of messaging hand each other (docs/design/messaging.md): the contact's object
 * decides whether and when a message may go, the `messages` queue consumer renders it and sends
 * it through the providers in order, provider webhooks come back as feedback on the contact.
 */

export const MESSAGE_STATUSES = [
  'queued',
  'sent',
  'delivered',
  'opened',
  'clicked',
  'bounced',
  'complained',
  'failed',
  'suppressed',
  'capped',
  'no_consent',
] as const
export type MessageStatus = (typeof MESSAGE_STATUSES)[number]

export const TEMPLATE_KINDS = ['marketing', 'transactional'] as const
export type TemplateKind = (typeof TEMPLATE_KINDS)[number]

export const PROVIDER_KINDS = ['sendgrid', 'ses', 'resend', 'postmark', 'log'] as const
export type ProviderKind = (typeof PROVIDER_KINDS)[number]

/** One try of one provider for a message, as `attempts` lists it. */
export interface Attempt {
  provider: ProviderKind
  /** sent; retryable (5xx, 429, timeout, network); permanent (the message was refused); skipped (circuit open). */
  status: 'sent' | 'retryable' | 'permanent' | 'skipped'
  /** ISO time. */
  at: string
  httpStatus?: number
  error?: string
}

/** A rendered email as every provider client takes it. */
export interface OutgoingEmail {
  /** Cairn's message id: sent to the provider as a tag, so feedback finds the message again. */
  messageId: string
  /** Given to providers that honour an idempotency header. */
  idempotencyKey: string
  from: string
  replyTo?: string
  to: string
  subject: string
  html: string
  text: string
  /** Extra headers, List-Unsubscribe and List-Unsubscribe-Post among them. */
  headers: Record<string, string>
}

export type ProviderResult =
  | { ok: true; providerMessageId?: string; httpStatus?: number }
  | { ok: false; retryable: boolean; error: string; httpStatus?: number }

export const FEEDBACK_KINDS = [
  'delivered',
  'opened',
  'clicked',
  'bounced',
  'complained',
  'unsubscribed',
] as const
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number]

/** One provider webhook event, verified and normalised. */
export interface Feedback {
  provider: ProviderKind
  /** Unique per provider event: a webhook delivered twice is applied once. */
  eventId: string
  /** Cairn's message id, from the tag sent with the message. */
  messageId: string
  kind: FeedbackKind
  /** ms since the epoch. */
  at: number
  /** Bounces: a permanent (hard) bounce suppresses the address for marketing. */
  hard?: boolean
  /** Clicks: the link. */
  url?: string
  /** The provider's reason, for bounces and complaints. */
  detail?: string
}

/** Feedback kind → the event it writes on the contact's timeline. */
export const FEEDBACK_EVENTS: Record<FeedbackKind, string> = {
  delivered: 'Email Delivered',
  opened: 'Email Opened',
  clicked: 'Email Clicked',
  bounced: 'Email Bounced',
  complained: 'Email Complained',
  unsubscribed: 'Unsubscribed',
}

/** Written when a message is handed to a provider, and when it fails on every provider. */
export const EMAIL_SENT_EVENT = 'Email Sent'
export const EMAIL_FAILED_EVENT = 'Email Failed'

/**
 * The group a marketing template without one belongs to: unsubscribing from it (the one-click
 * link of such a message, or "unsubscribe from all" on the preference page) stops all marketing.
 */
export const ALL_MARKETING_GROUP = 'marketing'

/** The group of a transactional template without one: only leaving it by name stops them. */
export const TRANSACTIONAL_GROUP = 'transactional'

/** A message on the `messages` queue: one send of one message, claimed from its contact's object. */
export interface SendJob {
  kind: 'send'
  contactKey: string
  messageId: string
}

/**
 * One provider as configured (`PUT /api/messaging/providers`, in fallback order), with its
 * credentials in clear: held encrypted in D1 and never answered by the API. `baseUrl` overrides
 * the provider's API host (EU endpoints, proxies, tests); webhook fields verify its feedback.
 */
export type ProviderConfig =
  | { kind: 'sendgrid'; baseUrl?: string; apiKey: string; webhookPublicKey?: string }
  | {
      kind: 'ses'
      baseUrl?: string
      region: string
      accessKeyId: string
      secretAccessKey: string
      configurationSet?: string
      /** Only SNS notifications from this topic are accepted. */
      snsTopicArn?: string
    }
  | { kind: 'resend'; baseUrl?: string; apiKey: string; webhookSecret?: string }
  | {
      kind: 'postmark'
      baseUrl?: string
      serverToken: string
      messageStream?: string
      /** Postmark signs nothing: its webhooks carry HTTP Basic credentials set in their URL. */
      webhookUsername?: string
      webhookPassword?: string
    }
  | { kind: 'log' }
