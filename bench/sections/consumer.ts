import { cores, quietBefore, summarize, withCpu } from '../api.ts'
import type { BenchConfig } from '../config.ts'
import type { LatencySummary } from '../load/latency.ts'
import { progress } from '../progress.ts'
import { int, ms, table } from '../report.ts'
import { CONSUMER_DRIVER_PATH, withCairn, type CairnTarget } from '../runtime.ts'
import type { DriverPlan, DriverResult } from '../workers/consumer-driver.ts'
import type { Check, Section } from './section.ts'

/**
 * What the events queue's consumer costs per batch: Cairn's consumer (`consumeEvents`: D1 rows,
 * rollups, contact snapshots, touches and the R2 archive object, in one D1 transaction per
 * batch) against a baseline that writes the same events' D1 rows alone, at two batch sizes, on
 * a D1 already holding earlier events. Locally the consumer runs on workerd's one thread beside
 * ingestion, and the time one batch holds it is what requests arriving meanwhile wait (bench/results/2026-11-25-consumer.md); on Cloudflare it runs apart, and D1's one writer applies every batch in turn,
 * so events per second of one serial writer bound the event stream there.
 */

const PHASE = 'consumer'
const BATCH_SIZES = [25, 50, 100]
const MODES: DriverPlan['mode'][] = ['consumer', 'rows', 'none']
const LABELS: Record<DriverPlan['mode'], string> = {
  consumer: "Cairn's consumer",
  rows: 'D1 rows alone',
  none: 'making the batches alone',
}

interface Plan {
  contacts: number
  /** Events applied unmeasured first, so D1's tables and indexes are not empty. */
  warmupEvents: number
  /** Events per measured run (one per mode and batch size). */
  events: number
}

function planFor(config: BenchConfig): Plan {
  return config.quick
    ? { contacts: 1_000, warmupEvents: 2_000, events: 1_000 }
    : { contacts: 10_000, warmupEvents: 20_000, events: 10_000 }
}

interface ConsumerRun {
  mode: DriverPlan['mode']
  batchSize: number
  events: number
  batch: LatencySummary
  meanMs: number
  /** workerd's CPU over the run, cores, and per event, ms (making the batches included). */
  runtimeCores: number | null
  cpuMsPerEvent: number | null
  otherCores: number | null
}

export const consumerSection: Section = {
  name: 'consumer',
  run(config) {
    const plan = planFor(config)
    return withCairn(PHASE, config, (target) => measureConsumer(target, plan, config), {
      consumerDriver: true,
    })
  },
}

async function measureConsumer(target: CairnTarget, plan: Plan, config: BenchConfig) {
  const sourceId = `bench-consumer-${Date.now()}`
  progress(PHASE, `warm-up: ${int(plan.warmupEvents)} events through the consumer, unmeasured`)
  await drive(target, {
    mode: 'consumer',
    batchSize: 100,
    batches: plan.warmupEvents / 100,
    contacts: plan.contacts,
    sourceId: `${sourceId}-warmup`,
  })
  const runs: ConsumerRun[] = []
  for (const batchSize of BATCH_SIZES) {
    for (const mode of MODES) {
      await quietBefore(config, PHASE)
      progress(PHASE, `${LABELS[mode]}: ${int(plan.events)} events in batches of ${batchSize}`)
      runs.push(await measure(target, plan, { mode, batchSize, sourceId }))
    }
  }
  const stored = await storedEvents(target, `${sourceId}-consumer`)
  return summarise(plan, runs, stored, config)
}

async function measure(
  target: CairnTarget,
  plan: Plan,
  run: { mode: DriverPlan['mode']; batchSize: number; sourceId: string },
): Promise<ConsumerRun> {
  const started = performance.now()
  const { result, cpu } = await withCpu(() =>
    drive(target, {
      mode: run.mode,
      batchSize: run.batchSize,
      batches: Math.ceil(plan.events / run.batchSize),
      contacts: plan.contacts,
      sourceId: `${run.sourceId}-${run.mode}`,
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const totalMs = result.ms.reduce((sum, x) => sum + x, 0)
  return {
    mode: run.mode,
    batchSize: run.batchSize,
    events: result.events,
    batch: summarize(result.ms),
    meanMs: totalMs / result.ms.length,
    runtimeCores: cpu.runtime,
    cpuMsPerEvent: cpu.runtime === null ? null : (cpu.runtime * seconds * 1000) / result.events,
    otherCores: cpu.other,
  }
}

async function drive(target: CairnTarget, plan: DriverPlan): Promise<DriverResult> {
  const response = await fetch(`${target.url}${CONSUMER_DRIVER_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(plan),
  })
  if (!response.ok) {
    throw new Error(`consumer driver answered ${response.status}: ${await response.text()}`)
  }
  return (await response.json()) as DriverResult
}

async function storedEvents(target: CairnTarget, sourceId: string): Promise<number> {
  const row = await target.db
    .prepare('SELECT COUNT(*) AS n FROM events WHERE source_id = ?')
    .bind(sourceId)
    .first<{ n: number }>()
  return row?.n ?? 0
}

function summarise(plan: Plan, runs: ConsumerRun[], stored: number, config: BenchConfig) {
  const baseline = (run: ConsumerRun) =>
    runs.find((r) => r.mode === 'rows' && r.batchSize === run.batchSize)
  // The driver's own work (making and sealing the batches), measured alone, is not the writes'.
  const making = (run: ConsumerRun) =>
    runs.find((r) => r.mode === 'none' && r.batchSize === run.batchSize)?.cpuMsPerEvent ?? null
  const writeCpu = (run: ConsumerRun) => {
    const own = making(run)
    return run.cpuMsPerEvent === null || own === null ? null : run.cpuMsPerEvent - own
  }
  const rows = runs
    .filter((run) => run.mode !== 'none')
    .map((run) => {
      const base = baseline(run)
      const cpu = writeCpu(run)
      return [
        LABELS[run.mode],
        run.batchSize,
        int(run.events),
        ms(run.batch.p50),
        ms(run.batch.p95),
        ms(run.batch.max),
        (run.meanMs / run.batchSize).toFixed(3),
        int((run.batchSize * 1000) / run.meanMs),
        cpu === null ? '-' : cpu.toFixed(3),
        base && run !== base ? `${(run.meanMs / base.meanMs).toFixed(1)}x` : '-',
        cores(run.otherCores),
      ]
    })
  const consumerRuns = runs.filter((r) => r.mode === 'consumer')
  const expected = consumerRuns.reduce((sum, r) => sum + r.events, 0)
  const summary = [
    `Queue consumer under miniflare@4${config.quick ? ' (--quick: fewer events)' : ''}: batches of ` +
      `single-event bundles (event, contact snapshot, a touch on every fifth) from ${int(plan.contacts)} ` +
      `contacts, applied one after another on a D1 that already holds ${int(plan.warmupEvents)}+ events; ` +
      `ms per batch is workerd's clock across the batch (its D1 and R2 calls), events/s what one ` +
      `serial writer applies, CPU workerd's less what making and sealing the batches took alone ` +
      `(${runs
        .filter((r) => r.mode === 'none')
        .map((r) => `${r.cpuMsPerEvent?.toFixed(3) ?? '-'}`)
        .join(
          ' / ',
        )} ms per event at ${BATCH_SIZES.join(' / ')}); "other" = CPU cores used by other processes.`,
    ...table(
      [
        'writes',
        'batch',
        'events',
        'ms p50',
        'ms p95',
        'ms max',
        'ms/event',
        'events/s',
        'CPU ms/event',
        'vs rows alone',
        'other',
      ],
      rows,
    ).map((line) => `  ${line}`),
  ]
  const checks: Check[] = [
    {
      name: 'the consumer stored every event of its batches once',
      ok: stored === expected,
      detail: `${int(stored)} events in D1 of ${int(expected)} sent`,
    },
  ]
  return { summary, checks, data: { plan, runs, stored, expected } }
}
