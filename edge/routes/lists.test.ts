import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { api, createSource, d1Count, errorOf, eventually, send, uid } from '../../test/support/api'
import { LIST_LIMITS } from './lists'

interface List {
  id: string
  name: string
  createdAt: string
  count: number
}

async function createList(name = uid('list')) {
  const response = await api('/api/lists', { method: 'POST', json: { name } })
  expect(response.status).toBe(201)
  return (await response.json()) as List
}

function change(method: 'POST' | 'DELETE', id: string, contactIds: string[], key?: string) {
  return api(`/api/lists/${id}/members`, { method, json: { contactIds }, key })
}

async function memberKeys(id: string) {
  const response = await api(`/api/lists/${id}/members?limit=1000`)
  expect(response.status).toBe(200)
  const page = (await response.json()) as { items: { contactKey: string }[] }
  return page.items.map((m) => m.contactKey).sort()
}

const run = uid('lists')
const people = { ann: `${run}-ann`, bob: `${run}-bob` }
const anonymous = `${run}-device`

beforeAll(async () => {
  const { writeKey } = await createSource({ name: 'Lists' })
  const response = await send('/v1/batch', writeKey, {
    batch: [
      { type: 'identify', userId: people.ann, traits: { plan: 'pro' } },
      { type: 'track', event: 'Seen', anonymousId: anonymous },
      // Bob first visits anonymously, then logs in: the anonymous id now names Bob.
      { type: 'track', event: 'Seen', anonymousId: anonymous, userId: people.bob },
    ],
  })
  expect(response.status).toBe(200)
  await eventually(
    async () =>
      (await d1Count(
        'SELECT COUNT(*) AS n FROM contacts WHERE key IN (?, ?)',
        people.ann,
        people.bob,
      )) === 2 &&
      (await d1Count(
        'SELECT COUNT(*) AS n FROM merges WHERE from_key = ?',
        `anon:${anonymous}`,
      )) === 1,
    20_000,
  )
}, 30_000)

describe('lists', () => {
  it('are created and listed with their member counts', async () => {
    const name = uid('Newsletter')
    const list = await createList(name)
    expect(list).toEqual({
      id: expect.stringMatching(/^list_/),
      name,
      createdAt: expect.any(String),
      count: 0,
    })
    const listed = (await (await api('/api/lists')).json()) as { items: List[] }
    expect(listed.items.find((l) => l.id === list.id)).toEqual(list)
    await errorOf(
      await api('/api/lists', { method: 'POST', json: { name: ' ' } }),
      400,
      'invalid_request',
    )
  })

  it('take contacts in and out through their objects, naming the ids of no contact', async () => {
    const list = await createList()
    const added = await change('POST', list.id, [
      people.ann,
      `anon:${anonymous}`,
      `${run}-nobody`,
      people.ann,
    ])
    expect(added.status).toBe(200)
    // The anonymous id and Bob's user id are one contact, counted once.
    expect(await added.json()).toEqual({ changed: 2, notFound: [`${run}-nobody`] })
    // Asked again, nothing changes, and the answer says so.
    const again = await change('POST', list.id, [people.ann])
    expect(await again.json()).toEqual({ changed: 0, notFound: [] })
    const both = [people.ann, people.bob].sort()
    await eventually(
      async () => JSON.stringify(await memberKeys(list.id)) === JSON.stringify(both),
      20_000,
    )
    const listed = (await (await api('/api/lists')).json()) as { items: List[] }
    expect(listed.items.find((l) => l.id === list.id)?.count).toBe(2)

    // A segment reading the list sees it in D1 too.
    const preview = await api('/api/segments/preview', {
      method: 'POST',
      json: { rule: { list: list.id } },
    })
    expect(await preview.json()).toMatchObject({ count: 2 })

    const removed = await change('DELETE', list.id, [people.bob])
    expect(removed.status).toBe(200)
    expect(await removed.json()).toEqual({ changed: 1, notFound: [] })
    await eventually(
      async () => JSON.stringify(await memberKeys(list.id)) === JSON.stringify([people.ann]),
      20_000,
    )
  }, 45_000)

  it('answers 404 for an unknown list, and refuses bodies past their bounds', async () => {
    await errorOf(await change('POST', 'list_nope', [people.ann]), 404, 'not_found')
    await errorOf(await change('DELETE', 'list_nope', [people.ann]), 404, 'not_found')
    await errorOf(await api('/api/lists/list_nope/members'), 404, 'not_found')

    const list = await createList()
    const tooMany = Array.from({ length: LIST_LIMITS.contactIds + 1 }, (_, i) => `c${i}`)
    const over = await errorOf(await change('POST', list.id, tooMany), 400, 'invalid_request')
    expect(over.message).toMatch(/^Invalid request: contactIds: /)
    await errorOf(await change('POST', list.id, []), 400, 'invalid_request')
  })

  it('lets analysts read but not change lists', async () => {
    const response = await api('/api/keys', {
      method: 'POST',
      json: { name: uid('analyst'), role: 'analyst' },
    })
    const { key } = (await response.json()) as { key: string }
    const list = await createList()
    await errorOf(
      await api('/api/lists', { method: 'POST', json: { name: 'x' }, key }),
      403,
      'forbidden',
    )
    await errorOf(await change('POST', list.id, [people.ann], key), 403, 'forbidden')
    await errorOf(await change('DELETE', list.id, [people.ann], key), 403, 'forbidden')
    expect((await api('/api/lists', { key })).status).toBe(200)
    expect((await api(`/api/lists/${list.id}/members`, { key })).status).toBe(200)
  })

  it('audits membership changes with counts, never the ids', async () => {
    const list = await createList()
    expect((await change('POST', list.id, [people.ann, `${run}-ghost`])).status).toBe(200)
    const row = await env.DB.prepare(
      "SELECT detail, subject_hash FROM audit_log WHERE action = 'POST /api/lists/{id}/members' ORDER BY seq DESC LIMIT 1",
    ).first<{ detail: string; subject_hash: string | null }>()
    expect(JSON.parse(row!.detail)).toEqual({
      list: list.id,
      requested: 2,
      changed: 1,
      notFound: 1,
    })
    expect(row!.detail).not.toContain(run)
  })
})
