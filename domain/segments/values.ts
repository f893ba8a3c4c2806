import type { ValueCondition } from './rule'

/**
 * How a rule reads one JSON value (docs/design/segments.md, "compare"). The SQL compiler
 * (sql.ts) must reach the same answer from SQLite's JSON functions, so every choice here is
 * one SQLite can make: only scalars of the same kind meet, strings order as UTF-8 bytes do.
 */

export function compare(actual: unknown, condition: ValueCondition): boolean {
  const { op, value } = condition
  switch (op) {
    case 'exists':
      return actual !== undefined && actual !== null
    case 'not_exists':
      return actual === undefined || actual === null
    case 'eq':
      return equal(actual, value)
    case 'neq':
      return !equal(actual, value)
    // order() is NaN for values that cannot be ordered, and NaN fails every comparison.
    case 'gt':
      return order(actual, value) > 0
    case 'gte':
      return order(actual, value) >= 0
    case 'lt':
      return order(actual, value) < 0
    case 'lte':
      return order(actual, value) <= 0
    case 'contains':
      if (typeof actual === 'string') return typeof value === 'string' && actual.includes(value)
      if (!Array.isArray(actual)) return false
      for (const item of actual) if (equal(item, value)) return true
      return false
    case 'in':
      if (!Array.isArray(value)) return false
      for (const item of value) if (equal(actual, item)) return true
      return false
  }
}

/** Scalars of the same kind and equal; arrays and objects are never equal to anything. */
function equal(a: unknown, b: unknown): boolean {
  return a === b && (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean')
}

function order(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b)
  return NaN
}

/**
 * Orders strings by Unicode code point, which is the order of their UTF-8 bytes (SQLite's
 * BINARY collation). JS `<` compares UTF-16 code units instead, which puts a surrogate pair
 * (a code point above U+FFFF) below U+E000…U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length)
  for (let i = 0; i < shorter; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

/**
 * Where two strings first differ, code units already in the same range order as their code
 * points do; only surrogates against U+E000…U+FFFF need moving, surrogates to the top.
 */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800
}

/**
 * The value at a dotted path (`address.city`), each part an own property of a plain object.
 * Arrays are never walked into (a part is never an index), and inherited properties such as
 * `constructor` are not traits.
 */
export function valueAt(object: unknown, path: string): unknown {
  let current = object
  let start = 0
  for (;;) {
    const dot = path.indexOf('.', start)
    const part = dot === -1 ? (start === 0 ? path : path.slice(start)) : path.slice(start, dot)
    if (!isPlainObject(current) || !Object.hasOwn(current, part)) return undefined
    current = current[part]
    if (dot === -1) return current
    start = dot + 1
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * `YYYY-MM-DD`, then optionally `T` or a space and `HH:MM`, `:SS`, `.S`–`.SSS`, then optionally
 * `Z` or `±HH:MM`. An offset needs a time, as in SQLite's date functions.
 */
const DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):(\d{2}))?)?$/

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
/** The Gregorian calendar repeats every 400 years (146 097 days). */
const FOUR_CENTURIES_MS = 146_097 * 86_400_000
/** Real offsets run from −12:00 to +14:00; SQLite's date functions refuse hours past 14. */
const MAX_OFFSET_HOURS = 14

/** A date string as segment rules read it, in ms since the epoch; null when it is not one. */
export function parseDate(value: unknown): number | null {
  if (typeof value !== 'string') return null
  const m = DATE.exec(value)
  if (!m) return null
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4] ?? 0)
  const minute = Number(m[5] ?? 0)
  const second = Number(m[6] ?? 0)
  // `.5` is half a second: pad to milliseconds.
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'))
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null
  if (hour > 23 || minute > 59 || second > 59) return null
  let offsetMinutes = 0
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10])
    const offsetMins = Number(m[11])
    if (offsetHours > MAX_OFFSET_HOURS || offsetMins > 59) return null
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins)
  }
  // Date.UTC reads years 0–99 as 1900–1999; four centuries later is the same calendar.
  const local = Date.UTC(year + 400, month - 1, day, hour, minute, second, ms) - FOUR_CENTURIES_MS
  return local - offsetMinutes * 60_000
}

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!
}
