/** Durable Objects' SQLite binds at most 100 parameters per statement. */
const MAX_BOUND_PARAMETERS = 100

/**
 * Runs `${head} VALUES (?, …), (?, …) ${tail}` over the rows, as few statements as the
 * parameter cap allows. A few rows per statement are far cheaper in a Durable Object's SQLite
 * than a statement per row, or a json_each over one bound array.
 */
export function insertRows(sql: SqlStorage, head: string, rows: SqlStorageValue[][], tail = '') {
  const columns = rows[0]?.length ?? 0
  if (columns === 0) return
  const perStatement = Math.floor(MAX_BOUND_PARAMETERS / columns)
  const placeholders = `(${new Array<string>(columns).fill('?').join(', ')})`
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement)
    const values = new Array<string>(chunk.length).fill(placeholders).join(', ')
    sql.exec(`${head} VALUES ${values} ${tail}`, ...chunk.flat())
  }
}
