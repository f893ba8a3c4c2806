import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../test/support/browser.ts'
import { adminKey, eventually, ingest, logIn, management, screenshot, stackUrl } from './support.ts'

/**
 * The Templates screen in Chromium against the local stack: a template written in the editor,
 * previewed live for a real contact, saved and sent as a test through the `log` provider. The
 * tests share one logged-in admin page and run in order (logging in is rate limited per IP).
 */
const run = Date.now().toString(36)
const ada = { userId: `ada-${run}`, email: `ada.${run}@example.com`, firstName: 'Ada' }
/** Markup in a trait: escaped in the HTML part, and never markup in the console. */
const XSS = `<img src=x onerror="window.__xss=1">`
const name = `Welcome ${run}`
const id = `welcome-${run}`
const subject = 'Hello {{ contact.traits.firstName }}'
const html = `<h1 id="greeting-${run}">Hi {{ contact.traits.firstName }}!</h1>
<p>Nickname: {{ contact.traits.nickname }}</p>
<script>document.body.dataset.ran = 'yes'</script>`

/** The preview waits for typing to pause, then the API renders and the frame loads. */
const POLL = { timeout: 10_000 }

let browser: Browser
let page: Page

const form = () => page.locator('form[aria-label="Template"]')
const field = (label: string) => form().locator(`label[data-field="${label}"]`)
const preview = () => page.locator('section[data-preview]')

beforeAll(async () => {
  browser = await launchChromium()
  const source = await management<{ writeKey: string }>('/api/sources', {
    method: 'POST',
    body: { name: `Templates e2e ${run}` },
  })
  expect(source.status).toBe(201)
  await ingest(source.body.writeKey, '/v1/identify', {
    userId: ada.userId,
    traits: { email: ada.email, firstName: ada.firstName, nickname: XSS },
  })
  // The picker searches D1's contacts, which the queue consumer writes a moment later.
  await eventually(async () => {
    const found = await management<{ items: { key: string }[] }>(
      `/api/contacts?q=${encodeURIComponent(ada.userId)}`,
    )
    return found.body.items?.some((contact) => contact.key === ada.userId)
  })
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  page = await context.newPage()
}, 120_000)

afterAll(async () => {
  await browser?.close()
})

describe('the Templates screen', () => {
  it('writes a template whose preview renders a chosen contact live', async () => {
    await page.goto(`${stackUrl}/templates`)
    await logIn(page, adminKey)
    await page.waitForSelector('h1:text-is("Templates")')
    await page.click('a:text-is("New template")')
    await page.waitForURL(`${stackUrl}/templates/new`)
    expect(await preview().locator('[data-preview-blocked]').textContent()).toMatch(
      /Choose a contact/,
    )

    await field('name').locator('input').fill(name)
    await field('kind').locator('select').selectOption('transactional')
    await field('subject').locator('input').fill(subject)
    await field('html').locator('textarea').fill(html)

    await page.fill('[data-contact-picker] input[type="search"]', ada.userId)
    await page.click(`[data-contact-picker] button[data-contact="${ada.userId}"]`)
    await page.waitForURL((url) => url.searchParams.get('contact') === ada.userId)
    expect(await page.textContent('[data-chosen-contact]')).toBe(ada.userId)

    // Rendered by the API from the unsaved draft, with the contact's traits.
    await page.waitForSelector('[data-preview-subject]:text-is("Hello Ada")')
    const frame = preview().locator('iframe')
    expect(await frame.getAttribute('sandbox')).toBe('')
    const inside = page.frameLocator('section[data-preview] iframe')
    await expect.poll(() => inside.locator(`#greeting-${run}`).textContent(), POLL).toBe('Hi Ada!')
    // The email lives in its own document: not in the console's, its script never ran, and the
    // markup in the trait arrived as text.
    expect(await page.locator(`#greeting-${run}`).count()).toBe(0)
    expect(await inside.locator('body').getAttribute('data-ran')).toBeNull()
    expect(await inside.locator('p').textContent()).toBe(`Nickname: ${XSS}`)
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined()
    expect(await page.textContent('[data-preview-text]')).toContain('HI ADA!')
    expect(await page.textContent('[data-save-state]')).toBe('Unsaved changes')
    await screenshot(page, '51-template-editor')
  })

  it('reports a Liquid syntax error with its place, then renders again once fixed', async () => {
    await field('html')
      .locator('textarea')
      .fill(`<p>Fine</p>\n<p>Hi {{ contact.traits.firstName </p>`)
    const error = preview().locator('[data-preview-error]')
    await error.waitFor()
    expect(await error.textContent()).toMatch(/^Liquid error.*html.*line 2/)
    expect(await field('html').locator('[data-field-error="html"]').textContent()).toMatch(
      /line 2, column \d+/,
    )
    expect(await field('html').locator('textarea').getAttribute('aria-invalid')).toBe('true')
    await screenshot(page, '52-template-preview-error')

    await field('html').locator('textarea').fill(html)
    await expect
      .poll(
        () =>
          page
            .frameLocator('section[data-preview] iframe')
            .locator(`#greeting-${run}`)
            .textContent(),
        POLL,
      )
      .toBe('Hi Ada!')
    expect(await preview().locator('[data-preview-error]').count()).toBe(0)
    expect(await field('html').locator('[data-field-error]').count()).toBe(0)
  })

  it('saves the template, keeping the chosen contact', async () => {
    await page.click('form[aria-label="Template"] button[type="submit"]')
    await page.waitForURL(`${stackUrl}/templates/${id}?contact=${ada.userId}`)
    await page.waitForSelector(`h1:text-is("${name}")`)
    expect(await page.textContent('[data-save-state]')).toMatch(/^Saved /)
    const stored = await management<{ subject: string; kind: string; html: string }>(
      `/api/templates/${id}`,
    )
    expect(stored.body).toMatchObject({ subject, kind: 'transactional', html })
    await page.waitForSelector('[data-preview-subject]:text-is("Hello Ada")')
  })

  it('shows a refused save at the field it concerns', async () => {
    // A second template of the same name would take the same id: the API refuses it.
    await page.goto(`${stackUrl}/templates/new?contact=${ada.userId}`)
    await page.waitForSelector('h1:text-is("New template")')
    await field('name').locator('input').fill(name)
    await field('subject').locator('input').fill('Another')
    await field('html').locator('textarea').fill('<p>Another</p>')
    await page.click('form[aria-label="Template"] button[type="submit"]')
    const error = field('name').locator('[data-field-error="name"]')
    await error.waitFor()
    expect(await error.textContent()).toBe(`There is already a template ${id}`)
    expect(await field('name').locator('input').getAttribute('aria-invalid')).toBe('true')
    expect(page.url()).toBe(`${stackUrl}/templates/new?contact=${ada.userId}`)

    await page.goto(`${stackUrl}/templates/${id}?contact=${ada.userId}`)
    await page.waitForSelector(`h1:text-is("${name}")`)
    await page.waitForSelector('[data-preview-subject]:text-is("Hello Ada")')
  })

  it('sends a test to the chosen contact and links to the message', async () => {
    await page.click(`button:text-is("Send to ${ada.userId}")`)
    const result = page.locator('[data-test-send]')
    await result.waitFor()
    const messageId = (await result.getAttribute('data-test-send'))!
    expect(await result.locator('.badge').textContent()).toMatch(/^(queued|sent)$/)
    await eventually(async () => {
      const message = await management<{ status: string }>(`/api/messages/${messageId}`)
      return message.body.status === 'sent'
    })
    await result.locator('a').click()
    await page.waitForURL(`${stackUrl}/messages/${messageId}`)
    await page.waitForSelector('h1:text-is("Hello Ada")')
    expect(await page.locator('table[data-attempts] td:text-is("log")').count()).toBe(1)
    await expect
      .poll(
        () => page.frameLocator('iframe.email-html').locator(`#greeting-${run}`).textContent(),
        POLL,
      )
      .toBe('Hi Ada!')

    // In the log too, found with the template filter.
    await page.goto(`${stackUrl}/messages?template=${id}`)
    await page.waitForSelector(`table.messages-table tr[data-message="${messageId}"]`)
    expect(await page.locator('table.messages-table tbody tr').count()).toBe(1)
  })

  it('lists templates with kind, subject and when they changed', async () => {
    await page.goto(`${stackUrl}/templates`)
    await page.waitForSelector('.template-results[aria-busy="false"]')
    const row = page.locator(`table.templates-table tr[data-template="${id}"]`)
    await row.waitFor()
    const cells = await row.locator('td').allTextContents()
    expect(cells.slice(0, 4)).toEqual([name, id, 'transactional', subject])
    await screenshot(page, '50-templates')
    await row.locator('a').click()
    await page.waitForURL(`${stackUrl}/templates/${id}`)
    await page.waitForSelector(`h1:text-is("${name}")`)
    expect(await preview().locator('[data-preview-blocked]').textContent()).toMatch(
      /Choose a contact/,
    )
  })

  it('asks Workers AI for subjects, saying plainly when it is not bound', async () => {
    await page.click('button:text-is("Suggest subjects")')
    const unavailable = page.locator('[data-suggestions-unavailable]')
    const suggestions = page.locator('[data-suggestions]')
    await unavailable.or(suggestions).waitFor()
    if (await unavailable.count()) {
      expect(await unavailable.textContent()).toMatch(/Workers AI/)
    } else {
      expect(await suggestions.locator('li').count()).toBeGreaterThan(0)
    }
  })

  it('deletes the template after a confirmation', async () => {
    await page.click('button:text-is("Delete…")')
    await page.click('form[aria-label="Template"] button.danger:text-is("Delete")')
    await page.waitForURL(`${stackUrl}/templates`)
    expect((await management(`/api/templates/${id}`)).status).toBe(404)
    await page.waitForSelector('h1:text-is("Templates")')
    await page.waitForSelector('.template-results[aria-busy="false"]')
    expect(await page.locator(`tr[data-template="${id}"]`).count()).toBe(0)
  })
})
