// Measures the console's initial JavaScript: the entry script index.html loads plus the modules
// it preloads, gzipped. Fails over the budget (issue 6: under 60 KB).
// Run after a build: `node console/size-budget.ts [dist/site]` (Node 24 strips the types).
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'

export const BUDGET_BYTES = 60 * 1024

export interface SizeReport {
  files: { file: string; raw: number; gzip: number }[]
  raw: number
  gzip: number
  budget: number
  ok: boolean
}

export async function measureInitialJs(siteDir: string): Promise<SizeReport> {
  const html = await readFile(join(siteDir, 'index.html'), 'utf8')
  const sources = [
    ...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
  ].map((match) => match[1]!)
  if (sources.length === 0) throw new Error(`no module script in ${siteDir}/index.html`)
  const files = await Promise.all(
    [...new Set(sources)].map(async (src) => {
      const bytes = await readFile(join(siteDir, src.replace(/^\//, '')))
      return { file: src, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }
    }),
  )
  const raw = files.reduce((n, f) => n + f.raw, 0)
  const gzip = files.reduce((n, f) => n + f.gzip, 0)
  return { files, raw, gzip, budget: BUDGET_BYTES, ok: gzip <= BUDGET_BYTES }
}

/** Every JavaScript chunk the build wrote, gzipped: the screens loaded on demand included. */
export async function measureChunks(siteDir: string): Promise<SizeReport['files']> {
  const names = (await readdir(join(siteDir, 'assets'))).filter((name) => name.endsWith('.js'))
  const files = await Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(join(siteDir, 'assets', name))
      return { file: name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }
    }),
  )
  return files.sort((a, b) => b.gzip - a.gzip)
}

export function describeChunks(files: SizeReport['files']): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
  return files.map((f) => `  ${f.file.padEnd(32)} ${kb(f.gzip).padStart(9)} gzipped`).join('\n')
}

export function describe(report: SizeReport): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
  return `console initial JS: ${kb(report.gzip)} gzipped (${kb(report.raw)} raw, ${report.files.length} file${report.files.length === 1 ? '' : 's'}; budget ${kb(report.budget)})`
}

if (import.meta.url === `file://${resolve(process.argv[1] ?? '')}`) {
  const report = await measureInitialJs(resolve(process.argv[2] ?? 'dist/site'))
  console.log(describe(report))
  if (!report.ok) {
    console.error('over budget: the console must load under 60 KB of JavaScript, gzipped')
    process.exit(1)
  }
}
