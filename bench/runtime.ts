import { randomBytes } from 'node:crypto'
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { Miniflare, supportedCompatibilityDate, type MiniflareOptions } from 'miniflare'
import { unstable_readConfig } from 'wrangler'
import {
  buildConsumerDriver,
  buildD1Reader,
  CAIRN_SCRIPT,
  CEILING_SCRIPTS,
  CONSUMER_DRIVER_SCRIPT,
  D1_READER_SCRIPT,
} from './build.ts'
import { D1_READER_PATH, httpD1, type BenchDb } from './d1-client.ts'
import { freePort } from '../scripts/local-stack.ts'
import type { TargetName } from './config.ts'
import { progress, withTimeout } from './progress.ts'

/**
 * Every target runs under the stable miniflare@4 API from this Node process (workerd is its
 * child), never through `wrangler dev`, whose Node proxy would cap all of them alike. One
 * target at a time: the machine has two cores, one for workerd and one for the load.
 */
export interface Target {
  name: TargetName
  url: string
  port: number
  mf: Miniflare
  /** What workerd printed (console output of the workers, runtime warnings). */
  runtimeOutput: RuntimeOutput
  /** Durable Objects workerd holds open now; null when the state is not in a known folder. */
  openObjects(): number | null
  stop(): Promise<void>
}

export interface RuntimeOutput {
  lines: number
  /** The last lines, cut to 400 characters. */
  tail: string[]
  /** Lines counted by kind (numbers and ids blanked), native stack lines left out. */
  kinds: Record<string, number>
}

function recordOutput(output: RuntimeOutput, line: string) {
  output.lines++
  output.tail.push(line.slice(0, 400))
  if (output.tail.length > 20) output.tail.shift()
  // Native stacks and the continuation lines of a logged object are not kinds of their own.
  if (line.startsWith('stack:') || /^[\s}\]]/.test(line) || line.includes('bin/workerd@')) return
  const kind = line.includes('SQLITE_NOMEM')
    ? 'SQLite failed: out of memory: SQLITE_NOMEM'
    : line
        .replace(/[0-9a-f]{16,}/g, '…')
        // workerd's internal errors carry a random reference, one per line.
        .replace(/reference = \w+/g, 'reference = …')
        .replace(/\d+(\.\d+)?/g, 'N')
        .slice(0, 120)
  output.kinds[kind] = (output.kinds[kind] ?? 0) + 1
}

export interface CairnTarget extends Target {
  adminKey: string
  writeKey: string
  db: BenchDb
  secrets: CairnSecrets
}

/** Generated per start; a restart on the same state needs the same ones. */
export interface CairnSecrets {
  CAIRN_ADMIN_KEY: string
  CAIRN_IP_SALT: string
}

/** wrangler.toml asks for 2026-10-01; this miniflare's workerd supports up to its own date. */
const WANTED_COMPATIBILITY_DATE = '2026-10-01'
export const COMPATIBILITY_DATE =
  supportedCompatibilityDate < WANTED_COMPATIBILITY_DATE
    ? supportedCompatibilityDate
    : WANTED_COMPATIBILITY_DATE

/** Where to append workerd's output as printed (see bench/README.md), if anywhere. */
const RUNTIME_LOG = process.env.BENCH_RUNTIME_LOG
const START_TIMEOUT_MS = 60_000

export async function startTarget(
  name: TargetName,
  options: {
    port: number
    stateDir: string | null
    inspectorPort?: number
    /** Also start Cairn's consumer driver (workers/consumer-driver.ts) beside it. */
    consumerDriver?: boolean
    /** Start again on the state a target that stopped left (see `restartTarget`). */
    resume?: Target | CairnTarget
  },
): Promise<Target | CairnTarget> {
  const { resume } = options
  const runtimeOutput: RuntimeOutput = resume?.runtimeOutput ?? { lines: 0, tail: [], kinds: {} }
  const persistDir = options.stateDir && `${options.stateDir}/${name}`
  if (persistDir && !resume) rmSync(persistDir, { recursive: true, force: true })
  const persist = (kind: string) => (persistDir ? `${persistDir}/${kind}` : false)
  const shared = {
    host: '127.0.0.1',
    // A restarted target keeps its address: the workload and the D1 reader point there.
    port: resume?.port ?? (options.port || (await freePort())),
    logRequests: false,
    inspectorPort: options.inspectorPort,
    telemetry: { enabled: false },
    // A fixed request.cf, so nothing is fetched from the network.
    cf: { country: 'DE', colo: 'FRA', city: 'Berlin', asn: 3320, timezone: 'Europe/Berlin' },
    durableObjectsPersist: persist('do'),
    d1Persist: persist('d1'),
    r2Persist: persist('r2'),
    cachePersist: false,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      for (const stream of [stdout, stderr]) {
        stream.setEncoding('utf8')
        stream.on('data', (chunk: string) => {
          for (const line of chunk.split('\n')) {
            if (!line.trim()) continue
            if (RUNTIME_LOG) appendFileSync(RUNTIME_LOG, `${line}\n`)
            recordOutput(runtimeOutput, line)
          }
        })
      }
    },
  }
  if (name === 'cairn') await buildD1Reader()
  if (options.consumerDriver) await buildConsumerDriver()
  const secrets = resume && 'secrets' in resume ? resume.secrets : generateSecrets()
  const workers = workersOf(name, options.consumerDriver === true, secrets)
  const mf = new Miniflare({ ...shared, workers } as MiniflareOptions)
  const stop = async () => {
    await mf.dispose()
  }
  let url: URL
  try {
    url = await withTimeout(mf.ready, START_TIMEOUT_MS, `miniflare start of ${name}`)
  } catch (error) {
    await stop().catch(() => undefined)
    throw new Error(`${(error as Error).message}\n${runtimeOutput.tail.join('\n')}`)
  }
  const target: Target = {
    name,
    url: url.origin,
    port: Number(url.port),
    mf,
    runtimeOutput,
    openObjects: () => (persistDir ? shmFiles(`${persistDir}/do`).length : null),
    stop,
  }
  if (name !== 'cairn') return target
  try {
    if (resume && 'writeKey' in resume) {
      const { adminKey, writeKey, db } = resume
      return { ...target, adminKey, writeKey, db, secrets }
    }
    return await prepareCairn(target, secrets)
  } catch (error) {
    await stop().catch(() => undefined)
    throw new Error(
      `${(error as Error).message}\n--- workerd output ---\n${runtimeOutput.tail.join('\n')}`,
    )
  }
}

/**
 * Whether workerd is gone: its address refuses the connection. A timeout is not taken for a
 * crash (a stalled workerd may still answer).
 */
export async function runtimeGone(target: Target): Promise<boolean> {
  try {
    await fetch(target.url, { signal: AbortSignal.timeout(10_000) })
    return false
  } catch (error) {
    return (error as Error).name !== 'TimeoutError'
  }
}

/**
 * Starts a target again on the state it left (its Durable Objects, D1 and R2 on disk), with
 * the same address, secrets and write key. What the local queue broker held is not on disk: it
 * keeps its messages in memory, so they went with the old workerd.
 */
export async function restartTarget(
  target: Target | CairnTarget,
  stateDir: string,
): Promise<Target | CairnTarget> {
  await target.stop().catch(() => undefined)
  // The dead process's shared-memory index files would count as open objects;
  // SQLite rebuilds them from the write-ahead log when an object opens again.
  for (const file of shmFiles(`${stateDir}/${target.name}/do`)) rmSync(file)
  return startTarget(target.name, { port: target.port, stateDir, resume: target })
}

/**
 * Starts Cairn alone for a section's measurements, runs `work` on it and stops it whatever
 * happens, saying how much workerd printed meanwhile.
 */
export async function withCairn<T>(
  phase: string,
  config: { port: number; stateDir: string | null },
  work: (target: CairnTarget) => Promise<T>,
  options: { consumerDriver?: boolean; inspectorPort?: number } = {},
): Promise<T> {
  progress(phase, `starting Cairn under miniflare (compatibility date ${COMPATIBILITY_DATE})`)
  const target = (await startTarget('cairn', {
    port: config.port,
    stateDir: config.stateDir,
    ...options,
  })) as CairnTarget
  try {
    return await work(target)
  } finally {
    if (target.runtimeOutput.lines > 0) {
      progress(
        phase,
        `workerd printed ${target.runtimeOutput.lines} lines; last: ${target.runtimeOutput.tail.at(-1)}`,
      )
    }
    await target.stop().catch(() => undefined)
  }
}

/**
 * The `-shm` files of the Durable Objects under a state folder's `do`, by path. An open object's
 * SQLite database has one beside it, which workerd deletes when it evicts the object (and
 * creates again when it wakes).
 */
function shmFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((namespace) =>
    readdirSync(`${dir}/${namespace}`)
      .filter((file) => file.endsWith('.sqlite-shm'))
      .map((file) => `${dir}/${namespace}/${file}`),
  )
}

/**
 * The target's worker first (it answers the target's address); Cairn's D1 reader beside it, and
 * its consumer driver when asked for.
 */
function workersOf(
  name: TargetName,
  consumerDriver: boolean,
  secrets: CairnSecrets,
): Partial<MiniflareOptions>[] {
  const worker = { modules: true, compatibilityDate: COMPATIBILITY_DATE }
  if (name === 'bare') return [{ ...worker, name, scriptPath: CEILING_SCRIPTS.bare }]
  /** The DO ceilings differ only in the object's class and, for do-queue, its Queue. */
  const storeCeiling = (target: 'do-write' | 'do-queue', className: string) => ({
    ...worker,
    name: target,
    scriptPath: CEILING_SCRIPTS[target],
    durableObjects: { STORE: { className, useSQLite: true } },
  })
  if (name === 'do-write') return [storeCeiling(name, 'EventStore')]
  if (name === 'do-queue') {
    return [
      {
        ...storeCeiling(name, 'ShippingEventStore'),
        queueProducers: { SHIP: { queueName: 'ship' } },
        // Batched as Cairn's events queue is (wrangler.toml), so both pay the same per batch.
        queueConsumers: { ship: cairnEventsBatching() },
      },
    ]
  }
  if (!existsSync(CAIRN_SCRIPT)) {
    throw new Error(`${CAIRN_SCRIPT} is missing: the bundle section failed (see above)`)
  }
  const bindings = cairnBindings(secrets)
  const d1Databases = bindings.d1Databases as Record<string, string>
  const r2Buckets = bindings.r2Buckets as Record<string, string>
  const workers: Partial<MiniflareOptions>[] = [
    { ...worker, name, scriptPath: CAIRN_SCRIPT, ...bindings },
    {
      ...worker,
      name: 'd1-reader',
      scriptPath: D1_READER_SCRIPT,
      routes: [`*${D1_READER_PATH}`],
      d1Databases: { DB: d1Databases.DB! },
    },
  ]
  if (consumerDriver) {
    workers.push({
      ...worker,
      name: 'consumer-driver',
      scriptPath: CONSUMER_DRIVER_SCRIPT,
      // It runs Cairn's consumer, so it needs Cairn's flags (node:zlib for the archive).
      compatibilityFlags: bindings.compatibilityFlags,
      routes: [`*${CONSUMER_DRIVER_PATH}`],
      d1Databases: { DB: d1Databases.DB! },
      r2Buckets: { ARCHIVE: r2Buckets.ARCHIVE! },
    })
  }
  return workers
}

/** How Cairn's events queue gathers batches, from wrangler.toml. */
function cairnEventsBatching(): { maxBatchSize?: number; maxBatchTimeout?: number } {
  const events = cairnQueueConsumers(readCairnConfig())[CAIRN_EVENTS_QUEUE]
  if (!events) throw new Error(`wrangler.toml has no consumer for ${CAIRN_EVENTS_QUEUE}`)
  return { maxBatchSize: events.maxBatchSize, maxBatchTimeout: events.maxBatchTimeout }
}

const CAIRN_EVENTS_QUEUE = 'cairn-events'

/** The path the consumer driver is routed at, on Cairn's own address. */
export const CONSUMER_DRIVER_PATH = '/__bench/consumer'

/**
 * Cairn's bindings, read from wrangler.toml (through wrangler's own config reader) and mapped
 * to miniflare@4's options, so the bench follows the toml as bindings are added. Static assets
 * and cron triggers are left out: ingestion does not use them.
 */
export function cairnBindings(secrets: CairnSecrets): Partial<MiniflareOptions> {
  const config = readCairnConfig()
  const sqliteClasses = new Set(config.migrations.flatMap((m) => m.new_sqlite_classes ?? []))
  const unsupported = [
    ['services', config.services],
    ['kv_namespaces', config.kv_namespaces],
    ['workflows', config.workflows],
    ['analytics_engine_datasets', config.analytics_engine_datasets],
    ['vectorize', config.vectorize],
    ['hyperdrive', config.hyperdrive],
  ].filter(([, list]) => Array.isArray(list) && list.length > 0)
  if (unsupported.length > 0) {
    throw new Error(
      `wrangler.toml declares bindings the bench does not map yet: ${unsupported.map(([n]) => n).join(', ')} (see bench/runtime.ts)`,
    )
  }
  return {
    compatibilityFlags: config.compatibility_flags,
    durableObjects: Object.fromEntries(
      config.durable_objects.bindings.map((b) => [
        b.name,
        { className: b.class_name, useSQLite: sqliteClasses.has(b.class_name) },
      ]),
    ),
    d1Databases: Object.fromEntries(
      config.d1_databases.map((d) => [d.binding, d.database_name ?? d.binding]),
    ),
    r2Buckets: Object.fromEntries(
      config.r2_buckets.map((r) => [r.binding, r.bucket_name ?? r.binding]),
    ),
    queueProducers: Object.fromEntries(
      (config.queues.producers ?? []).map((q) => [q.binding, { queueName: q.queue }]),
    ),
    queueConsumers: cairnQueueConsumers(config),
    ratelimits: Object.fromEntries(config.ratelimits.map((r) => [r.name, { simple: r.simple }])),
    bindings: { ...(config.vars as Record<string, string>), ...secrets },
  }
}

function readCairnConfig(): WranglerConfig {
  return unstable_readConfig({ config: 'wrangler.toml' }) as unknown as WranglerConfig
}

/** Each queue's consumer settings from wrangler.toml, in miniflare@4's terms. */
function cairnQueueConsumers(config: WranglerConfig) {
  return Object.fromEntries(
    (config.queues.consumers ?? []).map((q) => [
      q.queue,
      {
        maxBatchSize: q.max_batch_size ?? undefined,
        maxBatchTimeout: q.max_batch_timeout ?? undefined,
        maxRetries: q.max_retries ?? undefined,
        deadLetterQueue: q.dead_letter_queue ?? undefined,
      },
    ]),
  )
}

function generateSecrets(): CairnSecrets {
  return {
    CAIRN_ADMIN_KEY: `sk_admin_${randomBytes(18).toString('base64url')}`,
    CAIRN_IP_SALT: randomBytes(18).toString('base64url'),
  }
}

/** The part of wrangler's normalised config the bench maps (its published types are loose). */
interface WranglerConfig {
  compatibility_flags: string[]
  migrations: { new_sqlite_classes?: string[] }[]
  durable_objects: { bindings: { name: string; class_name: string }[] }
  d1_databases: { binding: string; database_name?: string }[]
  r2_buckets: { binding: string; bucket_name?: string }[]
  queues: {
    producers?: { binding: string; queue: string }[]
    consumers?: {
      queue: string
      max_batch_size?: number | null
      max_batch_timeout?: number | null
      max_retries?: number | null
      dead_letter_queue?: string | null
    }[]
  }
  ratelimits: { name: string; simple: { limit: number; period: 10 | 60 } }[]
  vars: Record<string, unknown>
  services?: unknown[]
  kv_namespaces?: unknown[]
  workflows?: unknown[]
  analytics_engine_datasets?: unknown[]
  vectorize?: unknown[]
  hyperdrive?: unknown[]
}

/** Applies the D1 migrations and creates a source through the public API. */
async function prepareCairn(target: Target, secrets: CairnSecrets): Promise<CairnTarget> {
  const db = httpD1(target.url)
  await applyMigrations(db)
  const adminKey = secrets.CAIRN_ADMIN_KEY
  const response = await fetch(`${target.url}/api/sources`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', allowedOrigins: ['https://shop.example'] }),
  })
  const text = await response.text()
  if (response.status !== 201) {
    throw new Error(`POST /api/sources answered ${response.status}: ${text}`)
  }
  const { writeKey } = JSON.parse(text) as { writeKey: string }
  return { ...target, adminKey, writeKey, db, secrets }
}

/** drizzle-kit output: statements separated by `--> statement-breakpoint`, applied in order. */
async function applyMigrations(db: BenchDb): Promise<void> {
  const files = readdirSync('migrations')
    .filter((f) => f.endsWith('.sql'))
    .sort()
  for (const file of files) {
    const statements = readFileSync(`migrations/${file}`, 'utf8')
      .split('--> statement-breakpoint')
      .map((s) => s.trim())
      .filter(Boolean)
    for (const statement of statements) {
      try {
        await db.prepare(statement).run()
      } catch (error) {
        throw new Error(`migration ${file} failed at:\n${statement}\n${(error as Error).message}`)
      }
    }
  }
}
