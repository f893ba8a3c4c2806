import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KpiReport } from '../../contracts/kpis'
import { seedDemo } from '../../scripts/seed.ts'
import { launchChromium } from '../../test/support/browser.ts'
import { adminKey, eventually, ingest, logIn, management, screenshot, stackUrl } from './support.ts'

/**
 * The KPIs screen in Chromium against the local stack: demo traffic (sign-ups and orders), a few
 * events of our own, then spend imported through the API and through the screen. One logged-in
 * admin page shared by the tests, in order (logging in is rate limited per IP).
 */
const run = Date.now().toString(36)
const trialEvent = `Trial Started ${run}`
const money = new Intl.NumberFormat('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

let browser: Browser
let page: Page

async function kpisNow(): Promise<KpiReport> {
  const answer = await management<KpiReport>('/api/insights/kpis')
  expect(answer.status).toBe(200)
  return answer.body
}

const card = (id: string) => page.locator(`section[data-kpi="${id}"]`)

beforeAll(async () => {
  browser = await launchChromium()
  // Conversions are credited at ingest, so the definition comes before the data.
  const defined = await management('/api/attribution/conversions', {
    method: 'POST',
    body: { name: `Order (${run})`, eventName: 'Order Completed', valueProperty: 'revenue' },
  })
  expect(defined.status).toBe(201)
  await seedDemo({ url: stackUrl, adminKey, visitors: 40, days: 14, predictions: false })
  const source = await management<{ writeKey: string }>('/api/sources', {
    method: 'POST',
    body: { name: `KPIs e2e ${run}` },
  })
  expect(source.status).toBe(201)
  const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString()
  // Two trials, one of which subscribes: the events the settings test names.
  await ingest(source.body.writeKey, '/v1/batch', {
    batch: [
      { type: 'track', userId: `trial-a-${run}`, event: trialEvent, timestamp: at(30) },
      { type: 'track', userId: `trial-b-${run}`, event: trialEvent, timestamp: at(29) },
      {
        type: 'track',
        userId: `trial-a-${run}`,
        event: `Subscribed ${run}`,
        properties: { revenue: 49 },
        timestamp: at(20),
      },
    ],
  })
  await eventually(async () => {
    const report = await kpisNow()
    const customers = report.kpis.find((k) => k.id === 'cac')?.inputs.newCustomers ?? 0
    return customers > 0
  })
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  page = await context.newPage()
}, 180_000)

afterAll(async () => {
  await browser?.close()
})

describe('the KPIs screen', () => {
  it('shows each KPI with its definition; CAC waits for spend, then appears', async () => {
    await page.goto(`${stackUrl}/kpis`)
    await logIn(page, adminKey)
    await card('cac').waitFor()
    const nav = await page.locator('nav[aria-label="Main"] a').allTextContents()
    expect(nav).toContain('KPIs')

    const ids = await page
      .locator('.kpi-grid section[data-kpi]')
      .evaluateAll((sections) => sections.map((s) => s.getAttribute('data-kpi')))
    expect(ids).toEqual([
      'marketing_revenue_share',
      'lead_conversion_rate',
      'engagement_rate',
      'churn_rate',
      'ltv',
      'cac',
      'ltv_cac',
    ])
    expect(await card('cac').locator('[data-value]').textContent()).toBe('—')
    expect(await card('cac').locator('[data-reason]').textContent()).toBe(
      'no spend imported (POST /api/spend)',
    )
    expect(await card('ltv_cac').locator('[data-reason]').textContent()).toMatch(
      /^no CAC: no spend imported/,
    )
    expect(await card('lead_conversion_rate').locator('.kpi-definition').textContent()).toContain(
      'Of the contacts whose first "Signed Up" falls in the period',
    )
    // Every figure the screen shows is the API's.
    const before = await kpisNow()
    const leads = before.kpis.find((k) => k.id === 'lead_conversion_rate')!
    expect(leads.inputs.leads).toBeGreaterThan(0)
    expect(await card('lead_conversion_rate').locator('.kpi-inputs').textContent()).toContain(
      `new leads ${leads.inputs.leads}`,
    )

    const today = new Date().toISOString().slice(0, 10)
    const imported = await management('/api/spend', {
      method: 'POST',
      body: {
        rows: [
          { channel: 'paid_search', day: today, amount: 300, currency: 'EUR' },
          { channel: 'email', day: today, amount: 60, currency: 'EUR' },
        ],
      },
    })
    expect(imported.status).toBe(200)
    await page.click('button:text-is("Refresh")')
    const after = await kpisNow()
    const cac = after.kpis.find((k) => k.id === 'cac')!
    expect(cac.value).toBeCloseTo(360 / cac.inputs.newCustomers!, 9)
    await expect
      .poll(() => card('cac').locator('[data-value]').textContent())
      .toBe(`EUR ${money.format(cac.value!)}`)
    expect(await card('cac').locator('[data-reason]').count()).toBe(0)
    const ratio = after.kpis.find((k) => k.id === 'ltv_cac')!
    // LTV:CAC needs a CLV too: with one it is a figure, without one the reason says so.
    if (ratio.value === null) {
      expect(await card('ltv_cac').locator('[data-reason]').textContent()).toBe(
        'no CLV predicted yet',
      )
    } else {
      expect(await card('ltv_cac').locator('[data-value]').textContent()).toMatch(/×$/)
    }
    await screenshot(page, '70-kpis')
  })

  it('imports pasted CSV, naming each bad line, and shows what is kept', async () => {
    await page.click('nav[aria-label="KPI sections"] a:text-is("Spend")')
    await page.waitForURL(`${stackUrl}/kpis/spend`)
    const csv = page.locator('textarea.spend-csv')
    await csv.fill('channel,day,amount\npaid-search,2026-01-01,10\nemail,2026-02-30,"1,000"\n')
    await page.click('button:text-is("Import")')
    const issues = page.locator('table.spend-issues tbody tr')
    await issues.first().waitFor()
    expect(await issues.locator('td:first-child').allTextContents()).toEqual([
      'line 2: channel',
      'line 3: day',
      'line 3: amount',
    ])
    expect(await page.locator('.spend-errors').textContent()).toContain('Known channels: ')
    await screenshot(page, '71-kpis-spend-errors')

    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)
    await csv.fill(`channel,day,amount,currency\npaid_social,${yesterday},40,EUR\n`)
    await page.click('button:text-is("Import")')
    await expect
      .poll(() => page.locator('[data-import-result]').textContent())
      .toContain('Stored 1 channel-days from 1 rows (0 replaced)')
    expect(await page.locator('table.spend-issues').count()).toBe(0)
    await page.locator('table[aria-label="Spend per channel"] td:text-is("paid_social")').waitFor()
    const channels = await page
      .locator('table[aria-label="Spend per channel"] tbody td:first-child')
      .allTextContents()
    expect(channels).toEqual(['email', 'paid_search', 'paid_social'])
  })

  it('changes the events the KPIs count, and the figures follow', async () => {
    await page.click('nav[aria-label="KPI sections"] a:text-is("Settings")')
    await page.waitForURL(`${stackUrl}/kpis/settings`)
    await page.fill('label:has-text("Lead event") input', trialEvent)
    await page.fill('label:has-text("Customer event") input', `Subscribed ${run}`)
    await page.click('button:text-is("Save")')
    await page.waitForSelector('text=Saved; the KPIs use these events now.')
    await screenshot(page, '72-kpis-settings')

    await page.click('nav[aria-label="KPI sections"] a:text-is("KPIs")')
    await card('lead_conversion_rate').waitFor()
    await expect
      .poll(() => card('lead_conversion_rate').locator('.kpi-definition').textContent())
      .toContain(`first "${trialEvent}"`)
    // One of the two trials subscribed.
    expect(await card('lead_conversion_rate').locator('[data-value]').textContent()).toBe('50%')
    // One new customer now: all the spend (400) is hers.
    expect(await card('cac').locator('[data-value]').textContent()).toBe(`EUR ${money.format(400)}`)
    expect(await page.locator('.kpi-period').textContent()).toContain(`lead “${trialEvent}”`)
  })

  it('keeps the period in the URL and loads it again', async () => {
    const from = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10)
    const to = new Date().toISOString().slice(0, 10)
    await page.goto(`${stackUrl}/kpis?from=${from}&to=${to}`)
    await card('cac').waitFor()
    expect(await page.locator('button[aria-pressed="true"]').textContent()).toBe('7 days')
    await page.reload()
    await card('cac').waitFor()
    expect(await page.inputValue('form[aria-label="Period"] input[type="date"] >> nth=0')).toBe(
      from,
    )
    const shown = await kpisNow()
    expect(shown.to).toBe(to)
  })
})
