import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { inject } from 'vitest'

/** Shared by the console's browser tests: the stack, the admin key, API calls, screenshots. */
export const stackUrl = inject('stackUrl')
export const adminKey = inject('adminKey')

/** Screenshots of every screen, for reviewers who do not run the tests (see the README). */
export const SCREENSHOTS = join(import.meta.dirname, '../../docs/screenshots')

export async function screenshot(page: Page, name: string) {
  await mkdir(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) })
}

export async function management<T = unknown>(
  path: string,
  init: { method?: string; body?: unknown; key?: string } = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${stackUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      Authorization: `Bearer ${init.key ?? adminKey}`,
      ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
  const text = await response.text()
  let body: unknown = text
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    // not JSON: keep the text for the failure message
  }
  return { status: response.status, body: body as T }
}

/** Sends Segment messages through the public ingestion API with a write key. */
export async function ingest(writeKey: string, path: string, body: unknown) {
  const response = await fetch(`${stackUrl}${path}`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${btoa(`${writeKey}:`)}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  let result: { rejected?: unknown[] } | undefined
  try {
    result = JSON.parse(text) as { rejected?: unknown[] }
  } catch {
    // reported below with the text the server sent
  }
  if (!response.ok || !result || result.rejected?.length) {
    throw new Error(`${path} answered ${response.status}: ${text.slice(0, 500)}`)
  }
  return result
}

/** Polls until `check` returns a value (the queue consumer writes D1 asynchronously). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** The number shown in an element, e.g. "1,234" → 1234. */
export async function numberIn(page: Page, selector: string): Promise<number> {
  const text = (await page.textContent(selector)) ?? ''
  return Number(text.replace(/[^\d.-]/g, ''))
}

export async function logIn(page: Page, key: string) {
  await page.fill('#login-key', key)
  await page.click('form[aria-labelledby="login-title"] button[type="submit"]')
}

/**
 * A new source's write key and a contact who agreed to marketing (a journey's marketing email
 * goes to no one else), with an email address, once the contact shows the consent.
 */
export async function consentingContact(run: string, userId: string) {
  const source = await management<{ writeKey: string }>('/api/sources', {
    method: 'POST',
    body: { name: `Consenting ${userId}` },
  })
  if (source.status !== 201) throw new Error(`POST /api/sources: ${JSON.stringify(source.body)}`)
  const { writeKey } = source.body
  await ingest(writeKey, '/v1/identify', {
    userId,
    traits: { email: `${userId}@example.com`, firstName: 'Ada' },
  })
  await ingest(writeKey, '/v1/consent', {
    userId,
    purposes: { analytics: true, marketing: true, personalization: false, advertising: false },
    policyVersion: `policy-${run}`,
    source: 'banner',
  })
  await eventually(async () => {
    const found = await management<{ consent?: { marketing: boolean | null } }>(
      `/api/contacts/${userId}`,
    )
    return found.status === 200 && found.body.consent?.marketing === true
  })
  return { writeKey, userId }
}

/**
 * Sends the event that enters a live journey until the contact waits at `node`: the contact
 * objects read journeys through a few-second cache, so the first sends may find none live.
 * The journey's re-entry must not let the repeats start a second run.
 */
export async function enterJourney(
  writeKey: string,
  journey: string,
  node: string,
  message: { userId: string; event: string; properties?: Record<string, unknown> },
) {
  await eventually(async () => {
    await ingest(writeKey, '/v1/track', message)
    const metrics = await management<{
      versions: { nodes: Record<string, { waiting: number }> }[]
    }>(`/api/journeys/${journey}/metrics`)
    return metrics.body.versions[0]?.nodes[node]?.waiting === 1
  }, 45_000)
}

/** A node's figure in the table under a journey's graph (`/journeys/:id`). */
export const nodeFigure = (node: string, figure: string) =>
  `table[data-node-metrics] tr[data-node="${node}"] td[data-figure="${figure}"]`
