import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './support/harness.ts'
import type { Server } from './support/mock-edge.ts'

let h: Harness
let site: Server
beforeAll(async () => {
  h = await startHarness()
  site = await h.site()
})
afterAll(() => h?.close())
beforeEach(() => h.resetEdge())

describe('page views', () => {
  it('sends one on landing, as a text/plain batch carrying the write key', async () => {
    const { page, errors } = await h.open()
    await page.goto(`${site.url}/demo/index.html`)
    const [view] = await h.arrived(1)
    expect(view).toMatchObject({
      type: 'page',
      context: {
        page: { url: `${site.url}/demo/index.html`, title: 'Cairn Outdoor — Home', referrer: '' },
      },
    })
    expect(view!.messageId).toMatch(/^[0-9a-f-]{36}$/)
    expect(view!.anonymousId).toMatch(/^[0-9a-f-]{36}$/)
    expect(typeof view!.context.sessionId).toBe('number')
    expect(Date.parse(view!.timestamp)).toBeGreaterThan(Date.now() - 60_000)

    const request = h.edge.received[0]!
    expect(request.contentType).toMatch(/^text\/plain/)
    expect(request.origin).toBe(site.url)
    expect(request.body).toMatchObject({
      writeKey: 'wk_test',
      context: {
        library: { name: 'cairn.js', version: expect.any(String) },
        screen: { width: expect.any(Number), height: expect.any(Number) },
      },
    })
    expect(Date.parse(request.body.sentAt)).toBeGreaterThan(0)
    expect(errors).toEqual([])
  })

  it('follows a single-page app through pushState, replaceState, popstate and hashchange', async () => {
    const { page, errors } = await h.open()
    const base = `${site.url}/demo/catalog.html`
    await page.goto(base)
    await h.arrived(1)
    await page.click('[data-category=footwear]') // pushState
    await h.arrived(2)
    await page.click('#sort') // replaceState, adding a hash
    await h.arrived(3)
    await page.goBack() // popstate, back to the landing URL
    await h.arrived(4)
    await page.evaluate(() => (location.hash = 'reviews')) // hashchange
    const views = await h.arrived(5, (m) => m.type == 'page')
    expect(
      views.map((v) => [v.context.page.url.slice(base.length), v.context.page.referrer]),
    ).toEqual([
      ['', ''],
      ['?category=footwear', base],
      ['?category=footwear#sort-price', `${base}?category=footwear`],
      ['', `${base}?category=footwear#sort-price`],
      ['#reviews', base],
    ])
    expect(views[1]!.context.page.title).toBe('Cairn Outdoor — Catalog: footwear')
    expect(new Set(views.map((v) => v.context.sessionId)).size).toBe(1)
    expect(errors).toEqual([])
  })

  it('does not count a replaceState that keeps the URL', async () => {
    const { page } = await h.open()
    await page.goto(`${site.url}/demo/catalog.html`)
    await h.arrived(1)
    await page.evaluate(() => history.replaceState({ scroll: 1 }, ''))
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 1500)))
    expect(h.edge.messages()).toHaveLength(1)
  })
})

describe('the async stub', () => {
  it('replays calls made before t.js loaded, after the landing page view', async () => {
    const stubbed = await h.site({
      pages: {
        '/demo/early.html': `<!doctype html><title>Early</title>
          <script src="shop.js"></script>
          <script>cairn.identify('early-user', { plan: 'pro' }); cairn.track('Early Bird', { n: 1 })</script>
          {{tracker}}`,
      },
    })
    const { page, errors } = await h.open()
    await page.goto(`${stubbed.url}/demo/early.html`)
    const messages = await h.arrived(3)
    expect(messages.map((m) => [m.type, m.event, m.userId])).toEqual([
      ['page', undefined, undefined],
      ['identify', undefined, 'early-user'],
      ['track', 'Early Bird', 'early-user'],
    ])
    expect(messages[1]!.traits).toEqual({ plan: 'pro' })
    expect(await page.evaluate(() => typeof (window as any).cairn.track)).toBe('function')
    expect(errors).toEqual([])
  })
})
