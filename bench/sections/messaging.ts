import { cpus } from 'node:os'
import { evictionsBefore, expectStatus, quietBefore } from '../api.ts'
import type { BenchConfig } from '../config.ts'
import type { BenchDb } from '../d1-client.ts'
import { cpuSnapshot, cpuUsage, type CpuUsage } from '../load/cpu.ts'
import { startFakeProviders, type FakeCounts } from '../messaging-fake-providers.ts'
import {
  configureProviders,
  createTemplate,
  REQUEST_CONCURRENCY,
  RESEND_EVERY,
  seedContacts,
  sendMessages,
  TEMPLATE,
  MAX_OPEN_OBJECTS,
  objectGate,
  type Failures,
  type SendPhase,
} from '../messaging-load.ts'
import { measureRenderBaseline, type RenderBaseline } from '../messaging-render.ts'
import { eventsNamed, readMessageRows, waitForSettlement } from '../messaging-settle.ts'
import {
  errorRate,
  settleSeconds,
  tallyMessages,
  type MessageRow,
  type Tally,
} from '../messaging-tally.ts'
import { progress, sleep } from '../progress.ts'
import { int, ms, pct, table } from '../report.ts'
import { withCairn, type CairnTarget } from '../runtime.ts'
import type { Check, Section } from './section.ts'

/**
 * Issue #23: sending through providers that fail. One POST /api/messages/send per contact
 * (marketing consent seeded first) through the real send path (the contact's object, the
 * cairn-messages queue and its consumer, the provider health object) to two fake providers on
 * 127.0.0.1 (messaging-fake-providers.ts): SendGrid first, which is down, and Resend second,
 * which fails 30% of requests. It counts what the fake accepted against what Cairn says, and
 * prints messages/s, the messages lost or duplicated, the retries, how often the down provider
 * was still tried, and workerd's CPU per message against rendering alone in Node.
 */

const PHASE = 'messaging'
const FAILURE_RATE = 0.3
const SENDGRID_KEY = 'SG.bench-down-provider-key'
const RESEND_KEY = 're_bench_flaky_provider_key'
const FIRST_PROVIDER = 'sendgrid'
/**
 * The down provider may be tried by the consumer's batches decided before its circuit opened
 * (five failures in a row, batches of 10), by one probe per cool-down (60 s, doubling), and by
 * every message sent while the flaky provider's circuit is open too: then a message tries every
 * provider rather than none (edge/messaging/send-consumer.ts). At most 1% of the messages, beyond
 * the first two batches: locally the first message goes alone and the next batch of 10 is decided
 * before its report opens the circuit, 11 tries whatever the number of messages (a quick run's
 * 1,000 would otherwise be held to 10).
 */
const DOWN_TRIES_SHARE = 0.01
const DOWN_TRIES_BEFORE_OPEN = 20
/** How long Email Sent events may take to reach D1 after the messages settled. */
const EVENTS_WAIT_MS = 60_000

interface Plan {
  contacts: number
  /** The wait for every message to settle gives up after this. */
  settleMinutes: number
}

function planFor(config: BenchConfig): Plan {
  return { contacts: config.contacts, settleMinutes: config.quick ? 3 : 20 }
}

interface SendRun {
  /** heldSeconds: how long the load waited for workerd to evict objects (MAX_OPEN_OBJECTS). */
  seeding: { identifySeconds: number; consentSeconds: number; heldSeconds: number }
  sendPhase: SendPhase & { heldSeconds: number }
  /** Requests of the seeding and the sends that failed and were made again, by reason. */
  failures: Failures
  settled: boolean
  /** From the first send request to the end of the wait, and workerd's CPU over it. */
  seconds: number
  cpu: CpuUsage
  /** workerd's CPU over the send requests alone (the consumer was sending meanwhile). */
  requestCpu: CpuUsage
  startMs: number
  rows: MessageRow[]
  counts: FakeCounts
  downTimes: number[]
  refusals: Record<string, number>
  tally: Tally
  emailSentEvents: number
  circuits: { kind: string; health: { state: string; failures: number } }[]
  workerdLines: number
  workerdKinds: Record<string, number>
}

export const messagingSection: Section = {
  name: 'messaging',
  async run(config) {
    const plan = planFor(config)
    const run = await withCairn(PHASE, config, (target) => sendAll(target, config, plan))
    progress(PHASE, `baseline: rendering the template ${int(plan.contacts)} times in Node`)
    const baseline = await measureRenderBaseline(plan.contacts)
    return summarise(config, plan, run, baseline)
  },
}

async function sendAll(target: CairnTarget, config: BenchConfig, plan: Plan): Promise<SendRun> {
  const fake = await startFakeProviders({
    failureRate: FAILURE_RATE,
    seed: config.seed,
    sendgridKey: SENDGRID_KEY,
    resendKey: RESEND_KEY,
  })
  try {
    await configureProviders(target, {
      sendgridBaseUrl: fake.sendgridBaseUrl,
      resendBaseUrl: fake.resendBaseUrl,
      sendgridKey: SENDGRID_KEY,
      resendKey: RESEND_KEY,
    })
    const templateId = await createTemplate(target)
    progress(
      PHASE,
      `providers: sendgrid (down, ${fake.sendgridBaseUrl}), resend (fails ${pct(FAILURE_RATE)}, ` +
        `${fake.resendBaseUrl}, seed ${config.seed}); template ${templateId} (${TEMPLATE.kind})`,
    )
    const failures: Failures = {}
    const seedGate = objectGate(target)
    const seeding = await seedContacts(target, plan.contacts, { failures, gate: seedGate })
    await evictionsBefore(target, PHASE)
    await quietBefore(config, PHASE)

    progress(PHASE, `sending ${int(plan.contacts)} messages, ${REQUEST_CONCURRENCY} at a time`)
    const before = cpuSnapshot()
    const startMs = Date.now()
    const sendGate = objectGate(target)
    const sendPhase = await sendMessages(target, plan.contacts, templateId, {
      failures,
      gate: sendGate,
    })
    const requestCpu = cpuUsage(before, cpuSnapshot(), cpus().length)
    const created = new Set(sendPhase.sends.map((s) => s.messageId)).size
    progress(
      PHASE,
      `${int(created)} messages made in ${sendPhase.seconds.toFixed(1)} s ` +
        `(p50 ${ms(sendPhase.latency.p50)} ms, p99 ${ms(sendPhase.latency.p99)} ms), ` +
        `${int(sendPhase.resends.length)} sent again; waiting for them to settle (at most ${plan.settleMinutes} min)`,
    )
    const wait = await waitForSettlement(target.db, fake, created, startMs, plan.settleMinutes * 60)
    const cpu = cpuUsage(before, cpuSnapshot(), cpus().length)
    const rows = await readMessageRows(target.db)
    const sent = rows.filter((row) => row.status === 'sent').length
    const emailSentEvents = await waitForEvents(target.db, sent)
    const providers = await expectStatus<{ items: SendRun['circuits'] }>(
      200,
      target,
      'GET',
      '/api/messaging/providers',
    )
    const tally = tallyMessages({
      sends: sendPhase.sends,
      resends: sendPhase.resends,
      rows,
      accepted: fake.accepted(),
      firstProvider: FIRST_PROVIDER,
      now: Date.now(),
    })
    return {
      seeding: { ...seeding, heldSeconds: seedGate.heldSeconds() },
      sendPhase: { ...sendPhase, heldSeconds: sendGate.heldSeconds() },
      failures,
      settled: wait.settled,
      seconds: wait.seconds,
      cpu,
      requestCpu,
      startMs,
      rows,
      counts: fake.counts(),
      downTimes: [...fake.downTimes()],
      refusals: fake.refusals(),
      tally,
      emailSentEvents,
      circuits: providers.body.items,
      workerdLines: target.runtimeOutput.lines,
      workerdKinds: target.runtimeOutput.kinds,
    }
  } finally {
    await fake.close()
  }
}

/** Email Sent events reach D1 through the events queue, shortly after their messages. */
async function waitForEvents(db: BenchDb, sent: number) {
  const deadline = performance.now() + EVENTS_WAIT_MS
  for (;;) {
    const n = await eventsNamed(db, 'Email Sent')
    if (n >= sent || performance.now() >= deadline) return n
    await sleep(1000)
  }
}

function summarise(config: BenchConfig, plan: Plan, run: SendRun, baseline: RenderBaseline) {
  const { tally, counts, sendPhase } = run
  const settledRows = run.rows.filter((row) => row.status !== 'queued')
  const lastSettled = Math.max(...settledRows.map((row) => Date.parse(row.updatedAt)))
  const wallSeconds = (lastSettled - run.startMs) / 1000
  const perSecond = settledRows.length / wallSeconds
  const [half, p99, all] = settleSeconds(run.rows, run.startMs, tally.created, [0.5, 0.99, 1])
  const rateTo = (share: number, at: number | null | undefined) =>
    at ? `${((share * tally.created) / at).toFixed(1)} to ${pct(share)}` : `- to ${pct(share)}`
  const deliveries = tally.deliveriesTotal
  const workerdMs = cpuMs(run.cpu, run.seconds)
  const perMessage = workerdMs === null ? null : workerdMs / Math.max(1, tally.created)
  const requestMs = cpuMs(run.requestCpu, sendPhase.seconds)
  const downAttempts = tally.attempts[FIRST_PROVIDER] ?? {}
  const flakyAttempts = tally.attempts.resend ?? {}
  const rate = errorRate(tally)

  const summary = [
    `Messaging${config.quick ? ' (--quick: fewer contacts)' : ''}: ${int(tally.created)} messages, one ` +
      `POST /api/messages/send each (${REQUEST_CONCURRENCY} at a time, a ${TEMPLATE.kind} template; ` +
      `marketing consent seeded through /v1/consent), through sendgrid (down: every request 503) ` +
      `then resend (${pct(FAILURE_RATE)} of requests 500, seed ${config.seed}), both fakes on 127.0.0.1.`,
    `  seeding: ${int(plan.contacts)} identifies in ${run.seeding.identifySeconds.toFixed(1)} s, ` +
      `consents in ${run.seeding.consentSeconds.toFixed(1)} s`,
    `  send requests: ${sendPhase.seconds.toFixed(1)} s, ${int(sendPhase.sends.length / sendPhase.seconds)} req/s, ` +
      `p50 ${ms(sendPhase.latency.p50)} ms, p99 ${ms(sendPhase.latency.p99)} ms, max ${ms(sendPhase.latency.max)} ms ` +
      `(${int(sendPhase.resends.length)} of them sent twice)`,
    `  held back while workerd had over ${int(MAX_OPEN_OBJECTS)} Durable Objects open (its SQLite heap): ` +
      `${run.seeding.heldSeconds.toFixed(1)} s of the seeding, ${sendPhase.heldSeconds.toFixed(1)} s of the send requests`,
    `  requests of the seeding and the sends made again after a failure: ${failureText(run.failures)}`,
    `  settled: ${int(settledRows.length)} of ${int(tally.created)} ` +
      `(${Object.entries(tally.statuses)
        .map(([status, n]) => `${status} ${int(n)}`)
        .join(', ')})${run.settled ? '' : `; the wait gave up after ${plan.settleMinutes} min`}`,
    `  messages/s: ${perSecond.toFixed(1)} (settled ÷ ${wallSeconds.toFixed(1)} s from the first send request to the last ` +
      `settlement, the retries' backoff included); ${rateTo(0.5, half)}, ${rateTo(0.99, p99)} of them`,
    `  time to settle from the first send request: 50% ${seconds(half)}, 99% ${seconds(p99)}, 100% ${seconds(all)}`,
    `  queue deliveries per message: ${Object.entries(tally.deliveries)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([n, count]) => `${n}: ${int(count)}`)
      .join(', ')}; ${int(tally.retried)} needed a retry; ` +
      `${int(tally.allSkippedDeliveries)} deliveries found every circuit open`,
    `  resend (flaky): ${int(counts.flaky)} requests, ${int(counts.flakyFailed)} answered 500 ` +
      `(${pct(counts.flakyFailed / Math.max(1, counts.flaky))}), ${int(counts.accepted)} accepted; ` +
      `attempts recorded ${attemptText(flakyAttempts)}`,
    `  sendgrid (down): tried ${int(counts.down)} times for ${int(tally.created)} messages; attempts ` +
      `recorded ${attemptText(downAttempts)}; requests at ${downTimeline(run.downTimes, run.startMs)}`,
    `  circuits at the end: ${run.circuits.map((c) => `${c.kind} ${c.health.state} (${c.health.failures} failures in a row)`).join(', ')}`,
    `  lost ${int(tally.lost)} (of them "sent" but never accepted: ${int(tally.lostButSent)}), ` +
      `duplicated ${int(tally.duplicated)} (${int(tally.extraAcceptances)} extra acceptances): ` +
      `${(rate * 100).toFixed(3)}% of messages; failed in Cairn ${int(tally.statuses.failed ?? 0)}; ` +
      `accepted while Cairn says failed or queued ${int(tally.acceptedNotSent)}; ` +
      `wrong recipient or subject ${int(tally.misaddressed)}; accepted ids never made ${int(tally.unknownAccepted)}`,
    `  sent again with the same idempotency key: ${int(tally.resends)} (one in ${RESEND_EVERY}); ` +
      `answered with another message or not as a duplicate: ${int(tally.resendsNotDuplicate)}`,
    `  Email Sent events in D1: ${int(run.emailSentEvents)} for ${int(tally.statuses.sent ?? 0)} sent messages`,
    '',
    `  Cost per message: workerd's CPU from the first send request to the last settlement ÷ messages, ` +
      `against rendering the same template for the same contacts in Node (edge/messaging/render.ts ` +
      `alone, ${int(baseline.renders)} renders, ${baseline.htmlChars} characters of HTML)`,
    ...table(
      ['what', 'ms/message', '× render CPU'],
      [
        ['render alone (Node CPU)', baseline.cpuMs.toFixed(2), '1.0'],
        [
          'render alone (wall)',
          baseline.wallMs.toFixed(2),
          (baseline.wallMs / baseline.cpuMs).toFixed(1),
        ],
        [
          'send path (workerd CPU, whole run)',
          perMessage === null ? '-' : perMessage.toFixed(2),
          perMessage === null ? '-' : (perMessage / baseline.cpuMs).toFixed(1),
        ],
        [
          `  per queue delivery (${int(deliveries)})`,
          perMessage === null ? '-' : ((perMessage * tally.created) / deliveries).toFixed(2),
          perMessage === null
            ? '-'
            : ((perMessage * tally.created) / deliveries / baseline.cpuMs).toFixed(1),
        ],
        [
          'workerd CPU while the send requests ran',
          requestMs === null ? '-' : (requestMs / Math.max(1, tally.created)).toFixed(2),
          requestMs === null ? '-' : (requestMs / tally.created / baseline.cpuMs).toFixed(1),
        ],
      ],
    ).map((line) => `    ${line}`),
    `    workerd ${run.cpu.runtime?.toFixed(2) ?? '-'} cores over ${run.seconds.toFixed(0)} s, ` +
      `bench process (load and fakes) ${run.cpu.generator?.toFixed(2) ?? '-'}, other ${run.cpu.other?.toFixed(2) ?? '-'}`,
  ]
  if (run.workerdLines > 0) {
    const kinds = Object.entries(run.workerdKinds)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([kind, n]) => `${int(n)}× ${kind}`)
    summary.push(`  workerd printed ${int(run.workerdLines)} lines, most ${kinds.join('; ')}`)
  }
  const reasons = Object.entries(tally.failureReasons)
  if (reasons.length > 0) {
    summary.push(
      '  failed, by reason:',
      ...reasons
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([r, n]) => `    ${int(n)}× ${r}`),
    )
  }
  const refused = Object.entries(run.refusals)
  if (refused.length > 0) {
    summary.push(`  the fakes refused: ${refused.map(([r, n]) => `${int(n)}× ${r}`).join(', ')}`)
  }

  const checks: Check[] = [
    {
      name: 'messaging: no message lost or duplicated (target < 0.1%: zero)',
      ok: tally.lost === 0 && tally.duplicated === 0 && tally.created === plan.contacts,
      detail:
        `${int(tally.lost)} lost, ${int(tally.duplicated)} duplicated of ${int(tally.created)} made ` +
        `for ${int(plan.contacts)} contacts (${(rate * 100).toFixed(3)}%)`,
    },
    {
      name: 'messaging: no message stuck (each settled, or waiting out its retry backoff)',
      ok: tally.stuck === 0,
      detail:
        `${int(tally.unsettled)} not settled after ${plan.settleMinutes} min, ${int(tally.stuck)} of ` +
        `them overdue; 100% settled ${all === null ? 'not reached' : `at ${seconds(all)}`}`,
    },
    {
      name: "messaging: the provider's and Cairn's books agree",
      ok:
        tally.acceptedNotSent === 0 &&
        tally.misaddressed === 0 &&
        tally.unknownAccepted === 0 &&
        tally.missingRows === 0 &&
        run.emailSentEvents === (tally.statuses.sent ?? 0),
      detail:
        `accepted but failed or queued ${tally.acceptedNotSent}, wrong recipient or subject ${tally.misaddressed}, ` +
        `unknown ids ${tally.unknownAccepted}, missing rows ${tally.missingRows}, ` +
        `Email Sent events ${int(run.emailSentEvents)} for ${int(tally.statuses.sent ?? 0)} sent`,
    },
    {
      name: 'messaging: a repeated idempotency key sends nothing more',
      ok: tally.resends > 0 && tally.resendsNotDuplicate === 0 && tally.duplicated === 0,
      detail: `${tally.resends} sent again, ${tally.resendsNotDuplicate} answered otherwise`,
    },
    {
      name:
        `messaging: the down provider is skipped once its circuit opens ` +
        `(≤ ${DOWN_TRIES_BEFORE_OPEN} + ${DOWN_TRIES_SHARE * 100}% of messages)`,
      ok: counts.down <= DOWN_TRIES_BEFORE_OPEN + DOWN_TRIES_SHARE * tally.created,
      detail: `tried ${int(counts.down)} times for ${int(tally.created)} messages`,
    },
  ]
  return {
    summary,
    checks,
    data: {
      plan,
      failureRate: FAILURE_RATE,
      seed: config.seed,
      seeding: run.seeding,
      sendRequests: {
        seconds: sendPhase.seconds,
        latency: sendPhase.latency,
        cpu: run.requestCpu,
      },
      failures: run.failures,
      settled: run.settled,
      seconds: run.seconds,
      messagesPerSecond: perSecond,
      settleSeconds: { half, p99, all },
      counts,
      downTimes: run.downTimes.map((t) => (t - run.startMs) / 1000),
      tally,
      errorRate: rate,
      emailSentEvents: run.emailSentEvents,
      circuits: run.circuits,
      cpu: run.cpu,
      workerdCpuMsPerMessage: perMessage,
      baseline,
      workerdLines: run.workerdLines,
      workerdKinds: run.workerdKinds,
    },
  }
}

/** workerd's CPU over an interval, in ms. */
function cpuMs(usage: CpuUsage, seconds: number): number | null {
  return usage.runtime === null ? null : usage.runtime * seconds * 1000
}

function seconds(value: number | null | undefined): string {
  return value === null || value === undefined ? 'not reached' : `${value.toFixed(1)} s`
}

function failureText(failures: Failures): string {
  const entries = Object.entries(failures)
  if (entries.length === 0) return 'none'
  return entries.map(([reason, n]) => `${int(n)}× ${reason}`).join('; ')
}

function attemptText(byStatus: Record<string, number>): string {
  const parts = Object.entries(byStatus).map(([status, n]) => `${status} ${int(n)}`)
  return parts.length > 0 ? parts.join(', ') : 'none'
}

/** When the down provider was asked, in seconds after the first send: its circuit's probes show. */
function downTimeline(times: readonly number[], startMs: number): string {
  if (times.length === 0) return '-'
  const at = times.map((t) => ((t - startMs) / 1000).toFixed(1))
  const shown = at.length > 24 ? [...at.slice(0, 12), '…', ...at.slice(-11)] : at
  return `${shown.join(' ')} s`
}
