import { readdirSync, readFileSync } from 'node:fs'
import { join, posix, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The layering the architecture promises, read from the source: the pure domain imports
 * nothing but itself, contracts stand on neither platform side, durable/ takes only types from
 * edge/ (beyond the allow-list below, which should only shrink), the console takes only types
 * from contracts/, and the merge steps one ContactDO calls on another stay inside durable/.
 */

const ROOT = resolve(import.meta.dirname, '..')

/**
 * Modules under edge/ whose *values* durable/ still imports. Each is a piece of untangling
 * left: move it to domain/ or contracts/ (or its durable/ user), then delete its line here.
 */
const DURABLE_EDGE_VALUES = new Set([
  'edge/attribution/config', // durable/contact-configuration.ts: loadConfig
  'edge/db/multi-row', // durable/multi-row.ts: multiRowQueries
  'edge/privacy/erasure', // durable/contact-do.ts: requestErasure
  'edge/privacy/identifiers', // contact-do.ts identifierOfKey, identity-directory.ts identifierHash
  'edge/privacy/retention', // durable/contact-do.ts: readRetention
  'edge/segments/config', // durable/contact-segments.ts: loadSegmentConfig
  'edge/journeys/config', // contact-journeys.ts journeyConfig, …; contact-do.ts journeyDefinition
])

interface Import {
  /** The file that imports, from the repository root. */
  file: string
  /** As written. */
  specifier: string
  /** From the repository root, without extension, for a relative specifier; else null. */
  target: string | null
  typeOnly: boolean
}

/** What may stand between `import`/`export` and `from`: a default name, braces, or a star. */
const CLAUSE = String.raw`(?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*\s+as\s+[\w$]+|\*)|[\w$]+`
const STATEMENT = new RegExp(
  String.raw`^(import|export)\s+(type\s+)?(?:(${CLAUSE})\s+from\s+)?['"]([^'"]+)['"]` +
    String.raw`|\bimport\(\s*['"]([^'"]+)['"]\s*\)`,
  'gm',
)

/**
 * The imports and re-exports of one source file. Statements start a line, as Prettier writes
 * them, so an example in a comment (` * import …`) is not one; `export const` never matches.
 */
function importsOf(file: string, source: string): Import[] {
  const found: Import[] = []
  for (const match of source.matchAll(STATEMENT)) {
    const [, , typeKeyword, clause, fromSpecifier, dynamicSpecifier] = match
    const specifier = (fromSpecifier ?? dynamicSpecifier)!
    const target = specifier.startsWith('.')
      ? posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.tsx?$/, '')
      : null
    found.push({ file, specifier, target, typeOnly: isTypeOnly(typeKeyword, clause) })
  }
  return found
}

/** `import type …`, or braces in which every name is marked `type`: erased from the output. */
function isTypeOnly(typeKeyword: string | undefined, clause: string | undefined): boolean {
  if (typeKeyword) return true
  if (!clause) return false
  const braces = /^\{([^}]*)\}$/.exec(clause.trim())
  if (!braces) return false
  const names = braces[1]!
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  return names.length > 0 && names.every((name) => name.startsWith('type '))
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter(
      (entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts'),
    )
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .filter((file) => !file.split('/').includes('node_modules'))
}

function importsUnder(dir: string): Import[] {
  return sourceFiles(dir).flatMap((file) => importsOf(file, readFileSync(join(ROOT, file), 'utf8')))
}

const isTest = (file: string) => /\.test\.tsx?$/.test(file)
const under = (target: string | null, dir: string) => !!target && target.startsWith(`${dir}/`)
const shown = (found: Import[]) => found.map((i) => `${i.file} imports '${i.specifier}'`)

describe('the import graph', () => {
  it('reads the statements Prettier writes', () => {
    const source = [
      `import { a, type B } from '../edge/x'`,
      `import type { C } from './c.ts'`,
      `import {\n  type D,\n  type E,\n} from '../edge/y'`,
      `import 'cloudflare:workers'`,
      `export { f } from '../edge/z'`,
      `export type { G } from '../edge/g'`,
      `export const h = 1`,
      `export type I = { from: 'not-an-import' }`,
      `export * from './all'`,
      `import j, * as k from 'pkg'`,
      ` * import { fake } from 'in-a-comment'`,
      `const m = await import('./lazy')`,
    ].join('\n')
    expect(importsOf('durable/file.ts', source)).toEqual([
      { file: 'durable/file.ts', specifier: '../edge/x', target: 'edge/x', typeOnly: false },
      { file: 'durable/file.ts', specifier: './c.ts', target: 'durable/c', typeOnly: true },
      { file: 'durable/file.ts', specifier: '../edge/y', target: 'edge/y', typeOnly: true },
      { file: 'durable/file.ts', specifier: 'cloudflare:workers', target: null, typeOnly: false },
      { file: 'durable/file.ts', specifier: '../edge/z', target: 'edge/z', typeOnly: false },
      { file: 'durable/file.ts', specifier: '../edge/g', target: 'edge/g', typeOnly: true },
      { file: 'durable/file.ts', specifier: './all', target: 'durable/all', typeOnly: false },
      { file: 'durable/file.ts', specifier: 'pkg', target: null, typeOnly: false },
      { file: 'durable/file.ts', specifier: './lazy', target: 'durable/lazy', typeOnly: false },
    ])
  })

  it('keeps domain/ pure: it imports only from domain/, no platform or package', () => {
    // Tests and their helpers (attribution/testing.ts) may use vitest.
    const testTool = (i: Import) =>
      i.specifier === 'vitest' && (isTest(i.file) || i.file.endsWith('/testing.ts'))
    const outside = importsUnder('domain').filter((i) => !testTool(i) && !under(i.target, 'domain'))
    expect(shown(outside)).toEqual([])
  })

  it('keeps contracts/ on neither side: nothing from edge/, durable/ or the Workers runtime', () => {
    // A test may check a side against the contract with its types.
    const crossing = importsUnder('contracts').filter(
      (i) =>
        ((under(i.target, 'edge') || under(i.target, 'durable')) &&
          !(isTest(i.file) && i.typeOnly)) ||
        i.specifier.startsWith('cloudflare:'),
    )
    expect(shown(crossing)).toEqual([])
  })

  it('lets durable/ take only types from edge/, beyond the allow-list', () => {
    // Tests drive the whole Worker and may use any of it.
    const edgeValues = importsUnder('durable').filter(
      (i) => !isTest(i.file) && under(i.target, 'edge') && !i.typeOnly,
    )
    const unlisted = edgeValues.filter((i) => !DURABLE_EDGE_VALUES.has(i.target!))
    expect(shown(unlisted)).toEqual([])
    // An entry nothing needs any more is progress: delete it so it cannot come back.
    const used = new Set(edgeValues.map((i) => i.target))
    const stale = [...DURABLE_EDGE_VALUES].filter((target) => !used.has(target))
    expect(stale, 'DURABLE_EDGE_VALUES entries nothing imports any more').toEqual([])
  })

  it('keeps the console to types from contracts/, so no schema library reaches its bundle', () => {
    // Values only from a contracts module that is plain constants: it imports no value itself.
    const plain = (target: string) => {
      const file = `${target}.ts`
      return importsOf(file, readFileSync(join(ROOT, file), 'utf8')).every((i) => i.typeOnly)
    }
    const values = importsUnder('console/src').filter(
      (i) => under(i.target, 'contracts') && !i.typeOnly && !plain(i.target!),
    )
    expect(shown(values)).toEqual([])
  })

  it('keeps the merge steps between contacts inside durable/ (tests aside)', () => {
    const peers = ['edge', 'console/src', 'contracts', 'domain']
      .flatMap(importsUnder)
      .filter((i) => i.target === 'durable/contact-peer' && !isTest(i.file))
    expect(shown(peers)).toEqual([])
  })
})
