import { describe, expect, it } from 'vitest'
import { api, createSource, send } from '../../test/support/api'
import { jsonDepth } from './json-limits'

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)

describe('JSON limits', () => {
  it('measures nesting outside strings', () => {
    expect(jsonDepth('{"a":[1,{"b":2}]}')).toBe(3)
    expect(jsonDepth('{"a":"[[[[{{{{\\"]]"}')).toBe(1)
    expect(jsonDepth(nested(40))).toBe(40)
  })

  it('refuses deeply nested JSON on ingestion and management routes', async () => {
    const { writeKey } = await createSource({ name: 'Depth' })
    const deep = `{"batch":[{"type":"track","event":"x","userId":"u","properties":{"p":${nested(40)}}}]}`
    const ingest = await send('/v1/batch', writeKey, deep)
    expect(ingest.status).toBe(400)
    expect(await ingest.json()).toMatchObject({ error: { code: 'json_too_deep' } })
    const management = await api('/api/sources', {
      method: 'POST',
      body: `{"name":"x","allowedOrigins":${nested(40)}}`,
      headers: { 'Content-Type': 'application/json' },
    })
    expect(management.status).toBe(400)
    expect(await management.json()).toMatchObject({ error: { code: 'json_too_deep' } })
  })

  it('refuses management bodies over the size limit with 413', async () => {
    const response = await api('/api/sources', {
      method: 'POST',
      json: { name: 'x'.repeat(7 * 1024 * 1024) },
    })
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ error: { code: 'payload_too_large' } })
  })

  it('keeps management bodies small and lets only path uploads be large', async () => {
    // 300 KB: under the old 6 MB for every route, over the management limit.
    const large = await api('/api/sources', {
      method: 'POST',
      json: { name: 'x', allowedOrigins: Array(300).fill(`https://${'a'.repeat(1000)}.example`) },
    })
    expect(large.status).toBe(413)
    expect(await large.json()).toEqual({
      error: { code: 'payload_too_large', message: expect.stringMatching(/262144 bytes/) },
    })
    const channels = ['email', 'search', 'social', 'display']
    const paths = Array.from({ length: 10_000 }, (_, i) => ({
      path: Array.from({ length: 12 }, (_, j) => channels[(i + j * j) % channels.length]!),
      conversions: 1,
      value: 10,
    }))
    const upload = await api('/api/attribution/analyze', { method: 'POST', json: { paths } })
    expect(JSON.stringify({ paths }).length).toBeGreaterThan(1024 * 1024)
    expect(upload.status).toBe(200)
  })
})
