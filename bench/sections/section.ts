import type { BenchConfig } from '../config.ts'
import { verdictText } from '../ingest-targets.ts'

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

/** A target as a section judges it; `met` null: not measured in this run. */
export interface Verdict {
  name: string
  figure: string
  target: string
  met: boolean | null
  note?: string
}

export function verdictLine(v: Verdict): string {
  return verdictText(v.met) + (v.note ? ` (${v.note})` : '')
}

/** Each verdict as a check of the run. */
export function verdictChecks(verdicts: readonly Verdict[]): Check[] {
  return verdicts.map((v) => ({
    name: `${v.name}: ${v.target}`,
    ok: v.met === true,
    detail: `${v.figure}; ${verdictLine(v)}`,
  }))
}
