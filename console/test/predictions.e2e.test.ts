import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../test/support/browser.ts'
import { adminKey, eventually, ingest, logIn, management, screenshot, stackUrl } from './support.ts'

/**
 * The Predictions screen in Chromium against the local stack: thirty purchasers with purchase
 * days spread over ten months, a refit asked for in the console, the fitted parameters, the
 * at-risk list page by page and a contact's predictions tab. The tests share one logged-in admin
 * page and run in order (logging in is rate limited per IP).
 */
const run = Date.now().toString(36)
const DAY_MS = 86_400_000
const buyers: string[] = []
const purchases = new Map<string, number>()

const winBack = {
  id: 'win-back',
  name: 'Win-back offer',
  goalEvent: 'Order Completed',
  windowDays: 14,
  priorRate: 0.2,
}

let browser: Browser
let page: Page

interface Model {
  fittedAt: string
  customers: number
  bgnbd: { r: number; alpha: number; a: number; b: number }
  gammaGamma: { p: number; q: number; gamma: number } | null
}

interface AtRisk {
  contactId: string
  value: number
  churnRisk: number
  lapseRisk: number | null
  engagement: number | null
}

async function created<T>(path: string, body: unknown, method = 'POST'): Promise<T> {
  const answer = await management<T>(path, { method, body })
  expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300)
  return answer.body
}

beforeAll(async () => {
  browser = await launchChromium()
  const source = await created<{ writeKey: string }>('/api/sources', {
    name: `Predictions e2e ${run}`,
  })
  // As the API's own test: first purchases 20 to 310 days ago, 0 to 4 repeat purchases a week
  // apart, worth more the later the customer; 24 repeat buyers, enough for the Gamma-Gamma.
  const events = []
  for (let i = 0; i < 30; i++) {
    const userId = `buyer-${run}-${String(i).padStart(2, '0')}`
    const first = 20 + 10 * i
    const days = Array.from({ length: (i % 5) + 1 }, (_, k) => first - 7 * k)
    for (const ago of days) {
      events.push({
        type: 'track',
        userId,
        event: 'Order Completed',
        properties: { revenue: 20 + i },
        timestamp: new Date(Date.now() - ago * DAY_MS).toISOString(),
      })
    }
    buyers.push(userId)
    purchases.set(userId, days.length)
  }
  for (let start = 0; start < events.length; start += 30) {
    await ingest(source.writeKey, '/v1/batch', { batch: events.slice(start, start + 30) })
  }
  // The fit reads purchases from D1: wait until every buyer's events are there.
  await eventually(async () => {
    const found = await management<{ items: { key: string; eventCount: number }[] }>(
      `/api/contacts?q=buyer-${run}&limit=100`,
    )
    const counts = new Map(found.body.items?.map((c) => [c.key, c.eventCount]))
    return buyers.every((b) => counts.get(b) === purchases.get(b))
  }, 60_000)

  // A minute after a purchase each contact's object writes its scores to D1, the at-risk list's
  // source. With the threshold at 0 every buyer is listed: once all thirty have an engagement
  // there, no such write can reorder the list under the tests.
  const settings = await management<{ atRiskThreshold: number }>('/api/predictions/settings')
  await created('/api/predictions/settings', { ...settings.body, atRiskThreshold: 0 }, 'PUT')
  await eventually(async () => {
    const listed = await management<{ items: AtRisk[] }>('/api/predictions/at-risk?limit=1000')
    const projected = listed.body.items?.filter(
      (r) => buyers.includes(r.contactId) && r.engagement !== null,
    )
    return projected?.length === buyers.length
  }, 150_000)
  await created('/api/predictions/settings', settings.body, 'PUT')

  // One candidate action for everyone, so next best action has something to choose.
  await created('/api/predictions/actions', [winBack], 'PUT')
  // One success counted: the screen shows it and the rate it teaches.
  await created('/api/predictions/actions/win-back/outcomes', {
    contactId: buyers[0],
    success: true,
  })

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  page = await context.newPage()
}, 240_000)

afterAll(async () => {
  await browser?.close()
})

describe('the Predictions screen', () => {
  it('refits the model on request and shows its parameters and when it was fitted', async () => {
    expect((await management('/api/predictions/model')).status).toBe(404)
    await page.goto(`${stackUrl}/predictions/model`)
    await logIn(page, adminKey)
    await page.locator('[data-no-fit]').waitFor()
    expect(await page.locator('nav[aria-label="Main"] a[aria-current="page"]').textContent()).toBe(
      'Predictions',
    )

    await page.click('button:text-is("Refit now")')
    await page.locator('[data-refit="waiting"]').waitFor()
    await page.locator('[data-refit="done"]').waitFor({ timeout: 60_000 })

    const model = (await management<Model>('/api/predictions/model')).body
    expect(model.customers).toBeGreaterThanOrEqual(buyers.length)
    expect(model.gammaGamma).not.toBeNull()
    const shown = async (name: string) =>
      Number(await page.locator(`[data-param="${name}"]`).textContent())
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      const value = await shown(name)
      expect(value, name).toBeGreaterThan(0)
      expect(Math.abs(value / model.bgnbd[name] - 1), name).toBeLessThan(1e-3)
    }
    for (const name of ['p', 'q', 'gamma'] as const) {
      expect(Math.abs((await shown(name)) / model.gammaGamma![name] - 1), name).toBeLessThan(1e-3)
    }
    expect(await page.textContent('[data-customers]')).toBe(String(model.customers))
    const fittedAt = (await page.textContent('[data-fitted-at]')) ?? ''
    expect(fittedAt).toMatch(/\d{2} \w{3} \d{4}, \d{2}:\d{2}:\d{2}/)
    expect(await page.textContent('[data-refit="done"]')).toBe(`Fitted ${fittedAt}.`)
    expect(await page.textContent('[data-log-likelihood]')).toMatch(/^-[\d,.]+$/)
    const action = await page
      .locator('table[data-actions] tr[data-action="win-back"] td')
      .allTextContents()
    expect(action).toEqual([
      'Win-back offer win-back',
      'everyone',
      'Order Completed within 14 days',
      '20%',
      '1 of 1',
      // The 20% prior is Beta(3, 9); one success makes it Beta(4, 9): 4 / 13.
      '30.8%',
    ])
    await screenshot(page, '61-predictions-model')
  })

  it('lists the contacts at risk in the API’s order, page by page', async () => {
    const everyone: AtRisk[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''
      const answer = await management<{ items: AtRisk[]; cursor: string | null }>(
        `/api/predictions/at-risk?limit=1000${query}`,
      )
      everyone.push(...answer.body.items)
      cursor = answer.body.cursor
    } while (cursor)
    expect(everyone.filter((r) => buyers.includes(r.contactId)).length).toBeGreaterThan(10)

    // Pages of 10 instead of 50, so the real cursor is followed more than once.
    await page.route('**/api/predictions/at-risk*', (route) => {
      const url = new URL(route.request().url())
      url.searchParams.set('limit', '10')
      return route.continue({ url: url.toString() })
    })
    await page.click('nav[aria-label="Prediction sections"] a:text-is("At risk")')
    await page.waitForURL(`${stackUrl}/predictions`)
    const rows = page.locator('table.at-risk-table tbody tr')
    await rows.first().waitFor()
    expect(await rows.count()).toBe(Math.min(10, everyone.length))
    await screenshot(page, '60-predictions')
    while (await page.locator('.list-footer button:text-is("Load more")').count()) {
      const before = await rows.count()
      await page.click('.list-footer button:text-is("Load more")')
      await eventually(async () => (await rows.count()) > before)
    }
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-contact')))
    expect(shown).toEqual(everyone.map((r) => r.contactId))
    await page.unroute('**/api/predictions/at-risk*')

    const top = everyone[0]!
    const cells = await rows.first().locator('td').allTextContents()
    expect(cells[0]).toBe(top.contactId)
    expect(cells[2]).toBe(`${Math.round(top.churnRisk * 1000) / 10}%`)
    expect(cells[3]).toBe(
      top.lapseRisk === null ? '—' : `${Math.round(top.lapseRisk * 1000) / 10}%`,
    )
    expect(await page.textContent('[data-fit-line]')).toContain('Purchase model fitted')
  })

  it('follows a contact to its predictions tab, with the explanation asked for', async () => {
    const first = page.locator('table.at-risk-table tbody tr').first()
    const contactId = (await first.getAttribute('data-contact'))!
    await first.locator('td:first-child a').click()
    await page.waitForURL(`${stackUrl}/contacts/${contactId}/predictions`)
    await page.locator('table[data-contact-predictions]').waitFor()

    const scores = (
      await management<{
        pAlive: number
        clv: number
        churnRisk: number
        lapseRisk: number
        fittedAt: string
      }>(`/api/contacts/${contactId}/predictions`)
    ).body
    expect(scores.fittedAt).not.toBeNull()
    const figure = (label: string) =>
      page.textContent(`table[data-contact-predictions] td[data-figure="${label}"]`)
    expect(await figure('Churn risk')).toBe(`${Math.round(scores.churnRisk * 1000) / 10}%`)
    expect(await figure('P(alive)')).toBe(`${Math.round(scores.pAlive * 1000) / 10}%`)
    expect(await figure('Lapse risk, 90 days')).toBe(`${Math.round(scores.lapseRisk * 1000) / 10}%`)
    expect(Number((await figure('CLV'))?.replace(/,/g, ''))).toBeCloseTo(scores.clv, 1)
    expect(await figure('Fitted at')).not.toBe('—')
    expect(await page.textContent('[data-next-action]')).toBe('win-back')
    expect(await page.locator('[data-no-fit]').count()).toBe(0)

    await page.click('button:text-is("Explain this risk")')
    // The local stack binds no Workers AI: the rules answer, and the tab says so.
    const explanation = page.locator('[data-explanation="rules"]')
    await explanation.waitFor()
    expect(((await explanation.locator('p').first().textContent()) ?? '').length).toBeGreaterThan(
      20,
    )
    expect(await explanation.textContent()).toContain('Workers AI is not bound')
    await screenshot(page, '67-contact-predictions')
  })

  it('edits the settings, showing what the API refuses', async () => {
    await page.goto(`${stackUrl}/predictions/settings`)
    const form = page.locator('form.prediction-settings')
    await form.waitFor()
    expect(await form.locator('textarea[name="purchaseEvents"]').inputValue()).toBe(
      'Order Completed',
    )
    expect(await form.locator('input[name="thresholdPercent"]').inputValue()).toBe('50')

    await form.locator('input[name="valueProperty"]').fill('order total')
    await form.locator('button:text-is("Save")').click()
    const refused = form.locator('[role="alert"]')
    await refused.waitFor()
    expect(await refused.textContent()).toContain('valueProperty')
    await screenshot(page, '62-predictions-settings')

    await form.locator('input[name="valueProperty"]').fill('revenue')
    await form.locator('input[name="thresholdPercent"]').fill('90')
    await form.locator('button:text-is("Save")').click()
    await form.locator('[role="status"]:text-is("Saved.")').waitFor()
    expect(await form.locator('[role="alert"]').count()).toBe(0)
    const saved = await management<{ atRiskThreshold: number }>('/api/predictions/settings')
    expect(saved.body.atRiskThreshold).toBe(0.9)

    // The list follows the new threshold.
    await page.click('nav[aria-label="Prediction sections"] a:text-is("At risk")')
    await page.locator('.at-risk-intro :text("90% or more")').waitFor()
    await page.locator('table.at-risk-table, .state.empty').first().waitFor()
    const risks = await page.locator('table.at-risk-table tbody td:nth-child(3)').allTextContents()
    for (const risk of risks) expect(parseFloat(risk)).toBeGreaterThanOrEqual(90)

    await created('/api/predictions/settings', { ...saved.body, atRiskThreshold: 0.5 }, 'PUT')
  })
})
