import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type {
  JourneyActionJob,
  JourneyRunMessage,
  MessageReport,
} from '../../contracts/queue-messages'
import { d1Count, eventually, uid } from '../../test/support/api'
import { prepare } from '../db/raw'
import { erasureStatements, expiryStatements } from '../projections/contact-tables'
import { applyMessages } from '../queue/consumer'

/** The queue consumer's journey kinds: runs and steps into D1, action jobs to the send queue. */

type Step = JourneyRunMessage['steps'][number]

function step(seq: number, node: string, next: string | null, type = 'wait'): Step {
  return {
    seq,
    at: new Date(Date.UTC(2030, 0, 1, 0, seq)).toISOString(),
    node,
    type,
    outcome: 'x',
    next,
  }
}

function report(
  contactKey: string,
  runId: string,
  run: Partial<JourneyRunMessage['run']>,
  steps: Step[],
  at: string,
): JourneyRunMessage {
  return {
    kind: 'journey-run',
    contactKey,
    run: {
      id: runId,
      journeyId: 'welcome',
      version: 1,
      state: 'active',
      node: 'start',
      waiting: false,
      converted: false,
      reason: null,
      paths: {},
      enteredAt: '2030-01-01T00:00:00.000Z',
      endedAt: null,
      ...run,
    },
    steps,
    at,
  }
}

async function runRow(id: string) {
  return env.DB.prepare(
    'SELECT contact_key, state, node, waiting, converted, paths, last_seq FROM journey_runs WHERE id = ?',
  )
    .bind(id)
    .first<Record<string, unknown>>()
}

const stepCount = (runId: string) =>
  d1Count('SELECT COUNT(*) AS n FROM journey_steps WHERE run_id = ?', runId)

describe('journey runs projected to D1', () => {
  it('counts a run and its steps once when its report is delivered twice', async () => {
    const contact = uid('twice')
    const first = report(
      contact,
      uid('run'),
      { node: 'wait', waiting: true },
      [step(1, 'start', 'wait', 'email'), step(2, 'wait', null)],
      '2030-01-01T00:02:00.000Z',
    )
    await applyMessages(env, [first])
    await applyMessages(env, [first, first])
    expect(
      await d1Count('SELECT COUNT(*) AS n FROM journey_runs WHERE contact_key = ?', contact),
    ).toBe(1)
    expect(await stepCount(first.run.id)).toBe(2)
    expect(await runRow(first.run.id)).toMatchObject({ node: 'wait', waiting: 1, last_seq: 2 })
  })

  it('keeps the newer report when an older one arrives after it', async () => {
    const contact = uid('late')
    const runId = uid('run')
    const older = report(
      contact,
      runId,
      { node: 'wait', waiting: true },
      [step(1, 'start', 'wait', 'email'), step(2, 'wait', null)],
      '2030-01-01T00:02:00.000Z',
    )
    const newer = report(
      contact,
      runId,
      { node: 'later', waiting: true, paths: { exp: 'a' } },
      [step(3, 'wait', 'exp'), step(4, 'exp', 'later', 'experiment'), step(5, 'later', null)],
      '2030-01-02T00:00:00.000Z',
    )
    await applyMessages(env, [newer])
    await applyMessages(env, [older])
    expect(await runRow(runId)).toMatchObject({ node: 'later', last_seq: 5, paths: '{"exp":"a"}' })
    // The older report's steps were still missing: they are added.
    expect(await stepCount(runId)).toBe(5)

    // Both in one batch, newer first: the same.
    const other = uid('run')
    await applyMessages(env, [
      { ...newer, run: { ...newer.run, id: other } },
      { ...older, run: { ...older.run, id: other } },
    ])
    expect(await runRow(other)).toMatchObject({ node: 'later', last_seq: 5 })
  })

  it('keeps an ended run ended when an active report of it arrives late', async () => {
    const contact = uid('ended')
    const runId = uid('run')
    const waiting = report(
      contact,
      runId,
      { node: 'wait', waiting: true },
      [step(1, 'start', 'wait', 'email'), step(2, 'wait', null)],
      '2030-01-01T00:02:00.000Z',
    )
    // The goal ends a run without a step of its own.
    const converted = report(
      contact,
      runId,
      {
        node: 'wait',
        state: 'completed',
        converted: true,
        reason: 'goal: Order Completed',
        endedAt: '2030-01-01T00:03:00.000Z',
      },
      [],
      '2030-01-01T00:03:00.000Z',
    )
    await applyMessages(env, [converted])
    await applyMessages(env, [waiting])
    expect(await runRow(runId)).toMatchObject({ state: 'completed', converted: 1, waiting: 0 })
    expect(await stepCount(runId)).toBe(2)
  })

  it('moves the runs and steps of an anonymous contact onto the contact that absorbed it', async () => {
    const from = `anon:${uid('anon')}`
    const into = uid('user')
    const early = report(
      from,
      uid('run'),
      { node: 'wait', waiting: true },
      [step(1, 'wait', null)],
      '2030-01-01T00:01:00.000Z',
    )
    await applyMessages(env, [early])
    const at = new Date().toISOString()
    // A report still queued when the merge lands goes to the absorbing contact too.
    const late = report(from, uid('run'), {}, [step(1, 'start', null)], at)
    await applyMessages(env, [{ kind: 'merge', from, into, at }, late])
    for (const table of ['journey_runs', 'journey_steps']) {
      expect(await d1Count(`SELECT COUNT(*) AS n FROM ${table} WHERE contact_key = ?`, from)).toBe(
        0,
      )
      expect(await d1Count(`SELECT COUNT(*) AS n FROM ${table} WHERE contact_key = ?`, into)).toBe(
        2,
      )
    }
  })

  it("records an email node's journey version and node on its message", async () => {
    const id = uid('msg')
    const message: MessageReport = {
      kind: 'message',
      id,
      contactKey: uid('reader'),
      templateId: 'welcome',
      journeyId: 'welcome',
      journeyVersion: 3,
      journeyNode: 'first-mail',
      audience: 'marketing',
      subject: 'Hi',
      status: 'queued',
      reason: null,
      attempts: [],
      version: 1,
      createdAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
    }
    await applyMessages(env, [message])
    // A later report without the fields (a status change) keeps them.
    const { journeyVersion: _v, journeyNode: _n, ...later } = message
    await applyMessages(env, [{ ...later, status: 'sent', version: 2 }])
    expect(
      await env.DB.prepare(
        'SELECT status, journey_version, journey_node FROM messages WHERE id = ?',
      )
        .bind(id)
        .first(),
    ).toEqual({ status: 'sent', journey_version: 3, journey_node: 'first-mail' })
  })

  it('hands a webhook job to the send queue, whose consumer keeps its outcome', async () => {
    const contactKey = uid('hooked')
    const job: JourneyActionJob = {
      kind: 'webhook',
      idempotencyKey: uid('journey:welcome:1:hook'),
      contactKey,
      journeyId: 'welcome',
      version: 1,
      runId: uid('run'),
      node: 'hook',
      contact: { key: contactKey, email: null, traits: {} },
      event: null,
      data: {},
      // A private address: refused before anything is sent, so the outcome is final at once.
      webhook: { url: 'http://127.0.0.1/hook', method: 'POST', body: null },
      at: new Date().toISOString(),
    }
    await applyMessages(env, [{ kind: 'journey-action', job }])
    const row = await eventually(() =>
      env.DB.prepare('SELECT status, contact_key FROM journey_actions WHERE id = ?')
        .bind(job.idempotencyKey)
        .first<{ status: string; contact_key: string }>(),
    )
    expect(row).toEqual({ status: 'failed', contact_key: contactKey })
  })

  it("erases a person's runs, steps and action outcomes, and only theirs", async () => {
    const gone = uid('erased')
    const kept = uid('kept')
    const at = '2030-01-01T00:01:00.000Z'
    for (const contact of [gone, kept]) {
      await applyMessages(env, [report(contact, uid('run'), {}, [step(1, 'start', null)], at)])
      await env.DB.prepare(
        `INSERT INTO journey_actions (id, contact_key, journey_id, version, run_id, node, kind,
           status, attempts, updated_at) VALUES (?, ?, 'welcome', 1, 'r', 'hook', 'webhook', 'sent', 1, ?)`,
      )
        .bind(uid('action'), contact, at)
        .run()
    }
    const list = (values: string[]) => JSON.stringify(values)
    const person = {
      keys: list([gone]),
      userIds: list([gone]),
      anonymousIds: '[]',
      emails: '[]',
      values: list([gone]),
    }
    await env.DB.batch(erasureStatements(person).map(([, statement]) => prepare(env.DB, statement)))
    for (const table of ['journey_runs', 'journey_steps', 'journey_actions']) {
      expect(
        await d1Count(`SELECT COUNT(*) AS n FROM ${table} WHERE contact_key = ?`, gone),
        table,
      ).toBe(0)
      expect(
        await d1Count(`SELECT COUNT(*) AS n FROM ${table} WHERE contact_key = ?`, kept),
        table,
      ).toBe(1)
    }
  })

  it('lets steps past the raw-event retention expire, and keeps the runs', async () => {
    const contact = uid('old')
    const runId = uid('run')
    await applyMessages(env, [
      report(
        contact,
        runId,
        {},
        [step(1, 'start', 'wait'), step(2, 'wait', null)],
        '2030-01-01T00:05:00.000Z',
      ),
    ])
    // The cutoff falls between the two steps (minutes 1 and 2).
    const statements = expiryStatements({ at: '2030-01-01T00:01:30.000Z', day: '2030-01-01' })
    const steps = statements.find(([table]) => table === 'journey_steps')![1]
    await prepare(env.DB, steps).run()
    expect(await stepCount(runId)).toBe(1)
    expect(await runRow(runId)).not.toBeNull()
  })
})
