import { env, runInDurableObject } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Feedback } from '../contracts/messaging'
import { api, createSource, d1Count, eventually, send, uid } from '../test/support/api'
import type { MessageRequest, SendRules } from './contact-messaging'

/**
 * The contact's object as the one place that decides whether a message may go (docs/design/
 * messaging.md): these call its RPC methods directly, as the edge and the send consumer do.
 */

let writeKey: string

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Messaging tests' })).writeKey
})

const HOUR_MS = 3_600_000

function stub(key: string) {
  return env.CONTACTS.get(env.CONTACTS.idFromName(key))
}

async function person(options: { marketing?: boolean; email?: string | null } = {}) {
  const user = uid('user')
  const email = options.email === undefined ? `${user}@example.com` : options.email
  await send('/v1/identify', writeKey, {
    userId: user,
    traits: { ...(email ? { email } : {}), timezone: 'UTC' },
  })
  if (options.marketing !== undefined) await decide(user, options.marketing)
  return user
}

function decide(user: string, marketing: boolean) {
  return send('/v1/consent', writeKey, {
    userId: user,
    purposes: { analytics: true, marketing, personalization: false, advertising: false },
    policyVersion: 'v1',
    source: 'banner',
  })
}

/** Quiet hours around now, so a message waits for an hour and no dispatch races the test. */
function quietNow(): SendRules {
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16)
  const now = Date.now()
  return { quietHours: { start: clock(now - HOUR_MS), end: clock(now + HOUR_MS) } }
}

function request(overrides: Partial<MessageRequest> = {}): MessageRequest {
  return {
    templateId: 'newsletter',
    kind: 'marketing',
    groupId: 'marketing',
    groupDefault: true,
    idempotencyKey: uid('key'),
    data: { offer: 'SPRING' },
    rules: {},
    ...overrides,
  }
}

async function create(user: string, overrides: Partial<MessageRequest> = {}) {
  const result = await stub(user).createMessage(user, request(overrides))
  if (!result.found) throw new Error(`no contact ${user}`)
  return result.message
}

/** Moves a waiting message's due time to the past, as if its quiet hours had ended. */
async function makeDue(user: string, id: string) {
  await runInDurableObject(stub(user), (_instance, state) => {
    state.storage.sql.exec('UPDATE messages SET due_at = ? WHERE id = ?', Date.now() - 1, id)
  })
}

async function timeline(user: string) {
  const response = await api(`/api/contacts/${encodeURIComponent(user)}/events?limit=1000`)
  const items = ((await response.json()) as { items: Record<string, any>[] }).items
  return items.filter((e) => e.sourceId === 'cairn')
}

function d1Status(id: string) {
  return env.DB.prepare('SELECT status, reason FROM messages WHERE id = ?')
    .bind(id)
    .first<{ status: string; reason: string | null }>()
}

describe('making a message', () => {
  it('makes one message per idempotency key, however often it is asked', async () => {
    const user = await person({ marketing: true })
    const key = uid('welcome')
    const rules = quietNow()
    const [first, second] = await Promise.all([
      create(user, { idempotencyKey: key, rules }),
      create(user, { idempotencyKey: key, rules }),
    ])
    const third = await create(user, { idempotencyKey: key, rules })
    expect(new Set([first.id, second.id, third.id]).size).toBe(1)
    expect([first.duplicate, second.duplicate].sort()).toEqual([false, true])
    expect(third.duplicate).toBe(true)
    await eventually(async () => (await d1Status(first.id))?.status === 'queued')
    expect(await d1Count('SELECT COUNT(*) AS n FROM messages WHERE contact_key = ?', user)).toBe(1)
  })

  it('records marketing without consent as no_consent, and sends transactional mail anyway', async () => {
    const user = await person()
    const marketing = await create(user)
    expect(marketing).toMatchObject({ status: 'no_consent', reason: 'no marketing consent' })
    const receipt = await create(user, { kind: 'transactional', groupId: 'transactional' })
    expect(receipt.status).toBe('queued')
    await eventually(async () => (await d1Status(marketing.id))?.status === 'no_consent')
  })

  it('suppresses a contact without an email address', async () => {
    const user = await person({ marketing: true, email: null })
    expect(await create(user, { kind: 'transactional' })).toMatchObject({
      status: 'suppressed',
      reason: 'no email address',
    })
  })

  it('caps marketing across every journey, counting the messages still waiting to go', async () => {
    const user = await person({ marketing: true })
    const rules: SendRules = { ...quietNow(), frequencyCap: { count: 2, perMs: 24 * HOUR_MS } }
    const statuses = []
    for (const journeyId of ['a', 'b', 'c']) {
      statuses.push((await create(user, { journeyId, rules })).status)
    }
    expect(statuses).toEqual(['queued', 'queued', 'capped'])
    // Transactional mail is not marketing: no cap.
    expect((await create(user, { kind: 'transactional', rules })).status).toBe('queued')
  })

  it('delays a message in quiet hours until they end in the contact’s time zone, with a timer', async () => {
    const user = await person({ marketing: true })
    const rules = quietNow()
    const message = await create(user, { rules })
    const end = rules.quietHours!.end
    expect(message.status).toBe('queued')
    expect(message.dueAt!.slice(11, 16)).toBe(end)
    const job = await runInDurableObject(stub(user), (_instance, state) =>
      state.storage.sql
        .exec<{ due_at: number }>("SELECT due_at FROM schedule WHERE kind = 'messages'")
        .one(),
    )
    expect(job.due_at).toBe(Date.parse(message.dueAt!))
    // Not due: no send may claim it before then.
    expect(await stub(user).claimMessage(user, message.id)).toEqual({
      claimed: false,
      status: 'waiting',
    })
  })
})

describe('claiming a message at the moment of sending', () => {
  it('gives a message to one sender at a time, and never after it was sent', async () => {
    const user = await person({ marketing: true })
    const message = await create(user, { rules: quietNow() })
    await makeDue(user, message.id)
    const claims = await Promise.all([
      stub(user).claimMessage(user, message.id),
      stub(user).claimMessage(user, message.id),
    ])
    const won = claims.filter((c) => c.claimed)
    expect(won).toHaveLength(1)
    // The other is told when the claim runs out, in case its holder dies: five minutes.
    expect(claims.find((c) => !c.claimed)).toEqual({
      claimed: false,
      status: 'held',
      retryAfterMs: expect.any(Number),
    })
    const held = claims.find((c) => !c.claimed) as { retryAfterMs: number }
    expect(held.retryAfterMs).toBeGreaterThan(4 * 60_000)
    expect(held.retryAfterMs).toBeLessThanOrEqual(5 * 60_000)
    expect(won[0]).toMatchObject({ claimed: true })
    expect((won[0] as unknown as { message: unknown }).message).toMatchObject({
      to: `${user}@example.com`,
      contact: { key: user, traits: { email: `${user}@example.com` } },
      data: { offer: 'SPRING' },
    })
    const attempt = {
      provider: 'log' as const,
      status: 'sent' as const,
      at: new Date().toISOString(),
    }
    expect(
      await stub(user).settleMessage(user, message.id, {
        outcome: 'sent',
        attempts: [attempt],
        subject: 'Spring offer',
        provider: 'log',
      }),
    ).toBe(true)
    // A redelivered job finds it sent; a second settlement changes nothing.
    expect(await stub(user).claimMessage(user, message.id)).toEqual({
      claimed: false,
      status: 'sent',
    })
    expect(
      await stub(user).settleMessage(user, message.id, {
        outcome: 'failed',
        attempts: [],
        error: 'late',
      }),
    ).toBe(false)
    const sent = (await timeline(user)).filter((e) => e.event === 'Email Sent')
    expect(sent).toHaveLength(1)
    expect(sent[0]!.properties).toMatchObject({ messageId: message.id, provider: 'log' })
    await eventually(async () => (await d1Status(message.id))?.status === 'sent')
    const row = await env.DB.prepare('SELECT subject, attempts FROM messages WHERE id = ?')
      .bind(message.id)
      .first<{ subject: string; attempts: string }>()
    expect(row!.subject).toBe('Spring offer')
    expect(JSON.parse(row!.attempts)).toEqual([attempt])
  })

  it('stops a queued message whose contact withdrew marketing consent meanwhile', async () => {
    const user = await person({ marketing: true })
    const message = await create(user, { rules: quietNow() })
    expect(message.status).toBe('queued')
    await decide(user, false)
    await makeDue(user, message.id)
    expect(await stub(user).claimMessage(user, message.id)).toEqual({
      claimed: false,
      status: 'no_consent',
    })
    await eventually(async () => (await d1Status(message.id))?.status === 'no_consent')
  })

  it('sends nothing to a person erased while their message waited', async () => {
    const user = await person({ marketing: true })
    const message = await create(user, { rules: quietNow() })
    const erasure = await api('/api/privacy/erasure', { method: 'POST', json: { userId: user } })
    expect(erasure.status).toBe(202)
    const { id } = (await erasure.json()) as { id: string }
    await eventually(async () => {
      const status = await api(`/api/privacy/erasure/${id}`)
      return ((await status.json()) as { status: string }).status === 'completed'
    })
    expect(await stub(user).claimMessage(user, message.id)).toEqual({
      claimed: false,
      status: 'unknown',
    })
    expect(await d1Count('SELECT COUNT(*) AS n FROM messages WHERE id = ?', message.id)).toBe(0)
  })

  it('writes Email Failed when a message fails on every provider', async () => {
    const user = await person({ marketing: true })
    const message = await create(user, { rules: quietNow() })
    await makeDue(user, message.id)
    expect((await stub(user).claimMessage(user, message.id)).claimed).toBe(true)
    const attempts = [
      { provider: 'sendgrid' as const, status: 'retryable' as const, at: new Date().toISOString() },
    ]
    await stub(user).settleMessage(user, message.id, {
      outcome: 'failed',
      attempts,
      error: 'Every provider failed',
    })
    const failed = (await timeline(user)).filter((e) => e.event === 'Email Failed')
    expect(failed.map((e) => e.properties)).toEqual([
      expect.objectContaining({ messageId: message.id, error: 'Every provider failed' }),
    ])
    await eventually(async () => (await d1Status(message.id))?.status === 'failed')
  })
})

describe('feedback and choices', () => {
  async function sentMessage(user: string) {
    const message = await create(user, { rules: quietNow() })
    await makeDue(user, message.id)
    await stub(user).claimMessage(user, message.id)
    await stub(user).settleMessage(user, message.id, {
      outcome: 'sent',
      attempts: [],
      provider: 'sendgrid',
    })
    return message.id
  }

  function feedback(messageId: string, kind: Feedback['kind'], extra: Partial<Feedback> = {}) {
    return {
      provider: 'sendgrid',
      eventId: uid('evt'),
      messageId,
      kind,
      at: Date.now(),
      ...extra,
    } as Feedback
  }

  it('applies each provider event once and moves the status forward only', async () => {
    const user = await person({ marketing: true })
    const id = await sentMessage(user)
    const opened = feedback(id, 'opened')
    expect(await stub(user).recordFeedback(user, opened)).toEqual({ found: true, applied: true })
    expect(await stub(user).recordFeedback(user, opened)).toEqual({ found: true, applied: false })
    await stub(user).recordFeedback(user, feedback(id, 'delivered'))
    await eventually(async () => (await d1Status(id))?.status === 'opened')
    const events = (await timeline(user)).map((e) => e.event)
    expect(events.filter((e) => e === 'Email Opened')).toHaveLength(1)
    expect(events).toContain('Email Delivered')
    expect(
      await d1Count(
        "SELECT COUNT(*) AS n FROM message_events WHERE contact_key = ? AND kind = 'opened'",
        user,
      ),
    ).toBe(1)
  })

  it('suppresses the address for marketing after a hard bounce, not after a soft one', async () => {
    const soft = await person({ marketing: true })
    await stub(soft).recordFeedback(
      soft,
      feedback(await sentMessage(soft), 'bounced', { hard: false }),
    )
    expect((await create(soft)).status).toBe('queued')

    const hard = await person({ marketing: true })
    await stub(hard).recordFeedback(
      hard,
      feedback(await sentMessage(hard), 'bounced', { hard: true }),
    )
    expect(await create(hard)).toMatchObject({
      status: 'suppressed',
      reason: 'the address bounced or complained',
    })
    // A receipt still goes: suppression is for marketing.
    expect((await create(hard, { kind: 'transactional' })).status).toBe('queued')
    // A new address is not the one that bounced.
    await send('/v1/identify', writeKey, { userId: hard, traits: { email: `${hard}@new.example` } })
    expect((await create(hard)).status).toBe('queued')
  })

  it('keeps subscription choices, which stop marketing of the group and reach segments and D1', async () => {
    const user = await person({ marketing: true })
    const created = await api('/api/segments', {
      method: 'POST',
      json: { name: uid('news readers'), rule: { subscribed: 'news', value: true } },
    })
    const segment = ((await created.json()) as { id: string }).id
    expect(await stub(user).setSubscription(user, 'news', true, 'api')).toEqual({
      found: true,
      changed: true,
    })
    expect(await stub(user).setSubscription(user, 'news', true, 'api')).toEqual({
      found: true,
      changed: false,
    })
    const profile = async () =>
      (await (await api(`/api/contacts/${encodeURIComponent(user)}`)).json()) as {
        segments: string[]
        subscriptions: Record<string, boolean>
      }
    // A new segment reaches existing contacts through its backfill, within moments.
    await eventually(async () => (await profile()).segments.includes(segment))
    expect((await create(user, { groupId: 'news', groupDefault: false })).status).toBe('queued')
    await stub(user).setSubscription(user, 'news', false, 'unsubscribe_link')
    expect((await profile()).segments).not.toContain(segment)
    expect((await profile()).subscriptions).toEqual({ news: false })
    expect(await stub(user).messagingPreferences(user)).toEqual({
      found: true,
      subscriptions: { news: false },
    })
    expect(await create(user, { groupId: 'news', groupDefault: false })).toMatchObject({
      status: 'suppressed',
    })
    const events = (await timeline(user)).map((e) => `${e.event} ${e.properties.groupId ?? ''}`)
    expect(events).toEqual(expect.arrayContaining(['Subscribed news', 'Unsubscribed news']))
    await eventually(
      async () =>
        (await d1Count(
          'SELECT COUNT(*) AS n FROM contact_subscriptions WHERE contact_key = ? AND group_id = ? AND subscribed = 0',
          user,
          'news',
        )) === 1,
    )
  })

  it('enters a segment on a sent message, in the transaction that settles it', async () => {
    const user = await person({ marketing: true })
    const created = await api('/api/segments', {
      method: 'POST',
      json: { name: uid('mailed'), rule: { message: 'sent', template: 'newsletter' } },
    })
    const segment = ((await created.json()) as { id: string }).id
    const profile = async () =>
      (await (await api(`/api/contacts/${encodeURIComponent(user)}`)).json()) as {
        segments: string[]
      }
    // The segment's backfill has evaluated this contact (not mailed yet): the settlement that
    // follows is what brings it in.
    await eventually(
      async () => (await d1Count('SELECT COUNT(*) AS n FROM segments WHERE id = ?', segment)) === 1,
    )
    await stub(user).setSubscription(user, 'warm-up', true, 'api')
    expect((await profile()).segments).not.toContain(segment)
    await sentMessage(user)
    await eventually(async () => (await profile()).segments.includes(segment))
  })
})
