import { z } from '@hono/zod-openapi'
import type { ProviderConfig, ProviderKind } from '../../contracts/messaging'
import { readSetting, writeSetting } from '../db/settings'
import type { Env } from '../env'
import { validationError } from '../errors'
import { openSecret, sealSecret, type SecretBoxEnv } from './secret-box'

/**
 * The email providers in fallback order (`PUT /api/messaging/providers`), held in the D1
 * setting `messaging.providers` with their credentials sealed (secret-box.ts): each entry keeps
 * its configuration in clear and its secret fields as one sealed JSON value under `secret`.
 */

export type ProvidersEnv = Pick<Env, 'DB'> & SecretBoxEnv

const KEY = 'messaging.providers'
export const MAX_PROVIDERS = 5

/** Fields never answered by the API and sealed at rest. */
export const SECRET_FIELDS = [
  'apiKey',
  'accessKeyId',
  'secretAccessKey',
  'serverToken',
  'webhookSecret',
  'webhookPassword',
] as const
export type SecretField = (typeof SECRET_FIELDS)[number]

/** Nothing configured: messages are kept in D1 and shown in the console, with no account. */
export const DEFAULT_PROVIDERS: ProviderConfig[] = [{ kind: 'log' }]

const Secret = z
  .string()
  .trim()
  // Real credentials are long; a short one would also be masked inside ordinary words of errors.
  .min(8)
  .max(2_000)
  .openapi({ description: 'Write-only: kept sealed, never answered' })

/**
 * https, so credentials never cross a network in clear. http is accepted for localhost and
 * 127.0.0.1 alone, where tests and local fakes of a provider listen.
 */
const BaseUrl = z
  .string()
  .max(500)
  .refine((text) => {
    if (!URL.canParse(text)) return false
    const url = new URL(text)
    const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1'
    const scheme = url.protocol === 'https:' || (url.protocol === 'http:' && local)
    return scheme && !url.username && !url.password && !url.search && !url.hash
  }, 'must be an https URL (http only for localhost or 127.0.0.1), without credentials, query or fragment')
  .openapi({
    description: "Overrides the provider's API host (EU endpoints, proxies, tests)",
    example: 'https://api.eu.sendgrid.com',
  })

const Sendgrid = z.strictObject({
  kind: z.literal('sendgrid'),
  baseUrl: BaseUrl.optional(),
  apiKey: Secret,
  webhookPublicKey: z.string().trim().min(1).max(2_000).optional(),
})

const Ses = z.strictObject({
  kind: z.literal('ses'),
  baseUrl: BaseUrl.optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as eu-west-1')
    .openapi({ example: 'eu-west-1' }),
  accessKeyId: Secret,
  secretAccessKey: Secret,
  configurationSet: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an SES configuration set name')
    .optional(),
  snsTopicArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
      'must be an SNS topic ARN',
    )
    .optional(),
})

const Resend = z.strictObject({
  kind: z.literal('resend'),
  baseUrl: BaseUrl.optional(),
  apiKey: Secret,
  webhookSecret: Secret.optional(),
})

const Postmark = z.strictObject({
  kind: z.literal('postmark'),
  baseUrl: BaseUrl.optional(),
  serverToken: Secret,
  messageStream: z.string().trim().min(1).max(100).optional(),
  webhookUsername: z.string().trim().min(1).max(200).optional(),
  webhookPassword: Secret.optional(),
})

const Log = z.strictObject({ kind: z.literal('log') })

/** A fallback order: at least one provider, each kind once (it names its circuit), at most five. */
function orderOf<T extends z.ZodType<{ kind: ProviderKind }>>(provider: T) {
  return z
    .array(provider)
    .min(1)
    .max(MAX_PROVIDERS)
    .superRefine((list, context) => {
      list.forEach(({ kind }, i) => {
        if (list.findIndex((other) => other.kind === kind) < i) {
          context.addIssue({
            code: 'custom',
            path: [i, 'kind'],
            message: `${kind} is already in the list: name each provider once`,
          })
        }
      })
    })
}

export const ProviderListSchema = orderOf(
  z.discriminatedUnion('kind', [Sendgrid, Ses, Resend, Postmark, Log]),
)

/**
 * What the API takes: a provider already configured (same kind, same base URL) may leave out a
 * secret field to keep the one stored, so the console can reorder without keys entered again.
 */
export const ProviderChangeSchema = orderOf(
  z.discriminatedUnion('kind', [
    Sendgrid.partial({ apiKey: true }),
    Ses.partial({ accessKeyId: true, secretAccessKey: true }),
    Resend.partial({ apiKey: true }),
    Postmark.partial({ serverToken: true }),
    Log,
  ]),
).openapi('MessagingProvidersChange', {
  example: [{ kind: 'resend', apiKey: 're_123456789' }, { kind: 'log' }],
})
export type ProviderChange = z.infer<typeof ProviderChangeSchema>[number]

/** As held in D1: the configuration in clear, the secret fields sealed together. */
type StoredProvider = { kind: ProviderKind; baseUrl?: string; secret?: string } & Record<
  string,
  unknown
>

/** One configured provider as the API shows it: no secret, only which secret fields are set. */
export interface ProviderView {
  config: { kind: ProviderKind } & Record<string, unknown>
  credentials: SecretField[]
}

/** The providers in order, with their credentials, for sending. */
export async function readProviders(env: ProvidersEnv): Promise<ProviderConfig[]> {
  const stored = await readSetting<StoredProvider[]>(env.DB, KEY)
  if (!stored) return DEFAULT_PROVIDERS
  return Promise.all(
    stored.map(async (entry) => {
      const { secret: _sealed, ...config } = entry
      const secrets = await openSecrets(env, entry)
      if (secrets === null) {
        throw new Error(
          `The ${entry.kind} credentials cannot be opened: the secrets key changed since they ` +
            'were saved; enter them again (PUT /api/messaging/providers)',
        )
      }
      return ProviderListSchema.element.parse({ ...config, ...secrets }) satisfies ProviderConfig
    }),
  )
}

/** Validates the list (a 400 naming the bad part), seals its credentials and stores it. */
export async function writeProviders(env: ProvidersEnv, list: unknown): Promise<ProviderConfig[]> {
  const parsed = ProviderListSchema.safeParse(list)
  if (!parsed.success) throw validationError(parsed.error.issues)
  const stored = await Promise.all(parsed.data.map((provider) => seal(env, provider)))
  await writeSetting(env.DB, KEY, stored)
  return parsed.data
}

/**
 * A new fallback order from the API. A secret left out is taken from the provider of the same
 * kind stored with the same base URL: one pointed at another host gets no stored credential, so
 * no one can send the keys to a server of their choosing without knowing them.
 */
export async function changeProviders(
  env: ProvidersEnv,
  change: ProviderChange[],
): Promise<ProviderConfig[]> {
  const stored = (await readSetting<StoredProvider[]>(env.DB, KEY)) ?? []
  const merged = await Promise.all(
    change.map(async (provider) => {
      const before = stored.find(
        (entry) => entry.kind === provider.kind && entry.baseUrl === baseUrlOf(provider),
      )
      const kept = before ? await openSecrets(env, before) : null
      return { ...kept, ...provider }
    }),
  )
  return writeProviders(env, merged)
}

/** The providers as the API shows them. Credentials that cannot be opened count as not set. */
export async function viewProviders(env: ProvidersEnv): Promise<ProviderView[]> {
  const stored: StoredProvider[] =
    (await readSetting<StoredProvider[]>(env.DB, KEY)) ?? DEFAULT_PROVIDERS
  return Promise.all(
    stored.map(async (entry) => {
      const { secret: _sealed, ...config } = entry
      const secrets = await openSecrets(env, entry)
      const credentials = SECRET_FIELDS.filter((name) => secrets?.[name] !== undefined)
      return { config, credentials }
    }),
  )
}

async function seal(env: ProvidersEnv, provider: ProviderConfig): Promise<StoredProvider> {
  const config: StoredProvider = { kind: provider.kind }
  const secrets: Record<string, string> = {}
  for (const [name, value] of Object.entries(provider)) {
    if ((SECRET_FIELDS as readonly string[]).includes(name)) secrets[name] = value
    else config[name] = value
  }
  if (Object.keys(secrets).length === 0) return config
  return { ...config, secret: await sealSecret(env, JSON.stringify(secrets)) }
}

/** An entry's secret fields; {} when it has none; null when they cannot be opened. */
async function openSecrets(
  env: ProvidersEnv,
  entry: StoredProvider,
): Promise<Record<string, string> | null> {
  if (entry.secret === undefined) return {}
  const text = await openSecret(env, entry.secret)
  return text === null ? null : (JSON.parse(text) as Record<string, string>)
}

function baseUrlOf(provider: ProviderChange): string | undefined {
  return 'baseUrl' in provider ? provider.baseUrl : undefined
}
