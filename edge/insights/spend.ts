import { and, between, desc, eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import type { Period, SpendRow } from '../../domain/insights/kpis'
import { marketingSpend } from '../db/schema'
import { decodeCursor, olderThan, pageOf } from '../db/keyset'

/** Rows per statement's JSON: well inside D1's bound value size. */
const CHUNK_ROWS = 2_000

/**
 * Writes one row per channel and day, replacing what an earlier import stored for it, in one
 * D1 batch (one transaction): an import lands whole or not at all. Answers how many of the
 * channel-days were there before.
 */
export async function storeSpend(db: D1Database, rows: readonly SpendRow[]): Promise<number> {
  const importedAt = new Date().toISOString()
  const statements: D1PreparedStatement[] = []
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    const json = JSON.stringify(
      rows
        .slice(start, start + CHUNK_ROWS)
        .map((row) => ({ ...row, currency: row.currency ?? null })),
    )
    statements.push(
      db
        .prepare(
          `SELECT COUNT(*) AS n FROM marketing_spend s JOIN json_each(?) j
             ON s.channel = json_extract(j.value, '$.channel') AND s.day = json_extract(j.value, '$.day')`,
        )
        .bind(json),
      db
        .prepare(
          `INSERT INTO marketing_spend (channel, day, amount, currency, imported_at)
           SELECT json_extract(value, '$.channel'), json_extract(value, '$.day'),
             json_extract(value, '$.amount'), json_extract(value, '$.currency'), ?
           FROM json_each(?) WHERE true
           ON CONFLICT (channel, day) DO UPDATE SET amount = excluded.amount,
             currency = excluded.currency, imported_at = excluded.imported_at`,
        )
        .bind(importedAt, json),
    )
  }
  const results = await db.batch<{ n: number }>(statements)
  return results
    .filter((_, i) => i % 2 === 0)
    .reduce((sum, result) => sum + (result.results[0]?.n ?? 0), 0)
}

/** A page of stored spend in a period, newest day first, with the period's totals per channel. */
export async function listSpend(
  db: D1Database,
  {
    period,
    channel,
    limit,
    cursor,
  }: { period: Period; channel?: string; limit: number; cursor?: string },
) {
  const orm = drizzle(db)
  const after = decodeCursor(cursor, ['string', 'string'])
  const order = [marketingSpend.day, marketingSpend.channel]
  const inPeriod = and(
    between(marketingSpend.day, period.from, period.to),
    channel === undefined ? undefined : eq(marketingSpend.channel, channel),
  )
  const [rows, totals] = await Promise.all([
    orm
      .select()
      .from(marketingSpend)
      .where(and(inPeriod, after ? olderThan(order, after) : undefined))
      .orderBy(...order.map((column) => desc(column)))
      .limit(limit + 1),
    orm
      .select({
        channel: marketingSpend.channel,
        currency: marketingSpend.currency,
        amount: sql<number>`SUM(${marketingSpend.amount})`,
        days: sql<number>`COUNT(*)`,
      })
      .from(marketingSpend)
      .where(inPeriod)
      .groupBy(marketingSpend.channel, marketingSpend.currency)
      .orderBy(marketingSpend.channel),
  ])
  return {
    ...pageOf(
      rows,
      limit,
      (row) => row,
      (row) => [row.day, row.channel],
    ),
    totals,
  }
}
