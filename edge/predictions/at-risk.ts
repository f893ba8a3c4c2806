import { decodeCursor, pageOf } from '../db/keyset'

export interface AtRiskContact {
  contactId: string
  churnRisk: number
  /** Chance of dropping out within 90 days; null until the contact's next refresh or fit. */
  lapseRisk: number | null
  clv: number | null
  /** clv × churnRisk: the value at risk, what the list is ordered by (no CLV counts as 0). */
  value: number
  pAlive: number | null
  engagement: number | null
  updatedAt: string
}

/**
 * The contacts whose churn risk is at least `threshold`, most value at risk first, from D1's
 * contact_predictions; keyset pages on the value and the contact key, which the index
 * contact_predictions_by_value orders by (the expression here must stay the index's).
 */
export async function atRiskPage(
  db: D1Database,
  { threshold, limit, cursor }: { threshold: number; limit: number; cursor?: string },
): Promise<{ items: AtRiskContact[]; cursor: string | null }> {
  const after = decodeCursor(cursor, ['number', 'string'])
  const { results } = await db
    .prepare(
      `SELECT contact_key AS contactId, churn_risk AS churnRisk, lapse_risk AS lapseRisk, clv,
         coalesce(clv, 0) * churn_risk AS value, p_alive AS pAlive, engagement,
         updated_at AS updatedAt
       FROM contact_predictions
       WHERE churn_risk >= ?1
         AND (?2 IS NULL OR (coalesce(clv, 0) * churn_risk, contact_key) < (?2, ?3))
       ORDER BY coalesce(clv, 0) * churn_risk DESC, contact_key DESC LIMIT ?4`,
    )
    .bind(threshold, after?.[0] ?? null, after?.[1] ?? null, limit + 1)
    .all<AtRiskContact>()
  return pageOf(
    results,
    limit,
    (row) => row,
    (row) => [row.value, row.contactId],
  )
}
