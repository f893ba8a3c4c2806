import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../test/support/browser.ts'
import { adminKey, eventually, ingest, logIn, management, screenshot, stackUrl } from './support.ts'

/**
 * The contact profile's automation tabs in Chromium against the local stack: a contact in a
 * segment (a trait rule) and in two journeys entered through the API, one still waiting and one
 * finished. The tests share one logged-in admin page and run in order.
 */
const run = Date.now().toString(36)
/** Markup in names, which must stay text. */
const XSS = `<img src=x onerror="window.__xss=1">`
const person = `auto-${run}`
const plan = `pro-${run}`

let browser: Browser
let page: Page
let segment: { id: string; name: string }
let waiting: { id: string; name: string }
let finished: { id: string; name: string }

async function created<T>(path: string, body: unknown, method = 'POST'): Promise<T> {
  const answer = await management<T>(path, { method, body })
  expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300)
  return answer.body
}

/** A live journey with an API entry and these nodes, starting at the first. */
async function liveJourney(name: string, nodes: Record<string, unknown>) {
  const journey = await created<{ id: string; name: string }>('/api/journeys', { name })
  const { version } = await created<{ version: number }>(`/api/journeys/${journey.id}/versions`, {
    definition: { entry: { api: true }, start: Object.keys(nodes)[0], nodes },
  })
  await created(`/api/journeys/${journey.id}/publish`, { version })
  return journey
}

interface Run {
  journeyId: string
  state: string
  steps: { node: string }[]
}

beforeAll(async () => {
  browser = await launchChromium()
  const source = await created<{ writeKey: string }>('/api/sources', {
    name: `Contact automation e2e ${run}`,
  })
  await ingest(source.writeKey, '/v1/identify', {
    userId: person,
    traits: { email: `${person}@example.com`, name: 'Grace', plan },
  })
  // The segment's backfill walks the contacts in D1: the contact must be there first.
  await eventually(async () => {
    const found = await management<{ items: { key: string }[] }>(`/api/contacts?q=${person}`)
    return found.body.items?.some((c) => c.key === person)
  })

  segment = await created('/api/segments', {
    name: `Pro plan ${run} ${XSS}`,
    rule: { trait: 'plan', op: 'eq', value: plan },
  })
  await eventually(async () => {
    const profile = await management<{ segments: string[] }>(`/api/contacts/${person}`)
    return profile.body.segments?.includes(segment.id)
  }, 30_000)

  waiting = await liveJourney(`Onboarding ${run}`, {
    tag: { type: 'updateTraits', traits: { onboarding: 'started' }, next: 'pause' },
    pause: { type: 'wait', for: { days: 1 }, next: 'done' },
    done: { type: 'exit' },
  })
  finished = await liveJourney(`Thanks ${run}`, {
    note: { type: 'track', event: 'Thanked', next: 'done' },
    done: { type: 'exit' },
  })
  for (const journey of [finished, waiting]) {
    await created(`/api/journeys/${journey.id}/enter`, { contactId: person })
  }
  await eventually(async () => {
    const answer = await management<{ runs: Run[] }>(`/api/contacts/${person}/journeys`)
    const byJourney = new Map(answer.body.runs?.map((r) => [r.journeyId, r]))
    return (
      byJourney.get(waiting.id)?.state === 'active' &&
      byJourney.get(finished.id)?.state === 'completed'
    )
  }, 30_000)

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  page = await context.newPage()
}, 180_000)

afterAll(async () => {
  await browser?.close()
})

describe("the contact's automation tabs", () => {
  it('lists the segments the contact is in, since when, linked to each segment', async () => {
    await page.goto(`${stackUrl}/contacts/${person}/segments`)
    await logIn(page, adminKey)
    const row = page.locator(`table[data-contact-segments] tr[data-segment="${segment.id}"]`)
    // The name arrives with the segment list; until then the id stands in.
    await row.locator(`a:has-text("Pro plan ${run}")`).waitFor()
    expect(
      await page.locator('nav[aria-label="Contact sections"] a[aria-current="page"]').textContent(),
    ).toBe('Segments')
    const cells = await row.locator('td').allTextContents()
    expect(cells.slice(0, 2)).toEqual([`Pro plan ${run} ${XSS}`, segment.id])
    expect(cells[2]).toMatch(/\d{2} \w{3} \d{4}/)
    expect(await page.locator('img[src="x"]').count()).toBe(0)
    expect(await row.locator('a').getAttribute('href')).toBe(`/segments/${segment.id}`)
    await screenshot(page, '65-contact-segments')
  })

  it('lists the journey runs, newest first, each with its step log', async () => {
    await page.click('nav[aria-label="Contact sections"] a:text-is("Journeys")')
    await page.waitForURL(`${stackUrl}/contacts/${person}/journeys`)
    const active = page.locator(`details[data-run]:has(a[href="/journeys/${waiting.id}"])`)
    await active.waitFor()
    const runs = page.locator('[data-journey-runs] > details')
    expect(await runs.count()).toBe(2)
    // Entered second, so listed first.
    expect(await runs.first().locator('summary strong').textContent()).toBe(`Onboarding ${run}`)

    expect(await active.locator('summary .badge').first().textContent()).toBe('active')
    const stepsOf = (details: typeof active) =>
      details.locator('table[data-steps] tbody tr').evaluateAll((rows) =>
        rows.map((r) => {
          const [at, node, type, outcome, next] = Array.from(
            r.querySelectorAll('td'),
            (td) => td.textContent ?? '',
          )
          return { at, node, type, outcome, next }
        }),
      )
    // Oldest first: the entry, each node it ran, and the wait it is in.
    const steps = await stepsOf(active)
    expect(steps[0]).toMatchObject({ node: 'tag', outcome: 'entered version 1' })
    expect(steps).toContainEqual(
      expect.objectContaining({ node: 'tag', type: 'updateTraits', next: 'pause' }),
    )
    expect(steps.at(-1)).toMatchObject({ node: 'pause', type: 'wait' })
    expect(steps.every((step) => /\d{2} \w{3} \d{4}/.test(step.at ?? ''))).toBe(true)
    expect(await active.locator('dt:text-is("Waiting at") + dd').textContent()).toBe('pause')

    const done = page.locator(`details[data-run]:has(a[href="/journeys/${finished.id}"])`)
    expect(await done.locator('summary .badge').first().textContent()).toBe('completed')
    expect(await done.locator('summary').textContent()).toContain('ended')
    const last = (await stepsOf(done)).at(-1)
    expect(last).toMatchObject({ node: 'done', type: 'exit' })
    expect(last?.outcome ?? '').toMatch(/^completed/)
    await screenshot(page, '66-contact-journeys')

    // The tab is in the URL: a reload opens it again.
    await page.reload()
    await active.locator('table[data-steps]').waitFor()
  })

  it('opens the predictions tab by its link', async () => {
    await page.goto(`${stackUrl}/contacts/${person}/predictions`)
    const risk = page.locator('table[data-contact-predictions] td[data-figure="Churn risk"]')
    await risk.waitFor()
    expect(await risk.textContent()).toMatch(/^\d+(\.\d)?%$/)
    // Never bought: the purchase model says nothing of this contact, fitted or not.
    expect(await page.locator('[data-no-fit], [data-no-purchase]').count()).toBe(1)
    const pAlive = page.locator('table[data-contact-predictions] td[data-figure="P(alive)"]')
    expect(await pAlive.textContent()).toBe('—')
  })
})
