// the edge stored rather than on what a mock received. The demo shop is served from an origin of
// its own (as a customer's site), allowed by the source, with t.js from the stack.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { launchChromium, openPage, sleep, until } from './support/browser.ts'
import type { Server } from './support/mock-edge.ts'
import { startSite } from './support/site.ts'
import {
  contactConsent,
  createSegment,
  createSource,
  eventsOf,
  segmentMembers,
  type Stack,
} from './support/stack.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    stackUrl: string
    adminKey: string
  }
}

const DESKTOP_CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

const stack: Stack = { url: inject('stackUrl'), adminKey: inject('adminKey') }
let browser: Awaited<ReturnType<typeof launchChromium>>
const servers: Server[] = []

beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  await Promise.all(servers.map((s) => s.close()))
})

/** The demo shop on its own origin, for a new source (allowing that origin) in the given mode. */
async function shop(consentMode: 'opt-in' | 'opt-out' = 'opt-out') {
  // Pages are rendered per request, so the key can be filled in once the origin is known.
  const options = {
    edgeUrl: stack.url,
    writeKey: '',
    scriptAttributes: consentMode == 'opt-in' ? 'data-consent="opt-in"' : '',
  }
  const site = await startSite(options)
  servers.push(site)
  options.writeKey = (
    await createSource(stack, { consentMode, allowedOrigins: [site.url] })
  ).writeKey
  return site
}

describe('the tracker against the local stack', () => {
  it('stores page views across SPA navigation, with the campaign on every event', async () => {
    const site = await shop()
    const { page } = await openPage(browser)
    await page.goto(`${site.url}/demo/catalog.html?utm_source=news&utm_campaign=spring&gclid=G-1`)
    // A person's pace: the tracker samples the URL every 200 ms, so a redirect-like burst of
    // history changes within one sample counts once, as its final URL.
    await page.click('[data-category=footwear]')
    await sleep(400)
    await page.click('#sort')
    await sleep(400)
    await page.goBack()
    const anonymousId = await page.evaluate(() => JSON.parse(localStorage.cairn).a)
    const views = await eventsOf(stack, `anon:${anonymousId}`, 4, (e) => e.type == 'page')
    for (const view of views)
      expect(view.context.campaign).toMatchObject({ source: 'news', name: 'spring', gclid: 'G-1' })
  })

  it('links earlier anonymous events to the user who signs up', async () => {
    const site = await shop()
    const { page } = await openPage(browser)
    await page.goto(`${site.url}/demo/index.html`)
    await page.click('[data-add=boots]')
    await page.click('text=Sign up')
    await page.click('button:has-text("Sign up")')
    await page.waitForURL('**/checkout.html')
    await page.click('#purchase')
    const events = await eventsOf(
      stack,
      'user-ada-example-com',
      1,
      (e) => e.event == 'Order Completed',
    )
    const all = await eventsOf(stack, 'user-ada-example-com', 6)
    expect(all.map((e) => e.event ?? e.type)).toEqual(
      expect.arrayContaining(['page', 'Product Added', 'identify', 'Signed Up', 'Order Completed']),
    )
    expect(events[0]!.properties).toMatchObject({ revenue: 129, currency: 'EUR' })
  })

  it('puts a shopper in a segment from what the tracker sent, listed by the members route', async () => {
    const segment = await createSegment(stack, 'Browsing boots this week', {
      all: [
        { performed: '$page', within: { days: 7 } },
        {
          performed: 'Product Added',
          where: [{ property: 'product_id', op: 'eq', value: 'boots' }],
        },
      ],
    })
    const site = await shop()
    // Headless Chromium says so in its user agent, and bots never count in segments.
    const { page } = await openPage(browser, { userAgent: DESKTOP_CHROME })
    await page.goto(`${site.url}/demo/index.html`)
    const anonymousId = await page.evaluate(() => JSON.parse(localStorage.cairn).a)
    const key = `anon:${anonymousId}`
    await eventsOf(stack, key, 1, (e) => e.type == 'page')
    expect(await segmentMembers(stack, segment)).not.toContain(key)
    await page.click('[data-add=boots]')
    await until(async () => (await segmentMembers(stack, segment)).includes(key), {
      timeout: 20_000,
      what: `${key} among the segment's members`,
    })
  })

  it('in opt-in mode sends nothing identifying before consent', async () => {
    const site = await shop('opt-in')
    const { page, sent } = await openPage(browser)
    await page.goto(`${site.url}/demo/index.html?utm_source=ads`)
    await page.click('[data-add=boots]')
    await sleep(1500)
    const toStack = sent.filter((r) => r.url.startsWith(stack.url))
    expect(toStack.map((r) => new URL(r.url).pathname)).toEqual(['/t.js'])
    await page.click('#accept')
    const anonymousId = await page.evaluate(() => JSON.parse(localStorage.cairn).a)
    await eventsOf(stack, `anon:${anonymousId}`, 2)
  })

  it('honours Global Privacy Control', async () => {
    const site = await shop()
    const { page } = await openPage(browser, {
      extraHTTPHeaders: { 'Sec-GPC': '1' },
      init: () =>
        Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
    })
    await page.goto(`${site.url}/demo/index.html`)
    await page.click('#accept')
    const anonymousId = await page.evaluate(() => JSON.parse(localStorage.cairn).a)
    await eventsOf(stack, `anon:${anonymousId}`, 1)
    // The banner granted everything; Global Privacy Control still denies advertising.
    expect(await contactConsent(stack, `anon:${anonymousId}`)).toMatchObject({
      analytics: true,
      advertising: false,
    })
  })

  it('delivers events queued while the network was cut, and events fired just before leaving', async () => {
    const site = await shop()
    const { page, context } = await openPage(browser)
    await page.goto(`${site.url}/demo/checkout.html`)
    const anonymousId = await page.evaluate(() => JSON.parse(localStorage.cairn).a)
    await context.setOffline(true)
    await page.evaluate(() => (window as any).cairn.track('Offline Click'))
    // checkout.html also tracks 'Checkout Started' on load: three track events in all.
    await sleep(1500)
    await context.setOffline(false)
    await page.route('https://example.com/**', (r) => r.fulfill({ body: 'bye' }))
    await page.evaluate(() => {
      ;(window as any).cairn.track('Order Completed', { revenue: 1 })
      location.href = 'https://example.com/'
    })
    await page.waitForURL('https://example.com/')
    const events = await eventsOf(stack, `anon:${anonymousId}`, 3, (e) => e.type == 'track')
    expect(events.map((e) => e.event)).toEqual([
      'Checkout Started',
      'Offline Click',
      'Order Completed',
    ])
  })
})
