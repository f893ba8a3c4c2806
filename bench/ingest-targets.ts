import { int, ms } from './report.ts'

/**
 * The ingest targets, as restated in issue #21 ("Performance: the targets, restated"). Each one
 * compares Cairn with DO-write + queue (the least Cairn's data path can cost on this runtime:
 * docs/design/benchmarks.md) in the same run, single events at 16 connections; batches compare
 * with DO-write's single events. The targets before #21 were against DO-write alone; the bench
 * still prints DO-write's figures and ratios, as context only.
 */
export const INGEST_TARGETS = {
  /** The closed-loop connection count the ratios are read at. */
  connections: 16,
  /** Cairn's workerd CPU per event ÷ DO-write + queue's, single events: at most this. */
  maxCpuPerEventOfDoQueue: 1.5,
  /** Cairn's requests/s ÷ DO-write + queue's, single events: at least this. */
  minRequestsOfDoQueue: 0.75,
  /** The open-loop rate the p99 target is read at, requests/s. */
  openLoopRate: 200,
  /**
   * Open-loop p99 at most this (ms), or at most DO-write + queue's own open-loop p99 in the same
   * run where that is higher.
   */
  openLoopP99Ms: 25,
  /** Cairn's batch events/s ÷ DO-write's single-event events/s: at least this. */
  minBatchEventsOfDoWriteSingle: 1.5,
} as const

/** What the verdicts read from one run (closed loops at INGEST_TARGETS.connections). */
export interface IngestTargetInputs {
  cairn: {
    single?: RunFigures
    batch?: RunFigures
    open?: OpenLoopFigures
    loss?: LossFigures
  }
  doQueue: { single?: RunFigures; open?: OpenLoopFigures }
  doWrite: { single?: RunFigures }
}

export interface RunFigures {
  requestsPerSec: number
  eventsPerSec: number
  /** workerd's CPU per event, ms; null when the run's CPU was not measured. */
  cpuPerEventMs: number | null
}

export interface OpenLoopFigures {
  rate: number
  p99Ms: number
  /** Requests answered with anything but a 2xx, or not answered. */
  failed: number
}

export interface LossFigures {
  zeroLoss: boolean
  accepted: number
  stored: number
  duplicates: number
  deadLetters: number
}

export type TargetKey = 'cpu' | 'requests' | 'open-loop-p99' | 'batch' | 'loss'

export interface TargetVerdict {
  key: TargetKey
  name: string
  /** Cairn's figure. */
  cairn: string
  /** The figure it is compared with, naming whose it is. */
  reference: string
  /** Cairn's figure over the reference ('-' where none). */
  ratio: string
  target: string
  /** null: not measured in this run. */
  met: boolean | null
  /** Why it was not measured, or what else decided the verdict. */
  note?: string
}

export function verdictText(met: boolean | null): string {
  return met === null ? 'not measured' : met ? 'met' : 'NOT MET'
}

const QUEUE = 'DO-write + queue'

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || b === null || b === undefined || b <= 0 ? null : a / b
}

function fixed(n: number | null): string {
  return n === null ? '-' : n.toFixed(2)
}

/** Judges one run against INGEST_TARGETS: one verdict per target, in the order of issue #21. */
export function judgeIngestTargets(inputs: IngestTargetInputs): TargetVerdict[] {
  const t = INGEST_TARGETS
  const { cairn, doQueue, doWrite } = inputs
  const conns = `${t.connections} conns`
  const verdicts: TargetVerdict[] = []

  {
    const r = ratio(cairn.single?.cpuPerEventMs, doQueue.single?.cpuPerEventMs)
    verdicts.push({
      key: 'cpu',
      name: `workerd CPU/event ÷ ${QUEUE}'s (single, ${conns})`,
      cairn:
        cairn.single?.cpuPerEventMs == null ? '-' : `${cairn.single.cpuPerEventMs.toFixed(2)} ms`,
      reference:
        doQueue.single?.cpuPerEventMs == null
          ? `${QUEUE}: -`
          : `${QUEUE}: ${doQueue.single.cpuPerEventMs.toFixed(2)} ms`,
      ratio: fixed(r),
      target: `≤ ${t.maxCpuPerEventOfDoQueue}`,
      met: r === null ? null : r <= t.maxCpuPerEventOfDoQueue,
      ...(r === null ? { note: notMeasured(cairn.single, doQueue.single, 'CPU') } : {}),
    })
  }
  {
    const r = ratio(cairn.single?.requestsPerSec, doQueue.single?.requestsPerSec)
    verdicts.push({
      key: 'requests',
      name: `requests/s ÷ ${QUEUE}'s (single, ${conns})`,
      cairn: cairn.single ? int(cairn.single.requestsPerSec) : '-',
      reference: `${QUEUE}: ${doQueue.single ? int(doQueue.single.requestsPerSec) : '-'}`,
      ratio: fixed(r),
      target: `≥ ${t.minRequestsOfDoQueue}`,
      met: r === null ? null : r >= t.minRequestsOfDoQueue,
      ...(r === null ? { note: notMeasured(cairn.single, doQueue.single) } : {}),
    })
  }
  {
    const open = cairn.open?.rate === t.openLoopRate ? cairn.open : undefined
    const reference = doQueue.open?.rate === t.openLoopRate ? doQueue.open : undefined
    // DO-write + queue's own p99 raises the limit only where it is higher than the fixed one.
    const limit = Math.max(t.openLoopP99Ms, reference?.p99Ms ?? 0)
    const note = !open
      ? `no open loop at ${t.openLoopRate} req/s for Cairn in this run`
      : open.failed > 0
        ? `${int(open.failed)} requests not answered 2xx`
        : !reference
          ? `${QUEUE} not measured: the limit is ${t.openLoopP99Ms} ms`
          : undefined
    verdicts.push({
      key: 'open-loop-p99',
      name: `open-loop p99 at ${t.openLoopRate} req/s`,
      cairn: open ? `${ms(open.p99Ms)} ms` : '-',
      reference: `${QUEUE}: ${reference ? `${ms(reference.p99Ms)} ms` : '-'}`,
      ratio: fixed(ratio(open?.p99Ms, reference?.p99Ms)),
      target: `≤ ${t.openLoopP99Ms} ms, or ≤ ${QUEUE}'s where higher (here ${ms(limit)} ms)`,
      // A p99 over requests that failed says nothing about the latency asked for.
      met: open ? open.p99Ms <= limit && open.failed === 0 : null,
      ...(note ? { note } : {}),
    })
  }
  {
    const r = ratio(cairn.batch?.eventsPerSec, doWrite.single?.eventsPerSec)
    verdicts.push({
      key: 'batch',
      name: `batch events/s ÷ DO-write's single events/s (${conns})`,
      cairn: cairn.batch ? int(cairn.batch.eventsPerSec) : '-',
      reference: `DO-write single events: ${doWrite.single ? int(doWrite.single.eventsPerSec) : '-'}`,
      ratio: fixed(r),
      target: `≥ ${t.minBatchEventsOfDoWriteSingle}`,
      met: r === null ? null : r >= t.minBatchEventsOfDoWriteSingle,
      ...(r === null
        ? {
            note: !cairn.batch
              ? "Cairn's batches not measured in this run"
              : "DO-write's single events not measured in this run",
          }
        : {}),
    })
  }
  {
    const loss = cairn.loss
    verdicts.push({
      key: 'loss',
      name: 'zero loss',
      cairn: loss ? `${int(loss.stored)} in D1` : '-',
      reference: loss ? `${int(loss.accepted)} accepted` : '-',
      ratio: '-',
      target: `every accepted event in D1 exactly once`,
      met: loss ? loss.zeroLoss : null,
      ...(loss
        ? { note: `${loss.duplicates} duplicates, ${loss.deadLetters} dead letters` }
        : { note: 'not measured in this run' }),
    })
  }
  return verdicts
}

function notMeasured(cairn: RunFigures | undefined, reference: RunFigures | undefined, what = '') {
  const run = `single events at ${INGEST_TARGETS.connections} connections`
  if (!cairn) return `Cairn's ${run} not measured in this run`
  if (!reference) return `${QUEUE}'s ${run} not measured in this run`
  return `workerd's ${what} not measured in this run`
}
