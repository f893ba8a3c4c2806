import type { Kpi } from '../../../contracts/kpis'

/** Figures where a fall is the good news. */
const LOWER_IS_BETTER: ReadonlySet<Kpi['id']> = new Set(['churn_rate', 'cac'])

export interface Change {
  /** `+2.1 pts` for fractions (percentage points), `−12%` for money and multiples. */
  text: string
  direction: 'up' | 'down' | 'flat'
  /** Whether the move is good news, bad news, or neither. */
  tone: 'ok' | 'bad' | 'neutral'
}

/**
 * How a figure moved since the previous period: shares change by percentage points (a rate
 * going from 2% to 3% is +1 pt, not +50%), amounts and ratios by percent. Null when either
 * figure is missing, or a relative change would divide by zero.
 */
export function changeOf(kpi: Pick<Kpi, 'id' | 'unit' | 'value' | 'previous'>): Change | null {
  const { value, previous } = kpi
  if (value === null || previous === null) return null
  const delta = value - previous
  let text: string
  let size: number
  if (kpi.unit === 'fraction') {
    size = delta * 100
    text = `${signed(size, 1)} pts`
  } else {
    if (previous === 0) return null
    size = (delta / Math.abs(previous)) * 100
    text = `${signed(size, 0)}%`
  }
  const rounded = kpi.unit === 'fraction' ? Math.round(size * 10) : Math.round(size)
  if (rounded === 0)
    return { text: kpi.unit === 'fraction' ? '±0 pts' : '±0%', direction: 'flat', tone: 'neutral' }
  const direction = delta > 0 ? 'up' : 'down'
  const good = LOWER_IS_BETTER.has(kpi.id) ? direction === 'down' : direction === 'up'
  return { text, direction, tone: good ? 'ok' : 'bad' }
}

function signed(n: number, digits: number): string {
  const text = Math.abs(n).toFixed(digits)
  return `${n > 0 ? '+' : '−'}${text}`
}
