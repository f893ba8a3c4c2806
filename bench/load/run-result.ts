import type { Shape, TargetName } from '../config.ts'
import type { CpuUsage } from './cpu.ts'
import type { LatencySummary } from './latency.ts'

/** `first-visit`: single events, each from a contact the target has not seen yet. */
export type RunShape = Shape | 'first-visit'

/** One measured run against one target. */
export interface RunResult {
  target: TargetName
  shape: RunShape
  mode: 'closed' | 'open'
  /** Closed loop: concurrent connections. */
  connections?: number
  /** Open loop: scheduled requests per second. */
  rate?: number
  seconds: number
  /** Requests answered (any status). */
  completed: number
  ok: number
  non2xx: number
  /** Connection errors and timeouts. */
  errors: number
  statusCodes: Record<string, number>
  /** 2xx answers per second. */
  requestsPerSec: number
  /** Accepted events per second. */
  eventsPerSec: number
  accepted: number
  /** Requests whose outcome is unknown (cut off at the end of the run, failed or non-2xx). */
  unknownRequests: number
  latency: LatencySummary
  /** Open loop only: how late the generator itself sent, worst case (ms). */
  maxSendLagMs?: number
  /** Cores used during the run by the load generator, workerd, and the rest of the machine. */
  cpu?: CpuUsage
}
