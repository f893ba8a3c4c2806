import type { SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'

/**
 * drizzle's D1 `batch()` accepts query builders but not raw `sql` statements, and the consumer's
 * bulk statements (json_each inserts, rollups) are raw. These helpers render drizzle `sql`
 * templates to D1 prepared statements so they can share one D1 batch, which is one transaction.
 */
const dialect = new SQLiteSyncDialect()

export function prepare(db: D1Database, statement: SQL): D1PreparedStatement {
  const query = dialect.sqlToQuery(statement)
  return db.prepare(query.sql).bind(...query.params)
}

export async function runInTransaction(db: D1Database, statements: SQL[]): Promise<void> {
  if (statements.length > 0) await db.batch(statements.map((s) => prepare(db, s)))
}

export async function queryAll<T extends unknown[]>(
  db: D1Database,
  statements: { [K in keyof T]: SQL },
): Promise<{ [K in keyof T]: T[K][] }> {
  const results = await db.batch(statements.map((s) => prepare(db, s)))
  return results.map((r) => r.results) as { [K in keyof T]: T[K][] }
}
