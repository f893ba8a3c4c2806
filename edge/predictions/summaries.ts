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
 * Every purchaser's summary, over D1's events, a page of purchasers per statement: track events named as purchases
 * in the settings, bots and Cairn's own events left out (withheld events belong to no contact;
 * a merged contact's events were moved to the contact that absorbed it by the consumer).
 *
 * Time is counted in UTC days, as lifetimes counts periods: all purchases of a day are one, whose
 * value is their sum. So x is the purchase days but the first, tx the days from the first
 * purchase day to the last, T the days from the first to `now`'s day (never below tx, should a
 * purchase be stamped in the future), and m the mean value of the repeat days (0 with none). A
 * value that is not a number counts as 0.
 */
/**
 * Purchasers per statement. D1 answers at most 50 MB a statement and a summary row is about 60
 * bytes (58.6 MB for 1M purchasers in one statement: bench/results/2026-12-06-predictions.md),
 * so pages of 100,000 keep each answer near 6 MB.
 */
export const SUMMARY_PAGE = 100_000

export async function readPurchaseSummaries(
  db: D1Database,
  settings: Pick<PredictionSettings, 'purchaseEvents' | 'valueProperty'>,
  now: Date,
  pageSize = SUMMARY_PAGE,
): Promise<ContactPurchaseSummary[]> {
  const summaries: ContactPurchaseSummary[] = []
  let after = ''
  for (;;) {
    const page = await summaryPage(db, settings, now, after, pageSize)
    summaries.push(...page)
    if (page.length < pageSize) return summaries
    after = page[page.length - 1]!.contactKey
  }
}

/**
 * The purchasers after `after` in key order, `pageSize` of them: the page's last key is found
 * first (the `events_by_contact` index walked in key order), so each statement reads only its
 * own purchasers' events.
 */
async function summaryPage(
  db: D1Database,
  settings: Pick<PredictionSettings, 'purchaseEvents' | 'valueProperty'>,
  now: Date,
  after: string,
  pageSize: number,
): Promise<ContactPurchaseSummary[]> {
  const purchase = `event IN (SELECT value FROM json_each(?1)) AND type = 'track' AND bot = 0
    AND source_id != ?4 AND contact_key != ?5 AND contact_key > ?6`
  const { results } = await db
    .prepare(
      `WITH last AS (
         SELECT max(contact_key) AS key FROM (
           SELECT DISTINCT contact_key FROM events WHERE ${purchase}
           ORDER BY contact_key LIMIT ?7)
       ), days AS (
         SELECT contact_key, day, SUM(coalesce(CAST(json_extract(properties, ?2) AS REAL), 0)) AS value
         FROM events
         WHERE ${purchase} AND contact_key <= (SELECT key FROM last)
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
       FROM ranked GROUP BY contact_key ORDER BY contact_key`,
    )
    .bind(
      JSON.stringify(settings.purchaseEvents),
      valuePath(settings.valueProperty),
      now.toISOString().slice(0, 10),
      CAIRN_SOURCE,
      WITHHELD_CONTACT,
      after,
      pageSize,
    )
    .all<ContactPurchaseSummary>()
  return results
}
