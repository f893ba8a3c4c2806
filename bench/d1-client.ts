/**
 * The bench's reads and writes of Cairn's D1, over plain HTTP to a bench-only worker
 * (workers/d1-reader.ts) that shares the database: awaiting them never blocks Node's thread.
 * The subset of D1's statement API the bench uses.
 */
export interface BenchDb {
  prepare(query: string): BenchStatement
}

export interface BenchStatement {
  bind(...params: unknown[]): BenchStatement
  first<T>(): Promise<T | null>
  all<T>(): Promise<{ results: T[] }>
  run(): Promise<void>
}

/** The path the reader worker is routed at, on the target's own address. */
export const D1_READER_PATH = '/__bench/d1'

export function httpD1(origin: string): BenchDb {
  const statement = (query: string, params: unknown[]): BenchStatement => ({
    bind: (...more) => statement(query, [...params, ...more]),
    first: async <T>() => (await execute<T>(origin, query, params))[0] ?? null,
    all: async <T>() => ({ results: await execute<T>(origin, query, params) }),
    run: async () => {
      await execute(origin, query, params)
    },
  })
  return { prepare: (query) => statement(query, []) }
}

async function execute<T>(origin: string, query: string, params: unknown[]): Promise<T[]> {
  const response = await fetch(`${origin}${D1_READER_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, params }),
  })
  const body = (await response.json()) as { results?: T[]; error?: string }
  if (!response.ok || !body.results) {
    throw new Error(`D1 (bench reader) answered ${response.status}: ${body.error ?? 'no results'}`)
  }
  return body.results
}
