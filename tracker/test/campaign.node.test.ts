import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { storedState } from './support/browser.ts'
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

const LANDING =
  '/demo/index.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale' +
  '&utm_term=boots&utm_content=hero&gclid=G-1&gbraid=GB-2&wbraid=WB-3&fbclid=FB-4' +
  '&msclkid=MS-5&ttclid=TT-6&li_fat_id=LI-7&q=not-a-campaign-parameter'

const CAMPAIGN = {
  utm_source: 'newsletter',
  utm_medium: 'email',
  utm_campaign: 'spring_sale',
  utm_term: 'boots',
  utm_content: 'hero',
  gclid: 'G-1',
  gbraid: 'GB-2',
  wbraid: 'WB-3',
  fbclid: 'FB-4',
  msclkid: 'MS-5',
  ttclid: 'TT-6',
  li_fat_id: 'LI-7',
}

describe('campaign and session', () => {
  it('keeps the landing campaign on every event of the session, across page loads', async () => {
    const { page, errors } = await h.open()
    await page.goto(site.url + LANDING)
    await page.click('text=Trail Boots')
    await page.click('#add')
    await page.click('text=Go to checkout')
    const messages = await h.arrived(5)
    expect(messages.map((m) => m.event ?? m.type)).toEqual([
      'page',
      'page',
      'Product Added',
      'page',
      'Checkout Started',
    ])
    for (const message of messages) expect(message.context.campaign).toEqual(CAMPAIGN)
    expect(new Set(messages.map((m) => m.context.sessionId)).size).toBe(1)
    expect(new Set(messages.map((m) => m.anonymousId)).size).toBe(1)
    expect(messages[1]!.context.page.referrer).toBe(site.url + LANDING)
    expect(errors).toEqual([])
  })

  it('starts a new session, without the old campaign, after 30 minutes of inactivity', async () => {
    const { page } = await h.open()
    await page.goto(site.url + LANDING)
    const [first] = await h.arrived(1)
    // Age the last activity by 31 minutes, as if the visitor had walked away.
    await page.evaluate(() => {
      const state = JSON.parse(localStorage.cairn)
      state.t -= 31 * 60_000
      localStorage.cairn = JSON.stringify(state)
    })
    await page.goto(`${site.url}/demo/product-boots.html`)
    const [, second] = await h.arrived(2)
    expect(second!.context.sessionId).toBeGreaterThan(first!.context.sessionId)
    expect(second!.context.campaign).toEqual({})
    expect(second!.anonymousId).toBe(first!.anonymousId)
    expect((await storedState(page)).s).toBe(second!.context.sessionId)
  })

  it('takes a new campaign arriving within the session', async () => {
    const { page } = await h.open()
    await page.goto(site.url + LANDING)
    await h.arrived(1)
    await page.goto(`${site.url}/demo/index.html?utm_source=ads&utm_medium=cpc&gclid=G-9`)
    const [first, second] = await h.arrived(2)
    expect(second!.context.campaign).toEqual({ utm_source: 'ads', utm_medium: 'cpc', gclid: 'G-9' })
    expect(second!.context.sessionId).toBe(first!.context.sessionId)
  })
})
