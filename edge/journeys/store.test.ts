import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { JourneyDefinition } from '../../domain/journeys/definition'
import { uid } from '../../test/support/api'
import { ApiError } from '../errors'
import {
  addVersion,
  createJourney,
  getJourney,
  getVersion,
  listJourneys,
  publish,
  rollback,
  setPaused,
} from './store'

const definition = (template = 'welcome'): JourneyDefinition => ({
  entry: { event: 'Signed Up' },
  start: 'mail',
  nodes: { mail: { type: 'email', template, next: 'done' }, done: { type: 'exit' } },
})

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ApiError)
  return error as ApiError
}

async function journeyWithVersions(count: number) {
  const { id } = await createJourney(env.DB, { name: uid('Journey') })
  for (let i = 0; i < count; i++) await addVersion(env.DB, id, definition(`t${i + 1}`))
  return id
}

describe('journeys in D1', () => {
  it('names a journey by its name and refuses a second journey of the same name', async () => {
    const name = `Welcome Série ${uid('x')}`
    const created = await createJourney(env.DB, { name })
    expect(created.id).toMatch(/^welcome-serie-/)
    expect(created).toMatchObject({ name, status: 'draft', live: null })
    const taken = await rejection(createJourney(env.DB, { name }))
    expect([taken.status, taken.code]).toEqual([409, 'journey_exists'])
    expect((await listJourneys(env.DB)).map((j) => j.id)).toContain(created.id)
  })

  it('numbers versions 1, 2, 3 and gives two saves at the same instant different numbers', async () => {
    const { id } = await createJourney(env.DB, { name: uid('Concurrent') })
    expect(await addVersion(env.DB, id, definition('a'))).toBe(1)
    const both = await Promise.all([
      addVersion(env.DB, id, definition('b')),
      addVersion(env.DB, id, definition('c')),
    ])
    expect(both.sort()).toEqual([2, 3])
    const stored = await Promise.all(both.map((v) => getVersion(env.DB, id, v)))
    // Each number holds the definition its own save sent, not the other's.
    const templates = stored.map((v) => (v!.definition.nodes.mail as { template: string }).template)
    expect(templates.sort()).toEqual(['b', 'c'])
    expect((await getJourney(env.DB, id))!.versions.map((v) => v.version)).toEqual([1, 2, 3])
  })

  it('refuses a version for a journey that does not exist', async () => {
    const error = await rejection(addVersion(env.DB, uid('missing'), definition()))
    expect(error.status).toBe(404)
  })

  it('publishes only saved versions and makes a draft live', async () => {
    const id = await journeyWithVersions(1)
    const unknown = await rejection(publish(env.DB, id, [{ version: 2, weight: 1 }]))
    expect([unknown.status, unknown.code]).toEqual([400, 'unknown_version'])
    const live = await publish(env.DB, id, [{ version: 1, weight: 1 }])
    expect(live).toMatchObject({ status: 'live', live: [{ version: 1, weight: 1 }] })
    expect(await getJourney(env.DB, id)).toMatchObject({
      status: 'live',
      live: [{ version: 1, weight: 1 }],
      history: [{ seq: 1, action: 'publish', live: [{ version: 1, weight: 1 }] }],
    })
  })

  it('rolls back through earlier publishes one at a time, then refuses with 409', async () => {
    const id = await journeyWithVersions(3)
    const none = await rejection(rollback(env.DB, id))
    expect([none.status, none.code]).toEqual([409, 'no_previous_version'])
    await publish(env.DB, id, [{ version: 1, weight: 1 }])
    await publish(env.DB, id, [
      { version: 1, weight: 50 },
      { version: 2, weight: 50 },
    ])
    await setPaused(env.DB, id, true)
    await setPaused(env.DB, id, false)
    await publish(env.DB, id, [{ version: 3, weight: 1 }])

    // The pause and resume between are not publishes: the first rollback returns to the split.
    expect((await rollback(env.DB, id)).live).toEqual([
      { version: 1, weight: 50 },
      { version: 2, weight: 50 },
    ])
    expect((await rollback(env.DB, id)).live).toEqual([{ version: 1, weight: 1 }])
    const exhausted = await rejection(rollback(env.DB, id))
    expect(exhausted.status).toBe(409)

    const journey = (await getJourney(env.DB, id))!
    expect(journey.live).toEqual([{ version: 1, weight: 1 }])
    expect(journey.history.map((h) => h.action)).toEqual([
      'publish',
      'publish',
      'pause',
      'resume',
      'publish',
      'rollback',
      'rollback',
    ])
    // A publish after rollbacks is rolled back to where the rollbacks left it.
    await publish(env.DB, id, [{ version: 2, weight: 1 }])
    expect((await rollback(env.DB, id)).live).toEqual([{ version: 1, weight: 1 }])
  })

  it('keeps a paused journey paused when a version is published, until it is resumed', async () => {
    const id = await journeyWithVersions(2)
    const draft = await rejection(setPaused(env.DB, id, true))
    expect([draft.status, draft.code]).toEqual([409, 'not_published'])
    await publish(env.DB, id, [{ version: 1, weight: 1 }])
    expect(await setPaused(env.DB, id, true)).toBe(true)
    expect(await setPaused(env.DB, id, true)).toBe(false)
    expect((await publish(env.DB, id, [{ version: 2, weight: 1 }])).status).toBe('paused')
    expect((await getJourney(env.DB, id))!.status).toBe('paused')
    expect(await setPaused(env.DB, id, false)).toBe(true)
    expect(await getJourney(env.DB, id)).toMatchObject({
      status: 'live',
      live: [{ version: 2, weight: 1 }],
    })
  })
})
