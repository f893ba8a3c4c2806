import { call, cores, withCpu } from './api.ts'
import { LIVE_JOURNEYS, withRefs } from './journeys-definitions.ts'
import type { Refs } from './journeys-setup.ts'
import { JOURNEY_TARGETS, type OperationRun } from './journeys-targets.ts'
import { LatencyRecorder, type LatencySummary } from './load/latency.ts'
import { progress } from './progress.ts'
import { int } from './report.ts'
import type { CairnTarget } from './runtime.ts'
import { TYPICAL_RULE } from './segments-rules.ts'

/**
 * The journey and segment management API under JOURNEY_TARGETS.clients concurrent clients, one
 * operation at a time, each client sending its next request as soon as the last is answered: a
 * journey created, a version saved, a version published, a journey's metrics read; a segment
 * created, a preview, a segment read; and, as the baseline, `GET /healthz`, which does nothing.
 * Operations that create run until a count as well as a time, so the account stays within its
 * limits (500 segments).
 */

const PHASE = 'journeys'
/** The journey templates of the library (domain/journeys/templates.ts), made in one call each. */
const LIBRARY = ['welcome-series', 'abandoned-cart', 'post-purchase', 're-engagement']

export interface ManagementPlan {
  /** Seconds each operation runs under load. */
  seconds: number
  /** Before that, one client alone: at most this many requests, for at most this long. */
  aloneRequests: number
  aloneSeconds: number
  /** Journeys and segments created, at most. */
  maxJourneys: number
  maxSegments: number
}

interface Request {
  method: string
  path: string
  body?: unknown
  auth?: 'admin' | 'none'
}

interface Operation {
  name: string
  /** The status a request of it should answer. */
  expect: number
  /** At most this many requests; unbounded when absent. */
  max?: number
  /** Why it cannot run (what an earlier operation should have made is missing), or null. */
  missing?: () => string | null
  request(n: number): Request
  answered?(n: number, body: unknown): void
}

/** Each operation's run, in the order run; the first is the baseline. */
export async function measureManagement(
  target: CairnTarget,
  plan: ManagementPlan,
  context: {
    refs: Refs
    metricsJourney: string
    /** Before each operation: waits (bounded) for workerd to finish what the last one started. */
    quiet: () => Promise<void>
  },
): Promise<OperationOutcome[]> {
  const journeys: string[] = []
  const versions = new Map<string, number[]>()
  const segments: string[] = []
  const definitions = LIVE_JOURNEYS.map((j) => withRefs(j.definition, context.refs))
  const journeyOf = (n: number) => journeys[n % journeys.length]!
  const operations: Operation[] = [
    {
      name: 'baseline: GET /healthz',
      expect: 200,
      request: () => ({ method: 'GET', path: '/healthz', auth: 'none' }),
    },
    {
      name: 'create a journey (POST /api/journeys)',
      expect: 201,
      max: plan.maxJourneys,
      request: (n) => ({ method: 'POST', path: '/api/journeys', body: { name: `bench api ${n}` } }),
      answered: (_, body) => journeys.push((body as { id: string }).id),
    },
    {
      name: 'create from the library (POST /api/journeys {template})',
      expect: 201,
      max: plan.maxJourneys,
      request: (n) => ({
        method: 'POST',
        path: '/api/journeys',
        body: { name: `bench library ${n}`, template: LIBRARY[n % LIBRARY.length] },
      }),
      answered: (_, body) => journeys.push((body as { id: string }).id),
    },
    {
      name: 'save a version (POST /api/journeys/:id/versions)',
      expect: 201,
      missing: () => (journeys.length === 0 ? 'no journey was created' : null),
      request: (n) => ({
        method: 'POST',
        path: `/api/journeys/${encodeURIComponent(journeyOf(n))}/versions`,
        body: { definition: definitions[n % definitions.length] },
      }),
      answered: (n, body) => {
        const id = journeyOf(n)
        versions.set(id, [...(versions.get(id) ?? []), (body as { version: number }).version])
      },
    },
    {
      name: 'publish (POST /api/journeys/:id/publish)',
      expect: 200,
      missing: () => (versions.size === 0 ? 'no version was saved' : null),
      request: (n) => {
        // Journeys whose versions were saved, each publishing its versions in turn.
        const saved = [...versions.keys()]
        const id = saved[n % saved.length]!
        const own = versions.get(id)!
        return {
          method: 'POST',
          path: `/api/journeys/${encodeURIComponent(id)}/publish`,
          body: { version: own[Math.floor(n / saved.length) % own.length] },
        }
      },
    },
    {
      name: 'metrics (GET /api/journeys/:id/metrics)',
      expect: 200,
      request: () => ({
        method: 'GET',
        path: `/api/journeys/${encodeURIComponent(context.metricsJourney)}/metrics`,
      }),
    },
    {
      name: 'create a segment (POST /api/segments)',
      expect: 201,
      max: plan.maxSegments,
      request: (n) => ({
        method: 'POST',
        path: '/api/segments',
        body: {
          name: `bench api ${n}`,
          // No time window: a timed rule would have every contact evaluate it again.
          rule: {
            all: [{ trait: 'plan', op: 'eq', value: 'pro' }, { performed: 'Order Completed' }],
          },
        },
      }),
      answered: (_, body) => segments.push((body as { id: string }).id),
    },
    {
      name: 'preview a segment (POST /api/segments/preview)',
      expect: 200,
      request: () => ({
        method: 'POST',
        path: '/api/segments/preview',
        body: { rule: TYPICAL_RULE.rule },
      }),
    },
    {
      name: 'read a segment (GET /api/segments/:id)',
      expect: 200,
      missing: () => (segments.length === 0 ? 'no segment was created' : null),
      request: (n) => ({
        method: 'GET',
        path: `/api/segments/${encodeURIComponent(segments[n % segments.length]!)}`,
      }),
    },
  ]
  const runs: OperationOutcome[] = []
  for (const operation of operations) {
    await context.quiet()
    runs.push(await measureOperation(target, operation, plan, context.quiet))
  }
  return runs
}

/** One operation: a few requests alone first (what it costs unloaded), then under load. */
export interface OperationOutcome extends OperationRun {
  /** One client: the same operation with nothing else in flight. */
  alone: LatencySummary
  seconds: number
  /** workerd's CPU per request under load (ms), and the cores other processes used meanwhile. */
  workerdMsPerRequest: number | null
  otherCores: number | null
  /** Failures by status and the start of the answer. */
  errors: Record<string, number>
}

async function measureOperation(
  target: CairnTarget,
  operation: Operation,
  plan: ManagementPlan,
  quiet: () => Promise<void>,
): Promise<OperationOutcome> {
  const missing = operation.missing?.() ?? null
  if (missing !== null) {
    progress(PHASE, `${operation.name}: not run, ${missing}`)
    const none = new LatencyRecorder().summary()
    return {
      name: operation.name,
      latency: none,
      alone: none,
      failed: 0,
      skipped: missing,
      seconds: 0,
      workerdMsPerRequest: null,
      otherCores: null,
      errors: {},
    }
  }
  const counter = { next: 0 }
  const alone = await runClients(target, operation, counter, {
    clients: 1,
    seconds: plan.aloneSeconds,
    max: Math.min(operation.max ?? Infinity, plan.aloneRequests),
  })
  // What the first requests started is not the operation's steady cost: the library's first
  // install creates segments, whose backfills run through the queue in the same workerd.
  await quiet()
  const { result: loaded, cpu } = await withCpu(() =>
    runClients(target, operation, counter, {
      clients: JOURNEY_TARGETS.clients,
      seconds: plan.seconds,
      max: operation.max ?? Infinity,
    }),
  )
  const requests = loaded.latency.count + loaded.failed
  const workerdMsPerRequest =
    cpu.runtime === null || requests === 0 ? null : (cpu.runtime * loaded.seconds * 1000) / requests
  progress(
    PHASE,
    `${operation.name}: alone p50 ${alone.latency.p50.toFixed(1)} ms; ${JOURNEY_TARGETS.clients} clients ` +
      `${int(loaded.latency.count)} answered in ${loaded.seconds.toFixed(1)} s, ` +
      `p50 ${loaded.latency.p50.toFixed(1)} ms, p95 ${loaded.latency.p95.toFixed(1)} ms, ` +
      `workerd ${workerdMsPerRequest?.toFixed(1) ?? '-'} ms/request, other ${cores(cpu.other)} cores` +
      (loaded.failed + alone.failed > 0
        ? `, ${loaded.failed + alone.failed} failed (${Object.keys({ ...alone.errors, ...loaded.errors })[0]})`
        : ''),
  )
  const errors = { ...alone.errors }
  for (const [reason, n] of Object.entries(loaded.errors))
    errors[reason] = (errors[reason] ?? 0) + n
  return {
    name: operation.name,
    latency: loaded.latency,
    alone: alone.latency,
    failed: loaded.failed + alone.failed,
    seconds: loaded.seconds,
    workerdMsPerRequest,
    otherCores: cpu.other,
    errors,
  }
}

/**
 * `clients` loops, each sending the operation's next request as soon as its last is answered,
 * until `seconds` pass or `max` requests of the operation (counted across runs) were sent.
 */
async function runClients(
  target: CairnTarget,
  operation: Operation,
  counter: { next: number },
  load: { clients: number; seconds: number; max: number },
) {
  const latency = new LatencyRecorder()
  const errors: Record<string, number> = {}
  let failed = 0
  const started = performance.now()
  const deadline = started + load.seconds * 1000
  const client = async () => {
    while (performance.now() < deadline && counter.next < load.max) {
      const n = counter.next++
      try {
        const request = operation.request(n)
        const answer = await call(target, request.method, request.path, {
          auth: request.auth ?? 'admin',
          body: request.body,
        })
        if (answer.status === operation.expect) {
          latency.record(answer.ms)
          operation.answered?.(n, answer.body)
        } else {
          failed++
          const reason = `${answer.status}: ${answer.text.slice(0, 120)}`
          errors[reason] = (errors[reason] ?? 0) + 1
        }
      } catch (error) {
        failed++
        const reason = (error as Error).message.slice(0, 120)
        errors[reason] = (errors[reason] ?? 0) + 1
      }
    }
  }
  await Promise.all(Array.from({ length: load.clients }, client))
  return {
    latency: latency.summary(),
    failed,
    errors,
    seconds: (performance.now() - started) / 1000,
  }
}
