import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { JourneyDefinition } from '../../domain/journeys/definition'
import { uid } from '../../test/support/api'
import { journeyMetrics } from './metrics'
import { addVersion, createJourney, publish } from './store'

const definition: JourneyDefinition = {
  entry: { event: 'Signed Up' },
  start: 'mail',
  nodes: {
    mail: { type: 'email', template: 'welcome', next: 'wait' },
    wait: { type: 'wait', for: { days: 2 }, next: 'done' },
    done: { type: 'exit' },
  },
}

interface RunSpec {
  version: number
  state: 'active' | 'completed' | 'exited'
  node: string
  waiting?: boolean
  converted?: boolean
  /** [node, next] per step, in order. */
  steps: [string, string | null][]
  message?: string
}

/** Rows as the projections write them, made by hand so the expected numbers can be reasoned. */
async function insertRuns(journeyId: string, runs: RunSpec[]) {
  const statements: D1PreparedStatement[] = []
  const at = '2030-01-01T00:00:00.000Z'
  for (const run of runs) {
    const id = uid('run')
    const contact = uid('contact')
    statements.push(
      env.DB.prepare(
        `INSERT INTO journey_runs (id, contact_key, journey_id, version, state, started_at,
           updated_at, node, waiting, converted, paths, last_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)`,
      ).bind(
        id,
        contact,
        journeyId,
        run.version,
        run.state,
        at,
        at,
        run.node,
        run.waiting ? 1 : 0,
        run.converted ? 1 : 0,
        run.steps.length,
      ),
      ...run.steps.map(([node, next], i) =>
        env.DB.prepare(
          `INSERT INTO journey_steps (run_id, seq, contact_key, journey_id, version, node, type,
             outcome, next, at) VALUES (?, ?, ?, ?, ?, ?, ?, 'x', ?, ?)`,
        ).bind(
          id,
          i + 1,
          contact,
          journeyId,
          run.version,
          node,
          definition.nodes[node]!.type,
          next,
          at,
        ),
      ),
    )
    if (run.message) {
      statements.push(
        env.DB.prepare(
          `INSERT INTO messages (id, contact_key, template_id, journey_id, journey_version,
             journey_node, kind, status, attempts, version, created_at, updated_at)
           VALUES (?, ?, 'welcome', ?, ?, 'mail', 'marketing', ?, '[]', 1, ?, ?)`,
        ).bind(uid('msg'), contact, journeyId, run.version, run.message, at, at),
      )
    }
  }
  await env.DB.batch(statements)
}

const through: [string, string | null][] = [
  ['mail', 'wait'],
  ['wait', null],
  ['wait', 'done'],
  ['done', null],
]
const heldAtWait: [string, string | null][] = [
  ['mail', 'wait'],
  ['wait', null],
]

describe('journey metrics', () => {
  it('counts each version and node from the runs, steps and messages D1 holds', async () => {
    const { id } = await createJourney(env.DB, { name: uid('Metrics') })
    await addVersion(env.DB, id, definition)
    await addVersion(env.DB, id, definition)
    await publish(env.DB, id, [
      { version: 1, weight: 80 },
      { version: 2, weight: 20 },
    ])
    await insertRuns(id, [
      // Version 1: one run through to the goal, one through without it, one that left by
      // exitWhen while waiting, one waiting now.
      {
        version: 1,
        state: 'completed',
        node: 'done',
        converted: true,
        steps: through,
        message: 'opened',
      },
      { version: 1, state: 'completed', node: 'done', steps: through, message: 'delivered' },
      { version: 1, state: 'exited', node: 'wait', steps: heldAtWait, message: 'delivered' },
      {
        version: 1,
        state: 'active',
        node: 'wait',
        waiting: true,
        steps: heldAtWait,
        message: 'no_consent',
      },
      // Version 2: one run waiting, its message not reported yet.
      { version: 2, state: 'active', node: 'wait', waiting: true, steps: heldAtWait },
    ])
    // Another journey's runs count nowhere here.
    const other = await createJourney(env.DB, { name: uid('Other') })
    await addVersion(env.DB, other.id, definition)
    await insertRuns(other.id, [
      { version: 1, state: 'completed', node: 'done', steps: through, message: 'sent' },
    ])

    const metrics = await journeyMetrics(env.DB, id)
    const [v1, v2] = metrics!.versions
    expect(v1).toEqual({
      version: 1,
      live: true,
      weight: 80,
      entered: 4,
      active: 1,
      completed: 2,
      exited: 1,
      converted: 1,
      // 2 completed of the 3 that ended; 1 converted of the 4 that entered.
      completionRate: 2 / 3,
      conversionRate: 1 / 4,
      nodes: {
        // All four reached the email and went on; one of them converted later; one message each.
        mail: {
          type: 'email',
          entered: 4,
          waiting: 0,
          progressed: 4,
          exited: 0,
          converted: 1,
          messages: { opened: 1, delivered: 2, no_consent: 1 },
        },
        // Two left it for `done`, one left the journey there, one is still there; a run's two
        // steps at the wait (arrived, wait over) count it once.
        wait: { type: 'wait', entered: 4, waiting: 1, progressed: 2, exited: 1, converted: 1 },
        // The two that went through ended there.
        done: { type: 'exit', entered: 2, waiting: 0, progressed: 0, exited: 2, converted: 1 },
      },
    })
    expect(v2).toMatchObject({
      version: 2,
      live: true,
      weight: 20,
      entered: 1,
      active: 1,
      // Nothing ended yet: no rate to show.
      completionRate: null,
      conversionRate: 0,
      nodes: {
        mail: { entered: 1, progressed: 1, messages: {} },
        wait: { entered: 1, waiting: 1, progressed: 0 },
        done: { entered: 0, exited: 0 },
      },
    })
  })

  it('answers null for a journey that does not exist', async () => {
    expect(await journeyMetrics(env.DB, uid('missing'))).toBeNull()
  })
})
