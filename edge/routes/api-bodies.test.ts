import { describe, expect, it } from 'vitest'
import { PERMISSIONS } from '../access/permissions'
import { api } from '../../test/support/api'

interface Operation {
  requestBody?: { content: Record<string, unknown> }
}

/**
 * Every /api route that changes something, from the generated document and the permission
 * table, with the body types it declares: a route added later is walked without editing this.
 */
async function apiRoutes() {
  const response = await api('/api/openapi.json', { key: '' })
  const doc = (await response.json()) as { paths: Record<string, Record<string, Operation>> }
  const routes = new Map<string, { method: string; path: string; mediaTypes: string[] }>()
  for (const [template, operations] of Object.entries(doc.paths)) {
    if (!template.startsWith('/api/')) continue
    for (const [method, operation] of Object.entries(operations)) {
      if (method === 'get') continue
      routes.set(`${method.toUpperCase()} ${template}`, {
        method: method.toUpperCase(),
        path: template.replace(/\{[^}]+\}/g, 'x'),
        mediaTypes: Object.keys(operation.requestBody?.content ?? {}),
      })
    }
  }
  for (const key of Object.keys(PERMISSIONS)) {
    const [method, template] = key.split(' ') as [string, string]
    if (method !== 'GET' && !routes.has(key)) {
      routes.set(key, { method, path: template.replace(/\{[^}]+\}/g, 'x'), mediaTypes: [] })
    }
  }
  return [...routes.values()]
}

const MALFORMED: { name: string; body?: string; type?: string; status: number; code: string }[] = [
  { name: 'x as JSON', body: 'x', type: 'application/json', status: 400, code: 'invalid_json' },
  {
    name: 'truncated JSON',
    body: '{"batch":[',
    type: 'application/json',
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'an empty JSON body',
    body: '',
    type: 'application/json',
    status: 400,
    code: 'invalid_json',
  },
  { name: 'no body at all', status: 400, code: 'invalid_json' },
  {
    name: 'JSON sent as text/plain',
    body: '{"name":"x"}',
    type: 'text/plain',
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a form',
    body: 'name=x&role=admin',
    type: 'application/x-www-form-urlencoded',
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'JSON without a type',
    body: '{"name":"x"}',
    status: 415,
    code: 'unsupported_media_type',
  },
]

describe('management API bodies', () => {
  // Every route, each with every malformed body: its time grows with the API, so it has room.
  it('answers every malformed body on every /api route with 400 or 415 in the error shape', async () => {
    const routes = await apiRoutes()
    const withBody = routes.filter((route) => route.mediaTypes.length > 0)
    // The document names the routes that take bodies; if it stopped doing so, nothing is tested.
    expect(withBody.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['POST /api/keys', 'POST /api/sources', 'POST /api/privacy/erasure']),
    )
    const failures: string[] = []
    for (const route of routes) {
      for (const bad of MALFORMED) {
        const headers: Record<string, string> = bad.type ? { 'Content-Type': bad.type } : {}
        const response = await api(route.path, {
          method: route.method,
          headers,
          body: bad.body,
        })
        const text = await response.text()
        const what = `${route.method} ${route.path} with ${bad.name}: ${response.status} ${text}`
        let body: unknown
        try {
          body = response.status === 204 ? null : JSON.parse(text)
        } catch {
          failures.push(`${what} (not JSON)`)
          continue
        }
        if (response.status >= 500) failures.push(what)
        if (response.status >= 400 && !isErrorShape(body)) failures.push(`${what} (shape)`)
        // A body a route takes must be refused as a body, before anything else looks at it.
        if (route.mediaTypes.length > 0) {
          const code = (body as { error?: { code?: string } }).error?.code
          if (response.status !== bad.status || code !== bad.code) failures.push(what)
        }
      }
    }
    expect(failures).toEqual([])
  }, 30_000)

  it('takes JSON with a charset, as browsers and the console send it', async () => {
    const response = await api('/api/keys', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=UTF-8' },
      body: JSON.stringify({ name: 'Charset key', role: 'analyst' }),
    })
    expect(response.status).toBe(201)
  })

  it('says where JSON broke and which types a route takes', async () => {
    const broken = await api('/api/sources', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"name": "x",',
    })
    expect(broken.status).toBe(400)
    const { error } = (await broken.json()) as { error: { message: string } }
    expect(error.message).toMatch(/^The request body is not valid JSON: /)

    const csv = await api('/api/attribution/analyze', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: 'path,conversions\nemail,1',
    })
    expect(csv.status).toBe(415)
    expect(await csv.json()).toEqual({
      error: {
        code: 'unsupported_media_type',
        message: expect.stringMatching(/application\/json.*text\/csv/),
      },
    })
  })
})

function isErrorShape(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false
  const keys = Object.keys(body)
  const error = (body as { error?: Record<string, unknown> }).error
  if (keys.length !== 1 || !error || typeof error !== 'object') return false
  const extra = Object.keys(error).filter((k) => !['code', 'message', 'details'].includes(k))
  return typeof error.code === 'string' && typeof error.message === 'string' && extra.length === 0
}
