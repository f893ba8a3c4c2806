import { describe, expect, it } from 'vitest'
import { api } from '../../test/support/api'

describe('meta routes', () => {
  it('answers health checks', async () => {
    const response = await api('/healthz', { key: '' })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ ok: true })
  })

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const response = await api('/api/openapi.json', { key: '' })
    expect(response.status).toBe(200)
    const doc = (await response.json()) as {
      openapi: string
      paths: Record<string, unknown>
      components: { schemas: Record<string, unknown> }
    }
    expect(doc.openapi).toBe('3.1.0')
    for (const path of [
      '/v1/track',
      '/v1/batch',
      '/api/contacts',
      '/api/contacts/{id}',
      '/api/contacts/{id}/events',
      '/api/insights/overview',
      '/api/sources',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path)
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['SegmentMessage', 'Error', 'Contact']),
    )
  })

  it('answers unknown API routes with the error shape', async () => {
    const response = await api('/api/nope')
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({
      error: { code: 'not_found', message: expect.any(String) },
    })
  })
})
