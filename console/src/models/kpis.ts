import { createModel, signal } from '@preact/signals'
import type {
  Kpi,
  KpiReport,
  KpiSettings,
  SpendImportResult,
  SpendIssue,
  SpendList,
} from '../../../contracts/kpis'
import { api, type ApiError } from './api'
import type { Period } from './period'
import { request } from './request'

export type { Kpi, KpiReport, KpiSettings, SpendImportResult, SpendIssue, SpendList }

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

/**
 * The per-row problems of a refused spend import (`details.issues` of a 400 invalid_spend); the
 * error's message names the known channels when one is unknown.
 */
export function spendIssues(error: ApiError | undefined): { issues: SpendIssue[]; count: number } {
  const details = (error?.details ?? {}) as { issues?: SpendIssue[]; issueCount?: number }
  const issues = Array.isArray(details.issues) ? details.issues : []
  return { issues, count: details.issueCount ?? issues.length }
}

/** The KPIs screen: the report for a period, the KPI settings, spend imports and the spend kept. */
export const KpisModel = createModel(() => {
  const period = signal<Period | undefined>(undefined, { name: 'kpis.period' })
  const report = request<KpiReport>('kpis.report')
  const settings = request<KpiSettings>('kpis.settings')
  const saving = request<KpiSettings>('kpis.saving')
  const importing = request<SpendImportResult>('kpis.importing')
  const spend = request<SpendList>('kpis.spend')

  function load() {
    const current = period.peek()
    if (!current) return
    const query = { from: current.from, to: current.to }
    return Promise.all([
      report.run(() => api<KpiReport>('/insights/kpis', { query })),
      spend.run(() => api<SpendList>('/spend', { query })),
    ])
  }

  return {
    period,
    report,
    settings,
    saving,
    importing,
    spend,
    show(next: Period) {
      const current = period.peek()
      if (current?.from === next.from && current.to === next.to && report.data.peek()) return
      period.value = next
      void load()
    },
    refresh: load,
    loadSettings() {
      return settings.run(() => api<KpiSettings>('/insights/kpis/settings'))
    },
    async saveSettings(next: KpiSettings) {
      const saved = await saving.run(() =>
        api<KpiSettings>('/insights/kpis/settings', { method: 'PUT', body: next }),
      )
      if (saved) {
        settings.set(saved)
        await load()
      }
      return saved
    },
    /** CSV as pasted or read from a file, sent as it is so the API can name its lines. */
    async importSpend(csv: string) {
      const result = await importing.run(
        () =>
          api<SpendImportResult>('/spend', {
            method: 'POST',
            text: { content: csv, type: 'text/csv' },
          }),
        { keepData: false },
      )
      if (result) await load()
      return result
    },
  }
})

export const kpis = new KpisModel()
