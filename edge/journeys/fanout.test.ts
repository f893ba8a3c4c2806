import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { JourneyDefinition } from '../../domain/journeys/definition'
import { createSource, eventually, send, uid } from '../../test/support/api'
import { forgetJourneyConfig } from './config'
import { startFanOut } from './fanout'
import { addVersion, createJourney, publish } from './store'

/** Fan-outs through the events queue to the contact objects with active runs (fanout.ts). */

let writeKey: string

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Fan-out tests' })).writeKey
})

const waiting = (hold: string): JourneyDefinition => ({
  entry: { event: 'Trial Started' },
  start: hold,
  nodes: { [hold]: { type: 'wait', for: { days: 3 }, next: 'done' }, done: { type: 'exit' } },
})

async function versionsInD1(journeyId: string, user: string) {
  return (
    await env.DB.prepare(
      "SELECT version, node FROM journey_runs WHERE journey_id = ? AND contact_key = ? AND state = 'active'",
    )
      .bind(journeyId, user)
      .all<{ version: number; node: string }>()
  ).results
}

describe('journey fan-outs', () => {
  it('moves the waiting runs of every contact, page after page, to the new version', async () => {
    const { id } = await createJourney(env.DB, { name: uid('Migrate') })
    await addVersion(env.DB, id, waiting('hold'))
    await publish(env.DB, id, [{ version: 1, weight: 1 }])
    forgetJourneyConfig()
    const users = [uid('user'), uid('user')]
    for (const user of users) {
      await send('/v1/track', writeKey, { userId: user, event: 'Trial Started' })
    }
    for (const user of users) {
      await eventually(async () => (await versionsInD1(id, user)).length === 1)
    }
    // More active runs than a page holds, of contacts whose keys sort before the real ones, so
    // these are told only by a page after the first. Their objects hold nothing: they do nothing.
    const at = new Date().toISOString()
    await env.DB.batch(
      Array.from({ length: 120 }, (_, i) =>
        env.DB.prepare(
          `INSERT INTO journey_runs (id, contact_key, journey_id, version, state, started_at,
             updated_at, node, waiting) VALUES (?, ?, ?, 1, 'active', ?, ?, 'hold', 1)`,
        ).bind(uid('run'), `filler-${String(i).padStart(3, '0')}`, id, at, at),
      ),
    )

    await addVersion(env.DB, id, waiting('pause'))
    await startFanOut(env, id, { op: 'migrate', from: 1, to: 2, nodeMap: { hold: 'pause' } })
    for (const user of users) {
      const moved = await eventually(async () => {
        const runs = await versionsInD1(id, user)
        return runs[0]?.version === 2 ? runs : undefined
      })
      expect(moved).toEqual([{ version: 2, node: 'pause' }])
    }
  })
})
