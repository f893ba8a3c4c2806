// Builds the browser tracker into dist/site/t.js (served by the Worker at /t.js) and copies the
// demo shop to dist/site/demo/. Run: `node tracker/build.ts` (Node 24 strips the types).
// The budget, 1,500 bytes gzipped, is enforced by tracker/test/size.node.test.ts.
import { build } from 'esbuild'
import { minify } from 'terser'
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const root = join(import.meta.dirname, '..')
export const TRACKER_BUDGET_GZIP = 1500

export interface TrackerSizes {
  minified: number
  gzip: number
  brotli: number
}

/** gzip at level 9 and brotli at its best quality: what an edge serving static assets sends. */
export function measure(code: string | Uint8Array): TrackerSizes {
  const bytes = typeof code == 'string' ? Buffer.from(code) : code
  return {
    minified: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length,
  }
}

/**
 * Bundle and minify the tracker in memory: esbuild strips the types and joins the modules into
 * one IIFE; terser minifies it, as it inlines single-use functions, merges declarations and
 * reuses short names across scopes, about 30 bytes gzipped smaller than esbuild's minifier.
 */
export async function bundleTracker(): Promise<{ code: string; sizes: TrackerSizes }> {
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
  const result = await build({
    entryPoints: [join(root, 'tracker/src/index.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    // Modern evergreen browsers: optional chaining and ??= are cheaper native than lowered.
    target: 'es2021',
    // Syntax-level minification only (const -> let, folded constants); terser does the rest.
    minifySyntax: true,
    define: { VERSION: JSON.stringify(version) },
    legalComments: 'none',
    logLevel: 'silent',
    // Without this esbuild reads tsconfig's strict and prepends "use strict": 13 bytes.
    tsconfigRaw: {},
  })
  const minified = await minify(result.outputFiles[0]!.text, {
    ecma: 2020,
    compress: { passes: 3 },
    mangle: { toplevel: true },
    format: { comments: false },
  })
  const code = minified.code!.trim()
  return { code, sizes: measure(code) }
}

/** Write dist/site/t.js and dist/site/demo/; returns the sizes. */
export async function buildTracker(outDir = join(root, 'dist/site')) {
  const { code, sizes } = await bundleTracker()
  await mkdir(outDir, { recursive: true })
  await writeFile(join(outDir, 't.js'), code + '\n')
  await cp(join(root, 'tracker/demo'), join(outDir, 'demo'), { recursive: true })
  return { code, sizes, file: join(outDir, 't.js') }
}

export const formatSizes = (s: TrackerSizes) =>
  `t.js: ${s.minified} B minified, ${s.gzip} B gzip -9, ${s.brotli} B brotli` +
  ` (budget ${TRACKER_BUDGET_GZIP} B gzip)`

if (import.meta.main) {
  const { sizes, file } = await buildTracker()
  console.log(`${file}\n${formatSizes(sizes)}`)
  if (sizes.gzip > TRACKER_BUDGET_GZIP) {
    console.error(`over budget by ${sizes.gzip - TRACKER_BUDGET_GZIP} B`)
    process.exitCode = 1
  }
}
