import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { RuleSchema, SEGMENT_LIMITS } from '../../contracts/segment'
import { sampleQuery, countQuery } from '../../domain/segments/sql'
import { randomToken } from '../access/secrets'
import { memberPage, SEGMENT_MEMBERS } from '../db/member-page'
import type { Env } from '../env'
import { ApiError, ErrorSchema } from '../errors'
import { forgetSegmentConfig, loadSegmentConfig } from '../segments/config'
import { checkReferences, checkRunsInD1, createSegment, membershipChanged } from '../segments/save'
import {
  deleteUnused,
  findSegment,
  listSegments,
  segmentExists,
  segmentHistory,
  segmentLookup,
  updateSegment,
  usersOf,
} from '../segments/store'
import { PageQuerySchema, authErrors, json, listOf, notFound } from './common'

/** Contact keys a preview shows beside its count. */
export const PREVIEW_SAMPLE = 10

const NameSchema = z.string().trim().min(1).max(SEGMENT_LIMITS.nameChars)

const SegmentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    rule: RuleSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
    changedAt: z
      .string()
      .nullable()
      .openapi({ description: 'When a contact last entered or left it' }),
    count: z.number().int().openapi({ description: 'Members now' }),
  })
  .openapi('Segment')

const SegmentDetailSchema = SegmentSchema.extend({
  history: z
    .array(z.object({ day: z.string(), entered: z.number().int(), exited: z.number().int() }))
    .openapi({ description: 'Contacts entering and leaving per UTC day, the last 90 days' }),
}).openapi('SegmentDetail')

const CreateSegmentSchema = z
  .object({ name: NameSchema, rule: RuleSchema })
  .openapi('CreateSegment')

const UpdateSegmentSchema = z
  .object({ name: NameSchema.optional(), rule: RuleSchema.optional() })
  .refine((input) => input.name !== undefined || input.rule !== undefined, 'give a name or a rule')
  .openapi('UpdateSegment')

const PreviewSchema = z.object({ rule: RuleSchema }).openapi('SegmentPreviewRequest')

const PreviewResultSchema = z
  .object({
    count: z.number().int(),
    sample: z.array(z.string()).openapi({ description: `Up to ${PREVIEW_SAMPLE} contact keys` }),
  })
  .openapi('SegmentPreview')

const MemberSchema = z
  .object({
    contactKey: z.string(),
    since: z.string().openapi({ description: 'When the contact entered' }),
  })
  .openapi('SegmentMember')

const IdParam = z.object({ id: z.string().min(1).max(100) })

const conflict = (description: string) => ({ 409: json(ErrorSchema, description) })

export function segmentRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/segments',
      tags: ['segments'],
      summary: 'List segments with their rules and member counts',
      responses: {
        200: json(z.object({ items: z.array(SegmentSchema), cursor: z.null() }), 'All segments'),
        ...authErrors,
      },
    }),
    async (c) => c.json({ items: await listSegments(c.env.DB), cursor: null }, 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/segments',
      tags: ['segments'],
      summary: 'Create a segment; its members are computed in the background',
      request: {
        body: { content: { 'application/json': { schema: CreateSegmentSchema } }, required: true },
      },
      responses: {
        201: json(SegmentSchema, 'The new segment, with no members yet'),
        ...authErrors,
        ...conflict(`Already ${SEGMENT_LIMITS.segments} segments (limit_reached)`),
      },
    }),
    async (c) => {
      const { name, rule } = c.req.valid('json')
      const segment = await createSegment(c.env, { id: `seg_${randomToken(12)}`, name, rule })
      return c.json(segment, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/segments/preview',
      tags: ['segments'],
      summary: 'Count the contacts a rule matches now, with a sample of their keys',
      request: {
        body: { content: { 'application/json': { schema: PreviewSchema } }, required: true },
      },
      responses: {
        200: json(PreviewResultSchema, 'How many contacts match, and some of them'),
        ...authErrors,
      },
    }),
    async (c) => {
      const { rule } = c.req.valid('json')
      const config = await loadSegmentConfig(c.env.DB)
      checkReferences(config, rule)
      await checkRunsInD1(c.env.DB, config, rule)
      const options = { now: Date.now(), lookup: segmentLookup(config) }
      const [counted, sampled] = await c.env.DB.batch([
        statement(c.env.DB, countQuery(rule, options)),
        statement(c.env.DB, sampleQuery(rule, options, PREVIEW_SAMPLE)),
      ])
      const count = (counted!.results[0] as { n: number }).n
      const sample = (sampled!.results as { key: string }[]).map((row) => row.key)
      // It names contacts: the audit row says how many were shown.
      c.set('auditDetail', { count, returned: sample.length })
      return c.json({ count, sample }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/segments/{id}',
      tags: ['segments'],
      summary: 'A segment with its member count and 90 days of entries and exits',
      request: { params: IdParam },
      responses: {
        200: json(SegmentDetailSchema, 'The segment'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const [segment, history] = await Promise.all([
        findSegment(c.env.DB, id),
        segmentHistory(c.env.DB, id, Date.now()),
      ])
      if (!segment) throw noSegment(id)
      return c.json({ ...segment, history }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/segments/{id}',
      tags: ['segments'],
      summary: 'Rename a segment or change its rule; members follow in the background',
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: UpdateSegmentSchema } }, required: true },
      },
      responses: {
        200: json(SegmentSchema, 'The updated segment'),
        ...authErrors,
        ...notFound,
        ...conflict('Another change to the segments came first (conflict); send it again'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const changes = c.req.valid('json')
      const before = await loadSegmentConfig(c.env.DB)
      if (!before.segments.some((segment) => segment.id === id)) throw noSegment(id)
      if (changes.rule) {
        checkReferences(before, changes.rule, id)
        await checkRunsInD1(c.env.DB, before, changes.rule, id)
      }
      const updatedAt = new Date().toISOString()
      if (!(await updateSegment(c.env.DB, id, { ...changes, updatedAt }))) {
        // A guard of the write failed: another request changed the segments meanwhile.
        const now = await loadSegmentConfig(c.env.DB)
        if (!now.segments.some((segment) => segment.id === id)) throw noSegment(id)
        if (changes.rule) checkReferences(now, changes.rule, id)
        throw new ApiError(409, 'conflict', 'The segments changed while saving; send it again')
      }
      // A new name changes no membership; the configuration's version still moves.
      if (changes.rule) await membershipChanged(c.env, id)
      else forgetSegmentConfig()
      const segment = await findSegment(c.env.DB, id)
      if (!segment) throw noSegment(id)
      return c.json(segment, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/segments/{id}',
      tags: ['segments'],
      summary:
        'Delete a segment no segment or journey refers to; its members leave in the background',
      request: { params: IdParam },
      responses: {
        200: json(SegmentSchema, 'The deleted segment'),
        ...authErrors,
        ...notFound,
        ...conflict('Segments or journeys refer to it, named in details.usedBy (segment_in_use)'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const segment = await findSegment(c.env.DB, id)
      if (!segment) throw noSegment(id)
      const outcome = await deleteUnused(c.env.DB, id)
      if (outcome === 'missing') throw noSegment(id)
      if (outcome === 'in_use') {
        const usedBy = await usersOf(c.env.DB, await loadSegmentConfig(c.env.DB), id)
        const names = usedBy.map((user) => `${user.kind} "${user.name}" (${user.id})`)
        throw new ApiError(
          409,
          'segment_in_use',
          `Segment ${id} is used by ${names.join(', ') || 'another segment'}; change those first`,
          { usedBy },
        )
      }
      await membershipChanged(c.env, id)
      return c.json(segment, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/segments/{id}/members',
      tags: ['segments'],
      summary: "A segment's members as the contacts last reported them",
      request: { params: IdParam, query: PageQuerySchema },
      responses: {
        200: json(listOf(MemberSchema, 'SegmentMemberList'), 'Members, by contact key'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { limit, cursor } = c.req.valid('query')
      c.set('auditDetail', { segment: id, limit, cursor: cursor !== undefined })
      if (!(await segmentExists(c.env.DB, id))) throw noSegment(id)
      const page = await memberPage(c.env.DB, SEGMENT_MEMBERS, id, { limit, cursor })
      c.set('auditDetail', {
        segment: id,
        limit,
        cursor: cursor !== undefined,
        returned: page.items.length,
      })
      return c.json(page, 200)
    },
  )
  return app
}

function noSegment(id: string) {
  return new ApiError(404, 'not_found', `No segment ${id}`)
}

function statement(db: D1Database, query: { sql: string; params: unknown[] }) {
  return db.prepare(query.sql).bind(...query.params)
}
