import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { JourneyDefinition } from '../../domain/journeys/definition'
import { uid } from '../../test/support/api'
import { applyMessages } from '../queue/consumer'
import { loadJourneyConfig } from './config'
import { decideExperiments } from './experiments'
import { addVersion, createJourney, publish } from './store'

const definition: JourneyDefinition = {
  entry: { event: 'Signed Up' },
  goal: { performed: 'Order Completed' },
  start: 'subject',
  nodes: {
    subject: {
      type: 'experiment',
      minPerPath: 50,
      paths: [
        { name: 'short', weight: 1, next: 'short-mail' },
        { name: 'long', weight: 1, next: 'long-mail' },
      ],
    },
    'short-mail': { type: 'email', template: 'short', next: 'done' },
    'long-mail': { type: 'email', template: 'long', next: 'done' },
    done: { type: 'exit' },
  },
}

async function liveJourney() {
  const { id } = await createJourney(env.DB, { name: uid('Experiment') })
  await addVersion(env.DB, id, definition)
  await publish(env.DB, id, [{ version: 1, weight: 1 }])
  return id
}

/** `entered` runs down `path`, the first `converted` of them reaching the goal. */
async function runsDown(journeyId: string, path: string, entered: number, converted: number) {
  const at = '2030-01-01T00:00:00.000Z'
  await env.DB.batch(
    Array.from({ length: entered }, (_, i) =>
      env.DB.prepare(
        `INSERT INTO journey_runs (id, contact_key, journey_id, version, state, started_at,
           updated_at, node, converted, paths)
         VALUES (?, ?, ?, 1, ?, ?, ?, 'done', ?, ?)`,
      ).bind(
        uid('run'),
        uid('contact'),
        journeyId,
        i < converted ? 'completed' : 'exited',
        at,
        at,
        i < converted ? 1 : 0,
        JSON.stringify({ subject: path }),
      ),
    ),
  )
}

async function stored(journeyId: string) {
  return env.DB.prepare(
    'SELECT winner, p_value, decided_at, stats FROM journey_experiments WHERE journey_id = ?',
  )
    .bind(journeyId)
    .first<{
      winner: string | null
      p_value: number | null
      decided_at: string | null
      stats: string
    }>()
}

const generation = async () => Number((await loadJourneyConfig(env.DB)).version.split('.')[0])

describe('experiment decisions', () => {
  it('declares the path with the clearly better goal rate and sends later entrants down it', async () => {
    const id = await liveJourney()
    await runsDown(id, 'short', 100, 40)
    await runsDown(id, 'long', 100, 10)
    const before = await generation()

    const [decision] = await decideExperiments(env, id)
    expect(decision).toMatchObject({
      version: 1,
      node: 'subject',
      winner: 'short',
      paths: [
        { name: 'short', entered: 100, converted: 40 },
        { name: 'long', entered: 100, converted: 10 },
      ],
    })
    const row = await stored(id)
    expect(row).toMatchObject({ winner: 'short' })
    expect(row!.p_value).toBeLessThan(0.05)
    expect(row!.decided_at).not.toBeNull()
    // The contact objects' configuration names it, under a newer generation.
    const config = await loadJourneyConfig(env.DB)
    expect(config.journeys.find((j) => j.id === id)?.winners).toEqual({ '1:subject': 'short' })
    expect(await generation()).toBeGreaterThan(before)
    // Decided once: nothing is looked at again.
    expect(await decideExperiments(env, id)).toEqual([])
  })

  it('declares nothing while a path has fewer runs than minPerPath, and keeps the counts', async () => {
    const id = await liveJourney()
    await runsDown(id, 'short', 49, 40)
    await runsDown(id, 'long', 100, 10)
    const before = await generation()
    const [decision] = await decideExperiments(env, id)
    expect(decision!.winner).toBeNull()
    const row = await stored(id)
    expect(row).toMatchObject({ winner: null, decided_at: null })
    expect(JSON.parse(row!.stats).paths).toEqual([
      { name: 'short', entered: 49, converted: 40 },
      { name: 'long', entered: 100, converted: 10 },
    ])
    expect(await generation()).toBe(before)
  })

  it('decides when the queue projects a converted run of the journey', async () => {
    const id = await liveJourney()
    await runsDown(id, 'short', 100, 45)
    await runsDown(id, 'long', 99, 10)
    const contactKey = uid('converter')
    await applyMessages(env, [
      {
        kind: 'journey-run',
        contactKey,
        run: {
          id: uid('run'),
          journeyId: id,
          version: 1,
          state: 'completed',
          node: 'done',
          waiting: false,
          converted: true,
          reason: 'goal: Order Completed',
          paths: { subject: 'long' },
          enteredAt: '2030-01-01T00:00:00.000Z',
          endedAt: '2030-01-01T01:00:00.000Z',
        },
        steps: [],
        at: '2030-01-01T01:00:00.000Z',
      },
    ])
    expect(await stored(id)).toMatchObject({ winner: 'short' })
  })
})
