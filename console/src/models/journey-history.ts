import { liveSets, type LiveSet, type PublishAction } from '../../../domain/journeys/live-sets'

/** A journey's publish history as `GET /api/journeys/:id` answers it, oldest first. */
export interface History {
  history: readonly { live: LiveSet; action: PublishAction; at: string }[]
}

/** The live set a rollback returns to; undefined when there is none. */
export function rollbackTarget(journey: History): LiveSet | undefined {
  return liveSets(journey.history).at(-2)
}

/** When each version last became live (joined the live set), from the publish history. */
export function publishedAt(journey: History): Map<number, string> {
  const at = new Map<number, string>()
  let before = new Set<number>()
  for (const entry of journey.history) {
    const now = new Set(entry.live.map((v) => v.version))
    for (const version of now) if (!before.has(version)) at.set(version, entry.at)
    before = now
  }
  return at
}

/** "v2" or "v2 50% · v3 50%". */
export function liveLabel(live: LiveSet | null): string {
  if (!live || live.length === 0) return '—'
  if (live.length === 1) return `v${live[0]!.version}`
  const total = live.reduce((n, v) => n + v.weight, 0)
  return live.map((v) => `v${v.version} ${Math.round((v.weight / total) * 100)}%`).join(' · ')
}
