import type { JourneyMetrics, NodeMetrics, VersionMetrics } from '../../contracts/journey-metrics'
import type { JourneyDefinition } from '../../domain/journeys/definition'
import type { LiveSet } from './store'

/**
 * A journey's metrics per version and node, counted exactly from the runs and steps the contact
 * objects reported through the queue (D1's journey_runs and journey_steps) and the messages its
 * email nodes made (messages.journey_version, journey_node): one batch of grouped queries,
 * whatever the number of nodes. A run counts under the version it is on now (a migration moves
 * it); a step under the version it was taken in.
 */

/** Null when there is no such journey. */
export async function journeyMetrics(
  db: D1Database,
  journeyId: string,
): Promise<JourneyMetrics | null> {
  const results = await db.batch([
    db.prepare('SELECT live FROM journeys WHERE id = ?').bind(journeyId),
    db
      .prepare(
        'SELECT version, definition FROM journey_versions WHERE journey_id = ? ORDER BY version',
      )
      .bind(journeyId),
    db
      .prepare(
        `SELECT version, COUNT(*) AS entered,
           COUNT(*) FILTER (WHERE state = 'active') AS active,
           COUNT(*) FILTER (WHERE state = 'completed') AS completed,
           COUNT(*) FILTER (WHERE state = 'exited') AS exited,
           COUNT(*) FILTER (WHERE converted) AS converted
         FROM journey_runs WHERE journey_id = ? GROUP BY version`,
      )
      .bind(journeyId),
    // Where runs are now: held at a node, or ended there.
    db
      .prepare(
        `SELECT version, node,
           COUNT(*) FILTER (WHERE state = 'active' AND waiting) AS waiting,
           COUNT(*) FILTER (WHERE state != 'active') AS exited
         FROM journey_runs WHERE journey_id = ? AND node IS NOT NULL GROUP BY version, node`,
      )
      .bind(journeyId),
    // Where runs have been: a node's steps name it, with the next node when it was left.
    db
      .prepare(
        `SELECT s.version, s.node, COUNT(DISTINCT s.run_id) AS entered,
           COUNT(DISTINCT CASE WHEN s.next IS NOT NULL THEN s.run_id END) AS progressed,
           COUNT(DISTINCT CASE WHEN r.converted THEN s.run_id END) AS converted
         FROM journey_steps AS s LEFT JOIN journey_runs AS r ON r.id = s.run_id
         WHERE s.journey_id = ? GROUP BY s.version, s.node`,
      )
      .bind(journeyId),
    db
      .prepare(
        `SELECT journey_version AS version, journey_node AS node, status, COUNT(*) AS n
         FROM messages WHERE journey_id = ? AND journey_node IS NOT NULL
         GROUP BY journey_version, journey_node, status`,
      )
      .bind(journeyId),
  ])
  const [journeyRows, versionRows, runRows, positionRows, stepRows, messageRows] = results as [
    D1Result<{ live: string | null }>,
    D1Result<{ version: number; definition: string }>,
    D1Result<RunCounts & { version: number }>,
    D1Result<{ version: number; node: string; waiting: number; exited: number }>,
    D1Result<{
      version: number
      node: string
      entered: number
      progressed: number
      converted: number
    }>,
    D1Result<{ version: number; node: string; status: string; n: number }>,
  ]
  const journey = journeyRows.results[0]
  if (!journey) return null
  const live = new Map(
    ((journey.live ? JSON.parse(journey.live) : []) as LiveSet).map((e) => [e.version, e.weight]),
  )
  const runs = new Map(runRows.results.map((row) => [row.version, row]))
  const versions = versionRows.results.map((row) => {
    const definition = JSON.parse(row.definition) as JourneyDefinition
    const counts = runs.get(row.version) ?? NO_RUNS
    const ended = counts.completed + counts.exited
    const nodes: Record<string, NodeMetrics> = {}
    for (const [id, node] of Object.entries(definition.nodes)) {
      nodes[id] = {
        type: node.type,
        entered: 0,
        waiting: 0,
        progressed: 0,
        exited: 0,
        converted: 0,
      }
      if (node.type === 'email') nodes[id].messages = {}
    }
    return {
      version: row.version,
      live: live.has(row.version),
      weight: live.get(row.version) ?? 0,
      entered: counts.entered,
      active: counts.active,
      completed: counts.completed,
      exited: counts.exited,
      converted: counts.converted,
      completionRate: ended > 0 ? counts.completed / ended : null,
      conversionRate: counts.entered > 0 ? counts.converted / counts.entered : null,
      nodes,
    } satisfies VersionMetrics
  })
  const byVersion = new Map(versions.map((v) => [v.version, v.nodes]))
  // Nodes a version no longer has (a run reported before its node map moved it) are not shown.
  const nodeOf = (version: number, node: string) => byVersion.get(version)?.[node]
  for (const row of positionRows.results) {
    const node = nodeOf(row.version, row.node)
    if (!node) continue
    node.waiting = row.waiting
    node.exited = row.exited
  }
  for (const row of stepRows.results) {
    const node = nodeOf(row.version, row.node)
    if (!node) continue
    node.entered = row.entered
    node.progressed = row.progressed
    node.converted = row.converted
  }
  for (const row of messageRows.results) {
    const messages = nodeOf(row.version, row.node)?.messages
    if (messages) messages[row.status] = row.n
  }
  return { versions }
}

interface RunCounts {
  entered: number
  active: number
  completed: number
  exited: number
  converted: number
}

const NO_RUNS: RunCounts = { entered: 0, active: 0, completed: 0, exited: 0, converted: 0 }
