import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { contactStub } from '../../durable/contact-client'
import { importDataKey, openText } from '../../durable/data-key'
import worker from '../index'
import { api, createSource, d1Count, eventually, send, uid } from '../../test/support/api'
import { readArchive } from './archive'
import type { EventMessage } from '../../contracts/queue-messages'

let writeKey: string

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Queue tests' })).writeKey
})

function storedEventCount(contactKey: string) {
  return d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', contactKey)
}

async function runQueue(
  messages: { id: string; body: unknown; attempts?: number }[],
  queue = 'cairn-events',
) {
  const batch = createMessageBatch(
    queue,
    messages.map((m) => ({
      id: m.id,
      timestamp: new Date(),
      attempts: m.attempts ?? 1,
      // As every producer sends them: JSON text.
      body: JSON.stringify(m.body),
    })),
  )
  const ctx = createExecutionContext()
  await (worker as ExportedHandler<typeof env>).queue!(batch, env, ctx)
  return getQueueResult(batch, ctx)
}

function eventMessage(contactKey: string, id = crypto.randomUUID()): EventMessage {
  const now = new Date().toISOString()
  return {
    kind: 'event',
    contactKey,
    event: {
      id,
      messageId: `m-${id}`,
      type: 'page',
      context: {},
      timestamp: now,
      receivedAt: now,
      sourceId: 'src_test',
      enrichment: {
        device: 'desktop',
        bot: false,
        landing: true,
        path: '/redelivered',
        channel: 'direct',
      },
    },
    archive: {
      id,
      type: 'page',
      receivedAt: now,
      timestamp: now,
      sourceId: 'src_test',
      keyId: 'k',
      iv: '',
      sealed: '',
    },
  }
}

describe('queue consumer', () => {
  it('writes exactly the accepted events to D1, with the contact summary and rollups', async () => {
    const user = uid('user')
    const accepted = 37
    const response = await send('/v1/batch', writeKey, {
      batch: [
        ...Array.from({ length: accepted }, (_, i) => ({
          type: i % 2 ? 'track' : 'page',
          event: 'Clicked',
          userId: user,
          messageId: `${user}-${i}`,
          context: { page: { url: `https://shop.example/p/${i % 3}` } },
        })),
        { type: 'track', userId: user },
      ],
    })
    expect(await response.json()).toMatchObject({ accepted, rejected: [{ index: accepted }] })
    await eventually(async () => (await storedEventCount(user)) === accepted)
    const summary = await eventually(() =>
      env.DB.prepare('SELECT event_count, user_id FROM contacts WHERE key = ?')
        .bind(user)
        .first<{ event_count: number; user_id: string }>(),
    )
    await eventually(async () => {
      const row = await env.DB.prepare('SELECT event_count FROM contacts WHERE key = ?')
        .bind(user)
        .first<{ event_count: number }>()
      return row?.event_count === accepted
    })
    expect(summary.user_id).toBe(user)
    const list = (await (await api(`/api/contacts?q=${user}`)).json()) as {
      items: { key: string; eventCount: number }[]
    }
    expect(list.items).toEqual([expect.objectContaining({ key: user, eventCount: accepted })])
  })

  it('adds nothing when a batch is delivered twice', async () => {
    const key = uid('redelivered')
    const messages = [eventMessage(key), eventMessage(key), eventMessage(key)]
    messages[2]!.event = {
      ...messages[2]!.event,
      type: 'track',
      event: 'Signed Up',
      userId: 'u-9',
      properties: { plan: 'pro' },
      context: { locale: 'de-DE' },
      enrichment: { ...messages[2]!.event.enrichment, country: 'DE', browser: 'Firefox' },
    }
    const day = messages[0]!.event.timestamp.slice(0, 10)
    const pageviews = () =>
      d1Count(
        "SELECT count AS n FROM daily_rollups WHERE day = ? AND metric = 'page' AND dimension = '/redelivered'",
        day,
      )
    const before = await pageviews()

    const first = await runQueue(messages.map((m) => ({ id: m.event.id, body: m })))
    expect(first.explicitAcks.sort()).toEqual(messages.map((m) => m.event.id).sort())
    const second = await runQueue(messages.map((m) => ({ id: m.event.id, body: m, attempts: 2 })))
    expect(second.explicitAcks).toHaveLength(3)

    expect(await storedEventCount(key)).toBe(3)
    expect((await pageviews()) - before).toBe(2)
    // Every column of the row comes from the message, once.
    const last = messages[2]!.event
    const row = await env.DB.prepare(
      `SELECT contact_key, message_id, type, event, user_id, timestamp, day, path, country,
        browser, device, bot, properties, context FROM events WHERE id = ?`,
    )
      .bind(last.id)
      .first()
    expect(row).toEqual({
      contact_key: key,
      message_id: last.messageId,
      type: 'track',
      event: 'Signed Up',
      user_id: 'u-9',
      timestamp: last.timestamp,
      day: last.timestamp.slice(0, 10),
      path: '/redelivered',
      country: 'DE',
      browser: 'Firefox',
      device: 'desktop',
      bot: 0,
      properties: '{"plan":"pro"}',
      context: '{"locale":"de-DE"}',
    })
  })

  it('applies a bundle (one ContactDO transaction) as a whole, beside single messages', async () => {
    const key = uid('bundled')
    const bundle = [eventMessage(key), eventMessage(key)]
    const result = await runQueue([
      { id: 'bundle-1', body: bundle },
      { id: 'single-1', body: eventMessage(key) },
    ])
    expect(result.explicitAcks.sort()).toEqual(['bundle-1', 'single-1'])
    expect(await storedEventCount(key)).toBe(3)
  })

  it('retries a poison message alone and parks it in the dead-letter table', async () => {
    const key = uid('poison')
    const good = eventMessage(key)
    const poison = { kind: 'event', contactKey: key, event: { nothing: 'useful' } }
    const result = await runQueue([
      { id: 'good-1', body: good },
      { id: 'poison-1', body: poison },
      { id: 'good-bundle', body: [eventMessage(key)] },
      // One bad message spoils its bundle: the transaction's messages travel and fail together.
      { id: 'poison-bundle', body: [eventMessage(key), poison] },
      { id: 'erase-in-bundle', body: [{ kind: 'erase', requestId: 'r' }] },
    ])
    expect(result.explicitAcks.sort()).toEqual(['good-1', 'good-bundle'])
    expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual([
      'erase-in-bundle',
      'poison-1',
      'poison-bundle',
    ])
    expect(await storedEventCount(key)).toBe(2)

    const dead = await runQueue([{ id: 'poison-1', body: poison, attempts: 4 }], 'cairn-events-dlq')
    expect(dead.explicitAcks).toEqual(['poison-1'])
    expect(await d1Count("SELECT COUNT(*) AS n FROM dead_letters WHERE id = 'poison-1'")).toBe(1)
    const overview = (await (await api('/api/insights/overview')).json()) as { deadLetters: number }
    expect(overview.deadLetters).toBeGreaterThanOrEqual(1)
  })

  it('re-keys D1 rows of an anonymous contact when it is merged, whatever the order', async () => {
    const anon = uid('anon')
    const user = uid('user')
    await send('/v1/batch', writeKey, {
      batch: [
        { type: 'page', anonymousId: anon },
        { type: 'page', anonymousId: anon },
      ],
    })
    await eventually(async () => (await storedEventCount(`anon:${anon}`)) === 2)
    await send('/v1/identify', writeKey, { userId: user, anonymousId: anon })
    await send('/v1/track', writeKey, { anonymousId: anon, event: 'After merge' })
    await eventually(async () => (await storedEventCount(user)) === 4)
    expect(await storedEventCount(`anon:${anon}`)).toBe(0)
    const merged = await env.DB.prepare('SELECT merged_into FROM contacts WHERE key = ?')
      .bind(`anon:${anon}`)
      .first<{ merged_into: string }>()
    expect(merged?.merged_into).toBe(user)
    const identity = await env.DB.prepare(
      "SELECT contact_key FROM identities WHERE kind = 'anonymousId' AND value = ?",
    )
      .bind(anon)
      .first<{ contact_key: string }>()
    expect(identity?.contact_key).toBe(user)
    const visitors = await d1Count(
      'SELECT COUNT(*) AS n FROM contact_days WHERE contact_key = ?',
      `anon:${anon}`,
    )
    expect(visitors).toBe(0)
  })
})

describe('R2 archive', () => {
  it("writes gzip NDJSON objects that only the contact's own key can read", async () => {
    const alice = uid('alice')
    const bob = uid('bob')
    await send('/v1/track', writeKey, {
      userId: alice,
      event: 'Secret Purchase',
      properties: { card: '4242' },
    })
    await send('/v1/track', writeKey, { userId: bob, event: 'Other' })
    await eventually(
      async () => (await storedEventCount(alice)) === 1 && (await storedEventCount(bob)) === 1,
    )

    const [aliceKey] = await contactStub(env, alice).dataKeys()
    const [bobKey] = await contactStub(env, bob).dataKeys()
    const eventId = (await env.DB.prepare('SELECT id FROM events WHERE contact_key = ?')
      .bind(alice)
      .first<{ id: string }>())!.id

    const record = await eventually(async () => {
      const listed = await env.ARCHIVE.list({ prefix: 'archive/dt=' })
      for (const object of listed.objects) {
        expect(object.key).toMatch(
          /^archive\/dt=\d{4}-\d{2}-\d{2}\/hr=\d{2}\/[0-9a-f]{32}\.ndjson\.gz$/,
        )
        const found = (await readArchive(env.ARCHIVE, object.key)).find((r) => r.id === eventId)
        if (found) return found
      }
      return undefined
    })
    expect(JSON.stringify(record)).not.toContain('4242')
    expect(JSON.stringify(record)).not.toContain(alice)
    expect(record.keyId).toBe(aliceKey!.keyId)

    const opened = JSON.parse(await openText(await importDataKey(aliceKey!.raw), record))
    expect(opened).toMatchObject({
      userId: alice,
      event: 'Secret Purchase',
      properties: { card: '4242' },
    })
    await expect(openText(await importDataKey(bobKey!.raw), record)).rejects.toThrow()
  })
})

describe('insights overview', () => {
  it('counts events, pageviews, visitors, pages, referrers and channels, without bots', async () => {
    const day = '2025-06-15'
    const visitors = [uid('v'), uid('v'), uid('v')]
    const page = (anonymousId: string, url: string, referrer?: string, userAgent?: string) => ({
      type: 'page',
      anonymousId,
      timestamp: `${day}T12:00:00.000Z`,
      context: { page: { url, referrer }, ...(userAgent ? { userAgent } : {}) },
    })
    await send('/v1/batch', writeKey, {
      batch: [
        page(visitors[0]!, 'https://shop.example/', 'https://www.google.com/'),
        page(visitors[0]!, 'https://shop.example/pricing', 'https://shop.example/'),
        page(visitors[1]!, 'https://shop.example/?utm_source=news&utm_medium=email'),
        page(visitors[2]!, 'https://shop.example/pricing', 'https://news.ycombinator.com/item'),
        page(
          uid('bot'),
          'https://shop.example/',
          undefined,
          'Googlebot/2.1 (+http://www.google.com/bot.html)',
        ),
        {
          type: 'track',
          anonymousId: visitors[1]!,
          event: 'Signed Up',
          timestamp: `${day}T12:05:00.000Z`,
        },
      ],
    })
    const overview = await eventually(async () => {
      const body = (await (await api(`/api/insights/overview?from=${day}&to=${day}`)).json()) as any
      return body.totals.events === 5 ? body : undefined
    })
    expect(overview.totals).toEqual({
      events: 5,
      pageviews: 4,
      visitors: 3,
      conversions: 0,
      revenue: 0,
    })
    expect(overview.days).toEqual([{ day, events: 5, pageviews: 4, visitors: 3 }])
    expect(overview.topPages).toEqual([
      { name: '/', count: 2 },
      { name: '/pricing', count: 2 },
    ])
    expect(overview.referrers).toEqual([
      { name: 'google.com', count: 1 },
      { name: 'news.ycombinator.com', count: 1 },
    ])
    expect(overview.channels).toEqual([
      { name: 'email', count: 1 },
      { name: 'organic_search', count: 1 },
      { name: 'organic_social', count: 1 },
    ])
    expect(overview.topEvents).toEqual([{ name: 'Signed Up', count: 1 }])
  })

  it('rejects a bad period with the error shape', async () => {
    const response = await api('/api/insights/overview?from=2026-02-01&to=2026-01-01')
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_range' } })
    const malformed = await api('/api/insights/overview?from=yesterday')
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('from') },
    })
  })
})
