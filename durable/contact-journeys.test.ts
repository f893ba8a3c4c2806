import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { JourneyDefinition } from '../domain/journeys/definition'
import { forgetJourneyConfig } from '../edge/journeys/config'
import { addVersion, createJourney, publish, setPaused } from '../edge/journeys/store'
import { api, createSource, d1Count, eventually, send, uid } from '../test/support/api'

/**
 * Journey runs inside the contact's object (docs/design/journeys.md): entered, advanced and
 * ended in the transaction of the change that moves them, across waits driven by the object's
 * alarm, through merges and erasures.
 */

let writeKey: string
const TEMPLATE = uid('journey-receipt')

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Journey tests' })).writeKey
  // Transactional, so the tests need no marketing consent for the email to be queued.
  const response = await api('/api/templates', {
    method: 'POST',
    json: {
      name: TEMPLATE,
      subject: 'Hello {{ contact.traits.firstName | default: "there" }}',
      html: '<p>Hi</p>',
      kind: 'transactional',
    },
  })
  expect(response.status).toBe(201)
})

function stub(key: string) {
  return env.CONTACTS.get(env.CONTACTS.idFromName(key))
}

/** A live journey with this definition; its id. */
async function live(definition: JourneyDefinition): Promise<string> {
  const journey = await createJourney(env.DB, { name: uid('Journey') })
  const version = await addVersion(env.DB, journey.id, definition)
  await publish(env.DB, journey.id, [{ version, weight: 1 }])
  forgetJourneyConfig()
  return journey.id
}

async function person(traits: Record<string, unknown> = {}) {
  const user = uid('user')
  await send('/v1/identify', writeKey, {
    userId: user,
    traits: { email: `${user}@example.com`, timezone: 'UTC', ...traits },
  })
  return user
}

/** The contact's answer to a consent banner: analytics granted, marketing as given. */
function decideMarketing(user: string, marketing: boolean) {
  return send('/v1/consent', writeKey, {
    userId: user,
    purposes: { analytics: true, marketing, personalization: false, advertising: false },
    policyVersion: 'v1',
    source: 'banner',
  })
}

function track(user: string, event: string, properties: Record<string, unknown> = {}) {
  return send('/v1/track', writeKey, { userId: user, event, properties })
}

async function runs(user: string) {
  const views = await stub(user).journeyRuns()
  if (!views) throw new Error(`no contact ${user}`)
  return views
}

async function messages(user: string) {
  return runInDurableObject(stub(user), (_instance, state) => {
    const exists = state.storage.sql
      .exec("SELECT 1 FROM sqlite_master WHERE name = 'messages'")
      .toArray().length
    if (!exists) return []
    return state.storage.sql
      .exec<{ template_id: string; status: string; journey_id: string | null }>(
        'SELECT template_id, status, journey_id FROM messages ORDER BY created_at',
      )
      .toArray()
  })
}

/** Makes every waiting run of the contact due now, as if its time had passed, and wakes it. */
async function passTime(user: string) {
  await runInDurableObject(stub(user), (_instance, state) => {
    const past = Date.now() - 1
    state.storage.sql.exec("UPDATE journey_runs SET wake_at = ? WHERE state = 'active'", past)
    state.storage.sql.exec("UPDATE schedule SET due_at = ? WHERE kind = 'journeys'", past)
  })
  await evictDurableObject(stub(user))
  return runDurableObjectAlarm(stub(user))
}

/** Every journey of these tests starts on an event of its own: all are live together. */
const welcome = (event: string): JourneyDefinition => ({
  entry: { event },
  start: 'hello',
  nodes: {
    hello: { type: 'email', template: TEMPLATE, next: 'pause' },
    pause: { type: 'wait', for: { days: 1 }, next: 'again' },
    again: { type: 'email', template: TEMPLATE, next: 'done' },
    done: { type: 'exit' },
  },
})

describe('a run', () => {
  it('enters on its event and queues the email in the same request', async () => {
    const signup = uid('Signed Up')
    const id = await live(welcome(signup))
    const user = await person()
    await track(user, signup)
    const [run] = await runs(user)
    expect(run).toMatchObject({ journeyId: id, state: 'active', node: 'pause', version: 1 })
    expect(run!.steps.map((s) => s.outcome)).toEqual([
      'entered version 1',
      `email ${TEMPLATE}: queued`,
      expect.stringMatching(/^waiting until /),
    ])
    // Queued (handed to the send queue) before the ingest request was answered.
    expect(await messages(user)).toEqual([
      { template_id: TEMPLATE, status: expect.any(String), journey_id: id },
    ])
  })

  it('goes on after its wait by the alarm, once however often the alarm comes', async () => {
    const signup = uid('Signed Up')
    await live(welcome(signup))
    const user = await person()
    await track(user, signup)
    expect(await passTime(user)).toBe(true)
    const [run] = await runs(user)
    expect(run).toMatchObject({ state: 'completed', reason: 'exit node' })
    expect(await messages(user)).toHaveLength(2)
    // The same alarm again (delivered twice): nothing is due, nothing is sent twice.
    await runInDurableObject(stub(user), (_instance, state) => {
      state.storage.sql.exec(
        'INSERT OR REPLACE INTO schedule (id, due_at, kind, payload) VALUES (?, ?, ?, ?)',
        `journey:${run!.id}`,
        Date.now() - 1,
        'journeys',
        run!.id,
      )
    })
    await evictDurableObject(stub(user))
    await runDurableObjectAlarm(stub(user))
    expect(await messages(user)).toHaveLength(2)
  })

  it('is resumed by the event it waits for, in the transaction that stores it', async () => {
    const added = uid('Product Added')
    await live({
      entry: { event: added },
      goal: { performed: 'Order Completed', within: { days: 3 } },
      start: 'cart',
      nodes: {
        cart: {
          type: 'waitFor',
          performed: 'Checkout Started',
          timeout: { hours: 1 },
          next: 'thanks',
          onTimeout: 'remind',
        },
        remind: { type: 'email', template: TEMPLATE, next: 'end' },
        thanks: { type: 'track', event: 'Checkout Seen', next: 'end' },
        end: { type: 'exit' },
      },
    })
    const user = await person()
    await track(user, added, { sku: 'B-1' })
    await track(user, 'Checkout Started')
    const [run] = await runs(user)
    expect(run).toMatchObject({ state: 'completed', reason: 'exit node' })
    expect(run!.steps.map((s) => s.node)).toContain('thanks')
    expect(await messages(user)).toEqual([])
  })

  it('takes the timeout path when the event never comes', async () => {
    const added = uid('Product Added')
    await live({
      entry: { event: added },
      start: 'cart',
      nodes: {
        cart: {
          type: 'waitFor',
          performed: 'Checkout Started',
          timeout: { hours: 1 },
          next: 'end',
          onTimeout: 'remind',
        },
        remind: { type: 'email', template: TEMPLATE, next: 'end' },
        end: { type: 'exit' },
      },
    })
    const user = await person()
    await track(user, added)
    await passTime(user)
    const [run] = await runs(user)
    expect(run!.steps.find((s) => s.node === 'cart' && s.next)?.outcome).toBe(
      'timed out waiting for Checkout Started',
    )
    expect(await messages(user)).toHaveLength(1)
  })

  it('ends as converted when the goal is reached, and is counted so in D1', async () => {
    const id = await live({
      entry: { event: 'Trial Started' },
      goal: { performed: 'Subscribed Paid' },
      start: 'pause',
      nodes: { pause: { type: 'wait', for: { days: 7 }, next: 'end' }, end: { type: 'exit' } },
    })
    const user = await person()
    await track(user, 'Trial Started')
    await track(user, 'Subscribed Paid')
    const [run] = await runs(user)
    expect(run).toMatchObject({
      state: 'completed',
      converted: true,
      reason: 'goal: Subscribed Paid',
    })
    await eventually(
      async () =>
        (await d1Count(
          'SELECT COUNT(*) AS n FROM journey_runs WHERE journey_id = ? AND converted = 1',
          id,
        )) === 1,
    )
  })

  it('is entered once under the default re-entry rule', async () => {
    const signup = uid('Signed Up')
    await live(welcome(signup))
    const user = await person()
    await track(user, signup)
    await track(user, signup)
    expect(await runs(user)).toHaveLength(1)
  })

  it('is entered once when two requests with its event race', async () => {
    const signup = uid('Signed Up')
    await live(welcome(signup))
    const user = await person()
    await Promise.all([track(user, signup), track(user, signup), track(user, signup)])
    expect(await runs(user)).toHaveLength(1)
    expect(await messages(user)).toHaveLength(1)
  })

  it('records a marketing email to a contact without marketing consent as no_consent and goes on', async () => {
    const marketing = uid('journey-news')
    const created = await api('/api/templates', {
      method: 'POST',
      json: { name: marketing, subject: 'News', html: '<p>News</p>', kind: 'marketing' },
    })
    expect(created.status).toBe(201)
    const event = uid('Browsed')
    await live({
      entry: { event },
      start: 'news',
      nodes: {
        news: { type: 'email', template: marketing, next: 'tag' },
        tag: { type: 'updateTraits', traits: { newsTried: true }, next: 'end' },
        end: { type: 'exit' },
      },
    })
    const user = await person()
    await decideMarketing(user, false)
    await track(user, event)
    const [run] = await runs(user)
    expect(run).toMatchObject({ state: 'completed', reason: 'exit node' })
    expect(run!.steps.find((s) => s.outcome.startsWith('email'))?.outcome).toBe(
      `email ${marketing}: no_consent (no marketing consent)`,
    )
    expect(await messages(user)).toEqual([
      { template_id: marketing, status: 'no_consent', journey_id: expect.any(String) },
    ])
  })

  it('sets traits, and a branch later reads them', async () => {
    await live({
      entry: { event: 'Quiz Done' },
      start: 'tag',
      nodes: {
        tag: { type: 'updateTraits', traits: { tier: 'gold' }, next: 'which' },
        which: {
          type: 'branch',
          cases: [{ rule: { trait: 'tier', op: 'eq', value: 'gold' }, next: 'gold' }],
          otherwise: 'end',
        },
        gold: { type: 'email', template: TEMPLATE, next: 'end' },
        end: { type: 'exit' },
      },
    })
    const user = await person()
    await track(user, 'Quiz Done')
    const contact = (await (await api(`/api/contacts/${user}`)).json()) as {
      traits: Record<string, unknown>
    }
    expect(contact.traits.tier).toBe('gold')
    const [run] = await runs(user)
    expect(run!.steps.find((s) => s.node === 'which')?.next).toBe('gold')
  })
})

describe('versions', () => {
  it('keeps a run on the version it entered while new entrants take the one published since', async () => {
    const signup = uid('Signed Up')
    const id = await live(welcome(signup))
    const user = await person()
    await track(user, signup)
    const next = await addVersion(env.DB, id, {
      entry: { event: signup },
      start: 'only',
      nodes: { only: { type: 'exit' } },
    })
    await publish(env.DB, id, [{ version: next, weight: 1 }])
    forgetJourneyConfig()
    await passTime(user)
    const [run] = await runs(user)
    expect(run).toMatchObject({ version: 1, state: 'completed' })
    expect(run!.steps.map((s) => s.node)).toContain('again')
    expect(await messages(user)).toHaveLength(2)
    const newcomer = await person()
    await track(newcomer, signup)
    expect((await runs(newcomer))[0]).toMatchObject({ version: next, state: 'completed' })
  })
})

describe('a campaign failure', () => {
  it('starts a journey on Email Failed whose ticket node hands a support ticket to the help desk queue', async () => {
    const failed = uid('failed-news')
    const created = await api('/api/templates', {
      method: 'POST',
      json: { name: failed, subject: 'News', html: '<p>News</p>', kind: 'marketing' },
    })
    expect(created.status).toBe(201)
    const id = await live({
      entry: {
        event: 'Email Failed',
        where: [{ property: 'templateId', op: 'eq', value: failed }],
      },
      start: 'desk',
      nodes: {
        desk: {
          type: 'ticket',
          subject: 'Email failed',
          body: '{{ event.properties.error }}',
          next: 'end',
        },
        end: { type: 'exit' },
      },
    })
    const user = await person()
    await decideMarketing(user, true)
    // Quiet hours around now hold the message, so no sender settles it before the test does.
    const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16)
    const quietHours = { start: clock(Date.now() - 3_600_000), end: clock(Date.now() + 3_600_000) }
    const made = await stub(user).createMessage(user, {
      templateId: failed,
      kind: 'marketing',
      groupId: 'marketing',
      groupDefault: true,
      idempotencyKey: uid('key'),
      rules: { quietHours },
    })
    if (!made.found) throw new Error(`no contact ${user}`)
    await stub(user).settleMessage(user, made.message.id, {
      outcome: 'failed',
      error: 'mailbox full',
      attempts: [],
    })
    const [run] = await runs(user)
    expect(run).toMatchObject({ journeyId: id, state: 'completed' })
    expect(run!.steps.find((s) => s.outcome.startsWith('ticket'))?.outcome).toBe(
      'ticket "Email failed": queued',
    )
    // Carried by the outbox to the send queue, whose consumer calls the help desk (none is set
    // up here, so it records why it could not).
    await eventually(
      async () =>
        (await d1Count(
          "SELECT COUNT(*) AS n FROM journey_actions WHERE contact_key = ? AND kind = 'ticket'",
          user,
        )) === 1,
    )
  })
})

describe('a paused journey', () => {
  it('admits no one, holds its waits, and goes on at resume', async () => {
    const signup = uid('Signed Up')
    const id = await live(welcome(signup))
    const waiting = await person()
    await track(waiting, signup)
    await setPaused(env.DB, id, true)
    forgetJourneyConfig()
    const late = await person()
    await track(late, signup)
    expect(await runs(late)).toEqual([])
    await passTime(waiting)
    expect((await runs(waiting))[0]).toMatchObject({ state: 'active', node: 'pause' })
    expect(await messages(waiting)).toHaveLength(1)
    await setPaused(env.DB, id, false)
    forgetJourneyConfig()
    await stub(waiting).resumeJourney(waiting, id)
    expect((await runs(waiting))[0]).toMatchObject({ state: 'completed' })
    expect(await messages(waiting)).toHaveLength(2)
  })
})

describe('a contact who changes', () => {
  it('keeps its run through a merge: the anonymous visitor’s run goes on as the user', async () => {
    const signup = uid('Signed Up')
    await live(welcome(signup))
    const anonymousId = uid('anon')
    await send('/v1/track', writeKey, { anonymousId, event: signup, properties: {} })
    const before = await runs(`anon:${anonymousId}`)
    expect(before).toHaveLength(1)
    const user = uid('user')
    await send('/v1/identify', writeKey, {
      userId: user,
      anonymousId,
      traits: { email: `${user}@example.com` },
    })
    const after = await runs(user)
    expect(after.map((run) => run.id)).toEqual([before[0]!.id])
    await passTime(user)
    expect((await runs(user))[0]).toMatchObject({ state: 'completed' })
  })

  it('loses its run and its timer when erased mid-run', async () => {
    const signup = uid('Signed Up')
    await live(welcome(signup))
    const user = await person()
    await track(user, signup)
    const response = await api('/api/privacy/erasure', {
      method: 'POST',
      json: { userId: user },
    })
    expect(response.status).toBeLessThan(300)
    await eventually(async () => (await stub(user).journeyRuns()) === null)
    const timers = await runInDurableObject(stub(user), (_instance, state) =>
      state.storage.sql.exec('SELECT name FROM sqlite_master WHERE name = ?', 'schedule').toArray()
        .length
        ? state.storage.sql.exec("SELECT COUNT(*) AS n FROM schedule WHERE kind = 'journeys'").one()
            .n
        : 0,
    )
    expect(timers).toBe(0)
  })
})
