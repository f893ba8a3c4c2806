import { CAIRN_SOURCE } from '../../contracts/stored-event'
import { WITHHELD_CONTACT } from '../../contracts/queue-messages'
import {
  valuePath,
  type CustomerSummary,
  type PredictionSettings,
} from '../../domain/predictions/forecast'

/** A purchaser's summary, in days (domain/predictions/bgnbd.ts), keyed by contact. */
export interface ContactPurchaseSummary extends CustomerSummary {
  contactKey: string
}

/**
 * Every purchaser's summary, in one statement over D1's events: track events named as purchases
 * in the settings, bots and Cairn's own events left out (withheld events belong to no contact;
 * a merged contact's events were moved to the contact that absorbed it by the consumer).
 *
 * Time is counted in UTC days, as lifetimes counts periods: all purchases of a day are one, whose
 * value is their sum. So x is the purchase days but the first, tx the days from the first
 * purchase day to the last, T the days from the first to `now`'s day (never below tx, should a
 * purchase be stamped in the future), and m the mean value of the repeat days (0 with none). A
 * value that is not a number counts as 0.
 */
export async function readPurchaseSummaries(
  db: D1Database,
  settings: Pick<PredictionSettings, 'purchaseEvents' | 'valueProperty'>,
  now: Date,
): Promise<ContactPurchaseSummary[]> {
  const { results } = await db
    .prepare(
      `WITH days AS (
         SELECT contact_key, day, SUM(coalesce(CAST(json_extract(properties, ?2) AS REAL), 0)) AS value
         FROM events
         WHERE event IN (SELECT value FROM json_each(?1)) AND type = 'track' AND bot = 0
           AND source_id != ?4 AND contact_key != ?5
         GROUP BY contact_key, day
       ), ranked AS (
         SELECT contact_key, day, value,
           day = min(day) OVER (PARTITION BY contact_key) AS first
         FROM days
       )
       SELECT contact_key AS contactKey, COUNT(*) - 1 AS x,
         CAST(julianday(max(day)) - julianday(min(day)) AS INTEGER) AS tx,
         max(CAST(julianday(?3) - julianday(min(day)) AS INTEGER),
           CAST(julianday(max(day)) - julianday(min(day)) AS INTEGER)) AS T,
         coalesce(SUM(iif(first, NULL, value)) / (COUNT(*) - 1), 0) AS m
       FROM ranked GROUP BY contact_key`,
    )
    .bind(
      JSON.stringify(settings.purchaseEvents),
      valuePath(settings.valueProperty),
      now.toISOString().slice(0, 10),
      CAIRN_SOURCE,
      WITHHELD_CONTACT,
    )
    .all<ContactPurchaseSummary>()
  return results
}
