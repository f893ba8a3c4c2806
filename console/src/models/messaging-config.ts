import type { ProviderKind } from '../../../contracts/messaging'

/**
 * The messaging settings' pure part: the providers as the form edits them and what a save
 * sends, the settings' shape and durations, and a 400's issues by field. No platform or request
 * code, so it is tested on its own.
 */

/** A row of `GET /api/messaging/providers`, in fallback order. */
export interface MessagingProvider {
  kind: ProviderKind
  baseUrl?: string
  region?: string
  configurationSet?: string
  snsTopicArn?: string
  messageStream?: string
  webhookUsername?: string
  webhookPublicKey?: string
  /** Which secret fields are set; their values are never answered. */
  credentials: Partial<Record<string, 'set'>>
  health: {
    state: 'closed' | 'open' | 'half_open'
    failures: number
    openUntil: string | null
  }
}

/** One field of a provider's configuration; secrets are write-only. */
export interface ProviderField {
  name: string
  label: string
  secret: boolean
  /** Needed for a provider not yet configured (a stored secret stays when left empty). */
  required: boolean
}

const BASE_URL: ProviderField = {
  name: 'baseUrl',
  label: 'Base URL',
  secret: false,
  required: false,
}

/** What each kind takes (edge/messaging/provider-config.ts); `log` takes nothing. */
export const PROVIDER_FIELDS: Record<ProviderKind, readonly ProviderField[]> = {
  sendgrid: [
    { name: 'apiKey', label: 'API key', secret: true, required: true },
    BASE_URL,
    { name: 'webhookPublicKey', label: 'Webhook public key', secret: false, required: false },
  ],
  ses: [
    { name: 'region', label: 'Region', secret: false, required: true },
    { name: 'accessKeyId', label: 'Access key id', secret: true, required: true },
    { name: 'secretAccessKey', label: 'Secret access key', secret: true, required: true },
    BASE_URL,
    { name: 'configurationSet', label: 'Configuration set', secret: false, required: false },
    { name: 'snsTopicArn', label: 'SNS topic ARN', secret: false, required: false },
  ],
  resend: [
    { name: 'apiKey', label: 'API key', secret: true, required: true },
    BASE_URL,
    { name: 'webhookSecret', label: 'Webhook secret', secret: true, required: false },
  ],
  postmark: [
    { name: 'serverToken', label: 'Server token', secret: true, required: true },
    BASE_URL,
    { name: 'messageStream', label: 'Message stream', secret: false, required: false },
    { name: 'webhookUsername', label: 'Webhook user name', secret: false, required: false },
    { name: 'webhookPassword', label: 'Webhook password', secret: true, required: false },
  ],
  log: [],
}

/**
 * A provider as the settings form edits it: the configuration as typed, secrets empty unless
 * typed anew (the API keeps a stored one that is left out), which secrets are stored already.
 */
export interface ProviderRow {
  kind: ProviderKind
  values: Record<string, string>
  stored: string[]
  health?: MessagingProvider['health']
}

export function providerRowOf(provider: MessagingProvider): ProviderRow {
  const values: Record<string, string> = {}
  for (const field of PROVIDER_FIELDS[provider.kind]) {
    const value = (provider as unknown as Record<string, unknown>)[field.name]
    if (!field.secret && typeof value === 'string') values[field.name] = value
  }
  return {
    kind: provider.kind,
    values,
    stored: Object.keys(provider.credentials),
    health: provider.health,
  }
}

/** The body of `PUT /api/messaging/providers`: each row's kind and the fields filled in. */
export function providerChangeOf(rows: readonly ProviderRow[]): Record<string, string>[] {
  return rows.map((row) => {
    const body: Record<string, string> = { kind: row.kind }
    for (const field of PROVIDER_FIELDS[row.kind]) {
      const value = row.values[field.name]?.trim()
      if (value) body[field.name] = value
    }
    return body
  })
}

/**
 * A 400's issues by the path they name (`from`, `frequencyCap.count`, `[1].apiKey`), for
 * showing each next to its field; the first issue per path.
 */
export function issuesOf(error: { details?: unknown } | undefined): Record<string, string> {
  const issues = (error?.details as { issues?: { path: string; message: string }[] } | undefined)
    ?.issues
  const found: Record<string, string> = {}
  for (const issue of issues ?? []) found[issue.path] ??= issue.message
  return found
}

export interface Duration {
  days?: number
  hours?: number
  minutes?: number
}

/** `GET/PUT /api/messaging/settings`. */
export interface MessagingSettings {
  from: string
  replyTo?: string
  frequencyCap?: { count: number; per: Duration }
  quietHours?: { start: string; end: string }
  timezone?: string
}

export const DURATION_UNITS = ['days', 'hours', 'minutes'] as const
export type DurationUnit = (typeof DURATION_UNITS)[number]

const MINUTES: Record<DurationUnit, number> = { days: 1440, hours: 60, minutes: 1 }

/** A duration as one amount of its largest whole unit: 36 hours, 2 days, 90 minutes. */
export function durationParts(duration: Duration): { amount: number; unit: DurationUnit } {
  const total = DURATION_UNITS.reduce((sum, unit) => sum + (duration[unit] ?? 0) * MINUTES[unit], 0)
  const unit = DURATION_UNITS.find((u) => total > 0 && total % MINUTES[u] === 0) ?? 'minutes'
  return { amount: total / MINUTES[unit], unit }
}
