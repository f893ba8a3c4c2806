import { z } from '@hono/zod-openapi'
import { readSetting, writeSetting } from '../../db/settings'
import type { Env } from '../../env'
import { ApiError } from '../../errors'
import { openSecret, sealSecret, type SecretBoxEnv } from '../../messaging/secret-box'
import { refusedTarget } from './ssrf'

/**
 * The help desk journeys' ticket nodes open tickets in (`PUT /api/journeys/ticketing`), held in
 * the D1 setting below with its credential sealed (secret-box.ts), as the email providers' are.
 * The credential is write-only: the API answers that it is set, never its value.
 */

export type TicketingEnv = Pick<Env, 'DB'> & SecretBoxEnv

const KEY = 'journeys.ticketing'

const Secret = z
  .string()
  .trim()
  // A short value would also be masked inside ordinary words of error messages.
  .min(8)
  .max(2_000)
  .openapi({ description: 'Write-only: kept sealed, never answered' })

/** Where the help desk's API answers; the same SSRF check as webhooks is made by changeTicketing. */
const BaseUrl = z
  .string()
  .max(500)
  .refine((text) => {
    if (!URL.canParse(text)) return false
    const url = new URL(text)
    return !url.search && !url.hash && (url.pathname === '/' || url.pathname === '')
  }, 'must be the help desk origin, such as https://acme.zendesk.com, without a path, query or fragment')

const Zendesk = z.strictObject({
  kind: z.literal('zendesk'),
  baseUrl: BaseUrl.openapi({ example: 'https://acme.zendesk.com' }),
  email: z.email().max(320).openapi({ description: 'The agent the API token is used with' }),
  apiToken: Secret,
})

const Freshdesk = z.strictObject({
  kind: z.literal('freshdesk'),
  baseUrl: BaseUrl.openapi({ example: 'https://acme.freshdesk.com' }),
  apiKey: Secret,
})

const TicketingSchema = z.discriminatedUnion('kind', [Zendesk, Freshdesk])
export type TicketingConfig = z.infer<typeof TicketingSchema>

/** What the API takes: the same help desk (kind and base URL) may leave its credential out. */
export const TicketingChangeSchema = z
  .discriminatedUnion('kind', [
    Zendesk.partial({ apiToken: true }),
    Freshdesk.partial({ apiKey: true }),
  ])
  .openapi('JourneyTicketingChange', {
    example: {
      kind: 'zendesk',
      baseUrl: 'https://acme.zendesk.com',
      email: 'ops@acme.com',
      apiToken: 'abcdefgh12345678',
    },
  })
export type TicketingChange = z.infer<typeof TicketingChangeSchema>

/** As the API shows it: the configuration, and which credential is set. */
export interface TicketingView {
  kind: TicketingConfig['kind']
  baseUrl: string
  email?: string
  credentials: { apiToken?: 'set'; apiKey?: 'set' }
}

interface Stored {
  kind: TicketingConfig['kind']
  baseUrl: string
  email?: string
  /** The credential field, sealed as JSON. */
  secret: string
}

/** The help desk with its credential; null when none is set; 'unreadable' when it cannot be opened. */
export async function readTicketing(
  env: TicketingEnv,
): Promise<TicketingConfig | null | 'unreadable'> {
  const stored = await readSetting<Stored>(env.DB, KEY)
  if (!stored) return null
  const credential = await openCredential(env, stored)
  if (!credential) return 'unreadable'
  const { secret: _sealed, ...config } = stored
  return TicketingSchema.parse({ ...config, ...credential })
}

export async function viewTicketing(env: TicketingEnv): Promise<TicketingView | null> {
  const stored = await readSetting<Stored>(env.DB, KEY)
  if (!stored) return null
  const credential = await openCredential(env, stored)
  const { secret: _sealed, ...config } = stored
  const field = stored.kind === 'zendesk' ? 'apiToken' : 'apiKey'
  // A credential that cannot be opened counts as not set: it must be entered again.
  return { ...config, credentials: credential ? { [field]: 'set' } : {} }
}

/**
 * Stores a help desk. A credential left out is taken from the stored one of the same kind and
 * base URL: pointed at another host it gets none, so no one can send it to a server of their
 * choosing without knowing it.
 */
export async function changeTicketing(
  env: TicketingEnv,
  change: TicketingChange,
  options: { allowPrivate: boolean },
): Promise<TicketingView> {
  const refused = refusedTarget(change.baseUrl, options)
  if (refused) throw invalid('baseUrl', `must be a public https URL (${refused})`)
  if (!options.allowPrivate && new URL(change.baseUrl).protocol !== 'https:') {
    throw invalid('baseUrl', 'must be https: the credential would cross the network in clear')
  }
  const baseUrl = new URL(change.baseUrl).origin
  const before = await readSetting<Stored>(env.DB, KEY)
  const kept =
    before && before.kind === change.kind && before.baseUrl === baseUrl
      ? await openCredential(env, before)
      : null
  const parsed = TicketingSchema.safeParse({ ...kept, ...change, baseUrl })
  if (!parsed.success) {
    const field = change.kind === 'zendesk' ? 'apiToken' : 'apiKey'
    throw invalid(field, 'is required for a help desk not configured before')
  }
  const { kind } = parsed.data
  const credential =
    parsed.data.kind === 'zendesk'
      ? { apiToken: parsed.data.apiToken }
      : { apiKey: parsed.data.apiKey }
  const stored: Stored = {
    kind,
    baseUrl,
    ...(parsed.data.kind === 'zendesk' ? { email: parsed.data.email } : {}),
    secret: await sealSecret(env, JSON.stringify(credential)),
  }
  await writeSetting(env.DB, KEY, stored)
  return (await viewTicketing(env))!
}

async function openCredential(
  env: TicketingEnv,
  stored: Stored,
): Promise<Record<string, string> | null> {
  const text = await openSecret(env, stored.secret)
  return text === null ? null : (JSON.parse(text) as Record<string, string>)
}

function invalid(path: string, message: string): ApiError {
  return new ApiError(400, 'invalid_request', `Invalid request: ${path}: ${message}`, {
    issues: [{ path, message }],
  })
}
