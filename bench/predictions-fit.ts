import { quietBefore, withCpu } from './api.ts'
import type { BenchConfig } from './config.ts'
import type { BenchDb, BenchStatement } from './d1-client.ts'
import type { CpuUsage } from './load/cpu.ts'
import { CHURN_SCENARIO } from './predictions-churn.ts'
import type { PredictionsDomain } from './predictions-domain.ts'
import { seedPurchases, type PurchaseSeed } from './predictions-seed.ts'
import { progress } from './progress.ts'
import { int, ms } from './report.ts'
import { withCairn } from './runtime.ts'
import { timing, type Timing } from './segments-targets.ts'
import type { ContactPurchaseSummary } from '../edge/predictions/summaries.ts'

/**
 * Fit time (issue #25's proof): at each population, the baseline reads every purchaser's summary
 * with Cairn's own statement (edge/predictions/summaries.ts) over a local D1 seeded with their
 * purchase events, through the bench's D1 reader; then the fit the scheduled fit runs
 * (fitPurchaseModels: BG/NBD on everyone, Gamma-Gamma on the repeat buyers) on what it read, in
 * this Node process. In production the fit runs in the events queue's consumer, in workerd: the
 * same V8 running the same pure code, so its CPU time there is comparable.
 */

const PHASE = 'predictions'

/**
 * D1's documented limits (developers.cloudflare.com/d1/platform/limits) that one read of every
 * summary meets first as customers grow; the local D1 enforces neither.
 */
export const D1_LIMITS = { resultBytes: 50 * 1_000_000, queryMs: 30_000 }

/** The design note's fit-time population: CDNOW's parameters, customers 1 to 24 months old. */
export const FIT_AGES = { min: 30, max: 720 }

export interface FitPlan {
  sizes: number[]
  seed: number
}

export interface FitTiming {
  customers: number
  seeded: PurchaseSeed
  repetitions: number
  /** Reading the summaries: the statement, from request to the rows parsed in Node. */
  summaries: Timing
  /**
   * The same statement counted in SQLite (`SELECT count(*) FROM (…)`): its cost without sending
   * a row, so the difference is the rows' way to Node.
   */
  sqliteOnly: Timing
  /** Reads made again after a reset connection (see `timed`), with why. */
  resets: string[]
  fit: Timing
  /** Rows the statement answered: every seeded customer once. */
  summaryRows: number
  /** The rows as JSON, bytes: near what D1 counts against its result size limit. */
  resultBytes: number
  bgnbd: {
    groups: number
    iterations: number
    converged: boolean
    /** 0, or fitPurchaseModels' fallback when the plain fit did not converge. */
    penalizer: number
    logLikelihood: number
    params: { r: number; alpha: number; a: number; b: number }
  }
  gammaGamma: {
    customers: number
    iterations: number
    converged: boolean
    penalizer: number
    params: { p: number; q: number; gamma: number }
  } | null
  cpu: { summaries: CpuUsage; fit: CpuUsage }
  heapMiB: number
}

export interface FitOutcome {
  plan: FitPlan
  timings: FitTiming[]
  /** EXPLAIN QUERY PLAN of the summaries statement at the largest population measured. */
  queryPlan: string[]
  /**
   * The population whose measurement failed, and why: the sizes before it keep their timings,
   * the larger ones are not tried.
   */
  failed?: { customers: number; error: string }
}

/**
 * What the fit starts from and what the baseline times: here Cairn's summaries statement over
 * D1. Swapping in another source of summaries (computed in this process from raw purchases, say)
 * is a matter of this one function.
 */
type SummarySource = () => Promise<ContactPurchaseSummary[]>

interface Statement {
  query: string
  params: unknown[]
}

interface Reads {
  db: BenchDb
  summaries: SummarySource
  /** Every statement the summaries read sent, with its parameters. */
  statements: Statement[]
}

function sqlSummaries(domain: PredictionsDomain, db: BenchDb, now: Date): SummarySource {
  const settings = domain.DEFAULT_PREDICTION_SETTINGS
  // The reader's statements have the D1 binding's shape where the statement uses it.
  const d1 = db as unknown as D1Database
  return () => domain.readPurchaseSummaries(d1, settings, now)
}

export function measureFits(
  config: BenchConfig,
  plan: FitPlan,
  domain: PredictionsDomain,
): Promise<FitOutcome> {
  return withCairn(PHASE, config, async (target) => {
    const now = new Date()
    const largest = Math.max(...plan.sizes)
    progress(
      PHASE,
      `fit: simulating ${int(largest)} customers (CDNOW's parameters, 1–24 months old, seed ${plan.seed})`,
    )
    const { customers } = domain.simulatePopulation({
      customers: largest,
      bgnbd: CHURN_SCENARIO.bgnbd,
      gammaGamma: CHURN_SCENARIO.gammaGamma,
      ages: FIT_AGES,
      seed: plan.seed,
    })
    const { p, q, gamma } = CHURN_SCENARIO.gammaGamma
    const settings = domain.DEFAULT_PREDICTION_SETTINGS
    const event = {
      name: settings.purchaseEvents[0]!,
      valueProperty: settings.valueProperty,
      firstValue: (p * gamma) / (q - 1),
    }
    const statements: Statement[] = []
    const reads: Reads = {
      db: target.db,
      summaries: sqlSummaries(domain, recording(target.db, statements), now),
      statements,
    }
    const timings: FitTiming[] = []
    let failed: FitOutcome['failed']
    let seededUpTo = 0
    for (const size of plan.sizes) {
      const range = { from: seededUpTo, to: size }
      try {
        const seeded = await seedPurchases(
          target.db,
          customers,
          range,
          event,
          now.getTime(),
          plan.seed,
          PHASE,
        )
        seededUpTo = size
        timings.push(await measureSize(config, size, seeded, reads, domain))
      } catch (error) {
        failed = { customers: size, error: String(error) }
        progress(PHASE, `  ${int(size)} customers failed: ${failed.error}; larger sizes not tried`)
        break
      }
    }
    const statement = statements.at(-1)
    // After a failure the last statement may be the one that failed: no plan is asked of it.
    const explained =
      statement && !failed ? await timed(() => queryPlan(target.db, statement), []) : null
    return { plan, timings, queryPlan: explained?.value ?? [], ...(failed ? { failed } : {}) }
  })
}

async function measureSize(
  config: BenchConfig,
  size: number,
  seeded: PurchaseSeed,
  reads: Reads,
  domain: PredictionsDomain,
): Promise<FitTiming> {
  const repetitions = size >= 1_000_000 ? 3 : 5
  const resets: string[] = []
  await quietBefore(config, PHASE)
  // Once unmeasured each: D1's pages into the cache, the fit's code through the JIT.
  let rows = (await timed(reads.summaries, resets)).value
  let fitted = domain.fitPurchaseModels(rows)
  const statement = reads.statements.at(-1)!
  const inSqlite = () =>
    reads.db
      .prepare(`SELECT count(*) AS n FROM (${statement.query})`)
      .bind(...statement.params)
      .first<{ n: number }>()
  await timed(inSqlite, resets)
  const summarySamples: number[] = []
  const sqliteSamples: number[] = []
  const summaryCpu = await withCpu(async () => {
    for (let r = 0; r < repetitions; r++) {
      const read = await timed(reads.summaries, resets)
      rows = read.value
      summarySamples.push(read.ms)
      sqliteSamples.push((await timed(inSqlite, resets)).ms)
    }
  })
  const fitSamples: number[] = []
  const fitCpu = await withCpu(async () => {
    for (let r = 0; r < repetitions; r++) {
      const started = performance.now()
      fitted = domain.fitPurchaseModels(rows)
      fitSamples.push(performance.now() - started)
    }
  })
  const { bgnbd, gammaGamma } = fitted
  const result: FitTiming = {
    customers: size,
    seeded,
    repetitions,
    summaries: timing(summarySamples),
    sqliteOnly: timing(sqliteSamples),
    fit: timing(fitSamples),
    resets,
    summaryRows: rows.length,
    resultBytes: Buffer.byteLength(JSON.stringify(rows)),
    bgnbd: {
      groups: bgnbd.groups,
      iterations: bgnbd.iterations,
      converged: bgnbd.converged,
      penalizer: bgnbd.penalizer,
      logLikelihood: bgnbd.logLikelihood,
      params: bgnbd.params,
    },
    gammaGamma: gammaGamma && {
      customers: gammaGamma.customers,
      iterations: gammaGamma.iterations,
      converged: gammaGamma.converged,
      penalizer: gammaGamma.penalizer,
      params: gammaGamma.params,
    },
    cpu: { summaries: summaryCpu.cpu, fit: fitCpu.cpu },
    heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
  }
  progress(
    PHASE,
    `  ${int(size)} customers: summaries ${ms(result.summaries.median)} ms (${int(rows.length)} rows; ` +
      `in SQLite alone ${ms(result.sqliteOnly.median)} ms), ` +
      `fit ${ms(result.fit.median)} ms (${int(bgnbd.groups)} groups, ${bgnbd.iterations} BG/NBD iterations, ` +
      `Gamma-Gamma on ${int(gammaGamma?.customers ?? 0)}), heap ${result.heapMiB.toFixed(0)} MiB`,
  )
  return result
}

/**
 * Times one read from the start of the attempt that succeeds. A request after a statement that
 * held workerd for seconds can find its kept-alive connection reset ("fetch failed", as
 * segments-seed.ts says), which says nothing about the statement; the reads are idempotent, so
 * such a failure is counted and the read made again.
 */
async function timed<T>(
  read: () => Promise<T>,
  resets: string[],
): Promise<{ value: T; ms: number }> {
  for (let attempt = 1; ; attempt++) {
    const started = performance.now()
    try {
      const value = await read()
      return { value, ms: performance.now() - started }
    } catch (error) {
      if (attempt >= 3 || (error as Error).message !== 'fetch failed') throw error
      const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause
      const why = cause?.code ?? cause?.message ?? 'no cause given'
      resets.push(`${why} after ${((performance.now() - started) / 1000).toFixed(1)} s`)
      progress(PHASE, `  a read failed (fetch failed: ${resets.at(-1)}); reading again`)
    }
  }
}

/** The reader, noting each statement it is asked to run with its parameters. */
function recording(db: BenchDb, seen: Statement[]): BenchDb {
  const wrap = (query: string, params: unknown[], inner: BenchStatement): BenchStatement => {
    const note = () => seen.push({ query, params })
    return {
      bind: (...more) => wrap(query, [...params, ...more], inner.bind(...more)),
      first: <T>() => (note(), inner.first<T>()),
      all: <T>() => (note(), inner.all<T>()),
      run: () => (note(), inner.run()),
    }
  }
  return { prepare: (query) => wrap(query, [], db.prepare(query)) }
}

/** SQLite's plan as a tree: each step indented under the step it belongs to. */
async function queryPlan(db: BenchDb, statement: Statement): Promise<string[]> {
  const { results } = await db
    .prepare(`EXPLAIN QUERY PLAN ${statement.query}`)
    .bind(...statement.params)
    .all<{ id: number; parent: number; detail: string }>()
  const depth = new Map<number, number>([[0, -1]])
  return results.map((step) => {
    const level = (depth.get(step.parent) ?? -1) + 1
    depth.set(step.id, level)
    return `${'  '.repeat(level)}${step.detail}`
  })
}
