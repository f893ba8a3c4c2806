// One harness per test file: the built tracker behind a mock edge, the demo shop on a second
// origin, and one Chromium. Each test opens its own browser context (fresh storage).
import type { Browser } from 'playwright-core'
import { bundleTracker } from '../../build.ts'
import { launchChromium, openPage, until, type OpenOptions, type TrackerPage } from './browser.ts'
import { startMockEdge, type MockEdge, type Server } from './mock-edge.ts'
import { startSite, type SiteOptions } from './site.ts'

export interface Harness {
  edge: MockEdge
  browser: Browser
  /** The demo shop (plus `pages`) on its own origin, tracker attributes as given. */
  site(options?: Omit<SiteOptions, 'edgeUrl'>): Promise<Server>
  open(options?: OpenOptions): Promise<TrackerPage>
  /** Messages the edge accepted, once `count` of them matching `filter` have arrived. */
  arrived(
    count: number,
    filter?: (message: Record<string, any>) => boolean,
    timeout?: number,
  ): Promise<Record<string, any>[]>
  /** Forget what the edge received and answer 200 again (call in beforeEach). */
  resetEdge(): void
  close(): Promise<void>
}

export async function startHarness(): Promise<Harness> {
  const { code } = await bundleTracker()
  const edge = await startMockEdge(code)
  const browser = await launchChromium()
  const servers: Server[] = [edge]
  const accept = edge.respond
  const pages: TrackerPage[] = []
  return {
    edge,
    browser,
    async site(options = {}) {
      const site = await startSite({ edgeUrl: edge.url, ...options })
      servers.push(site)
      return site
    },
    async open(options) {
      const page = await openPage(browser, options)
      pages.push(page)
      return page
    },
    arrived(count, filter = () => true, timeout) {
      return until(
        () => {
          const found = edge.messages().filter(filter)
          return found.length >= count && found
        },
        { timeout, what: `${count} message(s) at the edge` },
      )
    },
    resetEdge() {
      edge.received.length = 0
      edge.respond = accept
    },
    async close() {
      await Promise.all(pages.map((p) => p.context.close().catch(() => {})))
      await browser.close()
      await Promise.all(servers.map((s) => s.close()))
    },
  }
}
