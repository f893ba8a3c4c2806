import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { freePort } from '../scripts/local-stack.ts'
import { evictionsBefore, expectStatus, quietBefore } from './api.ts'
import { CAIRN_SCRIPT } from './build.ts'
import type { BenchConfig } from './config.ts'
import { countOf } from './drain.ts'
import { runClosedLoop } from './load/closed-loop.ts'
import { cpuSnapshot, cpuUsage } from './load/cpu.ts'
import { Ledger } from './load/ledger.ts'
import type { RunResult } from './load/run-result.ts'
import { profileIsolate, timeEntered } from './profile.ts'
import { progress, sleep } from './progress.ts'
import { int } from './report.ts'
import { runtimeGone, withCairn, type CairnTarget } from './runtime.ts'
import { LIVE_SEGMENTS, withIds } from './segments-rules.ts'
import type { Check } from './sections/section.ts'
import { createWorkload, warmUpWorkload, type BenchRequest } from './workload.ts'

/**
 * What live segments cost the contact objects per event: the ingest section's first visits and
 * returning single events at 16 connections, the same seeded workload on a fresh state, without
 * segments and with LIVE_SEGMENTS created through `POST /api/segments` before the first event.
 * workerd's CPU per event is measured as the ingest section measures it (its process's CPU over
 * the run ÷ events accepted), so it holds the objects' evaluation, the Segment Entered / Exited
 * events they write and the queue consumer's share of carrying those to D1. Runs come in pairs,
 * the order alternating from pair to pair, so drift on this shared machine favours neither.
 */

const PHASE = 'segments'
export const CONNECTIONS = 16
/**
 * Contacts of the workload, at most: with 10,000 first visits at once workerd runs short of
 * SQLite memory and answers many with 503s (bench/results/2026-12-06-ingest-full-run.md), and
 * the CPU those cost would decide the comparison rather than the segments.
 */
export const MAX_CONTACTS = 2000
/** Events Cairn writes itself (contracts/stored-event.ts CAIRN_SOURCE): membership changes. */
const CAIRN_SOURCE = 'cairn'

export type Variant = 'none' | 'live'

export const VARIANT_LABELS: Record<Variant, string> = {
  none: 'no segments',
  live: `${LIVE_SEGMENTS.length} segments`,
}

export interface LiveRun {
  pair: number
  variant: Variant
  firstVisit: RunResult
  returning: RunResult
  /** After the run: segment_members rows and the segments they belong to, membership events in D1. */
  members: number
  segmentsWithMembers: number
  membershipEvents: number
  /** What workerd printed during the run, by kind (runtime.ts). */
  workerdLines: number
  workerdKinds: Record<string, number>
  /** With `objectCpu`: each measured run's profile, the contact objects' part and the whole. */
  objectCpu: Partial<Record<PairShape, ObjectCpu>>
}

/** The two measured runs of every pair run. */
export type PairShape = 'firstVisit' | 'returning'

export interface ObjectCpu {
  /** ms of the isolate's busy time spent in the contact objects, per accepted event. */
  objectMsPerEvent: number
  busyMsPerEvent: number
}

/**
 * Code that runs in the contact objects only: everything under durable/ but the other objects'
 * classes (the identity directory, audit sequencer, provider health, live-stream slots).
 */
export function inContactObject(source: string): boolean {
  return (
    source.startsWith('durable/') &&
    !/^durable\/(identity-directory|audit-sequencer|provider-health|live-stream-slots)\b/.test(
      source,
    )
  )
}
/**
 * A sample a millisecond: over a first-visit run of a minute or more the inspector's default
 * quarter millisecond made a profile it did not hand over within a minute.
 */
const PROFILE_INTERVAL_US = 1000
/** The isolate Cairn's Worker, its objects and its consumer share under miniflare. */
const CAIRN_ISOLATE = 'core:user:cairn'

/**
 * The pairs; with `objectCpu`, workerd runs with its inspector open and each measured run is
 * profiled, to tell the contact objects' CPU from the rest (the inspector slows every run alike).
 */
export function measureLiveSegments(
  config: BenchConfig,
  pairs: number,
  { objectCpu = false }: { objectCpu?: boolean } = {},
): Promise<{ runs: LiveRun[]; failed: FailedRun[] }> {
  return alternatingPairs(PHASE, pairs, async (pair, variant) => {
    progress(PHASE, `ingest pair ${pair}/${pairs}: ${VARIANT_LABELS[variant]}, fresh state`)
    const inspectorPort = objectCpu ? await freePort() : undefined
    return withCairn(
      PHASE,
      config,
      (target) => measureRun(target, config, pair, variant, inspectorPort),
      { inspectorPort },
    )
  })
}

/**
 * Requests a second the returning runs are sized by: each sends its duration (or warm-up) times
 * this many. A count, not a duration: both runs of a pair then send the same seeded requests, so
 * a slower variant is not charged for handling fewer of them. Over a fixed time it was: the
 * objects it wakes (about one per visitor in session, each woken once) were shared among fewer
 * events, and in the quick run of 2026-12-07 waking alone cost 0.61 ms per event without
 * segments and 0.98 ms with them, the same wake-ups in total (bench/results/2026-12-07-segments.md).
 */
export const RETURNING_RATE = 300

/** A closed loop of the CPU pairs: for `seconds`, or `amount` requests (capped at firstVisitMax). */
export type ClosedLoop = (
  label: string,
  next: () => BenchRequest,
  seconds: number,
  amount?: number,
  shape?: 'single' | 'first-visit',
) => Promise<RunResult>

/** The closed loop at CONNECTIONS on `target`, its accepted events counted in `ledger`. */
export function closedLoopOn(target: CairnTarget, config: BenchConfig, ledger: Ledger): ClosedLoop {
  return (label, next, seconds, amount, shape = 'single') =>
    runClosedLoop({
      target: 'cairn',
      url: target.url,
      shape,
      connections: CONNECTIONS,
      seconds,
      ...(amount === undefined ? {} : { amount, maxSeconds: config.firstVisitMax }),
      next,
      ledger,
      label,
    })
}

/** Returning contacts' single events, warmed up first, then settled. */
export async function measureReturning(
  target: CairnTarget,
  config: BenchConfig,
  ledger: Ledger,
  label: string,
  single: () => BenchRequest,
  closedLoop: ClosedLoop,
  /** Wraps the measured run (not its warm-up): segments-live profiles it with --object-cpu. */
  measured: (run: () => Promise<RunResult>) => () => Promise<RunResult> = (run) => run,
): Promise<RunResult> {
  const requests = config.duration * RETURNING_RATE
  const warmUp = config.warmup * RETURNING_RATE
  const returning = await measure(
    target,
    config,
    `${label}: ${int(requests)} returning single events, ${CONNECTIONS} connections`,
    measured(() => closedLoop('single c16', single, config.duration, requests)),
    warmUp > 0 ? () => closedLoop('warm-up single c16', single, config.warmup, warmUp) : undefined,
  )
  await settle(target, ledger, config)
  return returning
}

/** Other contacts' events first, so the measured run starts on a warm runtime. */
export async function warmUp(
  target: CairnTarget,
  config: BenchConfig,
  ledger: Ledger,
  label: string,
  closedLoop: ClosedLoop,
) {
  if (config.warmup <= 0) return
  const warmup = warmUpWorkload(config, target.writeKey)
  progress(PHASE, `${label}: warm-up ${config.warmup} s (other contacts)`)
  await closedLoop('warm-up', warmup.single, config.warmup)
  await settle(target, ledger, config)
}

/** A run of a pair that ended in an error (workerd crashed, a profile was never handed over). */
export interface FailedRun {
  pair: number
  variant: Variant
  error: string
}

/**
 * Runs without and with the thing measured, in pairs whose order alternates, so drift on this
 * shared machine favours neither. A run that fails is left out and the next starts on a fresh
 * workerd: the local runtime can crash in a burst of first visits (SQLite's process-wide heap,
 * bench/results/2026-11-25-memory-and-crashes.md), and that once lost the pairs already measured.
 */
export async function alternatingPairs<R>(
  phase: string,
  pairs: number,
  run: (pair: number, variant: Variant) => Promise<R>,
): Promise<{ runs: R[]; failed: FailedRun[] }> {
  const runs: R[] = []
  const failed: FailedRun[] = []
  for (let pair = 1; pair <= pairs; pair++) {
    const order: Variant[] = pair % 2 === 1 ? ['none', 'live'] : ['live', 'none']
    for (const variant of order) {
      try {
        runs.push(await run(pair, variant))
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        progress(phase, `pair ${pair}, ${variant}: failed, left out (${message})`)
        failed.push({ pair, variant, error: message })
      }
    }
  }
  return { runs, failed }
}

/** The runs left out, for a section's summary and its check. */
export function failedRuns(
  failed: readonly FailedRun[],
  labels: Record<Variant, string>,
): { lines: string[]; check: Check } {
  const lines = failed.map(
    (run) => `  pair ${run.pair}, ${labels[run.variant]}: failed and left out (${run.error})`,
  )
  return {
    lines,
    check: {
      name: 'every run of the pairs completed',
      ok: failed.length === 0,
      detail: failed.length === 0 ? 'all did' : `${failed.length} left out: ${lines.join('; ')}`,
    },
  }
}

async function measureRun(
  target: CairnTarget,
  config: BenchConfig,
  pair: number,
  variant: Variant,
  inspectorPort?: number,
): Promise<LiveRun> {
  if (variant === 'live') await createSegments(target)
  const contacts = Math.min(config.contacts, MAX_CONTACTS)
  const ledger = new Ledger()
  const workload = createWorkload({
    contacts,
    activeVisitors: config.activeVisitors,
    batchSize: config.batchSize,
    seed: config.seed,
    writeKey: target.writeKey,
  })
  const closedLoop = closedLoopOn(target, config, ledger)
  const label = `${VARIANT_LABELS[variant]}, pair ${pair}`
  const objectCpu: LiveRun['objectCpu'] = {}
  // With the inspector open, a measured run is profiled as well (never a warm-up).
  const profiled =
    (shape: PairShape, run: () => Promise<RunResult>) => async (): Promise<RunResult> => {
      if (inspectorPort === undefined) return run()
      const { profile, result } = await profileIsolate(
        inspectorPort,
        CAIRN_ISOLATE,
        run,
        PROFILE_INTERVAL_US,
      )
      writeFileSync(
        `bench/results/segments-${variant}-${shape}.cpuprofile`,
        JSON.stringify(profile),
      )
      const { busyMs, enteredMs } = timeEntered(profile, inContactObject, CAIRN_SCRIPT)
      const events = Math.max(1, result.accepted)
      objectCpu[shape] = { objectMsPerEvent: enteredMs / events, busyMsPerEvent: busyMs / events }
      progress(
        PHASE,
        `profile: ${(enteredMs / events).toFixed(2)} ms/event in the contact objects, of ` +
          `${(busyMs / events).toFixed(2)} ms/event the isolate was busy`,
      )
      return result
    }
  await warmUp(target, config, ledger, label, closedLoop)
  const firstVisit = await measure(
    target,
    config,
    `${label}: first visits of ${int(contacts)} contacts, ${CONNECTIONS} connections`,
    profiled('firstVisit', () =>
      closedLoop('first visits', workload.firstVisit, 0, contacts, 'first-visit'),
    ),
  )
  await settle(target, ledger, config)
  const returning = await measureReturning(
    target,
    config,
    ledger,
    label,
    workload.single,
    closedLoop,
    (run) => profiled('returning', run),
  )
  const members = await target.db
    .prepare('SELECT count(*) AS n, count(DISTINCT segment_id) AS segments FROM segment_members')
    .first<{ n: number; segments: number }>()
  const membershipEvents = await countOf(
    target.db,
    'SELECT count(*) AS n FROM events WHERE source_id = ?',
    CAIRN_SOURCE,
  )
  return {
    pair,
    variant,
    firstVisit,
    returning,
    members: members?.n ?? 0,
    segmentsWithMembers: members?.segments ?? 0,
    membershipEvents,
    workerdLines: target.runtimeOutput.lines,
    workerdKinds: target.runtimeOutput.kinds,
    objectCpu,
  }
}

/** In order, so each `inSegment` names a segment created before it. */
async function createSegments(target: CairnTarget) {
  const ids = new Map<string, string>()
  for (const segment of LIVE_SEGMENTS) {
    const created = await expectStatus<{ id: string }>(201, target, 'POST', '/api/segments', {
      body: { name: segment.name, rule: withIds(segment.rule, ids) },
    })
    ids.set(segment.slug, created.body.id)
  }
  progress(PHASE, `created ${ids.size} segments through POST /api/segments`)
}

/** As the ingest section measures a run: objects evicted and the machine quiet first. */
export async function measure(
  target: CairnTarget,
  config: BenchConfig,
  describe: string,
  run: () => Promise<RunResult>,
  warmUp?: () => Promise<RunResult>,
): Promise<RunResult> {
  await evictionsBefore(target, PHASE)
  await quietBefore(config, PHASE)
  if (warmUp) {
    progress(PHASE, `warm-up: the same load for ${config.warmup} s`)
    await warmUp()
  }
  progress(PHASE, describe)
  const before = cpuSnapshot()
  const result = await run()
  result.cpu = cpuUsage(before, cpuSnapshot(), cpus().length)
  if (await runtimeGone(target)) throw new Error(`workerd stopped answering during: ${describe}`)
  const perEvent = cpuPerEvent(result)
  progress(
    PHASE,
    `${int(result.requestsPerSec)} req/s, non-2xx ${result.non2xx}, errors ${result.errors}, ` +
      `workerd ${result.cpu.runtime?.toFixed(2) ?? '-'} cores, ` +
      `${perEvent === null ? '-' : perEvent.toFixed(2)} ms/event, other ${result.cpu.other?.toFixed(2) ?? '-'} cores`,
  )
  return result
}

/** workerd's CPU per event (ms), as the ingest section computes it. */
export function cpuPerEvent(run: RunResult): number | null {
  const used = run.cpu?.runtime
  if (used === null || used === undefined || run.eventsPerSec <= 0) return null
  return (used * 1000) / run.eventsPerSec
}

/** Requests not answered 2xx, or not answered. */
export function failures(run: RunResult): number {
  return run.non2xx + run.errors
}

/** The columns every CPU pair table opens with (the segments and journeys sections). */
export function pairHead(variantColumn: string): string[] {
  return [
    'pair',
    variantColumn,
    'first visit req/s',
    'ms/event',
    'returning req/s',
    'ms/event',
    'non-2xx',
    'other',
  ]
}

/** A pair run's cells under pairHead, its variant's label after the pair number. */
export function pairCells(
  run: { pair: number; firstVisit: RunResult; returning: RunResult },
  label: string,
): string[] {
  const cpu = (r: RunResult) => cpuPerEvent(r)?.toFixed(2) ?? '-'
  const other = (r: RunResult) => r.cpu?.other?.toFixed(2) ?? '-'
  return [
    `${run.pair}`,
    label,
    int(run.firstVisit.requestsPerSec),
    cpu(run.firstVisit),
    int(run.returning.requestsPerSec),
    cpu(run.returning),
    `${failures(run.firstVisit)} / ${failures(run.returning)}`,
    `${other(run.firstVisit)} / ${other(run.returning)}`,
  ]
}

/**
 * Waits until D1 holds the accepted events, so a run does not inherit the last one's queue.
 * The harness's drain counts every event row, and Segment Entered / Exited rows would be taken
 * for the workload's; these are left out by their source.
 */
export async function settle(target: CairnTarget, ledger: Ledger, config: BenchConfig) {
  const started = performance.now()
  let reported = 0
  for (;;) {
    const stored = await countOf(
      target.db,
      'SELECT count(*) AS n FROM events WHERE source_id <> ?',
      CAIRN_SOURCE,
    )
    const waited = (performance.now() - started) / 1000
    if (stored >= ledger.accepted) return
    if (waited > config.drainTimeout) {
      progress(
        PHASE,
        `D1 still ${int(ledger.accepted - stored)} events short after ${waited.toFixed(0)} s`,
      )
      return
    }
    if (waited - reported >= 3) {
      reported = waited
      progress(PHASE, `D1 events ${int(stored)} of ${int(ledger.accepted)} accepted`)
    }
    await sleep(500)
  }
}
