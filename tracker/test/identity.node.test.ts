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

describe('identity', () => {
  it('identifies on signup under the same anonymous id, then sends the user id along', async () => {
    const { page, errors } = await h.open()
    await page.goto(`${site.url}/demo/signup.html`)
    await page.click('button:has-text("Sign up")')
    await page.waitForURL('**/checkout.html')
    await page.click('#purchase')
    const messages = await h.arrived(1, (m) => m.event == 'Order Completed')
    const all = h.edge.messages()
    expect(all.map((m) => m.event ?? m.type)).toEqual([
      'page',
      'identify',
      'Signed Up',
      'page',
      'Checkout Started',
      'Order Completed',
    ])
    const anonymousId = all[0]!.anonymousId
    const userId = 'user-ada-example-com'
    expect(all.every((m) => m.anonymousId == anonymousId)).toBe(true)
    expect(all[0]!.userId).toBeUndefined()
    expect(all.slice(1).every((m) => m.userId == userId)).toBe(true)
    expect(all[1]!.traits).toEqual({ email: 'ada@example.com', name: 'Ada Lovelace' })
    expect(messages[0]!.properties).toMatchObject({ revenue: 129, currency: 'EUR' })
    expect(errors).toEqual([])
  })

  it('identify(traits) keeps the user; group and alias follow the spec', async () => {
    const { page } = await h.open()
    await page.goto(`${site.url}/demo/index.html`)
    await h.arrived(1)
    await page.evaluate(() => {
      const cairn = (window as any).cairn
      cairn.identify('u-1')
      cairn.identify({ plan: 'pro' })
      cairn.group('acme', { employees: 12 })
      cairn.alias('u-2')
      cairn.alias('u-3', 'legacy-9')
    })
    const [, one, two, group, alias, alias2] = await h.arrived(6)
    expect(one).toMatchObject({ type: 'identify', userId: 'u-1' })
    expect(two).toMatchObject({ type: 'identify', userId: 'u-1', traits: { plan: 'pro' } })
    expect(group).toMatchObject({ type: 'group', groupId: 'acme', traits: { employees: 12 } })
    expect(alias).toMatchObject({ type: 'alias', userId: 'u-2', previousId: 'u-1' })
    expect(alias2).toMatchObject({ type: 'alias', userId: 'u-3', previousId: 'legacy-9' })
  })

  it('reset() forgets the ids and the session but keeps the consent and the queue', async () => {
    const { page } = await h.open()
    await page.goto(`${site.url}/demo/index.html`)
    await page.evaluate(() => (window as any).cairn.identify('u-7'))
    const [before] = await h.arrived(2)
    await page.evaluate(() => {
      ;(window as any).cairn.reset()
      ;(window as any).cairn.track('After Logout')
    })
    const [after] = await h.arrived(1, (m) => m.event == 'After Logout')
    expect(after!.userId).toBeUndefined()
    expect(after!.anonymousId).not.toBe(before!.anonymousId)
    expect(after!.context.sessionId).not.toBe(before!.context.sessionId)
    expect((await storedState(page)).a).toBe(after!.anonymousId)
  })
})
