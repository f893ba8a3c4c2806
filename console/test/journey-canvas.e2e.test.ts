import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  NODE_TYPES,
  type JourneyDefinition,
  type JourneyNode,
} from '../../domain/journeys/definition.ts'
import { launchChromium } from '../../test/support/browser.ts'
import {
  adminKey,
  consentingContact,
  enterJourney,
  eventually,
  ingest,
  logIn,
  management,
  nodeFigure,
  numberIn,
  screenshot,
  stackUrl,
} from './support.ts'

/**
 * The journey canvas in Chromium against the local stack. First the abandoned cart from
 * nothing, all through the console but the contact's events: built on a blank journey's canvas
 * with the palette, a dragged link and the node forms, its entry and goal set in the editor,
 * saved as version 1 and read back through the API; simulated, with the reminder email in the
 * trace and its node lit; published; entered by a real contact through the ingest API, with
 * the figures moving as the contact waits and then orders; a second version saved and
 * published, and version 1 rolled back to. Then the editor on its own: problems on their nodes,
 * every node type's form, and a 50-node journey dragged for a second, its frame rate printed (a
 * reported figure, not asserted). One logged-in admin page, tests in order (logging in is rate
 * limited).
 */
const run = Date.now().toString(36)
const shopper = `cart-shopper-${run}`

let browser: Browser
let page: Page
let template: { id: string; name: string }
let writeKey: string
/** The abandoned cart built from nothing. */
let cart: string

async function created<T>(path: string, body: unknown): Promise<T> {
  const answer = await management<T>(path, { method: 'POST', body })
  expect(answer.status, `POST ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300)
  return answer.body
}

const node = (id: string) => page.locator(`.react-flow__node[data-id="${id}"]`)
const status = () => page.locator('.journey-flow-status [role="status"]')
const settings = () => page.locator('.journey-settings')
const journeySettings = () => page.locator('form[aria-label="Journey settings"]')
const versionRow = (version: number) =>
  page.locator(`table[data-versions] tr[data-version="${version}"]`)
const tab = (label: string) => page.click(`nav[aria-label="Journey"] a:text-is("${label}")`)

/** Drags a link from a node's labelled outgoing handle and drops it on another node's body. */
async function link(from: string, handle: string, to: string) {
  const start = await node(from)
    .locator(`.react-flow__handle[data-handleid="${handle}"]`)
    .boundingBox()
  const end = await node(to).boundingBox()
  if (!start || !end) throw new Error(`${from} ${handle} or ${to} is not on screen`)
  await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2)
  await page.mouse.down()
  await page.mouse.move(end.x + end.width / 2, end.y + end.height / 2, { steps: 12 })
  await page.mouse.up()
}

/** What the canvas builds: the order awaited an hour, else the reminder, then the exit. */
function abandonedCart(templateId: string): JourneyDefinition {
  return {
    entry: { event: 'Product Added' },
    goal: { performed: 'Order Completed', within: { days: 1 } },
    reentry: 'never',
    start: 'waitFor1',
    nodes: {
      exit1: { type: 'exit' },
      waitFor1: {
        type: 'waitFor',
        performed: 'Order Completed',
        timeout: { hours: 1 },
        next: 'exit1',
        onTimeout: 'email1',
      },
      email1: { type: 'email', template: templateId, next: 'exit1' },
    },
  }
}

beforeAll(async () => {
  browser = await launchChromium()
  // The library makes its own reminder for its journeys; this journey starts from nothing.
  template = await created('/api/templates', {
    name: `Cart reminder ${run}`,
    kind: 'marketing',
    subject: "You left {{ event.properties.name | default: 'something' }} in your cart",
    html: "<p>{{ event.properties.name | default: 'Your item' }} is still in your cart.</p>",
  })
  writeKey = (await consentingContact(run, shopper)).writeKey
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  page.on('pageerror', (error) => console.log('page error:', error.stack))
  await page.goto(`${stackUrl}/login`)
  await logIn(page, adminKey)
  await page.waitForURL((url) => !url.pathname.startsWith('/login'))
}, 180_000)

afterAll(async () => {
  await browser?.close()
})

describe('the abandoned cart from nothing: built, simulated, published, live, rolled back', () => {
  it('builds the abandoned cart on the canvas, sets its entry and goal, saves version 1', async () => {
    cart = (await created<{ id: string }>('/api/journeys', { name: `Cart ${run}` })).id
    await page.goto(`${stackUrl}/journeys/${cart}/edit`)
    await node('exit1').waitFor()
    await expect.poll(() => status().textContent()).toContain('1 node · 0 links')

    // A wait for the order, with nothing selected: it stands alone, its slots open.
    await page.getByRole('button', { name: '+ waitFor', exact: true }).click()
    await node('waitFor1').waitFor()
    await expect.poll(() => node('waitFor1').getAttribute('class')).toContain('selected')
    expect(await node('waitFor1').locator('.journey-node').getAttribute('class')).toContain(
      'has-problems',
    )
    await settings().getByLabel('event performed').fill('Order Completed')
    await settings().getByLabel('days', { exact: true }).fill('')
    await settings().getByLabel('hours', { exact: true }).fill('1')
    await settings().getByRole('button', { name: 'Set as start' }).click()
    await expect.poll(() => status().textContent()).toContain('start waitFor1')
    await expect
      .poll(() => node('waitFor1').locator('.journey-node-summary').textContent())
      .toBe('wait for Order Completed · 1 hour')

    // Performed in time: dragged from the "next" handle onto the exit.
    await link('waitFor1', 'next', 'exit1')
    await expect.poll(() => status().textContent()).toContain('2 nodes · 1 link')

    // Added after the selected wait: its first open slot, onTimeout, leads to the email.
    await node('waitFor1').locator('.journey-node-head').click()
    await page.getByRole('button', { name: '+ email', exact: true }).click()
    await node('email1').waitFor()
    await settings().getByLabel('template', { exact: true }).selectOption(template.id)
    // The email's own link from the keyboard: the form's select.
    await settings().getByLabel('next', { exact: true }).selectOption('exit1')
    await expect.poll(() => status().textContent()).toContain('3 nodes · 3 links')
    await expect.poll(() => status().textContent()).toContain('no problems shown')
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(3)
    for (const edge of [
      'waitFor1 next to exit1',
      'waitFor1 onTimeout to email1',
      'email1 next to exit1',
    ]) {
      await expect
        .poll(() => page.locator(`.react-flow__edge[aria-label="${edge}"]`).count())
        .toBe(1)
    }
    await expect
      .poll(() => node('email1').locator('.journey-node-summary').textContent())
      .toBe(`email ${template.name}`)

    // Entered by adding to a cart; converted by an order within a day.
    const form = journeySettings()
    await form.getByRole('radio', { name: 'Event', exact: true }).check()
    await form.getByRole('textbox', { name: 'Event', exact: true }).fill('Product Added')
    await form.getByLabel('Converts on the event').fill('Order Completed')
    await form.getByLabel('Within (from entry; 0 for any time): days').fill('1')

    await page.locator('.journey-canvas').evaluate((canvas) => canvas.scrollIntoView())
    await page.getByRole('button', { name: 'Arrange' }).click()
    await node('waitFor1').locator('.journey-node-head').click()
    await page.waitForTimeout(300)
    await screenshot(page, '40-journey-canvas')
    await settings().getByLabel('event performed').focus()
    await screenshot(page, '41-journey-node-form')

    await page.getByRole('button', { name: /save as new version/i }).click()
    await page.getByText(/saved version 1/i).waitFor()
    const saved = await management<{ definition: JourneyDefinition }>(
      `/api/journeys/${cart}/versions/1`,
    )
    expect(saved.status).toBe(200)
    expect(saved.body.definition).toEqual(abandonedCart(template.id))
  })

  it('simulates a cart with no order: the reminder in the trace, its node lit', async () => {
    await tab('Simulator')
    await page.click('button:text-is("Add event")')
    const event = page.locator('li[data-event="0"]')
    await event.getByLabel('Event', { exact: true }).fill('Product Added')
    await event.getByLabel('Properties (JSON)').fill('{"name": "Boots"}')
    await page.getByLabel('Watch until: days').fill('0')
    await page.getByLabel('Watch until: hours').fill('2')
    await page.click('button:text-is("Run simulation")')
    const reminder = page.locator(`[data-would-send="${template.id}"]`)
    await reminder.waitFor()
    expect(await reminder.locator('.email-subject').textContent()).toBe(
      'You left Boots in your cart',
    )
    const steps = await page
      .locator('ol[data-trace] li')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-node')))
    expect(steps).toContain('waitFor1')
    expect(steps).toContain('email1')
    expect(steps.at(-1)).toBe('exit1')

    // Stepped through to the reminder: its node lit on the graph, its email shown whole.
    const at = steps.indexOf('email1')
    for (let i = 0; i < at; i++) await page.click('button:text-is("Next step")')
    await page.waitForURL((url) => url.searchParams.get('step') === String(at))
    await node('email1').locator('.lit').waitFor()
    expect(await page.locator('.react-flow__node .lit').count()).toBe(1)
    expect(await page.locator('.step-detail iframe.email-html').getAttribute('srcdoc')).toContain(
      'Boots is still in your cart.',
    )
  })

  it('publishes version 1; the figures move as a real contact adds to a cart, then orders', async () => {
    await tab('Versions')
    await page.click('button:text-is("Publish v1")')
    await versionRow(1).and(page.locator('[data-live="true"]')).waitFor()
    expect(await page.textContent('.journey-status')).toContain('live')

    await tab('Overview')
    await page.waitForSelector(nodeFigure('waitFor1', 'waiting'))
    expect(await numberIn(page, nodeFigure('waitFor1', 'entered'))).toBe(0)
    expect(await numberIn(page, '.journey-summary [data-figure="entered"]')).toBe(0)

    // Re-entry is never, so the repeated cart starts only one run.
    await enterJourney(writeKey, cart, 'waitFor1', {
      userId: shopper,
      event: 'Product Added',
      properties: { name: 'Boots', price: 80 },
    })
    await eventually(async () => {
      await page.reload()
      await page.waitForSelector(nodeFigure('waitFor1', 'waiting'))
      return (await numberIn(page, nodeFigure('waitFor1', 'waiting'))) === 1
    }, 30_000)
    expect(await numberIn(page, nodeFigure('waitFor1', 'entered'))).toBe(1)
    expect(await numberIn(page, '.journey-summary [data-figure="entered"]')).toBe(1)
    expect(await numberIn(page, '.journey-summary [data-figure="converted"]')).toBe(0)
    expect(await node('waitFor1').locator('.journey-node-overlay').textContent()).toContain(
      '1 wait',
    )

    await ingest(writeKey, '/v1/track', {
      userId: shopper,
      event: 'Order Completed',
      properties: { total: 80 },
    })
    await eventually(async () => {
      await page.reload()
      await page.waitForSelector(nodeFigure('waitFor1', 'waiting'))
      return (await numberIn(page, '.journey-summary [data-figure="converted"]')) === 1
    }, 30_000)
    // The order ends the run where it waited: converted there, the reminder never sent.
    expect(await numberIn(page, nodeFigure('waitFor1', 'waiting'))).toBe(0)
    expect(await numberIn(page, nodeFigure('waitFor1', 'converted'))).toBe(1)
    expect(await numberIn(page, nodeFigure('email1', 'entered'))).toBe(0)
    expect(await page.textContent('.journey-summary [data-figure="completion"]')).toMatch(/%/)
    await page.locator('.journey-canvas').evaluate((canvas) => canvas.scrollIntoView())
    await screenshot(page, '39-journey-canvas-live')
  })

  it('saves a second version from the editor, publishes it and rolls back to version 1', async () => {
    await page.click('a:text-is("Edit from this version")')
    await node('waitFor1').waitFor()
    // The order is awaited two hours instead of one.
    await node('waitFor1').locator('.journey-node-head').click()
    await settings().getByLabel('hours', { exact: true }).fill('2')
    await expect
      .poll(() => node('waitFor1').locator('.journey-node-summary').textContent())
      .toBe('wait for Order Completed · 2 hours')
    await page.getByRole('button', { name: /save as new version/i }).click()
    await page.getByText(/saved version 2/i).waitFor()

    await page.click('a:text-is("Publish it")')
    await page.click('button:text-is("Publish v2")')
    await versionRow(2).and(page.locator('[data-live="true"]')).waitFor()
    expect(await versionRow(1).getAttribute('data-live')).toBe('false')

    await page.click('button:text-is("Roll back to v1")')
    const dialog = page.locator('dialog[open]')
    expect(await dialog.locator('h2').textContent()).toBe('Roll back to v1?')
    await dialog.locator('button:text-is("Make v1 live")').click()
    await versionRow(1).and(page.locator('[data-live="true"]')).waitFor()
    expect(await versionRow(2).getAttribute('data-live')).toBe('false')
    expect(await page.textContent('table[data-history] tbody tr:first-child')).toContain('rollback')

    // The overview shows version 1 live again, with the contact's figures.
    await tab('Overview')
    await page.waitForSelector('#graph-title:text("Version 1")')
    expect(await page.textContent('#graph-title')).toContain('live')
    await page.waitForSelector(nodeFigure('waitFor1', 'entered'))
    expect(await numberIn(page, nodeFigure('waitFor1', 'entered'))).toBe(1)
    const journey = await management<{ live: { version: number }[] }>(`/api/journeys/${cart}`)
    expect(journey.body.live).toEqual([{ version: 1, weight: 1 }])
  })
})

describe('the journey editor', () => {
  beforeAll(async () => {
    // The same abandoned cart, saved through the API: the editor's own checks start from it.
    const journey = await created<{ id: string }>('/api/journeys', { name: `Cart copy ${run}` })
    await created(`/api/journeys/${journey.id}/versions`, {
      definition: abandonedCart(template.id),
    })
    await page.goto(`${stackUrl}/journeys/${journey.id}/edit`)
    await status().filter({ hasText: '3 nodes · 3 links' }).waitFor()
  })

  it("shows the API's problems on their node; Delete removes a node or a link", async () => {
    // Nothing selected: a track node on its own, no event, nowhere to go.
    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } })
    await page.getByRole('button', { name: '+ track', exact: true }).click()
    await node('track1').waitFor()
    const save = page.getByRole('button', { name: /save as new version/i })
    const problems = node('track1').locator('.journey-node-problems')
    await save.click()
    await expect.poll(() => problems.textContent()).toMatch(/^event: /)
    await expect
      .poll(() => settings().locator('.journey-settings-problems').textContent())
      .toMatch(/next: not connected/)

    // Complete, but nothing leads to it: the graph check's problem lands on it.
    await settings().getByLabel('event', { exact: true }).fill('Checked Out')
    await settings().getByLabel('next', { exact: true }).selectOption('exit1')
    await save.click()
    await expect.poll(() => problems.textContent()).toMatch(/unreachable/)
    await page.locator('.journey-canvas').evaluate((canvas) => canvas.scrollIntoView())
    await screenshot(page, '43-journey-node-problems')

    await node('track1').locator('.journey-node-head').click()
    await page.keyboard.press('Delete')
    await expect.poll(() => node('track1').count()).toBe(0)
    await expect.poll(() => status().textContent()).toContain('3 nodes · 3 links')

    // A link from the keyboard: focus it, select it, Delete; then the form links it again.
    const emailLink = page.locator('.react-flow__edge[aria-label="email1 next to exit1"]')
    await emailLink.focus()
    await page.keyboard.press('Enter')
    await expect.poll(() => emailLink.getAttribute('class')).toContain('selected')
    await page.keyboard.press('Delete')
    await expect.poll(() => status().textContent()).toContain('3 nodes · 2 links')
    expect(await node('email1').locator('.journey-node-slots li.open').textContent()).toBe('next')
    await page.locator('.journey-flow-status').getByLabel('Node').selectOption('email1')
    await settings().getByLabel('next', { exact: true }).selectOption('exit1')
    await expect.poll(() => status().textContent()).toContain('3 nodes · 3 links')
  })

  it('adds each of the 14 node types with its form; a bad JSON rule says why', async () => {
    for (const type of NODE_TYPES) {
      await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } })
      await page.getByRole('button', { name: `+ ${type}`, exact: true }).click()
      const heading = settings().locator('h2')
      await expect.poll(() => heading.textContent()).toMatch(new RegExp(`^${type} ${type}\\d`))
      const id = (await heading.locator('.mono').textContent())!
      await expect.poll(() => node(id).locator('.journey-node-type').textContent()).toBe(type)
      expect(await node(id).locator('.journey-node-summary').textContent()).not.toBe('')
      if (type === 'branch') {
        const rule = settings().getByLabel(/^case 1 rule/)
        await rule.fill('{"trait": "plan", ')
        await expect.poll(() => settings().getByRole('alert').textContent()).toMatch(/^not JSON/)
        await page.locator('.journey-canvas').evaluate((canvas) => canvas.scrollIntoView())
        await screenshot(page, '44-journey-branch-form')
        await rule.fill('{"trait": "plan", "op": "eq", "value": "pro"}')
        await expect.poll(() => settings().getByRole('alert').count()).toBe(0)
      }
      await settings().getByRole('button', { name: 'Delete node' }).click()
      await expect.poll(() => node(id).count()).toBe(0)
    }
    await expect.poll(() => status().textContent()).toContain('3 nodes · 3 links')
  })

  it('keeps a 50-node journey responsive while a node is dragged (frame rate reported)', async () => {
    const journey = await created<{ id: string }>('/api/journeys', { name: `Fifty ${run}` })
    await created(`/api/journeys/${journey.id}/versions`, { definition: fiftyNodes(template.id) })
    await page.goto(`${stackUrl}/journeys/${journey.id}/edit`)
    await expect.poll(() => page.locator('.react-flow__node').count(), { timeout: 15_000 }).toBe(50)
    await expect.poll(() => status().textContent()).toContain('50 nodes')
    // The canvas sits under the journey's settings: bring it up, then fit the graph in it.
    await page.locator('.journey-canvas').evaluate((canvas) => canvas.scrollIntoView())
    await page.getByRole('button', { name: 'Arrange' }).click()
    await page.waitForTimeout(500)
    await screenshot(page, '42-journey-50-nodes')

    const dragged = node('p2s4')
    const before = await dragged.getAttribute('style')
    const box = (await dragged.locator('.journey-node-head').boundingBox())!
    await page.evaluate(() => {
      const w = window as unknown as { frames_: number[]; counting: boolean }
      w.frames_ = []
      w.counting = true
      const tick = (time: number) => {
        w.frames_.push(time)
        if (w.counting) requestAnimationFrame(tick)
      }
      requestAnimationFrame(tick)
    })
    await page.mouse.move(box.x + 20, box.y + box.height / 2)
    await page.mouse.down()
    const started = Date.now()
    for (let i = 1; Date.now() - started < 1_000; i++) {
      await page.mouse.move(box.x + 20 + i * 2, box.y + box.height / 2 + Math.sin(i / 5) * 40)
      await page.waitForTimeout(8)
    }
    await page.mouse.up()
    const frames = await page.evaluate(() => {
      const w = window as unknown as { frames_: number[]; counting: boolean }
      w.counting = false
      return w.frames_
    })
    const gaps = frames.slice(1).map((t, i) => t - frames[i]!)
    const seconds = (frames.at(-1)! - frames[0]!) / 1000
    const fps = (frames.length - 1) / seconds
    const worst = Math.max(...gaps)
    const slow = gaps.filter((gap) => gap > 1000 / 50).length
    console.log(
      `journey canvas, 50 nodes, one node dragged for ${seconds.toFixed(2)} s: ` +
        `${fps.toFixed(1)} frames per second (requestAnimationFrame in the page), ` +
        `longest frame ${worst.toFixed(1)} ms, ${slow} of ${gaps.length} frames over 20 ms`,
    )
    // What a user would notice: the node followed the pointer.
    expect(await dragged.getAttribute('style')).not.toBe(before)
  })
})

/**
 * Fifty nodes of the kinds that lead on: a welcome email and a wait, then a split into five
 * paths of nine steps (waits, tracks, branches that skip a step, emails, trait updates, waits
 * for an event), all meeting at a last track and the exit.
 */
function fiftyNodes(templateId: string): JourneyDefinition {
  const nodes: Record<string, JourneyNode> = {
    welcome: { type: 'email', template: templateId, next: 'pause' },
    pause: { type: 'wait', for: { days: 1 }, next: 'n0' },
    n0: {
      type: 'split',
      paths: [0, 1, 2, 3, 4].map((p) => ({ weight: 1, next: `p${p}s0` })),
    },
    bye: { type: 'track', event: 'Journey Done', next: 'end' },
    end: { type: 'exit' },
  }
  for (let p = 0; p < 5; p++) {
    const at = (step: number) => (step >= 9 ? 'bye' : `p${p}s${step}`)
    for (let step = 0; step < 9; step++) {
      const next = at(step + 1)
      const kinds: JourneyNode[] = [
        { type: 'wait', for: { hours: 1 + step }, next },
        { type: 'track', event: `Step ${step}`, next },
        {
          type: 'branch',
          cases: [{ rule: { trait: 'plan', op: 'eq', value: 'pro' }, next }],
          otherwise: at(step + 2),
        },
        { type: 'email', template: templateId, next },
        { type: 'updateTraits', traits: { step }, next },
        {
          type: 'waitFor',
          performed: 'Order Completed',
          timeout: { days: 1 },
          next,
          onTimeout: at(step + 2),
        },
      ]
      nodes[at(step)] = kinds[(step + p) % kinds.length]!
    }
  }
  return { entry: { event: `Fifty ${run}` }, start: 'welcome', nodes }
}
