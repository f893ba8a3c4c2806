import { env, runInDurableObject } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Rule } from '../domain/segments/rule'
import { api, createSource, d1Count, eventually, send, uid } from '../test/support/api'
import { StoredContactFacts } from './contact-segments'
import { migrateContactStorage } from './contact-schema'
import { readActivationState } from './activation'
import { Events } from './facets/events'
import type { StoredEvent } from '../contracts/stored-event'

let writeKey: string

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Segment tests' })).writeKey
})

const DAY_MS = 86_400_000

async function createSegment(rule: Rule, name = uid('segment')): Promise<string> {
  const response = await api('/api/segments', { method: 'POST', json: { name, rule } })
  expect(response.status).toBe(201)
  return ((await response.json()) as { id: string }).id
}

async function profile(key: string) {
  const response = await api(`/api/contacts/${encodeURIComponent(key)}`)
  expect(response.status).toBe(200)
  return (await response.json()) as {
    segments: string[]
    segmentMemberships: { id: string; since: string }[]
    lists: string[]
  }
}

async function timeline(key: string) {
  const response = await api(`/api/contacts/${encodeURIComponent(key)}/events?limit=1000`)
  const items = ((await response.json()) as { items: Record<string, any>[] }).items
  return items
    .filter((e) => e.sourceId === 'cairn')
    .map((e) => `${e.event} ${e.properties.segmentId ?? e.properties.listId}`)
}

function track(user: string, event: string, extra: Record<string, unknown> = {}) {
  return send('/v1/track', writeKey, { userId: user, event, ...extra })
}

function segmentsJob(user: string) {
  const object = env.CONTACTS.get(env.CONTACTS.idFromName(user))
  return runInDurableObject(object, (_instance, state) =>
    state.storage.sql
      .exec<{ due_at: number }>("SELECT due_at FROM schedule WHERE kind = 'segments'")
      .toArray(),
  )
}

function inD1(segment: string, key: string) {
  return d1Count(
    'SELECT COUNT(*) AS n FROM segment_members WHERE segment_id = ? AND contact_key = ?',
    segment,
    key,
  )
}

describe('a contact enters and leaves segments as it changes', () => {
  it('enters in the request that stores the event, with an event on its timeline and a D1 row', async () => {
    const name = uid('Viewed Pricing')
    const segment = await createSegment({ performed: name, within: { days: 7 } })
    const user = uid('user')
    await track(user, 'Something else')
    expect((await profile(user)).segments).not.toContain(segment)
    expect((await track(user, name)).status).toBe(200)
    // No wait: the 200 follows the transaction that entered the segment.
    expect((await profile(user)).segments).toContain(segment)
    expect(await timeline(user)).toContain(`Segment Entered ${segment}`)
    await eventually(async () => (await inD1(segment, user)) === 1)
    const members = await api(`/api/segments/${segment}/members`)
    expect(((await members.json()) as { items: { contactKey: string }[] }).items).toEqual([
      expect.objectContaining({ contactKey: user }),
    ])
  })

  it('leaves a time window when it runs out, by the scheduler, with no new event', async () => {
    const name = uid('Viewed Pricing')
    const segment = await createSegment({ performed: name, within: { days: 7 } })
    const user = uid('user')
    // Seven days old but three seconds: the window ends three seconds from now.
    const at = Date.now() - 7 * DAY_MS + 3_000
    await track(user, name, { timestamp: new Date(at).toISOString() })
    expect((await profile(user)).segments).toContain(segment)
    // Due the millisecond the event leaves the window, not at a sweep.
    expect(await segmentsJob(user)).toEqual([{ due_at: at + 7 * DAY_MS + 1 }])
    await eventually(async () => !(await profile(user)).segments.includes(segment), 15_000)
    expect(await timeline(user)).toEqual([
      `Segment Exited ${segment}`,
      `Segment Entered ${segment}`,
    ])
    await eventually(async () => (await inD1(segment, user)) === 0)
  })

  // A round after new events looks at their windows alone: an older event's end stays scheduled.
  it("stays while a later event keeps the window open, and leaves at that event's end", async () => {
    const name = uid('Viewed Pricing')
    const segment = await createSegment({ performed: name, within: { days: 7 } })
    const user = uid('user')
    const first = Date.now() - 7 * DAY_MS + 2_000
    const second = first + 3_000
    await track(user, name, { timestamp: new Date(first).toISOString() })
    await track(user, name, { timestamp: new Date(second).toISOString() })
    expect(await segmentsJob(user)).toEqual([{ due_at: first + 7 * DAY_MS + 1 }])
    // The first event's end: the job finds the second still inside and schedules its end.
    await eventually(async () => {
      const [job] = await segmentsJob(user)
      return job?.due_at === second + 7 * DAY_MS + 1
    }, 15_000)
    expect((await profile(user)).segments).toContain(segment)
    await eventually(async () => !(await profile(user)).segments.includes(segment), 15_000)
    expect(await timeline(user)).toEqual([
      `Segment Exited ${segment}`,
      `Segment Entered ${segment}`,
    ])
  }, 20_000)

  it("schedules a new event's window when it ends before what was scheduled", async () => {
    const week = uid('Viewed Pricing')
    const day = uid('Opened App')
    await createSegment({ performed: week, within: { days: 7 } })
    const daily = await createSegment({ performed: day, within: { days: 1 } })
    const user = uid('user')
    await track(user, week, { timestamp: new Date(Date.now() - 6 * DAY_MS).toISOString() })
    const opened = Date.now() - DAY_MS + 2_000
    await track(user, day, { timestamp: new Date(opened).toISOString() })
    expect(await segmentsJob(user)).toEqual([{ due_at: opened + DAY_MS + 1 }])
    await eventually(async () => !(await profile(user)).segments.includes(daily), 15_000)
  })

  it('follows trait changes, and leaves when a trait stops matching', async () => {
    const plan = uid('plan')
    const segment = await createSegment({ trait: 'plan', op: 'eq', value: plan })
    const user = uid('user')
    await send('/v1/identify', writeKey, { userId: user, traits: { plan } })
    expect((await profile(user)).segments).toContain(segment)
    await send('/v1/identify', writeKey, { userId: user, traits: { plan: 'free' } })
    expect((await profile(user)).segments).not.toContain(segment)
  })

  it('enters and leaves 60 segments in one change each, every move on the timeline and in D1', async () => {
    // More moves than one statement binds (100 parameters): the round writes them in several.
    const tier = uid('tier')
    const segments: string[] = []
    for (let i = 0; i < 60; i++) {
      segments.push(await createSegment({ trait: 'tier', op: 'eq', value: tier }))
    }
    const user = uid('user')
    const members = () =>
      d1Count('SELECT COUNT(*) AS n FROM segment_members WHERE contact_key = ?', user)
    await send('/v1/identify', writeKey, { userId: user, traits: { tier } })
    expect((await profile(user)).segments.filter((id) => segments.includes(id))).toHaveLength(60)
    expect(await timeline(user)).toEqual(
      expect.arrayContaining(segments.map((id) => `Segment Entered ${id}`)),
    )
    await eventually(async () => (await members()) === 60)
    await send('/v1/identify', writeKey, { userId: user, traits: { tier: 'other' } })
    expect((await profile(user)).segments.filter((id) => segments.includes(id))).toEqual([])
    expect(await timeline(user)).toEqual(
      expect.arrayContaining(segments.map((id) => `Segment Exited ${id}`)),
    )
    await eventually(async () => (await members()) === 0)
  })

  it('never counts a bot', async () => {
    const name = uid('Viewed')
    const segment = await createSegment({ performed: name })
    const user = uid('user')
    await track(user, name, {
      context: { userAgent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' },
    })
    expect((await profile(user)).segments).not.toContain(segment)
  })

  it('combines two histories in a merge: the anonymous visits count for the identified person', async () => {
    const name = uid('Viewed')
    const segment = await createSegment({ performed: name, count: { op: 'gte', value: 3 } })
    const anon = uid('anon')
    const user = uid('user')
    await send('/v1/batch', writeKey, {
      batch: [
        { type: 'track', anonymousId: anon, event: name },
        { type: 'track', anonymousId: anon, event: name },
      ],
    })
    await track(user, name)
    expect((await profile(`anon:${anon}`)).segments).not.toContain(segment)
    expect((await profile(user)).segments).not.toContain(segment)
    await send('/v1/identify', writeKey, { userId: user, anonymousId: anon })
    expect((await profile(user)).segments).toContain(segment)
    await eventually(async () => (await inD1(segment, user)) === 1)
    expect(await inD1(segment, `anon:${anon}`)).toBe(0)
  })

  it('keeps the events of an anonymous contact handed over while its own ingest waited', async () => {
    // A new segment makes every object read the configuration: the anonymous contact's ingest
    // waits on it, and the identify in the same batch claims it meanwhile.
    for (let round = 0; round < 3; round++) {
      await createSegment({ performed: uid('Anything') })
      const anon = uid('anon')
      const user = uid('user')
      await send('/v1/batch', writeKey, {
        batch: [
          { type: 'page', anonymousId: anon, name: 'Home' },
          { type: 'page', anonymousId: anon, name: 'Pricing' },
          { type: 'identify', userId: user, anonymousId: anon, traits: { plan: 'pro' } },
          { type: 'track', userId: user, event: 'Order Completed' },
        ],
      })
      const response = await api(`/api/contacts/${encodeURIComponent(user)}/events?limit=100`)
      const items = ((await response.json()) as { items: { type: string; name?: string }[] }).items
      expect(
        items
          .filter((e) => e.type === 'page')
          .map((e) => e.name)
          .sort(),
      ).toEqual(['Home', 'Pricing'])
    }
  })

  it('follows consent: a grant enters a consent segment, a withdrawal leaves it', async () => {
    const segment = await createSegment({
      all: [
        { consent: 'marketing', granted: true },
        { trait: 'tag', op: 'eq', value: 'c1' },
      ],
    })
    const user = uid('user')
    await send('/v1/identify', writeKey, { userId: user, traits: { tag: 'c1' } })
    expect((await profile(user)).segments).not.toContain(segment)
    const decide = (marketing: boolean) =>
      send('/v1/consent', writeKey, {
        userId: user,
        purposes: { analytics: true, marketing, personalization: false, advertising: false },
        policyVersion: 'v1',
        source: 'banner',
      })
    expect((await decide(true)).status).toBe(200)
    expect((await profile(user)).segments).toContain(segment)
    await decide(false)
    expect((await profile(user)).segments).not.toContain(segment)
  })

  it('follows manual lists', async () => {
    const created = await api('/api/lists', { method: 'POST', json: { name: uid('VIPs') } })
    const list = ((await created.json()) as { id: string }).id
    const segment = await createSegment({ list })
    const user = uid('user')
    await track(user, 'Seen')
    const add = await api(`/api/lists/${list}/members`, {
      method: 'POST',
      json: { contactIds: [user] },
    })
    expect(add.status).toBe(200)
    const after = await profile(user)
    expect(after.lists).toEqual([list])
    expect(after.segments).toContain(segment)
  })

  it('backfills a new segment: contacts that already match enter without a new event', async () => {
    const name = uid('Signed Up')
    const users = [uid('user'), uid('user')]
    for (const user of users) await track(user, name)
    await eventually(
      async () =>
        (await d1Count(
          "SELECT COUNT(*) AS n FROM events WHERE event = ? AND type = 'track'",
          name,
        )) === 2,
    )
    const segment = await createSegment({ performed: name })
    for (const user of users) {
      await eventually(async () => (await profile(user)).segments.includes(segment), 15_000)
    }
    await eventually(async () => {
      const response = await api(`/api/segments/${segment}`)
      return ((await response.json()) as { count: number }).count === 2
    }, 15_000)
  })

  it('ends memberships of a deleted segment', async () => {
    const name = uid('Clicked')
    const segment = await createSegment({ performed: name })
    const user = uid('user')
    await track(user, name)
    expect((await profile(user)).segments).toContain(segment)
    expect((await api(`/api/segments/${segment}`, { method: 'DELETE' })).status).toBe(200)
    await eventually(async () => !(await profile(user)).segments.includes(segment), 15_000)
    await eventually(async () => (await inD1(segment, user)) === 0)
  })

  it('keeps no membership for a visitor whose events are withheld for want of consent', async () => {
    const optIn = (await createSource({ name: 'Opt-in', consentMode: 'opt-in' })).writeKey
    const segment = await createSegment({ not: { performed: uid('never') } })
    const anon = uid('anon')
    await send('/v1/track', optIn, { anonymousId: anon, event: 'Viewed' })
    const response = await api(`/api/contacts/${encodeURIComponent(`anon:${anon}`)}`)
    expect(response.status).toBe(404)
    expect(await inD1(segment, `anon:${anon}`)).toBe(0)
  })
})

/** id, type, name, time, bot (0 or 1), properties: an event row as the object stores it. */
type EventRow = [string, string, string | null, number, number, Record<string, unknown>]

function insertEvents(sql: SqlStorage, rows: EventRow[]) {
  for (const [id, type, name, at, bot, properties] of rows) {
    sql.exec(
      `INSERT INTO events (id, message_id, type, name, timestamp, received_at, bot, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      `m-${id}`,
      type,
      name,
      at,
      at,
      bot,
      JSON.stringify({ id, type, properties }),
    )
  }
}

/** Facts over `events` for a contact of `count` events whose rules read `propertiesRead`. */
function factsOver(
  sql: SqlStorage,
  events: Events,
  count: number,
  propertiesRead: ReadonlySet<string>,
) {
  const facets = { events, counters: { all: () => ({ count, firstAt: 0, lastAt: 0 }) } }
  return new StoredContactFacts(
    'k',
    sql,
    facets as unknown as ConstructorParameters<typeof StoredContactFacts>[2],
    0,
    propertiesRead,
  )
}

describe("a contact's events as rules read them", () => {
  // A contact with few events is read in one statement per round, one with many name by name:
  // both must give every rule the same events.
  it('are the same read all at once or name by name: no bots, no other types, a track named $page apart', async () => {
    const stub = env.CONTACTS.get(env.CONTACTS.newUniqueId())
    const read = await runInDurableObject(stub, (_instance, state) => {
      migrateContactStorage(state.storage, 0)
      insertEvents(state.storage.sql, [
        ['p1', 'page', 'Home', 10, 0, { path: '/' }],
        ['p2', 'page', null, 20, 0, { path: '/pricing' }],
        ['p3', 'page', 'Home', 30, 1, { path: '/bot' }],
        ['s1', 'screen', 'Cart', 40, 0, {}],
        ['t1', 'track', 'Viewed', 50, 0, { price: 3 }],
        ['t2', 'track', 'Viewed', 60, 1, { price: 4 }],
        ['t3', 'track', '$page', 70, 0, {}],
        ['t4', 'track', null, 80, 0, {}],
        ['i1', 'identify', null, 90, 0, {}],
        ['m1', 'track', 'Segment Entered', 100, 0, { segmentId: 'x' }],
      ])
      const names = ['$page', '$screen', 'Viewed', '$page', 'Segment Entered', 'Nothing']
      const factsWith = (count: number, propertiesRead: ReadonlySet<string>) =>
        factsOver(state.storage.sql, new Events(state.storage.sql), count, propertiesRead)
      // Properties read with the events in one statement, or afterwards name by name.
      const variants: [number, ReadonlySet<string>][] = [
        [1, new Set()],
        [1, new Set(names)],
        [100_000, new Set()],
      ]
      return variants.map(([count, propertiesRead]) => {
        const facts = factsWith(count, propertiesRead)
        return names.map((name) =>
          facts
            .events(name)
            .map((e) => `${e.id}@${e.at} ${JSON.stringify(e.properties)}`)
            .sort(),
        )
      })
    })
    const expected = [
      ['p1@10 {"path":"/"}', 'p2@20 {"path":"/pricing"}'],
      ['s1@40 {}'],
      ['t1@50 {"price":3}'],
      ['p1@10 {"path":"/"}', 'p2@20 {"path":"/pricing"}'],
      ['m1@100 {"segmentId":"x"}'],
      [],
    ]
    expect(read).toEqual([expected, expected, expected])
  })

  // A woken object takes the copy from its one wake-up query when its segments count events.
  it('come with the wake-up query as a round would read them, only when segments count events', async () => {
    const stub = env.CONTACTS.get(env.CONTACTS.newUniqueId())
    const woken = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      migrateContactStorage(state.storage, 0)
      insertEvents(sql, [
        ['p1', 'page', 'Home', 10, 0, { path: '/' }],
        ['t1', 'track', 'Viewed', 20, 0, { price: 3 }],
        ['b1', 'track', 'Viewed', 30, 1, { price: 4 }],
        ['m1', 'track', 'Segment Entered', 40, 0, { segmentId: 'x' }],
      ])
      const propertiesRead = new Set(['Viewed'])
      const view = (events: Events) =>
        [...events.countedEvents(propertiesRead)].map(
          ([name, list]) =>
            `${name}: ${list.map((e) => `${e.id}@${e.at} ${JSON.stringify(e.properties ?? null)}`).join(' ')}`,
        )
      const primed = () => {
        const events = new Events(sql)
        events.prime(readActivationState(sql))
        return events
      }
      const withoutKey = readActivationState(sql).counted
      sql.exec("INSERT INTO meta (key, value) VALUES ('counted_properties', '[\"Viewed\"]')")
      const woken = view(primed())
      const fresh = view(new Events(sql))
      sql.exec("INSERT INTO counters (name, count, first_at, last_at) VALUES ('*', 501, 0, 0)")
      const tooMany = readActivationState(sql).counted
      return { withoutKey, woken, fresh, tooMany }
    })
    expect(woken.withoutKey).toBeNull()
    expect(woken.woken).toEqual(['$page: p1@10 null', 'Viewed: t1@20 {"price":3}'])
    expect(woken.woken).toEqual(woken.fresh)
    expect(woken.tooMany).toBeNull()
  })

  // The events facet keeps what rules count between rounds: every insert must reach the copy,
  // and a prune or a rolled-back transaction must not leave it behind the table.
  it('are the same from the kept copy after inserts, a rollback and a prune as read afresh', async () => {
    const stub = env.CONTACTS.get(env.CONTACTS.newUniqueId())
    const [kept, fresh] = await runInDurableObject(stub, (_instance, state) => {
      migrateContactStorage(state.storage, 0)
      const events = new Events(state.storage.sql)
      const stored = (id: string, type: string, name: string | null, at: number, bot = false) => {
        const event = {
          id,
          messageId: `m-${id}`,
          type,
          ...(type === 'track' ? { event: name } : { name }),
          properties: { at },
          timestamp: new Date(at).toISOString(),
          receivedAt: new Date(at).toISOString(),
          enrichment: { bot },
        } as unknown as StoredEvent
        events.insert(event, JSON.stringify(event), at)
      }
      // As rules read them: the copy holds the properties of Viewed (a rule reads them) and of
      // the events inserted into it; the others' are read when asked.
      const propertiesRead = new Set(['Viewed'])
      const snapshot = (facet: Events) => {
        const facts = factsOver(state.storage.sql, facet, 1, propertiesRead)
        return [...facet.countedEvents(propertiesRead).keys()]
          .map((name) => {
            const events = facts.events(name).map((e) => `${e.id}@${e.properties.at}`)
            return `${name}: ${events.join(' ')}`
          })
          .sort()
      }
      stored('p1', 'page', 'Home', 1_000)
      expect(snapshot(events)).toEqual(['$page: p1@1000'])
      // Inserted after the copy was made: counted ones join it, the rest do not.
      stored('t1', 'track', 'Viewed', 2_000)
      stored('b1', 'track', 'Viewed', 3_000, true)
      stored('m1', 'track', 'Segment Entered', 4_000)
      stored('x1', 'track', '$page', 5_000)
      stored('i1', 'identify', null, 6_000)
      stored('t1', 'track', 'Viewed', 2_000)
      // A transaction that rolls back: its insert is gone from the table, so the copy must go.
      try {
        state.storage.transactionSync(() => {
          stored('t2', 'track', 'Viewed', 7_000)
          throw new Error('rolled back')
        })
      } catch {
        events.forget()
      }
      stored('s1', 'screen', 'Cart', 8_000)
      events.prune(1_500, Number.MAX_SAFE_INTEGER)
      stored('t3', 'track', 'Viewed', 9_000)
      return [snapshot(events), snapshot(new Events(state.storage.sql))]
    })
    expect(kept).toEqual(['$screen: s1@8000', 'Viewed: t1@2000 t3@9000'])
    expect(kept).toEqual(fresh)
  })

  // A round's moves are inserted together: a duplicate among them must neither get a seq (the
  // outbox would queue it) nor reach the copy twice.
  it('are inserted several at once, each with its seq, a duplicate with none and counted once', async () => {
    const stub = env.CONTACTS.get(env.CONTACTS.newUniqueId())
    const result = await runInDurableObject(stub, (_instance, state) => {
      migrateContactStorage(state.storage, 0)
      const events = new Events(state.storage.sql)
      const row = (id: string, messageId: string, at: number) => {
        const event = {
          id,
          messageId,
          type: 'track',
          event: 'Viewed',
          properties: {},
          timestamp: new Date(at).toISOString(),
          receivedAt: new Date(at).toISOString(),
          enrichment: { bot: false },
        } as unknown as StoredEvent
        return { event, body: JSON.stringify(event), at }
      }
      events.countedEvents(new Set())
      const first = events.insertAll([row('a', 'm-a', 1_000)])
      const seqs = events.insertAll([
        row('b', 'm-b', 2_000),
        row('b2', 'm-b', 2_500),
        row('a2', 'm-a', 3_000),
        row('c', 'm-c', 4_000),
      ])
      const ids = (facet: Events) =>
        (facet.countedEvents(new Set()).get('Viewed') ?? []).map((e) => e.id)
      return { first, seqs, kept: ids(events), fresh: ids(new Events(state.storage.sql)) }
    })
    // A skipped duplicate may still use up a seq (AUTOINCREMENT): only the order is promised.
    const [b, b2, a2, c] = result.seqs
    expect([b2, a2]).toEqual([null, null])
    expect(b).toBeGreaterThan(result.first[0]!)
    expect(c).toBeGreaterThan(b!)
    expect(result.kept).toEqual(['a', 'b', 'c'])
    expect(result.kept).toEqual(result.fresh)
  })
})
