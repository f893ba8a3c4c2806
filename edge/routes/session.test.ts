import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { ADMIN_KEY, BASE, api } from '../../test/support/api'
import { createApp } from '../app'

async function login(key: string, ip = '198.51.100.20') {
  const response = await SELF.fetch(`${BASE}/api/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip },
    body: JSON.stringify({ key }),
  })
  const cookie = response.headers.get('Set-Cookie') ?? ''
  return { response, cookie, token: cookie.match(/cairn_session=([^;]+)/)?.[1] }
}

function withSession(token: string, path: string, init: RequestInit = {}) {
  return SELF.fetch(`${BASE}${path}`, {
    ...init,
    headers: {
      Cookie: `cairn_session=${token}`,
      'Content-Type': 'application/json',
      ...init.headers,
    },
  })
}

describe('console sessions', () => {
  it('logs in with a key into an HttpOnly, Secure, SameSite cookie and logs out', async () => {
    const { response, cookie, token } = await login(ADMIN_KEY)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { role: string; csrfToken: string; expiresAt: string }
    expect(body.role).toBe('admin')
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/Secure/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(7 * 3_600_000)

    expect((await withSession(token!, '/api/contacts')).status).toBe(200)
    const me = (await (await withSession(token!, '/api/session')).json()) as {
      role: string
      csrfToken: string
    }
    expect(me).toMatchObject({ role: 'admin', csrfToken: body.csrfToken })

    const logout = await withSession(token!, '/api/session', {
      method: 'DELETE',
      headers: { 'X-CSRF-Token': body.csrfToken },
    })
    expect(logout.status).toBe(204)
    const after = await withSession(token!, '/api/contacts')
    expect(after.status).toBe(401)
    expect(await after.json()).toMatchObject({ error: { code: 'session_expired' } })
  })

  it('requires the CSRF token on state-changing requests made with the cookie', async () => {
    const { response, token } = await login(ADMIN_KEY)
    const { csrfToken } = (await response.json()) as { csrfToken: string }
    const body = JSON.stringify({ name: 'Made in the console' })
    const forged = await withSession(token!, '/api/sources', { method: 'POST', body })
    expect(forged.status).toBe(403)
    expect(await forged.json()).toMatchObject({ error: { code: 'csrf_failed' } })
    const wrong = await withSession(token!, '/api/sources', {
      method: 'POST',
      body,
      headers: { 'X-CSRF-Token': 'guess' },
    })
    expect(wrong.status).toBe(403)
    const real = await withSession(token!, '/api/sources', {
      method: 'POST',
      body,
      headers: { 'X-CSRF-Token': csrfToken },
    })
    expect(real.status).toBe(201)
  })

  it('ends sessions when their key is revoked and refuses unknown keys', async () => {
    const created = (await (
      await api('/api/keys', { method: 'POST', json: { name: 'leaver', role: 'marketer' } })
    ).json()) as {
      id: string
      key: string
    }
    const { token } = await login(created.key)
    expect((await withSession(token!, '/api/contacts')).status).toBe(200)
    await api(`/api/keys/${created.id}`, { method: 'DELETE' })
    expect((await withSession(token!, '/api/contacts')).status).toBe(401)
    const unknown = await login('sk_not_a_key')
    expect(unknown.response.status).toBe(401)
    expect(unknown.token).toBeUndefined()
  })

  it('ends bootstrap-key sessions once CAIRN_ADMIN_KEY changes', async () => {
    const { token } = await login(ADMIN_KEY)
    const withAdminKey = (adminKey: string) =>
      createApp().request(
        `${BASE}/api/contacts`,
        { headers: { Cookie: `cairn_session=${token}` } },
        { ...env, CAIRN_ADMIN_KEY: adminKey },
      )
    expect((await withAdminKey(ADMIN_KEY)).status).toBe(200)
    const rotated = await withAdminKey('a-new-admin-key')
    expect(rotated.status).toBe(401)
    expect(await rotated.json()).toMatchObject({ error: { code: 'session_expired' } })
    const unset = await withAdminKey('')
    expect(unset.status).toBe(401)
    expect(await unset.json()).toMatchObject({ error: { code: 'session_expired' } })
  })

  it('ends an API-key session when its key is revoked, with session_expired', async () => {
    const created = (await (
      await api('/api/keys', { method: 'POST', json: { name: 'revoked', role: 'analyst' } })
    ).json()) as { id: string; key: string }
    const { token } = await login(created.key)
    expect((await withSession(token!, '/api/session')).status).toBe(200)
    expect((await api(`/api/keys/${created.id}`, { method: 'DELETE' })).status).toBe(200)
    const after = await withSession(token!, '/api/session')
    expect(after.status).toBe(401)
    expect(await after.json()).toMatchObject({ error: { code: 'session_expired' } })
  })

  it('rate limits login attempts per address with Retry-After', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 15; i++) {
      const { response } = await login('sk_guess', '203.0.113.77')
      statuses.push(response.status)
      if (response.status === 429) {
        expect(response.headers.get('Retry-After')).toBe('60')
        break
      }
    }
    expect(statuses.at(-1)).toBe(429)
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true)
    // Another address may still log in.
    expect((await login(ADMIN_KEY, '203.0.113.78')).response.status).toBe(200)
  })
})
