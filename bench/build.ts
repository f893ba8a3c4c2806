import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { builtinModules } from 'node:module'
import { build } from 'esbuild'

/** Build output of the bench lives here (gitignored), inside the working directory as miniflare asks. */
export const OUT_DIR = 'bench/.out'
export const CAIRN_BUNDLE_DIR = `${OUT_DIR}/cairn`
export const CAIRN_SCRIPT = `${CAIRN_BUNDLE_DIR}/index.js`
/** The bench's own access to Cairn's D1 (see workers/d1-reader.ts). */
export const D1_READER_SCRIPT = `${OUT_DIR}/workers/d1-reader.js`
/** Cairn's queue consumer driven with synthetic batches (see workers/consumer-driver.ts). */
export const CONSUMER_DRIVER_SCRIPT = `${OUT_DIR}/workers/consumer-driver.js`
export const CEILING_SCRIPTS = {
  bare: `${OUT_DIR}/workers/bare.js`,
  'do-write': `${OUT_DIR}/workers/do-write.js`,
  'do-queue': `${OUT_DIR}/workers/do-queue.js`,
} as const

export interface BundleSize {
  script: string
  rawBytes: number
  gzipBytes: number
  /** What `wrangler deploy --dry-run` itself printed ("Total Upload: … / gzip: …"). */
  wranglerReport: string | null
  /** Largest contributors to the bundle, by bytes of output (from an esbuild metafile). */
  largestInputs: { input: string; bytes: number }[]
}

/** Bundles Cairn exactly as a deploy would, with `wrangler deploy --dry-run`. */
export function bundleCairn(): BundleSize {
  // A failed build must not leave the last one behind to be measured as if it were this code.
  rmSync(CAIRN_BUNDLE_DIR, { recursive: true, force: true })
  const result = spawnSync(
    'node_modules/.bin/wrangler',
    ['deploy', '--dry-run', '--outdir', CAIRN_BUNDLE_DIR],
    {
      encoding: 'utf8',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' },
    },
  )
  const output = `${result.stdout}\n${result.stderr}`
  if (result.status !== 0) {
    throw new Error(`wrangler deploy --dry-run failed (exit ${result.status}):\n${output}`)
  }
  const script = readFileSync(CAIRN_SCRIPT)
  return {
    script: CAIRN_SCRIPT,
    rawBytes: script.length,
    gzipBytes: gzipSync(script, { level: 9 }).length,
    wranglerReport: output.match(/Total Upload:[^\n]*/)?.[0]?.trim() ?? null,
    largestInputs: [],
  }
}

/**
 * Which packages make the bundle big. esbuild with the options wrangler uses for Workers; the
 * total differs slightly from wrangler's, the proportions are what matter.
 */
export async function bundleBreakdown(
  entry = 'edge/index.ts',
): Promise<BundleSize['largestInputs']> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    target: 'es2024',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    // Bare Node built-ins too (`stream`, `fs` from liquidjs' Node entry): wrangler resolves them
    // through nodejs_compat, and they add nothing to the bundle's size.
    external: ['cloudflare:*', 'node:*', ...builtinModules],
    logLevel: 'silent',
  })
  const byPackage = new Map<string, number>()
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input)
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput)
    }
  }
  return [...byPackage]
    .map(([input, bytes]) => ({ input, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8)
}

function packageOf(input: string): string {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
  if (match) return match[1]!
  return input.split('/')[0] === '..' ? input : `cairn: ${input.split('/')[0]}/`
}

/** The ceiling workers are tiny TypeScript modules; esbuild strips the types. */
export async function buildCeilings(): Promise<void> {
  for (const [name, outfile] of Object.entries(CEILING_SCRIPTS))
    await buildBenchWorker(name, outfile)
}

export function buildD1Reader(): Promise<void> {
  return buildBenchWorker('d1-reader', D1_READER_SCRIPT)
}

export function buildConsumerDriver(): Promise<void> {
  return buildBenchWorker('consumer-driver', CONSUMER_DRIVER_SCRIPT)
}

async function buildBenchWorker(name: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [`bench/workers/${name}.ts`],
    bundle: true,
    outfile,
    format: 'esm',
    target: 'es2024',
    platform: 'neutral',
    // As for Cairn's bundle: the consumer driver bundles Cairn's code and its packages.
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'warning',
  })
}
