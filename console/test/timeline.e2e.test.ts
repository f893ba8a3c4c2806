import type { Browser, Route } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../test/support/browser.ts'
import { screenshot, stackUrl } from './support.ts'

/**
 * The timeline at 100k events. The console is served by the real stack; its API answers are
 * synthesised here (page.route), so the test measures the browser side alone: only rows in sight
 * are rendered, and pages are fetched with the cursor as the reader scrolls.
 */
const TOTAL = 100_000
const CONTACT = 'big-contact'
const XSS = `<img src=x onerror="window.__xss=1">`

function syntheticEvent(i: number) {
  const at = new Date(Date.UTC(2026, 10, 24) - i * 60_000).toISOString()
  const kind = i % 3
  return {
    id: `ev-${i}`,
    messageId: `m-${i}`,
    type: kind === 0 ? 'page' : 'track',
    event: kind === 0 ? undefined : `Event ${i}`,
    name: kind === 0 ? `Page ${i}` : undefined,
    userId: CONTACT,
    timestamp: at,
    receivedAt: at,
    properties: i === 4 ? { note: XSS } : { n: i },
    context: { library: { name: 'synthetic' } },
    enrichment: { device: 'desktop', bot: false, country: 'DE', channel: 'email', path: `/p/${i}` },
  }
}

let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

describe('the contact timeline', () => {
  it('stays fast at 100k events: virtualised rows, pages fetched with the cursor on scroll', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    const cursors: (string | null)[] = []
    await page.route(`${stackUrl}/api/**`, (route: Route) => {
      const url = new URL(route.request().url())
      const json = (status: number, body: unknown) =>
        route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) })
      if (url.pathname === '/api/session') {
        return json(200, {
          role: 'analyst',
          name: 'Synthetic analyst',
          csrfToken: 't',
          expiresAt: null,
        })
      }
      if (url.pathname === `/api/contacts/${CONTACT}`) {
        return json(200, {
          key: CONTACT,
          userId: CONTACT,
          anonymousIds: [],
          traits: { name: 'Synthetic contact' },
          traitHistory: [],
          identities: [],
          groups: [],
          counters: [],
          firstSeen: null,
          lastSeen: null,
          eventCount: TOTAL,
          consent: {},
          scores: {},
          segments: [],
          journeys: [],
        })
      }
      if (url.pathname === `/api/contacts/${CONTACT}/events`) {
        const cursor = url.searchParams.get('cursor')
        cursors.push(cursor)
        const start = Number(cursor ?? 0)
        const limit = Number(url.searchParams.get('limit') ?? 50)
        const end = Math.min(TOTAL, start + limit)
        const items = []
        for (let i = start; i < end; i++) items.push(syntheticEvent(i))
        return json(200, { items, cursor: end < TOTAL ? String(end) : null })
      }
      return json(404, { error: { code: 'not_found', message: 'not synthesised' } })
    })

    await page.goto(`${stackUrl}/contacts/${CONTACT}`)
    const list = page.locator('[role="listbox"]')
    await expect.poll(() => list.getAttribute('data-loaded')).toBe('1000')
    expect(await page.locator('.timeline .row').count()).toBeLessThan(80)

    // Reading to the end: End jumps to the last loaded row, which fetches the next page.
    await list.focus()
    const started = Date.now()
    let loaded = 1000
    while (loaded < TOTAL) {
      await page.keyboard.press('End')
      await expect
        .poll(async () => Number(await list.getAttribute('data-loaded')), { timeout: 10_000 })
        .toBeGreaterThan(loaded)
      loaded = Number(await list.getAttribute('data-loaded'))
    }
    const readAll = Date.now() - started
    expect(loaded).toBe(TOTAL)
    await page.waitForSelector(`text=All ${TOTAL.toLocaleString('en')} events`)
    expect(cursors[0]).toBeNull()
    expect(cursors.slice(1)).toEqual(
      Array.from({ length: TOTAL / 1000 - 1 }, (_, i) => String((i + 1) * 1000)),
    )
    // However long the list, the DOM holds only the rows in sight (plus a small overscan).
    expect(await page.locator('.timeline .row').count()).toBeLessThan(80)
    await page.keyboard.press('End')
    await page.waitForSelector(`.timeline .row.selected:has-text("Page ${TOTAL - 1}")`)

    // Jumping anywhere in 100k rows renders in about a frame.
    const timings = await page.evaluate(async () => {
      const scroller = document.querySelector<HTMLElement>('.timeline-scroll')!
      const frame = () => new Promise((resolve) => requestAnimationFrame(resolve))
      const times: number[] = []
      for (let step = 0; step < 40; step++) {
        const target = ((step * 7919) % 97) / 97
        const t0 = performance.now()
        scroller.scrollTop = target * (scroller.scrollHeight - scroller.clientHeight)
        await frame()
        await frame()
        times.push(performance.now() - t0)
      }
      return times.sort((a, b) => a - b)
    })
    const p95 = timings[Math.floor(timings.length * 0.95)]!
    console.log(
      `timeline: read ${TOTAL} events in ${readAll} ms; scroll jump p50 ${timings[20]!.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`,
    )
    // Two animation frames is the floor; a list rendering every row would take seconds.
    expect(p95).toBeLessThan(250)

    await page.evaluate(() => {
      const scroller = document.querySelector<HTMLElement>('.timeline-scroll')!
      scroller.scrollTop = 50_000 * 28
    })
    await page.waitForSelector('.timeline .row:has-text("Event 50000")')
    await screenshot(page, '19-timeline-100k')

    // Untrusted properties are text.
    await page.keyboard.press('Home')
    await page.click('.timeline .row:has-text("Event 4")')
    await page.waitForSelector('.event-detail pre:has-text("onerror")')
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined()
    await context.close()
  })
})
