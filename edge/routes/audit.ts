import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { drizzle } from 'drizzle-orm/d1'
import { and, asc, desc, eq, gt, gte, lte, type SQL } from 'drizzle-orm'
import { aboutAnyOf, personHashes } from '../audit/trail'
import { auditSequencer } from '../audit/log'
import { decodeCursor, olderThan, pageOf } from '../db/keyset'
import { auditLog } from '../db/schema'
import { GENESIS_HASH, verifyChain, type AuditRow } from '../../domain/audit-chain'
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
  subject: z.string().max(300).optional().openapi({
    description:
      'any identifier of the person (userId, anon:<anonymousId> or email): entries about every identifier linked to them',
  }),
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
      if (query.subject) conditions.push(aboutAnyOf(await personHashes(c.env, query.subject)))
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
      summary:
        "Recomputes the whole hash chain, checks its end against the sequencer's head, and names the first broken row",
      responses: { 200: json(VerifySchema, 'The verdict'), ...authErrors },
    }),
    async (c) => {
      // The sequencer's head first: rows appended while this runs lie beyond it and are left
      // for the next verification; rows D1 lost from the end show as a head D1 never reaches.
      const sequencer = auditSequencer(c.env)
      const head = await sequencer.head()
      const db = drizzle(c.env.DB)
      let prev = { seq: 0, hash: GENESIS_HASH }
      let total = 0
      for (;;) {
        const rows = (
          await db
            .select()
            .from(auditLog)
            .where(and(gt(auditLog.seq, prev.seq), lte(auditLog.seq, head.seq)))
            .orderBy(asc(auditLog.seq))
            .limit(VERIFY_PAGE)
        ).map(toEntry)
        if (rows.length === 0) break
        const verdict = await verifyChain(rows, prev)
        total += verdict.rows
        if (!verdict.ok)
          return c.json({ ok: false, rows: total, firstBroken: verdict.firstBroken }, 200)
        const last = rows[rows.length - 1]!
        prev = { seq: last.seq, hash: last.hash }
      }
      const broken = (seq: number, reason: string) =>
        c.json({ ok: false, rows: total, firstBroken: { seq, reason } }, 200)
      if (prev.seq < head.seq) {
        return broken(
          prev.seq + 1,
          `the chain ends at seq ${prev.seq} but the sequencer's head is ${head.seq}: ` +
            `rows ${prev.seq + 1}–${head.seq} are missing`,
        )
      }
      if (prev.hash !== head.hash) {
        return broken(head.seq, "its hash differs from the sequencer's record of the head")
      }
      const [tail] = await db
        .select({ seq: auditLog.seq })
        .from(auditLog)
        .orderBy(desc(auditLog.seq))
        .limit(1)
      if (tail && tail.seq > head.seq) {
        // Appends that reached D1 before the read above have finished before this answers.
        const now = await sequencer.head()
        if (tail.seq > now.seq) {
          return broken(
            now.seq + 1,
            `D1 holds rows up to seq ${tail.seq} after the sequencer's head ${now.seq}: ` +
              'the sequencer did not write them',
          )
        }
      }
      return c.json({ ok: true, rows: total }, 200)
    },
  )
  return app
}

function toEntry(row: typeof auditLog.$inferSelect): AuditRow {
  return { ...row, detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null }
}
