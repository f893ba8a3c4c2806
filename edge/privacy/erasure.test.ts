import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { contactStub } from '../../durable/contact-client'
import { importDataKey, openText } from '../../durable/data-key'
import {
  api,
  archiveRecords,
  createSource,
  d1Count,
  eventually,
  send,
  uid,
} from '../../test/support/api'
import { dumpD1, erase } from '../../test/support/privacy'

describe('erasure', () => {
  it('erases a person under every linked identifier from every store, and only them', async () => {
    const { writeKey } = await createSource({ name: 'Erasure shop' })
    const phone = uid('phone')
    const laptop = uid('laptop')
    const user = uid('erin')
    const email = `${user}@example.com`
    const neighbour = uid('neighbour')
    await send('/v1/batch', writeKey, {
      batch: [
        {
          type: 'page',
          anonymousId: phone,
          name: 'Phone landing',
          context: { page: { url: 'https://shop.example/?utm_source=ads' } },
        },
        {
          type: 'page',
          anonymousId: laptop,
          name: 'Laptop landing',
          context: { page: { url: 'https://shop.example/' } },
        },
        {
          type: 'track',
          userId: neighbour,
          event: 'Neighbour Purchase',
          properties: { revenue: 12 },
        },
      ],
    })
    await send('/v1/identify', writeKey, {
      userId: user,
      anonymousId: phone,
      traits: { email, name: 'Erin' },
    })
    await send('/v1/alias', writeKey, { userId: user, previousId: laptop })
    await send('/v1/track', writeKey, {
      userId: user,
      event: 'Order Completed',
      properties: { revenue: 99, note: 'secret-note' },
    })
    await send('/v1/consent', writeKey, {
      userId: user,
      purposes: { marketing: true },
      policyVersion: 'v1',
      source: 'banner',
    })
    await eventually(
      async () =>
        (await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', user)) === 5,
    )
    await eventually(
      async () =>
        (await d1Count('SELECT COUNT(*) AS n FROM contact_consent WHERE contact_key = ?', user)) ===
        1,
    )
    const exported = await api(`/api/privacy/export/${user}`)
    expect(exported.status).toBe(200)
    expect(
      await env.ARCHIVE.list({ prefix: 'exports/' }).then((l) => l.objects.length),
    ).toBeGreaterThan(0)
    const keysBefore = await contactStub(env, user).dataKeys()
    expect(keysBefore.length).toBe(3)
    const myArchive = await eventually(async () => {
      const records = (await archiveRecords()).filter((r) =>
        keysBefore.some((k) => k.keyId === r.keyId),
      )
      return records.length === 5 ? records : undefined
    })
    const readable = JSON.parse(
      await openText(
        await importDataKey(keysBefore.find((k) => k.keyId === myArchive[0]!.keyId)!.raw),
        myArchive[0]!,
      ),
    )
    expect([phone, laptop, user]).toContain(readable.anonymousId ?? readable.userId)

    const erasure = await erase({ email: email.toUpperCase() })
    expect(erasure.receipt!.contacts).toBe(3)
    const stores = Object.fromEntries(erasure.receipt!.stores.map((s) => [s.store, s.removed]))
    expect(stores.ContactDO!.events).toBe(5)
    expect(stores['R2 archive']!.dataKeys).toBe(3)
    expect(stores.D1!.events).toBe(5)
    expect(stores.ContactDO!.touches).toBe(2)
    expect(stores.D1!.touches).toBe(2)
    expect(stores['R2 exports']!.objects).toBe(1)

    // D1: no identifier of the person anywhere.
    const d1 = await dumpD1()
    for (const identifier of [user, phone, laptop, email, 'secret-note', 'Erin'])
      expect(d1).not.toContain(identifier)
    // ContactDOs: nothing readable under any key, no data keys left.
    for (const key of [user, `anon:${phone}`, `anon:${laptop}`]) {
      expect((await api(`/api/contacts/${encodeURIComponent(key)}`)).status).toBe(404)
      expect(await contactStub(env, key).dataKeys()).toEqual([])
    }
    // R2: archived lines remain but nobody can decrypt them; exports are gone.
    for (const record of myArchive) {
      expect(JSON.stringify(record)).not.toContain(user)
      for (const key of keysBefore) {
        if (key.keyId === record.keyId) continue
        await expect(openText(await importDataKey(key.raw), record)).rejects.toThrow()
      }
    }
    expect((await env.ARCHIVE.list({ prefix: 'exports/' })).objects.length).toBe(0)

    // A replayed event is dropped, at the edge and in the consumer.
    const replay = await send('/v1/track', writeKey, {
      userId: user,
      anonymousId: phone,
      event: 'Order Completed',
    })
    expect(replay.status).toBe(200)
    await send('/v1/page', writeKey, { anonymousId: laptop, name: 'Replayed' })
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect((await api(`/api/contacts/${user}`)).status).toBe(404)
    expect(
      await d1Count(
        'SELECT COUNT(*) AS n FROM events WHERE user_id = ? OR anonymous_id IN (?, ?)',
        user,
        phone,
        laptop,
      ),
    ).toBe(0)

    // The neighbour is untouched.
    const neighbourProfile = (await (await api(`/api/contacts/${neighbour}`)).json()) as {
      eventCount: number
    }
    expect(neighbourProfile.eventCount).toBe(1)
    expect(await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', neighbour)).toBe(
      1,
    )
  })

  it('drops queued messages of an erased person in the consumer', async () => {
    const { writeKey } = await createSource({ name: 'Queued erasure' })
    const user = uid('queued')
    await send('/v1/track', writeKey, { userId: user, event: 'Before' })
    await eventually(
      async () =>
        (await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', user)) === 1,
    )
    await erase({ userId: user })
    // A message that was already queued for them is applied after the erasure.
    const { applyMessages } = await import('../queue/consumer')
    const now = new Date().toISOString()
    await applyMessages(env, [
      {
        kind: 'event',
        contactKey: user,
        event: {
          id: crypto.randomUUID(),
          messageId: 'late',
          type: 'track',
          event: 'Late',
          userId: user,
          context: {},
          timestamp: now,
          receivedAt: now,
          sourceId: 's',
          enrichment: { device: 'other', bot: false, landing: true },
        },
      },
      {
        kind: 'contact',
        key: user,
        version: 99,
        userId: user,
        anonymousIds: [],
        traits: {},
        firstSeen: now,
        lastSeen: now,
        eventCount: 1,
      },
    ])
    expect(await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', user)).toBe(0)
    expect(await d1Count('SELECT COUNT(*) AS n FROM contacts WHERE key = ?', user)).toBe(0)
  })

  it('lets a compliance key lift a suppression', async () => {
    const { writeKey } = await createSource({ name: 'Lifted' })
    const user = uid('returning')
    await send('/v1/track', writeKey, { userId: user, event: 'Before erasure' })
    const erasure = await erase({ userId: user })
    const suppressions = (await (await api('/api/privacy/suppressions?limit=1000')).json()) as {
      items: { hash: string; erasureId: string; kind: string }[]
    }
    const mine = suppressions.items.filter((s) => s.erasureId === erasure.id)
    expect(mine.map((s) => s.kind)).toEqual(['userId'])
    expect(JSON.stringify(suppressions)).not.toContain(user)

    const compliance = (await (
      await api('/api/keys', { method: 'POST', json: { name: 'DPO', role: 'compliance' } })
    ).json()) as { key: string }
    const lifted = await api(`/api/privacy/suppressions/${mine[0]!.hash}`, {
      method: 'DELETE',
      key: compliance.key,
    })
    expect(lifted.status).toBe(200)
    await send('/v1/track', writeKey, { userId: user, event: 'Came back' })
    const events = (await (await api(`/api/contacts/${user}/events`)).json()) as {
      items: { event: string }[]
    }
    expect(events.items.map((e) => e.event)).toEqual(['Came back'])
  })

  it('pages through the suppressions of one erasure, which share a timestamp, one at a time', async () => {
    const { writeKey } = await createSource({ name: 'Paged' })
    const user = uid('paged')
    await send('/v1/identify', writeKey, {
      userId: user,
      anonymousId: uid('device'),
      traits: { email: `${user}@example.com` },
    })
    const erasure = await erase({ userId: user })
    const seen: { erasureId: string; kind: string; createdAt: string }[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor ? `&cursor=${cursor}` : ''
      const page = (await (await api(`/api/privacy/suppressions?limit=1${query}`)).json()) as {
        items: { erasureId: string; kind: string; createdAt: string }[]
        cursor: string | null
      }
      seen.push(...page.items)
      cursor = page.cursor
    } while (cursor)
    const mine = seen.filter((s) => s.erasureId === erasure.id)
    expect(mine.map((s) => s.kind).sort()).toEqual(['anonymousId', 'email', 'userId'])
    expect(new Set(mine.map((s) => s.createdAt)).size).toBe(1)
  })

  it('rejects an erasure request that names no identifier or several', async () => {
    for (const body of [{}, { userId: 'a', email: 'a@example.com' }, { email: 'not-an-email' }]) {
      const response = await api('/api/privacy/erasure', { method: 'POST', json: body })
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ error: { code: 'invalid_request' } })
    }
  })
})

describe('data subject access export', () => {
  it('returns profile, events, consent ledger, identities and audit entries about the person', async () => {
    const { writeKey } = await createSource({ name: 'DSAR' })
    const anon = uid('anon')
    const user = uid('dsar')
    await send('/v1/page', writeKey, { anonymousId: anon, name: 'Home' })
    await send('/v1/identify', writeKey, {
      userId: user,
      anonymousId: anon,
      traits: { plan: 'pro' },
    })
    await send('/v1/consent', writeKey, {
      userId: user,
      purposes: { analytics: true },
      policyVersion: 'v2',
      source: 'banner',
    })
    await api(`/api/contacts/${user}`)
    const response = await api(`/api/privacy/export/anon:${anon}`)
    expect(response.status).toBe(200)
    expect(response.headers.get('Content-Disposition')).toMatch(
      /attachment; filename="cairn-export-/,
    )
    const body = (await response.json()) as any
    expect(body.contact).toMatchObject({ key: user, traits: { plan: 'pro' }, anonymousIds: [anon] })
    expect(body.events.map((e: any) => e.type)).toEqual(['page', 'identify'])
    expect(body.consent.ledger).toEqual([expect.objectContaining({ policyVersion: 'v2' })])
    expect(body.audit.map((a: any) => a.action)).toEqual(['GET /api/contacts/{id}'])
    expect((await api(`/api/privacy/export/${uid('nobody')}`)).status).toBe(404)
  })
})

describe('retention', () => {
  it('prunes raw events past their lifetime in D1 (cron) and in the ContactDO (alarm), keeping rollups', async () => {
    const { writeKey } = await createSource({ name: 'Retention' })
    const user = uid('old')
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString()
    await send('/v1/batch', writeKey, {
      batch: [
        { type: 'page', userId: user, name: 'Ancient', timestamp: old },
        { type: 'page', userId: user, name: 'Recent' },
      ],
    })
    await eventually(
      async () =>
        (await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', user)) === 2,
    )
    const rollupsBefore = await d1Count(
      "SELECT COALESCE(SUM(count), 0) AS n FROM daily_rollups WHERE metric = 'pageviews'",
    )
    const put = await api('/api/privacy/retention', {
      method: 'PUT',
      json: { rawEventsDays: 30, inactiveProfileDays: 365, exportsDays: 7 },
    })
    expect(put.status).toBe(200)

    const { runScheduledMaintenance } = await import('../maintenance')
    const result = await runScheduledMaintenance(env, new Date())
    expect(result.events).toBeGreaterThanOrEqual(1)
    expect(await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', user)).toBe(1)
    expect(
      await d1Count(
        "SELECT COALESCE(SUM(count), 0) AS n FROM daily_rollups WHERE metric = 'pageviews'",
      ),
    ).toBe(rollupsBefore)

    const stub = env.CONTACTS.get(env.CONTACTS.idFromName(user))
    // The object prunes once a day; move its next prune to now, as if the day had passed.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE schedule SET due_at = 0 WHERE kind = 'retention'")
    })
    await evictDurableObject(stub)
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    const events = (await (await api(`/api/contacts/${user}/events`)).json()) as {
      items: { name: string }[]
    }
    expect(events.items.map((e) => e.name)).toEqual(['Recent'])
    await api('/api/privacy/retention', {
      method: 'PUT',
      json: { rawEventsDays: 395, inactiveProfileDays: 730, exportsDays: 30 },
    })
  })

  it('validates retention settings', async () => {
    const response = await api('/api/privacy/retention', {
      method: 'PUT',
      json: { rawEventsDays: 0, inactiveProfileDays: 10, exportsDays: 1 },
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: { message: expect.stringContaining('rawEventsDays') },
    })
  })
})
