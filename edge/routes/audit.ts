import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { drizzle } from 'drizzle-orm/d1'
import { and, asc, desc, eq, gt, gte, lte, type SQL } from 'drizzle-orm'
import { subjectHash } from '../audit/log'
import { decodeCursor, olderThan, pageOf } from '../db/keyset'
import { auditLog } from '../db/schema'
import { verifyChain, type AuditRow } from '../domain/audit-chain'
import type { Env } from '../env'
import { PageQuerySchema, authErrors, json, listOf } from './common'

const AuditEntrySchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    actorKeyId: z.string(),
    actorRole: z.string(),
    action: z.string(),
    subjectHash: z.string().nullable(),
    status: z.number().int(),
    detail: z.record(z.string(), z.unknown()).nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEntry')

const AuditQuery = PageQuerySchema.extend({
  subject: z
    .string()
    .max(300)
    .optional()
    .openapi({ description: 'a contact key (userId or anon:<id>)' }),
  actor: z.string().max(100).optional().openapi({ description: 'key id' }),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
})

const VerifySchema = z
  .object({
    ok: z.boolean(),
    rows: z.number().int().openapi({ description: 'rows verified' }),
    firstBroken: z.object({ seq: z.number().int(), reason: z.string() }).optional(),
  })
  .openapi('AuditVerification')

/** Rows read from D1 per round trip while verifying. */
const VERIFY_PAGE = 5_000

export function auditRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      tags: ['audit'],
      summary: 'The audit log, newest first, filtered by subject, actor and time',
      request: { query: AuditQuery },
      responses: {
        200: json(listOf(AuditEntrySchema, 'AuditList'), 'Audit entries'),
        ...authErrors,
      },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const conditions: SQL[] = []
      if (query.subject) conditions.push(eq(auditLog.subjectHash, await subjectHash(query.subject)))
      if (query.actor) conditions.push(eq(auditLog.actorKeyId, query.actor))
      if (query.from) conditions.push(gte(auditLog.at, new Date(query.from).toISOString()))
      if (query.to) conditions.push(lte(auditLog.at, new Date(query.to).toISOString()))
      const after = decodeCursor(query.cursor, ['number'])
      if (after) conditions.push(olderThan([auditLog.seq], after))
      const rows = await drizzle(c.env.DB)
        .select()
        .from(auditLog)
        .where(and(...conditions))
        .orderBy(desc(auditLog.seq))
        .limit(query.limit + 1)
      return c.json(
        pageOf(rows, query.limit, toEntry, (row) => [row.seq]),
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/verify',
      tags: ['audit'],
      summary: 'Recomputes the whole hash chain and names the first broken row',
      responses: { 200: json(VerifySchema, 'The verdict'), ...authErrors },
    }),
    async (c) => {
      const db = drizzle(c.env.DB)
      let prev = undefined as { seq: number; hash: string } | undefined
      let total = 0
      for (;;) {
        const rows = (
          await db
            .select()
            .from(auditLog)
            .where(gt(auditLog.seq, prev?.seq ?? 0))
            .orderBy(asc(auditLog.seq))
            .limit(VERIFY_PAGE)
        ).map(toEntry)
        if (rows.length === 0) return c.json({ ok: true, rows: total }, 200)
        const verdict = await verifyChain(rows, prev)
        total += verdict.rows
        if (!verdict.ok)
          return c.json({ ok: false, rows: total, firstBroken: verdict.firstBroken }, 200)
        const last = rows[rows.length - 1]!
        prev = { seq: last.seq, hash: last.hash }
      }
    },
  )
  return app
}

function toEntry(row: typeof auditLog.$inferSelect): AuditRow {
  return { ...row, detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null }
}
