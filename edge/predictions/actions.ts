import {
  outcomeKey,
  type ActionOutcomes,
  type CandidateAction,
} from '../../domain/predictions/next-action'
import { readSetting, writeSetting } from '../db/settings'

/**
 * The candidate actions and their outcomes, in D1's settings: the actions as one value, each
 * arm's counts (domain/predictions/next-action.ts outcomeKey) as a value of its own, added to
 * in one upsert so concurrent outcomes never lose a count. A table of its own would serve
 * better once journeys (#24) record outcomes at volume.
 */
export const PREDICTION_ACTIONS_KEY = 'prediction_actions'
const OUTCOMES_PREFIX = 'prediction_action_outcomes:'

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
      `INSERT INTO settings (key, value, updated_at)
       VALUES (?1, json_object('successes', ?2, 'failures', ?3), ?4)
       ON CONFLICT (key) DO UPDATE SET
         value = json_object(
           'successes', json_extract(value, '$.successes') + ?2,
           'failures', json_extract(value, '$.failures') + ?3),
         updated_at = ?4
       RETURNING value`,
    )
    .bind(OUTCOMES_PREFIX + outcomeKey(action), successes, failures, new Date().toISOString())
    .first<{ value: string }>()
  return JSON.parse(row!.value) as ActionOutcomes
}

/** Every arm's counts, by outcomeKey. */
export async function readOutcomes(db: D1Database): Promise<Map<string, ActionOutcomes>> {
  const { results } = await db
    .prepare(`SELECT substr(key, ?1) AS arm, value FROM settings WHERE key LIKE ?2`)
    .bind(OUTCOMES_PREFIX.length + 1, `${OUTCOMES_PREFIX}%`)
    .all<{ arm: string; value: string }>()
  return new Map(results.map(({ arm, value }) => [arm, JSON.parse(value) as ActionOutcomes]))
}
