import { beforeAll, describe, expect, it } from 'vitest'
import { api, createSource, d1Count, eventually, send, uid } from '../../test/support/api'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

let source: { id: string; writeKey: string }

beforeAll(async () => {
  source = await createSource({ name: 'Server fields' })
})

async function timeline(contact: string) {
  const response = await api(`/api/contacts/${encodeURIComponent(contact)}/events?limit=1000`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { items: Record<string, any>[] }).items
}

/** Waits for the queue consumer to write the contact's events to D1. */
function reachD1(contact: string, count: number) {
  return eventually(
    async () =>
      (await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', contact)) === count,
  )
}

describe('fields Cairn sets', () => {
  it("keeps Cairn's storage id whatever id a message carries, on /v1/track and /v1/batch", async () => {
    const user = uid()
    const single = await send('/v1/track', source.writeKey, { userId: user, event: 'A', id: 5 })
    expect(single.status).toBe(200)
    const batch = await send('/v1/batch', source.writeKey, {
      batch: [
        { type: 'track', userId: user, event: 'B', id: 'chosen-by-client' },
        { type: 'page', userId: user, name: 'Home', id: { nested: true } },
      ],
    })
    expect(await batch.json()).toEqual({ success: true, accepted: 2, rejected: [] })

    const events = await timeline(user)
    expect(events).toHaveLength(3)
    for (const event of events) expect(event.id).toMatch(UUID)
    // The queue consumer writes every one of them to D1 under Cairn's ids.
    await reachD1(user, 3)
    for (const event of events) {
      expect(await d1Count('SELECT COUNT(*) AS n FROM events WHERE id = ?', event.id)).toBe(1)
    }
    expect(
      await d1Count("SELECT COUNT(*) AS n FROM events WHERE id IN ('5', 'chosen-by-client')"),
    ).toBe(0)
  })

  it('keeps what a client sends for fields Cairn sets apart from them, and loses none of it', async () => {
    const user = uid()
    const sent = {
      userId: user,
      event: 'Signed Up',
      receivedAt: '2001-01-01T00:00:00.000Z',
      sourceId: 'src_forged',
      enrichment: { bot: true, channel: 'forged', ipHash: 'forged' },
      seq: 1,
      contactKey: 'someone-else',
      channel: 'server',
    }
    const before = Date.now()
    const response = await send('/v1/track', source.writeKey, sent)
    expect(response.status).toBe(200)
    const [event] = await timeline(user)
    expect(Date.parse(event!.receivedAt)).toBeGreaterThanOrEqual(before - 1000)
    expect(event!.sourceId).toBe(source.id)
    expect(event!.enrichment.bot).toBe(false)
    expect(event!.enrichment.channel).toBeUndefined()
    expect(event!.enrichment.ipHash).not.toBe('forged')
    expect(event).not.toHaveProperty('seq')
    expect(event).not.toHaveProperty('contactKey')
    // What the client sent beyond Segment's fields is kept, apart from Cairn's own.
    expect(event!.extra).toEqual({
      receivedAt: sent.receivedAt,
      sourceId: sent.sourceId,
      enrichment: sent.enrichment,
      seq: 1,
      contactKey: 'someone-else',
      channel: 'server',
    })
    await reachD1(user, 1)
    expect(
      await d1Count(
        "SELECT COUNT(*) AS n FROM events WHERE contact_key = ? AND source_id = ? AND bot = 0 AND received_at > '2002'",
        user,
        source.id,
      ),
    ).toBe(1)
  })

  it("reads a type's own fields only from messages of that type", async () => {
    const user = uid()
    const response = await send('/v1/batch', source.writeKey, {
      batch: [
        // Fields of other types, shaped wrongly for them: kept aside, never read as theirs.
        { type: 'identify', userId: user, traits: { plan: 'pro' }, event: { not: 'a name' } },
        { type: 'track', userId: user, event: 'Clicked', traits: 'x', groupId: ['g'] },
        { type: 'alias', userId: user, previousId: uid('old'), name: { first: 'Ada' } },
      ],
    })
    expect(await response.json()).toEqual({ success: true, accepted: 3, rejected: [] })
    const events = await timeline(user)
    const byType = Object.fromEntries(events.map((e) => [e.type, e]))
    expect(byType.identify).not.toHaveProperty('event')
    expect(byType.identify!.extra).toEqual({ event: { not: 'a name' } })
    expect(byType.track).toMatchObject({ event: 'Clicked', extra: { traits: 'x', groupId: ['g'] } })
    expect(byType.track).not.toHaveProperty('traits')
    expect(byType.alias).not.toHaveProperty('name')
    await reachD1(user, 3)
    expect(
      await d1Count(
        "SELECT COUNT(*) AS n FROM events WHERE contact_key = ? AND type = 'identify' AND event IS NULL",
        user,
      ),
    ).toBe(1)
  })
})
