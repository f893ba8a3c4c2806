import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { SEGMENT_LIMITS } from '../../contracts/segment'
import { api, createSource, d1Count, errorOf, eventually, send, uid } from '../../test/support/api'
import type { BackfillMessage, QueuedMessage } from '../../contracts/queue-messages'
import { runBackfillPage, startBackfill } from '../segments/backfill'
import { loadSegmentConfig, type SegmentConfig } from '../segments/config'
import { HISTORY_DAYS, updateSegment } from '../segments/store'

interface Segment {
  id: string
  name: string
  rule: unknown
  createdAt: string
  updatedAt: string
  changedAt: string | null
  count: number
}

interface MemberPage {
  items: { contactKey: string; since: string }[]
  cursor: string | null
}

async function create(rule: unknown, name = uid('segment'), key?: string) {
  return api('/api/segments', { method: 'POST', json: { name, rule }, key })
}

async function created(rule: unknown, name = uid('segment')) {
  const response = await create(rule, name)
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Segment
}

function put(id: string, body: unknown) {
  return api(`/api/segments/${id}`, { method: 'PUT', json: body })
}

function preview(rule: unknown, key?: string) {
  return api('/api/segments/preview', { method: 'POST', json: { rule }, key })
}

async function members(id: string, query = '') {
  const response = await api(`/api/segments/${id}/members?limit=1000${query}`)
  expect(response.status).toBe(200)
  return (await response.json()) as MemberPage
}

async function keyFor(role: string) {
  const response = await api('/api/keys', { method: 'POST', json: { name: uid(role), role } })
  expect(response.status).toBe(201)
  return ((await response.json()) as { key: string }).key
}

/** Contacts with known events, in D1 once the queue consumer has applied them. */
const run = uid('seg')
const viewed = `Viewed ${run}`
const people = {
  three: `${run}-three`,
  two: `${run}-two`,
  one: `${run}-one`,
  other: `${run}-other`,
  twoPro: `${run}-two-pro`,
}

beforeAll(async () => {
  const { writeKey } = await createSource({ name: 'Segments' })
  const track = (userId: string, plan = 'basic') => ({
    type: 'track',
    event: viewed,
    userId,
    properties: { plan },
  })
  const batch = [
    track(people.three),
    track(people.three),
    track(people.three),
    track(people.two),
    track(people.two),
    track(people.one),
    { type: 'track', event: `Other ${run}`, userId: people.other },
    track(people.twoPro, 'pro'),
    track(people.twoPro, 'pro'),
  ]
  const response = await send('/v1/batch', writeKey, { batch })
  expect(response.status).toBe(200)
  // Drained: every event and every contact is in D1.
  await eventually(
    async () =>
      (await d1Count('SELECT COUNT(*) AS n FROM events WHERE event = ?', viewed)) === 8 &&
      (await d1Count('SELECT COUNT(*) AS n FROM contacts WHERE key LIKE ?', `${run}-%`)) === 5,
    20_000,
  )
}, 30_000)

describe('segments', () => {
  it('are created, listed, read, renamed, given a new rule and deleted', async () => {
    const rule = { performed: viewed }
    const name = uid('Round trip')
    const response = await create(rule, name)
    expect(response.status).toBe(201)
    const segment = (await response.json()) as Segment
    expect(segment).toEqual({
      id: expect.stringMatching(/^seg_/),
      name,
      rule,
      createdAt: expect.any(String),
      updatedAt: segment.createdAt,
      changedAt: null,
      count: 0,
    })

    const listed = (await (await api('/api/segments')).json()) as { items: Segment[] }
    expect(listed.items.find((s) => s.id === segment.id)).toEqual(segment)

    const read = await api(`/api/segments/${segment.id}`)
    expect(read.status).toBe(200)
    const detail = (await read.json()) as Segment & { history: unknown[] }
    expect(detail).toMatchObject(segment)
    expect(detail.history).toHaveLength(HISTORY_DAYS)

    const renamed = await put(segment.id, { name: 'Renamed' })
    expect(renamed.status).toBe(200)
    expect(await renamed.json()).toMatchObject({ id: segment.id, name: 'Renamed', rule })

    const narrower = { performed: viewed, count: { op: 'gte', value: 2 } }
    const changed = await put(segment.id, { rule: narrower })
    expect(changed.status).toBe(200)
    const updated = (await changed.json()) as Segment
    expect(updated).toMatchObject({ name: 'Renamed', rule: narrower })
    expect(updated.updatedAt >= segment.updatedAt).toBe(true)

    const deleted = await api(`/api/segments/${segment.id}`, { method: 'DELETE' })
    expect(deleted.status).toBe(200)
    expect(await deleted.json()).toMatchObject({ id: segment.id, rule: narrower })
    await errorOf(await api(`/api/segments/${segment.id}`), 404, 'not_found')
    await errorOf(await put(segment.id, { name: 'Gone' }), 404, 'not_found')
    await errorOf(await api(`/api/segments/${segment.id}`, { method: 'DELETE' }), 404, 'not_found')
    await errorOf(await api(`/api/segments/${segment.id}/members`), 404, 'not_found')
  })

  it('refuses an invalid rule naming the path of the bad part', async () => {
    const rule = {
      all: [
        { trait: 'plan', op: 'eq', value: 'pro' },
        { performed: viewed },
        { count: { op: 'gte', value: 2 } },
      ],
    }
    const error = await errorOf(await create(rule), 400, 'invalid_request')
    expect(error.message).toBe('Invalid request: rule.all[2].performed: required')
    expect(error.details.issues).toContainEqual({
      path: 'rule.all[2].performed',
      message: 'required',
    })
    const previewed = await errorOf(await preview(rule), 400, 'invalid_request')
    expect(previewed.message).toBe('Invalid request: rule.all[2].performed: required')
    await errorOf(await put('seg_whatever', {}), 400, 'invalid_request')
  })

  it('refuses a rule naming a segment that does not exist', async () => {
    const rule = { any: [{ performed: viewed }, { inSegment: 'seg_nope' }] }
    const error = await errorOf(await create(rule), 400, 'unknown_segment')
    expect(error.message).toBe('Invalid request: rule.any[1].inSegment: no segment seg_nope')
    expect(error.details.issues).toEqual([
      { path: 'rule.any[1].inSegment', message: 'no segment seg_nope' },
    ])
    await errorOf(await preview(rule), 400, 'unknown_segment')
    const existing = await created({ performed: viewed })
    await errorOf(await put(existing.id, { rule }), 400, 'unknown_segment')
  })

  it('refuses a segment that contains itself, directly or through others, naming the cycle', async () => {
    const a = await created({ performed: viewed })
    const direct = await errorOf(
      await put(a.id, { rule: { not: { inSegment: a.id } } }),
      400,
      'segment_cycle',
    )
    expect(direct.details.cycle).toEqual([a.id, a.id])
    expect(direct.message).toContain('rule.not.inSegment')

    const b = await created({ inSegment: a.id })
    const c = await created({ all: [{ inSegment: b.id }, { performed: viewed }] })
    const indirect = await errorOf(
      await put(a.id, { rule: { any: [{ performed: viewed }, { inSegment: c.id }] } }),
      400,
      'segment_cycle',
    )
    expect(indirect.details.cycle).toEqual([a.id, c.id, b.id, a.id])
    expect(indirect.message).toBe(
      `Invalid request: rule.any[1].inSegment: segment ${c.id} leads back to this one (${a.id} → ${c.id} → ${b.id} → ${a.id})`,
    )
    // Nothing was saved.
    const read = (await (await api(`/api/segments/${a.id}`)).json()) as Segment
    expect(read.rule).toEqual({ performed: viewed })
  })

  it('refuses a rule that, with the segments it names read in place, grows past the bound', async () => {
    // 50 references to a segment of 50 references: 5,101 rules for every contact to evaluate.
    const fifty = (id: string) => ({ any: Array.from({ length: 50 }, () => ({ inSegment: id })) })
    const leaf = (await created({ list: 'anything' })).id
    const middle = (await created(fifty(leaf))).id
    const error = await errorOf(await create(fifty(middle)), 400, 'rule_too_large')
    expect(error.message).toContain(`more than ${SEGMENT_LIMITS.expandedRules} rules`)
    // Growing a segment others name is measured through them too.
    const small = (await created({ list: 'anything' })).id
    await created(fifty(small))
    const grown = await errorOf(await put(small, { rule: fifty(middle) }), 400, 'rule_too_large')
    expect(grown.message).toContain('would hold more than')
  })

  it('refuses a rule D1 could not run as one query, before saving or previewing it', async () => {
    // 60 traits, each with its own path and value: 120 values to bind, past D1's 100.
    const wide = {
      all: Array.from({ length: 60 }, (_, i) => ({ trait: `t${i}`, op: 'eq', value: `v${i}` })),
    }
    const error = await errorOf(await create(wide), 400, 'rule_too_large')
    expect(error.message).toContain('more than D1 can run as one query')
    await errorOf(await preview(wide), 400, 'rule_too_large')
  })

  it('refuses to delete a segment another refers to, naming it', async () => {
    const used = await created({ performed: viewed })
    const user = await created({ not: { inSegment: used.id } }, 'Not viewers')
    const error = await errorOf(
      await api(`/api/segments/${used.id}`, { method: 'DELETE' }),
      409,
      'segment_in_use',
    )
    expect(error.message).toContain(`segment "Not viewers" (${user.id})`)
    expect(error.details.usedBy).toEqual([{ kind: 'segment', id: user.id, name: 'Not viewers' }])
    expect((await api(`/api/segments/${used.id}`)).status).toBe(200)

    expect((await put(user.id, { rule: { performed: viewed } })).status).toBe(200)
    expect((await api(`/api/segments/${used.id}`, { method: 'DELETE' })).status).toBe(200)
  })

  it('refuses to delete a segment a journey enters on or branches on, naming the journey', async () => {
    const entry = await created({ performed: viewed })
    const branched = await created({ performed: viewed }, 'Branched on')
    const name = uid('Journey')
    const journey = (await (
      await api('/api/journeys', { method: 'POST', json: { name } })
    ).json()) as { id: string }
    const saved = await api(`/api/journeys/${journey.id}/versions`, {
      method: 'POST',
      json: {
        definition: {
          entry: { segment: entry.id, on: 'enter' },
          start: 'b',
          nodes: {
            b: {
              type: 'branch',
              cases: [{ rule: { inSegment: branched.id }, next: 'x' }],
              otherwise: 'x',
            },
            x: { type: 'exit' },
          },
        },
      },
    })
    expect(saved.status).toBe(201)
    for (const id of [entry.id, branched.id]) {
      const error = await errorOf(
        await api(`/api/segments/${id}`, { method: 'DELETE' }),
        409,
        'segment_in_use',
      )
      expect(error.message).toContain(`journey "${name}" (${journey.id})`)
      expect(error.details.usedBy).toEqual([{ kind: 'journey', id: journey.id, name }])
    }
  })

  it('previews the exact count and a sample of the contacts a rule matches now', async () => {
    const atLeastTwo = await preview({ performed: viewed, count: { op: 'gte', value: 2 } })
    expect(atLeastTwo.status).toBe(200)
    const body = (await atLeastTwo.json()) as { count: number; sample: string[] }
    expect(body.count).toBe(3)
    expect(body.sample.sort()).toEqual([people.three, people.two, people.twoPro].sort())

    const pro = (await (
      await preview({
        performed: viewed,
        where: [{ property: 'plan', op: 'eq', value: 'pro' }],
        within: { days: 1 },
      })
    ).json()) as { count: number; sample: string[] }
    expect(pro).toEqual({ count: 1, sample: [people.twoPro] })

    const none = (await (await preview({ performed: `Never ${run}` })).json()) as {
      count: number
      sample: string[]
    }
    expect(none).toEqual({ count: 0, sample: [] })

    // Referenced segments are read in place.
    const once = await created({ performed: viewed, count: { op: 'eq', value: 1 } })
    const viaReference = (await (
      await preview({ all: [{ inSegment: once.id }, { performed: viewed }] })
    ).json()) as { count: number; sample: string[] }
    expect(viaReference).toEqual({ count: 1, sample: [people.one] })
  })

  it('lets analysts read and preview but not write, in the one error shape', async () => {
    const analyst = await keyFor('analyst')
    await errorOf(await create({ performed: viewed }, 'Nope', analyst), 403, 'forbidden')
    const existing = await created({ performed: viewed })
    for (const method of ['PUT', 'DELETE']) {
      const response = await api(`/api/segments/${existing.id}`, {
        method,
        key: analyst,
        json: method === 'PUT' ? { name: 'Nope' } : undefined,
      })
      await errorOf(response, 403, 'forbidden')
    }
    expect((await api('/api/segments', { key: analyst })).status).toBe(200)
    expect((await api(`/api/segments/${existing.id}`, { key: analyst })).status).toBe(200)
    expect((await preview({ performed: viewed }, analyst)).status).toBe(200)
    await errorOf(await api('/api/segments', { key: await keyFor('compliance') }), 403, 'forbidden')
  })

  it('audits previews and member listings with counts, never the keys', async () => {
    const before = await d1Count(
      "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'POST /api/segments/preview'",
    )
    expect((await preview({ performed: viewed })).status).toBe(200)
    const row = await env.DB.prepare(
      "SELECT detail FROM audit_log WHERE action = 'POST /api/segments/preview' ORDER BY seq DESC LIMIT 1",
    ).first<{ detail: string }>()
    expect(
      await d1Count(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'POST /api/segments/preview'",
      ),
    ).toBe(before + 1)
    expect(JSON.parse(row!.detail)).toEqual({ count: 4, returned: 4 })
    expect(row!.detail).not.toContain(run)

    const segment = await created({ performed: viewed })
    await members(segment.id)
    const listing = await env.DB.prepare(
      "SELECT detail FROM audit_log WHERE action = 'GET /api/segments/{id}/members' ORDER BY seq DESC LIMIT 1",
    ).first<{ detail: string }>()
    expect(JSON.parse(listing!.detail)).toMatchObject({ segment: segment.id, limit: 1000 })
  })

  it('reports 90 days of entries and exits from the daily rollups, oldest first', async () => {
    const segment = await created({ performed: viewed })
    const day = (daysAgo: number) =>
      new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)
    await env.DB.prepare(
      `INSERT INTO daily_rollups (day, metric, dimension, count) VALUES
       (?1, 'segment_entered', ?4, 5), (?1, 'segment_exited', ?4, 2),
       (?2, 'segment_entered', ?4, 1), (?3, 'segment_entered', ?4, 7),
       (?1, 'segment_entered', 'seg_other', 9)`,
    )
      .bind(day(0), day(3), day(HISTORY_DAYS), segment.id)
      .run()
    const { history } = (await (await api(`/api/segments/${segment.id}`)).json()) as {
      history: { day: string; entered: number; exited: number }[]
    }
    expect(history).toHaveLength(HISTORY_DAYS)
    expect(history[0]!.day).toBe(day(HISTORY_DAYS - 1))
    expect(history.at(-1)).toEqual({ day: day(0), entered: 5, exited: 2 })
    expect(history.at(-4)).toEqual({ day: day(3), entered: 1, exited: 0 })
    expect(history.reduce((sum, d) => sum + d.entered + d.exited, 0)).toBe(8)
  })
})

describe('the write itself', () => {
  // Two edits racing both pass the route's checks; the guarded statement refuses the second.
  it('refuses a rule that closes a cycle or names a missing segment', async () => {
    const a = await created({ performed: viewed })
    const b = await created({ inSegment: a.id })
    const updatedAt = new Date().toISOString()
    expect(await updateSegment(env.DB, a.id, { rule: { inSegment: b.id }, updatedAt })).toBe(false)
    expect(await updateSegment(env.DB, a.id, { rule: { inSegment: a.id }, updatedAt })).toBe(false)
    expect(
      await updateSegment(env.DB, a.id, { rule: { not: { inSegment: 'seg_nope' } }, updatedAt }),
    ).toBe(false)
    expect((await (await api(`/api/segments/${a.id}`)).json()) as Segment).toMatchObject({
      rule: { performed: viewed },
    })
    expect(await updateSegment(env.DB, a.id, { name: 'Renamed', updatedAt })).toBe(true)
    const c = await created({ performed: viewed })
    expect(await updateSegment(env.DB, a.id, { rule: { inSegment: c.id }, updatedAt })).toBe(true)
  })
})

describe('segment members', () => {
  it('pages through segment_members by contact key, and filters the contact list', async () => {
    const segment = await created({ performed: viewed })
    const keys = [people.three, people.two, people.one]
    await env.DB.prepare(
      `INSERT INTO segment_members (segment_id, contact_key, since)
       SELECT ?1, value, '2026-01-01T00:00:00.000Z' FROM json_each(?2)`,
    )
      .bind(segment.id, JSON.stringify(keys))
      .run()

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''
      const response = await api(`/api/segments/${segment.id}/members?limit=2${query}`)
      expect(response.status).toBe(200)
      const page = (await response.json()) as MemberPage
      expect(page.items.length).toBeLessThanOrEqual(2)
      for (const item of page.items) {
        expect(item.since).toBe('2026-01-01T00:00:00.000Z')
        seen.push(item.contactKey)
      }
      cursor = page.cursor
    } while (cursor)
    expect(seen).toEqual([...keys].sort().reverse())

    const filtered = await api(`/api/contacts?segment=${segment.id}&limit=1000`)
    expect(filtered.status).toBe(200)
    const contacts = (await filtered.json()) as { items: { key: string }[] }
    expect(contacts.items.map((c) => c.key).sort()).toEqual([...keys].sort())
    await errorOf(await api('/api/contacts?segment=seg_nope'), 400, 'unknown_segment')
    await errorOf(
      await api(`/api/segments/${segment.id}/members?cursor=nonsense`),
      400,
      'invalid_cursor',
    )
    await env.DB.prepare('DELETE FROM segment_members WHERE segment_id = ?').bind(segment.id).run()
  })

  // The contacts' objects compute membership; the backfill tells them after each change.
  it('follow the rule without any new event: after creation, an edit and a deletion', async () => {
    const segment = await created({ performed: viewed, count: { op: 'gte', value: 2 } })
    const expected = [people.three, people.two, people.twoPro].sort()
    const keysOf = async () => (await members(segment.id)).items.map((m) => m.contactKey).sort()
    await eventually(
      async () => JSON.stringify(await keysOf()) === JSON.stringify(expected),
      25_000,
    )
    const read = (await (await api(`/api/segments/${segment.id}`)).json()) as Segment
    expect(read.count).toBe(3)
    expect(read.changedAt).not.toBeNull()

    expect(
      (await put(segment.id, { rule: { performed: viewed, count: { op: 'gte', value: 3 } } }))
        .status,
    ).toBe(200)
    await eventually(
      async () => JSON.stringify(await keysOf()) === JSON.stringify([people.three]),
      25_000,
    )

    expect((await api(`/api/segments/${segment.id}`, { method: 'DELETE' })).status).toBe(200)
    await eventually(
      async () =>
        (await d1Count(
          'SELECT COUNT(*) AS n FROM segment_members WHERE segment_id = ?',
          segment.id,
        )) === 0,
      25_000,
    )
  }, 90_000)

  it('include contacts that enter a timed rule, told by walking every live contact', async () => {
    const segment = await created({ performed: viewed, within: { days: 30 } })
    const expected = [people.three, people.two, people.one, people.twoPro].sort()
    await eventually(async () => {
      const keys = (await members(segment.id)).items.map((m) => m.contactKey).sort()
      return JSON.stringify(keys) === JSON.stringify(expected)
    }, 25_000)
  }, 30_000)
})

describe('the segment limit', () => {
  it(`stores at most ${SEGMENT_LIMITS.segments} segments`, async () => {
    const existing = await d1Count('SELECT COUNT(*) AS n FROM segments')
    const ids = Array.from({ length: SEGMENT_LIMITS.segments - existing - 1 }, () => uid('seed'))
    await env.DB.prepare(
      `INSERT INTO segments (id, name, rule, created_at, updated_at)
       SELECT value, 'Seeded', '{"list":"seeded"}', '2020-01-01', '2020-01-01' FROM json_each(?)`,
    )
      .bind(JSON.stringify(ids))
      .run()
    try {
      expect((await create({ list: 'last' })).status).toBe(201)
      const over = await errorOf(await create({ list: 'over' }), 409, 'limit_reached')
      expect(over.message).toBe(
        `There are already ${SEGMENT_LIMITS.segments} segments, the limit; delete one first`,
      )
    } finally {
      await env.DB.prepare(`DELETE FROM segments WHERE id IN (SELECT value FROM json_each(?))`)
        .bind(JSON.stringify(ids))
        .run()
    }
  })
})

/** A queue that keeps what is sent to it. */
function recordingQueue() {
  const sent: QueuedMessage[] = []
  const queue = {
    async sendBatch(batch: { body: string; contentType?: string }[]) {
      for (const message of batch) {
        expect(message.contentType).toBe('text')
        sent.push(JSON.parse(message.body) as QueuedMessage)
      }
    },
  } as unknown as Queue<string>
  return { queue, sent }
}

describe('the backfill', () => {
  const config = (segments: { id: string; rule: unknown }[]): SegmentConfig => ({
    segments: segments.map((s) => ({ ...s, name: s.id, rule: s.rule as never })),
    version: 'v-test',
  })

  it('walks what a change can move: matches and members, every contact, or members', async () => {
    const first = async (cfg: SegmentConfig, id: string) => {
      const { queue, sent } = recordingQueue()
      await startBackfill({ EVENTS: queue }, cfg, id)
      return sent
    }
    const page = (segmentId: string, phase: string) => ({
      kind: 'backfill',
      segmentId,
      phase,
      after: null,
    })
    const plain = config([
      { id: 'a', rule: { performed: 'X' } },
      { id: 'b', rule: { inSegment: 'a' } },
      { id: 'c', rule: { not: { inSegment: 'b' } } },
      { id: 'd', rule: { performed: 'Y' } },
    ])
    expect(await first(plain, 'a')).toEqual([
      page('a', 'matches'),
      page('b', 'matches'),
      page('c', 'matches'),
    ])
    expect(await first(plain, 'd')).toEqual([page('d', 'matches')])
    const timed = config([
      { id: 'a', rule: { performed: 'X', within: { days: 7 } } },
      { id: 'b', rule: { inSegment: 'a' } },
    ])
    expect(await first(timed, 'a')).toEqual([page('a', 'contacts')])
    expect(await first(timed, 'gone')).toEqual([page('gone', 'members')])
  })

  it('pages through every contact once, 100 keys a message, each page sending the next', async () => {
    const seeded = Array.from(
      { length: 1234 },
      (_, i) => `${run}-walk-${String(i).padStart(4, '0')}`,
    )
    await env.DB.prepare(
      `INSERT INTO contacts (key, anonymous_ids, traits, first_seen, last_seen, event_count, version)
       SELECT value, '[]', json_object('walk', ?2), '2026-01-01', '2026-01-01', 0, 1
       FROM json_each(?1)`,
    )
      .bind(JSON.stringify(seeded), run)
      .run()
    const segment = await created({ trait: 'walk', op: 'eq', value: run })
    const members = seeded.slice(0, 3).concat(`${run}-left`)
    await env.DB.prepare(
      `INSERT INTO segment_members (segment_id, contact_key, since)
       SELECT ?1, value, '2026-01-01' FROM json_each(?2)`,
    )
      .bind(segment.id, JSON.stringify(members))
      .run()
    try {
      const { version } = await loadSegmentConfig(env.DB)
      const walk = async (start: BackfillMessage) => {
        const told: string[] = []
        const phases: string[] = []
        let message: BackfillMessage | undefined = start
        while (message) {
          phases.push(message.phase)
          const { queue, sent } = recordingQueue()
          await runBackfillPage({ DB: env.DB, EVENTS: queue }, message)
          message = undefined
          for (const body of sent) {
            if (body.kind === 'backfill') message = body
            else if (body.kind === 'reevaluate') {
              expect(body.keys.length).toBeLessThanOrEqual(100)
              expect(body.version).toBe(version)
              told.push(...body.keys)
            }
          }
        }
        return { told, phases }
      }
      const matches = await walk({
        kind: 'backfill',
        segmentId: segment.id,
        phase: 'matches',
        after: null,
      })
      expect(matches.told).toEqual([...seeded, ...[...members].sort()])
      expect(matches.phases).toEqual(['matches', 'matches', 'matches', 'members'])

      const everyone = await walk({
        kind: 'backfill',
        segmentId: segment.id,
        phase: 'contacts',
        after: null,
      })
      const live = await env.DB.prepare(
        'SELECT key FROM contacts WHERE merged_into IS NULL ORDER BY key',
      ).all<{ key: string }>()
      expect(everyone.told).toEqual(live.results.map((row) => row.key))
      expect(everyone.told).toEqual(expect.arrayContaining(seeded))
    } finally {
      await env.DB.prepare('DELETE FROM contacts WHERE key IN (SELECT value FROM json_each(?))')
        .bind(JSON.stringify(seeded))
        .run()
      await env.DB.prepare('DELETE FROM segments WHERE id = ?').bind(segment.id).run()
      await env.DB.prepare('DELETE FROM segment_members WHERE segment_id = ?')
        .bind(segment.id)
        .run()
    }
  })
})
