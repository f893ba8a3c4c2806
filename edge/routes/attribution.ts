import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { drizzle } from 'drizzle-orm/d1'
import { desc, eq } from 'drizzle-orm'
import { randomToken } from '../access/secrets'
import {
  ATTRIBUTION_SETTING_LIMITS,
  CONVERSION_LIMITS,
  SETTINGS_KEYS,
  attributionConfig,
  forgetAttributionConfig,
} from '../attribution/config'
import { refitAttribution } from '../attribution/refit'
import { attributionFits, conversionDefinitions } from '../db/schema'
import { writeSetting } from '../db/settings'
import {
  analyzePaths,
  scoreConfidence,
  MODEL_NAMES,
  parsePathsCsv,
  validatePaths,
  type AttributionError,
  type ModelName,
} from '../../domain/attribution'
import { CHANNEL_RULE_LIMITS } from '../../domain/channel'
import { compilePattern } from '../../domain/channel-pattern'
import type { Env } from '../env'
import { insertBelowLimit } from '../db/bounded-insert'
import { ApiError, ErrorSchema, validationError } from '../errors'
import { authErrors, json, notFound } from './common'

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-11-24')
const PeriodQuery = z.object({
  from: Day.optional().openapi({ description: 'first day (UTC), default 29 days before `to`' }),
  to: Day.optional().openapi({ description: 'last day (UTC), default today' }),
})
const ModelSchema = z.enum(MODEL_NAMES)
const Credit = z.object({ conversions: z.number(), value: z.number() })
const Interval = z.object({ share: z.number(), low: z.number(), high: z.number() })

const ConfidenceSchema = z
  .object({
    score: z
      .number()
      .nullable()
      .openapi({ description: 'share of converted value whose whole path is deterministic' }),
    basis: z.enum(['value', 'conversions']),
    conversions: z.number(),
    deterministicConversions: z.number(),
    value: z.number(),
    deterministicValue: z.number(),
  })
  .openapi('AttributionConfidence')

const FitSummary = z
  .object({ fittedAt: z.string(), paths: z.number().int(), from: z.string(), to: z.string() })
  .nullable()

const ReportSchema = z
  .object({
    model: ModelSchema,
    from: z.string(),
    to: z.string(),
    totals: Credit,
    channels: z.array(
      z.object({
        channel: z.string(),
        conversions: z.number(),
        value: z.number(),
        share: z.object({ conversions: z.number(), value: z.number() }),
        interval: z.object({ conversions: Interval, value: Interval }).optional(),
      }),
    ),
    confidence: ConfidenceSchema,
    fit: FitSummary,
  })
  .openapi('AttributionReport')

const CompareSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    models: z.record(z.string(), z.record(z.string(), Credit)),
    confidence: ConfidenceSchema,
    intervals: z
      .object({
        level: z.number(),
        markov: z.record(z.string(), z.unknown()),
        shapley: z.record(z.string(), z.unknown()),
      })
      .nullable(),
    fit: FitSummary,
  })
  .openapi('AttributionComparison')

const PathRowSchema = z.object({
  path: z.array(z.string()),
  conversions: z.number(),
  value: z.number().optional(),
  nulls: z.number().optional(),
})
const AnalyzeBodySchema = z.object({ paths: z.array(PathRowSchema) }).openapi('AggregatedPaths')
const AnalyzeQuery = z.object({
  halfLifeDays: z.coerce.number().positive().max(3650).optional(),
  collapse: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'collapse repeated consecutive channels (default true)' }),
  markovOrder: z.coerce.number().int().min(1).max(4).optional(),
})
const AnalyzeResultSchema = z
  .object({
    models: z.record(z.string(), z.record(z.string(), Credit)),
    removalEffects: z.record(z.string(), z.number()),
    diagnostics: z.record(z.string(), z.unknown()),
  })
  .openapi('AnalyzeResult')

const ConversionDefinitionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    eventName: z.string(),
    filter: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    valueProperty: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('ConversionDefinition')
const FilterValue = z.union([
  z.string().max(CONVERSION_LIMITS.filterValueChars),
  z.number(),
  z.boolean(),
])
const CreateConversionSchema = z
  .object({
    name: z.string().trim().min(1).max(CONVERSION_LIMITS.nameChars),
    eventName: z.string().trim().min(1).max(CONVERSION_LIMITS.eventNameChars),
    filter: z
      .record(z.string().min(1).max(CONVERSION_LIMITS.propertyChars), FilterValue, {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? `a property name is 1 to ${CONVERSION_LIMITS.propertyChars} characters`
            : undefined,
      })
      .refine(
        (filter) => Object.keys(filter).length <= CONVERSION_LIMITS.filters,
        `at most ${CONVERSION_LIMITS.filters} properties`,
      )
      .default({}),
    valueProperty: z
      .string()
      .trim()
      .min(1)
      .max(CONVERSION_LIMITS.propertyChars)
      .nullable()
      .default(null),
  })
  .openapi('CreateConversionDefinition')

/** A medium, source or campaign pattern; refused with the reason when it cannot be run safely. */
const PatternSchema = z
  .string()
  .superRefine((source, ctx) => {
    const compiled = compilePattern(source)
    if (!compiled.ok) ctx.addIssue({ code: 'custom', message: compiled.reason })
  })
  .openapi({
    description:
      'A regular expression matched case-insensitively against the whole value, in linear time: no backreferences, lookarounds or word boundaries',
  })

const ChannelRuleSchema = z
  .object({
    channel: z.string().trim().min(1).max(CHANNEL_RULE_LIMITS.channelChars),
    medium: PatternSchema.optional(),
    source: PatternSchema.optional(),
    campaign: PatternSchema.optional(),
    clickIds: z
      .array(z.string().max(CHANNEL_RULE_LIMITS.clickIdChars))
      .max(CHANNEL_RULE_LIMITS.clickIds)
      .optional(),
    sourceIn: z.enum(['search', 'social', 'video', 'shopping', 'email']).optional(),
    withoutUtm: z.boolean().optional(),
    withReferrer: z.boolean().optional(),
  })
  .openapi('ChannelRule')
const ChannelRulesSchema = z
  .object({
    rules: z
      .array(ChannelRuleSchema)
      .min(1)
      .max(CHANNEL_RULE_LIMITS.rules)
      .superRefine((rules, ctx) => {
        const steps = rules
          .flatMap((rule) => [rule.medium, rule.source, rule.campaign])
          .reduce((sum, source) => {
            const compiled = source === undefined ? null : compilePattern(source)
            return sum + (compiled?.ok ? compiled.pattern.size : 0)
          }, 0)
        if (steps > CHANNEL_RULE_LIMITS.patternSteps) {
          ctx.addIssue({
            code: 'custom',
            message: `the patterns together compile to ${steps} steps; the limit is ${CHANNEL_RULE_LIMITS.patternSteps}`,
          })
        }
      }),
  })
  .openapi('ChannelRules')

const { lookbackDays, halfLifeDays, maxTouches } = ATTRIBUTION_SETTING_LIMITS
const SettingsSchema = z
  .object({
    lookbackDays: z.number().int().min(lookbackDays.min).max(lookbackDays.max),
    halfLifeDays: z.number().positive().max(halfLifeDays.max),
    maxTouches: z.number().int().min(maxTouches.min).max(maxTouches.max),
  })
  .openapi('AttributionSettings')

const DAY_MS = 86_400_000

export function attributionRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/attribution',
      tags: ['attribution'],
      summary: "One model's credits per channel over a period, with confidence and intervals",
      request: { query: PeriodQuery.extend({ model: ModelSchema.default('last_non_direct') }) },
      responses: { 200: json(ReportSchema, 'Credits per channel'), ...authErrors },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const { from, to } = period(query)
      const [credits, confidence, fit] = await Promise.all([
        creditsByModel(c.env.DB, from, to, [query.model]),
        periodConfidence(c.env.DB, from, to),
        latestFit(c.env.DB),
      ])
      const channels = credits[query.model] ?? {}
      const totals = Object.values(channels).reduce(
        (sum, credit) => ({
          conversions: sum.conversions + credit.conversions,
          value: sum.value + credit.value,
        }),
        { conversions: 0, value: 0 },
      )
      const intervals =
        fit && (query.model === 'markov' || query.model === 'shapley')
          ? fit.intervals[query.model]
          : undefined
      return c.json(
        {
          model: query.model,
          from,
          to,
          totals,
          channels: Object.entries(channels)
            .map(([channel, credit]) => ({
              channel,
              ...credit,
              share: {
                conversions: totals.conversions ? credit.conversions / totals.conversions : 0,
                value: totals.value ? credit.value / totals.value : 0,
              },
              ...(intervals?.[channel] ? { interval: intervals[channel] } : {}),
            }))
            .sort((a, b) => b.conversions - a.conversions || a.channel.localeCompare(b.channel)),
          confidence,
          fit: fit && fitSummary(fit),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/attribution/compare',
      tags: ['attribution'],
      summary: 'Every model side by side per channel',
      request: { query: PeriodQuery },
      responses: { 200: json(CompareSchema, 'Credits per model and channel'), ...authErrors },
    }),
    async (c) => {
      const { from, to } = period(c.req.valid('query'))
      const [models, confidence, fit] = await Promise.all([
        creditsByModel(c.env.DB, from, to, MODEL_NAMES),
        periodConfidence(c.env.DB, from, to),
        latestFit(c.env.DB),
      ])
      return c.json(
        {
          from,
          to,
          models: Object.fromEntries(MODEL_NAMES.map((model) => [model, models[model] ?? {}])),
          confidence,
          intervals: fit ? fit.intervals : null,
          fit: fit && fitSummary(fit),
        },
        200,
      )
    },
  )

  // Two body formats (JSON and CSV) are parsed here rather than by the route validator, which
  // would insist on JSON; the same schemas document the route.
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/attribution/analyze',
    tags: ['attribution'],
    summary: "Aggregated paths from elsewhere (JSON or CSV) in, every model's credits out",
    request: {
      query: AnalyzeQuery,
      body: {
        content: {
          'application/json': { schema: AnalyzeBodySchema },
          'text/csv': {
            schema: z
              .string()
              .openapi({ example: 'path,conversions,value,nulls\nemail > search,3,120,40' }),
          },
        },
        required: true,
      },
    },
    responses: {
      200: json(AnalyzeResultSchema, 'Credits per model and channel, and Markov removal effects'),
      ...authErrors,
    },
  })
  app.post('/attribution/analyze', async (c) => {
    const query = AnalyzeQuery.safeParse(c.req.query())
    if (!query.success) throw validationError(query.error.issues, 'query')
    const text = await c.req.text()
    const parsed = c.req.header('Content-Type')?.includes('csv')
      ? parsePathsCsv(text)
      : validatePaths(parseJsonPaths(text))
    if (!parsed.ok) throw pathError(parsed.error)
    const result = analyzePaths(parsed.value, {
      halfLifeDays: query.data.halfLifeDays,
      collapse: query.data.collapse !== 'false',
      markovOrder: query.data.markovOrder,
    })
    return c.json(result, 200)
  })

  app.openapi(
    createRoute({
      method: 'post',
      path: '/attribution/refit',
      tags: ['attribution'],
      summary: 'Refit the data-driven models now (they also refit on a schedule)',
      responses: {
        200: json(
          z.object({ fit: FitSummary }),
          'The new fit, or null when there is no conversion to fit on',
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const fit = await refitAttribution(c.env)
      return c.json({ fit: fit && fitSummary(fit) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/attribution/conversions',
      tags: ['attribution'],
      summary: 'List conversion definitions',
      responses: {
        200: json(
          z.object({ items: z.array(ConversionDefinitionSchema), cursor: z.null() }),
          'Conversion definitions',
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const items = await drizzle(c.env.DB)
        .select()
        .from(conversionDefinitions)
        .orderBy(desc(conversionDefinitions.createdAt))
      return c.json({ items, cursor: null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/attribution/conversions',
      tags: ['attribution'],
      summary: 'Define a conversion: event name, optional property filter, value property',
      request: {
        body: {
          content: { 'application/json': { schema: CreateConversionSchema } },
          required: true,
        },
      },
      responses: {
        201: json(ConversionDefinitionSchema, 'The new definition'),
        ...authErrors,
        409: json(
          ErrorSchema,
          `Already ${CONVERSION_LIMITS.definitions} definitions (limit_reached)`,
        ),
      },
    }),
    async (c) => {
      const row = {
        id: `conv_${randomToken(12)}`,
        createdAt: new Date().toISOString(),
        ...c.req.valid('json'),
      }
      await insertBelowLimit(c.env.DB, {
        table: 'conversion_definitions',
        row: {
          id: row.id,
          name: row.name,
          event_name: row.eventName,
          filter: JSON.stringify(row.filter),
          value_property: row.valueProperty,
          created_at: row.createdAt,
        },
        limit: CONVERSION_LIMITS.definitions,
        full: `There are already ${CONVERSION_LIMITS.definitions} conversion definitions, the limit; delete one first`,
      })
      forgetAttributionConfig()
      return c.json(row, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/attribution/conversions/{id}',
      tags: ['attribution'],
      summary: 'Delete a conversion definition',
      request: { params: z.object({ id: z.string().min(1).max(100) }) },
      responses: {
        200: json(ConversionDefinitionSchema, 'The deleted definition'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const [row] = await drizzle(c.env.DB)
        .delete(conversionDefinitions)
        .where(eq(conversionDefinitions.id, id))
        .returning()
      if (!row) throw new ApiError(404, 'not_found', `No conversion definition ${id}`)
      forgetAttributionConfig()
      return c.json(row, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/attribution/channels',
      tags: ['attribution'],
      summary: 'Channel classification rules, evaluated in order, first match wins',
      responses: { 200: json(ChannelRulesSchema, 'The rules in force'), ...authErrors },
    }),
    async (c) => c.json({ rules: (await attributionConfig(c.env)).channelRules }, 200),
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/attribution/channels',
      tags: ['attribution'],
      summary: 'Replace the channel rules (send the defaults back to reset)',
      request: {
        body: { content: { 'application/json': { schema: ChannelRulesSchema } }, required: true },
      },
      responses: { 200: json(ChannelRulesSchema, 'The rules now in force'), ...authErrors },
    }),
    async (c) => {
      const { rules } = c.req.valid('json')
      await saveSetting(c.env.DB, SETTINGS_KEYS.channelRules, rules)
      return c.json({ rules }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/attribution/settings',
      tags: ['attribution'],
      summary: 'Lookback window, time-decay half-life and touches kept per contact',
      responses: {
        200: json(SettingsSchema, 'Lookback window, time-decay half-life, touches kept'),
        ...authErrors,
      },
    }),
    async (c) => {
      const { lookbackDays, halfLifeDays, maxTouches } = await attributionConfig(c.env)
      return c.json({ lookbackDays, halfLifeDays, maxTouches }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/attribution/settings',
      tags: ['attribution'],
      summary: 'Change the lookback window, time-decay half-life or touches kept',
      request: {
        body: { content: { 'application/json': { schema: SettingsSchema } }, required: true },
      },
      responses: { 200: json(SettingsSchema, 'The settings now in force'), ...authErrors },
    }),
    async (c) => {
      const value = c.req.valid('json')
      await saveSetting(c.env.DB, SETTINGS_KEYS.attribution, value)
      return c.json(value, 200)
    },
  )
  return app
}

function period(query: { from?: string; to?: string }) {
  const to = query.to ?? new Date().toISOString().slice(0, 10)
  const from = query.from ?? new Date(Date.parse(to) - 29 * DAY_MS).toISOString().slice(0, 10)
  if (from > to) throw new ApiError(400, 'invalid_range', '`from` must not be after `to`')
  return { from, to }
}

async function creditsByModel(
  db: D1Database,
  from: string,
  to: string,
  models: readonly ModelName[],
) {
  const rows = await db
    .prepare(
      `SELECT model, channel, SUM(conversions) AS conversions, SUM(value) AS value FROM attribution_credits
       WHERE day BETWEEN ? AND ? AND model IN (SELECT value FROM json_each(?)) GROUP BY model, channel`,
    )
    .bind(from, to, JSON.stringify(models))
    .all<{ model: ModelName; channel: string; conversions: number; value: number }>()
  const byModel: Partial<
    Record<ModelName, Record<string, { conversions: number; value: number }>>
  > = {}
  for (const row of rows.results) {
    byModel[row.model] ??= {}
    byModel[row.model]![row.channel] = { conversions: row.conversions, value: row.value }
  }
  return byModel
}

/** The confidence score over the period's conversions (see docs/design/attribution-model.md). */
async function periodConfidence(db: D1Database, from: string, to: string) {
  const rows = await db
    .prepare('SELECT value, deterministic FROM conversions WHERE day BETWEEN ? AND ?')
    .bind(from, to)
    .all<{ value: number; deterministic: number }>()
  return scoreConfidence(
    rows.results.map((row) => ({ value: row.value, deterministic: row.deterministic === 1 })),
  )
}

type Fit = typeof attributionFits.$inferSelect & {
  intervals: { level: number; markov: Record<string, never>; shapley: Record<string, never> }
}

async function latestFit(db: D1Database): Promise<Fit | null> {
  const [fit] = await drizzle(db)
    .select()
    .from(attributionFits)
    .orderBy(desc(attributionFits.fittedAt))
    .limit(1)
  return (fit as Fit | undefined) ?? null
}

function fitSummary(fit: { fittedAt: string; paths: number; from: string; to: string }) {
  return { fittedAt: fit.fittedAt, paths: fit.paths, from: fit.from, to: fit.to }
}

async function saveSetting(db: D1Database, key: string, value: unknown) {
  await writeSetting(db, key, value)
  forgetAttributionConfig()
}

function parseJsonPaths(text: string): unknown {
  try {
    return (JSON.parse(text) as { paths?: unknown } | null)?.paths
  } catch {
    throw new ApiError(
      400,
      'invalid_json',
      'The request body is not valid JSON; send {"paths": [...]} or text/csv',
    )
  }
}

function pathError(error: AttributionError) {
  const status = error.code === 'too_many_rows' ? 413 : 400
  return new ApiError(status, error.code, error.message, error.details)
}
