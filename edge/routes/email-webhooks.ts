import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { inArray } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { bodyLimit } from 'hono/body-limit'
import type { Feedback } from '../../contracts/messaging'
import { contactStub } from '../../durable/contact-client'
import { messages } from '../db/schema'
import type { Env } from '../env'
import { ApiError, ErrorSchema, errorResponse } from '../errors'
import { readProviders } from '../messaging/provider-config'
import {
  receiveFeedback,
  WEBHOOK_PROVIDERS,
  WebhookMalformed,
  WebhookRefused,
  type ConfigOf,
  type WebhookDeps,
  type WebhookProvider,
} from '../messaging/webhooks'
import { json } from './common'

/**
 * Provider feedback (docs/design/messaging.md, "Feedback"): each verified event is applied by
 * the contact's object that holds its message, once per provider event id, so a webhook the
 * provider delivers again is answered 200 and changes nothing.
 */

/** SendGrid batches events; a megabyte holds a few thousand of them. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024

/** The ids ContactDO.createMessage gives messages: `msg_` and a UUID. */
const MESSAGE_ID = /^msg_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * A new message reaches D1 through the events queue within seconds. Feedback on one of ours
 * that D1 still lacks is retried (503) only this long after the event: past it, the message is
 * one D1 will never hold (another deployment sharing the provider account), and a retry forever
 * would make the provider give up on the endpoint.
 */
export const MESSAGE_PROJECTION_GRACE_MS = 60 * 60_000

/** D1 binds at most 100 values per statement. */
const IDS_PER_QUERY = 90
/** Contact objects called at once. */
const CONCURRENT_CONTACTS = 20

const ProviderParam = z.object({
  provider: z.enum(WEBHOOK_PROVIDERS).openapi({ example: 'sendgrid' }),
})

const ReceivedSchema = z
  .object({
    received: z
      .number()
      .int()
      .openapi({ description: 'Events about mail Cairn sent (others are ignored)' }),
    applied: z
      .number()
      .int()
      .openapi({ description: 'Events that changed a contact (not seen before)' }),
  })
  .openapi('EmailFeedbackReceived')

const error = (description: string) => json(ErrorSchema, description)

export function emailWebhookRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()
  app.openapi(
    createRoute({
      method: 'post',
      path: '/webhooks/email/{provider}',
      tags: ['messaging'],
      summary: "A provider's delivery, open, click, bounce, complaint and unsubscribe events",
      description:
        'Point each provider at this URL. SendGrid: enable the Signed Event Webhook and configure ' +
        'its verification key as `webhookPublicKey`. Amazon SES: publish the configuration ' +
        "set's events to an SNS topic with an HTTPS subscription here (confirmed automatically; " +
        'set `snsTopicArn` to accept that topic only). Resend: configure the signing secret ' +
        '(`whsec_…`) as `webhookSecret`. Postmark: put `webhookUsername:webhookPassword@` in the ' +
        'webhook URL. The body is read as the provider sent it.',
      security: [],
      middleware: [
        bodyLimit({
          maxSize: MAX_WEBHOOK_BYTES,
          onError: (c) =>
            errorResponse(
              c,
              new ApiError(
                413,
                'payload_too_large',
                `Request body exceeds ${MAX_WEBHOOK_BYTES} bytes`,
              ),
            ),
        }),
      ] as const,
      request: { params: ProviderParam },
      responses: {
        200: json(ReceivedSchema, 'Verified; every event applied once'),
        400: error('An unknown provider, or a verified body that is not its event format'),
        401: error('The signature or credentials do not verify (invalid_signature)'),
        404: error('That provider is not configured'),
        413: error(`The body is over ${MAX_WEBHOOK_BYTES} bytes`),
        503: error('A message is not recorded yet: the provider retries later'),
      },
    }),
    async (c) => {
      const { provider } = c.req.valid('param')
      const config = (await readProviders(c.env)).find(
        (entry): entry is ConfigOf<WebhookProvider> => entry.kind === provider,
      )
      if (!config) throw new ApiError(404, 'not_found', `No ${provider} provider is configured`)
      const request = { body: await c.req.text(), headers: c.req.raw.headers }
      const feedback = await verified(config, request, {
        fetch: (input, init) => fetch(input, init),
        now: Date.now(),
      })
      const { applied, waiting } = await applyFeedback(c.env, feedback, Date.now())
      if (waiting > 0) {
        throw new ApiError(
          503,
          'message_not_ready',
          `${waiting} event(s) name a message not recorded yet; retry later`,
          undefined,
          { 'Retry-After': '60' },
        )
      }
      return c.json({ received: feedback.length, applied }, 200)
    },
  )
  return app
}

async function verified(
  config: ConfigOf<WebhookProvider>,
  request: { body: string; headers: Headers },
  deps: WebhookDeps,
) {
  try {
    return await receiveFeedback(config, request, deps)
  } catch (error) {
    if (error instanceof WebhookRefused) {
      throw new ApiError(401, 'invalid_signature', error.message)
    }
    if (error instanceof WebhookMalformed) throw new ApiError(400, 'invalid_payload', error.message)
    throw error
  }
}

/**
 * Each event to the object of its message's contact, in event order per contact. Events on a
 * message D1 does not know are ignored, unless the message is one of ours just made (`waiting`):
 * the rest are applied all the same, as the provider's retry repeats them and each object drops
 * what it has seen by event id.
 */
async function applyFeedback(env: Env, feedback: Feedback[], now: number) {
  const owners = await messageOwners(env.DB, [...new Set(feedback.map((f) => f.messageId))])
  const byContact = new Map<string, Feedback[]>()
  let waiting = 0
  for (const event of feedback) {
    const key = owners.get(event.messageId)
    if (key) {
      const events = byContact.get(key) ?? []
      events.push(event)
      byContact.set(key, events)
    } else if (MESSAGE_ID.test(event.messageId) && now - event.at < MESSAGE_PROJECTION_GRACE_MS) {
      waiting++
    }
  }
  const contacts = [...byContact]
  let applied = 0
  for (let i = 0; i < contacts.length; i += CONCURRENT_CONTACTS) {
    const counts = await Promise.all(
      contacts.slice(i, i + CONCURRENT_CONTACTS).map(async ([key, events]) => {
        let count = 0
        for (const event of events.sort((a, b) => a.at - b.at)) {
          if ((await contactStub(env, key).recordFeedback(key, event)).applied) count++
        }
        return count
      }),
    )
    applied += counts.reduce((sum, n) => sum + n, 0)
  }
  return { applied, waiting }
}

/** Message id → the key of the contact that holds it, from D1's `messages`. */
async function messageOwners(db: D1Database, ids: string[]) {
  const owners = new Map<string, string>()
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const rows = await drizzle(db)
      .select({ id: messages.id, contactKey: messages.contactKey })
      .from(messages)
      .where(inArray(messages.id, ids.slice(i, i + IDS_PER_QUERY)))
    for (const row of rows) owners.set(row.id, row.contactKey)
  }
  return owners
}
