import { build, type BuildOptions } from 'esbuild'
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

export async function loadAttributionDomain(): Promise<AttributionDomain> {
  return loadDomainBundle<AttributionDomain>('attribution', {
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
  })
}

/**
 * Joins domain modules from `entry` into one ES module under OUT_DIR/domain/<name>.mjs and
 * imports it (a fresh copy each call, so a rebuilt bundle is the one that runs). `platform:
 * 'browser'` bundles npm packages that name their builds in package.json `browser` and `module`
 * fields (liquidjs, html-to-text), which the neutral platform cannot resolve, as they are in the
 * Worker's bundle.
 */
export async function loadDomainBundle<T>(
  name: string,
  entry: Pick<BuildOptions, 'entryPoints' | 'stdin'>,
  options: Pick<BuildOptions, 'platform'> = {},
): Promise<T> {
  const outfile = `${OUT_DIR}/domain/${name}.mjs`
  await build({
    ...entry,
    bundle: true,
    outfile,
    format: 'esm',
    platform: options.platform ?? 'neutral',
    target: 'es2024',
    logLevel: 'warning',
  })
  return (await import(`${pathToFileURL(resolve(outfile)).href}?t=${Date.now()}`)) as T
}
