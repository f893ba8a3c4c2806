import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { integrations } from '../journeys/actions/testing'

describe('the webhook signing secret', () => {
  it('is made on first use and answered the same until rotated, never cached', async () => {
    const first = await integrations('/api/journeys/webhook-secret')
    expect(first.status).toBe(200)
    expect(first.headers.get('Cache-Control')).toBe('no-store')
    const { secret } = (await first.json()) as { secret: string }
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const again = (await (await integrations('/api/journeys/webhook-secret')).json()) as {
      secret: string
    }
    expect(again.secret).toBe(secret)

    const rotated = await integrations('/api/journeys/webhook-secret/rotate', { method: 'POST' })
    expect(rotated.status).toBe(200)
    const fresh = ((await rotated.json()) as { secret: string }).secret
    expect(fresh).not.toBe(secret)
    const after = (await (await integrations('/api/journeys/webhook-secret')).json()) as {
      secret: string
    }
    expect(after.secret).toBe(fresh)
  })

  it('is kept sealed in D1, never in clear', async () => {
    const { secret } = (await (await integrations('/api/journeys/webhook-secret')).json()) as {
      secret: string
    }
    const row = await env.DB.prepare(
      "SELECT value FROM settings WHERE key = 'journeys.webhook_secret'",
    ).first<{ value: string }>()
    expect(row!.value).toMatch(/^"v1:/)
    expect(row!.value).not.toContain(secret.slice('whsec_'.length))
  })

  it('answers 409 when the secrets key changed, and a rotation mends it', async () => {
    await integrations('/api/journeys/webhook-secret')
    await env.DB.prepare(
      "UPDATE settings SET value = '\"v1:AAAAAAAAAAAAAAAA:AAAA\"' WHERE key = 'journeys.webhook_secret'",
    ).run()
    const unreadable = await integrations('/api/journeys/webhook-secret')
    expect(unreadable.status).toBe(409)
    expect(await unreadable.json()).toMatchObject({ error: { code: 'secret_unreadable' } })
    await integrations('/api/journeys/webhook-secret/rotate', { method: 'POST' })
    expect((await integrations('/api/journeys/webhook-secret')).status).toBe(200)
  })
})

describe('the help desk for ticket nodes', () => {
  const put = (json: unknown) => integrations('/api/journeys/ticketing', { method: 'PUT', json })

  it('answers 404 until one is configured', async () => {
    await env.DB.prepare("DELETE FROM settings WHERE key = 'journeys.ticketing'").run()
    const response = await integrations('/api/journeys/ticketing')
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: { code: 'not_found' } })
  })

  it('keeps a credential write-only: answered as set, never its value', async () => {
    const response = await put({
      kind: 'freshdesk',
      baseUrl: 'https://acme.freshdesk.com/',
      apiKey: 'fd-secret-key-1',
    })
    expect(response.status).toBe(200)
    const text = await response.text()
    expect(text).not.toContain('fd-secret-key-1')
    expect(JSON.parse(text)).toEqual({
      kind: 'freshdesk',
      baseUrl: 'https://acme.freshdesk.com',
      credentials: { apiKey: 'set' },
    })
    const stored = await env.DB.prepare(
      "SELECT value FROM settings WHERE key = 'journeys.ticketing'",
    ).first<{ value: string }>()
    expect(stored!.value).not.toContain('fd-secret-key-1')
  })

  it('keeps the stored credential for the same help desk, and asks another for its own', async () => {
    expect(
      (
        await put({
          kind: 'zendesk',
          baseUrl: 'https://a.zendesk.com',
          email: 'o@a.test',
          apiToken: 'token-aaaa-1',
        })
      ).status,
    ).toBe(200)
    const kept = await put({ kind: 'zendesk', baseUrl: 'https://a.zendesk.com', email: 'p@a.test' })
    expect(kept.status).toBe(200)
    expect(await kept.json()).toMatchObject({ email: 'p@a.test', credentials: { apiToken: 'set' } })

    const elsewhere = await put({
      kind: 'zendesk',
      baseUrl: 'https://evil.example.com',
      email: 'p@a.test',
    })
    expect(elsewhere.status).toBe(400)
    expect(await elsewhere.json()).toMatchObject({
      error: { code: 'invalid_request', details: { issues: [{ path: 'apiToken' }] } },
    })
  })

  it('refuses a base URL that is private, not https, or more than an origin', async () => {
    for (const baseUrl of [
      'https://10.0.0.5',
      'https://localhost',
      'https://helpdesk.internal',
      'http://acme.freshdesk.com',
      'https://acme.freshdesk.com/api/v2',
      'https://acme.freshdesk.com/?x=1',
      'not a url',
    ]) {
      const response = await put({ kind: 'freshdesk', baseUrl, apiKey: 'fd-secret-key-1' })
      expect(response.status, baseUrl).toBe(400)
      const body = (await response.json()) as { error: { code: string; message: string } }
      expect(body.error.code, baseUrl).toBe('invalid_request')
      expect(body.error.message, baseUrl).toContain('baseUrl')
      expect(body.error.message, baseUrl).not.toContain('fd-secret-key-1')
    }
  })

  it('refuses a kind it does not know and a Zendesk without its agent email', async () => {
    expect(
      (await put({ kind: 'jira', baseUrl: 'https://a.example.com', apiKey: 'x'.repeat(10) }))
        .status,
    ).toBe(400)
    expect(
      (await put({ kind: 'zendesk', baseUrl: 'https://a.zendesk.com', apiToken: 'token-aaaa-1' }))
        .status,
    ).toBe(400)
  })
})
