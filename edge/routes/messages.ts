import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { and, desc, eq, type SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { MESSAGE_STATUSES, PROVIDER_KINDS } from '../../contracts/messaging'
import { contactStub, resolveContact } from '../../durable/contact-client'
import { decodeCursor, encodeCursor, olderThan } from '../db/keyset'
import { loggedEmails, messages } from '../db/schema'
import type { Env } from '../env'
import { ApiError } from '../errors'
import { messageTarget, requireGroups } from '../messaging/message-target'
import {
  MessagingSettingsSchema,
  readMessagingSettings,
  sendRules,
  writeMessagingSettings,
} from '../messaging/settings'
import { PageQuerySchema, authErrors, json, notFound } from './common'

/**
 * Transactional sends, the message log and the messaging settings (docs/design/messaging.md).
 * Whether a message may go is the contact's object's decision; D1's messages follows it.
 */

const ContactId = z
  .string()
  .min(1)
  .max(300)
  .openapi({ description: 'userId, or anon:<anonymousId>', example: 'user-42' })

const SendSchema = z
  .strictObject({
    contactId: ContactId,
    template: z.string().min(1).max(100).openapi({ example: 'welcome' }),
    data: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'In the template as `data`' }),
    idempotencyKey: z.string().min(1).max(200).optional().openapi({
      description:
        'A second send with the same key answers the first message and sends nothing more',
    }),
  })
  .openapi('MessageSend')

const SentSchema = z
  .object({
    id: z.string(),
    status: z.enum(MESSAGE_STATUSES),
    reason: z.string().nullable(),
    dueAt: z.string().nullable().openapi({ description: 'When a queued message may go' }),
    duplicate: z.boolean().openapi({ description: 'The idempotency key had made this message' }),
  })
  .openapi('MessageAccepted')

const AttemptSchema = z
  .object({
    provider: z.enum(PROVIDER_KINDS),
    status: z.enum(['sent', 'retryable', 'permanent', 'skipped']),
    at: z.string(),
    httpStatus: z.number().int().optional(),
    error: z.string().optional(),
  })
  .openapi('MessageAttempt')

const MessageSchema = z
  .object({
    id: z.string(),
    contactId: z.string(),
    template: z.string(),
    subject: z.string().nullable(),
    status: z.enum(MESSAGE_STATUSES),
    reason: z.string().nullable(),
    attempts: z.array(AttemptSchema),
    journeyId: z.string().nullable(),
    kind: z.enum(['marketing', 'transactional']),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Message')

const MessageDetailSchema = MessageSchema.extend({
  rendered: z
    .object({
      from: z.string(),
      to: z.string(),
      subject: z.string(),
      html: z.string(),
      text: z.string(),
      headers: z.record(z.string(), z.string()),
    })
    .nullable()
    .openapi({ description: 'What the `log` provider kept; null for other providers' }),
}).openapi('MessageDetail')

const SubscriptionsSchema = z
  .record(z.string().min(1).max(100), z.boolean())
  .refine((choices) => Object.keys(choices).length > 0, 'name at least one group')
  .refine((choices) => Object.keys(choices).length <= 50, 'at most 50 groups at once')
  .openapi('SubscriptionChoices', { example: { 'product-news': false } })

const ListQuerySchema = PageQuerySchema.extend({
  contactId: z.string().max(300).optional(),
  journeyId: z.string().max(200).optional(),
  status: z.enum(MESSAGE_STATUSES).optional(),
  template: z.string().max(100).optional().openapi({ description: 'A template id' }),
})

type MessageRow = typeof messages.$inferSelect

function messageOf(row: MessageRow) {
  return {
    id: row.id,
    contactId: row.contactKey,
    template: row.templateId,
    subject: row.subject,
    status: row.status as (typeof MESSAGE_STATUSES)[number],
    reason: row.reason,
    attempts: row.attempts as z.infer<typeof AttemptSchema>[],
    journeyId: row.journeyId,
    kind: row.kind as 'marketing' | 'transactional',
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

export function messageRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/messages/send',
      tags: ['messaging'],
      summary: 'Send a template to a contact (transactional API)',
      description:
        "The contact's object decides at once whether the message may go (consent, subscription, caps, quiet hours) and checks again at the moment of sending; either way the message is recorded.",
      request: {
        body: { content: { 'application/json': { schema: SendSchema } }, required: true },
      },
      responses: {
        202: json(SentSchema, 'The message, queued or with the status that stopped it'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const key = await resolveContact(c.env, body.contactId)
      if (!key) throw new ApiError(404, 'not_found', `No contact ${body.contactId}`)
      const [target, settings] = await Promise.all([
        messageTarget(c.env.DB, body.template),
        readMessagingSettings(c.env.DB),
      ])
      const result = await contactStub(c.env, key).createMessage(key, {
        ...target,
        idempotencyKey: body.idempotencyKey ?? `api:${crypto.randomUUID()}`,
        data: body.data ?? {},
        event: null,
        rules: sendRules(settings),
      })
      if (!result.found) throw new ApiError(404, 'not_found', `No contact ${body.contactId}`)
      const { id, status, reason, dueAt, duplicate } = result.message
      return c.json({ id, status, reason, dueAt, duplicate }, 202)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/messages',
      tags: ['messaging'],
      summary: 'Every message with its status and provider attempts, newest first',
      description: 'Filters combine: a contact, a journey, a status, a template.',
      request: { query: ListQuerySchema },
      responses: {
        200: json(
          z.object({ items: z.array(MessageSchema), cursor: z.string().nullable() }),
          'A page of messages',
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const after = decodeCursor(query.cursor, ['string', 'string'] as const)
      const where: SQL[] = []
      if (query.contactId) where.push(eq(messages.contactKey, query.contactId))
      if (query.journeyId) where.push(eq(messages.journeyId, query.journeyId))
      if (query.status) where.push(eq(messages.status, query.status))
      if (query.template) where.push(eq(messages.templateId, query.template))
      if (after) where.push(olderThan([messages.createdAt, messages.id], after))
      const rows = await drizzle(c.env.DB)
        .select()
        .from(messages)
        .where(and(...where))
        .orderBy(desc(messages.createdAt), desc(messages.id))
        .limit(query.limit + 1)
      const page = rows.slice(0, query.limit)
      const last = page[page.length - 1]
      const cursor =
        rows.length > query.limit && last ? encodeCursor([last.createdAt, last.id]) : null
      return c.json({ items: page.map(messageOf), cursor }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/messages/{id}',
      tags: ['messaging'],
      summary: 'One message, with what the log provider kept of it',
      request: { params: z.object({ id: z.string().min(1).max(100) }) },
      responses: {
        200: json(MessageDetailSchema, 'The message'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const db = drizzle(c.env.DB)
      const [[row], [logged]] = await Promise.all([
        db.select().from(messages).where(eq(messages.id, id)),
        db.select().from(loggedEmails).where(eq(loggedEmails.messageId, id)),
      ])
      if (!row) throw new ApiError(404, 'not_found', `No message ${id}`)
      const rendered = logged
        ? {
            from: logged.fromAddress,
            to: logged.toAddress,
            subject: logged.subject,
            html: logged.html,
            text: logged.text,
            headers: logged.headers,
          }
        : null
      return c.json({ ...messageOf(row), rendered }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/contacts/{id}/subscriptions',
      tags: ['messaging'],
      summary: "Record a contact's choices for subscription groups",
      description:
        'Each group named is joined (true) or left (false), with `Subscribed` / `Unsubscribed` on the timeline; groups not named stay as they were.',
      request: {
        params: z.object({ id: ContactId }),
        body: {
          content: { 'application/json': { schema: SubscriptionsSchema } },
          required: true,
        },
      },
      responses: {
        200: json(
          z.object({ subscriptions: z.record(z.string(), z.boolean()) }),
          "The contact's choices now",
        ),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const choices = c.req.valid('json')
      await requireGroups(c.env.DB, Object.keys(choices))
      const key = await resolveContact(c.env, id)
      if (!key) throw new ApiError(404, 'not_found', `No contact ${id}`)
      const contact = contactStub(c.env, key)
      for (const [groupId, subscribed] of Object.entries(choices)) {
        const result = await contact.setSubscription(key, groupId, subscribed, 'api')
        if (!result.found) throw new ApiError(404, 'not_found', `No contact ${id}`)
      }
      const { subscriptions } = await contact.messagingPreferences(key)
      return c.json({ subscriptions }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/messaging/settings',
      tags: ['messaging'],
      summary: 'The sender, frequency cap and quiet hours',
      responses: { 200: json(MessagingSettingsSchema, 'The settings'), ...authErrors },
    }),
    async (c) => c.json(await readMessagingSettings(c.env.DB), 200),
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/messaging/settings',
      tags: ['messaging'],
      summary: 'Set the sender, frequency cap and quiet hours for every journey and send',
      request: {
        body: {
          content: { 'application/json': { schema: MessagingSettingsSchema } },
          required: true,
        },
      },
      responses: { 200: json(MessagingSettingsSchema, 'The settings now'), ...authErrors },
    }),
    async (c) => c.json(await writeMessagingSettings(c.env.DB, c.req.valid('json')), 200),
  )

  return app
}
