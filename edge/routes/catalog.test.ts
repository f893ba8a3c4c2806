import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { api, errorOf } from '../../test/support/api'
import { dottedPath } from '../segments/catalog'

/**
 * GET /api/catalog over hand-made rows in the real local D1 (this file's own storage): what the
 * builder's pickers are offered, and what is left out.
 */

const DAY = 86_400_000
const today = new Date().toISOString().slice(0, 10)
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString()

beforeAll(async () => {
  const db = env.DB
  const contact = (key: string, traits: unknown, lastSeen: string, mergedInto: string | null) =>
    db
      .prepare(
        `INSERT INTO contacts (key, anonymous_ids, traits, first_seen, last_seen, event_count,
           version, merged_into) VALUES (?, '[]', ?, ?, ?, 0, 1, ?)`,
      )
      .bind(key, JSON.stringify(traits), lastSeen, lastSeen, mergedInto)
  let n = 0
  const event = (
    type: string,
    name: string | null,
    properties: unknown,
    options: { bot?: boolean; source?: string; at?: string } = {},
  ) => {
    const id = `catalog-event-${++n}`
    const at = options.at ?? daysAgo(0)
    return db
      .prepare(
        `INSERT INTO events (id, message_id, contact_key, source_id, type, event, timestamp,
           received_at, day, landing, bot, properties, rolled_up)
         VALUES (?, ?, 'ann', ?, ?, ?, ?, ?, ?, 0, ?, ?, 1)`,
      )
      .bind(
        id,
        id,
        options.source ?? 'src_catalog',
        type,
        name,
        at,
        at,
        at.slice(0, 10),
        options.bot ? 1 : 0,
        JSON.stringify(properties),
      )
  }
  const rollup = (day: string, metric: string, dimension: string, count: number) =>
    db
      .prepare('INSERT INTO daily_rollups (day, metric, dimension, count) VALUES (?, ?, ?, ?)')
      .bind(day, metric, dimension, count)

  await db.batch([
    contact(
      'ann',
      { plan: 'pro', seats: 3, address: { city: 'Oslo', geo: { lat: 59.9 } }, tags: ['a'] },
      daysAgo(0),
      null,
    ),
    contact('bob', { plan: 'free', seats: '3', 'first name': 'Bob', 'a.b': 1 }, daysAgo(1), null),
    contact('merged', { secret: 'gone' }, daysAgo(0), 'ann'),
    event('track', 'Order Completed', { revenue: 10, items: [{ sku: 'x' }], meta: { src: 'ad' } }),
    event('track', 'Order Completed', { revenue: 12.5, coupon: null }),
    event('page', null, { path: '/pricing' }),
    event('track', 'Bot Thing', { botOnly: 1 }, { bot: true }),
    event('track', 'Segment Entered', { segmentId: 'seg_1' }, { source: 'cairn' }),
    rollup(today.slice(0, 10), 'event', 'Order Completed', 2),
    rollup(daysAgo(10).slice(0, 10), 'event', 'Order Completed', 5),
    rollup(daysAgo(3).slice(0, 10), 'event', 'Signed Up', 1),
    rollup(daysAgo(2).slice(0, 10), 'pageviews', '', 4),
    // Outside the window, and another metric.
    rollup(daysAgo(200).slice(0, 10), 'event', 'Ancient', 100),
    rollup(today, 'country', 'NO', 9),
  ])
})

describe('GET /api/catalog', () => {
  it('answers event names with counts, trait paths and property paths per event', async () => {
    const response = await api('/api/catalog')
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body).toEqual({
      events: [
        { name: 'Order Completed', count: 7, lastSeen: today },
        { name: '$page', count: 4, lastSeen: daysAgo(2).slice(0, 10) },
        { name: 'Signed Up', count: 1, lastSeen: daysAgo(3).slice(0, 10) },
      ],
      // The merged contact's traits are left out; the key with a dot cannot be named.
      traits: [
        { path: 'plan', types: ['string'], seen: 2 },
        { path: 'seats', types: ['number', 'string'], seen: 2 },
        { path: 'address.city', types: ['string'], seen: 1 },
        { path: 'address.geo.lat', types: ['number'], seen: 1 },
        { path: 'first name', types: ['string'], seen: 1 },
        { path: 'tags', types: ['array'], seen: 1 },
      ],
      // Bots and Cairn's own events are left out; nothing inside a list is a path.
      properties: [
        { event: '$page', path: 'path', types: ['string'], seen: 1 },
        { event: 'Order Completed', path: 'revenue', types: ['number'], seen: 2 },
        { event: 'Order Completed', path: 'coupon', types: ['null'], seen: 1 },
        { event: 'Order Completed', path: 'items', types: ['array'], seen: 1 },
        { event: 'Order Completed', path: 'meta.src', types: ['string'], seen: 1 },
      ],
      bounds: {
        eventDays: 90,
        eventsSince: new Date(Date.now() - 89 * DAY).toISOString().slice(0, 10),
        contacts: 1000,
        contactsRead: 2,
        events: 5000,
        eventsRead: 3,
      },
    })
  })

  it('is for the roles that read segments', async () => {
    const keyOf = async (role: string) => {
      const response = await api('/api/keys', { method: 'POST', json: { name: role, role } })
      return ((await response.json()) as { key: string }).key
    }
    expect((await api('/api/catalog', { key: await keyOf('analyst') })).status).toBe(200)
    await errorOf(await api('/api/catalog', { key: await keyOf('compliance') }), 403, 'forbidden')
    await errorOf(await api('/api/catalog', { key: '' }), 401, 'missing_key')
  })
})

describe('dottedPath', () => {
  it('reads json_tree full keys, refusing those a rule cannot name', () => {
    expect(dottedPath('$.plan')).toBe('plan')
    expect(dottedPath('$.address.city')).toBe('address.city')
    expect(dottedPath('$."first name".x')).toBe('first name.x')
    expect(dottedPath('$."a.b"')).toBeNull()
    expect(dottedPath('$.tags[0]')).toBeNull()
    expect(dottedPath('$')).toBeNull()
  })
})
