import type { BenchConfig } from '../config.ts'
import {
  CPU_VARIANT_LABELS,
  measureJourneyCpu,
  type CpuRun,
  type CpuVariant,
} from '../journeys-cpu.ts'
import type { Delays } from '../journeys-delays.ts'
import { LATENCY_JOURNEY, LIVE_JOURNEYS, SIGNUP_EVENT } from '../journeys-definitions.ts'
import { POLL_MS, measureLatency, type LatencyPlan, type LatencyRun } from '../journeys-latency.ts'
import {
  measureManagement,
  type ManagementPlan,
  type OperationOutcome,
} from '../journeys-management.ts'
import { createRefs, publishJourney } from '../journeys-setup.ts'
import {
  compareCpu,
  JOURNEY_TARGETS,
  judgeOnce,
  judgeOperation,
  judgeQueued,
} from '../journeys-targets.ts'
import type { LatencySummary } from '../load/latency.ts'
import { progress } from '../progress.ts'
import { int, minutes, table } from '../report.ts'
import { cores, quietBefore } from '../api.ts'
import { withCairn, type CairnTarget } from '../runtime.ts'
import {
  CONNECTIONS,
  cpuPerEvent,
  failedRuns,
  failures,
  MAX_CONTACTS,
  pairCells,
  pairHead,
  RETURNING_RATE,
  type FailedRun,
} from '../segments-live.ts'
import type { CpuPair } from '../segments-targets.ts'
import { verdictChecks, verdictLine, type Check, type Section, type Verdict } from './section.ts'

/**
 * Journeys (issue #24; bench/journeys-targets.ts has the targets):
 * 1. event → message queued: a journey that emails on an event, the event's latency (the object
 *    queues the email before answering), the message row and the logged email in D1, against the
 *    same events with no journey live;
 * 2. workerd's CPU per event with 20 live journeys against none (as live segments are measured);
 * 3. the journey and segment management API at 16 concurrent clients against `GET /healthz`.
 */

const PHASE = 'journeys'

interface Plan {
  latency: LatencyPlan
  management: ManagementPlan
  /** Pairs of ingest runs, each without and with the live journeys. */
  pairs: number
}

function planFor(config: BenchConfig): Plan {
  return config.quick
    ? {
        latency: { events: 100, rate: 10 },
        management: {
          seconds: 4,
          aloneRequests: 10,
          aloneSeconds: 2,
          maxJourneys: 200,
          maxSegments: 200,
        },
        pairs: 1,
      }
    : {
        latency: { events: 500, rate: 5 },
        management: {
          seconds: 15,
          aloneRequests: 30,
          aloneSeconds: 5,
          maxJourneys: 400,
          maxSegments: 400,
        },
        pairs: 3,
      }
}

interface ApiPhase {
  baseline: LatencyRun
  journey: LatencyRun
  management: OperationOutcome[]
  /** D1's size when the management API was measured. */
  population: { contacts: number; messages: number }
}

export const journeysSection: Section = {
  name: 'journeys',
  async run(config) {
    const plan = planFor(config)
    const started = performance.now()
    const api = await withCairn(PHASE, config, (target) => measureApi(target, config, plan))
    const apiSeconds = (performance.now() - started) / 1000
    const cpu = await measureJourneyCpu(config, plan.pairs)
    const cpuSeconds = (performance.now() - started) / 1000 - apiSeconds
    return summarise(config, plan, api, cpu, { apiSeconds, cpuSeconds })
  },
}

async function measureApi(target: CairnTarget, config: BenchConfig, plan: Plan): Promise<ApiPhase> {
  const refs = await createRefs(target)
  await quietBefore(config, PHASE)
  const baseline = await measureLatency(target, 'baseline', plan.latency)
  const journey = await publishJourney(target, 'bench: signup welcome', LATENCY_JOURNEY, refs)
  progress(
    PHASE,
    `published journey ${journey.id} (version ${journey.version}) on "${SIGNUP_EVENT}"`,
  )
  await quietBefore(config, PHASE)
  const measured = await measureLatency(target, 'journey', plan.latency)
  const population = {
    contacts: await count(target, 'SELECT count(*) AS n FROM contacts'),
    messages: await count(target, 'SELECT count(*) AS n FROM messages'),
  }
  progress(
    PHASE,
    `management API at ${JOURNEY_TARGETS.clients} clients, ${plan.management.seconds} s per operation ` +
      `(D1: ${int(population.contacts)} contacts, ${int(population.messages)} messages)`,
  )
  const management = await measureManagement(target, plan.management, {
    refs,
    metricsJourney: journey.id,
    quiet: () => quietBefore(config, PHASE),
  })
  return { baseline, journey: measured, management, population }
}

async function count(target: CairnTarget, query: string) {
  return (await target.db.prepare(query).first<{ n: number }>())?.n ?? 0
}

function summarise(
  config: BenchConfig,
  plan: Plan,
  api: ApiPhase,
  { runs: cpu, failed }: { runs: CpuRun[]; failed: FailedRun[] },
  durations: { apiSeconds: number; cpuSeconds: number },
) {
  const { baseline, journey } = api
  const leftOut = failedRuns(failed, CPU_VARIANT_LABELS)
  const latencyRow = (what: string, l: LatencySummary | null | undefined, ratio = false) => [
    what,
    l ? int(l.count) : '-',
    l ? fixed(l.p50) : '-',
    l ? fixed(l.p99) : '-',
    l ? fixed(l.max) : '-',
    l && ratio ? fixed(l.p50 / baseline.request.p50, 2) : '',
  ]
  const delayRow = (what: string, d: Delays | null) => latencyRow(what, d?.latency)
  const summary: string[] = [
    `Journeys (issue #24)${config.quick ? ' (--quick: fewer events, one CPU pair, short API runs)' : ''}.`,
    `1. Event → message queued: ${int(plan.latency.events)} fresh contacts at ${plan.latency.rate}/s, each ` +
      `identified with an address, then sent "${SIGNUP_EVENT}" through /v1/track (timed from the ` +
      `request's start). Journey: entry on that event → email (a transactional template, no consent ` +
      `needed) → exit; the contact's object makes the message and hands it to the send queue before it ` +
      `answers. Baseline: the same events with no journey live. The log provider sends. ms; × = p50 ÷ the baseline's. ` +
      `Cores while the events were sent: workerd ${cores(baseline.cpu.runtime)} / ${cores(journey.cpu.runtime)}, ` +
      `other processes ${cores(baseline.cpu.other)} / ${cores(journey.cpu.other)} (baseline / journey).`,
    ...table(
      ['what', 'n', 'p50', 'p99', 'max', '×'],
      [
        latencyRow('baseline: event request → answer, no journey live', baseline.request, true),
        latencyRow('(a) event request → answer, message queued inside', journey.request, true),
        delayRow(
          "    event → message made (messages.created_at, the object's clock)",
          journey.made,
        ),
        delayRow(
          `(b) event → message row in D1 (through the events queue; seen by a ${POLL_MS} ms poll)`,
          journey.rowSeen,
        ),
        delayRow(
          '(c) event → email logged (logged_emails.created_at, by the send consumer)',
          journey.email,
        ),
        delayRow(`    event → logged email seen by the poll`, journey.emailSeen),
      ],
    ).map((line) => `  ${line}`),
    `  ${booksLine(journey)}; failed requests: baseline ${failureText(baseline.failures)}, journey ` +
      `${failureText(journey.failures)}; polls unanswered ${baseline.failedPolls + journey.failedPolls}; ` +
      `waited ${journey.waitedSeconds.toFixed(1)} s for the rows after the last event`,
    '',
    `2. Live journeys in the contact objects: the ingest workload (${int(Math.min(config.contacts, MAX_CONTACTS))} ` +
      `contacts; first visits, an unmeasured entry round of product-added, checkout and newsletter ` +
      `events for ${int(cpu[0]?.entryRound.requests ?? 0)} of them, then ` +
      `${int(config.duration * RETURNING_RATE)} returning single events), ${CONNECTIONS} connections, on a fresh state per run, without journeys and ` +
      `with ${LIVE_JOURNEYS.length} published (${journeyMix()}); the same templates and segments in both. ` +
      `ms/event is workerd's CPU per accepted event, as in the segments section (the objects, the queue ` +
      `consumer and the sends it managed during the run). non-2xx and other cores for first visits / returning. ` +
      `After the run: the journeys' runs entered and still active (most waiting), summed from their ` +
      `metrics, and their messages in D1 by status (most contacts have no address yet: the workload ` +
      `identifies a contact in one single event in ten).`,
    ...table(
      [...pairHead('journeys'), 'runs: entered / active', 'journey messages', 'workerd lines'],
      cpu.map((run) => [
        ...pairCells(run, CPU_VARIANT_LABELS[run.variant]),
        run.variant === 'live' ? `${int(run.runs.entered)} / ${int(run.runs.active)}` : '-',
        statusText(run.messages),
        int(run.workerdLines),
      ]),
    ).map((line) => `  ${line}`),
  ]
  for (const run of cpu.filter((r) => r.workerdLines > 0)) {
    const kinds = Object.entries(run.workerdKinds)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([kind, n]) => `${int(n)}× ${kind}`)
    summary.push(
      `  pair ${run.pair}, ${CPU_VARIANT_LABELS[run.variant]}: workerd printed ${int(run.workerdLines)} lines, most ${kinds.join('; ')}`,
    )
  }
  summary.push(...leftOut.lines)
  const comparisons = [
    compareCpu('first visits', pairsOf(cpu, 'firstVisit')),
    compareCpu('returning single events', pairsOf(cpu, 'returning')),
  ]
  summary.push(...comparisons.map((c) => `  ${c.name}: ${c.figure} (${c.note})`))

  const [healthz, ...operations] = api.management
  summary.push(
    '',
    `3. Management API, ${JOURNEY_TARGETS.clients} concurrent clients, each sending its next request as soon as ` +
      `the last is answered, ${plan.management.seconds} s per operation (creates stop at ` +
      `${plan.management.maxJourneys} journeys and ${plan.management.maxSegments} segments); D1 then held ` +
      `${int(api.population.contacts)} contacts and ${int(api.population.messages)} messages; metrics read for the ` +
      `journey of part 1 (its runs and messages). Each operation starts once workerd and other processes ` +
      `idle (at most ${config.quietWait} s), with ${plan.management.aloneRequests} requests ` +
      `from one client alone (at most ${plan.management.aloneSeconds} s): "alone" is their p50 (with their number when fewer). ms; × = p95 ÷ ` +
      `the baseline's; workerd ms/req = its CPU under load ÷ requests (on its one thread, 16 in ` +
      `flight wait about 16 × that); other = cores other processes used meanwhile.`,
    ...table(
      [
        'operation',
        'alone',
        'requests',
        'p50',
        'p95',
        'p99',
        'max',
        '× p95',
        'workerd ms/req',
        'other',
        'failed',
      ],
      api.management.map((run) => [
        run.name,
        run.alone.count < plan.management.aloneRequests && run.alone.count > 0
          ? `${fixed(run.alone.p50)} (${run.alone.count})`
          : fixed(run.alone.p50),
        int(run.latency.count),
        fixed(run.latency.p50),
        fixed(run.latency.p95),
        fixed(run.latency.p99),
        fixed(run.latency.max),
        healthz ? fixed(run.latency.p95 / healthz.latency.p95) : '-',
        run.workerdMsPerRequest === null ? '-' : fixed(run.workerdMsPerRequest),
        cores(run.otherCores),
        run.skipped ? `not run: ${run.skipped}` : int(run.failed),
      ]),
    ).map((line) => `  ${line}`),
  )

  const verdicts: Verdict[] = [
    judgeQueued(journey.request),
    judgeOnce(journey.books),
    ...operations.map(judgeOperation),
  ]
  summary.push(
    '',
    'Targets (bench/journeys-targets.ts)',
    ...table(
      ['target', 'figure', 'goal', 'verdict'],
      verdicts.map((v) => [v.name, v.figure, v.target, verdictLine(v)]),
    ).map((line) => `  ${line}`),
    `  not judged: the CPU ratios (the issue asks for them measured, with no bound; live segments' ` +
      `≤ ${JOURNEY_TARGETS.referenceCpuRatio} is printed beside them as a yardstick)`,
    `  section took ${minutes(durations.apiSeconds)} for latency and the API, ` +
      `${minutes(durations.cpuSeconds)} for the CPU pairs`,
  )
  const checks: Check[] = [...verdictChecks(verdicts), leftOut.check]
  return {
    summary,
    checks,
    data: { plan, targets: JOURNEY_TARGETS, api, cpu, failed, comparisons, verdicts, durations },
  }
}

function booksLine(run: LatencyRun): string {
  const books = run.books
  if (!books) return 'no journey messages read'
  return (
    `D1 for ${int(books.events)} journey events: ${int(books.contactsWithMessage)} with a message ` +
    `(${int(books.extraMessages)} extra), ${int(books.contactsWithEmail)} with a logged email ` +
    `(${int(books.extraEmails)} extra)`
  )
}

function journeyMix(): string {
  const kinds = new Map<string, number>()
  for (const j of LIVE_JOURNEYS) kinds.set(j.kind, (kinds.get(j.kind) ?? 0) + 1)
  const words: Record<string, string> = {
    'workload event': 'on events the workload sends',
    segment: 'on segment moves',
    'never entered': 'on events it never sends or by API',
  }
  return [...kinds].map(([kind, n]) => `${n} ${words[kind] ?? kind}`).join(', ')
}

function pairsOf(runs: CpuRun[], shape: 'firstVisit' | 'returning'): CpuPair[] {
  const pairs = [...new Set(runs.map((run) => run.pair))]
  return pairs.map((pair) => {
    const of = (variant: CpuVariant) => runs.find((r) => r.pair === pair && r.variant === variant)
    const none = of('none')
    const live = of('live')
    return {
      none: none ? cpuPerEvent(none[shape]) : null,
      live: live ? cpuPerEvent(live[shape]) : null,
      failed: [none, live].reduce((sum, run) => sum + (run ? failures(run[shape]) : 0), 0),
    }
  })
}

function statusText(statuses: Record<string, number>): string {
  const entries = Object.entries(statuses)
  if (entries.length === 0) return '-'
  return entries.map(([status, n]) => `${status} ${int(n)}`).join(', ')
}

function failureText(failures: Record<string, number>): string {
  const entries = Object.entries(failures)
  if (entries.length === 0) return '0'
  return entries.map(([reason, n]) => `${int(n)}× ${reason}`).join('; ')
}

/** A figure, or '-' when nothing was measured. */
function fixed(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-'
}
