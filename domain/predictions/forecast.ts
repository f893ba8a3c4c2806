/**
 * One contact's predictions from its engagement, its purchase summary and the fitted models: the
 * numbers `GET /api/contacts/:id/predictions` answers, the contact's object keeps live and the
 * scheduled fit writes for every purchaser. Pure. Design: docs/design/predictions.md.
 */

import {
  expectedPurchases,
  lapseProbability,
  pAlive,
  type BgnbdParams,
  type PurchaseSummary,
} from './bgnbd'
import { churnRisk, customerLifetimeValue } from './clv'
import { ENGAGEMENT_DEFAULTS, type EngagementOptions } from './engagement'
import { expectedValue, type GammaGammaParams } from './gamma-gamma'

const DAY_MS = 86_400_000
/** A CLV period: the settings count months. */
export const MONTH_DAYS = 30
/** The horizon of lapse risk: the same 90 days as expectedPurchases.days90. */
export const LAPSE_HORIZON_DAYS = 90

/** What a workspace decides about its predictions (`PUT /api/predictions/settings`). */
export interface PredictionSettings {
  /** Track event names that count as purchases. */
  purchaseEvents: string[]
  /** The property holding a purchase's value (a dotted path into its properties). */
  valueProperty: string
  clv: { months: number; discountRate: number }
  engagementHalfLifeDays: number
  /** Churn risk from which a contact is on the at-risk list. */
  atRiskThreshold: number
}

export const DEFAULT_PREDICTION_SETTINGS: PredictionSettings = {
  purchaseEvents: ['Order Completed'],
  valueProperty: 'revenue',
  clv: { months: 12, discountRate: 0.01 },
  engagementHalfLifeDays: 14,
  atRiskThreshold: 0.5,
}

/** The fitted models a contact's predictions use; gammaGamma is null with too few repeat buyers. */
export interface FittedModels {
  bgnbd: BgnbdParams
  gammaGamma: GammaGammaParams | null
  fittedAt: string
}

/** A purchase summary in days, with m the mean value of the repeat purchases (0 when none). */
export type CustomerSummary = PurchaseSummary & { m: number }

export interface ContactPredictions {
  /** 0–100 (engagement.ts). */
  engagement: number
  /** Null for a contact who never bought, or before any fit. */
  pAlive: number | null
  expectedPurchases: { days30: number | null; days90: number | null }
  /** Of one purchase (Gamma-Gamma); null without a Gamma-Gamma fit or a purchase. */
  expectedValue: number | null
  clv: number | null
  /** 0–1, always defined (clv.ts churnRisk). */
  churnRisk: number
  /**
   * Chance of dropping out within the next 90 days (bgnbd.ts lapseProbability): the customers to
   * act on before they churn. Null for a contact who never bought, or before any fit.
   */
  lapseRisk: number | null
  /** Chosen by the bandit once journeys name candidate actions. */
  nextBestAction: string | null
  fittedAt: string | null
}

/**
 * The SQLite JSON path of the value property: `order.total` → `$."order"."total"`, each label
 * quoted (the settings allow `-` and `$`).
 */
export function valuePath(property: string): string {
  return `$${property
    .split('.')
    .map((label) => `."${label}"`)
    .join('')}`
}

export function engagementOptions(settings: PredictionSettings): EngagementOptions {
  return { ...ENGAGEMENT_DEFAULTS, halfLifeMs: settings.engagementHalfLifeDays * DAY_MS }
}

/**
 * The predictions of a contact with this engagement score and purchase summary (null: never
 * bought) under these models (null: no fit yet). Model numbers are for purchasers after a fit;
 * churn risk is engagement's alone otherwise (clv.ts).
 */
export function forecastContact(
  engagement: number,
  summary: CustomerSummary | null,
  models: FittedModels | null,
  settings: PredictionSettings,
): ContactPredictions {
  if (!models || !summary) {
    return {
      engagement,
      pAlive: null,
      expectedPurchases: { days30: null, days90: null },
      expectedValue: null,
      clv: null,
      churnRisk: churnRisk({ engagement }),
      lapseRisk: null,
      nextBestAction: null,
      fittedAt: models?.fittedAt ?? null,
    }
  }
  const { bgnbd, gammaGamma } = models
  const alive = pAlive(bgnbd, summary)
  return {
    engagement,
    pAlive: alive,
    expectedPurchases: {
      days30: expectedPurchases(bgnbd, summary, 30),
      days90: expectedPurchases(bgnbd, summary, 90),
    },
    expectedValue: gammaGamma ? expectedValue(gammaGamma, summary) : null,
    clv: gammaGamma ? lifetimeValue(models, gammaGamma, summary, settings) : null,
    churnRisk: churnRisk({ engagement, x: summary.x, pAlive: alive }),
    lapseRisk: lapseProbability(bgnbd, summary, LAPSE_HORIZON_DAYS),
    nextBestAction: null,
    fittedAt: models.fittedAt,
  }
}

function lifetimeValue(
  { bgnbd }: FittedModels,
  gammaGamma: GammaGammaParams,
  summary: CustomerSummary,
  { clv }: PredictionSettings,
): number {
  return customerLifetimeValue(bgnbd, gammaGamma, summary, {
    periods: clv.months,
    periodLength: MONTH_DAYS,
    discountRate: clv.discountRate,
  })
}

/**
 * The engagement a purchaser's last purchase alone gives today: what the scheduled fit blends
 * churn risk with for a contact whose object has not projected an engagement yet. A lower bound
 * (views, other events and earlier purchases would add to it).
 */
export function engagementFromLastPurchase(
  { tx, T, m }: CustomerSummary,
  settings: PredictionSettings,
): number {
  const options = engagementOptions(settings)
  const { purchase, value } = options.weights
  const points =
    (purchase + value * Math.log1p(Math.max(0, m))) *
    2 ** (-(T - tx) / settings.engagementHalfLifeDays)
  return 100 * -Math.expm1(-points / options.saturation)
}
