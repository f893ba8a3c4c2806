import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { call, cores, expectStatus, ingest, quietBefore, summarize, withCpu } from '../api.ts'
import type { BenchConfig } from '../config.ts'
import { loadAttributionDomain, type AttributionDomain } from '../domain.ts'
import { countOf } from '../drain.ts'
import { cpuSnapshot, cpuUsage, type CpuUsage } from '../load/cpu.ts'
import type { LatencySummary } from '../load/latency.ts'
import { progress, sleep } from '../progress.ts'
import { int, ms, table } from '../report.ts'
import { withCairn, type CairnTarget } from '../runtime.ts'
import { seeded } from '../workload.ts'
import type { Check, Section } from './section.ts'

/**
 * Issue 5:
 * (a) the real-time attribution cost of a conversion inside the ContactDO: contacts with ~10
 *     touches each send one `Order Completed` (a defined conversion, credited under every model
 *     in the object's transaction) and one comparable `Viewed Item` (no conversion), one request
 *     at a time; the latency difference is the cost. The pure credit function is timed in Node
 *     too, with 10 and 100 touches.
 * (b) data-driven fit time (Markov removal effects + Shapley) over 10k, 100k and 1M seeded
 *     synthetic journeys, beside the aggregation alone and the rule-based models, in this run.
 */

const PHASE = 'attribution'
const SITE = 'https://shop.example'
const UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15'
const DAY = 86_400_000
/** Pause after each measured request, so queue consumers run between requests, not during them. */
const PAUSE_MS = 25
const FIT_CHANNELS = 10
const BOOTSTRAP_REPLICATES = 200

interface Plan {
  contacts: number
  warmupContacts: number
  touches: number
  fitSizes: number[]
  /** Seconds each pure-function timing runs for. */
  creditSeconds: number
}

function planFor(config: BenchConfig): Plan {
  return config.quick
    ? {
        contacts: 60,
        warmupContacts: 10,
        touches: 10,
        fitSizes: [10_000, 100_000],
        creditSeconds: 0.5,
      }
    : {
        contacts: 300,
        warmupContacts: 20,
        touches: 10,
        fitSizes: [10_000, 100_000, 1_000_000],
        creditSeconds: 2,
      }
}

export const attributionSection: Section = {
  name: 'attribution',
  async run(config) {
    const plan = planFor(config)
    progress(PHASE, 'bundling domain/attribution for Node (esbuild)')
    const domain = await loadAttributionDomain()
    const realtime = await measureRealtime(plan, config)
    await quietBefore(config, PHASE)
    const pure = measureCreditFunction(domain, plan)
    const fits = await measureFits(domain, plan, config)
    return summarise(plan, realtime, pure, fits, config)
  },
}

// ---------------------------------------------------------------------------------------------
// (a) real time, inside the ContactDO

const SOURCES: { label: string; query?: string; referrer?: string }[] = [
  { label: 'paid search', query: 'utm_source=google&utm_medium=cpc&utm_campaign=brand-{n}' },
  { label: 'paid search (gclid)', query: 'gclid=Cj0KCQ{n}' },
  { label: 'organic search', referrer: 'https://www.google.com/' },
  { label: 'email', query: 'utm_source=newsletter&utm_medium=email&utm_campaign=issue-{n}' },
  {
    label: 'paid social',
    query: 'utm_source=facebook&utm_medium=paid_social&utm_campaign=retarget-{n}',
  },
  { label: 'organic social', referrer: 'https://www.reddit.com/r/running/' },
  { label: 'affiliate', query: 'utm_source=partner{n}&utm_medium=affiliate&utm_campaign=aff-{n}' },
  { label: 'referral', referrer: 'https://blog.example.org/best-trail-shoes' },
  { label: 'display', query: 'utm_source=dsp&utm_medium=display&utm_campaign=banner-{n}' },
  { label: 'direct' },
]
const LANDINGS = ['/', '/products/trail-shoe', '/products/rain-jacket', '/blog/gear', '/pricing']

interface Realtime {
  contacts: number
  touchesPerContact: number
  setupSeconds: number
  refit: unknown
  conversion: LatencySummary
  baseline: LatencySummary
  /** Per contact: conversion minus non-converting track, ms. */
  paired: LatencySummary
  pairedMean: number
  costMedianMs: number
  costMeanMs: number
  cpu: CpuUsage
  d1Conversions: number
  meanPathLength: number | null
  credits: number
  creditModels: number
}

function measureRealtime(plan: Plan, config: BenchConfig): Promise<Realtime> {
  return withCairn(PHASE, config, (target) => realtimeOn(target, plan, config))
}

async function realtimeOn(target: CairnTarget, plan: Plan, config: BenchConfig): Promise<Realtime> {
  const setupStarted = performance.now()
  await expectStatus(201, target, 'POST', '/api/attribution/conversions', {
    body: { name: 'Purchase', eventName: 'Order Completed' },
  })
  const tag = randomBytes(3).toString('hex')
  const random = seeded(config.seed * 31 + 5)
  const all = plan.contacts + plan.warmupContacts
  const contacts = Array.from({ length: all }, (_, i) => ({
    userId: `bench-attr-${tag}-${i}`,
    anonymousId: `bench-attr-anon-${tag}-${i}`,
  }))
  progress(
    PHASE,
    `conversion "Purchase" = track "Order Completed"; giving ${int(all)} contacts ${plan.touches} touches each ` +
      '(page views spread over 20 days, different campaigns and referrers) and a landing today',
  )
  const now = Date.now()
  let next = 0
  const touchPages = async () => {
    for (let c = next++; c < all; c = next++) {
      const contact = contacts[c]!
      const messages: Record<string, unknown>[] = []
      for (let j = 0; j <= plan.touches; j++) {
        // Sessions days apart (a new visit each); the last one is today's, the session converting.
        const at =
          j < plan.touches
            ? now - (20 - 2 * j) * DAY + Math.floor(random() * 6) * 3_600_000
            : now - 5 * 60_000
        const source = SOURCES[Math.floor(random() * SOURCES.length)]!
        const landing = LANDINGS[Math.floor(random() * LANDINGS.length)]!
        const query = source.query?.replaceAll('{n}', String(j + Math.floor(random() * 5)))
        const url = `${SITE}${landing}${query ? `?${query}` : ''}`
        messages.push({
          type: 'page',
          ...contact,
          name: landing,
          timestamp: new Date(at).toISOString(),
          messageId: `${contact.userId}-p${j}`,
          context: {
            userAgent: UA,
            page: { url, path: landing, referrer: source.referrer ?? '', title: `Shop ${landing}` },
          },
        })
      }
      await ingest(
        target,
        '/v1/batch',
        { batch: messages, sentAt: new Date().toISOString() },
        messages.length,
      )
    }
  }
  await Promise.all(Array.from({ length: 4 }, touchPages))

  const track = (contact: (typeof contacts)[number], converting: boolean, n: number) => ({
    type: 'track',
    ...contact,
    event: converting ? 'Order Completed' : 'Viewed Item',
    properties: converting
      ? {
          orderId: `${contact.userId}-o${n}`,
          revenue: 40 + (n % 160),
          currency: 'EUR',
          products: 2,
        }
      : { sku: `sku-${n % 97}`, price: 40 + (n % 160), currency: 'EUR', list: 'recommended' },
    messageId: `${contact.userId}-${converting ? 'c' : 'v'}${n}`,
    context: {
      userAgent: UA,
      page: {
        url: `${SITE}/checkout`,
        path: '/checkout',
        referrer: `${SITE}/cart`,
        title: 'Checkout',
      },
    },
  })

  // Warm-up contacts convert first, so a fit exists and the measured conversions are credited
  // under Markov with fitted weights, as in production.
  progress(
    PHASE,
    `warm-up: ${plan.warmupContacts} contacts convert, then POST /api/attribution/refit`,
  )
  for (let i = 0; i < plan.warmupContacts; i++) {
    const contact = contacts[plan.contacts + i]!
    await ingest(target, '/v1/track', track(contact, true, i), 1)
    await ingest(target, '/v1/track', track(contact, false, i), 1)
  }
  const expectedEvents = all * (plan.touches + 1) + 2 * plan.warmupContacts
  await waitForCount(
    target,
    'SELECT COUNT(*) AS n FROM events',
    expectedEvents,
    config,
    'D1 events',
  )
  await waitForCount(
    target,
    'SELECT COUNT(*) AS n FROM conversions',
    plan.warmupContacts,
    config,
    'D1 conversions',
  )
  const refit = await expectStatus<{ fit: unknown }>(200, target, 'POST', '/api/attribution/refit')
  progress(PHASE, `refit: ${refit.text.slice(0, 300)}`)
  const setupSeconds = (performance.now() - setupStarted) / 1000
  await sleep(1500)
  await quietBefore(config, PHASE)

  progress(
    PHASE,
    `measuring ${plan.contacts} contacts × (one Order Completed + one Viewed Item), one request at a time, ` +
      `alternating which goes first, ${PAUSE_MS} ms pause after each`,
  )
  const order = Array.from({ length: plan.contacts }, (_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const conversionMs: number[] = []
  const baselineMs: number[] = []
  const paired: number[] = []
  const { cpu } = await withCpu(async () => {
    for (let k = 0; k < order.length; k++) {
      const contact = contacts[order[k]!]!
      const sendOne = async (converting: boolean) => {
        const answer = await call<{ accepted: number }>(target, 'POST', '/v1/track', {
          auth: 'write',
          body: track(contact, converting, 1000 + k),
        })
        if (answer.status !== 200 || answer.body.accepted !== 1) {
          throw new Error(`POST /v1/track answered ${answer.status}: ${answer.text.slice(0, 600)}`)
        }
        await sleep(PAUSE_MS)
        return answer.ms
      }
      let conv: number
      let base: number
      if (k % 2 === 0) {
        conv = await sendOne(true)
        base = await sendOne(false)
      } else {
        base = await sendOne(false)
        conv = await sendOne(true)
      }
      conversionMs.push(conv)
      baselineMs.push(base)
      paired.push(conv - base)
      if ((k + 1) % 100 === 0) progress(PHASE, `  ${k + 1} of ${order.length} contacts`)
    }
  })
  const conversion = summarize(conversionMs)
  const baseline = summarize(baselineMs)
  // The paired differences can be negative: summarise them shifted, report them unshifted.
  const pairedSummary = summarize(paired.map((d) => d + 1e6))
  for (const key of ['mean', 'p50', 'p95', 'p99', 'max'] as const) pairedSummary[key] -= 1e6
  progress(
    PHASE,
    `conversion p50 ${ms(conversion.p50)} / p95 ${ms(conversion.p95)} ms; non-converting track p50 ${ms(baseline.p50)} / p95 ${ms(baseline.p95)} ms; ` +
      `CPU other ${cores(cpu.other)}`,
  )

  const d1Conversions = await waitForCount(
    target,
    'SELECT COUNT(*) AS n FROM conversions',
    all,
    config,
    'D1 conversions',
  )
  const pathRow = await target.db
    .prepare('SELECT AVG(json_array_length(path)) AS n FROM conversions')
    .first<{ n: number | null }>()
  const creditRow = await target.db
    .prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT model) AS models FROM attribution_credits')
    .first<{ n: number; models: number }>()
  return {
    contacts: plan.contacts,
    touchesPerContact: plan.touches + 1,
    setupSeconds,
    refit: refit.body,
    conversion,
    baseline,
    paired: pairedSummary,
    pairedMean: pairedSummary.mean,
    costMedianMs: conversion.p50 - baseline.p50,
    costMeanMs: conversion.mean - baseline.mean,
    cpu,
    d1Conversions,
    meanPathLength: pathRow?.n ?? null,
    credits: creditRow?.n ?? 0,
    creditModels: creditRow?.models ?? 0,
  }
}

async function waitForCount(
  target: CairnTarget,
  query: string,
  expected: number,
  config: BenchConfig,
  what: string,
): Promise<number> {
  const started = performance.now()
  let lastReport = 0
  for (;;) {
    const n = await countOf(target.db, query)
    if (n >= expected) return n
    const waited = (performance.now() - started) / 1000
    if (waited > config.drainTimeout) {
      throw new Error(`${what}: ${n} of ${expected} after ${config.drainTimeout} s`)
    }
    if (waited - lastReport >= 3) {
      lastReport = waited
      progress(PHASE, `  ${what} ${int(n)} of ${int(expected)}, ${waited.toFixed(0)} s`)
    }
    await sleep(250)
  }
}

// ---------------------------------------------------------------------------------------------
// (a') the pure credit function in Node

interface CreditTiming {
  touches: number
  distinctChannels: number
  iterations: number
  microsPerConversion: number
}

function measureCreditFunction(domain: AttributionDomain, plan: Plan): CreditTiming[] {
  // The synthetic generator's channel names, so both views credit the same channels.
  const names = [
    ...new Set(
      domain.syntheticPaths(2_000, { channels: FIT_CHANNELS, seed: 3 }).flatMap((row) => row.path),
    ),
  ].sort()
  const random = seeded(77)
  const fitted = {
    removalEffects: Object.fromEntries(names.map((n) => [n, 0.05 + random() * 0.5])),
    valueRemovalEffects: Object.fromEntries(names.map((n) => [n, 0.05 + random() * 0.5])),
  }
  const results: CreditTiming[] = []
  for (const touches of [10, 100]) {
    const at = Date.now()
    const conversion = {
      at,
      value: 129,
      touches: Array.from({ length: touches }, (_, i) => ({
        channel: names[Math.floor(random() * names.length)]!,
        at: at - ((touches - i) * (60 * DAY)) / touches,
        deterministic: true,
      })),
    }
    let sink = 0
    const once = () => {
      const credits = domain.creditConversionAllModels(conversion, fitted, { halfLifeDays: 7 })
      sink += Object.keys(credits.linear).length
    }
    for (let i = 0; i < 500; i++) once()
    const started = performance.now()
    let iterations = 0
    while (performance.now() - started < plan.creditSeconds * 1000) {
      for (let i = 0; i < 100; i++) once()
      iterations += 100
    }
    const elapsedMs = performance.now() - started
    if (sink === 0) throw new Error('credit function returned nothing')
    results.push({
      touches,
      distinctChannels: new Set(conversion.touches.map((t) => t.channel)).size,
      iterations,
      microsPerConversion: (elapsedMs * 1000) / iterations,
    })
    progress(
      PHASE,
      `creditConversionAllModels, ${touches} touches: ${((elapsedMs * 1000) / iterations).toFixed(1)} µs per conversion (${int(iterations)} iterations)`,
    )
  }
  return results
}

// ---------------------------------------------------------------------------------------------
// (b) data-driven fits

interface FitTiming {
  rows: number
  uniquePaths: number
  channels: number
  conversions: number
  generateMs: number
  repetitions: number
  /** Medians over the repetitions, ms. */
  prepareMs: number
  rulesMs: number
  markovMs: number
  shapleyMs: number
  analyzeMs: number
  /** bootstrapShares with 200 replicates, timed once (informational: what a refit adds). */
  bootstrapMs: number
  /** preparePaths + fitMarkov + fitShapley: the data-driven fit from raw rows. */
  fitMs: number
  shapleyMethod: string
  markovConverged: boolean
  heapMiB: number
  cpu: CpuUsage
}

async function measureFits(
  domain: AttributionDomain,
  plan: Plan,
  config: BenchConfig,
): Promise<FitTiming[]> {
  const results: FitTiming[] = []
  for (const size of plan.fitSizes) {
    progress(
      PHASE,
      `fit: generating ${int(size)} synthetic journeys (${FIT_CHANNELS} channels, seed ${config.seed})`,
    )
    const generateStarted = performance.now()
    let rows: ReturnType<AttributionDomain['syntheticPaths']> | null = domain.syntheticPaths(size, {
      channels: FIT_CHANNELS,
      seed: config.seed,
    })
    const generateMs = performance.now() - generateStarted
    const repetitions = size >= 1_000_000 ? 3 : 5
    const samples = {
      prepare: [] as number[],
      rules: [] as number[],
      markov: [] as number[],
      shapley: [] as number[],
      analyze: [] as number[],
    }
    let info = {
      uniquePaths: 0,
      channels: 0,
      conversions: 0,
      shapleyMethod: '',
      markovConverged: false,
    }
    await quietBefore(config, PHASE)
    const before = cpuSnapshot()
    // Repetition 0 warms the JIT up and is not counted.
    for (let r = 0; r <= repetitions; r++) {
      const counted = r > 0
      let t = performance.now()
      const prepared = domain.preparePaths(rows)
      const prepareMs = performance.now() - t
      t = performance.now()
      domain.ruleCreditsForPaths(prepared, { halfLifeDays: 7 })
      const rulesMs = performance.now() - t
      t = performance.now()
      const markov = domain.fitMarkov(prepared, { order: 1 })
      const markovMs = performance.now() - t
      t = performance.now()
      const shapley = domain.fitShapley(prepared)
      const shapleyMs = performance.now() - t
      t = performance.now()
      const analyzed = domain.analyzePaths(rows, { halfLifeDays: 7 })
      const analyzeMs = performance.now() - t
      if (counted) {
        samples.prepare.push(prepareMs)
        samples.rules.push(rulesMs)
        samples.markov.push(markovMs)
        samples.shapley.push(shapleyMs)
        samples.analyze.push(analyzeMs)
      }
      info = {
        uniquePaths: prepared.paths.length,
        channels: prepared.channels.length,
        conversions: analyzed.diagnostics.conversions,
        shapleyMethod: shapley.method,
        markovConverged: markov.converged,
      }
    }
    // What a scheduled refit adds (edge/attribution/refit.ts): 95% bootstrap intervals, once.
    const bootStarted = performance.now()
    domain.bootstrapShares(rows, { replicates: BOOTSTRAP_REPLICATES })
    const bootstrapMs = performance.now() - bootStarted
    const cpu = cpuUsage(before, cpuSnapshot(), cpus().length)
    const median = (xs: number[]) => summarize(xs).p50
    const timing: FitTiming = {
      rows: size,
      ...info,
      generateMs,
      repetitions,
      prepareMs: median(samples.prepare),
      rulesMs: median(samples.rules),
      markovMs: median(samples.markov),
      shapleyMs: median(samples.shapley),
      analyzeMs: median(samples.analyze),
      bootstrapMs,
      fitMs: median(samples.prepare.map((p, i) => p + samples.markov[i]! + samples.shapley[i]!)),
      heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
      cpu,
    }
    results.push(timing)
    progress(
      PHASE,
      `  ${int(size)} rows → ${int(timing.uniquePaths)} unique paths: prepare ${ms(timing.prepareMs)} ms, rules ${ms(timing.rulesMs)} ms, ` +
        `markov ${ms(timing.markovMs)} ms, shapley ${ms(timing.shapleyMs)} ms (${timing.shapleyMethod}), analyzePaths ${ms(timing.analyzeMs)} ms, ` +
        `bootstrap ${ms(timing.bootstrapMs)} ms; CPU other ${cores(cpu.other)}; ` +
        `heap ${timing.heapMiB.toFixed(0)} MiB`,
    )
    rows = null
  }
  return results
}

// ---------------------------------------------------------------------------------------------

function summarise(
  plan: Plan,
  realtime: Realtime,
  pure: CreditTiming[],
  fits: FitTiming[],
  config: BenchConfig,
) {
  const l = (s: LatencySummary) => [ms(s.p50), ms(s.p95), ms(s.mean)]
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}x` : '-')
  const summary = [
    `Attribution${config.quick ? ' (--quick: fewer contacts, no 1M fit)' : ''}.`,
    `Real-time credit inside the ContactDO under miniflare@4: ${realtime.contacts} contacts with ${realtime.touchesPerContact} touches ` +
      `each (mean path in D1: ${realtime.meanPathLength?.toFixed(1) ?? '-'} touches), one request at a time (ms):`,
    ...table(
      ['POST /v1/track', 'p50', 'p95', 'mean'],
      [
        ['Order Completed (conversion, 8 models)', ...l(realtime.conversion)],
        ['Viewed Item (baseline, no conversion)', ...l(realtime.baseline)],
        ['difference, per contact (paired)', ...l(realtime.paired)],
      ],
    ).map((x) => `  ${x}`),
    `  real-time attribution cost per conversion: ${ms(realtime.costMedianMs)} ms (difference of medians), ` +
      `${ms(realtime.costMeanMs)} ms (difference of means), ${ms(realtime.paired.p50)} ms (median paired difference); ` +
      `CPU other ${cores(realtime.cpu.other)}`,
    `  D1 holds ${int(realtime.d1Conversions)} conversions and ${int(realtime.credits)} credit rows over ${realtime.creditModels} models`,
    `  the pure credit function in Node (creditConversionAllModels, every model): ` +
      pure.map((p) => `${p.touches} touches ${p.microsPerConversion.toFixed(1)} µs`).join(', ') +
      ' per conversion',
    '',
    `Data-driven fit over seeded synthetic journeys (${FIT_CHANNELS} channels, up to 6 touches; median of the repetitions, ms). ` +
      'fit = preparePaths + fitMarkov (order 1) + fitShapley; baselines: preparePaths alone (aggregation) and the rule-based models; ' +
      `analyzePaths = every model; bootstrap = ${BOOTSTRAP_REPLICATES}-replicate 95% intervals, timed once (a scheduled refit runs analyzePaths + bootstrap); ` +
      'other = CPU cores used by other processes:',
    ...table(
      [
        'journeys',
        'unique paths',
        'prepare',
        'rules',
        'markov',
        'shapley',
        'fit',
        'analyzePaths',
        'bootstrap',
        'fit / prepare',
        'markov+shapley / rules',
        'reps',
        'other',
      ],
      fits.map((f) => [
        int(f.rows),
        int(f.uniquePaths),
        ms(f.prepareMs),
        ms(f.rulesMs),
        ms(f.markovMs),
        ms(f.shapleyMs),
        ms(f.fitMs),
        ms(f.analyzeMs),
        ms(f.bootstrapMs),
        ratio(f.fitMs, f.prepareMs),
        ratio(f.markovMs + f.shapleyMs, f.rulesMs),
        String(f.repetitions),
        cores(f.cpu.other),
      ]),
    ).map((x) => `  ${x}`),
    `  Shapley method: ${[...new Set(fits.map((f) => f.shapleyMethod))].join(', ')}; Markov converged: ${fits.every((f) => f.markovConverged) ? 'yes' : 'NO'}`,
  ]
  const checks: Check[] = [
    {
      name: 'every measured conversion reached D1 with its credits',
      ok:
        realtime.d1Conversions >= realtime.contacts + plan.warmupContacts &&
        realtime.creditModels === 8,
      detail: `${int(realtime.d1Conversions)} conversions, ${realtime.creditModels} models in attribution_credits`,
    },
  ]
  return { summary, checks, data: { plan, realtime, pureCredit: pure, fits } }
}
