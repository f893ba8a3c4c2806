import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sleep, storedState, until } from './support/browser.ts'
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

const batches = () => h.edge.received.filter((r) => r.path == '/v1/batch')
const track = (n: number) => (window as any).cairn.track(`Event ${n}`, { n })

describe('batching', () => {
  it('sends events together a second after the last, or at once when ten wait', async () => {
    const { page } = await h.open()
    await page.goto(`${site.url}/demo/index.html`)
    await h.arrived(1)
    await page.evaluate(() => [1, 2, 3].forEach((n) => (window as any).cairn.track(`E${n}`)))
    await h.arrived(4)
    expect(batches().map((b) => b.body.batch.length)).toEqual([1, 3])

    const started = Date.now()
    await page.evaluate(() => {
      for (let n = 0; n < 10; n++) (window as any).cairn.track(`Burst ${n}`)
    })
    await h.arrived(14)
    expect(Date.now() - started).toBeLessThan(900)
  })
})

describe('retries and the offline queue', () => {
  it('keeps failed events through a reload and delivers them once the edge recovers', async () => {
    const { page } = await h.open()
    h.edge.respond = () => ({ status: 503 })
    await page.goto(`${site.url}/demo/index.html`)
    await page.evaluate(track, 1)
    await until(() => batches().length >= 1)
    expect((await storedState(page)).q).toHaveLength(2)
    await page.reload()
    await page.evaluate(track, 2)
    await until(async () => (await storedState(page)).q.length == 4)
    h.edge.respond = () => ({ status: 200, body: { success: true, accepted: 1, rejected: [] } })
    const messages = await h.arrived(4, () => true, 15_000)
    expect(messages.map((m) => m.event ?? m.type)).toEqual(['page', 'Event 1', 'page', 'Event 2'])
    await until(async () => (await storedState(page)).q.length == 0)
  })

  it('honours Retry-After on 429', async () => {
    const { page } = await h.open()
    let answers = 0
    h.edge.respond = () =>
      answers++ == 0
        ? { status: 429, headers: { 'retry-after': '2' } }
        : { status: 200, body: { success: true } }
    await page.goto(`${site.url}/demo/index.html`)
    await h.arrived(1, () => true, 10_000)
    const [limited, retried] = batches()
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(1900)
    expect(retried!.body.batch[0].messageId).toBe(limited!.body.batch[0].messageId)
  })

  it('does not retry what the edge rejected as invalid (400)', async () => {
    const { page } = await h.open()
    h.edge.respond = () => ({ status: 400, body: { error: { code: 'invalid' } } })
    await page.goto(`${site.url}/demo/index.html`)
    await until(() => batches().length)
    await sleep(2500)
    expect(batches()).toHaveLength(1)
    expect((await storedState(page)).q).toEqual([])
  })

  it('holds events while the network is down and sends them when it returns', async () => {
    const { page, context } = await h.open()
    await page.goto(`${site.url}/demo/index.html`)
    await h.arrived(1)
    await context.setOffline(true)
    await page.evaluate(track, 1)
    await page.evaluate(track, 2)
    await sleep(1500)
    expect((await storedState(page)).q).toHaveLength(2)
    await context.setOffline(false)
    const messages = await h.arrived(3, () => true, 5_000)
    expect(messages.map((m) => m.event ?? m.type)).toEqual(['page', 'Event 1', 'Event 2'])
  })
})

describe('leaving the page', () => {
  it('delivers events fired just before navigating to another site', async () => {
    const { page } = await h.open()
    await page.route('https://example.com/**', (route) =>
      route.fulfill({ contentType: 'text/html', body: '<title>Elsewhere</title>' }),
    )
    await page.goto(`${site.url}/demo/checkout.html`)
    await page.evaluate(() => {
      ;(window as any).cairn.track('Order Completed', { revenue: 42 })
      location.href = 'https://example.com/thanks'
    })
    await page.waitForURL('https://example.com/thanks')
    const messages = await h.arrived(3, () => true, 5_000)
    expect(messages.map((m) => m.event ?? m.type)).toEqual([
      'page',
      'Checkout Started',
      'Order Completed',
    ])
  })
})
