import type { BenchConfig } from '../config.ts'
import { progress } from '../progress.ts'
import { int, minutes, ms, table } from '../report.ts'
import {
  CONNECTIONS,
  cpuPerEvent,
  failedRuns,
  failures,
  MAX_CONTACTS,
  measureLiveSegments,
  pairCells,
  pairHead,
  RETURNING_RATE,
  VARIANT_LABELS,
  type FailedRun,
  type LiveRun,
  type ObjectCpu,
  type PairShape,
  type Variant,
} from '../segments-live.ts'
import { measurePreviews, type PopulationOutcome, type PreviewPlan } from '../segments-preview.ts'
import { TYPICAL_RULE } from '../segments-rules.ts'
import { LISTED_SEGMENT } from '../segments-seed.ts'
import { loadSegmentsSql } from '../segments-sql.ts'
import {
  judgeLiveSegments,
  judgePreview,
  SEGMENT_TARGETS,
  type CpuPair,
  type Timing,
} from '../segments-targets.ts'
import { verdictChecks, verdictLine, type Check, type Section } from './section.ts'

/**
 * Segments at scale (bench/segments-targets.ts has the targets):
 * 1. previews (domain/segments/sql.ts's count and sample statements, and the preview route) and
 *    member pages over synthetic D1 populations of 100k and 1M contacts, against
 *    `SELECT count(*) FROM contacts` at the same population;
 * 2. workerd's CPU per ingested event with 50 live segments in the contact objects against none,
 *    first visits and returning contacts apart.
 */

const PHASE = 'segments'

interface Plan {
  previews: PreviewPlan
  /** Pairs of ingest runs, each without and with the live segments. */
  pairs: number
}

function planFor(config: BenchConfig): Plan {
  return config.quick
    ? { previews: { populations: [10_000, 100_000], repetitions: 3 }, pairs: 1 }
    : { previews: { populations: [100_000, 1_000_000], repetitions: 5 }, pairs: 3 }
}

export const segmentsSection: Section = {
  name: 'segments',
  async run(config) {
    const plan = planFor(config)
    const started = performance.now()
    progress(PHASE, 'bundling domain/segments/sql.ts for Node (esbuild)')
    const compiler = await loadSegmentsSql()
    const previews = await measurePreviews(config, plan.previews, compiler)
    const previewSeconds = (performance.now() - started) / 1000
    const live = await measureLiveSegments(config, plan.pairs, { objectCpu: config.objectCpu })
    const liveSeconds = (performance.now() - started) / 1000 - previewSeconds
    return summarise(config, plan, previews, live, { previewSeconds, liveSeconds })
  },
}

function summarise(
  config: BenchConfig,
  plan: Plan,
  previews: PopulationOutcome[],
  { runs: live, failed }: { runs: LiveRun[]; failed: FailedRun[] },
  durations: { previewSeconds: number; liveSeconds: number },
) {
  const leftOut = failedRuns(failed, VARIANT_LABELS)
  const summary: string[] = [
    `Segments${config.quick ? ' (--quick: smaller populations, one ingest pair)' : ''}: previews and ` +
      `member pages over synthetic D1 populations (~5 events per contact over 30 days; "${LISTED_SEGMENT.name}" ` +
      `listed, ~24% of contacts), median and p95 ms of ${plan.previews.repetitions} runs each; ` +
      `× baseline = median ÷ the median of SELECT count(*) FROM contacts at the same population. ` +
      `Statements through the bench's D1 reader; routes from request to answer.`,
    ...previews.flatMap(previewLines),
  ]
  const largest = previews.at(-1)
  if (largest) {
    summary.push(
      '',
      `Query plans at ${int(largest.contacts)} contacts (EXPLAIN QUERY PLAN; the sample statement's ` +
        'for the typical rule, the count statement for each)',
    )
    for (const rule of largest.rules) {
      const plans =
        rule.key === TYPICAL_RULE.key ? (['count', 'sample'] as const) : (['count'] as const)
      for (const kind of plans) {
        summary.push(`  ${rule.label}, ${kind}:`, ...rule.plans[kind].map((line) => `    ${line}`))
      }
    }
  }

  summary.push(
    '',
    `Live segments in the contact objects: the ingest workload (${int(Math.min(config.contacts, MAX_CONTACTS))} contacts; ` +
      `first visits, then ${int(config.duration * RETURNING_RATE)} returning single events), ${CONNECTIONS} connections, ` +
      `on a fresh state per run, without segments and with ${SEGMENT_TARGETS.liveSegments} ` +
      `(traits, performed with and without windows, consent, buckets, references, nested ` +
      `all/any/not); ms/event is workerd's CPU per accepted event, as in the ingest section. ` +
      `non-2xx and "other" (cores used by other processes; > 0.1: a noisy run) for first visits / returning.`,
    ...table(
      [...pairHead('segments'), 'members', 'entered/exited events', 'workerd lines'],
      live.map((run) => [
        ...pairCells(run, VARIANT_LABELS[run.variant]),
        int(run.members),
        int(run.membershipEvents),
        int(run.workerdLines),
      ]),
    ).map((line) => `  ${line}`),
    ...leftOut.lines,
    ...spreads(live),
    ...objectLines(live),
  )
  for (const run of live.filter((r) => r.workerdLines > 0)) {
    const kinds = Object.entries(run.workerdKinds)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([kind, n]) => `${int(n)}× ${kind}`)
    summary.push(
      `  pair ${run.pair}, ${VARIANT_LABELS[run.variant]}: workerd printed ${int(run.workerdLines)} lines, most ${kinds.join('; ')}`,
    )
  }

  const measured = new Map(previews.map((p) => [p.contacts, p.previewRoute]))
  const verdicts = [
    judgePreview(measured),
    ...SHAPES.map(([label, shape]) => judgeLiveSegments(label, pairsOf(live, shape))),
    ...(config.objectCpu
      ? SHAPES.map(([label, shape]) =>
          judgeLiveSegments(label, pairsOf(live, shape, objectCpuOf(shape)), OBJECTS),
        )
      : []),
  ]
  summary.push(
    '',
    'Targets (bench/segments-targets.ts)',
    ...table(
      ['target', 'figure', 'goal', 'verdict'],
      verdicts.map((v) => [v.name, v.figure, v.target, verdictLine(v)]),
    ).map((line) => `  ${line}`),
    `  section took ${minutes(durations.previewSeconds)} for previews (seeding included) and ` +
      `${minutes(durations.liveSeconds)} for the ingest pairs`,
  )
  const checks: Check[] = [...verdictChecks(verdicts), leftOut.check]
  return { summary, checks, data: { plan, previews, live, failed, verdicts, durations } }
}

function previewLines(p: PopulationOutcome): string[] {
  const row = (what: string, t: Timing, matches = '') => [
    what,
    matches,
    ms(t.median),
    ms(t.p95),
    (t.median / p.baseline.median).toFixed(1),
  ]
  const rows = [
    row('baseline: SELECT count(*) FROM contacts', p.baseline),
    ...p.rules.flatMap((r) => [
      row(`preview: ${r.label}`, r.preview, int(r.matches)),
      row('  count statement', r.count),
      row('  sample statement (10 keys)', r.sample),
    ]),
    row('POST /api/segments/preview, typical rule', p.previewRoute),
    row('GET members, first page of 50', p.firstPage),
    row('GET members, page after 90% of them', p.deepPage),
  ]
  return [
    `  ${int(p.seeded.contacts)} contacts, ${int(p.seeded.events)} events, ` +
      `${int(p.seeded.members)} members of "${LISTED_SEGMENT.name}" (seeded in ${p.seeded.seconds.toFixed(0)} s)`,
    ...table(['what', 'matches', 'median', 'p95', '× baseline'], rows).map((line) => `    ${line}`),
  ]
}

/** Each pair's CPU per event of one shape, without and with the segments, by `cpuOf`. */
function pairsOf(
  live: LiveRun[],
  shape: PairShape,
  cpuOf: (run: LiveRun) => number | null = (run) => cpuPerEvent(run[shape]),
): CpuPair[] {
  const pairs = [...new Set(live.map((run) => run.pair))]
  return pairs.map((pair) => {
    const of = (variant: Variant) => live.find((r) => r.pair === pair && r.variant === variant)
    const none = of('none')
    const withSegments = of('live')
    return {
      none: none ? cpuOf(none) : null,
      live: withSegments ? cpuOf(withSegments) : null,
      failed: [none, withSegments].reduce((sum, run) => sum + (run ? failures(run[shape]) : 0), 0),
    }
  })
}

/** The runs judged, as the verdicts name them. */
const SHAPES = [
  ['first visits', 'firstVisit'],
  ['returning single events', 'returning'],
] as const satisfies readonly (readonly [string, PairShape])[]

const OBJECTS = "the contact objects' (profiled)"

/** The profiled CPU per event inside the contact objects (--object-cpu). */
const objectCpuOf = (shape: PairShape) => (run: LiveRun) =>
  run.objectCpu[shape]?.objectMsPerEvent ?? null

/** The profiles' figures per run, when the pairs were profiled. */
function objectLines(live: LiveRun[]): string[] {
  if (!live.some((run) => run.objectCpu.returning)) return []
  const cell = (cpu: ObjectCpu | undefined) =>
    cpu ? `${cpu.objectMsPerEvent.toFixed(2)} of ${cpu.busyMsPerEvent.toFixed(2)}` : '-'
  return [
    "  Profiled (--object-cpu, workerd's inspector open in every run): ms per accepted event of the " +
      "Cairn isolate's busy time entered in a contact object (its RPC methods, alarms and awaited " +
      'continuations, with their SQLite calls and the domain code they run) of all its busy time ' +
      '(the Worker and the queue consumer too; D1 and the queues run in other isolates).',
    ...table(
      ['pair', 'segments', 'first visit: objects of busy', 'returning: objects of busy'],
      live.map((run) => [
        String(run.pair),
        VARIANT_LABELS[run.variant],
        cell(run.objectCpu.firstVisit),
        cell(run.objectCpu.returning),
      ]),
    ).map((line) => `    ${line}`),
  ]
}

/** How far runs of the same variant differ: the noise the ratios sit in. */
function spreads(live: LiveRun[]): string[] {
  const lines: string[] = []
  for (const shape of ['firstVisit', 'returning'] as const) {
    const parts = (['none', 'live'] as const).flatMap((variant) => {
      const values = live
        .filter((run) => run.variant === variant)
        .flatMap((run) => cpuPerEvent(run[shape]) ?? [])
      if (values.length < 2) return []
      return [
        `${VARIANT_LABELS[variant]} ${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`,
      ]
    })
    if (parts.length > 0) {
      const name = shape === 'firstVisit' ? 'first visits' : 'returning'
      lines.push(`  ${name}, ms/event across pairs: ${parts.join(', ')}`)
    }
  }
  return lines
}
