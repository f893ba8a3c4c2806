import { multiRowQueries } from '../edge/db/multi-row'

/**
 * Runs `${head} VALUES (?, …), (?, …) ${tail}` over the rows, a few rows per statement; what a
 * RETURNING tail returns, from every statement.
 */
export function execRows<T extends Record<string, SqlStorageValue> = never>(
  sql: SqlStorage,
  head: string,
  rows: SqlStorageValue[][],
  tail = '',
): T[] {
  const returned: T[] = []
  for (const query of multiRowQueries(`${head} VALUES `, rows, ` ${tail}`)) {
    returned.push(...sql.exec<T>(query.sql, ...(query.params as SqlStorageValue[])).toArray())
  }
  return returned
}
