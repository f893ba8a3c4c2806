import { readFile } from 'node:fs/promises'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedDemo } from '../../scripts/seed.ts'
import { launchChromium } from '../../test/support/browser.ts'
import {
  adminKey,
  eventually,
  ingest,
  logIn,
  management,
  numberIn,
  screenshot,
  stackUrl,
} from './support.ts'

/**
 * The console in real Chromium against the local stack with demo data (issue 6's proof). The
 * tests share one logged-in admin page and run in order: logging in is rate limited per IP.
 */
const run = Date.now().toString(36)
const person = {
  userId: `console-${run}`,
  anonymousId: `console-anon-${run}`,
  email: `grace.${run}@example.com`,
}
const doomed = { userId: `erase-me-${run}`, email: `erase.${run}@example.com` }
/** Untrusted data that would run script if rendered as markup. */
const XSS = `<img src=x onerror="window.__xss=1">`

let browser: Browser
let admin: BrowserContext
let page: Page
let writeKey: string
let conversionDefined: { status: number; body: unknown }
let marketerKey: string | undefined

beforeAll(async () => {
  browser = await launchChromium()
  // Conversions are credited at ingest, so the definition comes before the data.
  conversionDefined = await management('/api/attribution/conversions', {
    method: 'POST',
    body: { name: `Order (${run})`, eventName: 'Order Completed', valueProperty: 'revenue' },
  })
  await seedDemo({ url: stackUrl, adminKey, visitors: 60, days: 14, predictions: false })
  const source = await management<{ writeKey: string }>('/api/sources', {
    method: 'POST',
    body: { name: `Console e2e ${run}` },
  })
  expect(source.status).toBe(201)
  writeKey = source.body.writeKey

  const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString()
  const pageview = (minutesAgo: number, path: string, referrer = '') => ({
    type: 'page',
    anonymousId: person.anonymousId,
    name: path === '/' ? 'Home' : 'Pricing',
    timestamp: at(minutesAgo),
    context: {
      page: { url: `https://shop.example${path}`, path: path.split('?')[0], referrer },
    },
  })
  await ingest(writeKey, '/v1/batch', {
    batch: [
      pageview(30, '/?utm_source=newsletter&utm_medium=email&utm_campaign=winter'),
      pageview(29, '/pricing', 'https://shop.example/'),
      {
        type: 'identify',
        userId: person.userId,
        anonymousId: person.anonymousId,
        traits: { email: person.email, name: 'Grace Console', plan: 'pro', bio: XSS },
        timestamp: at(28),
      },
      {
        type: 'track',
        userId: person.userId,
        event: 'Order Completed',
        properties: { revenue: 99, note: XSS },
        timestamp: at(27),
      },
    ],
  })
  await ingest(writeKey, '/v1/consent', {
    userId: person.userId,
    purposes: { analytics: true, marketing: true, personalization: false, advertising: false },
    policyVersion: `policy-${run}`,
    source: 'banner',
  })
  await ingest(writeKey, '/v1/batch', {
    batch: [
      {
        type: 'identify',
        userId: doomed.userId,
        traits: { email: doomed.email, name: 'Erase Me' },
      },
      { type: 'track', userId: doomed.userId, event: 'Signed Up' },
    ],
  })
  // Both contacts are searchable once the queue consumer has written them to D1.
  for (const id of [person.userId, doomed.userId]) {
    await eventually(async () => {
      const found = await management<{ items: { key: string }[] }>(
        `/api/contacts?q=${encodeURIComponent(id)}`,
      )
      return found.body.items.some((c) => c.key === id)
    })
  }
  admin = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  })
  page = await admin.newPage()
}, 180_000)

afterAll(async () => {
  await browser?.close()
})

describe('the console', () => {
  it('asks for a key, logs in and returns to the screen asked for', async () => {
    await page.goto(`${stackUrl}/overview`)
    await page.waitForSelector('#login-key')
    await page.waitForURL((url) => url.pathname === '/login')
    expect(new URL(page.url()).searchParams.get('next')).toBe('/overview')
    await page.fill('#login-key', 'sk_not_a_real_key')
    await page.click('form[aria-labelledby="login-title"] button[type="submit"]')
    await page.waitForSelector('text=That key is unknown or revoked')
    await screenshot(page, '01-login')

    await logIn(page, adminKey)
    await page.waitForSelector('[data-kpi="events"]')
    expect(new URL(page.url()).pathname).toBe('/overview')
    // The session cookie is HttpOnly: the page cannot read it, the browser keeps it.
    const cookies = await admin.cookies()
    const session = cookies.find((c) => c.name === 'cairn_session')
    expect(session, 'the browser stored the session cookie').toBeDefined()
    expect(session!.httpOnly).toBe(true)
    expect(await page.evaluate(() => document.cookie)).not.toContain('cairn_session')
    expect(await numberIn(page, '[data-kpi="events"] .kpi-value')).toBeGreaterThan(0)
    await expect
      .poll(() => numberIn(page, '[data-kpi="conversions"] .kpi-value'))
      .toBeGreaterThan(0)
    const nav = await page.locator('nav[aria-label="Main"] a').allTextContents()
    expect(nav).toEqual([
      'Overview',
      'KPIs',
      'Contacts',
      'Segments',
      'Journeys',
      'Templates',
      'Messages',
      'Predictions',
      'Attribution',
      'Compliance',
      'Settings',
    ])
  })

  it('updates the overview when an event is sent', async () => {
    await page.waitForSelector('.live .badge:text("Live")', { timeout: 15_000 })
    const before = await numberIn(page, '[data-kpi="events"] .kpi-value')
    const name = `Console Live ${run}`
    await ingest(writeKey, '/v1/track', {
      userId: person.userId,
      event: name,
      properties: { plan: 'pro' },
    })
    // The live stream shows the event as it lands…
    await page.waitForSelector(`.live-list li:has-text("${name}")`, { timeout: 20_000 })
    // …and the totals follow once the rollups have it.
    await expect
      .poll(() => numberIn(page, '[data-kpi="events"] .kpi-value'), { timeout: 25_000 })
      .toBeGreaterThan(before)
    await screenshot(page, '02-overview')
  })

  it('finds a contact by email and opens its timeline, consent, identities and touches', async () => {
    await page.click('nav[aria-label="Main"] >> text=Contacts')
    await page.waitForSelector('#contact-search')
    await page.fill('#contact-search', person.email)
    await page.press('#contact-search', 'Enter')
    await page.waitForURL((url) => url.searchParams.get('q') === person.email)
    const link = page.locator(`table a:text-is("${person.userId}")`)
    await link.waitFor()
    await screenshot(page, '03-contacts-search')
    await link.click()

    await page.waitForURL(`${stackUrl}/contacts/${person.userId}`)
    await page.waitForSelector('h1:text("Grace Console")')
    const list = page.locator('[role="listbox"]')
    // Two page views, the identify, the order, the live event, and the demo segment of buyers
    // that the order put Grace in.
    await expect.poll(() => list.getAttribute('data-loaded')).toBe('6')
    const rows = await page.locator('.timeline .row .c-name').allTextContents()
    expect(rows).toContain('Order Completed')
    expect(rows).toContain('Segment Entered')
    expect(rows).toContain('Pricing')
    // Keyboard: the list takes focus and the arrow keys move the selection.
    await list.focus()
    await page.keyboard.press('End')
    expect(await list.getAttribute('aria-activedescendant')).toBe('event-row-5')
    await page.keyboard.press('ArrowUp')
    expect(await list.getAttribute('aria-activedescendant')).toBe('event-row-4')
    await page.waitForSelector('#event-row-4.selected')
    await screenshot(page, '04-contact-timeline')

    // Untrusted traits and properties are shown as text, never run as markup.
    await page.keyboard.press('Home')
    await page.click('.timeline .row:has-text("Order Completed")')
    await page.waitForSelector('.event-detail pre:has-text("onerror")')
    await page.click('.tabs >> text=Traits')
    await page.waitForURL(`${stackUrl}/contacts/${person.userId}/traits`)
    await page.waitForSelector(`td:text-is('${XSS}')`)
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined()
    expect(await page.locator('img[src="x"]').count()).toBe(0)

    await page.click('.tabs >> text=Consent')
    await page.waitForSelector(`td:text("policy-${run}")`)
    expect(await page.locator('.purposes').textContent()).toContain('granted')
    await screenshot(page, '05-contact-consent')

    await page.click('.tabs >> text=Identities')
    await page.waitForSelector(`li:text("${person.anonymousId}")`)
    await screenshot(page, '06-contact-identities')

    await page.click('.tabs >> text=Touches')
    await page.waitForSelector('.tab-panel td:text-is("email")')
    await screenshot(page, '07-contact-touches')

    // A deep link survives a reload: the session is asked again, the screen comes back.
    await page.reload()
    await page.waitForSelector('.tab-panel td:text-is("email")')
    expect(new URL(page.url()).pathname).toBe(`/contacts/${person.userId}/touches`)
  })

  it('compares every attribution model side by side, with confidence and a period picker', async () => {
    expect(conversionDefined.status, JSON.stringify(conversionDefined.body)).toBe(201)
    // The data-driven models' intervals come from a fit; fit now rather than wait for the cron.
    const refit = await management('/api/attribution/refit', { method: 'POST' })
    expect(refit.status).toBe(200)
    await page.goto(`${stackUrl}/attribution`)
    const table = page.locator('table.attribution-table')
    await table.waitFor()
    const headers = await table.locator('thead th').allTextContents()
    expect(headers).toEqual([
      'Channel',
      'First touch',
      'Last touch',
      'Last non-direct',
      'Linear',
      'Time decay',
      'Position',
      'Markov',
      'Shapley',
    ])
    const channels = await table.locator('tbody th').allTextContents()
    expect(channels.length).toBeGreaterThan(1)
    expect(channels).toContain('email')
    expect(await page.textContent('[data-confidence]')).toMatch(/\d/)
    expect(await table.locator('.interval').count()).toBeGreaterThan(0)
    await screenshot(page, '08-attribution')

    await page.click('button:text("Value")')
    await page.waitForSelector('button[aria-pressed="true"]:text("Value")')
    await page.click('.segmented button:text("7 days")')
    await page.waitForURL((url) => url.searchParams.has('from'))
    const url = new URL(page.url())
    const days =
      (Date.parse(url.searchParams.get('to')!) - Date.parse(url.searchParams.get('from')!)) /
      86_400_000
    expect(days).toBe(6)
    await table.waitFor()
  })

  it('verifies the audit chain and filters the log by subject', async () => {
    await page.goto(`${stackUrl}/compliance/audit`)
    await page.waitForSelector('table.audit-table tbody tr')
    await page.click('button:text("Verify chain")')
    await page.waitForSelector('[data-verdict] .badge.ok:has-text("Chain intact")')
    await page.fill('input[placeholder="user-42"]', person.userId)
    await page.click('form[aria-label="Audit filters"] button[type="submit"]')
    await page.waitForURL((url) => url.searchParams.get('subject') === person.userId)
    await page.waitForSelector('.audit-results[aria-busy="false"]')
    await page.waitForSelector('table.audit-table td:text("GET /api/contacts/{id}")')
    const actions = await page.locator('table.audit-table tbody td:nth-child(4)').allTextContents()
    expect(actions.length).toBeGreaterThan(0)
    // Every row is about this person: reads of the profile, timeline and consent ledger.
    expect(actions.filter((a) => !a.startsWith('GET /api/contacts/{id}'))).toEqual([])
    await screenshot(page, '09-compliance-audit')
  })

  it('erases a contact from the compliance center, naming what will go, and it is gone', async () => {
    await page.goto(`${stackUrl}/compliance/erasures`)
    await page.click('text=New erasure…')
    await page.waitForURL(`${stackUrl}/compliance/erasures/new`)
    await page.fill('#erasure-value', doomed.userId)
    await page.click('button:text("Review erasure…")')
    const dialog = page.locator('dialog[open]')
    await dialog.waitFor()
    const named = (await dialog.textContent()) ?? ''
    expect(named).toContain(doomed.userId)
    expect(named).toContain(doomed.email)
    expect(named).toMatch(/2 events/)
    await screenshot(page, '10-erasure-confirm')
    await dialog.locator('button:text("Erase permanently")').click()

    await page.waitForURL(/\/compliance\/erasures\/(?!new)[^/]+$/)
    await page.waitForSelector('.badge.ok:text("completed")', { timeout: 30_000 })
    await page.waitForSelector('table[data-receipt] tbody tr')
    expect(await page.textContent('[data-receipt-summary]')).toMatch(
      /^Erased 1 contact holding \d+ identifiers from every store\.$/,
    )
    await screenshot(page, '11-erasure-receipt')

    await page.goto(`${stackUrl}/contacts?q=${encodeURIComponent(doomed.userId)}`)
    await page.waitForSelector(`text=No contact matches “${doomed.userId}”`)
    await page.goto(`${stackUrl}/contacts/${doomed.userId}`)
    await page.waitForSelector('text=No such contact')
    await page.goto(`${stackUrl}/compliance/erasures`)
    await page.waitForSelector('table tbody tr .badge:text("completed")')
    await screenshot(page, '12-compliance-erasures')
  })

  it('downloads a DSAR export and shows consent totals per purpose', async () => {
    await page.goto(`${stackUrl}/compliance/export`)
    await page.fill('#export-id', person.userId)
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('button:text("Download export")'),
    ])
    const file = await download.path()
    const exported = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
    expect(JSON.stringify(exported)).toContain(person.email)
    await page.waitForSelector('text=Downloaded')
    await screenshot(page, '13-compliance-export')

    await page.click('.tabs >> text=Consent')
    await page.waitForSelector('table.consent-totals tbody tr')
    const analytics = page.locator('table.consent-totals tr:has(th:text("analytics")) td').first()
    expect(Number((await analytics.textContent())!.replace(/\D/g, ''))).toBeGreaterThan(0)
    await screenshot(page, '14-compliance-consent')
  })

  it('manages sources, write keys with their snippet, secret keys and retention', async () => {
    await page.goto(`${stackUrl}/settings/sources`)
    const card = page.locator(`section[aria-label="Source Console e2e ${run}"]`)
    await card.waitFor()
    expect(await card.locator('pre').textContent()).toBe(
      `<script defer src="${stackUrl}/t.js" data-write-key="${writeKey}"></script>`,
    )
    await screenshot(page, '15-settings-sources')

    await page.click('.tabs >> text=Secret keys')
    await page.fill('form[aria-label="New secret key"] input', `Marketer ${run}`)
    await page.selectOption('form[aria-label="New secret key"] select', 'marketer')
    await page.click('button:text("Create key")')
    marketerKey = (await page.locator('[data-secret]').textContent()) ?? undefined
    expect(marketerKey).toMatch(/^sk_/)
    await page.waitForSelector(`section[aria-label="marketer keys"] td:text("Marketer ${run}")`)
    await screenshot(page, '16-settings-keys')
    await page.click('button:text("Done")')

    await page.click('.tabs >> text=Retention')
    await page.waitForSelector('input[type="number"]')
    await screenshot(page, '17-settings-retention')
  })

  it('keeps a marketer out of the compliance center', async () => {
    expect(marketerKey).toBeDefined()
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const marketer = await context.newPage()
    await marketer.goto(`${stackUrl}/compliance`)
    await logIn(marketer, marketerKey!)
    await marketer.waitForSelector('[data-forbidden="compliance"]')
    expect(new URL(marketer.url()).pathname).toBe('/compliance')
    const nav = await marketer.locator('nav[aria-label="Main"] a').allTextContents()
    expect(nav).not.toContain('Compliance')
    expect(nav).toContain('Overview')
    // The server agrees: the session may not read erasures or the audit log.
    const statuses = await marketer.evaluate(async () =>
      Promise.all(['/api/privacy/erasure', '/api/audit'].map(async (p) => (await fetch(p)).status)),
    )
    expect(statuses).toEqual([403, 403])
    await screenshot(marketer, '18-marketer-forbidden')
    await context.close()
  })

  it('sends the person back to log in when the session ends, then returns to the screen', async () => {
    await page.goto(`${stackUrl}/contacts`)
    await page.waitForSelector('table.contacts-table')
    // End the session on the server, as expiry would: the browser's cookie no longer opens it.
    const cookie = (await admin.cookies()).find((c) => c.name === 'cairn_session')!
    const headers = { Cookie: `cairn_session=${cookie.value}` }
    const current = (await (await fetch(`${stackUrl}/api/session`, { headers })).json()) as {
      csrfToken: string
    }
    const ended = await fetch(`${stackUrl}/api/session`, {
      method: 'DELETE',
      headers: { ...headers, 'X-CSRF-Token': current.csrfToken },
    })
    expect(ended.status).toBe(204)

    await page.click('nav[aria-label="Main"] >> text=Overview')
    await page.waitForSelector('text=Your session has ended. Log in again to continue.')
    await page.waitForURL((url) => url.pathname === '/login')
    expect(new URL(page.url()).searchParams.get('next')).toBe('/overview')
    await logIn(page, adminKey)
    await page.waitForSelector('[data-kpi="events"]')
    expect(new URL(page.url()).pathname).toBe('/overview')
  })

  it('logs out', async () => {
    await page.goto(`${stackUrl}/overview`)
    await page.click('button:text("Log out")')
    await page.waitForSelector('#login-key')
    await page.reload()
    await page.waitForSelector('#login-key')
    expect((await admin.cookies()).some((c) => c.name === 'cairn_session')).toBe(false)
  })
})
