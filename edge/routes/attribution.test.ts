import { env, evictDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { api, createSource, eventually, send, uid } from '../../test/support/api'

const DAY = 86_400_000

interface Report {
  totals: { conversions: number; value: number }
  channels: {
    channel: string
    conversions: number
    value: number
    share: { conversions: number }
  }[]
  confidence: { score: number | null }
}

describe('real-time attribution end to end', () => {
  it('credits a conversion under every model from tracker-shaped events with UTM parameters', async () => {
    const definition = await api('/api/attribution/conversions', {
      method: 'POST',
      json: { name: 'Purchase', eventName: 'Order Completed' },
    })
    expect(definition.status).toBe(201)
    const { writeKey } = await createSource({ name: 'Attribution shop' })
    const visitor = uid('visitor')
    const user = uid('buyer')
    const now = Date.now()
    const at = (msAgo: number) => new Date(now - msAgo).toISOString()
    const page = (url: string, referrer: string | undefined, msAgo: number, sessionId: string) => ({
      type: 'page',
      anonymousId: visitor,
      timestamp: at(msAgo),
      context: { page: { url, referrer }, sessionId },
    })
    // Day 1: arrives from the newsletter, browses. Day 4: comes back from Google, buys.
    await send('/v1/batch', writeKey, {
      batch: [
        page(
          'https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=weekly',
          undefined,
          3 * DAY,
          's1',
        ),
        page('https://shop.example/product', 'https://shop.example/', 3 * DAY - 60_000, 's1'),
        page('https://shop.example/product', 'https://www.google.com/', 60_000, 's2'),
      ],
    })
    await send('/v1/identify', writeKey, {
      userId: user,
      anonymousId: visitor,
      timestamp: at(30_000),
    })
    const sent = Date.now()
    await send('/v1/track', writeKey, {
      userId: user,
      event: 'Order Completed',
      properties: { revenue: 120 },
      timestamp: at(0),
      context: {
        page: { url: 'https://shop.example/checkout', referrer: 'https://shop.example/product' },
        sessionId: 's2',
      },
    })

    const first = await eventually(async () => {
      const report = (await (await api('/api/attribution?model=first')).json()) as Report
      return report.totals.conversions >= 1 ? report : undefined
    })
    const visibleAfterMs = Date.now() - sent
    // The contract: a conversion shows in the report within a second of its ingestion.
    expect(visibleAfterMs).toBeLessThan(1_000)
    expect(first.channels).toEqual([
      expect.objectContaining({ channel: 'email', conversions: 1, value: 120 }),
    ])
    expect(first.confidence.score).toBe(1)

    const compare = (await (await api('/api/attribution/compare')).json()) as {
      models: Record<string, Record<string, { conversions: number; value: number }>>
    }
    expect(compare.models.last).toEqual({ organic_search: { conversions: 1, value: 120 } })
    expect(compare.models.last_non_direct).toEqual({
      organic_search: { conversions: 1, value: 120 },
    })
    expect(compare.models.linear).toEqual({
      email: { conversions: 0.5, value: 60 },
      organic_search: { conversions: 0.5, value: 60 },
    })
    expect(compare.models.position).toEqual({
      email: { conversions: 0.5, value: 60 },
      organic_search: { conversions: 0.5, value: 60 },
    })
    // Time decay, half-life 7 days: email touched 3 days before, Google 1 minute before.
    // Weights 2^(-3/7) = 0.7430 and 2^(-1/10080) ≈ 0.99993; email's share 0.7430 / 1.7429 = 0.4263.
    expect(compare.models.time_decay!.email!.conversions).toBeCloseTo(0.4263, 3)
    for (const [model, channels] of Object.entries(compare.models)) {
      const total = Object.values(channels).reduce((s, c) => s + c.conversions, 0)
      const value = Object.values(channels).reduce((s, c) => s + c.value, 0)
      expect(total, model).toBeCloseTo(1, 12)
      expect(value, model).toBeCloseTo(120, 9)
    }

    const profile = (await (await api(`/api/contacts/${user}`)).json()) as {
      touches: { channel: string; campaign: string | null }[]
    }
    expect(profile.touches.map((t) => [t.channel, t.campaign])).toEqual([
      ['email', 'weekly'],
      ['organic_search', null],
    ])
    const overview = (await (await api('/api/insights/overview')).json()) as {
      totals: { conversions: number; revenue: number }
    }
    expect(overview.totals).toMatchObject({ conversions: 1, revenue: 120 })

    const refit = await api('/api/attribution/refit', { method: 'POST' })
    expect(refit.status).toBe(200)
    expect(
      ((await refit.json()) as { fit: { paths: number } | null }).fit?.paths,
    ).toBeGreaterThanOrEqual(1)
    const withFit = (await (await api('/api/attribution/compare')).json()) as {
      intervals: { markov: Record<string, unknown> } | null
      fit: unknown
    }
    expect(withFit.fit).not.toBeNull()
    expect(Object.keys(withFit.intervals!.markov).sort()).toEqual(['email', 'organic_search'])
  })

  it('records the entry of a visit that follows server events, which neither start nor extend a visit', async () => {
    const { writeKey } = await createSource({ name: 'Server and site' })
    const user = uid('member')
    const now = Date.now()
    const at = (msAgo: number) => new Date(now - msAgo).toISOString()
    const visit = (referrer: string, msAgo: number) => ({
      type: 'page',
      userId: user,
      timestamp: at(msAgo),
      context: { page: { url: 'https://shop.example/pricing', referrer } },
    })
    const minutes = (n: number) => n * 60_000
    // A back end identifies the member and records a renewal (no page, no session); three
    // minutes later the member arrives from Google: a visit of its own.
    await send('/v1/batch', writeKey, {
      batch: [
        { type: 'identify', userId: user, traits: { plan: 'pro' }, timestamp: at(minutes(50)) },
        { type: 'track', userId: user, event: 'Renewed', timestamp: at(minutes(48)) },
      ],
    })
    await send('/v1/batch', writeKey, { batch: [visit('https://www.google.com/', minutes(45))] })
    // 45 minutes after that page, 20 after an invoice paid on the server, the member comes back
    // from a link on a news site: a new visit, not the Google one kept alive by the server.
    await send('/v1/batch', writeKey, {
      batch: [{ type: 'track', userId: user, event: 'Invoice Paid', timestamp: at(minutes(20)) }],
    })
    await send('/v1/batch', writeKey, { batch: [visit('https://news.example.org/story', 0)] })
    const profile = (await (await api(`/api/contacts/${user}`)).json()) as {
      touches: { channel: string }[]
    }
    expect(profile.touches.map((t) => t.channel)).toEqual(['organic_search', 'referral'])
  })

  it('keeps only the newest touches past the configured cap, for a new contact and a woken one', async () => {
    const settings = (await (await api('/api/attribution/settings')).json()) as Record<
      string,
      number
    >
    const capped = await api('/api/attribution/settings', {
      method: 'PUT',
      json: { ...settings, maxTouches: 3 },
    })
    expect(capped.status).toBe(200)
    try {
      const { writeKey } = await createSource({ name: 'Touch cap' })
      const user = uid('capped')
      const now = Date.now()
      // Hours apart, each from its own campaign: every page view is the entry of a visit.
      const visit = (campaign: string, hoursAgo: number) => ({
        type: 'page',
        userId: user,
        timestamp: new Date(now - hoursAgo * 3_600_000).toISOString(),
        context: {
          page: {
            url: `https://shop.example/?utm_source=mail&utm_medium=email&utm_campaign=${campaign}`,
          },
        },
      })
      const campaigns = async () => {
        const response = await api(`/api/contacts/${user}`)
        const profile = (await response.json()) as { touches: { campaign: string }[] }
        return profile.touches.map((touch) => touch.campaign)
      }
      await send('/v1/batch', writeKey, {
        batch: ['a', 'b', 'c', 'd', 'e'].map((campaign, i) => visit(campaign, 10 - i)),
      })
      expect(await campaigns()).toEqual(['c', 'd', 'e'])
      await evictDurableObject(env.CONTACTS.get(env.CONTACTS.idFromName(user)))
      await send('/v1/batch', writeKey, { batch: [visit('f', 2)] })
      expect(await campaigns()).toEqual(['d', 'e', 'f'])
    } finally {
      await api('/api/attribution/settings', { method: 'PUT', json: settings })
    }
  })

  it("applies an admin's channel rules to new events", async () => {
    const rules = (await (await api('/api/attribution/channels')).json()) as { rules: unknown[] }
    const put = await api('/api/attribution/channels', {
      method: 'PUT',
      json: { rules: [{ channel: 'partners', source: 'partner-.*' }, ...rules.rules] },
    })
    expect(put.status).toBe(200)
    const { writeKey } = await createSource({ name: 'Rules' })
    const user = uid('ruled')
    await send('/v1/page', writeKey, {
      userId: user,
      context: { page: { url: 'https://shop.example/?utm_source=partner-acme&utm_medium=cpc' } },
    })
    const events = (await (await api(`/api/contacts/${user}/events`)).json()) as {
      items: { enrichment: { channel: string } }[]
    }
    expect(events.items[0]!.enrichment.channel).toBe('partners')
    await api('/api/attribution/channels', { method: 'PUT', json: rules })
    const bad = await api('/api/attribution/channels', {
      method: 'PUT',
      json: { rules: [{ channel: 'x', medium: '(' }] },
    })
    expect(bad.status).toBe(400)
  })
})

describe('POST /api/attribution/analyze', () => {
  it('answers every model and the removal effects for JSON paths', async () => {
    const response = await api('/api/attribution/analyze', {
      method: 'POST',
      json: {
        paths: [
          { path: ['email', 'search'], conversions: 2, value: 200, nulls: 1 },
          { path: ['search'], conversions: 1, value: 50, nulls: 3 },
          { path: ['social'], conversions: 0, value: 0, nulls: 4 },
        ],
      },
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      models: Record<string, Record<string, { conversions: number; value: number }>>
      removalEffects: Record<string, number>
    }
    expect(Object.keys(body.models).sort()).toEqual([
      'first',
      'last',
      'last_non_direct',
      'linear',
      'markov',
      'position',
      'shapley',
      'time_decay',
    ])
    expect(body.models.first).toMatchObject({
      email: { conversions: 2, value: 200 },
      search: { conversions: 1, value: 50 },
    })
    expect(body.models.last).toMatchObject({ search: { conversions: 3, value: 250 } })
    expect(body.models.last!.email?.conversions ?? 0).toBe(0)
    expect(body.models.shapley!.social?.conversions ?? 0).toBe(0)
    // social never converts: it gets no removal effect and no credit.
    expect(body.removalEffects.social ?? 0).toBe(0)
    expect(body.removalEffects.search).toBeGreaterThan(body.removalEffects.email!)
  })

  it('accepts the CSV form and rejects bad rows naming row and column', async () => {
    const csv = 'path,conversions,value,nulls\n"email > search",2,200,1\nsearch,1,50,3\n'
    const ok = await api('/api/attribution/analyze', {
      method: 'POST',
      body: csv,
      headers: { 'Content-Type': 'text/csv' },
    })
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { models: { last: unknown } }).models.last).toMatchObject({
      search: { conversions: 3, value: 250 },
    })

    const bad = await api('/api/attribution/analyze', {
      method: 'POST',
      body: 'path,conversions\nemail,lots\n',
      headers: { 'Content-Type': 'text/csv' },
    })
    expect(bad.status).toBe(400)
    const error = (await bad.json()) as { error: { code: string; message: string } }
    expect(error.error.code).toBe('invalid_csv')
    expect(error.error.message).toMatch(/row|line/i)
    const badJson = await api('/api/attribution/analyze', {
      method: 'POST',
      json: { paths: [{ path: [], conversions: -1 }] },
    })
    expect(badJson.status).toBe(400)
  })

  it('handles 10,000 rows', async () => {
    const channels = ['email', 'search', 'social', 'display', 'direct', 'affiliates']
    const paths = Array.from({ length: 10_000 }, (_, i) => ({
      path: [channels[i % 6]!, channels[(i * 7) % 6]!, channels[(i * 13) % 6]!].slice(
        0,
        1 + (i % 3),
      ),
      conversions: i % 4,
      value: (i % 4) * 25,
      nulls: i % 5,
    }))
    const response = await api('/api/attribution/analyze', { method: 'POST', json: { paths } })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      models: Record<string, Record<string, { conversions: number }>>
    }
    const expected = paths.reduce((s, p) => s + p.conversions, 0)
    for (const [model, credits] of Object.entries(body.models)) {
      expect(
        Object.values(credits).reduce((s, c) => s + c.conversions, 0),
        model,
      ).toBeCloseTo(expected, 6)
    }
  })
})
