import { SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { BASE, api, createSource, d1Count, eventually, send, uid } from '../../test/support/api'

const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'

let writeKey: string

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Ingest tests' })).writeKey
})

async function timeline(contact: string) {
  const response = await api(`/api/contacts/${encodeURIComponent(contact)}/events?limit=1000`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { items: Record<string, any>[] }).items
}

describe('write keys', () => {
  it('accepts the key as Basic auth, in the body, and as ?writeKey=', async () => {
    const user = uid()
    const viaBasic = await send('/v1/track', writeKey, { userId: user, event: 'A' })
    const viaBody = await send('/v1/track', null, { userId: user, event: 'B', writeKey })
    const viaQuery = await send(`/v1/track?writeKey=${writeKey}`, null, {
      userId: user,
      event: 'C',
    })
    expect([viaBasic.status, viaBody.status, viaQuery.status]).toEqual([200, 200, 200])
    expect((await timeline(user)).map((e) => e.event).sort()).toEqual(['A', 'B', 'C'])
  })

  it('answers 401 for a missing or unknown key and 403 for a disabled source', async () => {
    const missing = await send('/v1/track', null, { userId: 'x', event: 'A' })
    expect(missing.status).toBe(401)
    expect(await missing.json()).toMatchObject({ error: { code: 'missing_write_key' } })
    const unknown = await send('/v1/track', 'wk_nope', { userId: 'x', event: 'A' })
    expect(unknown.status).toBe(401)
    expect(await unknown.json()).toMatchObject({ error: { code: 'invalid_write_key' } })

    const source = await createSource({ name: 'Soon disabled' })
    const patched = await api(`/api/sources/${source.id}`, {
      method: 'PATCH',
      json: { enabled: false },
    })
    expect(patched.status).toBe(200)
    const disabled = await send('/v1/track', source.writeKey, { userId: 'x', event: 'A' })
    expect(disabled.status).toBe(403)
    expect(await disabled.json()).toMatchObject({ error: { code: 'source_disabled' } })
  })
})

describe('paths and bodies real SDKs use', () => {
  it('accepts every Segment call on its full and short path', async () => {
    const user = uid()
    const calls: [string, Record<string, unknown>][] = [
      ['/v1/track', { event: 'Full Track' }],
      ['/v1/t', { event: 'Short Track' }],
      ['/v1/identify', { traits: { plan: 'pro' } }],
      ['/v1/i', { traits: { seats: 3 } }],
      ['/v1/page', { name: 'Home' }],
      ['/v1/p', { name: 'Pricing' }],
      ['/v1/screen', { name: 'Settings' }],
      ['/v1/s', { name: 'Profile' }],
      ['/v1/group', { groupId: 'acme', traits: { name: 'Acme' } }],
      ['/v1/g', { groupId: 'globex' }],
      ['/v1/alias', { previousId: uid('old') }],
      ['/v1/a', { previousId: uid('old') }],
    ]
    for (const [path, body] of calls) {
      const response = await send(path, writeKey, { userId: user, ...body })
      expect(response.status, path).toBe(200)
      expect(await response.json()).toEqual({ success: true, accepted: 1, rejected: [] })
    }
    const events = await timeline(user)
    expect(events).toHaveLength(calls.length)
    expect(events.map((e) => e.type).sort()).toEqual([
      'alias',
      'alias',
      'group',
      'group',
      'identify',
      'identify',
      'page',
      'page',
      'screen',
      'screen',
      'track',
      'track',
    ])
  })

  it("accepts text/plain bodies (sendBeacon) on /v1/batch, /v1/b and RudderStack's /beacon/v1/batch", async () => {
    const user = uid()
    for (const path of ['/v1/batch', '/v1/b', '/beacon/v1/batch']) {
      const response = await SELF.fetch(`${BASE}${path}?writeKey=${writeKey}`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ batch: [{ type: 'track', event: path, userId: user }] }),
      })
      expect(response.status, path).toBe(200)
    }
    expect((await timeline(user)).map((e) => e.event).sort()).toEqual([
      '/beacon/v1/batch',
      '/v1/b',
      '/v1/batch',
    ])
  })

  it("merges a batch's context, integrations and sentAt into each message", async () => {
    const user = uid()
    const response = await send('/v1/batch', writeKey, {
      sentAt: '2026-01-01T00:00:10.000Z',
      context: { library: { name: 'analytics-python' }, app: { name: 'shop' } },
      integrations: { All: true },
      batch: [
        { type: 'track', event: 'Inherits', userId: user, timestamp: '2026-01-01T00:00:00.000Z' },
        { type: 'track', event: 'Overrides', userId: user, context: { app: { name: 'admin' } } },
      ],
    })
    expect(await response.json()).toMatchObject({ accepted: 2, rejected: [] })
    const [overrides, inherits] = [...(await timeline(user))].sort((a, b) =>
      a.event < b.event ? 1 : -1,
    )
    expect(inherits!.context).toMatchObject({
      library: { name: 'analytics-python' },
      app: { name: 'shop' },
    })
    expect(inherits!.integrations).toEqual({ All: true })
    expect(inherits!.sentAt).toBe('2026-01-01T00:00:10.000Z')
    expect(overrides!.context.app).toEqual({ name: 'admin' })
    expect(overrides!.context.library).toEqual({ name: 'analytics-python' })
  })

  it('reads gzip-encoded bodies', async () => {
    const user = uid()
    const json = JSON.stringify({ batch: [{ type: 'track', event: 'Zipped', userId: user }] })
    const gzipped = await new Response(
      new Blob([json]).stream().pipeThrough(new CompressionStream('gzip')),
    ).arrayBuffer()
    const response = await send('/v1/batch', writeKey, gzipped, { 'Content-Encoding': 'gzip' })
    expect(response.status).toBe(200)
    expect((await timeline(user))[0]!.event).toBe('Zipped')
  })

  it('reads deflate bodies and refuses broken, oversized once inflated, or unknown encodings', async () => {
    const user = uid()
    const compress = (text: string, format: 'gzip' | 'deflate') =>
      new Response(
        new Blob([text]).stream().pipeThrough(new CompressionStream(format)),
      ).arrayBuffer()
    const json = JSON.stringify({ type: 'track', event: 'Deflated', userId: user })
    const deflated = await send('/v1/track', writeKey, await compress(json, 'deflate'), {
      'Content-Encoding': 'deflate',
    })
    expect(deflated.status).toBe(200)

    const broken = await send('/v1/track', writeKey, 'not gzip at all', {
      'Content-Encoding': 'gzip',
    })
    expect(broken.status).toBe(400)
    expect(await broken.json()).toEqual({
      error: { code: 'invalid_encoding', message: 'The body is not valid gzip data' },
    })

    // 20 MB of one character gzips to about 20 KB: under the wire limit, far over it inflated.
    const bomb = JSON.stringify({
      type: 'track',
      event: 'Bomb',
      userId: user,
      pad: 'x'.repeat(20e6),
    })
    const inflated = await send('/v1/track', writeKey, await compress(bomb, 'gzip'), {
      'Content-Encoding': 'gzip',
    })
    expect(inflated.status).toBe(413)
    expect(await inflated.json()).toMatchObject({ error: { code: 'payload_too_large' } })

    const brotli = await send('/v1/track', writeKey, json, { 'Content-Encoding': 'br' })
    expect(brotli.status).toBe(415)
    expect(await brotli.json()).toMatchObject({
      error: { code: 'unsupported_encoding', message: expect.stringContaining('"br"') },
    })
    expect((await timeline(user)).map((e) => e.event)).toEqual(['Deflated'])
  })
})

describe('validation', () => {
  it('answers malformed JSON with 400 and the error shape', async () => {
    const response = await send('/v1/batch', writeKey, '{"batch": [')
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      error: { code: 'invalid_json', message: expect.any(String) },
    })
  })

  it('answers another method on a tracking path with 405 and Allow, not 404', async () => {
    for (const path of ['/v1/track', '/v1/batch', '/v1/consent']) {
      const response = await SELF.fetch(`${BASE}${path}`)
      expect([path, response.status]).toEqual([path, 405])
      expect(response.headers.get('Allow')).toBe('POST, OPTIONS')
      expect(await response.json()).toEqual({
        error: { code: 'method_not_allowed', message: `GET ${path} is not allowed; send POST` },
      })
    }
  })

  it('answers a body that is not a batch with 400', async () => {
    const response = await send('/v1/batch', writeKey, { messages: [] })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_batch' } })
  })

  it('rejects bad messages one by one and keeps their neighbours', async () => {
    const user = uid()
    const response = await send('/v1/batch', writeKey, {
      batch: [
        { type: 'track', event: 'Good 1', userId: user },
        { type: 'track', userId: user },
        { type: 'track', event: 'No identity' },
        { type: 'track', event: 'Placeholder', userId: 'undefined', anonymousId: 'null' },
        { type: 'launch', userId: user },
        'not an object',
        { type: 'track', event: 'Huge', userId: user, properties: { blob: 'x'.repeat(33 * 1024) } },
        { type: 'track', event: 'Long id', userId: user, messageId: 'm'.repeat(101) },
        { type: 'track', event: 'Bad time', userId: user, timestamp: 'yesterday' },
        { type: 'track', event: 'Good 2', userId: user },
      ],
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      accepted: number
      rejected: { index: number; code: string; message: string }[]
    }
    expect(body.accepted).toBe(2)
    expect(body.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'invalid_message'],
      [2, 'missing_identity'],
      [3, 'missing_identity'],
      [4, 'invalid_message'],
      [5, 'invalid_message'],
      [6, 'message_too_large'],
      [7, 'invalid_message'],
      [8, 'invalid_message'],
    ])
    expect(body.rejected[0]!.message).toContain('event')
    expect(body.rejected[2]!.message).toContain('placeholder')
    expect(body.rejected[6]!.message).toContain('messageId')
    expect(body.rejected[7]!.message).toContain('timestamp')
    expect((await timeline(user)).map((e) => e.event).sort()).toEqual(['Good 1', 'Good 2'])
  })

  it('says which field was wrong and how: a missing id, an id of the wrong type, a bad type', async () => {
    const user = uid()
    const response = await send('/v1/batch', writeKey, {
      batch: [
        { type: 'alias', userId: user },
        { type: 'group', userId: user, groupId: { id: 7 } },
        { type: 'track', event: 'Flag', userId: true },
        { event: 'No type', userId: user },
        { type: 'Track', event: 'Capital', userId: user },
      ],
    })
    const body = (await response.json()) as { rejected: { index: number; message: string }[] }
    expect(body.rejected.map((r) => r.message)).toEqual([
      'previousId: is required (a string or a number)',
      'groupId: must be a string or a number, not an object',
      'userId: must be a string or a number, not a boolean',
      'type: is required: one of track, identify, page, screen, group, alias',
      'type: "Track" is not a message type; expected one of track, identify, page, screen, group, alias',
    ])
  })

  it('takes null for an absent object, and refuses a timestamp that only Date.parse would read', async () => {
    const user = uid()
    const response = await send('/v1/batch', writeKey, {
      context: null,
      batch: [
        { type: 'track', userId: user, event: 'Nulls', properties: null, context: null },
        { type: 'identify', userId: user, traits: null, integrations: null },
        { type: 'track', userId: user, event: 'Odd time', timestamp: '1' },
        { type: 'track', userId: user, event: 'Day only', timestamp: '2026-11-01' },
      ],
    })
    const body = (await response.json()) as { accepted: number; rejected: { index: number }[] }
    expect(body.rejected.map((r) => r.index)).toEqual([2])
    const events = await timeline(user)
    expect(events.map((e) => e.event ?? e.type).sort()).toEqual(['Day only', 'Nulls', 'identify'])
    expect(events.find((e) => e.event === 'Day only')!.timestamp).toBe('2026-11-01T00:00:00.000Z')
  })

  it('answers 400 on a single-message path when the message is rejected', async () => {
    const response = await send('/v1/track', writeKey, { anonymousId: uid() })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: { code: 'invalid_message', message: expect.stringContaining('event') },
    })
  })

  it('answers 413 for a batch over 500 KB', async () => {
    const user = uid()
    const batch = Array.from({ length: 20 }, (_, i) => ({
      type: 'track',
      event: `Big ${i}`,
      userId: user,
      properties: { blob: 'x'.repeat(30 * 1024) },
    }))
    const response = await send('/v1/batch', writeKey, { batch })
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ error: { code: 'payload_too_large' } })
  })
})

describe('exactly-once storage by messageId', () => {
  it('gives a blank or placeholder messageId a real one, so those messages are not dropped', async () => {
    const user = uid()
    const response = await send('/v1/batch', writeKey, {
      batch: ['undefined', 'null', '   ', '', 'undefined'].map((messageId, i) => ({
        type: 'track',
        userId: user,
        event: `Tagged ${i}`,
        messageId,
      })),
    })
    expect(await response.json()).toMatchObject({ accepted: 5, rejected: [] })
    const events = await timeline(user)
    expect(events.map((e) => e.event).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `Tagged ${i}`))
    for (const event of events) expect(event.messageId).toMatch(/^cairn-/)
  })

  it('stores a message retried in the same batch, a later batch and a single call once', async () => {
    const user = uid()
    const message = {
      type: 'track',
      event: 'Paid',
      userId: user,
      messageId: uid('msg'),
      properties: { revenue: 10 },
    }
    await send('/v1/batch', writeKey, { batch: [message, message] })
    await send('/v1/batch', writeKey, { batch: [message, { ...message, messageId: uid('msg') }] })
    await send('/v1/track', writeKey, message)
    const events = await timeline(user)
    expect(events).toHaveLength(2)
    const profile = (await (await api(`/api/contacts/${user}`)).json()) as { eventCount: number }
    expect(profile.eventCount).toBe(2)
    await eventually(
      async () =>
        (await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', user)) === 2,
    )
    // Give a wrongly re-queued duplicate time to show up before the final count.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', user)).toBe(2)
  })

  it('stores a long batch for one contact in order, once per messageId across the whole batch', async () => {
    const user = uid()
    const ids = Array.from({ length: 30 }, () => uid('msg'))
    const batch = ids.map((messageId, i) => ({
      type: 'track',
      event: `Step ${i}`,
      userId: user,
      messageId: i === 25 ? ids[3] : messageId,
      timestamp: new Date(Date.UTC(2026, 10, 1, 10, i)).toISOString(),
    }))
    const response = await send('/v1/batch', writeKey, { batch })
    expect(await response.json()).toMatchObject({ accepted: 30, rejected: [] })
    const events = await timeline(user)
    expect(events).toHaveLength(29)
    expect(events.map((e) => e.event)).not.toContain('Step 25')
    expect(events.at(-1)!.event).toBe('Step 0')
    const profile = (await (await api(`/api/contacts/${user}`)).json()) as { eventCount: number }
    expect(profile.eventCount).toBe(29)
  })

  it('assigns a messageId when missing, stable for a retried timestamped message', async () => {
    const user = uid()
    const message = {
      type: 'track',
      event: 'No id',
      userId: user,
      timestamp: '2026-03-01T10:00:00.000Z',
    }
    await send('/v1/batch', writeKey, { batch: [message], sentAt: '2026-03-01T10:00:01.000Z' })
    await send('/v1/batch', writeKey, { batch: [message], sentAt: '2026-03-01T10:05:00.000Z' })
    await send('/v1/batch', writeKey, {
      batch: [{ type: 'track', event: 'Untimed', userId: user }],
    })
    const events = await timeline(user)
    expect(events).toHaveLength(2)
    for (const event of events) expect(event.messageId).toMatch(/^cairn-/)
  })
})

describe('enrichment', () => {
  it('corrects client clock skew from sentAt and keeps the original timestamp', async () => {
    const user = uid()
    const before = Date.now()
    // The client clock runs a day behind; the event happened 5 s before the batch was sent.
    await send('/v1/batch', writeKey, {
      sentAt: '2020-01-02T00:00:05.000Z',
      batch: [
        { type: 'track', event: 'Skewed', userId: user, timestamp: '2020-01-02T00:00:00.000Z' },
      ],
    })
    const [event] = await timeline(user)
    const corrected = Date.parse(event!.timestamp)
    expect(corrected).toBeGreaterThanOrEqual(before - 5_000 - 50)
    expect(corrected).toBeLessThanOrEqual(Date.now() - 5_000 + 50)
    expect(event!.originalTimestamp).toBe('2020-01-02T00:00:00.000Z')
    expect(Date.parse(event!.receivedAt) - corrected).toBe(5_000)
  })

  it('dates an event from a clock set years ahead at its receipt, so last seen stays true', async () => {
    const user = uid()
    await send('/v1/track', writeKey, {
      userId: user,
      event: 'From the future',
      timestamp: '2099-01-01T00:00:00.000Z',
    })
    const [event] = await timeline(user)
    expect(event!.timestamp).toBe(event!.receivedAt)
    expect(event!.originalTimestamp).toBe('2099-01-01T00:00:00.000Z')
    const contact = (await (await api(`/api/contacts/${user}`)).json()) as { lastSeen: string }
    expect(contact.lastSeen).toBe(event!.receivedAt)
  })

  it('parses the user agent, flags bots, and never stores the IP in clear', async () => {
    const user = uid()
    await send(
      '/v1/batch',
      writeKey,
      {
        batch: [
          { type: 'page', userId: user, context: { userAgent: CHROME, ip: '203.0.113.9' } },
          { type: 'page', userId: user, context: { userAgent: IPHONE, ip: '203.0.113.9' } },
          { type: 'page', userId: user, context: { userAgent: GOOGLEBOT } },
        ],
      },
      { 'CF-Connecting-IP': '198.51.100.7' },
    )
    const events = await timeline(user)
    const byBrowser = Object.fromEntries(events.map((e) => [e.enrichment.device, e]))
    expect(byBrowser.desktop!.enrichment).toMatchObject({
      browser: 'Chrome',
      os: 'Mac OS',
      bot: false,
    })
    expect(byBrowser.mobile!.enrichment).toMatchObject({
      browser: 'Mobile Safari',
      os: 'iOS',
      bot: false,
    })
    expect(byBrowser.bot!.enrichment).toMatchObject({ bot: true })
    const serialized = JSON.stringify(events)
    expect(serialized).not.toContain('203.0.113.9')
    expect(serialized).not.toContain('198.51.100.7')
    expect(byBrowser.desktop!.enrichment.ipHash).toMatch(/^[0-9a-f]{32}$/)
    expect(byBrowser.desktop!.enrichment.ipHash).toBe(byBrowser.mobile!.enrichment.ipHash)
    expect(byBrowser.bot!.enrichment.ipHash).not.toBe(byBrowser.desktop!.enrichment.ipHash)
    const profile = (await (await api(`/api/contacts/${user}`)).json()) as { eventCount: number }
    expect(profile.eventCount).toBe(2)
  })

  it('reads the device from the request only when a browser sent it', async () => {
    const user = uid()
    await send(
      '/v1/page',
      writeKey,
      { userId: user, name: 'server' },
      { 'User-Agent': 'node', 'Sec-Fetch-Mode': 'cors' },
    )
    await send(
      '/v1/page',
      writeKey,
      { userId: user, name: 'browser' },
      { 'User-Agent': IPHONE, Origin: 'https://shop.example' },
    )
    await send(
      '/v1/page',
      writeKey,
      { userId: user, name: 'crawler' },
      { 'User-Agent': GOOGLEBOT, Origin: 'https://shop.example' },
    )
    const byName = Object.fromEntries((await timeline(user)).map((e) => [e.name, e.enrichment]))
    expect(byName.server).toMatchObject({ device: 'other', bot: false })
    expect(byName.browser).toMatchObject({ device: 'mobile', os: 'iOS', bot: false })
    expect(byName.crawler).toMatchObject({ device: 'bot', bot: true })
  })

  it('records campaign, click ids and channel of the page', async () => {
    const user = uid()
    await send('/v1/page', writeKey, {
      userId: user,
      context: {
        page: {
          url: 'https://shop.example/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring&gclid=abc',
          referrer: 'https://mail.example.net/inbox',
        },
      },
    })
    const [event] = await timeline(user)
    expect(event!.enrichment).toMatchObject({
      path: '/landing',
      referrerDomain: 'mail.example.net',
      campaign: { source: 'newsletter', medium: 'email', name: 'spring', gclid: 'abc' },
      clickIds: ['gclid'],
      channel: 'paid_search',
      landing: true,
    })
  })
})

describe('rate limits', () => {
  it('answers 429 with Retry-After once a write key and address send too much', async () => {
    const source = await createSource({ name: 'Flooded' })
    const headers = { 'CF-Connecting-IP': '192.0.2.44' }
    const statuses: number[] = []
    for (let i = 0; i < 160; i++) {
      const response = await send('/v1/track', source.writeKey, { userId: 'flood' }, headers)
      statuses.push(response.status)
      if (response.status === 429) {
        expect(response.headers.get('Retry-After')).toBe('10')
        expect(await response.json()).toMatchObject({ error: { code: 'rate_limited' } })
        break
      }
      await response.body?.cancel()
    }
    expect(statuses.at(-1)).toBe(429)
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThanOrEqual(100)
    // Another address with the same key is not limited.
    const other = await send(
      '/v1/track',
      source.writeKey,
      { userId: 'calm', event: 'Fine' },
      { 'CF-Connecting-IP': '192.0.2.45' },
    )
    expect(other.status).toBe(200)
  })
})

describe('what small trackers leave to the edge', () => {
  it('maps raw utm_ names in context.campaign to Segment names and fills timezone and locale', async () => {
    const user = uid()
    await send(
      '/v1/page',
      writeKey,
      {
        userId: user,
        context: {
          campaign: {
            utm_source: 'news',
            utm_campaign: 'spring',
            utm_medium: 'email',
            gclid: 'G-1',
          },
        },
      },
      { Origin: 'https://shop.example', 'Accept-Language': 'de-CH,de;q=0.9,en;q=0.8' },
    )
    const [event] = await timeline(user)
    expect(event!.context.campaign).toEqual({
      source: 'news',
      name: 'spring',
      medium: 'email',
      gclid: 'G-1',
    })
    expect(event!.context.locale).toBe('de-CH')
    expect(event!.enrichment.channel).toBe('paid_search')
  })

  it('lets browsers read every answer, errors and Retry-After included', async () => {
    const unknown = await send(
      '/v1/batch',
      'wk_unknown',
      { batch: [] },
      { Origin: 'https://shop.example' },
    )
    expect(unknown.status).toBe(401)
    expect(unknown.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.example')
    expect(unknown.headers.get('Access-Control-Expose-Headers')).toContain('Retry-After')
  })
})

describe('CORS', () => {
  it('answers only the origins a source allows', async () => {
    const source = await createSource({
      name: 'Shop',
      allowedOrigins: ['https://shop.example', 'https://*.shop.example'],
    })
    const allowed = await send(
      '/v1/track',
      source.writeKey,
      { anonymousId: uid(), event: 'A' },
      { Origin: 'https://eu.shop.example' },
    )
    expect(allowed.status).toBe(200)
    expect(allowed.headers.get('Access-Control-Allow-Origin')).toBe('https://eu.shop.example')
    const denied = await send(
      '/v1/track',
      source.writeKey,
      { anonymousId: uid(), event: 'A' },
      { Origin: 'https://evil.example' },
    )
    expect(denied.status).toBe(403)
    expect(denied.headers.get('Access-Control-Allow-Origin')).toBeNull()
    expect(await denied.json()).toMatchObject({ error: { code: 'origin_not_allowed' } })

    const preflight = await SELF.fetch(`${BASE}/v1/batch`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.example')
    expect(preflight.headers.get('Access-Control-Allow-Headers')).toContain('Authorization')
  })
})
