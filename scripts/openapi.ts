import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { build, type Plugin } from 'esbuild'

/**
 * Writes the Worker's OpenAPI document (what `GET /api/openapi.json` serves) to a file, for
 * client generators and for `npm run lint`, which passes `--lint`: then the document is checked
 * with `redocly lint` (rules in redocly.yaml) and any error or warning fails the run.
 *
 * The app is bundled for Node with the workerd-only `cloudflare:*` modules replaced by empty
 * classes: generating the document runs no handler and touches no binding.
 *
 * Usage: node scripts/openapi.ts [--lint] [out] (out defaults to dist/openapi.json, the path
 * .redocly.lint-ignore.yaml names)
 */
const args = process.argv.slice(2)
const lint = args.includes('--lint')
const out = args.find((arg) => !arg.startsWith('--')) ?? 'dist/openapi.json'

const workerdStubs: Plugin = {
  name: 'workerd-stubs',
  setup(build) {
    build.onResolve({ filter: /^cloudflare:/ }, (args) => ({
      path: args.path,
      namespace: 'workerd-stub',
    }))
    build.onLoad({ filter: /.*/, namespace: 'workerd-stub' }, () => ({
      contents:
        'export class DurableObject {}\nexport class WorkerEntrypoint {}\nexport const env = {}\n',
      loader: 'js',
    }))
  },
}

const bundle = await build({
  entryPoints: ['edge/app.ts'],
  bundle: true,
  write: false,
  platform: 'node',
  format: 'esm',
  // ES modules first, as the Worker's bundle takes them: a CommonJS build (liquidjs') would
  // require Node modules, which an ES module bundle cannot.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
  plugins: [workerdStubs],
})
const source = bundle.outputFiles[0]!.text
const { createApp } = (await import(
  `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`
)) as typeof import('../edge/app.ts')

const response = await createApp().request('/api/openapi.json', {}, {})
if (response.status !== 200) {
  throw new Error(`GET /api/openapi.json answered ${response.status}: ${await response.text()}`)
}
await mkdir(dirname(out), { recursive: true })
await writeFile(out, JSON.stringify(await response.json(), null, 2) + '\n')
console.log(`OpenAPI document written to ${out}`)
if (lint) lintDocument(out)

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number }
  problems: {
    ruleId: string
    severity: string
    message: string
    location: { pointer?: string }[]
  }[]
}

/** redocly fails on errors only; a warning here fails too, so the rules hold as written. */
function lintDocument(path: string) {
  const run = spawnSync(
    process.execPath,
    [
      'node_modules/@redocly/cli/bin/cli.js',
      'lint',
      path,
      '--config=redocly.yaml',
      '--format=json',
    ],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      // No usage reports and no update check: the linter must not reach the network.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' },
    },
  )
  let report: LintReport
  try {
    report = JSON.parse(run.stdout) as LintReport
  } catch {
    console.error(run.stdout, run.stderr)
    throw new Error(`redocly lint exited ${run.status} without a report`)
  }
  for (const problem of report.problems) {
    const where = problem.location.map((l) => l.pointer).join(', ')
    console.error(`${problem.severity} ${problem.ruleId} at ${where}: ${problem.message}`)
  }
  const { errors, warnings, ignored } = report.totals
  console.log(`redocly lint ${path}: ${errors} errors, ${warnings} warnings, ${ignored} ignored`)
  if (errors + warnings > 0 || run.status !== 0) process.exit(1)
}
