// Chromium for tracker tests: Debian's build driven by playwright-core (see test/support/browser.ts
// for the launch flags), one fresh context per test, and helpers to wait on what arrives.
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { launchChromium } from '../../../test/support/browser.ts'

export { launchChromium }

/** Polls `check` until it returns something truthy (tracker batches leave after ~1 s). */
export async function until<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeout = 10_000, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeout
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A request the page made, as the browser sent it (for "nothing identifying was sent"). */
export interface SentRequest {
  url: string
  method: string
  body: string | null
}

export interface TrackerPage {
  context: BrowserContext
  page: Page
  /** Every request the page made, in order. */
  sent: SentRequest[]
  /** Uncaught errors and console errors, which a test expects to stay empty. */
  errors: string[]
}

export interface OpenOptions extends BrowserContextOptions {
  /** Runs in every page before its own scripts (serialized: pass data through `initArg`). */
  init?: (arg: any) => void
  initArg?: unknown
}

export async function openPage(browser: Browser, options: OpenOptions = {}): Promise<TrackerPage> {
  const { init, initArg, ...contextOptions } = options
  const context = await browser.newContext(contextOptions)
  if (init) await context.addInitScript(init, initArg)
  const page = await context.newPage()
  const sent: SentRequest[] = []
  const errors: string[] = []
  page.on('request', (r) => sent.push({ url: r.url(), method: r.method(), body: r.postData() }))
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => m.type() == 'error' && errors.push(m.text()))
  return { context, page, sent, errors }
}

/** The tracker's localStorage state (key `cairn`), or null. */
export const storedState = (page: Page) =>
  page.evaluate(() => JSON.parse(localStorage.getItem('cairn') ?? 'null'))
