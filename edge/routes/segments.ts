import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { RuleSchema, SEGMENT_LIMITS } from '../../contracts/segment'
import { expandedSize, findCycle, referencedSegments } from '../../domain/segments/dependencies'
import type { SegmentLookup } from '../../domain/segments/facts'
import type { Rule } from '../../domain/segments/rule'
import { countQuery, sampleQuery } from '../../domain/segments/sql'
import { randomToken } from '../access/secrets'
import { memberPage, SEGMENT_MEMBERS } from '../db/member-page'
import type { Env } from '../env'
import { ApiError, ErrorSchema } from '../errors'
import { startBackfill } from '../segments/backfill'
import {
  forgetSegmentConfig,
  loadSegmentConfig,
  type SegmentConfig,
  type SegmentDefinition,
} from '../segments/config'
import {
  deleteUnused,
  findSegment,
  insertSegment,
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
      const id = `seg_${randomToken(12)}`
      const config = await loadSegmentConfig(c.env.DB)
      checkReferences(config, rule)
      await checkRunsInD1(c.env.DB, config, rule)
      const createdAt = new Date().toISOString()
      await insertSegment(c.env.DB, { id, name, rule, createdAt })
      await membershipChanged(c.env, id)
      const segment = { id, name, rule, createdAt, updatedAt: createdAt, changedAt: null, count: 0 }
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
      summary: 'Delete a segment no other segment refers to; its members leave in the background',
      request: { params: IdParam },
      responses: {
        200: json(SegmentSchema, 'The deleted segment'),
        ...authErrors,
        ...notFound,
        ...conflict('Other segments refer to it, named in details.usedBy (segment_in_use)'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const segment = await findSegment(c.env.DB, id)
      if (!segment) throw noSegment(id)
      const outcome = await deleteUnused(c.env.DB, id)
      if (outcome === 'missing') throw noSegment(id)
      if (outcome === 'in_use') {
        const usedBy = usersOf(await loadSegmentConfig(c.env.DB), id)
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

/** Contacts' objects read the configuration afresh, and the ones whose membership may move are told. */
async function membershipChanged(env: Env, id: string) {
  forgetSegmentConfig()
  await startBackfill(env, await loadSegmentConfig(env.DB), id)
}

/**
 * A rule may name only segments that exist and, saved as segment `id`, none that leads back to
 * it: each evaluator reads a referenced rule in place. Errors name the reference's path.
 */
function checkReferences(config: SegmentConfig, rule: Rule, id?: string) {
  const lookup = segmentLookup(config)
  const references = referencesIn(rule, 'rule')
  const unknown = references.filter((ref) => lookup(ref.id) === undefined)
  if (unknown.length > 0) {
    const issues = unknown.map((ref) => ({ path: ref.path, message: `no segment ${ref.id}` }))
    throw new ApiError(
      400,
      'unknown_segment',
      `Invalid request: ${issues[0]!.path}: ${issues[0]!.message}`,
      { issues },
    )
  }
  const cycle = id === undefined ? null : findCycle(id, rule, lookup)
  if (cycle) {
    const first = references.find((ref) => ref.id === cycle[1])!
    const message = `segment ${first.id} leads back to this one (${cycle.join(' → ')})`
    throw new ApiError(400, 'segment_cycle', `Invalid request: ${first.path}: ${message}`, {
      cycle,
      issues: [{ path: first.path, message }],
    })
  }
  // Read in place, a rule naming segments that name others can grow past any one rule's size:
  // every segment that would read this one is measured as it would be evaluated.
  const withThis: typeof lookup = (other) => (other === id ? rule : lookup(other))
  for (const [name, measured] of [
    [id ?? 'this rule', rule] as const,
    ...config.segments.filter((s) => s.id !== id).map((s) => [s.id, s.rule] as const),
  ]) {
    if (
      expandedSize(measured, withThis, SEGMENT_LIMITS.expandedRules) > SEGMENT_LIMITS.expandedRules
    ) {
      throw new ApiError(
        400,
        'rule_too_large',
        `Invalid request: rule: ${name} would hold more than ${SEGMENT_LIMITS.expandedRules} rules with the segments it names read in place`,
      )
    }
  }
}

/**
 * D1 runs what SQLite runs within its own bounds: at most 100 bound values and expressions at
 * most 100 deep. A rule past them would save and then fail every preview and backfill, so the
 * rule, and every segment that reads it in place, is planned by D1 (EXPLAIN, nothing runs) first.
 */
async function checkRunsInD1(db: D1Database, config: SegmentConfig, rule: Rule, id?: string) {
  const lookup = segmentLookup(config)
  const withThis: SegmentLookup = (other) => (other === id ? rule : lookup(other))
  const readers = id === undefined ? [] : readersOf(config, id)
  const options = { now: Date.now(), lookup: withThis }
  const plans = [['this rule', rule] as const, ...readers.map((s) => [s.id, s.rule] as const)]
  for (const [name, measured] of plans) {
    try {
      const query = countQuery(measured, options)
      await db
        .prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
        .bind(...query.params)
        .all()
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new ApiError(
        400,
        'rule_too_large',
        `Invalid request: rule: ${name} is more than D1 can run as one query (${reason})`,
      )
    }
  }
}

/** The segments that read segment `id` in place, directly or through others. */
function readersOf(config: SegmentConfig, id: string): SegmentDefinition[] {
  const reading = new Set([id])
  let grew = true
  while (grew) {
    grew = false
    for (const segment of config.segments) {
      if (reading.has(segment.id)) continue
      if (referencedSegments(segment.rule).some((ref) => reading.has(ref))) {
        reading.add(segment.id)
        grew = true
      }
    }
  }
  return config.segments.filter((segment) => segment.id !== id && reading.has(segment.id))
}

/** Every `inSegment` of a rule with its path, spelt as validation errors spell paths. */
function referencesIn(rule: Rule, path: string): { path: string; id: string }[] {
  if ('all' in rule) return rule.all.flatMap((part, i) => referencesIn(part, `${path}.all[${i}]`))
  if ('any' in rule) return rule.any.flatMap((part, i) => referencesIn(part, `${path}.any[${i}]`))
  if ('not' in rule) return referencesIn(rule.not, `${path}.not`)
  if ('inSegment' in rule) return [{ path: `${path}.inSegment`, id: rule.inSegment }]
  return []
}
