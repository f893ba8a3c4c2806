/**
 * The arithmetic of the KPIs (`GET /api/insights/kpis`): periods of whole UTC days, the previous
 * period, trend buckets, rates and ratios, and spend rows read from CSV. The queries that feed it
 * are in edge/insights/kpis.ts. Pure.
 */

import { readCsv } from '../csv'

const DAY_MS = 86_400_000
/** The month a churn rate is expressed per, as the predictions count months (forecast.ts). */
export const MONTH_DAYS = 30

/** Whole UTC days, both ends included, as `YYYY-MM-DD`. */
export interface Period {
  from: string
  to: string
}

export type Grain = 'day' | 'week' | 'month'

/** A trend's stretch of days, clipped to the period it belongs to. */
export interface Bucket extends Period {
  /** The day after `to`: timestamps before it fall inside. */
  next: string
}

export function addDays(day: string, days: number): string {
  return new Date(Date.parse(day) + days * DAY_MS).toISOString().slice(0, 10)
}

export function daysIn(period: Period): number {
  return Math.round((Date.parse(period.to) - Date.parse(period.from)) / DAY_MS) + 1
}

/** A real calendar day: `2026-02-30` is not one. */
export function isDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false
  const time = Date.parse(text)
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === text
}

/**
 * The period asked for: `to` defaults to today, `from` to 29 days before `to` (the overview's
 * 30 days); an error names what is wrong.
 */
export function resolvePeriod(
  query: { from?: string; to?: string },
  today: string,
  maxDays: number,
): { ok: true; period: Period } | { ok: false; message: string } {
  const to = query.to ?? today
  const from = query.from ?? addDays(to, -29)
  if (!isDay(from) || !isDay(to)) return { ok: false, message: 'a day is not a real date' }
  if (from > to) return { ok: false, message: '`from` must not be after `to`' }
  if (daysIn({ from, to }) > maxDays) {
    return { ok: false, message: `A period spans at most ${maxDays} days` }
  }
  return { ok: true, period: { from, to } }
}

/** The period of equal length that ends the day before `period` starts. */
export function previousPeriod(period: Period): Period {
  return { from: addDays(period.from, -daysIn(period)), to: addDays(period.from, -1) }
}

/** Days for a month or less, weeks up to about six months, months beyond. */
export function grainOf(period: Period): Grain {
  const days = daysIn(period)
  return days <= 31 ? 'day' : days <= 186 ? 'week' : 'month'
}

/**
 * The coarser of a grain and a floor: figures that divide by a handful of events (CAC by new
 * customers) are mostly empty day by day.
 */
export function coarsest(grain: Grain, floor: Grain): Grain {
  const order: Grain[] = ['day', 'week', 'month']
  return order[Math.max(order.indexOf(grain), order.indexOf(floor))]!
}

/** The period cut into days, ISO weeks (from Monday) or calendar months, the ends clipped. */
export function bucketsOf(period: Period, grain: Grain): Bucket[] {
  const buckets: Bucket[] = []
  let from = period.from
  while (from <= period.to) {
    let next: string
    if (grain === 'day') next = addDays(from, 1)
    else if (grain === 'week') next = addDays(from, 7 - ((new Date(from).getUTCDay() + 6) % 7))
    else {
      const date = new Date(from)
      next = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1))
        .toISOString()
        .slice(0, 10)
    }
    const to = next > period.to ? period.to : addDays(next, -1)
    buckets.push({ from, to, next: addDays(to, 1) })
    from = next
  }
  return buckets
}

export function bucket(period: Period): Bucket {
  return { ...period, next: addDays(period.to, 1) }
}

/** `part ÷ whole`, or null when there is no whole to divide by. */
export function rate(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null
}

/** `a ÷ b` of two figures that may be missing; null when either is, or b is 0. */
export function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b
}

/**
 * A churn rate over `days` expressed per 30-day month, assuming a steady monthly rate:
 * 1 − (1 − r)^(30 / days). Over 30 days it is the rate itself.
 */
export function monthlyRate(periodRate: number | null, days: number): number | null {
  if (periodRate === null) return null
  if (periodRate >= 1) return 1
  return 1 - (1 - periodRate) ** (MONTH_DAYS / days)
}

/** Sums of daily figures over a stretch of days (`day` within its ends). */
export function sumOver<T extends { day: string }>(
  rows: readonly T[],
  period: Period,
  value: (row: T) => number,
): number {
  let total = 0
  for (const row of rows) if (row.day >= period.from && row.day <= period.to) total += value(row)
  return total
}

/** Whether any daily row falls in the stretch. */
export function anyIn(rows: readonly { day: string }[], period: Period): boolean {
  return rows.some((row) => row.day >= period.from && row.day <= period.to)
}

/**
 * Contacts reachable at the end of `day`, from counts grouped by the day each was first seen
 * and the day it first bounced or complained (null: never): seen by then and not blocked by then.
 */
export function reachableAt(
  groups: readonly { seen: string; blocked: string | null; contacts: number }[],
  day: string,
): number {
  let total = 0
  for (const group of groups) {
    if (group.seen <= day && (group.blocked === null || group.blocked > day)) {
      total += group.contacts
    }
  }
  return total
}

/** The mean of values with their count, null without any. */
export function meanOf(sum: number | null, count: number): number | null {
  return count > 0 && sum !== null ? sum / count : null
}

// Spend from CSV -----------------------------------------------------------------------------

/** A spend row as read from CSV: every cell as text, the amount still to be checked. */
export interface SpendCells {
  line: number
  channel: string
  day: string
  amount: string
  currency?: string
}

export interface SpendCsvIssue {
  line: number
  field: string
  message: string
}

export const SPEND_COLUMNS = ['channel', 'day', 'amount'] as const
const COLUMN_ALIASES: Record<string, string> = { date: 'day', spend: 'amount', cost: 'amount' }

/**
 * The rows of a spend CSV: a header naming `channel`, `day` and `amount` (`date`, `spend` and
 * `cost` understood too) and optionally `currency`, in any order; other columns (campaign,
 * impressions…) are ignored, so an ad platform's export needs only its header renamed. A row
 * with the wrong number of fields is an issue beside the rows read, so that every line's
 * problems can be named at once; a broken header or quote ends the reading.
 */
export function readSpendCsv(
  text: string,
  maxRows: number,
):
  | { ok: true; rows: SpendCells[]; issues: SpendCsvIssue[] }
  | { ok: false; issues: SpendCsvIssue[]; tooMany?: boolean } {
  const read = readCsv(text, maxRows + 2)
  if (!read.ok) {
    const { line, message } = read.error
    return { ok: false, issues: [{ line, field: '', message: message.replace(/^line \d+: /, '') }] }
  }
  const [header, ...data] = read.records
  if (!header) {
    return { ok: false, issues: [{ line: 1, field: '', message: 'the CSV is empty' }] }
  }
  if (data.length > maxRows) {
    return {
      ok: false,
      tooMany: true,
      issues: [{ line: 0, field: '', message: `at most ${maxRows} rows per import` }],
    }
  }
  const names = header.fields.map((name) => {
    const plain = name.trim().toLowerCase()
    return COLUMN_ALIASES[plain] ?? plain
  })
  const missing = SPEND_COLUMNS.filter((column) => !names.includes(column))
  if (missing.length > 0) {
    return {
      ok: false,
      issues: missing.map((column) => ({
        line: header.line,
        field: column,
        message: `missing from the header (found: ${names.map((n) => `"${n}"`).join(', ')})`,
      })),
    }
  }
  const at = (column: string) => names.indexOf(column)
  const issues: SpendCsvIssue[] = []
  const rows: SpendCells[] = []
  for (const record of data) {
    if (record.fields.length !== names.length) {
      issues.push({
        line: record.line,
        field: '',
        message: `expected ${names.length} fields, found ${record.fields.length} (a comma inside an unquoted value?)`,
      })
      continue
    }
    const cell = (column: string) => (at(column) < 0 ? '' : record.fields[at(column)]!.trim())
    const currency = cell('currency')
    rows.push({
      line: record.line,
      channel: cell('channel'),
      day: cell('day'),
      amount: cell('amount'),
      ...(currency === '' ? {} : { currency }),
    })
  }
  return { ok: true, rows, issues }
}

/** A spend row once checked. */
export interface SpendRow {
  channel: string
  day: string
  amount: number
  currency?: string | null
}

/**
 * One row per channel and day: rows of the same channel and day in one import (one campaign a
 * row, as ad platforms export) are added up. Returns the index of a row whose currency differs
 * from an earlier row of its channel and day, as a conflict.
 */
export function totalsByChannelDay(
  rows: readonly SpendRow[],
): { ok: true; rows: SpendRow[] } | { ok: false; conflicts: { index: number; first: number }[] } {
  const byKey = new Map<string, { row: SpendRow; index: number }>()
  const conflicts: { index: number; first: number }[] = []
  rows.forEach((row, index) => {
    const key = `${row.channel}\u0000${row.day}`
    const seen = byKey.get(key)
    if (!seen) {
      byKey.set(key, { row: { ...row, currency: row.currency ?? null }, index })
    } else if ((seen.row.currency ?? null) !== (row.currency ?? null)) {
      conflicts.push({ index, first: seen.index })
    } else {
      // Cents added as binary fractions drift (0.1 + 0.2); a millionth is finer than any money.
      seen.row.amount = Math.round((seen.row.amount + row.amount) * 1e6) / 1e6
    }
  })
  if (conflicts.length > 0) return { ok: false, conflicts }
  return { ok: true, rows: [...byKey.values()].map(({ row }) => row) }
}
