import { createHash, randomBytes } from 'node:crypto'
import { chainHash, type AuditContent } from '../../domain/audit-chain.ts'
import { call, cores, expectStatus, ingest, quietBefore, summarize, withCpu } from '../api.ts'
import type { BenchConfig } from '../config.ts'
import { countOf } from '../drain.ts'
import type { LatencySummary } from '../load/latency.ts'
import { progress, sleep } from '../progress.ts'
import { int, ms, table } from '../report.ts'
import { withCairn, type CairnTarget } from '../runtime.ts'
import { seeded } from '../workload.ts'
import type { Check, Section } from './section.ts'

/**
 * Issue 4, under miniflare like the ingestion bench:
 * (a) erasure: one person with 10,000 events under two linked identifiers (an anonymous id,
 *     then an identify), stored in the ContactDO and carried to D1 by the queue; the time from
 *     `POST /api/privacy/erasure` until `GET /api/privacy/erasure/:id` says completed;
 * (b) a person's whole trail (audit entries, consent ledger, erasure receipts) with 100,000
 *     hash-chained audit rows present, beside the same requests on a near-empty log and
 *     `GET /healthz`, all in this run; and `GET /api/audit/verify` over the whole chain.
 */

const PHASE = 'privacy'
const SITE = 'https://shop.example'
const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36'
const ERASURE_TARGET_S = 5
const TRAIL_TARGET_MS = 200
const POLL_MS = 20

interface Plan {
  events: number
  batchSize: number
  neighbourEvents: number
  auditRows: number
  subjects: number
  repetitions: number
}

function planFor(config: BenchConfig): Plan {
  return config.quick
    ? {
        events: 2_000,
        batchSize: 200,
        neighbourEvents: 20,
        auditRows: 20_000,
        subjects: 2_000,
        repetitions: 20,
      }
    : {
        events: 10_000,
        batchSize: 200,
        neighbourEvents: 20,
        auditRows: 100_000,
        subjects: 10_000,
        repetitions: 50,
      }
}

interface ErasureStatus {
  id: string
  status: 'pending' | 'running' | 'completed' | 'failed'
  requestedAt: string
  completedAt: string | null
  error: string | null
  receipt: {
    contacts: number
    identifiers: number
    stores: { store: string; action: string; removed: Record<string, number>; at: string }[]
  } | null
}

interface TrailTiming {
  label: string
  auditRows: number
  healthz: LatencySummary
  auditAlone: LatencySummary
  trail: LatencySummary
  parts: { audit: LatencySummary; consent: LatencySummary; erasures: LatencySummary }
  /** Entries the audit query returned for the person (last repetition). */
  auditEntries: number
  consentLedgerRows: number
  erasureReceipts: number
  cpu: { runtime: number | null; generator: number | null; other: number | null }
}

export const privacySection: Section = {
  name: 'privacy',
  async run(config) {
    const plan = planFor(config)
    return withCairn(PHASE, config, async (target) => {
      const erasure = await measureErasure(target, plan, config)
      const trail = await measureTrail(target, plan, config)
      return summarise(plan, erasure, trail, target, config)
    })
  },
}

// ---------------------------------------------------------------------------------------------
// (a) erasure

async function measureErasure(target: CairnTarget, plan: Plan, config: BenchConfig) {
  const tag = randomBytes(4).toString('hex')
  const userId = `bench-erasure-${tag}`
  const anonymousId = `bench-anon-${tag}`
  const email = `${userId}@example.com`
  const neighbour = `bench-neighbour-${tag}`
  const now = Date.now()
  const span = 30 * 86_400_000
  const atOf = (i: number) =>
    new Date(now - span + Math.floor((i * span) / plan.events)).toISOString()

  progress(
    PHASE,
    `ingesting one person: ${int(plan.events)} events in batches of ${plan.batchSize} through /v1/batch ` +
      '(the first batch under an anonymous id, then an identify links it to the user)',
  )
  const ingestStarted = performance.now()
  let sent = 0
  let largestBody = 0
  const send = async (messages: Record<string, unknown>[]) => {
    const body = { batch: messages, sentAt: new Date().toISOString() }
    largestBody = Math.max(largestBody, Buffer.byteLength(JSON.stringify(body)))
    await ingest(target, '/v1/batch', body, messages.length)
    sent += messages.length
  }
  // Before login: browsing under the anonymous id only.
  const pre = Math.min(plan.batchSize, plan.events - 1)
  await send(Array.from({ length: pre }, (_, i) => personMessage(i, atOf(i), { anonymousId })))
  // The identify that links the anonymous contact to the user (merges it into the user's object).
  await send([
    {
      type: 'identify',
      userId,
      anonymousId,
      traits: { email, name: 'Bench Person', plan: 'pro' },
      timestamp: atOf(pre),
      messageId: `${tag}-identify`,
      context: { userAgent: UA, page: { url: `${SITE}/signup`, path: '/signup' } },
    },
  ])
  for (let i = pre + 1; i < plan.events; i += plan.batchSize) {
    const n = Math.min(plan.batchSize, plan.events - i)
    await send(
      Array.from({ length: n }, (_, k) =>
        personMessage(i + k, atOf(i + k), { userId, anonymousId }),
      ),
    )
    if (sent % 2000 < plan.batchSize) progress(PHASE, `  ${int(sent)} of ${int(plan.events)} sent`)
  }
  // A neighbour whose data must survive the erasure.
  await send(
    Array.from({ length: plan.neighbourEvents }, (_, i) =>
      personMessage(i, new Date(now - i * 60_000).toISOString(), { userId: neighbour }),
    ),
  )
  const ingestSeconds = (performance.now() - ingestStarted) / 1000
  progress(
    PHASE,
    `sent ${int(sent)} events in ${ingestSeconds.toFixed(1)} s (largest request ${int(largestBody / 1024)} KiB); waiting for D1`,
  )

  const drainStarted = performance.now()
  const expected = plan.events + plan.neighbourEvents
  const personRows = () =>
    countOf(
      target.db,
      'SELECT COUNT(*) AS n FROM events WHERE contact_key IN (?1, ?2) OR user_id = ?3 OR anonymous_id = ?4',
      userId,
      `anon:${anonymousId}`,
      userId,
      anonymousId,
    )
  const neighbourRows = () =>
    countOf(target.db, 'SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', neighbour)
  let lastReport = 0
  for (;;) {
    const n = await countOf(target.db, 'SELECT COUNT(*) AS n FROM events')
    if (n >= expected) break
    const waited = (performance.now() - drainStarted) / 1000
    if (waited > config.drainTimeout) {
      throw new Error(`D1 holds ${n} of ${expected} events after ${config.drainTimeout} s`)
    }
    if (waited - lastReport >= 3) {
      lastReport = waited
      progress(PHASE, `  D1 events ${int(n)} of ${int(expected)}, ${waited.toFixed(0)} s`)
    }
    await sleep(250)
  }
  const drainSeconds = (performance.now() - drainStarted) / 1000
  const before = { person: await personRows(), neighbour: await neighbourRows() }
  progress(
    PHASE,
    `D1 holds the person's ${int(before.person)} events and the neighbour's ${before.neighbour} (queue drained in ${drainSeconds.toFixed(1)} s)`,
  )
  // Let the last consumer batches and outbox sends settle, so the erasure runs on a quiet system.
  await sleep(1500)
  await quietBefore(config, PHASE)

  progress(
    PHASE,
    `POST /api/privacy/erasure {userId}, polling GET /api/privacy/erasure/:id every ${POLL_MS} ms`,
  )
  const started = performance.now()
  const posted = await expectStatus<{ id: string }>(202, target, 'POST', '/api/privacy/erasure', {
    body: { userId },
  })
  const postMs = posted.ms
  let status: ErasureStatus
  let polls = 0
  for (;;) {
    const answer = await expectStatus<ErasureStatus>(
      200,
      target,
      'GET',
      `/api/privacy/erasure/${encodeURIComponent(posted.body.id)}`,
    )
    polls++
    status = answer.body
    if (status.status === 'completed' || status.status === 'failed') break
    if (performance.now() - started > 120_000) {
      throw new Error(`erasure ${posted.body.id} still ${status.status} after 120 s`)
    }
    await sleep(POLL_MS)
  }
  const seconds = (performance.now() - started) / 1000
  if (status.status === 'failed') {
    throw new Error(`erasure ${status.id} failed: ${status.error}`)
  }
  const serverSeconds =
    status.completedAt !== null
      ? (Date.parse(status.completedAt) - Date.parse(status.requestedAt)) / 1000
      : null
  const after = { person: await personRows(), neighbour: await neighbourRows() }
  progress(
    PHASE,
    `erasure completed in ${seconds.toFixed(2)} s (server clock ${serverSeconds?.toFixed(2) ?? '-'} s, ${polls} polls); ` +
      `D1 rows left: person ${after.person}, neighbour ${after.neighbour} of ${before.neighbour}`,
  )
  return {
    userId,
    events: plan.events,
    ingestSeconds,
    largestRequestBytes: largestBody,
    drainSeconds,
    postMs,
    seconds,
    serverSeconds,
    polls,
    before,
    after,
    erasure: status,
  }
}

/** One event of the benchmarked person: page views and tracks, as a browser tracker sends them. */
function personMessage(
  i: number,
  timestamp: string,
  ids: { userId?: string; anonymousId?: string },
): Record<string, unknown> {
  const paths = [
    '/',
    '/pricing',
    '/products/trail-shoe',
    '/products/rain-jacket',
    '/cart',
    '/blog/gear',
  ]
  const path = paths[i % paths.length]!
  const context = {
    userAgent: UA,
    locale: 'de-DE',
    page: { url: `${SITE}${path}`, path, referrer: `${SITE}/`, title: `Shop ${path}` },
  }
  const base = { ...ids, timestamp, messageId: `${ids.userId ?? ids.anonymousId}-${i}`, context }
  return i % 5 < 2
    ? { type: 'page', name: `Shop ${path}`, properties: { path }, ...base }
    : {
        type: 'track',
        event:
          i % 5 === 2 ? 'Product Viewed' : i % 5 === 3 ? 'Product Added' : 'Checkout Step Viewed',
        properties: { sku: `sku-${i % 97}`, price: 19 + (i % 80), currency: 'EUR', step: i % 4 },
        ...base,
      }
}

// ---------------------------------------------------------------------------------------------
// (b) the trail

const SUBJECT_ACTIONS = [
  'GET /api/contacts/{id}',
  'GET /api/contacts/{id}/events',
  'GET /api/contacts/{id}/consent',
  'POST /api/contacts/{id}/consent',
  'GET /api/privacy/export/{contactId}',
]
const OTHER_ACTIONS = [
  'POST /api/segments',
  'PUT /api/segments/{id}',
  'POST /api/journeys',
  'POST /api/journeys/{id}/publish',
  'POST /api/keys',
  'GET /api/insights/live',
]
const ROLES = ['admin', 'compliance', 'marketer', 'analyst']

async function measureTrail(target: CairnTarget, plan: Plan, config: BenchConfig) {
  const subject = `bench-trail-${randomBytes(4).toString('hex')}`
  progress(PHASE, `trail subject ${subject}: an identify and two consent decisions (the ledger)`)
  await ingest(
    target,
    '/v1/identify',
    { userId: subject, traits: { email: `${subject}@example.com` }, context: { userAgent: UA } },
    1,
  )
  for (const [version, marketing] of [
    ['2026-10', true],
    ['2026-11', false],
  ] as const) {
    await expectStatus(200, target, 'POST', '/v1/consent', {
      auth: 'write',
      body: {
        userId: subject,
        purposes: { analytics: true, marketing, personalization: true, advertising: false },
        policyVersion: version,
        source: 'banner',
      },
    })
  }

  const baseline = await timeTrail(target, subject, plan, config, 'near-empty audit log')

  const head = await headOf(target)
  progress(
    PHASE,
    `filling audit_log: ${int(plan.auditRows)} chained rows after seq ${head.seq}, over ${int(plan.subjects)} subjects (${subject} among them)`,
  )
  const fillStarted = performance.now()
  const filled = await fillAuditLog(target, head, plan, subject)
  const fillSeconds = (performance.now() - fillStarted) / 1000
  progress(
    PHASE,
    `audit_log holds ${int(filled.rows)} rows (${fillSeconds.toFixed(1)} s to hash and insert); ${filled.subjectRows} about the trail subject`,
  )

  const loaded = await timeTrail(
    target,
    subject,
    plan,
    config,
    `${int(plan.auditRows)} audit rows present`,
  )

  await quietBefore(config, PHASE)
  progress(PHASE, 'GET /api/audit/verify over the whole chain')
  const verify = await expectStatus<{
    ok: boolean
    rows: number
    firstBroken?: { seq: number; reason: string }
  }>(200, target, 'GET', '/api/audit/verify')
  progress(
    PHASE,
    `verify: ${verify.body.ok ? 'ok' : `BROKEN at ${verify.body.firstBroken?.seq}: ${verify.body.firstBroken?.reason}`}, ` +
      `${int(verify.body.rows)} rows in ${ms(verify.ms)} ms`,
  )
  return {
    subject,
    baseline,
    loaded,
    fill: { ...filled, seconds: fillSeconds, afterSeq: head.seq },
    verify: { ms: verify.ms, ...verify.body },
  }
}

async function timeTrail(
  target: CairnTarget,
  subject: string,
  plan: Plan,
  config: BenchConfig,
  label: string,
): Promise<TrailTiming> {
  const key = encodeURIComponent(subject)
  const auditPath = `/api/audit?subject=${key}`
  const consentPath = `/api/contacts/${key}/consent`
  const erasuresPath = '/api/privacy/erasure?limit=50'
  const auditRows = await countOf(target.db, 'SELECT COUNT(*) AS n FROM audit_log')
  const samples = {
    healthz: [] as number[],
    auditAlone: [] as number[],
    trail: [] as number[],
    audit: [] as number[],
    consent: [] as number[],
    erasures: [] as number[],
  }
  let last = { auditEntries: 0, consentLedgerRows: 0, erasureReceipts: 0 }
  const warmups = 5
  await quietBefore(config, PHASE)
  progress(
    PHASE,
    `trail with ${label} (${int(auditRows)} rows): ${plan.repetitions} repetitions of healthz, ` +
      'the audit query alone, then audit + consent ledger + erasure receipts in parallel',
  )
  const { cpu } = await withCpu(async () => {
    for (let r = 0; r < warmups + plan.repetitions; r++) {
      const measured = r >= warmups
      const health = await call(target, 'GET', '/healthz', { auth: 'none' })
      expectOk(health, '/healthz')
      const alone = await call(target, 'GET', auditPath)
      expectOk(alone, auditPath)
      const started = performance.now()
      const [audit, consent, erasures] = await Promise.all([
        call<{ items: unknown[] }>(target, 'GET', auditPath),
        call<{ ledger: unknown[] }>(target, 'GET', consentPath),
        call<{ items: unknown[] }>(target, 'GET', erasuresPath),
      ])
      const trailMs = performance.now() - started
      expectOk(audit, auditPath)
      expectOk(consent, consentPath)
      expectOk(erasures, erasuresPath)
      last = {
        auditEntries: audit.body.items.length,
        consentLedgerRows: consent.body.ledger?.length ?? 0,
        erasureReceipts: erasures.body.items.length,
      }
      if (!measured) continue
      samples.healthz.push(health.ms)
      samples.auditAlone.push(alone.ms)
      samples.trail.push(trailMs)
      samples.audit.push(audit.ms)
      samples.consent.push(consent.ms)
      samples.erasures.push(erasures.ms)
    }
  })
  const timing: TrailTiming = {
    label,
    auditRows,
    healthz: summarize(samples.healthz),
    auditAlone: summarize(samples.auditAlone),
    trail: summarize(samples.trail),
    parts: {
      audit: summarize(samples.audit),
      consent: summarize(samples.consent),
      erasures: summarize(samples.erasures),
    },
    ...last,
    cpu,
  }
  progress(
    PHASE,
    `  trail median ${ms(timing.trail.p50)} / p95 ${ms(timing.trail.p95)} ms; audit query alone ${ms(timing.auditAlone.p50)} ms; ` +
      `healthz ${ms(timing.healthz.p50)} ms; ${last.auditEntries} audit entries, ${last.consentLedgerRows} ledger rows, ` +
      `${last.erasureReceipts} erasure receipts; CPU other ${cores(cpu.other)}`,
  )
  return timing
}

function expectOk(answer: { status: number; text: string }, path: string) {
  if (answer.status !== 200) {
    throw new Error(`GET ${path} answered ${answer.status}: ${answer.text.slice(0, 600)}`)
  }
}

async function headOf(target: CairnTarget): Promise<{ seq: number; hash: string }> {
  // Appends of the requests above are awaited by their handlers; give stragglers a moment.
  await sleep(500)
  const row = await target.db
    .prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1')
    .first<{ seq: number; hash: string }>()
  return row ?? { seq: 0, hash: '0'.repeat(64) }
}

/**
 * Appends rows to the chain straight into D1, hashed exactly as the sequencer does
 * (domain/audit-chain.ts), so `GET /api/audit/verify` accepts them. The sequencer finds
 * the head moved at its next append (its insert collides) and reloads it from D1.
 */
async function fillAuditLog(
  target: CairnTarget,
  head: { seq: number; hash: string },
  plan: Plan,
  subject: string,
) {
  const random = seeded(4242)
  const subjectHashes = Array.from({ length: plan.subjects }, (_, i) =>
    sha256Hex(`subject:${i === 0 ? subject : `bench-subject-${i}`}`),
  )
  const now = Date.now()
  const span = 90 * 86_400_000
  const CHUNK = 2_000
  let prev = head
  let subjectRows = 0
  let chunk: unknown[][] = []
  const flush = async () => {
    if (chunk.length === 0) return
    await target.db
      .prepare(
        `INSERT INTO audit_log (seq, at, actor_key_id, actor_role, action, subject_hash, status, detail, prev_hash, hash)
         SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
                json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'),
                json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]'),
                json_extract(value, '$[9]')
         FROM json_each(?)`,
      )
      .bind(JSON.stringify(chunk))
      .run()
    chunk = []
  }
  for (let i = 0; i < plan.auditRows; i++) {
    const actor = Math.floor(random() * 20)
    const aboutSomeone = random() < 0.9
    const subjectIndex = Math.floor(random() * plan.subjects)
    const action = aboutSomeone
      ? SUBJECT_ACTIONS[Math.floor(random() * SUBJECT_ACTIONS.length)]!
      : OTHER_ACTIONS[Math.floor(random() * OTHER_ACTIONS.length)]!
    const content: AuditContent = {
      seq: prev.seq + 1,
      at: new Date(now - span + Math.floor((i * span) / plan.auditRows)).toISOString(),
      actorKeyId: `key_bench_${actor}`,
      actorRole: ROLES[actor % ROLES.length]!,
      action,
      subjectHash: aboutSomeone ? subjectHashes[subjectIndex]! : null,
      status: 200,
      detail: action.startsWith('POST /api/contacts')
        ? { purposes: { marketing: random() < 0.5 }, method: 'api' }
        : null,
    }
    if (aboutSomeone && subjectIndex === 0) subjectRows++
    const hash = await chainHash(prev.hash, content)
    chunk.push([
      content.seq,
      content.at,
      content.actorKeyId,
      content.actorRole,
      content.action,
      content.subjectHash,
      content.status,
      content.detail === null ? null : JSON.stringify(content.detail),
      prev.hash,
      hash,
    ])
    prev = { seq: content.seq, hash }
    if (chunk.length >= CHUNK) await flush()
    if ((i + 1) % 25_000 === 0) progress(PHASE, `  ${int(i + 1)} rows hashed and inserted`)
  }
  await flush()
  const rows = await countOf(target.db, 'SELECT COUNT(*) AS n FROM audit_log')
  return { rows, inserted: plan.auditRows, subjectRows, lastSeq: prev.seq }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

// ---------------------------------------------------------------------------------------------

function summarise(
  plan: Plan,
  erasure: Awaited<ReturnType<typeof measureErasure>>,
  trail: Awaited<ReturnType<typeof measureTrail>>,
  target: CairnTarget,
  config: BenchConfig,
) {
  const receipt = erasure.erasure.receipt
  const receiptLines =
    receipt?.stores.map(
      (s) =>
        `    ${s.store.padEnd(18)} ${Object.entries(s.removed)
          .map(([k, v]) => `${k} ${int(v)}`)
          .join(', ')}`,
    ) ?? []
  const t = (x: TrailTiming) => [
    x.label,
    int(x.auditRows),
    ms(x.trail.p50),
    ms(x.trail.p95),
    ms(x.parts.audit.p50),
    ms(x.parts.consent.p50),
    ms(x.parts.erasures.p50),
    ms(x.auditAlone.p50),
    ms(x.healthz.p50),
    cores(x.cpu.other),
  ]
  const summary = [
    `Privacy under miniflare@4${config.quick ? ' (--quick: smaller person and log)' : ''}.`,
    `Erasure of one person with ${int(erasure.events)} events (anonymous id + identify link; ingested in ` +
      `${erasure.ingestSeconds.toFixed(1)} s, D1 caught up ${erasure.drainSeconds.toFixed(1)} s later):`,
    `  POST /api/privacy/erasure → status completed: ${erasure.seconds.toFixed(2)} s ` +
      `(server clock requestedAt → completedAt ${erasure.serverSeconds?.toFixed(2) ?? '-'} s; POST answered in ${ms(erasure.postMs)} ms; polled every ${POLL_MS} ms)`,
    `  steps on the server clock, from requestedAt (the job runs from the events queue): ${steps(erasure.erasure)}`,
    `  receipt: ${receipt?.contacts ?? '-'} contacts, ${receipt?.identifiers ?? '-'} identifiers;`,
    ...receiptLines,
    `  D1 events of the person after: ${erasure.after.person} (before ${int(erasure.before.person)}); ` +
      `neighbour's ${erasure.after.neighbour} of ${erasure.before.neighbour} intact`,
    '',
    `A person's whole trail: GET /api/audit?subject= + GET /api/contacts/:id/consent + GET /api/privacy/erasure?limit=50 in parallel, ` +
      `${plan.repetitions} repetitions (ms; "other" = CPU cores used by other processes):`,
    ...table(
      [
        'audit log',
        'rows',
        'trail p50',
        'trail p95',
        'audit p50',
        'consent p50',
        'erasures p50',
        'audit alone p50',
        'healthz p50',
        'other',
      ],
      [t(trail.baseline), t(trail.loaded)],
    ).map((l) => `  ${l}`),
    `  the person's audit entries returned: ${trail.loaded.auditEntries} (${trail.fill.subjectRows} of the filled rows are about them); ` +
      `ledger rows ${trail.loaded.consentLedgerRows}; erasure receipts ${trail.loaded.erasureReceipts}`,
    `  GET /api/audit/verify over ${int(trail.verify.rows)} rows: ${ms(trail.verify.ms)} ms, ` +
      `${trail.verify.ok ? 'chain ok' : `BROKEN at ${trail.verify.firstBroken?.seq}: ${trail.verify.firstBroken?.reason}`} (informational)`,
  ]
  const printed = Object.entries(target.runtimeOutput.kinds).sort((a, b) => b[1] - a[1])
  if (printed.length > 0) {
    summary.push(
      '  workerd printed:',
      ...printed.slice(0, 5).map(([kind, n]) => `    ${String(n).padStart(6)}  ${kind}`),
    )
  }
  const checks: Check[] = [
    {
      name: `erasure of a person with ${int(erasure.events)} events < ${ERASURE_TARGET_S} s`,
      ok: erasure.seconds < ERASURE_TARGET_S,
      detail: `${erasure.seconds.toFixed(2)} s from POST to completed`,
    },
    {
      name: "erasure left none of the person's D1 events and all of the neighbour's",
      ok: erasure.after.person === 0 && erasure.after.neighbour === erasure.before.neighbour,
      detail: `person ${erasure.after.person} left of ${int(erasure.before.person)}, neighbour ${erasure.after.neighbour} of ${erasure.before.neighbour}`,
    },
    {
      name: `a person's trail median < ${TRAIL_TARGET_MS} ms with ${int(trail.loaded.auditRows)} audit rows`,
      ok: trail.loaded.trail.p50 < TRAIL_TARGET_MS,
      detail:
        `median ${ms(trail.loaded.trail.p50)} ms, p95 ${ms(trail.loaded.trail.p95)} ms ` +
        `(near-empty log: ${ms(trail.baseline.trail.p50)} / ${ms(trail.baseline.trail.p95)} ms; healthz ${ms(trail.loaded.healthz.p50)} ms)`,
    },
    {
      name: `audit chain verifies over ${int(trail.verify.rows)} rows`,
      ok: trail.verify.ok && trail.verify.rows >= trail.fill.rows,
      detail: `${ms(trail.verify.ms)} ms`,
    },
  ]
  return {
    summary,
    checks,
    data: { plan, erasure, trail, runtimeOutput: target.runtimeOutput },
  }
}

/** Each receipt step's time after the request, then completion: where the erasure time goes. */
function steps(status: ErasureStatus): string {
  const start = Date.parse(status.requestedAt)
  const after = (at: string) => `+${((Date.parse(at) - start) / 1000).toFixed(2)} s`
  const parts = (status.receipt?.stores ?? []).map((s) => `${s.store} ${after(s.at)}`)
  if (status.completedAt) parts.push(`completed ${after(status.completedAt)}`)
  return parts.join(', ')
}
