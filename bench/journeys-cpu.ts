import { call } from './api.ts'
import type { BenchConfig } from './config.ts'
import { LIVE_JOURNEYS } from './journeys-definitions.ts'
import { runTotals, type RunTotals } from './journeys-metrics.ts'
import { entryEventFor, entryRequest } from './journeys-load.ts'
import { createRefs, publishJourneys, type LiveJourney } from './journeys-setup.ts'
import { Ledger } from './load/ledger.ts'
import type { RunResult } from './load/run-result.ts'
import { progress } from './progress.ts'
import { int } from './report.ts'
import { withCairn, type CairnTarget } from './runtime.ts'
import {
  alternatingPairs,
  type FailedRun,
  closedLoopOn,
  warmUp,
  CONNECTIONS,
  MAX_CONTACTS,
  measure,
  measureReturning,
  settle,
} from './segments-live.ts'
import { createWorkload, type BenchRequest } from './workload.ts'

/**
 * What live journeys cost the contact objects per event, measured as the segments section
 * measures live segments (segments-live.ts): the ingest workload's first visits and returning
 * single events at 16 connections on a fresh state, without journeys and with LIVE_JOURNEYS
 * published before the first event; workerd's CPU over the run ÷ events accepted. Both runs
 * create the same templates and segments. Between the first visits and the returning events an
 * entry round (unmeasured, in both runs) sends a product added, a checkout or a newsletter
 * subscription for some of the contacts, so that with journeys live many are already waiting in
 * one when the returning events come: those events then advance runs (an order ends an
 * abandoned-cart wait) as well as start them. Runs come in pairs, the order alternating.
 */

const PHASE = 'journeys'

export type CpuVariant = 'none' | 'live'

export const CPU_VARIANT_LABELS: Record<CpuVariant, string> = {
  none: 'no journeys',
  live: `${LIVE_JOURNEYS.length} journeys`,
}

export interface CpuRun {
  pair: number
  variant: CpuVariant
  firstVisit: RunResult
  entryRound: { requests: number; accepted: number }
  returning: RunResult
  /** Journey messages in D1 by status (and reason) after the run (none without journeys). */
  messages: Record<string, number>
  /** Each live journey's metrics answer after the run, and their runs summed. */
  metrics: { slug: string; id: string; body: unknown }[]
  runs: RunTotals
  workerdLines: number
  workerdKinds: Record<string, number>
}

export function measureJourneyCpu(
  config: BenchConfig,
  pairs: number,
): Promise<{ runs: CpuRun[]; failed: FailedRun[] }> {
  return alternatingPairs(PHASE, pairs, (pair, variant) => {
    progress(PHASE, `CPU pair ${pair}/${pairs}: ${CPU_VARIANT_LABELS[variant]}, fresh state`)
    return withCairn(PHASE, config, (target) => measureRun(target, config, pair, variant))
  })
}

async function measureRun(
  target: CairnTarget,
  config: BenchConfig,
  pair: number,
  variant: CpuVariant,
): Promise<CpuRun> {
  const refs = await createRefs(target)
  let live: LiveJourney[] = []
  if (variant === 'live') {
    live = await publishJourneys(target, LIVE_JOURNEYS, refs)
    progress(PHASE, `published ${live.length} journeys`)
  }
  const contacts = Math.min(config.contacts, MAX_CONTACTS)
  const ledger = new Ledger()
  const workload = createWorkload({
    contacts,
    activeVisitors: config.activeVisitors,
    batchSize: config.batchSize,
    seed: config.seed,
    writeKey: target.writeKey,
  })
  const firstVisits: BenchRequest[] = []
  const closedLoop = closedLoopOn(target, config, ledger)
  const label = `${CPU_VARIANT_LABELS[variant]}, pair ${pair}`
  await warmUp(target, config, ledger, label, closedLoop)
  const firstVisit = await measure(
    target,
    config,
    `${label}: first visits of ${int(contacts)} contacts, ${CONNECTIONS} connections`,
    () =>
      closedLoop(
        'first visits',
        () => {
          const request = workload.firstVisit()
          if (firstVisits.length < contacts) firstVisits.push(request)
          return request
        },
        0,
        contacts,
        'first-visit',
      ),
  )
  await settle(target, ledger, config)

  const entries = firstVisits.flatMap((request, n) => {
    const entry = entryEventFor(n)
    return entry ? [entryRequest(request, entry.event, entry.properties)] : []
  })
  progress(PHASE, `${label}: entry round, ${int(entries.length)} events (not measured)`)
  const acceptedBefore = ledger.accepted
  let sent = 0
  await closedLoop('entry round', () => entries[sent++ % entries.length]!, 0, entries.length)
  const entryRound = { requests: entries.length, accepted: ledger.accepted - acceptedBefore }
  await settle(target, ledger, config)

  const returning = await measureReturning(
    target,
    config,
    ledger,
    label,
    workload.single,
    closedLoop,
  )
  const statuses = await target.db
    .prepare(
      'SELECT status, reason, count(*) AS n FROM messages WHERE journey_id IS NOT NULL GROUP BY status, reason',
    )
    .all<{ status: string; reason: string | null; n: number }>()
  const metrics = []
  for (const journey of live) {
    const answer = await call(
      target,
      'GET',
      `/api/journeys/${encodeURIComponent(journey.id)}/metrics`,
    )
    metrics.push({ slug: journey.slug, id: journey.id, body: answer.body })
  }
  return {
    pair,
    variant,
    firstVisit,
    entryRound,
    returning,
    messages: Object.fromEntries(
      statuses.results.map((row) => [
        row.reason ? `${row.status} (${row.reason.slice(0, 40)})` : row.status,
        row.n,
      ]),
    ),
    metrics,
    runs: runTotals(metrics.map((m) => m.body)),
    workerdLines: target.runtimeOutput.lines,
    workerdKinds: target.runtimeOutput.kinds,
  }
}
