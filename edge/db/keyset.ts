import { sql, type AnyColumn, type SQL } from 'drizzle-orm'
import { ApiError } from '../errors'

/**
 * Keyset pagination, newest first. A page ends at a row; the next one starts strictly after it
 * in the order of its sort columns, the last of which is unique: a sort value alone repeats (one
 * erasure suppresses several identifiers in the same millisecond), and "older than the last
 * row's time" would skip the rest of its millisecond. The cursor carries the last row's values,
 * opaque to clients.
 */
export type CursorValue = string | number

/** base64url of the values' JSON in UTF-8 (keys hold any character; btoa takes only Latin-1). */
export function encodeCursor(values: readonly CursorValue[]): string {
  return new TextEncoder()
    .encode(JSON.stringify(values))
    .toBase64({ alphabet: 'base64url', omitPadding: true })
}

function decodeText(cursor: string): string {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(
    Uint8Array.fromBase64(cursor, { alphabet: 'base64url' }),
  )
}

/**
 * The values a cursor carries, one of each type in `types` (the sort columns'); a cursor this API
 * did not make is a 400 rather than a silent first page.
 */
export function decodeCursor<const T extends readonly ('string' | 'number')[]>(
  cursor: string | undefined,
  types: T,
): { [I in keyof T]: T[I] extends 'number' ? number : string } | null {
  if (!cursor) return null
  try {
    const values: unknown = JSON.parse(decodeText(cursor))
    if (
      Array.isArray(values) &&
      values.length === types.length &&
      values.every((value, i) =>
        types[i] === 'number' ? Number.isFinite(value) : typeof value === 'string',
      )
    ) {
      return values as { [I in keyof T]: T[I] extends 'number' ? number : string }
    }
  } catch {
    // fall through to the error below
  }
  throw new ApiError(400, 'invalid_cursor', 'The cursor is not one this API returned')
}

/** Rows after the cursor's row, for columns sorted descending (SQLite compares row values). */
export function olderThan(columns: readonly AnyColumn[], values: readonly CursorValue[]): SQL {
  const list = (parts: SQL[]) => sql.join(parts, sql`, `)
  return sql`(${list(columns.map((column) => sql`${column}`))}) < (${list(values.map((value) => sql`${value}`))})`
}

/** One page of `limit` from rows read with `limit + 1`, and the cursor of the next page. */
export function pageOf<Row, Item>(
  rows: Row[],
  limit: number,
  item: (row: Row) => Item,
  cursorOf: (row: Row) => readonly CursorValue[],
): { items: Item[]; cursor: string | null } {
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    items: page.map(item),
    cursor: rows.length > limit && last ? encodeCursor(cursorOf(last)) : null,
  }
}
