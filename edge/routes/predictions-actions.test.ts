import { env } from 'cloudflare:test'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, createSource, errorOf, eventually, send, uid } from '../../test/support/api'

let writeKey: string
let analyst: string

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Next-best-action tests' })).writeKey
  const response = await api('/api/keys', {
    method: 'POST',
    json: { name: uid('analyst'), role: 'analyst' },
  })
  analyst = ((await response.json()) as { key: string }).key
})

afterAll(async () => {
  await api('/api/predictions/actions', { method: 'PUT', json: [] })
})

const DAY_MS = 86_400_000

/** Contacts known to the API, with `traits`. */
async function contacts(count: number, traits: Record<string, string> = {}): Promise<string[]> {
  const users = Array.from({ length: count }, () => uid('nba'))
  const batch = users.map((userId) => ({ type: 'identify', userId, traits }))
  expect((await send('/v1/batch', writeKey, { batch })).status).toBe(200)
  for (const user of users) {
    await eventually(async () => (await api(`/api/contacts/${user}`)).status === 200)
  }
  return users
}

async function nextActionOf(user: string): Promise<string | null> {
  const response = await api(`/api/contacts/${user}/predictions`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { nextBestAction: string | null }).nextBestAction
}

const putActions = (json: unknown, key?: string) =>
  api('/api/predictions/actions', { method: 'PUT', json, key })

async function outcomes(action: string, contactId: string, success: boolean, times: number) {
  let last: unknown
  for (let i = 0; i < times; i++) {
    const response = await api(`/api/predictions/actions/${action}/outcomes`, {
      method: 'POST',
      json: { contactId, success },
    })
    expect(response.status).toBe(200)
    last = await response.json()
  }
  return last
}

const action = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `Action ${id}`,
  goalEvent: 'Order Completed',
  ...extra,
})

describe('candidate actions', () => {
  it('are set and read, for marketers, read by analysts, and named when wrong', async () => {
    const set = [action('win-back-discount', { priorRate: 0.2 }), action('reminder')]
    const put = await putActions(set)
    expect(put.status).toBe(200)
    const expected = set.map((a) => ({ windowDays: 7, ...a }))
    expect(await put.json()).toEqual(expected)
    const read = await api('/api/predictions/actions', { key: analyst })
    expect(await read.json()).toEqual(expected)
    await errorOf(await putActions(set, analyst), 403, 'forbidden')

    const wrong = async (json: unknown, text: string) => {
      const error = await errorOf(await putActions(json), 400, 'invalid_request')
      expect(error.message).toContain(text)
    }
    await wrong([action('Not a slug')], '[0].id')
    await wrong([action('a'), action('a')], 'give each action its own id')
    await wrong([action('a', { priorRate: 1.5 })], '[0].priorRate')
    await wrong([action('a', { windowDays: 0 })], '[0].windowDays')
    await wrong([{ id: 'a', name: 'A' }], '[0].goalEvent')
    await wrong([action('a', { extra: 1 })], 'extra')
    await wrong(
      [action('a'), action('b', { segment: 'seg_nope' })],
      '[1].segment: no segment seg_nope',
    )
    await errorOf(
      await putActions(Array.from({ length: 21 }, (_, i) => action(`a${i}`))),
      400,
      'invalid_request',
    )
    expect(await (await api('/api/predictions/actions')).json()).toEqual(expected)
  })

  it('count outcomes per action, for marketers, naming what is wrong', async () => {
    const [user] = await contacts(1)
    expect((await putActions([action('count-me')])).status).toBe(200)
    expect(await outcomes('count-me', user!, true, 2)).toEqual({
      action: 'count-me',
      segment: 'all',
      successes: 2,
      failures: 0,
    })
    expect(await outcomes('count-me', user!, false, 1)).toMatchObject({ successes: 2, failures: 1 })
    const post = (id: string, json: unknown, key?: string) =>
      api(`/api/predictions/actions/${id}/outcomes`, { method: 'POST', json, key })
    await errorOf(await post('nope', { contactId: user, success: true }), 404, 'not_found')
    await errorOf(
      await post('count-me', { contactId: uid('nobody'), success: true }),
      404,
      'not_found',
    )
    const missing = await errorOf(
      await post('count-me', { contactId: user }),
      400,
      'invalid_request',
    )
    expect(missing.message).toContain('success')
    await errorOf(
      await post('count-me', { contactId: user, success: true }, analyst),
      403,
      'forbidden',
    )
  })
})

describe('what next-best-action learned', () => {
  it('is each action’s outcomes and goal rate, for analysts', async () => {
    const [user] = await contacts(1)
    const set = [action('learned-yes'), action('learned-hoped', { priorRate: 0.5 })]
    expect((await putActions(set)).status).toBe(200)
    await outcomes('learned-yes', user!, true, 3)
    await outcomes('learned-yes', user!, false, 1)
    const read = await api('/api/predictions/actions/outcomes', { key: analyst })
    expect(read.status).toBe(200)
    expect(await read.json()).toEqual([
      // Beta(1, 1) with 3 successes and 1 failure: 4 / 6.
      { action: 'learned-yes', segment: 'all', successes: 3, failures: 1, rate: 4 / 6 },
      { action: 'learned-hoped', segment: 'all', successes: 0, failures: 0, rate: 0.5 },
    ])
  })

  it('keeps the outcomes counted before they had a table of their own (migration 0009)', async () => {
    const arm = `all/${uid('before-0009')}`
    await env.DB.prepare(
      `INSERT INTO settings (key, value, updated_at) VALUES (?, json_object('successes', 4, 'failures', 7), ?)`,
    )
      .bind(`prediction_action_outcomes:${arm}`, new Date().toISOString())
      .run()
    // Its data statements, as D1 runs them (after drizzle's statement-breakpoint comment).
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0009_'))!
    for (const query of migration.queries.filter((q) =>
      /^(INSERT|DELETE)/.test(q.replace(/^--.*\n/, '').trim()),
    )) {
      await env.DB.prepare(query).run()
    }
    const moved = await env.DB.prepare(
      'SELECT successes, failures FROM action_outcomes WHERE arm = ?',
    )
      .bind(arm)
      .first()
    expect(moved).toEqual({ successes: 4, failures: 7 })
    const left = await env.DB.prepare(
      `SELECT count(*) AS n FROM settings WHERE key LIKE 'prediction_action_outcomes:%'`,
    ).first<{ n: number }>()
    expect(left!.n).toBe(0)
  })
})

describe('a contact’s next-best-action', () => {
  it('is null with no actions, then the action whose outcomes were good, for every contact, all day', async () => {
    const users = await contacts(12)
    expect((await putActions([])).status).toBe(200)
    expect(await nextActionOf(users[0]!)).toBeNull()

    const ids = ['discount', 'reminder', 'survey']
    expect(
      (
        await putActions([
          action('discount'),
          action('reminder'),
          action('survey', { priorRate: 0.1 }),
        ])
      ).status,
    ).toBe(200)
    expect(ids).toContain(await nextActionOf(users[0]!))

    await outcomes('reminder', users[0]!, true, 30)
    await outcomes('discount', users[1]!, false, 30)
    await outcomes('survey', users[2]!, false, 5)
    const chosen = await Promise.all(users.map(nextActionOf))
    expect(chosen.filter((id) => id === 'reminder').length).toBeGreaterThanOrEqual(11)
    // Drawn once per contact and day: asking again answers the same.
    expect(await Promise.all(users.map(nextActionOf))).toEqual(chosen)
  })

  it('offers a segment’s action only to its members', async () => {
    const run = uid('tier')
    const created = await api('/api/segments', {
      method: 'POST',
      json: { name: uid('VIP'), rule: { trait: 'tier', op: 'eq', value: run } },
    })
    expect(created.status).toBe(201)
    const segment = ((await created.json()) as { id: string }).id
    const members = await contacts(3, { tier: run })
    const others = await contacts(3, { tier: 'basic' })
    for (const member of members) {
      await eventually(async () => {
        const profile = (await (await api(`/api/contacts/${member}`)).json()) as {
          segments: string[]
        }
        return profile.segments.includes(segment)
      })
    }

    const set = [action('vip-gift', { segment, priorRate: 1 }), action('newsletter')]
    expect((await putActions(set)).status).toBe(200)
    expect(await outcomes('vip-gift', members[0]!, true, 20)).toMatchObject({ segment })
    await outcomes('newsletter', others[0]!, false, 20)
    for (const member of members) expect(await nextActionOf(member)).toBe('vip-gift')
    for (const other of others) expect(await nextActionOf(other)).toBe('newsletter')
  })
})

describe('the churn explanation', () => {
  it('is the rules’ sentence from the contact’s numbers when no Workers AI is bound', async () => {
    const user = uid('explained')
    const batch = [40, 10].map((ago) => ({
      type: 'track',
      userId: user,
      event: 'Order Completed',
      properties: { revenue: 25 },
      timestamp: new Date(Date.now() - ago * DAY_MS).toISOString(),
    }))
    expect((await send('/v1/batch', writeKey, { batch })).status).toBe(200)
    const explanation = await eventually(async () => {
      const response = await api(`/api/contacts/${user}/predictions/explanation`, { key: analyst })
      if (response.status !== 200) return null
      const body = (await response.json()) as { text: string; source: string }
      return body.text.includes('Purchases on 2 days') ? body : null
    })
    const { churnRisk } = (await (await api(`/api/contacts/${user}/predictions`)).json()) as {
      churnRisk: number
    }
    expect(explanation.source).toBe('rules')
    expect(explanation.text).toContain(`Churn risk ${Math.round(churnRisk * 100)}%`)
    expect(explanation.text).toContain('Purchases on 2 days, the last 10 days ago')
    await errorOf(
      await api(`/api/contacts/${uid('nobody')}/predictions/explanation`),
      404,
      'not_found',
    )
  })
})

describe('subject suggestions', () => {
  it('say plainly that Workers AI is not bound, and how to bind it', async () => {
    const post = (key?: string) =>
      api(`/api/templates/${uid('tpl')}/subject-suggestions`, { method: 'POST', key })
    const error = await errorOf(await post(), 409, 'ai_unavailable')
    expect(error.message).toContain('[ai] binding = "AI"')
    await errorOf(await post(analyst), 403, 'forbidden')
  })
})
