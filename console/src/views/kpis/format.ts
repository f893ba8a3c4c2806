import type { Kpi } from '../../models/kpis'

const percent = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 })
const money = new Intl.NumberFormat('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
const multiple = new Intl.NumberFormat('en', { maximumFractionDigits: 2 })
const plain = new Intl.NumberFormat('en', { maximumFractionDigits: 2 })

/** A KPI's figure in its unit: 12.5%, EUR 1,234.50, 3.2×; a dash when there is none. */
export function kpiValue(kpi: Pick<Kpi, 'unit' | 'currency'>, value: number | null): string {
  if (value === null) return '—'
  if (kpi.unit === 'fraction') return percent.format(value)
  if (kpi.unit === 'multiple') return `${multiple.format(value)}×`
  return kpi.currency ? `${kpi.currency} ${money.format(value)}` : money.format(value)
}

/** An input figure (a count, an amount) as plain text. */
export function figure(value: number | null): string {
  return value === null ? '—' : plain.format(value)
}

/** What each input figure of the API is, in words. */
export const INPUT_LABELS: Record<string, string> = {
  marketingRevenue: 'marketing revenue',
  revenue: 'all revenue',
  leads: 'new leads',
  converted: 'became customers',
  opened: 'opened',
  reachable: 'reachable',
  customersAtStart: 'customers at start',
  churned: 'churned',
  customers: 'customers',
  contacts: 'contacts with a CLV',
  spend: 'spend',
  newCustomers: 'new customers',
  ltv: 'LTV',
  cac: 'CAC',
}
