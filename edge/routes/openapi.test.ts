import { describe, expect, it } from 'vitest'
import { api } from '../../test/support/api'
import { operationId } from './openapi'

interface Operation {
  operationId?: string
  summary?: string
  tags?: string[]
  security?: Record<string, string[]>[]
}

interface Document {
  tags: { name: string; description?: string }[]
  servers: { url: string }[]
  paths: Record<string, Record<string, Operation>>
}

async function served() {
  const response = await api('/api/openapi.json', { key: '' })
  expect(response.status).toBe(200)
  const doc = (await response.json()) as Document
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method, path, operation })),
  )
  return { doc, operations }
}

// `npm run lint` checks the whole document with redocly (scripts/openapi.ts); these tests hold
// the parts a client generator relies on, and the security it declares against what the API does.
describe('the OpenAPI document', () => {
  it('names every operation once, with a summary and a declared tag', async () => {
    const { doc, operations } = await served()
    expect(operations.length).toBeGreaterThan(40)
    expect(doc.servers.length).toBeGreaterThan(0)
    const declared = new Set(doc.tags.map((tag) => tag.name))
    for (const tag of doc.tags) expect(tag.description, tag.name).toBeTruthy()
    const ids = operations.map(({ operation }) => operation.operationId)
    expect(new Set(ids).size).toBe(operations.length)
    for (const { method, path, operation } of operations) {
      const what = `${method.toUpperCase()} ${path}`
      expect(operation.operationId, what).toMatch(/^[a-z][A-Za-z0-9]*$/)
      expect(operation.summary, what).toBeTruthy()
      expect(operation.tags?.length, what).toBeGreaterThan(0)
      for (const tag of operation.tags ?? []) expect(declared, what).toContain(tag)
    }
  })

  it('derives operation ids from method and path', () => {
    expect(operationId('get', '/api/contacts/{id}/events')).toBe('getContactsByIdEvents')
    expect(operationId('delete', '/api/privacy/suppressions/{hash}')).toBe(
      'deletePrivacySuppressionsByHash',
    )
    expect(operationId('post', '/beacon/v1/batch')).toBe('postBeaconV1Batch')
    expect(operationId('get', '/api/privacy/export/{contactId}')).toBe(
      'getPrivacyExportByContactId',
    )
  })

  it('declares credentials on exactly the operations that answer 401 without them', async () => {
    const { operations } = await served()
    const mismatches: string[] = []
    for (const { method, path, operation } of operations) {
      const unsafe = method !== 'get'
      const response = await api(path.replace(/\{[^}]+\}/g, 'x'), {
        key: '',
        method: method.toUpperCase(),
        headers: unsafe ? { 'Content-Type': 'application/json' } : {},
        body: unsafe && method !== 'delete' ? '{}' : undefined,
      })
      await response.body?.cancel()
      const declares = (operation.security ?? []).length > 0
      if (declares !== (response.status === 401)) {
        mismatches.push(
          `${method.toUpperCase()} ${path}: security ${JSON.stringify(operation.security)}, ` +
            `answered ${response.status} without credentials`,
        )
      }
    }
    expect(mismatches).toEqual([])
  })

  it('documents the write key schemes on every ingestion path and a key or session on /api', async () => {
    const { operations } = await served()
    for (const { method, path, operation } of operations) {
      const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement))
      const what = `${method.toUpperCase()} ${path}`
      if (path.startsWith('/v1/') || path.startsWith('/beacon/')) {
        expect(schemes, what).toEqual(['writeKeyBasic', 'writeKeyQuery'])
      } else if (path.startsWith('/api/') && schemes.length > 0) {
        expect(schemes, what).toEqual(
          method === 'get'
            ? ['secretKey', 'consoleSession']
            : ['secretKey', 'consoleSession', 'csrfToken'],
        )
      }
    }
  })
})
