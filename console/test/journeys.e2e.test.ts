import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../test/support/browser.ts'
import {
  adminKey,
  consentingContact,
  enterJourney,
  eventually,
  ingest,
  logIn,
  management,
  nodeFigure,
  numberIn,
  screenshot,
  stackUrl,
} from './support.ts'

/**
 * The Journeys screens in Chromium against the local stack: a journey made from the library's
 * abandoned cart, simulated, published, entered by a real contact through the ingest API, given
 * a second version, published again and rolled back. One logged-in admin page, tests in order.
 */
const run = Date.now().toString(36)
const name = `Abandoned cart ${run}`
const shopper = { userId: `shopper-${run}` }

let browser: Browser
let page: Page
let writeKey: string
/** The journey's id, read from the URL the form leads to. */
let id: string

beforeAll(async () => {
  browser = await launchChromium()
  writeKey = (await consentingContact(run, shopper.userId)).writeKey
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  page = await context.newPage()
  page.on('pageerror', (error) => console.error('page error:', error.message))
}, 180_000)

afterAll(async () => {
  await browser?.close()
})

const journeyUrl = (rest = '') => `${stackUrl}/journeys/${id}${rest}`
const versionRow = (version: number) =>
  page.locator(`table[data-versions] tr[data-version="${version}"]`)

describe('the Journeys screens', () => {
  it('creates a journey from the library, showing each template and what it creates', async () => {
    await page.goto(`${stackUrl}/journeys`)
    await logIn(page, adminKey)
    await page.click('a:text-is("New journey")')
    await page.waitForURL((url) => url.searchParams.get('new') === 'blank')
    const cart = page.locator('label[data-template="abandoned-cart"]')
    await cart.waitFor()
    expect(await cart.textContent()).toContain('Converts on Order Completed within 3 days')
    expect(await cart.textContent()).toContain('email template abandoned-cart-reminder')
    expect(await page.locator('label[data-template]').count()).toBe(7)
    await cart.locator('input').check()
    await page.waitForURL((url) => url.searchParams.get('new') === 'abandoned-cart')
    await page.getByLabel('Name', { exact: true }).fill(name)
    await screenshot(page, '45-journeys')
    await page.click('button:text-is("Create journey")')
    await page.waitForURL(/\/journeys\/[^/?]+$/)
    id = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!)
    await page.waitForSelector(`h1:text-is("${name}")`)
    expect(await page.textContent('.journey-status')).toContain('draft')
    // The library's version 1, on the graph.
    await page.waitForSelector('.react-flow__node[data-id="wait-for-order"]')

    await page.goto(`${stackUrl}/journeys`)
    const row = page.locator(`tr[data-journey="${id}"]`)
    await row.waitFor()
    expect(await row.locator('td').nth(1).textContent()).toBe('draft')
    expect(await row.locator('td').nth(3).textContent()).toBe('v1')
  })

  it('simulates a cart with no order: the reminder email is in the trace, its node lit', async () => {
    await page.goto(journeyUrl('/simulate'))
    await page.click('button:text-is("Add event")')
    const event = page.locator('li[data-event="0"]')
    await event.getByLabel('Event', { exact: true }).fill('Product Added')
    await event.getByLabel('Properties (JSON)').fill('{"name": "Boots <b>x</b>"}')
    await page.getByLabel('Watch until: days').fill('0')
    await page.getByLabel('Watch until: hours').fill('2')
    await page.click('button:text-is("Run simulation")')
    const reminder = page.locator('[data-would-send="abandoned-cart-reminder"]')
    await reminder.waitFor()
    // The product name carries markup: shown as text in the subject, never as an element.
    expect(await reminder.locator('.email-subject').textContent()).toBe(
      'You left Boots <b>x</b> in your cart',
    )
    expect(await page.locator('.simulator-layout b').count()).toBe(0)
    const steps = await page
      .locator('ol[data-trace] li')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-node')))
    expect(steps).toContain('reminder')
    expect(steps.at(-1)).toBe('wait-for-order-again')

    // Step through to the reminder: its node is lit on the graph, its email shown whole.
    const at = steps.indexOf('reminder')
    for (let i = 0; i < at; i++) await page.click('button:text-is("Next step")')
    await page.waitForURL((url) => url.searchParams.get('step') === String(at))
    await page.waitForSelector('.react-flow__node[data-id="reminder"] .lit')
    expect(await page.locator('.react-flow__node .lit').count()).toBe(1)
    const frame = page.locator('.step-detail iframe.email-html')
    expect(await frame.getAttribute('sandbox')).toBe('')
    expect(await frame.getAttribute('srcdoc')).toContain('is still in your cart')
    await screenshot(page, '47-journey-simulator')
    await page.click('button:text-is("Next step")')
    await page.waitForSelector('.react-flow__node[data-id="wait-for-order-again"] .lit')
    await page.click('button:text-is("Previous step")')
    await page.waitForSelector('.react-flow__node[data-id="reminder"] .lit')

    // The script and the step are in the URL: a reload runs the same simulation again.
    await page.reload()
    await page.waitForSelector('.react-flow__node[data-id="reminder"] .lit')
    expect(await page.textContent('.step-detail .email-subject')).toBe(
      'You left Boots <b>x</b> in your cart',
    )
  })

  it('publishes version 1, and the figures move as a real contact goes through it', async () => {
    await page.goto(journeyUrl('/versions'))
    await page.click('button:text-is("Publish v1")')
    await versionRow(1).and(page.locator('[data-live="true"]')).waitFor()
    expect(await page.textContent('.journey-status')).toContain('live')

    await page.goto(journeyUrl())
    await page.waitForSelector(nodeFigure('wait-for-order', 'waiting'))
    expect(await numberIn(page, nodeFigure('wait-for-order', 'entered'))).toBe(0)

    // Re-entry waits 7 days, so the repeated cart starts only one run.
    await enterJourney(writeKey, id, 'wait-for-order', {
      userId: shopper.userId,
      event: 'Product Added',
      properties: { name: 'Boots', price: 80 },
    })
    await page.reload()
    await page.waitForSelector(nodeFigure('wait-for-order', 'waiting'))
    expect(await numberIn(page, nodeFigure('wait-for-order', 'waiting'))).toBe(1)
    expect(await numberIn(page, '.journey-summary [data-figure="entered"]')).toBe(1)
    // On the graph too.
    expect(
      await page.textContent('.react-flow__node[data-id="wait-for-order"] .journey-node-overlay'),
    ).toContain('1 wait')

    await ingest(writeKey, '/v1/track', {
      userId: shopper.userId,
      event: 'Order Completed',
      properties: { total: 80 },
    })
    await eventually(async () => {
      await page.reload()
      await page.waitForSelector(nodeFigure('wait-for-order', 'waiting'))
      return (await numberIn(page, '.journey-summary [data-figure="converted"]')) === 1
    }, 30_000)
    expect(await numberIn(page, nodeFigure('wait-for-order', 'waiting'))).toBe(0)
    expect(await page.textContent('.journey-summary [data-figure="completion"]')).toMatch(/%/)
    await screenshot(page, '46-journey-overview')
  })

  it('saves a second version from the editor, naming the problems the API finds', async () => {
    await page.goto(journeyUrl('/edit'))
    const form = page.locator('form[aria-label="Journey settings"]')
    const eventName = form.getByRole('textbox', { name: 'Event', exact: true })
    await eventName.waitFor()
    expect(await eventName.inputValue()).toBe('Product Added')

    // JSON that does not parse blocks saving; the API's problems are listed.
    const exitWhen = form.getByLabel(/^Exit when/)
    await exitWhen.fill('{"performed": ')
    await form.locator('text=Not JSON').waitFor()
    expect(await page.locator('button:text-is("Save as new version")').isDisabled()).toBe(true)
    await exitWhen.fill('')
    await eventName.fill('')
    await page.click('button:text-is("Save as new version")')
    await page.waitForSelector('[data-problems] li')
    expect(await page.textContent('[data-problems]')).toContain('entry')

    await eventName.fill('Product Added')
    await form
      .getByLabel(/^Where \(conditions/)
      .fill('[{"property": "price", "op": "gte", "value": 20}]')
    await form.getByLabel('Within (from entry; 0 for any time): days').fill('5')
    await page.click('button:text-is("Save as new version")')
    await page.waitForSelector('text=Saved version 2.')
    await page.waitForURL((url) => url.searchParams.get('from') === '2')

    await page.click('a:text-is("what changed")')
    await page.waitForURL(journeyUrl('/versions/1/diff/2'))
    const change = page.locator('[data-diff] tr[data-field="goal.within.days"]')
    await change.waitFor()
    expect(await change.locator('td').allTextContents()).toEqual(['3', '5'])
    const where = page.locator('[data-diff] tr[data-field="entry.where"] td')
    expect(await where.allTextContents()).toEqual([
      '(none)',
      '[{"property":"price","op":"gte","value":20}]',
    ])
    expect(await page.locator('[data-change]').count()).toBe(0)
    await page.waitForSelector('.react-flow__node[data-id="wait-for-order"]')
    await screenshot(page, '48-journey-diff')
  })

  it('publishes version 2, refuses a node map across types, and rolls back to version 1', async () => {
    await page.goto(journeyUrl('/versions'))
    await page.click('button:text-is("Publish v2")')
    await versionRow(2).and(page.locator('[data-live="true"]')).waitFor()
    expect(await versionRow(1).getAttribute('data-live')).toBe('false')

    // A run waiting for an order cannot wait at an email node.
    const map = page.locator('table[data-node-map]')
    await map.locator('tr[data-node="wait-for-order"] select').selectOption('reminder')
    await page.click('button:text-is("Move waiting runs from v1 to v2")')
    const problem = map.locator('tr[data-node="wait-for-order"] td[role="alert"]')
    await problem.waitFor()
    expect(await problem.textContent()).toContain('is a waitFor node and reminder a email node')

    await page.click('button:text-is("Roll back to v1")')
    const dialog = page.locator('dialog[open]')
    expect(await dialog.locator('h2').textContent()).toBe('Roll back to v1?')
    await dialog.locator('button:text-is("Make v1 live")').click()
    await versionRow(1).and(page.locator('[data-live="true"]')).waitFor()
    expect(await versionRow(2).getAttribute('data-live')).toBe('false')
    expect(await page.textContent('table[data-history] tbody tr:first-child')).toContain('rollback')
    const journey = await management<{ live: { version: number }[] }>(`/api/journeys/${id}`)
    expect(journey.body.live).toEqual([{ version: 1, weight: 1 }])
  })

  it('splits new entrants between the two versions, then promotes version 1 alone', async () => {
    const split = page.locator('form[aria-labelledby="split-title"]')
    await split.locator('select').first().selectOption('1')
    await split.locator('select').last().selectOption('2')
    await split.getByLabel('Weight').first().fill('30')
    await split.getByLabel('Weight').last().fill('70')
    expect(await split.textContent()).toContain('New entrants: 30% v1, 70% v2.')
    await split.locator('button:text-is("Publish the split")').click()
    await versionRow(2).and(page.locator('[data-live="true"]')).waitFor()
    expect(await versionRow(1).locator('.badge').textContent()).toBe('live 30%')
    expect(await versionRow(2).locator('.badge').textContent()).toBe('live 70%')
    expect(await page.textContent('.journey-status')).toContain('v1 30% · v2 70%')
    await page.evaluate(() => scrollTo(0, 0))
    await screenshot(page, '49-journey-versions')

    await page.click('button:text-is("Promote v1")')
    await versionRow(2).and(page.locator('[data-live="false"]')).waitFor()
    expect(await page.textContent('table[data-history] tbody tr:first-child')).toContain('promote')
    const journey = await management<{ live: { version: number }[] }>(`/api/journeys/${id}`)
    expect(journey.body.live).toEqual([{ version: 1, weight: 1 }])
  })

  it('pauses and resumes the journey from its overview', async () => {
    await page.goto(journeyUrl())
    await page.click('button:text-is("Pause journey")')
    await page.waitForSelector('button:text-is("Resume journey")')
    expect(await page.textContent('.journey-status')).toContain('paused')
    await page.click('button:text-is("Resume journey")')
    await page.waitForSelector('button:text-is("Pause journey")')
    expect(await page.textContent('.journey-status')).toContain('live')
  })

  it('shows an analyst the journeys and their figures, without the means to change them', async () => {
    const key = await management<{ key: string }>('/api/keys', {
      method: 'POST',
      body: { name: `Analyst ${run}`, role: 'analyst' },
    })
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    try {
      const analyst = await context.newPage()
      await analyst.goto(`${stackUrl}/journeys/${id}/versions`)
      await logIn(analyst, key.body.key)
      await analyst.waitForSelector('table[data-versions] tr[data-version="2"]')
      expect(await analyst.locator('table[data-versions] button').count()).toBe(0)
      expect(await analyst.locator('#rollback-title, #split-title, #migrate-title').count()).toBe(0)
      const tabs = await analyst.locator('nav[aria-label="Journey"] a').allTextContents()
      expect(tabs).toEqual(['Overview', 'Versions', 'Simulator'])
      await analyst.goto(`${stackUrl}/journeys`)
      await analyst.waitForSelector(`tr[data-journey="${id}"]`)
      expect(await analyst.locator('a:text-is("New journey")').count()).toBe(0)
    } finally {
      await context.close()
    }
  })
})
