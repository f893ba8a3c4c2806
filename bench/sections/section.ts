import type { BenchConfig } from '../config.ts'

/**
 * One part of `npm run bench`: ingestion throughput, bundle size, and later attribution fit
 * times, erasure time, tracker size. Each runs on its own and returns a readable summary plus
 * the figures for bench/results/latest.json.
 */
export interface Section {
  name: string
  run(config: BenchConfig): Promise<SectionOutcome>
}

export interface SectionOutcome {
  /** Lines printed in the final summary. */
  summary: string[]
  /** Targets the section checks, each met or not. */
  checks: Check[]
  data: unknown
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}
