import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { PROVIDER_KINDS } from '../../contracts/messaging'
import type { Circuit } from '../../domain/messaging/circuit'
import { providerHealth } from '../../durable/provider-health'
import type { Env } from '../env'
import {
  ProviderChangeSchema,
  SECRET_FIELDS,
  changeProviders,
  viewProviders,
} from '../messaging/provider-config'
import { authErrors, json } from './common'

const HealthSchema = z
  .object({
    state: z.enum(['closed', 'open', 'half_open']).openapi({
      description:
        'closed: in use; open: skipped until openUntil; half_open: one message probes it',
    }),
    failures: z.number().int().openapi({ description: 'Retryable failures in a row' }),
    openUntil: z
      .string()
      .nullable()
      .openapi({ description: 'When the cool-down ends, while open' }),
  })
  .openapi('MessagingProviderHealth')

const optionalText = z.string().optional()

const ProviderSchema = z
  .object({
    kind: z.enum(PROVIDER_KINDS),
    baseUrl: optionalText,
    region: optionalText,
    configurationSet: optionalText,
    snsTopicArn: optionalText,
    messageStream: optionalText,
    webhookUsername: optionalText,
    webhookPublicKey: optionalText,
    credentials: z.partialRecord(z.enum(SECRET_FIELDS), z.literal('set')).openapi({
      description: 'Which credentials are set; their values are never answered',
      example: { apiKey: 'set' },
    }),
    health: HealthSchema,
  })
  .openapi('MessagingProvider')

const ProvidersSchema = z.object({ items: z.array(ProviderSchema) }).openapi('MessagingProviders')

/**
 * The email providers in fallback order, and how each is doing. Credentials are write-only: the
 * API answers which are set, never a value, and keeps a stored one the body leaves out.
 */
export function messagingProviderRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/messaging/providers',
      tags: ['messaging'],
      summary: 'The email providers in fallback order, with their circuit breakers',
      responses: { 200: json(ProvidersSchema, 'Providers, first tried first'), ...authErrors },
    }),
    async (c) => c.json(await providersAnswer(c.env), 200),
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/messaging/providers',
      tags: ['messaging'],
      summary:
        'Set the email providers and their order; a credential left out keeps the stored one',
      description:
        'A provider already configured with the same kind and base URL keeps each stored ' +
        'credential the body leaves out; one new, or pointed at another base URL, must give all ' +
        'its required credentials.',
      request: {
        body: { content: { 'application/json': { schema: ProviderChangeSchema } }, required: true },
      },
      responses: { 200: json(ProvidersSchema, 'The providers as now configured'), ...authErrors },
    }),
    async (c) => {
      const providers = await changeProviders(c.env, c.req.valid('json'))
      // The order only: credentials never reach the audit log.
      c.set('auditDetail', { providers: providers.map((provider) => provider.kind) })
      return c.json(await providersAnswer(c.env), 200)
    },
  )
  return app
}

async function providersAnswer(env: Env): Promise<z.infer<typeof ProvidersSchema>> {
  const [views, circuits] = await Promise.all([viewProviders(env), providerHealth(env).states()])
  return {
    items: views.map(({ config, credentials }) => ({
      ...config,
      kind: config.kind,
      credentials: Object.fromEntries(credentials.map((name) => [name, 'set' as const])),
      health: healthOf(circuits[config.kind]),
    })),
  }
}

function healthOf(circuit: Circuit | undefined) {
  return {
    state: circuit?.state ?? 'closed',
    failures: circuit?.failures ?? 0,
    openUntil: circuit?.openUntil ? new Date(circuit.openUntil).toISOString() : null,
  }
}
