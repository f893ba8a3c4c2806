import { beforeAll, describe, expect, it } from 'vitest'
import { SPEND_LIMITS } from '../../contracts/kpis'
import { api, d1Count, errorOf, uid } from '../../test/support/api'

let marketer: string
let analyst: string

async function keyFor(role: string) {
  const response = await api('/api/keys', { method: 'POST', json: { name: uid(role), role } })
  return ((await response.json()) as { key: string }).key
}

beforeAll(async () => {
  marketer = await keyFor('marketer')
  analyst = await keyFor('analyst')
})

function importCsv(text: string, key?: string) {
  return api('/api/spend', {
    method: 'POST',
    key,
    headers: { 'Content-Type': 'text/csv' },
    body: text,
  })
}

async function stored(from: string, to: string) {
  const response = await api(`/api/spend?from=${from}&to=${to}`)
  expect(response.status).toBe(200)
  return (await response.json()) as {
    items: { channel: string; day: string; amount: number; currency: string | null }[]
    cursor: string | null
    totals: { channel: string; currency: string | null; amount: number; days: number }[]
  }
}

describe('POST /api/spend', () => {
  it('stores JSON rows, adding up rows of one channel and day, and reads them back', async () => {
    const response = await api('/api/spend', {
      method: 'POST',
      key: marketer,
      json: {
        rows: [
          { channel: 'paid_search', day: '2025-01-02', amount: 120.5, currency: 'eur' },
          { channel: 'paid_search', day: '2025-01-02', amount: 79.5, currency: 'EUR' },
          { channel: 'paid_social', day: '2025-01-03', amount: 40, currency: 'EUR' },
        ],
      },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      received: 3,
      stored: 2,
      replaced: 0,
      from: '2025-01-02',
      to: '2025-01-03',
      channels: ['paid_search', 'paid_social'],
    })
    const list = await stored('2025-01-01', '2025-01-31')
    expect(
      list.items.map(({ channel, day, amount, currency }) => [channel, day, amount, currency]),
    ).toEqual([
      ['paid_social', '2025-01-03', 40, 'EUR'],
      ['paid_search', '2025-01-02', 200, 'EUR'],
    ])
    expect(list.totals).toEqual([
      { channel: 'paid_search', currency: 'EUR', amount: 200, days: 1 },
      { channel: 'paid_social', currency: 'EUR', amount: 40, days: 1 },
    ])
  })

  it('stores CSV, and importing a channel-day again replaces it', async () => {
    const first = await importCsv(
      'Date,Campaign,Channel,Cost\n2025-02-01,"Brand, EU",email,10\n2025-02-02,x,email,20\n',
    )
    expect(first.status).toBe(200)
    expect(await first.json()).toMatchObject({ received: 2, stored: 2, replaced: 0 })

    const again = await importCsv('channel,day,amount\nemail,2025-02-02,25\nemail,2025-02-03,5\n')
    expect(again.status).toBe(200)
    expect(await again.json()).toMatchObject({ received: 2, stored: 2, replaced: 1 })
    const list = await stored('2025-02-01', '2025-02-28')
    expect(list.items.map((row) => [row.day, row.amount])).toEqual([
      ['2025-02-03', 5],
      ['2025-02-02', 25],
      ['2025-02-01', 10],
    ])
    expect(list.totals).toEqual([{ channel: 'email', currency: null, amount: 40, days: 3 }])
  })

  it('names every bad JSON row and field, lists the known channels, and stores nothing', async () => {
    const before = await d1Count('SELECT COUNT(*) AS n FROM marketing_spend')
    const error = await errorOf(
      await api('/api/spend', {
        method: 'POST',
        json: {
          rows: [
            { channel: 'email', day: '2025-03-01', amount: 1 },
            { channel: 'email', day: '2025-02-30', amount: 1 },
            { channel: 'paid-search', day: '2025-03-01', amount: 1 },
            { channel: 'email', day: '2025-03-02', amount: -3 },
            { channel: 'email', day: '2025-03-03' },
            { channel: 'email', day: '2999-01-01', amount: 1, currency: 'euro' },
          ],
        },
      }),
      400,
      'invalid_spend',
    )
    expect(error.message).toContain('Nothing was stored: rows[1].day: must be a day like')
    expect(error.message).toContain('rows[2].channel: unknown channel "paid-search"')
    expect(error.message).toContain('Known channels: ')
    expect(error.details.knownChannels).toContain('paid_search')
    expect(error.details.knownChannels).not.toContain('paid-search')
    expect(
      error.details.issues.map((issue: { path: string; index: number }) => [
        issue.path,
        issue.index,
      ]),
    ).toEqual([
      ['rows[1].day', 1],
      ['rows[2].channel', 2],
      ['rows[3].amount', 3],
      ['rows[4].amount', 4],
      ['rows[5].day', 5],
      ['rows[5].currency', 5],
    ])
    expect(error.details.issues[3].message).toBe('required')
    expect(error.details.issueCount).toBe(6)
    expect(await d1Count('SELECT COUNT(*) AS n FROM marketing_spend')).toBe(before)
  })

  it('names every bad CSV line and field and stores nothing', async () => {
    const before = await d1Count('SELECT COUNT(*) AS n FROM marketing_spend')
    const error = await errorOf(
      await importCsv(
        'channel,day,amount\nemail,2025-04-01,1\nemail,2025-04-02,"1,234.50"\nsms,04/03/2025,$5\nemail,2025-04-04,,\n',
      ),
      400,
      'invalid_spend',
    )
    expect(error.details.issues.map((issue: { path: string }) => issue.path)).toEqual([
      'line 3: amount',
      'line 4: day',
      'line 4: amount',
      'line 5',
    ])
    expect(error.message).toContain(
      'line 3: amount must be a number like 1234.50 (no currency sign or thousands separator)',
    )
    expect(error.message).toContain('(and 1 more)')
    expect(await d1Count('SELECT COUNT(*) AS n FROM marketing_spend')).toBe(before)

    const header = await errorOf(
      await importCsv('channel,date\nemail,2025-04-01\n'),
      400,
      'invalid_spend',
    )
    expect(header.message).toBe(
      'Nothing was stored: line 1: amount missing from the header (found: "channel", "day")',
    )
  })

  it('refuses two currencies for one channel-day, an empty import and too many rows', async () => {
    const conflict = await errorOf(
      await importCsv(
        'channel,day,amount,currency\nemail,2025-05-01,1,EUR\nemail,2025-05-01,1,USD\n',
      ),
      400,
      'invalid_spend',
    )
    expect(conflict.message).toBe(
      'Nothing was stored: line 3: the same channel and day as line 2 with another currency',
    )
    await errorOf(
      await api('/api/spend', { method: 'POST', json: { rows: [] } }),
      400,
      'invalid_spend',
    )
    await errorOf(await api('/api/spend', { method: 'POST', json: [] }), 400, 'invalid_spend')
    const rows = Array.from({ length: SPEND_LIMITS.rows + 1 }, () => ({
      channel: 'email',
      day: '2025-05-01',
      amount: 1,
    }))
    await errorOf(await api('/api/spend', { method: 'POST', json: { rows } }), 413, 'too_many_rows')
  })

  it('is for admins and marketers; analysts read', async () => {
    await errorOf(
      await importCsv('channel,day,amount\nemail,2025-06-01,1\n', analyst),
      403,
      'forbidden',
    )
    expect((await api('/api/spend', { key: analyst })).status).toBe(200)
  })

  it('pages through a period newest first', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({
      channel: 'sms',
      day: `2025-07-0${i + 1}`,
      amount: i,
    }))
    expect((await api('/api/spend', { method: 'POST', json: { rows } })).status).toBe(200)
    const first = (await (
      await api('/api/spend?from=2025-07-01&to=2025-07-31&limit=3')
    ).json()) as {
      items: { day: string }[]
      cursor: string
    }
    expect(first.items.map((row) => row.day)).toEqual(['2025-07-05', '2025-07-04', '2025-07-03'])
    const second = (await (
      await api(`/api/spend?from=2025-07-01&to=2025-07-31&limit=3&cursor=${first.cursor}`)
    ).json()) as { items: { day: string }[]; cursor: string | null }
    expect(second.items.map((row) => row.day)).toEqual(['2025-07-02', '2025-07-01'])
    expect(second.cursor).toBeNull()
  })
})
