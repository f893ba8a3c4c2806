import { build } from 'esbuild'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { OUT_DIR } from './build.ts'

/**
 * The pure attribution code (domain/attribution) for use in this Node process. Its modules
 * import each other without extensions, as the Worker's bundler allows and Node does not, so
 * esbuild joins them into one ES module first; the code that runs is the Worker's own.
 */
export type AttributionDomain = typeof import('../domain/attribution/index.ts') &
  Pick<typeof import('../domain/attribution/rule-based.ts'), 'ruleCreditsForPaths'> &
  Pick<typeof import('../domain/attribution/synthetic.ts'), 'syntheticPaths'>

const OUTFILE = `${OUT_DIR}/domain/attribution.mjs`

export async function loadAttributionDomain(): Promise<AttributionDomain> {
  await build({
    stdin: {
      contents: [
        "export * from './domain/attribution/index.ts'",
        "export { ruleCreditsForPaths } from './domain/attribution/rule-based.ts'",
        "export { syntheticPaths } from './domain/attribution/synthetic.ts'",
      ].join('\n'),
      resolveDir: process.cwd(),
      sourcefile: 'bench-attribution-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    outfile: OUTFILE,
    format: 'esm',
    platform: 'neutral',
    target: 'es2024',
    logLevel: 'warning',
  })
  return (await import(
    `${pathToFileURL(resolve(OUTFILE)).href}?t=${Date.now()}`
  )) as AttributionDomain
}
