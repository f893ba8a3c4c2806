import { z } from '@hono/zod-openapi'
import type { ContactPredictions, PredictionSettings } from '../domain/predictions/forecast'

/**
 * The predictions' settings and a contact's predictions as the API takes and answers them
 * (routes/predictions.ts, the contact's route, the console). Typed against
 * domain/predictions/forecast.ts, so the two cannot drift.
 */

export const PREDICTION_LIMITS = {
  purchaseEvents: 20,
  nameChars: 200,
  propertyChars: 100,
  clvMonths: 120,
  halfLifeDays: 365,
} as const

export const PredictionSettingsSchema: z.ZodType<PredictionSettings> = z
  .strictObject({
    purchaseEvents: z
      .array(z.string().trim().min(1).max(PREDICTION_LIMITS.nameChars))
      .min(1)
      .max(PREDICTION_LIMITS.purchaseEvents)
      .refine((names) => new Set(names).size === names.length, 'name each event once')
      .openapi({ description: 'Track event names counted as purchases' }),
    valueProperty: z
      .string()
      .min(1)
      .max(PREDICTION_LIMITS.propertyChars)
      .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'a dotted path of letters, digits, _ $ -')
      .openapi({ description: "The purchase's property holding its value, such as revenue" }),
    clv: z.strictObject({
      months: z.number().int().min(1).max(PREDICTION_LIMITS.clvMonths),
      discountRate: z.number().min(0).max(1).openapi({ description: 'Per month' }),
    }),
    engagementHalfLifeDays: z.number().positive().max(PREDICTION_LIMITS.halfLifeDays),
    atRiskThreshold: z.number().min(0).max(1),
  })
  .openapi('PredictionSettings')

const Nullable = z.number().nullable()

export const ContactPredictionsSchema: z.ZodType<ContactPredictions> = z
  .object({
    engagement: z.number().openapi({ description: '0–100, recency, frequency and value decayed' }),
    pAlive: Nullable.openapi({ description: 'BG/NBD P(alive); null before a fit or a purchase' }),
    expectedPurchases: z.object({ days30: Nullable, days90: Nullable }),
    expectedValue: Nullable.openapi({ description: 'Of one purchase (Gamma-Gamma)' }),
    clv: Nullable.openapi({ description: 'Discounted value of future purchases over the horizon' }),
    churnRisk: z.number().openapi({ description: '0–1' }),
    nextBestAction: z.string().nullable(),
    fittedAt: z.string().nullable().openapi({ description: 'Of the fit the numbers come from' }),
  })
  .openapi('ContactPredictions')
