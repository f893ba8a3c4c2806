import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { transform } from 'esbuild'
import {
  bundleTracker,
  measure,
  TRACKER_BUDGET_GZIP,
  type TrackerSizes,
} from '../../tracker/build.ts'
import { progress } from '../progress.ts'
import { int, table } from '../report.ts'
import type { Check, Section } from './section.ts'

/**
 * Issue 3: our tracker's size beside the trackers in the npm packages people compare it with,
 * all measured in this run the same way (tracker/build.ts `measure`: bytes, gzip -9, brotli at
 * its best quality). Each package's file is the one a site loads; a file that ships
 * unminified is measured after esbuild's minifier, so no tracker is charged for whitespace.
 */

const PLAUSIBLE = '@plausible-analytics/tracker'
const SEGMENT = '@segment/analytics-next'

/** What makes analytics.js fetch each of its lazy chunks (read from its source). */
const SEGMENT_CHUNK_TRIGGERS: Record<string, string> = {
  'ajs-destination': 'classic device-mode destinations enabled in the settings',
  '407': 'the video plugins library, loaded by the legacyVideos chunk',
  'tsub-middleware': 'routing rules in the settings',
  schemaFilter: 'a tracking plan in the settings',
  remoteMiddleware: 'remote middleware enabled in the settings',
  queryString: 'ajs_* parameters on the landing URL',
  'auto-track': 'trackLink/trackForm calls',
  legacyVideos: 'legacy video plugins enabled',
}

export interface MeasuredTracker {
  name: string
  version: string
  file: string
  /** Bytes of the file as the package ships it. */
  shippedBytes: number
  /** esbuild's minifier saved under 10%: the file already ships minified. */
  shippedMinified: boolean
  /** Sizes of what a site loads (the shipped file, or its esbuild-minified form). */
  sizes: TrackerSizes
  note: string
  lazyChunks?: { name: string; file: string; sizes: TrackerSizes; loadedWhen: string }[]
}

export const trackerSection: Section = {
  name: 'tracker',
  async run() {
    progress('tracker', 'building t.js in memory (esbuild + terser, as npm run build does)')
    const ours = await bundleTracker()
    progress(
      'tracker',
      `t.js: ${ours.sizes.minified} B, ${ours.sizes.gzip} B gzip -9, ${ours.sizes.brotli} B brotli`,
    )

    progress('tracker', `measuring ${PLAUSIBLE}`)
    const plausiblePkg = packageJson(PLAUSIBLE)
    const plausibleEntry = plausiblePkg.module ?? plausiblePkg.main ?? 'plausible.js'
    const plausible = await measureFile(
      PLAUSIBLE,
      plausiblePkg.version,
      plausibleEntry,
      'the npm build (an ES module a site bundles; no script-tag build in the package)',
    )

    progress('tracker', `measuring ${SEGMENT}`)
    const segmentPkg = packageJson(SEGMENT)
    const segment = await measureFile(
      SEGMENT,
      segmentPkg.version,
      'dist/umd/standalone.js',
      'the standalone browser build (what the script-tag snippet loads as analytics.min.js)',
    )
    segment.lazyChunks = segmentChunks()
    const lazyTotal = segment.lazyChunks.reduce((sum, c) => sum + c.sizes.gzip, 0)

    const trackers: MeasuredTracker[] = [
      {
        name: 'Cairn t.js',
        version: ownVersion(),
        file: 'tracker/src (built by tracker/build.ts)',
        shippedBytes: ours.sizes.minified,
        shippedMinified: true,
        sizes: ours.sizes,
        note: 'batching, retries, offline queue, consent (opt-in, GPC, TCF), identity, SPA page views',
      },
      plausible,
      segment,
    ]
    const rows = trackers.map((t) => [
      `${t.name}${t.name.startsWith('Cairn') ? '' : `@${t.version}`}`,
      t.file,
      t.shippedMinified ? 'yes' : 'no',
      int(t.sizes.minified),
      int(t.sizes.gzip),
      int(t.sizes.brotli),
      t === trackers[0] ? '1.00x' : `${(t.sizes.gzip / ours.sizes.gzip).toFixed(2)}x`,
    ])
    const summary = [
      'Tracker size: the file a site loads, measured in this run the same way (gzip -9; brotli at max quality).',
      ...table(
        ['tracker', 'file', 'shipped minified', 'bytes', 'gzip', 'brotli', 'gzip vs ours'],
        rows,
      ).map((l) => `  ${l}`),
      `  Plausible: ${plausible.note}${plausible.shippedMinified ? '' : '; measured after esbuild minify'}.`,
      `  Segment: ${segment.note}. It also lazy-loads ${segment.lazyChunks.length} chunks on demand ` +
        `(${int(lazyTotal)} B gzip in all), none of them on a plain page with no destinations, ` +
        'plan, middleware or ajs_ parameters:',
      ...segment.lazyChunks.map(
        (c) =>
          `    ${c.name.padEnd(16)} ${int(c.sizes.gzip).padStart(6)} B gzip  (${c.loadedWhen})`,
      ),
    ]
    const checks: Check[] = [
      {
        name: `tracker ≤ ${int(TRACKER_BUDGET_GZIP)} B gzip`,
        ok: ours.sizes.gzip <= TRACKER_BUDGET_GZIP,
        detail: `${int(ours.sizes.gzip)} B gzip -9 (${int(ours.sizes.minified)} B minified, ${int(ours.sizes.brotli)} B brotli)`,
      },
      {
        name: "tracker smaller than Plausible's npm build (gzip)",
        ok: ours.sizes.gzip < plausible.sizes.gzip,
        detail: `${int(ours.sizes.gzip)} vs ${int(plausible.sizes.gzip)} B`,
      },
    ]
    progress(
      'tracker',
      `Plausible ${plausible.sizes.gzip} B gzip, Segment ${segment.sizes.gzip} B gzip (+${lazyTotal} B in lazy chunks)`,
    )
    return { summary, checks, data: { trackers, budgetGzip: TRACKER_BUDGET_GZIP } }
  },
}

function packageJson(name: string): { version: string; module?: string; main?: string } {
  return JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8'))
}

function ownVersion(): string {
  return (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version
}

async function measureFile(
  name: string,
  version: string,
  file: string,
  note: string,
): Promise<MeasuredTracker> {
  file = file.replace(/^\.\//, '')
  const path = join('node_modules', name, file)
  const shipped = readFileSync(path, 'utf8')
  // Keep the module format: only whitespace, names and syntax are minified.
  const minified = (await transform(shipped, { minify: true, loader: 'js', legalComments: 'none' }))
    .code
  const shippedMinified = Buffer.byteLength(minified) >= 0.9 * Buffer.byteLength(shipped)
  return {
    name,
    version,
    file,
    shippedBytes: Buffer.byteLength(shipped),
    shippedMinified,
    sizes: measure(shippedMinified ? shipped : minified),
    note,
  }
}

/** The chunks analytics.js fetches by itself later (webpack `*.bundle.<hash>.js` beside it). */
function segmentChunks(): NonNullable<MeasuredTracker['lazyChunks']> {
  const dir = join('node_modules', SEGMENT, 'dist/umd')
  return readdirSync(dir)
    .filter((f) => /\.bundle\.[0-9a-f]+\.js$/.test(f))
    .map((file) => {
      const name = file.replace(/\.bundle\.[0-9a-f]+\.js$/, '')
      return {
        name,
        file: `dist/umd/${file}`,
        sizes: measure(readFileSync(join(dir, file))),
        loadedWhen: SEGMENT_CHUNK_TRIGGERS[name] ?? 'on demand',
      }
    })
    .sort((a, b) => b.sizes.gzip - a.sizes.gzip)
}
