import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { Env } from '../env'
import { ApiError, ErrorSchema } from '../errors'
import { allowPrivateTargets } from '../journeys/actions/consumer'
import {
  rotateWebhookSecret,
  UnreadableSecret,
  webhookSecret,
} from '../journeys/actions/signing-secret'
import {
  changeTicketing,
  TicketingChangeSchema,
  viewTicketing,
} from '../journeys/actions/ticketing-config'
import { authErrors, json, notFound } from './common'

/**
 * What journeys' webhook and ticket nodes reach outside Cairn with: the secret webhooks are
 * signed with (Standard Webhooks), which receivers need to check them, and the help desk tickets
 * are opened in, whose credential is write-only.
 */

const SecretSchema = z
  .object({
    secret: z.string().openapi({
      description:
        'Verifies webhook-signature with any Standard Webhooks library (new Webhook(secret).verify)',
      example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    }),
  })
  .openapi('JourneyWebhookSecret')

const TicketingSchema = z
  .object({
    kind: z.enum(['zendesk', 'freshdesk']),
    baseUrl: z.string().openapi({ example: 'https://acme.zendesk.com' }),
    email: z
      .string()
      .optional()
      .openapi({ description: 'Zendesk: the agent the token is used with' }),
    credentials: z
      .object({ apiToken: z.literal('set').optional(), apiKey: z.literal('set').optional() })
      .openapi({
        description: 'Which credential is set; its value is never answered',
        example: { apiToken: 'set' },
      }),
  })
  .openapi('JourneyTicketing')

const unreadable = {
  409: json(ErrorSchema, 'The stored secret cannot be opened (the secrets key changed): rotate it'),
} as const

export function journeyIntegrationRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/journeys/webhook-secret',
      tags: ['journeys'],
      summary: 'The secret journey webhooks are signed with, made on first use',
      responses: {
        200: json(SecretSchema, 'The current signing secret'),
        ...authErrors,
        ...unreadable,
      },
    }),
    async (c) => {
      let secret: string
      try {
        secret = await webhookSecret(c.env)
      } catch (error) {
        if (error instanceof UnreadableSecret) {
          throw new ApiError(409, 'secret_unreadable', error.message)
        }
        throw error
      }
      c.header('Cache-Control', 'no-store')
      return c.json({ secret }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys/webhook-secret/rotate',
      tags: ['journeys'],
      summary: 'Replace the webhook signing secret; the old one stops signing at once',
      description:
        'Give receivers the new secret: webhooks sent from now on are signed with it alone, ' +
        'including retries of webhooks first tried before the rotation.',
      responses: { 200: json(SecretSchema, 'The new signing secret'), ...authErrors },
    }),
    async (c) => {
      const secret = await rotateWebhookSecret(c.env)
      c.header('Cache-Control', 'no-store')
      return c.json({ secret }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/journeys/ticketing',
      tags: ['journeys'],
      summary: 'The help desk ticket nodes open tickets in; never its credential',
      responses: {
        200: json(TicketingSchema, 'The configured help desk'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const view = await viewTicketing(c.env)
      if (!view) throw new ApiError(404, 'not_found', 'No help desk is configured')
      return c.json(view, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/journeys/ticketing',
      tags: ['journeys'],
      summary:
        'Set the help desk (Zendesk or Freshdesk); a credential left out keeps the stored one',
      description:
        'The base URL must be public https (the same check as webhook URLs). The same kind and ' +
        'base URL keep the stored credential when the body leaves it out; another needs its own.',
      request: {
        body: {
          content: { 'application/json': { schema: TicketingChangeSchema } },
          required: true,
        },
      },
      responses: { 200: json(TicketingSchema, 'The help desk as now configured'), ...authErrors },
    }),
    async (c) => {
      const view = await changeTicketing(c.env, c.req.valid('json'), {
        allowPrivate: allowPrivateTargets(c.env),
      })
      // The help desk only: the credential never reaches the audit log.
      c.set('auditDetail', { kind: view.kind, baseUrl: view.baseUrl })
      return c.json(view, 200)
    },
  )
  return app
}
