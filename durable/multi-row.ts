import { multiRowQueries } from '../edge/db/multi-row'

/** Runs `${head} VALUES (?, …), (?, …) ${tail}` over the rows, a few rows per statement. */
export function insertRows(sql: SqlStorage, head: string, rows: SqlStorageValue[][], tail = '') {
  for (const query of multiRowQueries(`${head} VALUES `, rows, ` ${tail}`)) {
    sql.exec(query.sql, ...(query.params as SqlStorageValue[]))
  }
}
