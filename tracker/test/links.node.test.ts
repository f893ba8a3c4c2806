import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sleep } from './support/browser.ts'
import { startHarness, type Harness } from './support/harness.ts'

let h: Harness
beforeAll(async () => (h = await startHarness()))
afterAll(() => h?.close())
beforeEach(() => h.resetEdge())

describe('outbound links and downloads', () => {
  it('tracks clicks on links to other hosts and on files, as the data attributes ask', async () => {
    const site = await h.site({ scriptAttributes: 'data-outbound data-downloads="pdf|zip"' })
    const { page, errors } = await h.open()
    await page.route('https://example.com/**', (route) =>
      route.fulfill({ contentType: 'text/html', body: '<title>Trail guide</title>' }),
    )
    await page.goto(`${site.url}/demo/index.html`)
    await page.click('#download')
    await page.goto(`${site.url}/demo/index.html`)
    await page.click('#outbound')
    await page.waitForURL('https://example.com/**')
    const clicks = await h.arrived(2, (m) => m.type == 'track', 5_000)
    expect(clicks.map((m) => [m.event, m.properties.url])).toEqual([
      ['File Download', `${site.url}/demo/catalog.pdf`],
      ['Outbound Link', 'https://example.com/trail-guide'],
    ])
    expect(errors).toEqual([])
  })

  it('tracks neither without the attributes, nor links within the site', async () => {
    const site = await h.site()
    const { page } = await h.open()
    await page.route('https://example.com/**', (route) => route.fulfill({ body: 'elsewhere' }))
    await page.goto(`${site.url}/demo/index.html`)
    await page.click('#download')
    await page.goto(`${site.url}/demo/index.html`)
    await page.click('text=Trail Boots')
    await page.goBack()
    await page.click('#outbound')
    await sleep(1500)
    expect(h.edge.messages().filter((m) => m.type == 'track')).toEqual([])
  })
})
