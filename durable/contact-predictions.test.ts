import { env, runInDurableObject } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Rule } from '../domain/segments/rule'
import { api, createSource, eventually, send, uid } from '../test/support/api'
import { ENGAGEMENT_KEY } from './facets/predictions'

const DAY_MS = 86_400_000

let writeKey: string

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Contact predictions' })).writeKey
})

/** The engagement score of s points (domain/predictions/engagement.ts). */
const score = (points: number) => 100 * (1 - Math.exp(-points / 20))

async function predictions(key: string) {
  const response = await api(`/api/contacts/${encodeURIComponent(key)}/predictions`)
  expect(response.status).toBe(200)
  return (await response.json()) as { engagement: number; churnRisk: number; pAlive: null }
}

async function segmentsOf(key: string): Promise<string[]> {
  const response = await api(`/api/contacts/${encodeURIComponent(key)}`)
  return ((await response.json()) as { segments: string[] }).segments
}

async function createSegment(rule: Rule): Promise<string> {
  const response = await api('/api/segments', { method: 'POST', json: { name: uid('s'), rule } })
  expect(response.status).toBe(201)
  return ((await response.json()) as { id: string }).id
}

function purchase(userId: string, revenue: number) {
  return send('/v1/track', writeKey, { userId, event: 'Order Completed', properties: { revenue } })
}

/** The object's `predictions` job, run as if at `now` (the scheduler calls it with its time). */
function runPredictionsJob(key: string, now: number) {
  const stub = env.CONTACTS.get(env.CONTACTS.idFromName(key))
  return runInDurableObject(stub, (instance) =>
    (
      instance as unknown as { refreshPredictions(now: number): Promise<number | null> }
    ).refreshPredictions(now),
  )
}

describe("a contact's predictions in its object", () => {
  it('add each of the person’s events to engagement, a purchase by its value, bots not at all', async () => {
    const user = uid('user')
    await send('/v1/page', writeKey, { userId: user, name: 'Home' })
    expect((await predictions(user)).engagement).toBeCloseTo(score(1), 2)
    await send('/v1/track', writeKey, { userId: user, event: 'Viewed Product' })
    await send('/v1/page', writeKey, {
      userId: user,
      name: 'Bot',
      context: { userAgent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' },
    })
    expect((await predictions(user)).engagement).toBeCloseTo(score(3), 2)
    await purchase(user, 50)
    const after = await predictions(user)
    expect(after.engagement).toBeCloseTo(score(3 + 10 + 5 * Math.log(51)), 2)
    // No fit in this file: churn risk is engagement's alone.
    expect(after).toMatchObject({ pAlive: null })
    expect(after.churnRisk).toBeCloseTo(1 - after.engagement / 100, 10)
    // A few numbers in a meta value, no table of their own.
    const stub = env.CONTACTS.get(env.CONTACTS.idFromName(user))
    const stored = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', ENGAGEMENT_KEY)
        .one(),
    )
    expect(Object.keys(JSON.parse(stored.value))).toEqual([
      'views',
      'actions',
      'purchases',
      'updatedAt',
    ])
  })

  it('count the events a merge brings in', async () => {
    const visitor = uid('anon')
    const user = uid('user')
    for (const name of ['A', 'B', 'C']) {
      await send('/v1/page', writeKey, { anonymousId: visitor, name })
    }
    await send('/v1/identify', writeKey, { userId: user, anonymousId: visitor })
    expect((await predictions(user)).engagement).toBeCloseTo(score(3), 2)
  })

  it('enter and leave prediction segments: at the event that moves them, and as they decay', async () => {
    const risky = await createSegment({ prediction: 'churnRisk', op: 'gte', value: 0.7 })
    const engaged = await createSegment({ prediction: 'engagement', op: 'gte', value: 70 })
    const user = uid('user')
    await send('/v1/page', writeKey, { userId: user, name: 'Home' })
    expect(await segmentsOf(user)).toContain(risky)
    expect(await segmentsOf(user)).not.toContain(engaged)

    expect((await purchase(user, 50)).status).toBe(200)
    expect(await segmentsOf(user)).toContain(engaged)
    expect(await segmentsOf(user)).not.toContain(risky)

    // The purchase brought the job within a minute, to project it to D1.
    const stub = env.CONTACTS.get(env.CONTACTS.idFromName(user))
    const [job] = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ due_at: number }>("SELECT due_at FROM schedule WHERE kind = 'predictions'")
        .toArray(),
    )
    expect(job!.due_at - Date.now()).toBeLessThanOrEqual(60_000)

    // Two weeks later with nothing new: the points halve, the contact leaves `engaged`, and D1
    // gets the decayed numbers. The job comes back a day later while the contact is active.
    const later = Date.now() + 14 * DAY_MS
    expect(await runPredictionsJob(user, later)).toBe(later + DAY_MS)
    const decayed = score((1 + 10 + 5 * Math.log(51)) / 2)
    expect(await segmentsOf(user)).not.toContain(engaged)
    const row = await eventually(() =>
      env.DB.prepare(
        'SELECT engagement, churn_risk AS churnRisk FROM contact_predictions WHERE contact_key = ?',
      )
        .bind(user)
        .first<{ engagement: number; churnRisk: number }>(),
    )
    expect(row.engagement).toBeCloseTo(decayed, 1)
    expect(row.churnRisk).toBeCloseTo(1 - decayed / 100, 3)
    // Run again (alarms come at least once): the same numbers.
    expect(await runPredictionsJob(user, later)).toBe(later + DAY_MS)
    expect((await predictions(user)).engagement).toBeCloseTo(decayed, 1)
  })

  it('stop the job once the contact is no longer active', async () => {
    const user = uid('user')
    await send('/v1/page', writeKey, { userId: user, name: 'Home' })
    // One page view (5 points of score) decays below 1 within three half-lives.
    expect(await runPredictionsJob(user, Date.now() + 60 * DAY_MS)).toBeNull()
  })
})
