import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { api, createSource, eventually, send, uid } from '../../test/support/api'

interface ContactPage {
  items: { key: string; email: string | null; traits: Record<string, unknown> }[]
  cursor: string | null
}

async function search(q: string) {
  const response = await api(`/api/contacts?q=${encodeURIComponent(q)}&limit=1000`)
  expect(response.status).toBe(200)
  return (await response.json()) as ContactPage
}

/** Every string the search looks into: the key, the email and the traits' values. */
function searchedText(contact: ContactPage['items'][number]): string[] {
  const values: string[] = []
  const walk = (value: unknown) => {
    if (value && typeof value === 'object') Object.values(value).forEach(walk)
    else if (typeof value === 'string' || typeof value === 'number') values.push(String(value))
  }
  walk(contact.traits)
  return [contact.key, contact.email ?? '', ...values]
}

const run = uid('search')
const people = {
  percent: `${run}-50%off`,
  underscore: `${run}-plain`,
  neither: `${run}-other`,
}

beforeAll(async () => {
  const { writeKey } = await createSource({ name: 'Search' })
  await send('/v1/identify', writeKey, { userId: people.percent, traits: { plan: 'pro' } })
  await send('/v1/identify', writeKey, {
    userId: people.underscore,
    traits: { nickname: 'snake_case' },
  })
  // Trait names and the JSON around the values hold `_`, `"` and `:`; no value does.
  await send('/v1/identify', writeKey, {
    userId: people.neither,
    traits: { first_name: 'Ann', plan: 'basic' },
  })
  await eventually(async () => (await search(run)).items.length === 3)
})

describe('contact search', () => {
  it('matches % and _ only where the key, email or a trait value holds them literally', async () => {
    const percent = await search('%')
    expect(percent.items.map((c) => c.key)).toContain(people.percent)
    for (const contact of percent.items) {
      expect(
        searchedText(contact).some((text) => text.includes('%')),
        contact.key,
      ).toBe(true)
    }

    const underscore = await search('_')
    const found = underscore.items.map((c) => c.key)
    expect(found).toContain(people.underscore)
    expect(found).not.toContain(people.percent)
    expect(found).not.toContain(people.neither)
    for (const contact of underscore.items) {
      expect(
        searchedText(contact).some((text) => text.includes('_')),
        contact.key,
      ).toBe(true)
    }

    for (const punctuation of ['"', ':', '{']) {
      expect((await search(punctuation)).items.map((c) => c.key)).not.toContain(people.neither)
    }
    expect((await search(`${run}-50%`)).items.map((c) => c.key)).toEqual([people.percent])
    expect((await search('SNAKE_')).items.map((c) => c.key)).toContain(people.underscore)
  })
})

describe('auditing lists and searches', () => {
  const listRows = () =>
    env.DB.prepare(
      "SELECT seq, subject_hash, status, detail FROM audit_log WHERE action = 'GET /api/contacts' ORDER BY seq",
    ).all<{ seq: number; subject_hash: string | null; status: number; detail: string | null }>()

  it('writes one row per search naming the query and how many contacts it returned', async () => {
    const before = (await listRows()).results.length
    const response = await api(`/api/contacts?q=${encodeURIComponent(run)}&limit=1000`)
    expect(response.status).toBe(200)
    expect(((await response.json()) as ContactPage).items).toHaveLength(3)

    const rows = (await listRows()).results
    expect(rows).toHaveLength(before + 1)
    const row = rows.at(-1)!
    expect(row.status).toBe(200)
    const detail = JSON.parse(row.detail!) as Record<string, unknown>
    expect(detail).toMatchObject({ limit: 1000, cursor: false, segment: null, returned: 3 })
    // The search text is held as a keyed hash, not in clear: the log outlives erasure.
    expect(detail.q).toMatch(/^[0-9a-f]{64}$/)
    expect(row.detail).not.toContain(run)
  })

  it('audits a page read with a cursor, and a refused list', async () => {
    const first = (await (await api(`/api/contacts?q=${run}&limit=1`)).json()) as ContactPage
    expect(first.cursor).not.toBeNull()
    await api(`/api/contacts?q=${run}&limit=1&cursor=${encodeURIComponent(first.cursor!)}`)
    const refused = await api('/api/contacts?segment=nope')
    expect(refused.status).toBe(400)

    const [paged, denied] = (await listRows()).results.slice(-2)
    expect(JSON.parse(paged!.detail!)).toMatchObject({ limit: 1, cursor: true, returned: 1 })
    expect(denied!.status).toBe(400)
    expect(JSON.parse(denied!.detail!)).toMatchObject({ segment: 'nope', q: null })
  })
})
