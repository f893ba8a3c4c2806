import { z } from '@hono/zod-openapi'
import type { ContactPredictions, PredictionSettings } from '../domain/predictions/forecast'
import type { CandidateAction } from '../domain/predictions/next-action'

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
    lapseRisk: Nullable.openapi({
      description:
        'Chance of dropping out within the next 90 days (BG/NBD); null before a fit or a purchase',
    }),
    nextBestAction: z.string().nullable(),
    fittedAt: z.string().nullable().openapi({ description: 'Of the fit the numbers come from' }),
  })
  .openapi('ContactPredictions')

export const ACTION_LIMITS = { actions: 20, idChars: 64, windowDays: 365 } as const

/** A candidate action for next-best-action (domain/predictions/next-action.ts). */
export const CandidateActionSchema: z.ZodType<CandidateAction> = z
  .strictObject({
    id: z
      .string()
      .max(ACTION_LIMITS.idChars)
      .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'a slug: lowercase letters and digits, joined by -'),
    name: z.string().trim().min(1).max(PREDICTION_LIMITS.nameChars),
    goalEvent: z
      .string()
      .trim()
      .min(1)
      .max(PREDICTION_LIMITS.nameChars)
      .openapi({ description: 'Performing it within windowDays of the action is success' }),
    windowDays: z.number().int().min(1).max(ACTION_LIMITS.windowDays).default(7),
    segment: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'Offered only to members of this segment; none: everyone' }),
    priorRate: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .openapi({ description: 'The expected success rate, worth 10 outcomes until data comes' }),
  })
  .openapi('CandidateAction')

export const CandidateActionsSchema = z
  .array(CandidateActionSchema)
  .max(ACTION_LIMITS.actions)
  .refine(
    (actions) => new Set(actions.map(({ id }) => id)).size === actions.length,
    'give each action its own id',
  )
  .openapi('CandidateActions')
