import {
  outcomeKey,
  type ActionOutcomes,
  type CandidateAction,
} from '../../domain/predictions/next-action'
import { readSetting, writeSetting } from '../db/settings'

/**
 * The candidate actions, one value in D1's settings, and each arm's outcomes
 * (domain/predictions/next-action.ts outcomeKey) in `action_outcomes`, a row per arm added to in
 * one upsert so concurrent outcomes never lose a count.
 */
export const PREDICTION_ACTIONS_KEY = 'prediction_actions'

export async function readActions(db: D1Database): Promise<CandidateAction[]> {
  return (await readSetting<CandidateAction[]>(db, PREDICTION_ACTIONS_KEY)) ?? []
}

export async function writeActions(db: D1Database, actions: CandidateAction[]) {
  await writeSetting(db, PREDICTION_ACTIONS_KEY, actions)
}

/** Which of `ids` name no segment. */
export async function unknownSegments(db: D1Database, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const { results } = await db
    .prepare('SELECT id FROM segments WHERE id IN (SELECT value FROM json_each(?))')
    .bind(JSON.stringify(ids))
    .all<{ id: string }>()
  const known = new Set(results.map(({ id }) => id))
  return ids.filter((id) => !known.has(id))
}

/** Counts one outcome of the action on its arm; the arm's counts after it. */
export async function recordOutcome(
  db: D1Database,
  action: CandidateAction,
  success: boolean,
): Promise<ActionOutcomes> {
  const [successes, failures] = success ? [1, 0] : [0, 1]
  const row = await db
    .prepare(
      `INSERT INTO action_outcomes (arm, successes, failures, updated_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (arm) DO UPDATE SET
         successes = successes + ?2, failures = failures + ?3, updated_at = ?4
       RETURNING successes, failures`,
    )
    .bind(outcomeKey(action), successes, failures, new Date().toISOString())
    .first<ActionOutcomes>()
  return { successes: row!.successes, failures: row!.failures }
}

/** Every arm's counts, by outcomeKey. */
export async function readOutcomes(db: D1Database): Promise<Map<string, ActionOutcomes>> {
  const { results } = await db
    .prepare('SELECT arm, successes, failures FROM action_outcomes')
    .all<{ arm: string } & ActionOutcomes>()
  return new Map(results.map(({ arm, successes, failures }) => [arm, { successes, failures }]))
}
