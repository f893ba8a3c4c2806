import { SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { BASE, api, createSource, send } from '../../test/support/api'

// A file of its own: every source here lists its origins, so no source allows any origin.
beforeAll(async () => {
  await createSource({ name: 'Strict shop', allowedOrigins: ['https://shop.example'] })
})

function preflight(origin: string) {
  return SELF.fetch(`${BASE}/v1/batch`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
  })
}

describe('CORS preflight', () => {
  it('allows an origin some source allows, naming Origin once in Vary', async () => {
    const allowed = await preflight('https://shop.example')
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.example')
    expect(allowed.headers.get('Access-Control-Allow-Methods')).toBe('POST, OPTIONS')
    expect(allowed.headers.get('Vary')).toBe('Origin')
  })

  it('gives an origin no source allows nothing a browser would accept', async () => {
    const refused = await preflight('https://evil.example')
    expect(refused.headers.get('Access-Control-Allow-Origin')).toBeNull()
    expect(refused.headers.get('Access-Control-Allow-Methods')).toBeNull()
  })
})

describe('CORS scope', () => {
  it('gives the management API no CORS headers, whatever the origin', async () => {
    const evil = { Origin: 'https://evil.example' }
    const answers = await Promise.all([
      api('/api/session', { headers: evil }),
      api('/api/contacts', { headers: evil }),
      api('/api/openapi.json', { key: '', headers: evil }),
      api('/api/keys', { method: 'POST', headers: evil, json: { name: 'CORS', role: 'analyst' } }),
      api('/api/session', { key: '', headers: evil }),
      api('/api/nope', { headers: evil }),
      SELF.fetch(`${BASE}/api/session`, {
        method: 'OPTIONS',
        headers: { ...evil, 'Access-Control-Request-Method': 'DELETE' },
      }),
    ])
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 201, 401, 404, 404])
    for (const answer of answers) {
      expect(answer.headers.get('Access-Control-Allow-Origin')).toBeNull()
      expect(answer.headers.get('Access-Control-Expose-Headers')).toBeNull()
    }
  })

  it('keeps CORS on the ingestion paths, errors included', async () => {
    const { writeKey } = await createSource({
      name: 'Scoped shop',
      allowedOrigins: ['https://shop.example'],
    })
    const origin = { Origin: 'https://shop.example' }
    const tracked = await send('/v1/track', writeKey, { anonymousId: 'a-1', event: 'A' }, origin)
    const consent = await send(
      '/v1/consent',
      writeKey,
      { anonymousId: 'a-1', purposes: { analytics: true } },
      origin,
    )
    const refused = await send('/v1/batch', 'wk_unknown', { batch: [] }, origin)
    expect([tracked.status, consent.status, refused.status]).toEqual([200, 200, 401])
    for (const answer of [tracked, consent, refused]) {
      expect(answer.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.example')
    }
  })
})
