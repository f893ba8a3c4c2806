/**
 * What the live journeys did in a CPU run, from their `GET /api/journeys/:id/metrics` answers
 * (edge/journeys/metrics.ts: runs per version), summed over journeys and versions.
 */

export interface RunTotals {
  entered: number
  /** Runs still in a journey (most waiting) when the run ended. */
  active: number
  completed: number
  exited: number
  converted: number
}

interface VersionCounts {
  entered?: number
  active?: number
  completed?: number
  exited?: number
  converted?: number
}

export function runTotals(answers: readonly unknown[]): RunTotals {
  const totals: RunTotals = { entered: 0, active: 0, completed: 0, exited: 0, converted: 0 }
  for (const answer of answers) {
    const versions = (answer as { versions?: VersionCounts[] } | null)?.versions ?? []
    for (const version of versions) {
      for (const key of Object.keys(totals) as (keyof RunTotals)[]) {
        totals[key] += version[key] ?? 0
      }
    }
  }
  return totals
}
