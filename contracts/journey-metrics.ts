import type { NodeType } from '../domain/journeys/definition'

/**
 * `GET /api/journeys/:id/metrics` as types only, shared by the Worker that answers it
 * (edge/journeys/metrics.ts) and the console that draws it.
 */

export interface NodeMetrics {
  type: NodeType
  /** Runs that reached the node. */
  entered: number
  /** Active runs held there now (a wait, waitUntil or waitFor). */
  waiting: number
  /** Runs that left it for a next node. */
  progressed: number
  /** Runs that ended there. */
  exited: number
  /** Runs that passed it and reached the goal. */
  converted: number
  /** Email nodes: their messages by status. */
  messages?: Record<string, number>
}

export interface VersionMetrics {
  version: number
  live: boolean
  /** Its weight in the live set; 0 when not live. */
  weight: number
  entered: number
  active: number
  completed: number
  exited: number
  converted: number
  /** completed ÷ (completed + exited); null while no run ended. */
  completionRate: number | null
  /** converted ÷ entered; null while no run entered. */
  conversionRate: number | null
  nodes: Record<string, NodeMetrics>
}

export interface JourneyMetrics {
  versions: VersionMetrics[]
}
