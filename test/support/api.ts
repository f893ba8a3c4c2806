import { env, SELF } from 'cloudflare:test'
import { expect } from 'vitest'
import { readArchive } from '../../edge/queue/archive'

export const ADMIN_KEY = 'test-admin-key'
export const BASE = 'https://cairn.test'

export function api(path: string, init: RequestInit & { json?: unknown; key?: string } = {}) {
  const headers = new Headers(init.headers)
  if (init.key !== '') headers.set('Authorization', `Bearer ${init.key ?? ADMIN_KEY}`)
  if (init.json !== undefined) headers.set('Content-Type', 'application/json')
  return SELF.fetch(`${BASE}${path}`, {
    ...init,
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
  })
}

export async function createSource(input: Record<string, unknown> = {}) {
  const response = await api('/api/sources', {
    method: 'POST',
    json: { name: 'Test site', ...input },
  })
  if (response.status !== 201)
    throw new Error(`source: ${response.status} ${await response.text()}`)
  return (await response.json()) as { id: string; writeKey: string; name: string }
}

export function basic(writeKey: string) {
  return `Basic ${btoa(`${writeKey}:`)}`
}

export function send(
  path: string,
  writeKey: string | null,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return SELF.fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(writeKey ? { Authorization: basic(writeKey) } : {}),
      ...headers,
    },
    body: typeof body === 'string' || body instanceof ArrayBuffer ? body : JSON.stringify(body),
  })
}

/** Polls until `check` returns a value (the queue consumer runs asynchronously). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${last}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function d1Count(query: string, ...params: unknown[]) {
  const row = await env.DB.prepare(query)
    .bind(...params)
    .first<{ n: number }>()
  return row?.n ?? 0
}

let counter = 0
/** Ids unique per test: storage is shared by the tests of one file. */
export function uid(prefix = 'u') {
  counter++
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`
}

/** Every record in every archive object of the bucket. */
export async function archiveRecords() {
  const listed = await env.ARCHIVE.list({ prefix: 'archive/' })
  return (await Promise.all(listed.objects.map((o) => readArchive(env.ARCHIVE, o.key)))).flat()
}

/** Asserts the one error shape (and nothing else in the body) with this status and code. */
export async function errorOf(response: Response, status: number, code: string) {
  expect(response.status).toBe(status)
  const body = (await response.json()) as { error: Record<string, unknown> }
  expect(Object.keys(body)).toEqual(['error'])
  expect(body.error.code).toBe(code)
  expect(typeof body.error.message).toBe('string')
  for (const key of Object.keys(body.error)) expect(['code', 'message', 'details']).toContain(key)
  return body.error as { code: string; message: string; details?: any }
}
