import { env, evictDurableObject, runInDurableObject } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { StoredEvent } from '../contracts/stored-event'
import {
  api,
  archiveRecords,
  createSource,
  d1Count,
  eventually,
  send,
  uid,
} from '../test/support/api'

let writeKey: string

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Identity tests' })).writeKey
})

async function contact(id: string) {
  const response = await api(`/api/contacts/${encodeURIComponent(id)}`)
  return { status: response.status, body: (await response.json()) as Record<string, any> }
}

async function events(id: string) {
  const response = await api(`/api/contacts/${encodeURIComponent(id)}/events?limit=1000`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { items: Record<string, any>[] }).items
}

/** A stored track event, as a ContactDO keeps it, with `id` as its messageId too. */
function trackEvent(id: string, name: string, timestamp: string): StoredEvent {
  return {
    id,
    messageId: id,
    type: 'track',
    event: name,
    context: {},
    timestamp,
    receivedAt: timestamp,
    sourceId: 'src_test',
    enrichment: { device: 'other', bot: false, landing: false },
  }
}

/** Events D1 holds for a contact. */
function eventsInD1(contactKey: string) {
  return d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', contactKey)
}

function batch(...messages: Record<string, unknown>[]) {
  return send('/v1/batch', writeKey, { batch: messages })
}

describe('identify merges the anonymous contact into the identified one', () => {
  it('moves earlier anonymous events into the user timeline and forwards later ones', async () => {
    const anon = uid('anon')
    const user = uid('user')
    await batch(
      { type: 'page', anonymousId: anon, name: 'Home', timestamp: '2026-11-01T10:00:00.000Z' },
      {
        type: 'track',
        anonymousId: anon,
        event: 'Added to Cart',
        timestamp: '2026-11-01T10:01:00.000Z',
      },
    )
    expect((await events(`anon:${anon}`)).length).toBe(2)

    await send('/v1/identify', writeKey, {
      userId: user,
      anonymousId: anon,
      traits: { email: 'Ada@Example.com', plan: 'trial' },
      timestamp: '2026-11-01T10:02:00.000Z',
    })
    await batch({
      type: 'track',
      anonymousId: anon,
      event: 'Checkout Started',
      timestamp: '2026-11-01T10:03:00.000Z',
    })

    const timeline = await events(user)
    expect(timeline.map((e) => e.event ?? e.name ?? e.type)).toEqual([
      'Checkout Started',
      'identify',
      'Added to Cart',
      'Home',
    ])
    const profile = await contact(user)
    expect(profile.status).toBe(200)
    expect(profile.body).toMatchObject({
      key: user,
      userId: user,
      anonymousIds: [anon],
      traits: { email: 'Ada@Example.com', plan: 'trial' },
      eventCount: 4,
    })
    expect(profile.body.identities).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'anonymousId', value: anon, status: 'merged' }),
        expect.objectContaining({ kind: 'email', value: 'ada@example.com' }),
      ]),
    )
    // Reading the anonymous id answers with the contact that absorbed it.
    const viaAnon = await contact(`anon:${anon}`)
    expect(viaAnon.body.key).toBe(user)
    expect((await events(`anon:${anon}`)).length).toBe(4)
  })

  it('alias merges the previous anonymous id into the user', async () => {
    const anon = uid('anon')
    const user = uid('user')
    await batch({ type: 'page', anonymousId: anon, name: 'Pricing' })
    await send('/v1/alias', writeKey, { userId: user, previousId: anon })
    expect((await events(user)).map((e) => e.type).sort()).toEqual(['alias', 'page'])
  })

  it('never lets a second identified contact absorb an anonymous id already merged', async () => {
    const device = uid('shared-device')
    const alice = uid('alice')
    const bob = uid('bob')
    await batch({ type: 'page', anonymousId: device, name: 'Shared' })
    await send('/v1/identify', writeKey, {
      userId: alice,
      anonymousId: device,
      traits: { name: 'Alice' },
    })
    await send('/v1/identify', writeKey, {
      userId: bob,
      anonymousId: device,
      traits: { name: 'Bob' },
    })

    expect((await events(alice)).map((e) => e.name ?? e.type).sort()).toEqual([
      'Shared',
      'identify',
    ])
    expect((await events(bob)).map((e) => e.type)).toEqual(['identify'])
    const bobProfile = await contact(bob)
    expect(bobProfile.body.traits).toEqual({ name: 'Bob' })
    expect(bobProfile.body.anonymousIds).toEqual([])
    expect(bobProfile.body.identities).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'anonymousId', value: device, status: 'conflict' }),
      ]),
    )
    // Later anonymous events from the device still reach the first owner, not Bob.
    await batch({ type: 'track', anonymousId: device, event: 'Later' })
    expect((await events(alice)).some((e) => e.event === 'Later')).toBe(true)
    expect((await events(bob)).some((e) => e.event === 'Later')).toBe(false)
  })

  it('never merges on placeholder ids', async () => {
    const anon = uid('anon')
    const user = uid('user')
    await batch({ type: 'page', anonymousId: anon, name: 'Landing' })
    // userId "null" is a placeholder: the message stays with the anonymous contact.
    await send('/v1/identify', writeKey, {
      userId: 'null',
      anonymousId: anon,
      traits: { plan: 'free' },
    })
    const anonProfile = await contact(`anon:${anon}`)
    expect(anonProfile.body).toMatchObject({
      key: `anon:${anon}`,
      userId: null,
      traits: { plan: 'free' },
    })
    // anonymousId "undefined" is a placeholder: the user is stored alone, nothing merged.
    await send('/v1/identify', writeKey, { userId: user, anonymousId: 'undefined' })
    const userProfile = await contact(user)
    expect(userProfile.body.anonymousIds).toEqual([])
    expect((await contact('anon:undefined')).status).toBe(404)
    expect((await contact('null')).status).toBe(404)
  })
})

describe('traits, counters and groups', () => {
  it('merges traits by event time and keeps the history of changes', async () => {
    const user = uid('user')
    await send('/v1/identify', writeKey, {
      userId: user,
      traits: { plan: 'trial', seats: 1 },
      timestamp: '2026-10-01T00:00:00.000Z',
    })
    await send('/v1/identify', writeKey, {
      userId: user,
      traits: { plan: 'pro' },
      timestamp: '2026-10-05T00:00:00.000Z',
    })
    // A late, older identify (an offline queue flushing) must not overwrite the newer plan.
    await send('/v1/identify', writeKey, {
      userId: user,
      traits: { plan: 'basic', company: 'Acme' },
      timestamp: '2026-10-03T00:00:00.000Z',
    })
    const { body } = await contact(user)
    expect(body.traits).toEqual({ plan: 'pro', seats: 1, company: 'Acme' })
    expect(
      body.traitHistory.filter((h: any) => h.key === 'plan').map((h: any) => [h.from, h.to]),
    ).toEqual([
      ['trial', 'pro'],
      [null, 'trial'],
    ])
  })

  it('counts events by name with first and last seen, and records group membership', async () => {
    const user = uid('user')
    await batch(
      { type: 'track', userId: user, event: 'Viewed', timestamp: '2026-09-01T00:00:00.000Z' },
      { type: 'track', userId: user, event: 'Viewed', timestamp: '2026-09-03T00:00:00.000Z' },
      { type: 'page', userId: user, timestamp: '2026-09-02T00:00:00.000Z' },
      {
        type: 'group',
        userId: user,
        groupId: 'acme',
        traits: { plan: 'enterprise' },
        timestamp: '2026-09-02T00:00:00.000Z',
      },
    )
    const { body } = await contact(user)
    expect(body.eventCount).toBe(4)
    expect(body.firstSeen).toBe('2026-09-01T00:00:00.000Z')
    expect(body.lastSeen).toBe('2026-09-03T00:00:00.000Z')
    expect(body.counters).toEqual(
      expect.arrayContaining([
        {
          name: 'Viewed',
          count: 2,
          firstAt: '2026-09-01T00:00:00.000Z',
          lastAt: '2026-09-03T00:00:00.000Z',
        },
        expect.objectContaining({ name: '$page', count: 1 }),
      ]),
    )
    expect(body.groups).toEqual([
      { groupId: 'acme', traits: { plan: 'enterprise' }, joinedAt: '2026-09-02T00:00:00.000Z' },
    ])
  })

  it('pages through a timeline newest first with a cursor', async () => {
    const user = uid('user')
    await batch(
      ...Array.from({ length: 7 }, (_, i) => ({
        type: 'track',
        userId: user,
        event: `E${i}`,
        timestamp: `2026-08-0${i + 1}T00:00:00.000Z`,
      })),
    )
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const response = await api(
        `/api/contacts/${user}/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      )
      const page = (await response.json()) as { items: { event: string }[]; cursor: string | null }
      seen.push(...page.items.map((e) => e.event))
      cursor = page.cursor
    } while (cursor)
    expect(seen).toEqual(['E6', 'E5', 'E4', 'E3', 'E2', 'E1', 'E0'])
  })

  it('pages through contacts whose ids hold any character and share a last-seen time', async () => {
    const tag = uid('pg')
    const users = ['Ünïcødé', '🎉 party', 'plain'].map((name) => `${tag} ${name}`)
    await batch(
      ...users.map((userId) => ({
        type: 'track',
        userId,
        event: 'Seen',
        timestamp: '2026-11-20T10:05:00.000Z',
      })),
    )
    await eventually(async () => {
      const all = await api(`/api/contacts?q=${encodeURIComponent(tag)}`)
      return ((await all.json()) as { items: unknown[] }).items.length === 3
    })
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = `q=${encodeURIComponent(tag)}&limit=1${cursor ? `&cursor=${cursor}` : ''}`
      const response = await api(`/api/contacts?${query}`)
      expect(response.status).toBe(200)
      const page = (await response.json()) as { items: { key: string }[]; cursor: string | null }
      seen.push(...page.items.map((item) => item.key))
      cursor = page.cursor
    } while (cursor)
    expect(seen.sort()).toEqual([...users].sort())
  })

  it('answers a cursor it did not make with 400 on every list, not with a first page', async () => {
    const user = uid('user')
    await batch({ type: 'track', userId: user, event: 'Only' })
    // Junk, strings where numbers go, too few values, numbers where strings go.
    const cases = [
      [`/api/contacts/${user}/events`, 'zzz'],
      [`/api/contacts/${user}/events`, btoa('["1", "2"]')],
      ['/api/contacts', btoa('["2026-01-01"]')],
      ['/api/audit', btoa('["7"]')],
      ['/api/privacy/erasure', btoa('[1, 2]')],
      ['/api/privacy/suppressions', 'zzz'],
    ]
    for (const [list, cursor] of cases) {
      const response = await api(`${list}?cursor=${encodeURIComponent(cursor!)}`)
      expect([list, response.status]).toEqual([list, 400])
      expect(await response.json()).toMatchObject({ error: { code: 'invalid_cursor' } })
    }
  })

  it('answers 404 for a contact that never sent anything', async () => {
    const missing = await contact(uid('ghost'))
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ error: { code: 'not_found' } })
    const timeline = await api(`/api/contacts/${uid('ghost')}/events`)
    expect(timeline.status).toBe(404)
  })
})

describe('a contact woken from storage', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 10, minute)).toISOString()
  const visit = (user: string, minute: number, referrer: string, sessionId: string) => ({
    type: 'page',
    userId: user,
    timestamp: at(minute),
    context: { page: { url: 'https://shop.example/', referrer }, sessionId },
  })

  /**
   * Stores a page view that started a session (a referral touch) in the object directly, as a
   * commit whose send never happened: the object stopped in between.
   */
  function commitUnsentSessionEntry(
    object: DurableObjectStub,
    id: string,
    timestamp: string,
    anonymousId?: string,
  ) {
    return runInDurableObject(object, (_instance, state) => {
      const event: StoredEvent = {
        ...trackEvent(id, 'Viewed', timestamp),
        type: 'page',
        event: undefined,
        anonymousId,
        enrichment: { device: 'other', bot: false, landing: true, channel: 'referral' },
      }
      state.storage.sql.exec(
        `INSERT INTO events (id, message_id, type, timestamp, received_at, body)
         VALUES (?, ?, 'page', ?, ?, ?)`,
        id,
        id,
        Date.parse(timestamp),
        Date.parse(timestamp),
        JSON.stringify(event),
      )
      state.storage.sql.exec(
        "INSERT INTO touches (id, at, channel) VALUES (?, ?, 'referral')",
        id,
        Date.parse(timestamp),
      )
    })
  }

  it('goes on where it left off: counts, traits, identities, sessions and the D1 summary', async () => {
    const user = uid('user')
    const anon = uid('anon')
    const stub = env.CONTACTS.get(env.CONTACTS.idFromName(user))
    await batch(visit(user, 0, 'https://www.google.com/', 's1'))
    await send('/v1/identify', writeKey, {
      userId: user,
      anonymousId: anon,
      traits: { plan: 'trial', email: `${user}@example.com` },
      timestamp: at(1),
    })
    await evictDurableObject(stub)
    // Same session, five minutes later: not a new touch.
    await batch(visit(user, 6, 'https://shop.example/cart', 's1'))
    await send('/v1/identify', writeKey, {
      userId: user,
      traits: { plan: 'pro' },
      timestamp: at(7),
    })
    await evictDurableObject(stub)
    // Forty minutes without events: a new session, so a new touch.
    await batch(visit(user, 47, 'https://shop.example/cart', 's1'))

    const { body } = await contact(user)
    expect(body.eventCount).toBe(5)
    expect(body.firstSeen).toBe(at(0))
    expect(body.lastSeen).toBe(at(47))
    expect(body.traits).toEqual({ plan: 'pro', email: `${user}@example.com` })
    expect(body.traitHistory.filter((h: any) => h.key === 'plan').map((h: any) => h.to)).toEqual([
      'pro',
      'trial',
    ])
    expect(body.anonymousIds).toEqual([anon])
    expect(body.touches.map((t: any) => [t.at, t.channel])).toEqual([
      [at(0), 'organic_search'],
      [at(47), 'direct'],
    ])
    expect(body.counters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: '$page', count: 3 })]),
    )
    await eventually(async () => {
      const response = await api(`/api/contacts?q=${encodeURIComponent(user)}`)
      const list = (await response.json()) as { items: Record<string, any>[] }
      const row = list.items.find((item) => item.key === user)
      return row?.eventCount === 5 && row.lastSeen === at(47) && row.traits.plan === 'pro'
    })
  })

  it('sends what an earlier instance left in its outbox before anything else', async () => {
    const user = uid('user')
    await batch({ type: 'track', userId: user, event: 'First', timestamp: at(0) })
    const object = env.CONTACTS.get(env.CONTACTS.idFromName(user))
    const left = uid('left')
    const stray = { kind: 'event', contactKey: user, event: trackEvent(left, 'Left behind', at(1)) }
    // As if the object had stopped between its commit and the send.
    await runInDurableObject(object, (_instance, state) => {
      state.storage.sql.exec('INSERT INTO outbox (body) VALUES (?)', JSON.stringify([stray]))
    })
    await evictDurableObject(object)
    await batch({ type: 'track', userId: user, event: 'Second', timestamp: at(2) })
    await eventually(async () => (await eventsInD1(user)) === 3)
    expect(await d1Count('SELECT COUNT(*) AS n FROM events WHERE id = ?', left)).toBe(1)
    await eventually(async () =>
      runInDurableObject(
        object,
        (_instance, state) =>
          state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n === 0,
      ),
    )
  })

  it('sends again, after a stop, the events whose send it had not recorded, and archives each once', async () => {
    const user = uid('user')
    await batch({ type: 'track', userId: user, event: 'First', timestamp: at(0) })
    await eventually(async () => (await eventsInD1(user)) === 1)
    const object = env.CONTACTS.get(env.CONTACTS.idFromName(user))
    const [firstId] = await runInDurableObject(object, (_instance, state) =>
      state.storage.sql
        .exec<{ id: string }>('SELECT id FROM events')
        .toArray()
        .map((row) => row.id),
    )
    const missed = uid('missed')
    // As if the object had stopped after one commit before its send (Missed) and after another
    // before a later commit wrote that its send went through (First).
    await runInDurableObject(object, (_instance, state) => {
      state.storage.sql.exec(
        `INSERT INTO events (id, message_id, type, name, timestamp, received_at, body)
         VALUES (?, ?, 'track', 'Missed', ?, ?, ?)`,
        missed,
        missed,
        Date.parse(at(1)),
        Date.parse(at(1)),
        JSON.stringify(trackEvent(missed, 'Missed', at(1))),
      )
      state.storage.sql.exec("UPDATE meta SET value = '0' WHERE key = 'shipped_seq'")
    })
    await evictDurableObject(object)
    await batch({ type: 'track', userId: user, event: 'Second', timestamp: at(2) })
    await eventually(async () => (await eventsInD1(user)) === 3)
    expect(await d1Count('SELECT COUNT(*) AS n FROM events WHERE id = ?', missed)).toBe(1)
    // First reached the queue twice; the archive holds it once.
    const archived = await archiveRecords()
    expect(archived.filter((record) => record.id === firstId)).toHaveLength(1)
    expect(archived.filter((record) => record.id === missed)).toHaveLength(1)
    // The send of the three went through and is recorded: nothing is sent again.
    await evictDurableObject(object)
    const unsent = await runInDurableObject(object, (_instance, state) => {
      const mark = state.storage.sql
        .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'shipped_seq'")
        .one().value
      const last = state.storage.sql
        .exec<{ seq: number }>('SELECT MAX(seq) AS seq FROM events')
        .one().seq
      return last - Number(mark)
    })
    expect(unsent).toBe(0)
  })

  it('sends a session entry with its event, and again with it after a stop before the send', async () => {
    const user = uid('user')
    await batch({
      ...visit(user, 0, 'https://www.google.com/', 's1'),
      context: {
        page: { url: 'https://shop.example/?utm_source=news&utm_medium=email&utm_campaign=fall' },
        sessionId: 's1',
      },
    })
    const touchesInD1 = (id: string) =>
      d1Count('SELECT COUNT(*) AS n FROM touches WHERE contact_key = ? AND id = ?', user, id)
    const object = env.CONTACTS.get(env.CONTACTS.idFromName(user))
    const [first] = await runInDurableObject(object, (_instance, state) =>
      state.storage.sql.exec<{ id: string }>('SELECT id FROM touches').toArray(),
    )
    await eventually(async () => (await touchesInD1(first!.id)) === 1)
    expect(
      await d1Count(
        "SELECT COUNT(*) AS n FROM touches WHERE id = ? AND channel = 'email' AND campaign = 'fall'",
        first!.id,
      ),
    ).toBe(1)
    const missed = uid('missed')
    // As if the object had stopped after committing a new session's entry, before its send.
    await commitUnsentSessionEntry(object, missed, at(50))
    await evictDurableObject(object)
    await batch({ type: 'track', userId: user, event: 'Later', timestamp: at(51) })
    await eventually(async () => (await touchesInD1(missed)) === 1)
    expect(
      await d1Count(
        "SELECT COUNT(*) AS n FROM touches WHERE id = ? AND channel = 'referral' AND at = ?",
        missed,
        at(50),
      ),
    ).toBe(1)
  })

  it('keeps what an absorbed contact had not sent yet, session entries included, for D1', async () => {
    const anon = uid('anon')
    const user = uid('user')
    await batch({ type: 'track', anonymousId: anon, event: 'Sent', timestamp: at(0) })
    await eventually(async () => (await eventsInD1(`anon:${anon}`)) === 1)
    const object = env.CONTACTS.get(env.CONTACTS.idFromName(`anon:${anon}`))
    const missed = uid('missed')
    // As if its last commit (a new session's first page view) had not been sent yet.
    await commitUnsentSessionEntry(object, missed, at(1), anon)
    await send('/v1/identify', writeKey, { userId: user, anonymousId: anon, timestamp: at(2) })
    await eventually(
      async () =>
        (await d1Count(
          "SELECT COUNT(*) AS n FROM touches WHERE id = ? AND contact_key = ? AND channel = 'referral'",
          missed,
          user,
        )) === 1,
    )
    await eventually(async () => (await eventsInD1(user)) === 3)
    expect(await d1Count('SELECT COUNT(*) AS n FROM events WHERE id = ?', missed)).toBe(1)
  })

  it('hands over the history of an anonymous contact stored before the outbox mark existed', async () => {
    const anon = uid('anon')
    const user = uid('user')
    await batch(
      { type: 'page', anonymousId: anon, name: 'Before', timestamp: at(0) },
      { type: 'track', anonymousId: anon, event: 'Stored', timestamp: at(1) },
    )
    const object = env.CONTACTS.get(env.CONTACTS.idFromName(`anon:${anon}`))
    await eventually(async () => (await eventsInD1(`anon:${anon}`)) === 2)
    // As an object written by the previous schema (version 2) looks: no mark, no schedule.
    await runInDurableObject(object, (_instance, state) => {
      state.storage.sql.exec('DROP TABLE schedule')
      state.storage.sql.exec('DROP TABLE memberships')
      state.storage.sql.exec("DELETE FROM meta WHERE key = 'shipped_seq'")
      state.storage.sql.exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    })
    await evictDurableObject(object)
    await send('/v1/identify', writeKey, { userId: user, anonymousId: anon, timestamp: at(2) })
    expect((await events(user)).map((e) => e.event ?? e.name ?? e.type)).toEqual([
      'identify',
      'Stored',
      'Before',
    ])
    await eventually(async () => (await eventsInD1(user)) === 3)
    expect(await eventsInD1(`anon:${anon}`)).toBe(0)
  })
})
