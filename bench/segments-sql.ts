import { build } from 'esbuild'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { OUT_DIR } from './build.ts'

/**
 * The segment rule compiler (domain/segments/sql.ts) for use in this Node process, so the bench
 * times the very statements the preview route sends rather than SQL of its own. Its modules
 * import each other without extensions, which Node refuses, so esbuild joins them first (as
 * domain.ts does for attribution).
 */
export type SegmentsSql = Pick<
  typeof import('../domain/segments/sql.ts'),
  'countQuery' | 'sampleQuery'
>

const OUTFILE = `${OUT_DIR}/domain/segments-sql.mjs`

export async function loadSegmentsSql(): Promise<SegmentsSql> {
  await build({
    entryPoints: ['domain/segments/sql.ts'],
    bundle: true,
    outfile: OUTFILE,
    format: 'esm',
    platform: 'neutral',
    target: 'es2024',
    logLevel: 'warning',
  })
  return (await import(`${pathToFileURL(resolve(OUTFILE)).href}?t=${Date.now()}`)) as SegmentsSql
}
