import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { KpiReportSchema, KpiSettingsSchema } from '../../contracts/kpis'
import { MODEL_NAMES } from '../../domain/attribution'
import { previousPeriod, resolvePeriod } from '../../domain/insights/kpis'
import type { Env } from '../env'
import { ApiError } from '../errors'
import { kpiReport } from '../insights/kpis'
import { readKpiSettings, writeKpiSettings } from '../insights/kpi-settings'
import { authErrors, json } from './common'

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-11-24')

/** As the overview's: at most two years, 30 days up to today unless asked. */
export const MAX_KPI_DAYS = 731

const KpiQuery = z.object({
  from: Day.optional().openapi({ description: 'first day (UTC), default 29 days before `to`' }),
  to: Day.optional().openapi({ description: 'last day (UTC), default today' }),
  model: z
    .enum(MODEL_NAMES)
    .default('last_non_direct')
    .openapi({ description: 'attribution model crediting the marketing-attributed revenue' }),
})

export function kpiRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/insights/kpis',
      tags: ['insights'],
      summary:
        'Marketing KPIs for a period: attributed revenue share, lead conversion, engagement, churn, LTV, CAC, LTV:CAC',
      request: { query: KpiQuery },
      responses: {
        200: json(
          KpiReportSchema,
          'Each KPI with its definition, value (or why there is none), previous period and trend',
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const today = new Date().toISOString().slice(0, 10)
      const resolved = resolvePeriod(query, today, MAX_KPI_DAYS)
      if (!resolved.ok) throw new ApiError(400, 'invalid_range', resolved.message)
      const { period } = resolved
      const settings = await readKpiSettings(c.env.DB)
      const kpis = await kpiReport(c.env.DB, { period, settings, model: query.model })
      return c.json({ ...period, previous: previousPeriod(period), settings, kpis }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/insights/kpis/settings',
      tags: ['insights'],
      summary: 'The lead, customer and churn events the KPIs count',
      responses: { 200: json(KpiSettingsSchema, 'The settings in force'), ...authErrors },
    }),
    async (c) => c.json(await readKpiSettings(c.env.DB), 200),
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/insights/kpis/settings',
      tags: ['insights'],
      summary: 'Change the lead, customer and churn events the KPIs count',
      request: {
        body: { content: { 'application/json': { schema: KpiSettingsSchema } }, required: true },
      },
      responses: { 200: json(KpiSettingsSchema, 'The settings now in force'), ...authErrors },
    }),
    async (c) => c.json(await writeKpiSettings(c.env.DB, c.req.valid('json')), 200),
  )

  return app
}
