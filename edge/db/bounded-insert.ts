import { ApiError } from '../errors'

/**
 * Inserts a row only while fewer than `limit` rows are counted (all of `table`, or those
 * matching `countedWhere`): one statement counts and inserts, so concurrent requests cannot pass
 * the limit together. Over it, a 409 `limit_reached` saying `full`.
 */
export async function insertBelowLimit(
  db: D1Database,
  insert: {
    table: string
    row: Record<string, string | number | null>
    limit: number
    countedWhere?: string
    full: string
  },
): Promise<void> {
  const columns = Object.keys(insert.row)
  const where = insert.countedWhere ? ` WHERE ${insert.countedWhere}` : ''
  const { meta } = await db
    .prepare(
      `INSERT INTO ${insert.table} (${columns.join(', ')})
       SELECT ${columns.map(() => '?').join(', ')}
       WHERE (SELECT COUNT(*) FROM ${insert.table}${where}) < ?`,
    )
    .bind(...Object.values(insert.row), insert.limit)
    .run()
  if (meta.changes === 0) throw new ApiError(409, 'limit_reached', insert.full)
}
