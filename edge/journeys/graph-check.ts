import { ALL_MARKETING_GROUP, TRANSACTIONAL_GROUP } from '../../contracts/messaging'
import type { JourneyDefinition } from '../../domain/journeys/definition'
import { validateGraph } from '../../domain/journeys/validate'
import { ApiError } from '../errors'

/**
 * A definition that parsed is checked as a graph before it is saved or simulated: every next
 * exists, every node is reachable, no loop runs without a wait, and each template, segment, list
 * and subscription group it names exists now. Every problem is answered at once, each with its
 * path, so a marketer fixes them in one go.
 */
export async function checkGraph(db: D1Database, definition: JourneyDefinition): Promise<void> {
  const problems = validateGraph(definition, await knownReferences(db))
  if (problems.length === 0) return
  const named = problems.map((problem) => `${problem.path}: ${problem.message}`)
  throw new ApiError(400, 'invalid_journey', `Invalid journey: ${named.join('; ')}`, {
    issues: problems,
  })
}

/** What a definition may name, as D1 holds it now. */
async function knownReferences(db: D1Database) {
  const ids = (sql: string) => db.prepare(sql)
  const [templates, segments, lists, groups] = (await db.batch([
    ids('SELECT id FROM templates'),
    ids('SELECT id FROM segments'),
    ids('SELECT id FROM lists'),
    ids('SELECT id FROM subscription_groups'),
  ])) as D1Result<{ id: string }>[]
  const set = (result: D1Result<{ id: string }> | undefined) =>
    new Set(result!.results.map((row) => row.id))
  return {
    templates: set(templates),
    segments: set(segments),
    lists: set(lists),
    subscriptionGroups: new Set([ALL_MARKETING_GROUP, TRANSACTIONAL_GROUP, ...set(groups)]),
  }
}
