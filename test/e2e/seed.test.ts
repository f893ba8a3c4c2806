import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startLocalStack, type LocalStack } from '../../scripts/local-stack.ts'
import { seedDemo, type SeedResult } from '../../scripts/seed.ts'
import { DemoApi, eventually } from '../../scripts/seed-api.ts'
import { journeyMetrics, type JourneyMetrics } from '../../scripts/seed-automation.ts'

/**
 * The demo data `npm start` seeds makes each screen meaningful (issue 26): the attribution
 * models disagree, the purchase models are fitted with contacts at risk, and the journeys run
 * with messages and conversions. On a stack of its own, fresh as `npm start`'s first run: the
 * shared stack's other files define conversions and segments of their own. Fewer visitors and
 * customers than `npm start`'s, for time; the same code.
 */

let folder: string
let stack: LocalStack
let seeded: SeedResult

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cairn-seed-'))
  stack = await startLocalStack({ port: await freePort(), persistTo: folder })
  seeded = await seedDemo({
    url: stack.url,
    adminKey: stack.adminKey,
    visitors: 160,
    customers: 120,
  })
}, 240_000)

afterAll(async () => {
  await stack?.stop()
  if (folder) await rm(folder, { recursive: true, force: true })
}, 60_000)

async function management<T>(path: string): Promise<T> {
  const response = await fetch(`${stack.url}${path}`, {
    headers: { Authorization: `Bearer ${stack.adminKey}` },
  })
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200)
  return (await response.json()) as T
}

type Credits = Record<string, Record<string, { conversions: number; value: number }>>

describe('the demo seed', () => {
  it('gives visitors paths over several channels, so the attribution models disagree', async () => {
    const { models } = await management<{ models: Credits }>('/api/attribution/compare')
    const channels = Object.keys(models.last!)
    expect(channels).toEqual(
      expect.arrayContaining([
        'organic_search',
        'paid_search',
        'email',
        'organic_social',
        'direct',
      ]),
    )
    for (const channel of channels) {
      const byModel = Object.values(models).map((m) => (m[channel]?.conversions ?? 0).toFixed(2))
      expect(new Set(byModel).size, `${channel}: ${byModel.join(' ')}`).toBeGreaterThanOrEqual(2)
    }
    // Discovery channels bring first visits, email brings visitors back to buy.
    expect(models.first!.organic_search!.conversions).toBeGreaterThan(
      models.last!.organic_search!.conversions,
    )
    expect(models.last!.email!.conversions).toBeGreaterThan(models.first!.email!.conversions)
    // The data-driven models are fitted, so Markov is not Shapley's even split.
    const differs = channels.some(
      (c) => Math.abs(models.markov![c]!.conversions - models.shapley![c]!.conversions) > 0.5,
    )
    expect(differs, JSON.stringify({ markov: models.markov, shapley: models.shapley })).toBe(true)
    expect(seeded.averageVisits).toBeGreaterThan(1.5)
  })

  it('fits the purchase models and lists lapsed customers at risk', async () => {
    const model = await management<{
      customers: number
      bgnbd: Record<'r' | 'alpha' | 'a' | 'b' | 'penalizer', number> & { converged: boolean }
      gammaGamma: unknown
    }>('/api/predictions/model')
    expect(model.customers).toBeGreaterThanOrEqual(120)
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      expect(model.bgnbd[name], name).toBeGreaterThan(0)
      expect(Number.isFinite(model.bgnbd[name]), name).toBe(true)
    }
    // Customers drop out as the BG/NBD says, so its plain maximum-likelihood fit converges.
    expect(model.bgnbd).toMatchObject({ converged: true, penalizer: 0 })
    expect(model.gammaGamma).not.toBeNull()

    const { items } = await management<{ items: { contactId: string; churnRisk: number }[] }>(
      '/api/predictions/at-risk?limit=1000',
    )
    // Each customer's object projects its own predictions a minute after its last purchase, so
    // the list may have moved since the seed counted it; it is never empty.
    expect(seeded.predictions!.atRisk).toBeGreaterThan(0)
    expect(items.length).toBeGreaterThan(0)
    expect(items.every((c) => c.churnRisk >= 0.5)).toBe(true)
    expect(items.some((c) => c.contactId.startsWith('demo-customer-'))).toBe(true)

    const { items: segments } = await management<{ items: { id: string; name: string }[] }>(
      '/api/segments',
    )
    expect(segments.map((s) => s.name)).toContain('Customers at risk of churning')
  })

  it('runs the welcome series, the abandoned-cart and win-back journeys with messages', async () => {
    const journeys = Object.fromEntries(seeded.journeys.map((j) => [j.name, j]))
    expect(Object.values(journeys).map((j) => j.status)).toEqual(['live', 'live', 'live'])
    // Runs and messages reach D1 through the queue, and the log provider sends from it.
    const settled = (id: string, done: (m: JourneyMetrics) => boolean) =>
      eventually(`the metrics of ${id}`, async () => {
        const metrics = await journeyMetrics(new DemoApi(stack.url, stack.adminKey), id)
        return done(metrics) ? metrics : undefined
      })

    const welcome = await settled(
      journeys['Welcome series']!.id,
      (m) => m.entered === seeded.signups && (m.messages.sent ?? 0) > 0,
    )
    expect(welcome.converted).toBe(seeded.activated)
    // Sign-ups who did not tick the marketing box get no marketing email.
    expect(welcome.messages.no_consent).toBeGreaterThan(0)

    const cart = await settled(
      journeys['Abandoned cart']!.id,
      (m) => m.entered === seeded.carts.filled && m.converted === seeded.carts.ordered,
    )
    // The others wait for the reminder, an hour after the cart.
    expect(cart.active).toBe(seeded.carts.filled - seeded.carts.ordered)

    const winBack = await settled(journeys['Win-back']!.id, (m) => (m.messages.sent ?? 0) > 0)
    expect(winBack.entered).toBeGreaterThan(0)
  })
})
