/** Display formats. Everything shown is text: values from the API never become markup. */

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 })
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 2 })
const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 })
const percent = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 })

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : integer.format(n)
}

export function number(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : decimal.format(n)
}

export function short(n: number): string {
  return Math.abs(n) < 10_000 ? integer.format(n) : compact.format(n)
}

export function share(n: number): string {
  return percent.format(n)
}

const dateTime = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})
const dateOnly = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
})
const timeOnly = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})

function parse(value: string | number | null | undefined): Date | undefined {
  if (value === null || value === undefined || value === '') return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date
}

export function when(value: string | number | null | undefined): string {
  const date = parse(value)
  return date ? dateTime.format(date) : '—'
}

export function day(value: string | null | undefined): string {
  const date = parse(value)
  return date ? dateOnly.format(date) : '—'
}

export function time(value: string | null | undefined): string {
  const date = parse(value)
  return date ? timeOnly.format(date) : '—'
}

/** A day key (2026-11-24) as a short axis label (24 Nov). */
export function dayLabel(key: string): string {
  const date = parse(`${key}T00:00:00Z`)
  return date
    ? date.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' })
    : key
}

/** Any JSON value as one line of text. */
export function inline(value: unknown): string {
  if (value === null || value === undefined) return '—'
  if (typeof value === 'string') return value
  try {
    return JSON.stringify(value)
  } catch {
    return String(value)
  }
}

export function pretty(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2)
  } catch {
    return String(value)
  }
}

export function shortHash(hash: string | null | undefined, length = 10): string {
  return hash ? hash.slice(0, length) : '—'
}
