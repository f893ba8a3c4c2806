import { WAITING_TYPES, type JourneyDefinition } from './definition'
import type { Problem } from './validate'

/**
 * Moving waiting runs from one version of a journey to another (`POST /api/journeys/:id/migrate
 * {from, to, nodeMap}`). A run waits at a node of its version; the node map says where it waits
 * in the new one. A node the map leaves out moves to the node of the same id when the new
 * version has one of the same type, so a map names only what was renamed. A run cannot wait at
 * a node of another type (a wait's timer is not a waitFor's timeout), so such a map is refused,
 * as is one leaving runs at a node the new version lacks.
 */

/**
 * Every problem with a node map, by path (`nodeMap.<node>`). `waitingAt`: the nodes runs wait
 * at now; without it, every waiting node of `from` is one a run may be at.
 */
export function checkNodeMap(
  from: JourneyDefinition,
  to: JourneyDefinition,
  nodeMap: Record<string, string>,
  waitingAt?: ReadonlySet<string>,
): Problem[] {
  const problems: Problem[] = []
  for (const [node, target] of Object.entries(nodeMap)) {
    const path = `nodeMap.${node}`
    const source = nodeOf(from, node)
    const destination = nodeOf(to, target)
    if (!source) problems.push({ path, message: `no node ${node} in the version migrated from` })
    if (!destination) {
      problems.push({ path, message: `no node ${target} in the version migrated to` })
    }
    if (source && destination && source.type !== destination.type) {
      problems.push({
        path,
        message: `${node} is a ${source.type} node and ${target} a ${destination.type} node: a run waiting at one cannot wait at the other`,
      })
    }
  }
  const waiting =
    waitingAt ??
    new Set(Object.keys(from.nodes).filter((id) => WAITING_TYPES.has(from.nodes[id]!.type)))
  for (const node of waiting) {
    if (Object.hasOwn(nodeMap, node) || mapNode(nodeMap, from, to, node) !== null) continue
    const type = nodeOf(from, node)?.type
    const missing = type ? `no ${type} node ${node}` : `no node ${node}`
    problems.push({
      path: `nodeMap.${node}`,
      message: `runs waiting at ${node} would have nowhere to go: the version migrated to has ${missing}; map it to one`,
    })
  }
  return problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/**
 * The node a run at `node` of `from` moves to in `to`: the map's, else the same id when `to`
 * has it with the same type; null when neither holds (a map naming a node of another type, or
 * none, moves no run).
 */
export function mapNode(
  nodeMap: Record<string, string>,
  from: JourneyDefinition,
  to: JourneyDefinition,
  node: string,
): string | null {
  const type = nodeOf(from, node)?.type
  const target = Object.hasOwn(nodeMap, node) ? nodeMap[node]! : node
  return type !== undefined && nodeOf(to, target)?.type === type ? target : null
}

function nodeOf(definition: JourneyDefinition, id: string) {
  return Object.hasOwn(definition.nodes, id) ? definition.nodes[id] : undefined
}
