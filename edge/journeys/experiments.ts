import { decideWinner } from '../../domain/journeys/experiment'
import type { Env } from '../env'
import { forgetJourneyConfig, journeyConfig, journeyDefinition, journeysChanged } from './config'

/**
 * Experiment nodes' decisions: once each path of an undecided experiment in a live version has
 * its `minPerPath` runs and the goal rates differ significantly (domain/journeys/experiment.ts
 * says which test), the best path is declared the winner, kept in journey_experiments, and the
 * configuration's generation moves so contact objects send later entrants down it. The counts
 * are D1's runs (journey_runs.paths names each experiment node's path; converted runs reached
 * the goal), so they are exact, as the queue projected them.
 */

export interface ExperimentDecision {
  version: number
  node: string
  winner: string | null
  pValue: number | null
  reason: string
  test: string
  paths: { name: string; entered: number; converted: number }[]
}

/**
 * Looks at every undecided experiment of the journey's live versions and stores what it finds;
 * answers those looked at. A winner already stored is never replaced.
 */
export async function decideExperiments(
  env: Pick<Env, 'DB'>,
  journeyId: string,
): Promise<ExperimentDecision[]> {
  const journey = (await journeyConfig(env)).journeys.find((j) => j.id === journeyId)
  if (!journey) return []
  const open: { version: number; node: string; paths: string[]; minPerPath: number }[] = []
  for (const { version } of journey.live) {
    const definition = await journeyDefinition(env, journeyId, version)
    for (const [node, spec] of Object.entries(definition?.nodes ?? {})) {
      if (spec.type !== 'experiment' || journey.winners[`${version}:${node}`]) continue
      open.push({
        version,
        node,
        paths: spec.paths.map((p) => p.name),
        minPerPath: spec.minPerPath,
      })
    }
  }
  if (open.length === 0) return []

  const counts = await env.DB.prepare(
    `SELECT r.version, p.key AS node, p.value AS path, COUNT(*) AS entered,
       COUNT(*) FILTER (WHERE r.converted) AS converted
     FROM journey_runs AS r, json_each(r.paths) AS p
     WHERE r.journey_id = ?1 AND r.version IN (SELECT value FROM json_each(?2))
     GROUP BY r.version, p.key, p.value`,
  )
    .bind(journeyId, JSON.stringify([...new Set(open.map((o) => o.version))]))
    .all<{ version: number; node: string; path: string; entered: number; converted: number }>()
  const byPath = new Map(
    counts.results.map((row) => [`${row.version}:${row.node}:${row.path}`, row]),
  )

  const now = new Date().toISOString()
  const decisions = open.map(({ version, node, paths, minPerPath }): ExperimentDecision => {
    const tallies = paths.map((name) => {
      const row = byPath.get(`${version}:${node}:${name}`)
      return { name, entered: row?.entered ?? 0, converted: row?.converted ?? 0 }
    })
    const decision = decideWinner(tallies, minPerPath)
    return { version, node, ...decision, paths: tallies }
  })
  const statements = decisions.map((d) =>
    env.DB.prepare(
      `INSERT INTO journey_experiments (journey_id, version, node, winner, p_value, decided_at,
         stats)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (journey_id, version, node) DO UPDATE SET winner = excluded.winner,
         p_value = excluded.p_value, decided_at = excluded.decided_at, stats = excluded.stats
       WHERE journey_experiments.winner IS NULL`,
    ).bind(
      journeyId,
      d.version,
      d.node,
      d.winner,
      d.pValue !== null && Number.isFinite(d.pValue) ? d.pValue : null,
      d.winner ? now : null,
      JSON.stringify({ paths: d.paths, reason: d.reason, test: d.test, at: now }),
    ),
  )
  const declared = decisions.some((d) => d.winner !== null)
  await env.DB.batch(declared ? [...statements, journeysChanged(env.DB)] : statements)
  if (declared) forgetJourneyConfig()
  return decisions
}

/** Every experiment node looked at so far, decided or not, with its latest tallies. */
export async function experimentDecisions(db: D1Database, id: string) {
  const { results } = await db
    .prepare(
      `SELECT version, node, winner, p_value, stats FROM journey_experiments
       WHERE journey_id = ? ORDER BY version, node`,
    )
    .bind(id)
    .all<{
      version: number
      node: string
      winner: string | null
      p_value: number | null
      stats: string
    }>()
  return results.map((row) => {
    const stats = JSON.parse(row.stats) as {
      paths: { name: string; entered: number; converted: number }[]
      reason: string
      test: string
    }
    return {
      version: row.version,
      node: row.node,
      winner: row.winner,
      pValue: row.p_value,
      reason: stats.reason,
      test: stats.test,
      paths: stats.paths,
    }
  })
}
