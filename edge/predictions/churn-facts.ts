import type { ChurnFacts } from '../../domain/predictions/ai-text'
import type { ContactPredictions, PredictionSettings } from '../../domain/predictions/forecast'
import { CAIRN_SOURCE } from '../../contracts/stored-event'

const DAY_MS = 86_400_000

/**
 * The numbers a contact's churn explanation rests on: its predictions, when it was last seen,
 * and its purchase days from D1's events counted as the summaries count them (UTC days, bots
 * and Cairn's own events left out).
 */
export async function churnFacts(
  db: D1Database,
  contactKey: string,
  predictions: ContactPredictions,
  lastSeen: string | null,
  settings: Pick<PredictionSettings, 'purchaseEvents'>,
  now: Date,
): Promise<ChurnFacts> {
  const row = await db
    .prepare(
      `SELECT COUNT(DISTINCT day) AS days, MAX(timestamp) AS last FROM events
       WHERE contact_key = ? AND type = 'track' AND bot = 0 AND source_id != ?
         AND event IN (SELECT value FROM json_each(?))`,
    )
    .bind(contactKey, CAIRN_SOURCE, JSON.stringify(settings.purchaseEvents))
    .first<{ days: number; last: string | null }>()
  const daysSince = (at: string | null) =>
    at === null ? null : Math.max(0, Math.floor((now.getTime() - Date.parse(at)) / DAY_MS))
  return {
    churnRisk: predictions.churnRisk,
    engagement: predictions.engagement,
    pAlive: predictions.pAlive,
    lapseRisk: predictions.lapseRisk,
    purchaseDays: row?.days ?? 0,
    daysSinceLastPurchase: daysSince(row?.last ?? null),
    daysSinceLastSeen: daysSince(lastSeen),
    expectedPurchases90: predictions.expectedPurchases.days90,
  }
}
