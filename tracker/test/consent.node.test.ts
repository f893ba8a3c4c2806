import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sleep, storedState, until } from './support/browser.ts'
import { startHarness, type Harness } from './support/harness.ts'
import type { Server } from './support/mock-edge.ts'

let h: Harness
let optIn: Server
let optOut: Server
beforeAll(async () => {
  h = await startHarness()
  optIn = await h.site({ scriptAttributes: 'data-consent="opt-in"' })
  optOut = await h.site()
})
afterAll(() => h?.close())
beforeEach(() => h.resetEdge())

const consents = () => h.edge.received.filter((r) => r.path == '/v1/consent')
const ALL = { analytics: true, marketing: true, personalization: true, advertising: true }
const NONE = { analytics: false, marketing: false, personalization: false, advertising: false }

/** A visitor's landing with campaign, a click and a signup, before any consent. */
async function browseWithoutConsent(site: Server) {
  const visit = await h.open()
  await visit.page.goto(`${site.url}/demo/index.html?utm_source=ads&gclid=G-1`)
  await visit.page.click('[data-add=boots]')
  await visit.page.evaluate(() => (window as any).cairn.identify('u-secret', { email: 'x@y.z' }))
  await sleep(1500) // past the batch delay
  return visit
}

describe('opt-in mode', () => {
  it('sends and stores nothing before consent, then releases what was held', async () => {
    const { page, sent, errors } = await browseWithoutConsent(optIn)
    const tracker = sent.filter((r) => !r.url.startsWith(optIn.url))
    expect(tracker.map((r) => new URL(r.url).pathname)).toEqual(['/t.js'])
    expect(tracker[0]!.url).toBe(`${h.edge.url}/t.js`)
    expect(h.edge.received).toEqual([])
    expect(await storedState(page)).toBeNull()
    expect(await page.evaluate(() => document.cookie)).toBe('')

    await page.click('#accept')
    const [decision] = await until(() => consents().length > 0 && consents())
    const held = await h.arrived(3)
    expect(decision!.body).toMatchObject({
      purposes: ALL,
      policyVersion: '2024-06',
      source: 'banner',
      writeKey: 'wk_test',
      anonymousId: held[0]!.anonymousId,
      userId: 'u-secret',
    })
    expect(decision!.contentType).toMatch(/^text\/plain/)
    expect(held.map((m) => m.event ?? m.type)).toEqual(['page', 'Product Added', 'identify'])
    expect(held[0]!.context.campaign).toEqual({ utm_source: 'ads', gclid: 'G-1' })
    const batch = h.edge.received.find((r) => r.path == '/v1/batch')!
    expect(batch.body.context.consent).toEqual(ALL)
    expect((await storedState(page)).a).toBe(held[0]!.anonymousId)
    expect(errors).toEqual([])
  })

  it('releases what was held only once the decision is answered, even a failed one', async () => {
    // The server decides by the ledger: a batch that overtook the decision would be withheld.
    for (const status of [200, 503]) {
      h.resetEdge()
      h.edge.respond = (request) =>
        request.path == '/v1/consent'
          ? { status, delayMs: 700, body: { success: status == 200 } }
          : { status: 200, body: { success: true } }
      const { page } = await browseWithoutConsent(optIn)
      await page.click('#accept')
      await h.arrived(3)
      const [decision, batch] = h.edge.received
      expect([decision!.path, batch!.path]).toEqual(['/v1/consent', '/v1/batch'])
      expect(batch!.at - decision!.at).toBeGreaterThanOrEqual(650)
      expect(batch!.body.batch.map((m: any) => m.event ?? m.type)).toEqual([
        'page',
        'Product Added',
        'identify',
      ])
    }
  })

  it('on refusal drops what was held and records the decision without identifiers', async () => {
    const { page } = await browseWithoutConsent(optIn)
    await page.click('#decline')
    const [decision] = await until(() => consents().length > 0 && consents())
    expect(decision!.body).toEqual({
      purposes: NONE,
      policyVersion: '2024-06',
      source: 'banner',
      writeKey: 'wk_test',
    })
    expect(await storedState(page)).toEqual({ k: NONE })
    await page.reload()
    await page.click('[data-add=jacket]')
    await sleep(1500)
    expect(h.edge.received.filter((r) => r.path == '/v1/batch')).toEqual([])
    expect(await storedState(page)).toEqual({ k: NONE })
  })

  it('remembers a grant across page loads', async () => {
    const { page } = await h.open()
    await page.goto(`${optIn.url}/demo/index.html`)
    await page.click('#accept')
    await h.arrived(1)
    await page.goto(`${optIn.url}/demo/product-jacket.html`)
    const [first, second] = await h.arrived(2)
    expect(second!.anonymousId).toBe(first!.anonymousId)
    expect(consents()).toHaveLength(1)
  })
})

describe('opt-out mode', () => {
  it('tracks until revoked, then purges the queue and every identifier', async () => {
    const { page } = await h.open()
    await page.goto(`${optOut.url}/demo/index.html`)
    const [view] = await h.arrived(1)
    // The edge fails for a while, so the next message waits in the queue.
    h.edge.respond = () => ({ status: 503 })
    await page.click('[data-add=boots]')
    await until(async () => (await storedState(page))?.q?.length)
    await page.click('#decline')
    const [decision] = await until(() => consents().length > 0 && consents())
    expect(decision!.body).toMatchObject({ anonymousId: view!.anonymousId, purposes: NONE })
    expect(await storedState(page)).toEqual({ k: NONE })
    h.edge.respond = () => ({ status: 200, body: { success: true } })
    await page.reload()
    await sleep(1500)
    expect(h.edge.messages()).toHaveLength(1)
  })
})

describe('Global Privacy Control', () => {
  it('denies advertising whatever the banner or the CMP says', async () => {
    const { page } = await h.open({
      init: () =>
        Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
    })
    await page.goto(`${optIn.url}/demo/index.html`)
    await page.click('#accept')
    const [decision] = await until(() => consents().length > 0 && consents())
    expect(decision!.body.purposes).toEqual({ ...ALL, advertising: false })
    await h.arrived(1)
    const batch = h.edge.received.find((r) => r.path == '/v1/batch')!
    expect(batch.body.context.consent).toEqual({ ...ALL, advertising: false })
  })
})

describe('IAB TCF', () => {
  /** A CMP stub that answers addEventListener with a stored decision. */
  const cmp = ({ consents }: { consents: Record<number, boolean> }) => {
    ;(window as any).__tcfapi = (command: string, version: number, listener: Function) => {
      if (command == 'addEventListener' && version == 2)
        setTimeout(() =>
          listener(
            {
              eventStatus: 'tcloaded',
              gdprApplies: true,
              purpose: { consents },
              tcfPolicyVersion: 4,
            },
            true,
          ),
        )
    }
  }

  it('reads the CMP decision and maps TCF purposes onto Cairn purposes', async () => {
    const { page } = await h.open({
      init: cmp,
      initArg: { consents: { 1: true, 8: true, 7: true, 3: true } },
    })
    await page.goto(`${optIn.url}/demo/index.html`)
    const [decision] = await until(() => consents().length > 0 && consents())
    expect(decision!.body).toMatchObject({
      source: 'tcf',
      purposes: { analytics: true, marketing: true, personalization: false, advertising: false },
    })
    const [view] = await h.arrived(1)
    expect(decision!.body.anonymousId).toBe(view!.anonymousId)
  })

  it('grants everything where GDPR does not apply, and ignores the CMP while its UI is up', async () => {
    const { page } = await h.open({
      init: () => {
        ;(window as any).__tcfapi = (_c: string, _v: number, listener: Function) => {
          setTimeout(() =>
            listener(
              { eventStatus: 'cmpuishown', gdprApplies: true, purpose: { consents: {} } },
              true,
            ),
          )
          setTimeout(
            () =>
              listener(
                {
                  eventStatus: 'useractioncomplete',
                  gdprApplies: false,
                  purpose: { consents: {} },
                },
                true,
              ),
            300,
          )
        }
      },
    })
    await page.goto(`${optIn.url}/demo/index.html`)
    const [decision] = await until(() => consents().length > 0 && consents())
    expect(decision!.body.purposes).toEqual(ALL)
    await sleep(500)
    expect(consents()).toHaveLength(1)
  })
})
