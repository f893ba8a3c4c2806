import { env, SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { api, BASE } from '../../test/support/api'
import { ROLES, type Role } from '../db/schema'
import { PERMISSIONS, READS, type RouteKey } from './permissions'

const keys = {} as Record<Role, string>

beforeAll(async () => {
  for (const role of ROLES) {
    const response = await api('/api/keys', { method: 'POST', json: { name: `${role} key`, role } })
    expect(response.status).toBe(201)
    keys[role] = ((await response.json()) as { key: string }).key
  }
})

/** A request for a table entry: placeholder ids, and bodies that fail validation harmlessly. */
function call(route: RouteKey, key: string) {
  const [method, template] = route.split(' ') as [string, string]
  const path = template.replace(/\{hash\}/, 'f'.repeat(64)).replace(/\{[^}]+\}/g, 'nobody-here')
  const unsafe = method !== 'GET'
  return SELF.fetch(`${BASE}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${key}`,
      ...(unsafe ? { 'Content-Type': 'application/json' } : {}),
    },
    body: unsafe && method !== 'DELETE' ? '{}' : undefined,
  })
}

describe('the permission table', () => {
  const entries = Object.entries(PERMISSIONS) as [RouteKey, readonly Role[]][]

  for (const role of ROLES) {
    it(`is enforced for the ${role} role on every route`, async () => {
      const outcomes: string[] = []
      for (const [route, roles] of entries) {
        if (route === 'DELETE /api/session') continue
        const response = await call(route, keys[role])
        const expected = roles.includes(role)
        const denied = response.status === 403
        outcomes.push(`${route}: ${response.status}`)
        expect(denied, `${role} → ${route} answered ${response.status}`).toBe(!expected)
        expect(response.status, `${role} → ${route}`).not.toBe(401)
        expect(response.status, `${role} → ${route}`).toBeLessThan(500)
        if (denied) expect(await response.json()).toMatchObject({ error: { code: 'forbidden' } })
        else await response.body?.cancel()
      }
      expect(outcomes).toHaveLength(entries.length - 1)
    })
  }

  it('answers 401 without a key and for a revoked key', async () => {
    expect((await api('/api/contacts', { key: '' })).status).toBe(401)
    expect((await api('/api/contacts', { key: 'sk_made_up' })).status).toBe(401)
    const created = (await (
      await api('/api/keys', { method: 'POST', json: { name: 'temp', role: 'analyst' } })
    ).json()) as {
      id: string
      key: string
    }
    expect((await api('/api/contacts', { key: created.key })).status).toBe(200)
    expect((await api(`/api/keys/${created.id}`, { method: 'DELETE' })).status).toBe(200)
    expect((await api('/api/contacts', { key: created.key })).status).toBe(401)
  })

  it('covers every /api route of the OpenAPI document', async () => {
    const doc = (await (await api('/api/openapi.json', { key: '' })).json()) as {
      paths: Record<string, Record<string, unknown>>
    }
    const publicRoutes = ['POST /api/session']
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/')) continue
      for (const method of Object.keys(operations)) {
        const route = `${method.toUpperCase()} ${path}`
        if (publicRoutes.includes(route)) continue
        expect(Object.keys(PERMISSIONS), route).toContain(route)
      }
    }
  })

  it('classifies every read of the OpenAPI document as personal data or not', async () => {
    const doc = (await (await api('/api/openapi.json', { key: '' })).json()) as {
      paths: Record<string, Record<string, unknown>>
    }
    const reads = Object.entries(doc.paths)
      .filter(([path, operations]) => path.startsWith('/api/') && 'get' in operations)
      .map(([path]) => `GET ${path}`)
    expect(reads.length).toBeGreaterThan(10)
    for (const route of reads) {
      expect(['personal', 'none'], route).toContain((READS as Record<string, string>)[route])
    }
  })

  it('audits every personal-data read with one row per request, and no other read', async () => {
    const rowsOf = async (action: string) =>
      (await env.DB.prepare('SELECT COUNT(*) AS n FROM audit_log WHERE action = ?')
        .bind(action)
        .first<{ n: number }>())!.n
    for (const [route, kind] of Object.entries(READS) as [RouteKey, string][]) {
      const before = await rowsOf(route)
      const response = await call(route, keys.admin)
      expect(response.status, route).toBeLessThan(500)
      await response.body?.cancel()
      expect(await rowsOf(route), `${route} (${kind})`).toBe(before + (kind === 'personal' ? 1 : 0))
    }
  })

  it('stores secret keys only as hashes and shows each once', async () => {
    const created = (await (
      await api('/api/keys', { method: 'POST', json: { name: 'shown once', role: 'marketer' } })
    ).json()) as {
      key: string
      prefix: string
    }
    expect(created.key).toMatch(/^sk_marketer_/)
    const listed = await (await api('/api/keys')).text()
    expect(listed).not.toContain(created.key)
    expect(listed).toContain(created.prefix)
    const { env } = await import('cloudflare:test')
    const dump = JSON.stringify((await env.DB.prepare('SELECT * FROM api_keys').all()).results)
    expect(dump).not.toContain(created.key)
  })
})
