import { buildCeilings } from '../build.ts'
import { TARGET_LABELS, type BenchConfig, type Shape, type TargetName } from '../config.ts'
import { waitForDrain, type DrainResult } from '../drain.ts'
import { runClosedLoop } from '../load/closed-loop.ts'
import { cores, evictionsBefore, quietBefore } from '../api.ts'
import { cpuSnapshot, cpuUsage } from '../load/cpu.ts'
import { Ledger } from '../load/ledger.ts'
import { runOpenLoop } from '../load/open-loop.ts'
import type { RunResult, RunShape } from '../load/run-result.ts'
import { progress } from '../progress.ts'
import { cpus } from 'node:os'
import { int, ms, pct, table, verdict } from '../report.ts'
import {
  INGEST_TARGETS,
  judgeIngestTargets,
  verdictText,
  type OpenLoopFigures,
  type RunFigures,
} from '../ingest-targets.ts'
import {
  COMPATIBILITY_DATE,
  restartTarget,
  runtimeGone,
  startTarget,
  type CairnTarget,
  type RuntimeOutput,
  type Target,
} from '../runtime.ts'
import { createWorkload, warmUpWorkload } from '../workload.ts'
import type { Check, Section } from './section.ts'

interface TargetOutcome {
  target: TargetName
  runs: RunResult[]
  /** Cairn only: after each run, how long the queue took to bring D1 level with what was accepted. */
  drains: { after: string; seconds: number | null }[]
  loss?: DrainResult
  runtimeOutput: RuntimeOutput
  /** Runs during which workerd died; each was left out and workerd started again on its state. */
  crashes: { during: string; error: string }[]
  error?: string
}

/**
 * Ingestion throughput and latency of Cairn against ceilings on the same runtime and load: a
 * bare Worker (the runtime's own limit), a Worker that only writes each event into a per-contact
 * SQLite Durable Object (the least any per-contact store can cost), and that same Worker with the
 * object's Queue send after each write (the least Cairn's data path can cost here).
 */
export const ingestSection: Section = {
  name: 'ingest',
  async run(config) {
    await buildCeilings()
    const outcomes: TargetOutcome[] = []
    for (const name of config.targets) {
      outcomes.push(await measureTarget(name, config))
    }
    return summarise(outcomes, config)
  },
}

/** D1 unchanged this long after a crash: the queue is empty. */
const STALL_AFTER_CRASH_MS = 5_000

async function measureTarget(name: TargetName, config: BenchConfig): Promise<TargetOutcome> {
  const outcome: TargetOutcome = {
    target: name,
    runs: [],
    drains: [],
    runtimeOutput: { lines: 0, tail: [], kinds: {} },
    crashes: [],
  }
  progress(name, `starting under miniflare (compatibility date ${COMPATIBILITY_DATE})`)
  let target: Target | CairnTarget
  try {
    target = await startTarget(name, { port: config.port, stateDir: config.stateDir })
  } catch (error) {
    outcome.error = (error as Error).message
    progress(name, `failed to start: ${outcome.error}`)
    return outcome
  }
  outcome.runtimeOutput = target.runtimeOutput
  const cairn = 'writeKey' in target ? target : undefined
  const ledger = new Ledger()
  // The same seed for every target: each one receives the same contacts, pages and events.
  const workload = createWorkload({
    contacts: config.contacts,
    activeVisitors: config.activeVisitors,
    batchSize: config.batchSize,
    seed: config.seed,
    writeKey: cairn?.writeKey ?? 'wk_ceiling',
  })
  const next = (shape: Shape) => (shape === 'single' ? workload.single : workload.batch)
  // After a crash D1 may never reach what was accepted (see restartTarget): then wait only until
  // the queue is empty, so the next run does not start on a backlog.
  const stallMs = () => (outcome.crashes.length > 0 ? STALL_AFTER_CRASH_MS : undefined)
  const drain = ({ db }: CairnTarget) =>
    waitForDrain(db, ledger, config.drainTimeout, `${name} drain`, stallMs())
  const settle = async (after: string) => {
    if (!cairn) return
    const drained = await drain(cairn)
    outcome.drains.push({ after, seconds: drained.drainSeconds })
    const short = `still ${int(drained.accepted - drained.d1Events)} short of what was accepted`
    const caughtUp =
      drained.drainSeconds !== null
        ? `${drained.drainSeconds.toFixed(1)} s`
        : stallMs()
          ? `never: the queue is empty, D1 ${short} since workerd died`
          : `never (timeout), D1 ${short}`
    progress(name, `after ${after}: D1 caught up in ${caughtUp}`)
  }
  const measure = async (
    describeRun: string,
    run: () => Promise<RunResult>,
    after: string,
    warmUp?: { describe: string; run: () => Promise<RunResult> },
  ) => {
    try {
      await evictionsBefore(target, name)
      await quietBefore(config, name)
      if (warmUp) {
        progress(name, warmUp.describe)
        await warmUp.run()
      }
      progress(name, describeRun)
      const cpuBefore = cpuSnapshot()
      const result = await run()
      result.cpu = cpuUsage(cpuBefore, cpuSnapshot(), cpus().length)
      // The load generator counts a dead server's refusals as errors and finishes the run.
      if (await runtimeGone(target))
        throw new Error(`workerd stopped answering (${describe(result)})`)
      outcome.runs.push(result)
      progress(name, describe(result))
      await settle(after)
    } catch (error) {
      // workerd can crash under SQLite memory pressure (bench/results/2026-11-25-memory-and-crashes.md); the state is on
      // disk, so the remaining runs can still be measured on a new workerd.
      if (!config.stateDir || !(await runtimeGone(target))) throw error
      const message = (error as Error).message
      outcome.crashes.push({ during: after, error: message })
      progress(name, `workerd died during ${after}: ${message}`)
      progress(name, 'leaving that run out; starting workerd again on the same state')
      target = await restartTarget(target, config.stateDir)
    }
  }
  try {
    if (config.warmup > 0) {
      const warmup = warmUpWorkload(config, cairn?.writeKey ?? 'wk_ceiling')
      progress(name, `warm-up ${config.warmup} s (other contacts)`)
      for (const shape of config.shapes) {
        await runClosedLoop({
          target: name,
          url: target.url,
          shape,
          connections: 16,
          seconds: Math.max(1, config.warmup / config.shapes.length),
          next: shape === 'single' ? warmup.single : warmup.batch,
          ledger,
          label: `warm-up ${shape}`,
        })
      }
      await settle('warm-up')
    }
    // Every contact's first page view: the cost of creating contacts, measured on its own.
    // Afterwards every contact exists, so the runs below measure returning contacts.
    await measure(
      `first visits: ${int(config.contacts)} new contacts, 16 connections`,
      () =>
        runClosedLoop({
          target: name,
          url: target.url,
          shape: 'first-visit',
          connections: 16,
          seconds: 0,
          amount: config.contacts,
          maxSeconds: config.firstVisitMax,
          next: workload.firstVisit,
          ledger,
          label: 'first visits',
        }),
      'first visits',
    )
    if (config.openDuration > 0) {
      const openLoop = () =>
        runOpenLoop({
          target: name,
          url: target.url,
          shape: 'single',
          rate: config.openRate,
          seconds: config.openDuration,
          next: workload.single,
          ledger,
        })
      // The same load, unmeasured, first: the latency asked for is that of a steady 200/s, with
      // the objects of the visitors in session awake and the queue consumer in its rhythm, not
      // that of waking every object at once.
      await measure(
        `open loop: ${config.openRate} single-event req/s for ${config.openDuration} s`,
        openLoop,
        `open loop ${config.openRate}/s`,
        {
          describe: `open loop warm-up: the same load for ${config.openDuration} s`,
          run: openLoop,
        },
      )
    }
    for (const shape of config.shapes) {
      for (const connections of config.connections) {
        const closedLoop = (seconds: number, label?: string) => () =>
          runClosedLoop({
            target: name,
            url: target.url,
            shape,
            connections,
            seconds,
            next: next(shape),
            ledger,
            label,
          })
        // Full load means the steady state, as for the open loop: not the first seconds, when
        // every visitor in session wakes its object.
        const warmUp =
          config.warmup > 0
            ? {
                describe: `warm-up: the same load for ${config.warmup} s`,
                run: closedLoop(config.warmup, `warm-up ${shape} c${connections}`),
              }
            : undefined
        await measure(
          `closed loop: ${shape}, ${connections} connections, ${config.duration} s`,
          closedLoop(config.duration),
          `${shape} c${connections}`,
          warmUp,
        )
      }
    }
    if (cairn) {
      progress(name, 'final check: D1 events vs accepted')
      outcome.loss = await drain(cairn)
      const loss = outcome.loss
      progress(
        name,
        `D1 ${int(loss.acknowledgedStored)} acknowledged events stored of ${int(loss.accepted)} accepted; zero loss: ${verdict(loss.zeroLoss)}`,
      )
    }
  } catch (error) {
    outcome.error = (error as Error).stack ?? String(error)
    progress(name, `failed: ${(error as Error).message}`)
  } finally {
    await target.stop().catch(() => undefined)
  }
  if (target.runtimeOutput.lines > 0) {
    progress(
      name,
      `workerd printed ${target.runtimeOutput.lines} lines; last: ${target.runtimeOutput.tail.at(-1)}`,
    )
  }
  return outcome
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b <= 0 ? null : a / b
}

function times(n: number | null): string {
  return n === null ? '-' : `${n.toFixed(2)}x`
}

/** workerd's CPU per event (ms): the cores it used over the events it stored per second. */
function cpuPerEvent(run: RunResult | undefined): number | null {
  const used = run?.cpu?.runtime
  if (!run || used === null || used === undefined || run.eventsPerSec <= 0) return null
  return (used * 1000) / run.eventsPerSec
}

function cpuMs(n: number | null): string {
  return n === null ? '-' : n.toFixed(2)
}

function describe(run: RunResult): string {
  return (
    `${int(run.requestsPerSec)} req/s, ${int(run.eventsPerSec)} events/s, p50 ${ms(run.latency.p50)} ` +
    `p95 ${ms(run.latency.p95)} p99 ${ms(run.latency.p99)} ms, non-2xx ${run.non2xx}, errors ${run.errors}, ` +
    `CPU workerd ${cores(run.cpu?.runtime)} / loadgen ${cores(run.cpu?.generator)} / other ${cores(run.cpu?.other)}`
  )
}

function summarise(outcomes: TargetOutcome[], config: BenchConfig) {
  const find = (
    target: TargetName,
    shape: RunShape,
    mode: 'open' | 'closed',
    connections?: number,
  ) =>
    outcomes
      .find((o) => o.target === target)
      ?.runs.find(
        (r) =>
          r.shape === shape &&
          r.mode === mode &&
          (mode === 'open' || r.connections === connections),
      )

  const rows = outcomes.flatMap((o) =>
    o.runs.map((r) => [
      TARGET_LABELS[o.target],
      r.shape,
      r.mode === 'open'
        ? `open ${r.rate}/s`
        : `${r.connections} conns${r.shape === 'first-visit' ? ` ×${int(r.completed)}` : ''}`,
      int(r.requestsPerSec),
      int(r.eventsPerSec),
      ms(r.latency.p50),
      ms(r.latency.p95),
      ms(r.latency.p99),
      ms(r.latency.max),
      `${r.non2xx}`,
      `${r.errors}`,
      cores(r.cpu?.runtime),
      cpuMs(cpuPerEvent(r)),
      cores(r.cpu?.generator),
      cores(r.cpu?.other),
    ]),
  )
  const summary = [
    `Ingestion under miniflare@4, ${int(config.contacts)} contacts. first-visit: each contact's first page ` +
      `view (creates it); then returning contacts in sessions (${int(config.activeVisitors)} active at once): ` +
      `open loop, and closed loops of ${config.duration} s ` +
      `(autocannon), single events and batches of ~${config.batchSize}. Latency in ms; CPU in cores ` +
      `used by workerd, the load generator and other processes (other > 0.1: a noisy run), and ` +
      `workerd's CPU per event in ms (what the run cost it, whether its thread waited on the disk or not).`,
    ...table(
      [
        'target',
        'shape',
        'load',
        'req/s',
        'events/s',
        'p50',
        'p95',
        'p99',
        'max',
        'non-2xx',
        'errors',
        'workerd',
        'ms/event',
        'loadgen',
        'other',
      ],
      rows,
    ),
  ]
  const checks: Check[] = []
  for (const o of outcomes) {
    if (o.error)
      summary.push(
        `${TARGET_LABELS[o.target]} FAILED: ${o.error.split('\n').slice(0, 3).join(' | ')}`,
      )
    for (const crash of o.crashes) {
      summary.push(
        `${TARGET_LABELS[o.target]}: workerd died during ${crash.during} (${crash.error.split('\n')[0]}); ` +
          'that run is left out, the later ones ran on a new workerd with the same state',
      )
    }
    if (o.crashes.length > 0) {
      checks.push({
        name: `workerd ran ${TARGET_LABELS[o.target]} without crashing`,
        ok: false,
        detail: `died during ${o.crashes.map((c) => c.during).join(', ')}`,
      })
    }
  }

  const comparisons: Record<string, unknown>[] = []
  if (outcomes.some((o) => o.target === 'cairn')) {
    summary.push(
      '',
      'Cairn as a share of the ceilings (same runtime, same load; the DO-write columns are context, ' +
        'the verdicts follow the targets of issue #21 below)',
    )
    const ratioRows: string[][] = []
    const pairs: [RunShape, number][] = [
      ['first-visit', 16],
      ...config.shapes.flatMap((shape) =>
        config.connections.map((c): [RunShape, number] => [shape, c]),
      ),
    ]
    for (const [shape, connections] of pairs) {
      {
        const cairn = find('cairn', shape, 'closed', connections)
        const bare = find('bare', shape, 'closed', connections)
        const doWrite = find('do-write', shape, 'closed', connections)
        const doWriteSingle = find('do-write', 'single', 'closed', connections)
        const doQueue = find('do-queue', shape, 'closed', connections)
        if (!cairn) continue
        const entry = {
          shape,
          connections,
          cairnRequestsPerSec: cairn.requestsPerSec,
          cairnEventsPerSec: cairn.eventsPerSec,
          ofBare: bare ? cairn.requestsPerSec / bare.requestsPerSec : null,
          ofDoWrite: doWrite ? cairn.eventsPerSec / doWrite.eventsPerSec : null,
          ofDoQueue: doQueue ? cairn.eventsPerSec / doQueue.eventsPerSec : null,
          doQueueOfDoWrite: doQueue && doWrite ? doQueue.eventsPerSec / doWrite.eventsPerSec : null,
          eventsOfDoWriteSingle: doWriteSingle
            ? cairn.eventsPerSec / doWriteSingle.eventsPerSec
            : null,
          cpuPerEvent: cpuPerEvent(cairn),
          cpuPerEventOfDoWrite: ratio(cpuPerEvent(cairn), cpuPerEvent(doWrite)),
          cpuPerEventOfDoQueue: ratio(cpuPerEvent(cairn), cpuPerEvent(doQueue)),
        }
        comparisons.push(entry)
        ratioRows.push([
          shape,
          `${connections}`,
          bare ? pct(entry.ofBare!) : '-',
          doWrite ? pct(entry.ofDoWrite!) : '-',
          doQueue ? pct(entry.ofDoQueue!) : '-',
          entry.doQueueOfDoWrite === null ? '-' : pct(entry.doQueueOfDoWrite),
          shape === 'batch' ? times(entry.eventsOfDoWriteSingle) : '',
          times(entry.cpuPerEventOfDoWrite),
          times(entry.cpuPerEventOfDoQueue),
        ])
      }
    }
    summary.push(
      ...table(
        [
          'shape',
          'conns',
          'req/s of bare',
          'events/s of DO-write',
          'of DO-write + queue',
          'DO-write + queue of DO-write',
          'batch events/s vs DO-write single',
          'CPU/event vs DO-write',
          'vs DO-write + queue',
        ],
        ratioRows,
      ).map((l) => `  ${l}`),
    )

    const cairnOutcome = outcomes.find((o) => o.target === 'cairn')!
    const loss = cairnOutcome.loss
    if (loss) {
      summary.push(
        '',
        `Queue → D1 after the load: D1 events ${int(loss.d1Events)}, accepted ${int(loss.accepted)}` +
          ` (unknown-outcome messages ${int(loss.unknownMessages)}, of which stored ${int(loss.unknownStored)};` +
          ` duplicates ${loss.duplicates}; dead letters ${loss.deadLetters})`,
        `  D1 caught up after each run (s): ${cairnOutcome.drains.map((d) => `${d.after} ${d.seconds === null ? 'not level' : d.seconds.toFixed(1)}`).join(', ')}`,
      )
    }

    // The verdicts: issue #21's targets (bench/ingest-targets.ts), against DO-write + queue in
    // this run; the DO-write ratios above are context.
    const closed = (target: TargetName, shape: RunShape): RunFigures | undefined => {
      const run = find(target, shape, 'closed', INGEST_TARGETS.connections)
      return run && { ...run, cpuPerEventMs: cpuPerEvent(run) }
    }
    const openLoop = (target: TargetName): OpenLoopFigures | undefined => {
      const run = find(target, 'single', 'open')
      return (
        run && {
          rate: run.rate!,
          p99Ms: run.latency.p99,
          failed: Math.round(run.rate! * run.seconds) - run.ok,
        }
      )
    }
    const verdicts = judgeIngestTargets({
      cairn: {
        single: closed('cairn', 'single'),
        batch: closed('cairn', 'batch'),
        open: openLoop('cairn'),
        ...(loss
          ? {
              loss: {
                zeroLoss: loss.zeroLoss,
                accepted: loss.accepted,
                stored: loss.acknowledgedStored,
                duplicates: loss.duplicates,
                deadLetters: loss.deadLetters,
              },
            }
          : {}),
      },
      doQueue: { single: closed('do-queue', 'single'), open: openLoop('do-queue') },
      doWrite: { single: closed('do-write', 'single') },
    })
    comparisons.push({ targets: 'issue #21', verdicts })
    summary.push(
      '',
      `Targets (issue #21; bench/ingest-targets.ts): Cairn against DO-write + queue in this run, ` +
        `single events at ${INGEST_TARGETS.connections} connections; batches against DO-write's single events`,
      ...table(
        ['target', 'Cairn', 'compared with', 'ratio', 'goal', 'verdict'],
        verdicts.map((v) => [
          v.name,
          v.cairn,
          v.reference,
          v.ratio,
          v.target,
          verdictText(v.met) + (v.note ? ` (${v.note})` : ''),
        ]),
      ).map((l) => `  ${l}`),
    )
    const open = find('cairn', 'single', 'open')
    const crashed = cairnOutcome.crashes.length > 0
    for (const v of verdicts) {
      let detail =
        v.met === null
          ? `not measured: ${v.note}`
          : `Cairn ${v.cairn} vs ${v.reference}, ratio ${v.ratio}; ${verdictText(v.met)}` +
            (v.note ? ` (${v.note})` : '')
      if (v.key === 'open-loop-p99' && open)
        detail += `; p50 ${ms(open.latency.p50)} / p95 ${ms(open.latency.p95)} ms, generator lag ≤ ${ms(open.maxSendLagMs ?? NaN)} ms`
      if (v.key === 'loss' && crashed && loss)
        detail += loss.zeroLoss
          ? ', across the crash'
          : '; after a crash this is not a test of Cairn: the local queue broker keeps its messages in memory, and an object sends again only what it had not marked sent, when it wakes (Cloudflare Queues keeps a message once send resolves)'
      checks.push({ name: `${v.name}: ${v.target}`, ok: v.met === true, detail })
    }
    if (cairnOutcome.error) {
      checks.push({
        name: 'Cairn ran to the end',
        ok: false,
        detail: cairnOutcome.error.split('\n')[0]!,
      })
    }
  }
  const printed = outcomes.filter((o) => o.runtimeOutput.lines > 0)
  if (printed.length > 0) {
    summary.push('', 'What workerd printed (lines by kind; native stack lines not counted)')
    for (const o of printed) {
      const kinds = Object.entries(o.runtimeOutput.kinds).sort((a, b) => b[1] - a[1])
      summary.push(
        `  ${TARGET_LABELS[o.target]}:`,
        ...kinds.slice(0, 6).map(([kind, n]) => `    ${String(n).padStart(6)}  ${kind}`),
      )
    }
  }
  return { summary, checks, data: { outcomes, comparisons } }
}
