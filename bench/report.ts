import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname } from 'node:path'

/** Formatting helpers shared by every section, and the JSON written at the end. */

export function table(headers: string[], rows: (string | number)[][]): string[] {
  const cells = rows.map((row) => row.map(String))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)))
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)]
}

export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '-'
}

export function ms(n: number): string {
  if (!Number.isFinite(n)) return '-'
  return n < 10 ? n.toFixed(1) : n.toFixed(0)
}

/** A duration of whole minutes and seconds, as sections report their own length. */
export function minutes(seconds: number): string {
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`
}

export function pct(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(0)}%` : '-'
}

export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`
}

export function verdict(ok: boolean): string {
  return ok ? 'yes' : 'NO'
}

export function environment() {
  const version = (pkg: string) => {
    try {
      return (
        JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, 'utf8')) as { version: string }
      ).version
    } catch {
      return 'unknown'
    }
  }
  const cpu = cpus()
  return {
    date: new Date().toISOString(),
    node: process.version,
    miniflare: version('miniflare'),
    workerd: version('workerd'),
    autocannon: version('autocannon'),
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  }
}

export function writeResults(path: string, results: unknown): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, JSON.stringify(results, null, 2) + '\n')
}
