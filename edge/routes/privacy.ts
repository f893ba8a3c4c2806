import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { drizzle } from 'drizzle-orm/d1'
import { desc, eq } from 'drizzle-orm'
import { decodeCursor, olderThan, pageOf } from '../db/keyset'
import { erasureRequests, suppressions } from '../db/schema'
import type { Env } from '../env'
import { ApiError } from '../errors'
import { requestErasure } from '../privacy/erasure'
import { exportContact } from '../privacy/export'
import { readRetention, writeRetention } from '../privacy/retention'
import { PageQuerySchema, authErrors, json, listOf, notFound } from './common'

const ErasureInputSchema = z
  .object({
    userId: z.string().trim().min(1).max(255).optional(),
    anonymousId: z.string().trim().min(1).max(255).optional(),
    email: z.email().max(320).optional(),
  })
  .refine((input) => Object.values(input).filter(Boolean).length === 1, {
    message: 'name exactly one of userId, anonymousId or email',
  })
  .openapi('ErasureRequestInput')

const ReceiptSchema = z
  .object({
    matched: z.boolean().openapi({ description: 'whether any contact held data under it' }),
    summary: z.string().openapi({
      example: 'No contact matched this email: nothing was held about it. …',
    }),
    contacts: z.number().int(),
    identifiers: z.number().int(),
    stores: z.array(
      z.object({
        store: z.string(),
        action: z.string(),
        removed: z.record(z.string(), z.number()),
        at: z.string(),
      }),
    ),
  })
  .openapi('ErasureReceipt')

const ErasureSchema = z
  .object({
    id: z.string(),
    status: z.enum(['pending', 'running', 'completed', 'failed']),
    identifierKind: z.enum(['userId', 'anonymousId', 'email']),
    reason: z.string(),
    requestedBy: z.string(),
    requestedAt: z.string(),
    completedAt: z.string().nullable(),
    receipt: ReceiptSchema.nullable(),
    error: z.string().nullable(),
  })
  .openapi('Erasure')

const SuppressionSchema = z
  .object({ hash: z.string(), kind: z.string(), erasureId: z.string(), createdAt: z.string() })
  .openapi('Suppression')

const RetentionSchema = z
  .object({
    rawEventsDays: z.number().int().min(1).max(3650),
    inactiveProfileDays: z.number().int().min(1).max(3650),
    exportsDays: z.number().int().min(1).max(365),
  })
  .openapi('Retention')

export function privacyRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/privacy/erasure',
      tags: ['privacy'],
      summary: 'Erase a person from every store, by any identifier',
      request: {
        body: { content: { 'application/json': { schema: ErasureInputSchema } }, required: true },
      },
      responses: {
        202: json(
          z.object({ id: z.string(), status: z.literal('pending') }),
          'Accepted; poll GET /privacy/erasure/{id}',
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const identifier = input.userId
        ? ({ kind: 'userId', value: input.userId } as const)
        : input.anonymousId
          ? ({ kind: 'anonymousId', value: input.anonymousId } as const)
          : ({ kind: 'email', value: input.email! } as const)
      const principal = c.get('principal')
      const result = await requestErasure(c.env, identifier, principal.keyId, 'request')
      c.set('auditSubject', identifier)
      c.set('auditDetail', { erasureId: result.id, identifierKind: identifier.kind })
      return c.json(result, 202)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/privacy/erasure',
      tags: ['privacy'],
      summary: 'List erasure requests, newest first',
      request: { query: PageQuerySchema },
      responses: {
        200: json(listOf(ErasureSchema, 'ErasureList'), 'Erasure requests, newest first'),
        ...authErrors,
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query')
      const after = decodeCursor(cursor, ['string', 'string'])
      const order = [erasureRequests.requestedAt, erasureRequests.id]
      const rows = await drizzle(c.env.DB)
        .select()
        .from(erasureRequests)
        .where(after ? olderThan(order, after) : undefined)
        .orderBy(...order.map((column) => desc(column)))
        .limit(limit + 1)
      return c.json(
        pageOf(rows, limit, erasureView, (row) => [row.requestedAt, row.id]),
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/privacy/erasure/{id}',
      tags: ['privacy'],
      summary: "An erasure request's status and, once completed, its receipt",
      request: { params: z.object({ id: z.string().min(1).max(100) }) },
      responses: {
        200: json(ErasureSchema, 'Status and, once completed, the receipt'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const [row] = await drizzle(c.env.DB)
        .select()
        .from(erasureRequests)
        .where(eq(erasureRequests.id, id))
      if (!row) throw new ApiError(404, 'not_found', `No erasure request ${id}`)
      return c.json(erasureView(row), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/privacy/export/{contactId}',
      tags: ['privacy'],
      summary: 'Everything held about a person (DSAR), as a JSON download',
      request: { params: z.object({ contactId: z.string().min(1).max(300) }) },
      responses: {
        200: json(z.record(z.string(), z.unknown()).openapi('ContactExport'), 'The export'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { contactId } = c.req.valid('param')
      const document = await exportContact(c.env, contactId)
      c.header(
        'Content-Disposition',
        `attachment; filename="cairn-export-${document.exportedAt.slice(0, 10)}.json"`,
      )
      return c.json(document as unknown as Record<string, unknown>, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/privacy/suppressions',
      tags: ['privacy'],
      summary:
        'List suppressed identifier hashes: data for these identifiers is dropped on arrival',
      request: { query: PageQuerySchema },
      responses: {
        200: json(listOf(SuppressionSchema, 'SuppressionList'), 'Suppressed identifier hashes'),
        ...authErrors,
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query')
      const after = decodeCursor(cursor, ['string', 'string'])
      const order = [suppressions.createdAt, suppressions.hash]
      const rows = await drizzle(c.env.DB)
        .select()
        .from(suppressions)
        .where(after ? olderThan(order, after) : undefined)
        .orderBy(...order.map((column) => desc(column)))
        .limit(limit + 1)
      const withoutObjectId = ({ contactObjectId: _id, ...row }: (typeof rows)[number]) => row
      const page = pageOf(rows, limit, withoutObjectId, (row) => [row.createdAt, row.hash])
      c.set('auditDetail', { limit, cursor: cursor !== undefined, returned: page.items.length })
      return c.json(page, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/privacy/suppressions/{hash}',
      tags: ['privacy'],
      summary: 'Lift a suppression: the identifier may collect data again',
      request: {
        params: z.object({
          hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest'),
        }),
      },
      responses: {
        200: json(SuppressionSchema, 'The lifted suppression'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { hash } = c.req.valid('param')
      const [row] = await drizzle(c.env.DB)
        .delete(suppressions)
        .where(eq(suppressions.hash, hash))
        .returning()
      if (!row) throw new ApiError(404, 'not_found', 'No such suppression')
      if (row.contactObjectId) {
        const stub = c.env.CONTACTS.get(c.env.CONTACTS.idFromString(row.contactObjectId))
        await stub.liftSuppression()
      }
      c.set('auditDetail', { suppression: hash })
      const { contactObjectId: _id, ...shown } = row
      return c.json(shown, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/privacy/retention',
      tags: ['privacy'],
      summary: 'How many days each kind of data is kept',
      responses: { 200: json(RetentionSchema, 'Data lifetimes in days'), ...authErrors },
    }),
    async (c) => c.json(await readRetention(c.env.DB), 200),
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/privacy/retention',
      tags: ['privacy'],
      summary: 'Change how many days each kind of data is kept',
      request: {
        body: { content: { 'application/json': { schema: RetentionSchema } }, required: true },
      },
      responses: { 200: json(RetentionSchema, 'The new lifetimes'), ...authErrors },
    }),
    async (c) => {
      const retention = await writeRetention(c.env.DB, c.req.valid('json'))
      c.set('auditDetail', { ...retention })
      return c.json(retention, 200)
    },
  )
  return app
}

function erasureView({ identifier: _identifier, ...row }: typeof erasureRequests.$inferSelect) {
  return row
}
