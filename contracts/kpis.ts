import { z } from '@hono/zod-openapi'
import { isDay } from '../domain/insights/kpis'

/**
 * The KPIs and imported marketing spend as the API takes and answers them (routes/kpis.ts,
 * routes/spend.ts, the console's KPIs screen).
 */

export const SPEND_LIMITS = {
  /** Rows per import: ten channels a day for more than two years. */
  rows: 10_000,
  channelChars: 60,
  /** Problems named in one answer; the count says how many there were. */
  issues: 100,
  amount: 1e12,
  /** The earliest day spend may be for. */
  firstDay: '2000-01-01',
} as const

export const KPI_LIMITS = { eventChars: 200, conversionWindowDays: 365 } as const

const DayText = z.string().openapi({ example: '2026-11-24' })

export const KpiSettingsSchema = z
  .strictObject({
    leadEvent: z
      .string()
      .trim()
      .min(1)
      .max(KPI_LIMITS.eventChars)
      .openapi({ description: 'Track event that makes a contact a lead', example: 'Signed Up' }),
    customerEvent: z.string().trim().min(1).max(KPI_LIMITS.eventChars).openapi({
      description: 'Track event that makes a contact a customer (its first one: a new customer)',
      example: 'Order Completed',
    }),
    churnEvent: z
      .string()
      .trim()
      .min(1)
      .max(KPI_LIMITS.eventChars)
      .nullable()
      .default(null)
      .openapi({
        description:
          'Track event that marks a customer as lost (e.g. "Subscription Cancelled"); null: churn is predicted',
      }),
    conversionWindowDays: z
      .number()
      .int()
      .min(1)
      .max(KPI_LIMITS.conversionWindowDays)
      .default(30)
      .openapi({ description: 'How long after becoming a lead a customer event still counts' }),
  })
  .refine((s) => s.leadEvent !== s.customerEvent, {
    message: 'the lead and customer events must differ',
    path: ['customerEvent'],
  })
  .refine((s) => s.churnEvent === null || s.churnEvent !== s.customerEvent, {
    message: 'the churn and customer events must differ',
    path: ['churnEvent'],
  })
  .openapi('KpiSettings')

export type KpiSettings = z.output<typeof KpiSettingsSchema>

export const DEFAULT_KPI_SETTINGS: KpiSettings = {
  leadEvent: 'Signed Up',
  customerEvent: 'Order Completed',
  churnEvent: null,
  conversionWindowDays: 30,
}

export const KPI_IDS = [
  'marketing_revenue_share',
  'lead_conversion_rate',
  'engagement_rate',
  'churn_rate',
  'ltv',
  'cac',
  'ltv_cac',
] as const
export type KpiId = (typeof KPI_IDS)[number]

export const KpiSchema = z
  .object({
    id: z.enum(KPI_IDS),
    label: z.string(),
    definition: z.string().openapi({ description: 'Exactly how the figure is computed' }),
    unit: z.enum(['fraction', 'money', 'multiple']).openapi({
      description:
        'fraction: 0–1 (shown as a percentage); money: in `currency` (null: as conversion values or spend were recorded); multiple: a ratio such as 3.2×',
    }),
    currency: z.string().nullable(),
    value: z.number().nullable(),
    reason: z
      .string()
      .nullable()
      .openapi({ description: 'Why `value` is null (e.g. "no spend imported"); null otherwise' }),
    previous: z
      .number()
      .nullable()
      .openapi({ description: 'The same figure for the previous period of equal length' }),
    previousReason: z.string().nullable(),
    inputs: z
      .record(z.string(), z.number().nullable())
      .openapi({ description: "The period's figures the value is computed from" }),
    grain: z.enum(['day', 'week', 'month']),
    trend: z
      .array(z.object({ from: DayText, to: DayText, value: z.number().nullable() }))
      .openapi({ description: 'The figure per day, week or month of the period, ends clipped' }),
  })
  .openapi('Kpi')

export type Kpi = z.output<typeof KpiSchema>

export const KpiReportSchema = z
  .object({
    from: DayText,
    to: DayText,
    previous: z.object({ from: DayText, to: DayText }),
    settings: KpiSettingsSchema,
    kpis: z.array(KpiSchema),
  })
  .openapi('KpiReport')

export type KpiReport = z.output<typeof KpiReportSchema>

/**
 * One row of spend. `channels` are the attribution channels spend may be booked on; an unknown
 * one is refused with the list (see routes/spend.ts for why).
 */
export function spendRowSchema(channels: ReadonlySet<string> | null, lastDay: string | null) {
  return z.object({
    channel: z
      .string({ error: (issue) => (issue.input === undefined ? 'required' : undefined) })
      .trim()
      .min(1, 'required')
      .max(SPEND_LIMITS.channelChars)
      .refine((channel) => channels === null || channels.has(channel), {
        error: (issue) => `unknown channel "${String(issue.input)}"`,
      })
      .openapi({ description: 'An attribution channel (GET /api/attribution/channels)' }),
    day: z
      .string({ error: (issue) => (issue.input === undefined ? 'required' : undefined) })
      .refine(isDay, { message: 'must be a day like 2026-11-24', abort: true })
      .refine((day) => day >= SPEND_LIMITS.firstDay, `must be ${SPEND_LIMITS.firstDay} or later`)
      .refine((day) => lastDay === null || day <= lastDay, `must not be after ${lastDay}`)
      .openapi({ description: 'The UTC day the money was spent', example: '2026-11-24' }),
    amount: z
      .number({
        error: (issue) =>
          issue.input === undefined || issue.input === ''
            ? 'required'
            : 'must be a number like 1234.50 (no currency sign or thousands separator)',
      })
      .min(0, 'must be 0 or more')
      .max(SPEND_LIMITS.amount),
    currency: z
      .string()
      .trim()
      .transform((code) => code.toUpperCase())
      .refine((code) => /^[A-Z]{3}$/.test(code), 'must be an ISO 4217 code like EUR')
      .nullable()
      .optional()
      .openapi({ description: 'ISO 4217; the figures need one currency for all spend' }),
  })
}

export const SpendRowSchema = spendRowSchema(null, null).openapi('SpendRow', {
  description: 'Spend on one channel on one day (UTC)',
})

export const SpendImportSchema = z
  .object({ rows: z.array(SpendRowSchema).min(1).max(SPEND_LIMITS.rows) })
  .openapi('SpendImport')

export const SpendImportResultSchema = z
  .object({
    received: z.number().int().openapi({ description: 'rows in the request' }),
    stored: z
      .number()
      .int()
      .openapi({ description: 'channel-days written (rows of one channel and day add up)' }),
    replaced: z.number().int().openapi({ description: 'of those, channel-days imported before' }),
    from: DayText,
    to: DayText,
    channels: z.array(z.string()),
  })
  .openapi('SpendImportResult')

export type SpendImportResult = z.output<typeof SpendImportResultSchema>

export const SpendIssueSchema = z.object({
  path: z.string().openapi({ description: '`rows[3].day` (JSON) or `line 4: day` (CSV)' }),
  message: z.string(),
  index: z.number().int().optional().openapi({ description: 'JSON row, from 0' }),
  line: z.number().int().optional().openapi({ description: 'CSV line, from 1' }),
  field: z.string(),
})

export type SpendIssue = z.output<typeof SpendIssueSchema>

export const StoredSpendSchema = z
  .object({
    channel: z.string(),
    day: DayText,
    amount: z.number(),
    currency: z.string().nullable(),
    importedAt: z.string(),
  })
  .openapi('StoredSpend')

export const SpendListSchema = z
  .object({
    from: DayText,
    to: DayText,
    items: z.array(StoredSpendSchema),
    cursor: z.string().nullable(),
    totals: z.array(
      z.object({
        channel: z.string(),
        currency: z.string().nullable(),
        amount: z.number(),
        days: z.number().int(),
      }),
    ),
  })
  .openapi('SpendList')

export type SpendList = z.output<typeof SpendListSchema>
