import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './support/harness.ts'

let h: Harness
beforeAll(async () => (h = await startHarness()))
afterAll(() => h?.close())
beforeEach(() => h.resetEdge())

describe('a good guest on the page', () => {
  it('works under a strict Content-Security-Policy and adds no global but cairn', async () => {
    const site = await h.site({
      headers: {
        'content-security-policy':
          `default-src 'none'; script-src 'self' ${h.edge.url}; ` +
          `connect-src ${h.edge.url}; style-src 'self'; img-src 'self'`,
      },
    })
    const { page, errors } = await h.open({
      init: () => {
        const w = window as any
        w.__violations = []
        document.addEventListener('securitypolicyviolation', (e) =>
          w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`),
        )
        w.__globalsBefore = Object.keys(window)
      },
    })
    await page.goto(`${site.url}/demo/index.html?utm_source=csp`)
    await page.click('#accept')
    await page.click('[data-add=boots]')
    const messages = await h.arrived(2, () => true, 5_000)
    expect(messages.map((m) => m.event ?? m.type)).toEqual(['page', 'Product Added'])
    const { violations, added } = await page.evaluate(() => {
      const w = window as any
      const before = new Set(w.__globalsBefore)
      return {
        violations: w.__violations,
        added: Object.keys(window).filter((k) => !before.has(k) && !k.startsWith('__')),
      }
    })
    expect(violations).toEqual([])
    // The demo shop's own globals (its helpers) aside, the tracker adds only `cairn`.
    const shop = ['PRODUCTS', 'cart', 'addToCart', 'showCart', 'decide', 'el', 'renderLayout']
    expect(added.filter((k) => !shop.includes(k))).toEqual(['cairn'])
    expect(errors).toEqual([])
  })
})
