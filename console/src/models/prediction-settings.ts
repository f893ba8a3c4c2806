import type { PredictionSettings } from '../../../domain/predictions/forecast'

/**
 * The prediction settings form's draft: fields as typed, rates as percentages (the API takes
 * 0–1). Pure, so a node test covers it without a browser.
 */

export interface SettingsDraft {
  purchaseEvents: string
  valueProperty: string
  months: string
  discountPercent: string
  halfLifeDays: string
  thresholdPercent: string
}

export function draftOf(settings: PredictionSettings): SettingsDraft {
  return {
    purchaseEvents: settings.purchaseEvents.join('\n'),
    valueProperty: settings.valueProperty,
    months: String(settings.clv.months),
    discountPercent: String(round(settings.clv.discountRate * 100)),
    halfLifeDays: String(settings.engagementHalfLifeDays),
    thresholdPercent: String(round(settings.atRiskThreshold * 100)),
  }
}

/** Undoes the float noise of ×100 (0.07 × 100 = 7.000000000000001). */
function round(n: number) {
  return Number(n.toPrecision(12))
}

/** What the draft asks for; the API checks it and names what is wrong. */
export function settingsOf(draft: SettingsDraft): PredictionSettings {
  return {
    purchaseEvents: draft.purchaseEvents
      .split('\n')
      .map((name) => name.trim())
      .filter(Boolean),
    valueProperty: draft.valueProperty.trim(),
    clv: { months: Number(draft.months), discountRate: round(Number(draft.discountPercent) / 100) },
    engagementHalfLifeDays: Number(draft.halfLifeDays),
    atRiskThreshold: round(Number(draft.thresholdPercent) / 100),
  }
}
