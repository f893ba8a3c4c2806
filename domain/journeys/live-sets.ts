/**
 * A journey's live set (the versions new entrants take, by weight) through its publish history:
 * what a rollback returns to. Pure, so the console names the version a rollback makes live with
 * the rule the server applies (edge/journeys/store.ts).
 */

export type LiveSet = { version: number; weight: number }[]
export type PublishAction = 'publish' | 'rollback' | 'promote' | 'pause' | 'resume'

/**
 * The live sets a rollback may return to, the current one last: each publish or promote adds
 * one, each rollback takes the last off; pause and resume change none.
 */
export function liveSets(history: readonly { live: LiveSet; action: PublishAction }[]): LiveSet[] {
  const sets: LiveSet[] = []
  for (const entry of history) {
    if (entry.action === 'publish' || entry.action === 'promote') sets.push(entry.live)
    else if (entry.action === 'rollback') sets.pop()
  }
  return sets
}
