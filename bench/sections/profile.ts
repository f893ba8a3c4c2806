import { writeFileSync } from 'node:fs'
import { buildCeilings, CAIRN_SCRIPT, CEILING_SCRIPTS } from '../build.ts'
import { TARGET_LABELS, type BenchConfig, type Shape, type TargetName } from '../config.ts'
import type { RunShape } from '../load/run-result.ts'
import type { BenchRequest } from '../workload.ts'
import { runClosedLoop } from '../load/closed-loop.ts'
import { Ledger } from '../load/ledger.ts'
import { profileIsolate, summariseProfile, type ProfileSummary } from '../profile.ts'
import { progress } from '../progress.ts'
import { int, ms, table } from '../report.ts'
import { freePort } from '../../scripts/local-stack.ts'
import { startTarget, type CairnTarget } from '../runtime.ts'
import { createWorkload } from '../workload.ts'
import type { Section } from './section.ts'

/** Contacts in the profiled population (all created first, then visited again). */
const PROFILE_CONTACTS = 2000

/** miniflare@4 names a worker's isolate after the worker (bench/runtime.ts names it after the target). */
const USER_ISOLATE = 'core:user:'

/**
 * `--profile`: where the CPU goes under load. Runs the DO ceilings, then Cairn, with the
 * inspector open (which costs some speed, so these runs are not part of the throughput figures),
 * profiles the worker isolate during first visits and each returning shape, and prints CPU per
 * event, self time by package/file and the inclusive time of Cairn's own functions. Raw profiles
 * go to bench/results/*.cpuprofile (open them in Chrome DevTools → Performance).
 */
export const profileSection: Section = {
  name: 'profile',
  async run(config) {
    await buildCeilings()
    const lines: string[] = []
    const data: Record<string, unknown> = {}
    // The ceilings first: their CPU per event is the yardstick for Cairn's.
    for (const name of ['do-write', 'do-queue', 'cairn'] as const) {
      if (!config.targets.includes(name)) continue
      const profiled = await profileTarget(name, config)
      lines.push(...profiled.lines)
      data[name] = profiled.summaries
    }
    return { summary: lines, checks: [], data }
  },
}

async function profileTarget(name: Exclude<TargetName, 'bare'>, config: BenchConfig) {
  const inspectorPort = await freePort()
  const target = await startTarget(name, {
    port: config.port,
    stateDir: config.stateDir,
    inspectorPort,
  })
  const writeKey = 'writeKey' in target ? (target as CairnTarget).writeKey : 'wk_ceiling'
  const script = name === 'cairn' ? CAIRN_SCRIPT : CEILING_SCRIPTS[name]
  const label = TARGET_LABELS[name]
  const summaries: Record<
    string,
    ProfileSummary & { requestsPerSec: number; eventsPerSec: number }
  > = {}
  const lines: string[] = []
  try {
    const ledger = new Ledger()
    // A smaller population than the throughput runs, so that every contact can be created
    // (profiled as first visits) before the returning-contact runs in reasonable time.
    const contacts = Math.min(config.contacts, PROFILE_CONTACTS)
    const workload = createWorkload({
      contacts,
      activeVisitors: Math.min(config.activeVisitors, contacts),
      batchSize: config.batchSize,
      seed: config.seed,
      writeKey,
    })
    const warmup = createWorkload({
      contacts: 500,
      activeVisitors: 100,
      batchSize: config.batchSize,
      seed: config.seed + 1_000_003,
      writeKey,
    })
    await runClosedLoop({
      target: name,
      url: target.url,
      shape: 'single',
      connections: 16,
      seconds: Math.max(1, config.warmup),
      next: warmup.single,
      ledger,
      label: 'profile warm-up',
    })
    const runs: { shape: RunShape; next: () => BenchRequest; amount?: number }[] = [
      { shape: 'first-visit', next: workload.firstVisit, amount: contacts },
      ...config.shapes.map((shape: Shape) => ({
        shape,
        next: shape === 'single' ? workload.single : workload.batch,
      })),
    ]
    for (const { shape, next, amount } of runs) {
      progress(
        'profile',
        `profiling ${label}, ${shape}, 16 connections, ${amount ? `${int(amount)} contacts` : `${config.duration} s`}`,
      )
      const { profile, result } = await profileIsolate(
        inspectorPort,
        `${USER_ISOLATE}${name}`,
        () =>
          runClosedLoop({
            target: name,
            url: target.url,
            shape,
            connections: 16,
            seconds: config.duration,
            amount,
            maxSeconds: amount ? config.firstVisitMax : undefined,
            next,
            ledger,
            label: `profile ${shape}`,
          }),
      )
      const file = `bench/results/${name}-${shape}.cpuprofile`
      writeFileSync(file, JSON.stringify(profile))
      const summary = summariseProfile(profile, script)
      summaries[shape] = {
        ...summary,
        requestsPerSec: result.requestsPerSec,
        eventsPerSec: result.eventsPerSec,
      }
      const perEvent = (t: number) => (result.accepted > 0 ? (t / result.accepted) * 1000 : NaN)
      const share = (t: number) => `${((t / summary.busyMs) * 100).toFixed(1)}%`
      lines.push(
        `Profile of ${label}, ${shape}, 16 connections (${int(result.requestsPerSec)} req/s, ` +
          `${int(result.eventsPerSec)} events/s with the inspector on): isolate busy ${ms(summary.busyMs)} ` +
          `of ${ms(summary.wallMs)} ms = ${ms(perEvent(summary.busyMs))} µs per event; ${file}`,
        '  self time by package / file',
        ...table(
          ['source', 'ms', 'share', 'µs/event'],
          summary.selfBySource
            .slice(0, name === 'cairn' ? 12 : 6)
            .map((s) => [s.source, ms(s.ms), share(s.ms), ms(perEvent(s.ms))]),
        ).map((l) => `    ${l}`),
      )
      if (name === 'cairn') {
        lines.push(
          "  inclusive time of Cairn's own functions",
          ...table(
            ['function', 'ms', 'share', 'µs/event'],
            summary.inclusiveByFunction
              .slice(0, 18)
              .map((f) => [f.fn, ms(f.ms), share(f.ms), ms(perEvent(f.ms))]),
          ).map((l) => `    ${l}`),
        )
      }
      lines.push('')
    }
  } finally {
    await target.stop()
  }
  return { lines, summaries }
}
