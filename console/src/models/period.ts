/** A period of whole UTC days, as the insights and attribution APIs take it. */
export interface Period {
  from: string
  to: string
}

const DAY_MS = 86_400_000

export function today(): string {
  return new Date().toISOString().slice(0, 10)
}

export function lastDays(days: number, to = today()): Period {
  return { from: new Date(Date.parse(to) - (days - 1) * DAY_MS).toISOString().slice(0, 10), to }
}

export const PRESETS = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '12 months' },
] as const

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** The period named in a query string, else the last `days` days up to today. */
export function periodFrom(query: URLSearchParams, days = 30): Period {
  const from = query.get('from')
  const to = query.get('to')
  if (from && to && DAY.test(from) && DAY.test(to) && from <= to) return { from, to }
  return lastDays(days)
}

export function daysIn(period: Period): number {
  return Math.round((Date.parse(period.to) - Date.parse(period.from)) / DAY_MS) + 1
}

/** The preset this period is, if it ends today. */
export function presetOf(period: Period): number | undefined {
  if (period.to !== today()) return undefined
  return PRESETS.find((preset) => preset.days === daysIn(period))?.days
}
