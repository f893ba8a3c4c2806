import type { Query } from 'drizzle-orm'

/** Durable Objects' SQLite and D1 both bind at most 100 parameters per statement. */
const MAX_BOUND_PARAMETERS = 100

/**
 * `${head}(?, …), (?, …)${tail}` over the rows (each an equal-length list of values), in as few
 * statements as the parameter cap allows. In a ContactDO a few rows per statement are far
 * cheaper than a statement per row, or a json_each over one bound array.
 */
export function multiRowQueries<T>(head: string, rows: T[][], tail = ''): Query[] {
  const columns = rows[0]?.length ?? 0
  if (columns === 0) return []
  const perStatement = Math.floor(MAX_BOUND_PARAMETERS / columns)
  const placeholders = `(${new Array<string>(columns).fill('?').join(', ')})`
  const queries: Query[] = []
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement)
    const values = new Array<string>(chunk.length).fill(placeholders).join(', ')
    queries.push({ sql: `${head}${values}${tail}`, params: chunk.flat() })
  }
  return queries
}
