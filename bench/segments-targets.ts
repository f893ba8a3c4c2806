import type { Verdict } from './sections/section.ts'

/**
 * The segments targets, defined once: what the segments section judges, and the pure verdict
 * functions its node test checks.
 */
export const SEGMENT_TARGETS = {
  /** The population the preview target is stated at. */
  previewContacts: 1_000_000,
  /** `POST /api/segments/preview` of the typical rule, median: under this (ms). */
  previewMs: 1000,
  /** Live segments in the contact objects for the ingest comparison. */
  liveSegments: 50,
  /** workerd's CPU per event with them ÷ without: at most this. */
  maxCpuRatio: 1.2,
} as const

export interface Timing {
  samples: number
  median: number
  p95: number
}

/** Median and p95 of some durations (nearest rank, as the load's latency summary). */
export function timing(samples: readonly number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN
  const mid = sorted.length / 2
  const median =
    sorted.length % 2 === 1
      ? sorted[Math.floor(mid)]!
      : sorted.length === 0
        ? NaN
        : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { samples: sorted.length, median, p95: rank(0.95) }
}

/**
 * The preview target: the typical rule's preview at SEGMENT_TARGETS.previewContacts contacts.
 * `measured` maps each population measured to the route's timing there.
 */
export function judgePreview(measured: ReadonlyMap<number, Timing>): Verdict {
  const t = SEGMENT_TARGETS
  const at = measured.get(t.previewContacts)
  const name = `preview of the typical rule at ${t.previewContacts.toLocaleString('en')} contacts`
  const target = `median < ${t.previewMs} ms`
  if (!at) {
    const largest = Math.max(...measured.keys())
    return {
      name,
      figure: '-',
      target,
      met: null,
      note: measured.size
        ? `this run measured up to ${largest.toLocaleString('en')} contacts only`
        : 'not measured in this run',
    }
  }
  const figure = `median ${at.median.toFixed(0)} ms, p95 ${at.p95.toFixed(0)} ms (${at.samples} runs)`
  const met = at.median < t.previewMs
  return {
    name,
    figure,
    target,
    met,
    ...(met && at.p95 >= t.previewMs ? { note: 'the p95 is not under it' } : {}),
  }
}

/**
 * workerd's CPU per event of one shape (ms) in the two runs of one pair, without and with the
 * segments, and how many of their requests were not answered 2xx.
 */
export interface CpuPair {
  none: number | null
  live: number | null
  failed: number
}

/**
 * The live-segments target for one shape. Each pair ran the same workload on a fresh state
 * without and then with the segments (or the other way round), so the verdict reads the median
 * of the pairs' ratios, and says how many pairs agree with it: on this machine one quick run's
 * CPU per event varies by about ±0.5 ms, a fifth of a returning event's.
 */
export function judgeLiveSegments(
  shape: string,
  pairs: readonly CpuPair[],
  whose = 'workerd',
): Verdict {
  const t = SEGMENT_TARGETS
  const name = `${shape}: ${whose} CPU/event with ${t.liveSegments} segments ÷ without`
  const target = `≤ ${t.maxCpuRatio}`
  const measured = pairs.flatMap(({ none, live }) =>
    none === null || live === null || none <= 0 ? [] : [{ none, live, ratio: live / none }],
  )
  if (measured.length === 0) {
    return { name, figure: '-', target, met: null, note: `${whose} CPU not measured in this run` }
  }
  const ratios = measured.map((m) => m.ratio)
  const median = timing(ratios).median
  const met = median <= t.maxCpuRatio
  const agreeing = ratios.filter((r) => r <= t.maxCpuRatio === met).length
  const range =
    ratios.length > 1
      ? ` (pairs ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`
      : ''
  const ms = (values: number[]) => timing(values).median.toFixed(2)
  const failed = pairs.reduce((sum, pair) => sum + pair.failed, 0)
  const notes = [
    ratios.length === 1
      ? 'one pair only: a quick run varies by about ±0.5 ms per event'
      : `${agreeing} of ${ratios.length} pairs on the same side`,
    ...(failed > 0
      ? [`${failed} requests not answered 2xx: their CPU counts, their events do not`]
      : []),
  ]
  return {
    name,
    figure:
      `${ms(measured.map((m) => m.none))} → ${ms(measured.map((m) => m.live))} ms, ` +
      `median ratio ${median.toFixed(2)}${range}`,
    target,
    met,
    note: notes.join('; '),
  }
}
