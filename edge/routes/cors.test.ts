import { SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { BASE, createSource } from '../../test/support/api'

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
