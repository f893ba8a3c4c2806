import { describe, expect, it } from 'vitest'
import { expectedPurchases, lapseProbability, pAlive } from './bgnbd'
import { customerLifetimeValue } from './clv'
import {
  DEFAULT_PREDICTION_SETTINGS,
  engagementFromLastPurchase,
  forecastContact,
  type FittedModels,
} from './forecast'
import { expectedValue } from './gamma-gamma'

const models: FittedModels = {
  // CDNOW's parameters with α in days (lifetimes' weeks × 7).
  bgnbd: { r: 0.243, alpha: 30.9, a: 0.793, b: 2.426 },
  gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 },
  fittedAt: '2026-12-01T00:00:00.000Z',
}
const settings = DEFAULT_PREDICTION_SETTINGS

describe('forecastContact', () => {
  it('answers engagement alone before a fit, and for a contact who never bought', () => {
    for (const [summary, fit] of [
      [{ x: 2, tx: 40, T: 90, m: 30 }, null],
      [null, models],
    ] as const) {
      expect(forecastContact(40, summary, fit, settings)).toEqual({
        engagement: 40,
        pAlive: null,
        expectedPurchases: { days30: null, days90: null },
        expectedValue: null,
        clv: null,
        churnRisk: 0.6,
        lapseRisk: null,
        nextBestAction: null,
        fittedAt: fit?.fittedAt ?? null,
      })
    }
  })

  it('answers the models for a purchaser after a fit: 30 and 90 days, a year of CLV, the blend, lapse in 90 days', () => {
    const summary = { x: 1, tx: 20, T: 100, m: 30 }
    const forecast = forecastContact(40, summary, models, settings)
    const alive = pAlive(models.bgnbd, summary)
    expect(forecast).toEqual({
      engagement: 40,
      pAlive: alive,
      expectedPurchases: {
        days30: expectedPurchases(models.bgnbd, summary, 30),
        days90: expectedPurchases(models.bgnbd, summary, 90),
      },
      expectedValue: expectedValue(models.gammaGamma!, summary),
      clv: customerLifetimeValue(models.bgnbd, models.gammaGamma!, summary, {
        periods: 12,
        periodLength: 30,
        discountRate: 0.01,
      }),
      // One repeat purchase: a third the model's, two thirds engagement's.
      churnRisk: (1 / 3) * (1 - alive) + (2 / 3) * 0.6,
      lapseRisk: lapseProbability(models.bgnbd, summary, 90),
      nextBestAction: null,
      fittedAt: models.fittedAt,
    })
  })

  it('has no CLV without a Gamma-Gamma fit', () => {
    const forecast = forecastContact(
      10,
      { x: 3, tx: 30, T: 60, m: 5 },
      { ...models, gammaGamma: null },
      settings,
    )
    expect(forecast.clv).toBeNull()
    expect(forecast.expectedValue).toBeNull()
    expect(forecast.pAlive).not.toBeNull()
  })
})

describe('engagementFromLastPurchase', () => {
  it('is the score of the last purchase alone, decayed since it was made', () => {
    // A purchase worth 50, 14 days ago: 10 + 5 ln 51 points, halved.
    const points = (10 + 5 * Math.log(51)) / 2
    expect(engagementFromLastPurchase({ x: 2, tx: 16, T: 30, m: 50 }, settings)).toBeCloseTo(
      100 * (1 - Math.exp(-points / 20)),
      10,
    )
  })
})
