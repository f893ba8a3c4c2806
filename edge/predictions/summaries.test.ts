import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PREDICTION_SETTINGS, valuePath } from '../../domain/predictions/forecast'
import { uid } from '../../test/support/api'
import { readPurchaseSummaries } from './summaries'

interface Row {
  contact: string
  event: string
  at: string
  properties?: Record<string, unknown>
  bot?: boolean
  source?: string
  type?: string
}

async function insert(rows: Row[]) {
  await env.DB.batch(
    rows.map((row) =>
      env.DB.prepare(
        `INSERT INTO events (id, message_id, contact_key, source_id, type, event, timestamp,
           received_at, day, landing, device, bot, properties, context)
         VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, 0, 'desktop', ?8, ?9, '{}')`,
      ).bind(
        crypto.randomUUID(),
        row.contact,
        row.source ?? 'src_test',
        row.type ?? 'track',
        row.event,
        row.at,
        row.at.slice(0, 10),
        row.bot ? 1 : 0,
        JSON.stringify(row.properties ?? {}),
      ),
    ),
  )
}

const NOW = new Date('2026-03-31T15:00:00Z')

async function summariesOf(purchaseEvent: string, keys: string[], valueProperty = 'revenue') {
  const all = await readPurchaseSummaries(
    env.DB,
    { purchaseEvents: [purchaseEvent], valueProperty },
    NOW,
  )
  return Object.fromEntries(
    all.filter((s) => keys.includes(s.contactKey)).map(({ contactKey, ...s }) => [contactKey, s]),
  )
}

describe('purchase summaries from D1', () => {
  it('count purchase days in UTC: x repeat days, tx and T in days, m the mean of the repeat days', async () => {
    const name = uid('Order Completed')
    const [once, often, sameDay] = [uid('once'), uid('often'), uid('same-day')]
    await insert([
      { contact: once, event: name, at: '2026-03-01T10:00:00.000Z', properties: { revenue: 40 } },
      // Bought on Jan 1 (twice, one purchase day worth 30), Jan 11 and Feb 10.
      { contact: often, event: name, at: '2026-01-01T08:00:00.000Z', properties: { revenue: 10 } },
      { contact: often, event: name, at: '2026-01-01T23:59:00.000Z', properties: { revenue: 20 } },
      { contact: often, event: name, at: '2026-01-11T12:00:00.000Z', properties: { revenue: 50 } },
      {
        contact: often,
        event: name,
        at: '2026-02-10T12:00:00.000Z',
        properties: { revenue: '70' },
      },
      // Two purchases on one day are one purchase day: no repeat.
      { contact: sameDay, event: name, at: '2026-03-30T01:00:00.000Z', properties: { revenue: 5 } },
      { contact: sameDay, event: name, at: '2026-03-30T22:00:00.000Z', properties: { revenue: 5 } },
    ])
    expect(await summariesOf(name, [once, often, sameDay])).toEqual({
      [once]: { x: 0, tx: 0, T: 30, m: 0 },
      // Days 0, 10 and 40 after Jan 1; Mar 31 is day 89; the repeat days are worth 50 and 70.
      [often]: { x: 2, tx: 40, T: 89, m: 60 },
      [sameDay]: { x: 0, tx: 0, T: 1, m: 0 },
    })
  })

  it('leave out other events, bots, Cairn’s own events and withheld events', async () => {
    const name = uid('Order Completed')
    const [buyer, bot, browser] = [uid('buyer'), uid('bot'), uid('browser')]
    await insert([
      { contact: buyer, event: name, at: '2026-03-10T10:00:00.000Z', properties: { revenue: 1 } },
      { contact: buyer, event: name, at: '2026-03-20T10:00:00.000Z', bot: true },
      { contact: buyer, event: name, at: '2026-03-21T10:00:00.000Z', source: 'cairn' },
      { contact: buyer, event: uid('Other'), at: '2026-03-22T10:00:00.000Z' },
      { contact: buyer, event: name, at: '2026-03-23T10:00:00.000Z', type: 'page' },
      { contact: bot, event: name, at: '2026-03-10T10:00:00.000Z', bot: true },
      { contact: '(withheld)', event: name, at: '2026-03-10T10:00:00.000Z' },
      { contact: browser, event: uid('Viewed'), at: '2026-03-10T10:00:00.000Z' },
    ])
    const all = await readPurchaseSummaries(
      env.DB,
      { purchaseEvents: [name], valueProperty: 'revenue' },
      NOW,
    )
    expect(all).toEqual([{ contactKey: buyer, x: 0, tx: 0, T: 21, m: 0 }])
  })

  it('read every purchaser once, a page of purchasers per statement (D1 answers at most 50 MB)', async () => {
    const name = uid('Order Completed')
    const buyers = Array.from({ length: 7 }, (_, i) => `${uid('paged')}-${i}`)
    await insert(
      buyers.flatMap((contact, i) => [
        { contact, event: name, at: '2026-03-01T10:00:00.000Z', properties: { revenue: 10 } },
        // Every other buyer bought again: a purchaser's rows must not be split across pages.
        ...(i % 2 === 0
          ? [{ contact, event: name, at: '2026-03-05T10:00:00.000Z', properties: { revenue: 30 } }]
          : []),
      ]),
    )
    const settings = { purchaseEvents: [name], valueProperty: 'revenue' }
    const whole = await readPurchaseSummaries(env.DB, settings, NOW)
    for (const [pageSize, statements] of [
      [1, 8],
      [2, 4],
      [3, 3],
      [7, 2],
    ] as const) {
      let prepared = 0
      const counting = {
        prepare: (query: string) => {
          prepared++
          return env.DB.prepare(query)
        },
      } as unknown as D1Database
      expect(await readPurchaseSummaries(counting, settings, NOW, pageSize)).toEqual(whole)
      // A full last page is followed by one statement that finds no one after it.
      expect(prepared).toBe(statements)
    }
    expect(whole.map((s) => s.contactKey)).toEqual([...buyers].sort())
    expect(whole.filter((s) => s.x === 1).map((s) => s.m)).toEqual([30, 30, 30, 30])
  })

  it('read the value at a nested property, a missing or non-numeric value counting as 0', async () => {
    const name = uid('Checkout')
    const buyer = uid('buyer')
    await insert([
      { contact: buyer, event: name, at: '2026-03-01T10:00:00.000Z' },
      {
        contact: buyer,
        event: name,
        at: '2026-03-02T10:00:00.000Z',
        properties: { order: { total: 30 } },
      },
      {
        contact: buyer,
        event: name,
        at: '2026-03-03T10:00:00.000Z',
        properties: { order: { total: 'n/a' } },
      },
    ])
    expect(await summariesOf(name, [buyer], 'order.total')).toEqual({
      [buyer]: { x: 2, tx: 2, T: 30, m: 15 },
    })
  })

  it('never count a purchase stamped after now beyond T', async () => {
    const name = uid('Order Completed')
    const buyer = uid('buyer')
    await insert([
      { contact: buyer, event: name, at: '2026-03-01T10:00:00.000Z', properties: { revenue: 1 } },
      { contact: buyer, event: name, at: '2026-04-02T10:00:00.000Z', properties: { revenue: 3 } },
    ])
    expect(await summariesOf(name, [buyer])).toEqual({ [buyer]: { x: 1, tx: 32, T: 32, m: 3 } })
  })

  it('quote each label of the value path', () => {
    expect(valuePath(DEFAULT_PREDICTION_SETTINGS.valueProperty)).toBe('$."revenue"')
    expect(valuePath('order.grand-total')).toBe('$."order"."grand-total"')
  })
})
