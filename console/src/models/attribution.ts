import { computed, createModel, signal } from '@preact/signals'
import { api } from './api'
import type { Period } from './period'
import { request } from './request'

export const MODELS = [
  { id: 'first', label: 'First touch' },
  { id: 'last', label: 'Last touch' },
  { id: 'last_non_direct', label: 'Last non-direct' },
  { id: 'linear', label: 'Linear' },
  { id: 'time_decay', label: 'Time decay' },
  { id: 'position', label: 'Position' },
  { id: 'markov', label: 'Markov' },
  { id: 'shapley', label: 'Shapley' },
] as const

export type ModelId = (typeof MODELS)[number]['id']

export interface Credit {
  conversions: number
  value: number
}

export type Measure = 'conversions' | 'value'

/** A channel's interval: absolute credit, or (bootstrap) share of the model's total. */
type ShareInterval = { share: number; low: number; high: number }
type RawInterval = [number, number] | Partial<Record<Measure, ShareInterval>>

export interface Comparison {
  from: string
  to: string
  models: Partial<Record<ModelId, Record<string, Credit>>>
  confidence?: {
    /** Null when nothing converted in the period. */
    score: number | null
    basis?: 'value' | 'conversions'
    conversions?: number
    deterministicConversions?: number
    value?: number
    deterministicValue: number
    totalValue?: number
  }
  intervals?:
    | ({ level?: number; replicates?: number } & Partial<
        Record<ModelId, Record<string, RawInterval>>
      >)
    | null
  fit?: { fittedAt: string; paths: number; from: string; to: string } | null
}

export interface Interval {
  low: number
  high: number
  /** `share`: fractions of the model's total; `credit`: the same unit as the credit. */
  kind: 'share' | 'credit'
}

/** A channel's interval under a data-driven model for the measure shown, if the API has one. */
export function intervalOf(
  comparison: Comparison,
  model: ModelId,
  channel: string,
  measure: Measure,
): Interval | undefined {
  const raw = comparison.intervals?.[model]?.[channel] as RawInterval | undefined
  if (!raw) return undefined
  if (Array.isArray(raw)) return { low: raw[0], high: raw[1], kind: 'credit' }
  const share = raw[measure]
  return share ? { low: share.low, high: share.high, kind: 'share' } : undefined
}

/** Every attribution model's credit per channel for one period, side by side. */
export const AttributionModel = createModel(() => {
  const period = signal<Period | undefined>(undefined, { name: 'attribution.period' })
  const comparison = request<Comparison>('attribution.comparison')
  const measure = signal<Measure>('conversions', { name: 'attribution.measure' })

  /** Channels ordered by their mean credit across the models that report them. */
  const channels = computed(
    () => {
      const models = comparison.data.value?.models ?? {}
      const totals = new Map<string, number>()
      for (const credits of Object.values(models)) {
        for (const [channel, credit] of Object.entries(credits ?? {})) {
          totals.set(channel, (totals.get(channel) ?? 0) + credit[measure.value])
        }
      }
      return [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([channel]) => channel)
    },
    { name: 'attribution.channels' },
  )

  const modelTotals = computed(
    () => {
      const models = comparison.data.value?.models ?? {}
      const totals: Partial<Record<ModelId, number>> = {}
      for (const [model, credits] of Object.entries(models) as [
        ModelId,
        Record<string, Credit>,
      ][]) {
        totals[model] = Object.values(credits ?? {}).reduce((n, c) => n + c[measure.value], 0)
      }
      return totals
    },
    { name: 'attribution.modelTotals' },
  )

  return {
    period,
    comparison,
    measure,
    channels,
    modelTotals,
    show(next: Period) {
      const current = period.peek()
      if (current?.from === next.from && current.to === next.to && comparison.data.peek()) return
      period.value = next
      void comparison.run(() =>
        api<Comparison>('/attribution/compare', { query: { from: next.from, to: next.to } }),
      )
    },
    setMeasure(next: Measure) {
      measure.value = next
    },
  }
})

export const attribution = new AttributionModel()
