import { parseArgs } from 'node:util'
import { OUT_DIR } from './build.ts'

/** On this machine's disk, like `wrangler dev`'s `.wrangler/state`. */
const DEFAULT_STATE_DIR = `${OUT_DIR}/state`

/** The targets one run measures: Cairn and the two ceilings it is compared with. */
export const TARGETS = ['bare', 'do-write', 'do-queue', 'cairn'] as const
export type TargetName = (typeof TARGETS)[number]
export const TARGET_LABELS: Record<TargetName, string> = {
  bare: 'bare 204',
  'do-write': 'DO-write',
  'do-queue': 'DO-write + queue',
  cairn: 'Cairn',
}

export const SHAPES = ['single', 'batch'] as const
export type Shape = (typeof SHAPES)[number]

export const SECTIONS = [
  'bundle',
  'ingest',
  'profile',
  'tracker',
  'privacy',
  'attribution',
  'consumer',
  'segments',
  'messaging',
  'predictions',
  'journeys',
] as const
export type SectionName = (typeof SECTIONS)[number]

export interface BenchConfig {
  quick: boolean
  /**
   * The segments section's ingest pairs with workerd's inspector open, each measured run
   * profiled to tell the contact objects' CPU from the rest.
   */
  objectCpu: boolean
  sections: SectionName[]
  /** Seconds of each closed-loop run (one per target, shape and connection count). */
  duration: number
  /** Seconds of unmeasured load before a target's runs, and before each closed loop. */
  warmup: number
  connections: number[]
  shapes: Shape[]
  /** The first-visit run stops after this long even if not every contact was visited. */
  firstVisitMax: number
  /** Fixed request rate of the open-loop run, requests per second. */
  openRate: number
  openDuration: number
  batchSize: number
  contacts: number
  /** Returning contacts active at once (sessions); bounds the Durable Objects live at once. */
  activeVisitors: number
  targets: TargetName[]
  /** 0: a free port picked when each target starts. */
  port: number
  /** Seconds to wait for the queue to drain into D1 before declaring loss. */
  drainTimeout: number
  /**
   * Where workerd keeps Durable Object, D1 and R2 state (as `wrangler dev` does); null: in
   * memory, which miniflare backs with files under the system's temporary folder.
   */
  stateDir: string | null
  seed: number
  /** Before each measured run, wait up to this long for other processes to go quiet. */
  quietWait: number
  /** Hard cap on the whole run, minutes: the bench exits by itself whatever happens. */
  maxMinutes: number
  resultsPath: string
}

const USAGE = `npm run bench [-- options]

  --quick                 short smoke run (1,000 contacts, 3 s per run, 3 s open loop, 1 s warm-up)
  --profile               also profile Cairn's isolate under load (adds the "profile" section)
  --object-cpu            the segments section's ingest pairs profiled: the contact objects' CPU
                          per event apart from the Worker's and the consumer's (inspector open)
  --sections=bundle,ingest,profile,tracker,privacy,attribution,consumer,segments,messaging,predictions,journeys
                          (env BENCH_SECTIONS, default: all but profile, segments, which
                          seeds a million contacts and takes about 15 minutes on its own,
                          messaging, which waits out the send queue's retries, predictions,
                          which seeds a million customers' purchases, and journeys, which
                          starts Cairn on a fresh state seven times, three with --quick)
  --duration=SEC          seconds per closed-loop run             (env BENCH_DURATION, default 12)
  --warmup=SEC            warm-up seconds per target and before each closed loop
                                                                  (env BENCH_WARMUP, default 3)
  --connections=16,64     closed-loop connection counts           (env BENCH_CONNECTIONS)
  --shapes=single,batch   load shapes                             (env BENCH_SHAPES)
  --rate=200              open-loop requests per second           (env BENCH_RATE)
  --open-duration=SEC     open-loop seconds                       (env BENCH_OPEN_DURATION, default 10)
  --batch-size=20         mean events per batch request           (env BENCH_BATCH_SIZE)
  --contacts=N            distinct contacts in the workload       (env BENCH_CONTACTS, default 10000)
  --active=1000           returning visitors in a session at once (env BENCH_ACTIVE)
  --targets=bare,do-write,do-queue,cairn                          (env BENCH_TARGETS)
  --port=N                port of the server under test           (env BENCH_PORT, default: a free one)
  --drain-timeout=SEC     wait for the queue to drain into D1     (env BENCH_DRAIN_TIMEOUT, default 120)
  --state-dir=DIR         folder for the runtime's state (Durable Objects, D1, R2); on tmpfs
                          (/dev/shm/...) storage costs no disk I/O: bench/results/2026-11-25-disk-and-tmpfs.md
                                                                  (env BENCH_STATE_DIR, default bench/.out/state)
  --in-memory             miniflare's non-persistent state (files under the system's temporary
                          folder, removed at exit) instead of a state folder
  --seed=N                workload seed                           (env BENCH_SEED, default 1)
  --first-visit-max=SEC   cap on the first-visit run              (env BENCH_FIRST_VISIT_MAX, default 240)
  --quiet-wait=SEC        before each run, wait up to SEC for workerd and other processes to go idle
                                                                  (env BENCH_QUIET_WAIT, default 30)
  --max-minutes=N         hard cap on the whole run               (env BENCH_MAX_MINUTES, default 30)
  --help`

export function readConfig(argv: string[], env: NodeJS.ProcessEnv): BenchConfig {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'object-cpu': { type: 'boolean', default: false },
      sections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      shapes: { type: 'string' },
      rate: { type: 'string' },
      'open-duration': { type: 'string' },
      'batch-size': { type: 'string' },
      contacts: { type: 'string' },
      active: { type: 'string' },
      targets: { type: 'string' },
      port: { type: 'string' },
      'drain-timeout': { type: 'string' },
      'state-dir': { type: 'string' },
      'in-memory': { type: 'boolean', default: false },
      seed: { type: 'string' },
      'max-minutes': { type: 'string' },
      'quiet-wait': { type: 'string' },
      'first-visit-max': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const quick = values.quick || env.BENCH_QUICK === '1'
  const pick = (flag: string | undefined, name: string) => flag ?? env[name]
  const sections = oneOf(
    list(
      pick(values.sections, 'BENCH_SECTIONS'),
      'bundle,ingest,tracker,privacy,attribution,consumer',
    ),
    SECTIONS,
    'sections',
  )
  if (values.profile && !sections.includes('profile')) sections.push('profile')
  // Ingestion and profiling run the bundle that the bundle section builds.
  if (!sections.includes('bundle')) sections.unshift('bundle')
  return {
    quick,
    objectCpu: values['object-cpu'],
    sections,
    duration: seconds(pick(values.duration, 'BENCH_DURATION'), quick ? 3 : 12, 'duration'),
    warmup: seconds(pick(values.warmup, 'BENCH_WARMUP'), quick ? 1 : 3, 'warmup', 0),
    connections: list(pick(values.connections, 'BENCH_CONNECTIONS'), '16,64').map((c) =>
      integer(c, 'connections', 1, 1024),
    ),
    shapes: oneOf(list(pick(values.shapes, 'BENCH_SHAPES'), SHAPES.join(',')), SHAPES, 'shapes'),
    openRate: integer(pick(values.rate, 'BENCH_RATE') ?? '200', 'rate', 1, 5000),
    openDuration: seconds(
      pick(values['open-duration'], 'BENCH_OPEN_DURATION'),
      quick ? 3 : 10,
      'open-duration',
      0,
    ),
    batchSize: integer(
      pick(values['batch-size'], 'BENCH_BATCH_SIZE') ?? '20',
      'batch-size',
      1,
      500,
    ),
    contacts: integer(
      pick(values.contacts, 'BENCH_CONTACTS') ?? (quick ? '1000' : '10000'),
      'contacts',
      1,
      1e7,
    ),
    activeVisitors: integer(pick(values.active, 'BENCH_ACTIVE') ?? '1000', 'active', 1, 1e7),
    targets: oneOf(
      list(pick(values.targets, 'BENCH_TARGETS'), TARGETS.join(',')),
      TARGETS,
      'targets',
    ),
    port: integer(pick(values.port, 'BENCH_PORT') ?? '0', 'port', 0, 65535),
    drainTimeout: seconds(
      pick(values['drain-timeout'], 'BENCH_DRAIN_TIMEOUT'),
      120,
      'drain-timeout',
    ),
    stateDir:
      values['in-memory'] || env.BENCH_IN_MEMORY === '1'
        ? null
        : (pick(values['state-dir'], 'BENCH_STATE_DIR') ?? DEFAULT_STATE_DIR),
    seed: integer(pick(values.seed, 'BENCH_SEED') ?? '1', 'seed', 0, 2 ** 31),
    firstVisitMax: seconds(
      pick(values['first-visit-max'], 'BENCH_FIRST_VISIT_MAX'),
      quick ? 60 : 240,
      'first-visit-max',
    ),
    quietWait: seconds(
      pick(values['quiet-wait'], 'BENCH_QUIET_WAIT'),
      quick ? 3 : 30,
      'quiet-wait',
      0,
    ),
    maxMinutes: seconds(pick(values['max-minutes'], 'BENCH_MAX_MINUTES'), 30, 'max-minutes'),
    resultsPath: 'bench/results/latest.json',
  }
}

function seconds(value: string | undefined, fallback: number, name: string, min = 0.5): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < min || n > 3600)
    throw new Error(`--${name}: not a duration: ${value}`)
  return n
}

function integer(value: string, name: string, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name}: expected an integer in [${min}, ${max}], got ${value}`)
  }
  return n
}

function list(value: string | undefined, fallback: string): string[] {
  return (value || fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

function oneOf<T extends string>(values: string[], allowed: readonly T[], name: string): T[] {
  for (const value of values) {
    if (!allowed.includes(value as T)) {
      throw new Error(`--${name}: ${value} is not one of ${allowed.join(', ')}`)
    }
  }
  return values as T[]
}
