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
export { changeOf, type Change } from './kpi-change'

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
  const eventNames = request<string[]>('kpis.eventNames')

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
    eventNames,
    show(next: Period) {
      const current = period.peek()
      if (current?.from === next.from && current.to === next.to && report.data.peek()) return
      period.value = next
      void load()
    },
    refresh: load,
    loadSettings() {
      // Suggestions for the event fields: the most frequent event names of the period.
      const current = period.peek()
      void eventNames.run(async () => {
        const overview = await api<{ topEvents: { name: string }[] }>('/insights/overview', {
          query: { from: current?.from, to: current?.to, top: 100 },
        })
        return overview.topEvents.map((event) => event.name)
      })
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
