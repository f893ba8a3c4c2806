/** Latency samples of one run, in milliseconds, summarised exactly (no histogram buckets). */
export interface LatencySummary {
  count: number
  mean: number
  p50: number
  p95: number
  p99: number
  max: number
}

export class LatencyRecorder {
  private samples: number[] = []

  record(ms: number): void {
    this.samples.push(ms)
  }

  summary(): LatencySummary {
    const sorted = Float64Array.from(this.samples).sort()
    const count = sorted.length
    const at = (q: number) => (count ? sorted[Math.min(count - 1, Math.ceil(q * count) - 1)]! : NaN)
    let sum = 0
    for (const v of sorted) sum += v
    return {
      count,
      mean: count ? sum / count : NaN,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: count ? sorted[count - 1]! : NaN,
    }
  }
}
