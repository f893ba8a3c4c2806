import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../test/support/browser.ts'
import { adminKey, eventually, ingest, logIn, management, screenshot, stackUrl } from './support.ts'

/**
 * The Messages screen in Chromium against the local stack, whose default provider is `log`: the
 * emails it keeps are what the console shows. The tests share one logged-in admin page and run
 * in order (logging in is rate limited per IP).
 */
const run = Date.now().toString(36)
/** Untrusted data that would run script if rendered as markup. */
const XSS = `<img src=x onerror="window.__xss=1">`
/** A contact who agreed to marketing, whose name carries markup into every subject. */
const reader = { userId: `reader-${run}`, email: `reader.${run}@example.com` }
/** A contact who refused marketing: the offer is recorded as no_consent and never sent. */
const refuser = { userId: `refuser-${run}`, email: `refuser.${run}@example.com` }
const group = `e2e-news-${run}`

let browser: Browser
let admin: BrowserContext
let page: Page
let offer: { id: string }
let receipt: { id: string }
let refused: { id: string; status: string }
let receiptTemplate: string

async function created<T>(path: string, body: unknown, method = 'POST'): Promise<T> {
  const answer = await management<T>(path, { method, body })
  expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300)
  return answer.body
}

async function template(name: string, kind: string, subject: string, html: string) {
  return created<{ id: string }>('/api/templates', { name, kind, subject, html })
}

async function sendTo(contactId: string, templateId: string) {
  return created<{ id: string; status: string }>('/api/messages/send', {
    contactId,
    template: templateId,
  })
}

async function settled(id: string, status: string) {
  await eventually(async () => {
    const message = await management<{ status: string }>(`/api/messages/${id}`)
    return message.body.status === status
  })
}

beforeAll(async () => {
  browser = await launchChromium()
  const source = await created<{ writeKey: string }>('/api/sources', {
    name: `Messages e2e ${run}`,
  })
  const consent = (userId: string, marketing: boolean) =>
    ingest(source.writeKey, '/v1/consent', {
      userId,
      purposes: { analytics: true, marketing, personalization: false, advertising: false },
      policyVersion: `policy-${run}`,
      source: 'banner',
    })
  await ingest(source.writeKey, '/v1/batch', {
    batch: [
      {
        type: 'identify',
        userId: reader.userId,
        traits: { email: reader.email, name: `Ada ${XSS}` },
      },
      { type: 'identify', userId: refuser.userId, traits: { email: refuser.email, name: 'Ken' } },
    ],
  })
  await consent(reader.userId, true)
  await consent(refuser.userId, false)
  for (const userId of [reader.userId, refuser.userId]) {
    await eventually(async () => {
      const found = await management<{ consent?: { marketing: boolean | null } }>(
        `/api/contacts/${userId}`,
      )
      return found.status === 200 && found.body.consent?.marketing !== null
    })
  }
  await created('/api/subscription-groups', { id: group, name: `E2E news ${run}` })

  const offerTemplate = await template(
    `Offer ${run}`,
    'marketing',
    'An offer for {{ contact.traits.name }}',
    `<h1 id="email-heading-${run}">Autumn offer</h1>
<p>Hello {{ contact.traits.name }}, boots are 20% off.</p>
<script>document.body.dataset.ran = 'yes'</script>
<form action="https://example.com/steal"><input name="q"></form>`,
  )
  receiptTemplate = (
    await template(
      `Receipt ${run}`,
      'transactional',
      'Your receipt',
      '<p>Thanks for your order.</p>',
    )
  ).id
  offer = await sendTo(reader.userId, offerTemplate.id)
  receipt = await sendTo(reader.userId, receiptTemplate)
  refused = await sendTo(refuser.userId, offerTemplate.id)
  expect(refused.status).toBe('no_consent')
  await settled(offer.id, 'sent')
  await settled(receipt.id, 'sent')
  // A choice recorded after the sends, for the contact's Messages tab.
  await created(`/api/contacts/${reader.userId}/subscriptions`, { [group]: false }, 'PUT')

  admin = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  page = await admin.newPage()
}, 180_000)

afterAll(async () => {
  await browser?.close()
})

const row = (id: string) => page.locator(`table.messages-table tr[data-message="${id}"]`)

describe('the Messages screen', () => {
  it('lists messages newest first with status, reason and attempts; markup stays text', async () => {
    await page.goto(`${stackUrl}/messages?contactId=${reader.userId}`)
    await logIn(page, adminKey)
    await page.waitForSelector('.message-results[aria-busy="false"] table.messages-table')
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

    // Newest first: the receipt was sent after the offer.
    const ids = await page
      .locator('table.messages-table tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-message')))
    expect(ids).toEqual([receipt.id, offer.id])
    const cells = await row(offer.id).locator('td').allTextContents()
    expect(cells[1]).toBe(reader.userId)
    expect(cells[4]).toBe('sent')
    expect(cells[6]).toBe('log sent')
    // The subject holds the contact's name with its markup: shown as text, never run.
    expect(cells[3]).toBe(`An offer for Ada ${XSS}`)
    expect(await page.locator('img[src="x"]').count()).toBe(0)
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined()

    const log = page.locator('section[aria-label="Providers"] li[data-provider="log"]')
    expect(await log.locator('.badge').textContent()).toBe('in use')

    // The contact link opens the contact.
    await row(offer.id).locator(`a:text-is("${reader.userId}")`).click()
    await page.waitForURL(`${stackUrl}/contacts/${reader.userId}`)
  })

  it('filters by status, naming why a message was not sent', async () => {
    await page.goto(`${stackUrl}/messages`)
    await page.waitForSelector('.message-results[aria-busy="false"] table.messages-table')
    await row(refused.id).waitFor()
    await screenshot(page, '20-messages')
    await page.selectOption('form[aria-label="Message filters"] select', 'no_consent')
    await page.waitForURL((url) => url.searchParams.get('status') === 'no_consent')
    await page.waitForSelector('.message-results[aria-busy="false"]')
    await row(refused.id).waitFor()
    const statuses = await page
      .locator('table.messages-table tbody td:nth-child(5)')
      .allTextContents()
    expect(new Set(statuses)).toEqual(new Set(['no_consent']))
    expect(await row(offer.id).count()).toBe(0)
    const cells = await row(refused.id).locator('td').allTextContents()
    expect(cells[5]).toMatch(/consent/)
    expect(cells[6]).toBe('—')

    // Both filters at once, from the form: this contact's refused messages only.
    await page.fill('form[aria-label="Message filters"] input', refuser.userId)
    await page.click('form[aria-label="Message filters"] button[type="submit"]')
    await page.waitForURL((url) => url.searchParams.get('contactId') === refuser.userId)
    await page.waitForSelector('.message-results[aria-busy="false"]')
    expect(await page.locator('table.messages-table tbody tr').count()).toBe(1)
    await page.selectOption('form[aria-label="Message filters"] select', 'sent')
    await page.waitForURL((url) => url.searchParams.get('status') === 'sent')
    await page.waitForSelector('text=No messages match these filters.')
  })

  it('shows one message: its attempts, headers, text and the HTML in an empty sandbox', async () => {
    await page.goto(`${stackUrl}/messages?contactId=${reader.userId}`)
    await page.waitForSelector('.message-results[aria-busy="false"] table.messages-table')
    await row(offer.id).locator('td:first-child a').click()
    await page.waitForURL(`${stackUrl}/messages/${offer.id}`)
    await page.waitForSelector('table[data-attempts] td:text-is("log")')
    expect(await page.textContent('h1')).toBe(`An offer for Ada ${XSS}`)

    const envelope = await page.locator('table[data-envelope] td').allTextContents()
    expect(envelope).toEqual([`An offer for Ada ${XSS}`, expect.any(String), reader.email])
    const headers = await page.locator('table[data-headers] tbody th').allTextContents()
    expect(headers).toContain('List-Unsubscribe')
    expect(headers).toContain('List-Unsubscribe-Post')
    expect(await page.textContent('pre.email-text')).toContain('boots are 20% off')

    const frame = page.locator('iframe.email-html')
    // Empty: every restriction applies (no scripts, opaque origin, no forms, no navigation).
    expect(await frame.getAttribute('sandbox')).toBe('')
    expect(await frame.getAttribute('srcdoc')).toContain(`id="email-heading-${run}"`)
    // The email's elements live only in the frame's own document, never in the console's.
    const heading = `#email-heading-${run}`
    expect(await page.locator(heading).count()).toBe(0)
    expect(await page.locator('form[action="https://example.com/steal"]').count()).toBe(0)
    const inside = page.frameLocator('iframe.email-html')
    await expect.poll(() => inside.locator(heading).textContent()).toBe('Autumn offer')
    // The email's script did not run in the frame either; the name in it was escaped.
    expect(await inside.locator('body').getAttribute('data-ran')).toBeNull()
    expect(await inside.locator('p').first().textContent()).toContain(`Ada ${XSS}`)
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined()
    await screenshot(page, '21-message-detail')
  })

  it("lists a contact's messages and subscription choices in its Messages tab", async () => {
    await page.goto(`${stackUrl}/contacts/${reader.userId}`)
    await page.click('.tabs >> text=Messages')
    await page.waitForURL(`${stackUrl}/contacts/${reader.userId}/messages`)
    const table = page.locator('table[data-contact-messages]')
    await table.waitFor()
    const ids = await table
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-message')))
    expect(ids).toEqual([receipt.id, offer.id])
    expect(await table.locator('tbody td:nth-child(4)').allTextContents()).toEqual(['sent', 'sent'])
    const choices = await page.locator('table[data-subscriptions] tbody td').allTextContents()
    expect(choices).toEqual([group, 'unsubscribed'])
    await screenshot(page, '22-contact-messages')

    await table.locator(`tr[data-message="${receipt.id}"] a`).click()
    await page.waitForURL(`${stackUrl}/messages/${receipt.id}`)
    await page.waitForSelector('h1:text-is("Your receipt")')
  })

  it('falls back past a failing provider, and names the provider that keeps the content', async () => {
    const fake = await fakeSendgrid()
    try {
      await created(
        '/api/messaging/providers',
        [{ kind: 'sendgrid', baseUrl: fake.url, apiKey: 'SG.e2e-fake-key' }, { kind: 'log' }],
        'PUT',
      )
      const viaLog = await sendTo(refuser.userId, receiptTemplate)
      const viaSendgrid = await sendTo(reader.userId, receiptTemplate)
      await settled(viaLog.id, 'sent')
      await settled(viaSendgrid.id, 'sent')
      const asked = fake.requests.find((r) => r.messageId === viaSendgrid.id)
      const answer = (await management(`/api/messages/${viaSendgrid.id}`)).body
      expect(asked, `SendGrid was not asked: ${JSON.stringify(answer)}`).toMatchObject({
        path: '/v3/mail/send',
        authorization: 'Bearer SG.e2e-fake-key',
        to: reader.email,
      })

      await page.goto(`${stackUrl}/messages`)
      await page.waitForSelector('.message-results[aria-busy="false"] table.messages-table')
      await page.waitForSelector('section[aria-label="Providers"] li[data-provider="sendgrid"]')
      const order = await page
        .locator('section[aria-label="Providers"] li')
        .evaluateAll((items) => items.map((li) => li.getAttribute('data-provider')))
      expect(order).toEqual(['sendgrid', 'log'])
      expect(await row(viaLog.id).locator('td:nth-child(7)').textContent()).toBe(
        'sendgrid 503 → log sent',
      )
      expect(await row(viaSendgrid.id).locator('td:nth-child(7)').textContent()).toBe(
        'sendgrid sent',
      )

      // The failed-over message's own page lists both tries, in order.
      await row(viaLog.id).locator('td:first-child a').click()
      await page.waitForURL(`${stackUrl}/messages/${viaLog.id}`)
      const attempts = page.locator('table[data-attempts] tbody tr')
      await attempts.first().waitFor()
      const tried = await attempts.evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('td')].slice(1, 4).map((td) => td.textContent)),
      )
      expect(tried).toEqual([
        ['sendgrid', 'retryable', '503'],
        ['log', 'sent', '—'],
      ])
      expect(await page.locator('iframe.email-html').count()).toBe(1)

      await page.goto(`${stackUrl}/messages`)
      await page.waitForSelector('.message-results[aria-busy="false"] table.messages-table')
      await row(viaSendgrid.id).locator('td:first-child a').click()
      await page.waitForSelector('[data-not-kept]')
      expect(await page.textContent('[data-not-kept]')).toBe(
        'Sent through sendgrid; the provider keeps the content.',
      )
      expect(await page.locator('iframe').count()).toBe(0)
    } finally {
      await created('/api/messaging/providers', [{ kind: 'log' }], 'PUT')
      await fake.close()
    }
  })

  it('filters the log by template from the form, and by a template cell', async () => {
    await page.goto(`${stackUrl}/messages?contactId=${reader.userId}`)
    await page.waitForSelector('.message-results[aria-busy="false"] table.messages-table')
    await page.fill('form[aria-label="Message filters"] input[name="template"]', receiptTemplate)
    await page.click('form[aria-label="Message filters"] button[type="submit"]')
    await page.waitForURL((url) => url.searchParams.get('template') === receiptTemplate)
    await page.waitForSelector('.message-results[aria-busy="false"]')
    await row(receipt.id).waitFor()
    expect(await row(offer.id).count()).toBe(0)
    expect(page.url()).toContain(`contactId=${reader.userId}`)

    await page.goto(`${stackUrl}/messages`)
    await page.waitForSelector('.message-results[aria-busy="false"] table.messages-table')
    await row(offer.id).locator('td:nth-child(3) a').click()
    await page.waitForURL((url) => url.searchParams.has('template'))
    await page.waitForSelector('.message-results[aria-busy="false"]')
    await row(refused.id).waitFor()
    expect(await row(receipt.id).count()).toBe(0)
  })

  it('changes the frequency cap and quiet hours in the settings, naming what is wrong', async () => {
    const before = (await management<Record<string, unknown>>('/api/messaging/settings')).body
    try {
      await page.goto(`${stackUrl}/messages`)
      await page.click('.tabs a:text-is("Settings")')
      await page.waitForURL(`${stackUrl}/messages/settings`)
      const form = page.locator('form[data-messaging-settings]')
      await form.locator('input[name="from"]').waitFor()

      await form.locator('input[name="capOn"]').check()
      await form.locator('input[name="capCount"]').fill('4')
      await form.locator('input[name="capAmount"]').fill('2')
      await form.locator('select[name="capUnit"]').selectOption('days')
      await form.locator('input[name="quietOn"]').check()
      await form.locator('input[name="quietStart"]').fill('22:00')
      await form.locator('input[name="quietEnd"]').fill('07:30')
      await form.locator('button[type="submit"]').click()
      await form.locator('[data-saved]').waitFor()
      const saved = await management<Record<string, unknown>>('/api/messaging/settings')
      expect(saved.body).toMatchObject({
        frequencyCap: { count: 4, per: { days: 2 } },
        quietHours: { start: '22:00', end: '07:30' },
      })
      await screenshot(page, '55-messages-settings')

      // Read back after a reload: the form shows what the API holds.
      await page.reload()
      await form.locator('input[name="capCount"]').waitFor()
      expect(await form.locator('input[name="capCount"]').inputValue()).toBe('4')
      expect(await form.locator('input[name="quietEnd"]').inputValue()).toBe('07:30')

      // The API's refusal sits at the field it names.
      await form.locator('input[name="from"]').fill('not an address')
      await form.locator('button[type="submit"]').click()
      await form.locator('input[name="from"][aria-invalid="true"]').waitFor()
      expect(await form.locator('label:has(input[name="from"]) .field-error').textContent()).toBe(
        'an email address',
      )
      expect((await management<{ from: string }>('/api/messaging/settings')).body.from).toBe(
        saved.body.from,
      )

      // Turned off, they are gone from the settings.
      await form.locator('input[name="from"]').fill(String(saved.body.from))
      await form.locator('input[name="capOn"]').uncheck()
      await form.locator('input[name="quietOn"]').uncheck()
      await form.locator('button[type="submit"]').click()
      await form.locator('[data-saved]').waitFor()
      const cleared = await management<Record<string, unknown>>('/api/messaging/settings')
      expect(cleared.body.frequencyCap).toBeUndefined()
      expect(cleared.body.quietHours).toBeUndefined()
    } finally {
      await management('/api/messaging/settings', { method: 'PUT', body: before })
    }
  })

  it('edits the fallback order with write-only credentials, showing each health', async () => {
    const providersForm = page.locator('form[aria-label="Providers in fallback order"]')
    const order = () =>
      providersForm
        .locator('li[data-provider]')
        .evaluateAll((items) => items.map((li) => li.getAttribute('data-provider')))
    const stored = async () =>
      (
        await management<{ items: { kind: string; credentials: Record<string, string> }[] }>(
          '/api/messaging/providers',
        )
      ).body.items
    try {
      await page.goto(`${stackUrl}/messages/settings`)
      await providersForm.locator('li[data-provider="log"]').waitFor()
      expect(await providersForm.locator('li[data-provider="log"] .badge').textContent()).toBe(
        'in use',
      )

      // A new provider needs its key: without one the API refuses, naming the field.
      await providersForm.locator('select').selectOption('resend')
      await providersForm.locator('button:text-is("Add")').click()
      await providersForm.locator('button[aria-label="Move resend up"]').click()
      expect(await order()).toEqual(['resend', 'log'])
      await providersForm.locator('button[type="submit"]').click()
      await providersForm.locator('input[name="resend.apiKey"][aria-invalid="true"]').waitFor()
      expect((await stored()).map((p) => p.kind)).toEqual(['log'])

      await providersForm.locator('input[name="resend.apiKey"]').fill('re_e2e_fake_key_123')
      await providersForm.locator('button[type="submit"]').click()
      await providersForm.locator('[data-saved]').waitFor()
      let now = await stored()
      expect(now.map((p) => p.kind)).toEqual(['resend', 'log'])
      expect(now[0]!.credentials).toEqual({ apiKey: 'set' })
      // Write-only: the key never comes back into the form.
      const key = providersForm.locator('input[name="resend.apiKey"]')
      expect(await key.inputValue()).toBe('')
      expect(await key.getAttribute('placeholder')).toMatch(/stored/)
      expect(await providersForm.locator('li[data-provider="resend"] .badge').textContent()).toBe(
        'in use',
      )

      // Reordered without typing the key again: the stored one stays.
      await providersForm.locator('button[aria-label="Move log up"]').click()
      await providersForm.locator('button[type="submit"]').click()
      await providersForm.locator('[data-saved]').waitFor()
      now = await stored()
      expect(now.map((p) => p.kind)).toEqual(['log', 'resend'])
      expect(now[1]!.credentials).toEqual({ apiKey: 'set' })

      await providersForm.locator('button[aria-label="Remove resend"]').click()
      await providersForm.locator('button[type="submit"]').click()
      await providersForm.locator('[data-saved]').waitFor()
      expect((await stored()).map((p) => p.kind)).toEqual(['log'])
    } finally {
      await management('/api/messaging/providers', { method: 'PUT', body: [{ kind: 'log' }] })
    }
  })

  it('shows an analyst the log without the providers strip', async () => {
    const key = await created<{ key: string }>('/api/keys', {
      name: `Analyst ${run}`,
      role: 'analyst',
    })
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    try {
      const analyst = await context.newPage()
      await analyst.goto(`${stackUrl}/messages?contactId=${reader.userId}`)
      await logIn(analyst, key.key)
      await analyst.waitForSelector(`table.messages-table tr[data-message="${offer.id}"]`)
      const nav = await analyst.locator('nav[aria-label="Main"] a').allTextContents()
      expect(nav).toContain('Messages')
      expect(await analyst.locator('section[aria-label="Providers"]').count()).toBe(0)
      expect(await analyst.locator('.tabs a:text-is("Settings")').count()).toBe(0)
      // The server agrees: an analyst may read the log, not the providers.
      const statuses = await analyst.evaluate(async () =>
        Promise.all(
          ['/api/messages', '/api/messaging/providers'].map(async (p) => (await fetch(p)).status),
        ),
      )
      expect(statuses).toEqual([200, 403])
      // A deep link to the settings says so, and asks the API nothing.
      await analyst.goto(`${stackUrl}/messages/settings`)
      await analyst.waitForSelector('[data-forbidden="providers"]')
      expect(await analyst.locator('form[data-messaging-settings]').count()).toBe(0)
    } finally {
      await context.close()
    }
  })
})

/**
 * SendGrid's Mail Send as far as the stack can tell: 503 for the refuser's address (the stack
 * falls back to the next provider), 202 with an id for anyone else.
 */
async function fakeSendgrid() {
  const requests: { path: string; authorization?: string; to?: string; messageId?: string }[] = []
  const server: Server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      const mail = JSON.parse(body || '{}') as {
        personalizations?: { to?: { email?: string }[] }[]
        custom_args?: { cairn_message?: string }
      }
      const to = mail.personalizations?.[0]?.to?.[0]?.email
      requests.push({
        path: request.url ?? '',
        authorization: request.headers.authorization,
        to,
        messageId: mail.custom_args?.cairn_message,
      })
      if (to === refuser.email) {
        response.writeHead(503, { 'Content-Type': 'application/json' })
        response.end(JSON.stringify({ errors: [{ message: 'Service unavailable' }] }))
        return
      }
      response.writeHead(202, { 'X-Message-Id': `sg-${requests.length}` })
      response.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
