import { describe, expect, it } from 'vitest'
import { draftOf, settingsOf } from '../console/src/models/prediction-settings.ts'
import { DEFAULT_PREDICTION_SETTINGS } from '../domain/predictions/forecast.ts'

/** The console's prediction settings form: rates typed as percentages, sent as 0–1. */
describe('the prediction settings draft', () => {
  it('shows rates as percentages and gives back exactly the settings it was made from', () => {
    const settings = {
      ...DEFAULT_PREDICTION_SETTINGS,
      purchaseEvents: ['Order Completed', 'Paid'],
      clv: { months: 24, discountRate: 0.07 },
      atRiskThreshold: 0.55,
    }
    const draft = draftOf(settings)
    expect(draft).toEqual({
      purchaseEvents: 'Order Completed\nPaid',
      valueProperty: 'revenue',
      months: '24',
      discountPercent: '7',
      halfLifeDays: '14',
      thresholdPercent: '55',
    })
    expect(settingsOf(draft)).toEqual(settings)
  })

  it('reads one purchase event a line, trimmed, blank lines left out', () => {
    const draft = {
      ...draftOf(DEFAULT_PREDICTION_SETTINGS),
      purchaseEvents: ' Paid \n\n Refunded\n',
    }
    expect(settingsOf(draft).purchaseEvents).toEqual(['Paid', 'Refunded'])
  })

  it('sends what the API must refuse as typed, so its message names the field', () => {
    const draft = { ...draftOf(DEFAULT_PREDICTION_SETTINGS), months: '', thresholdPercent: '150' }
    const settings = settingsOf(draft)
    expect(settings.clv.months).toBe(0)
    expect(settings.atRiskThreshold).toBe(1.5)
  })
})
