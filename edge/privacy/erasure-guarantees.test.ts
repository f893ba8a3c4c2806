import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { api, createSource, d1Count, eventually, send, uid } from '../../test/support/api'
import { erase } from '../../test/support/privacy'
import { sha256Hex } from '../access/secrets'
import { runScheduledMaintenance } from '../maintenance'
import { requestErasure, resendStalledErasures, runErasure } from './erasure'
import { keyHash } from './identifiers'

interface AuditPage {
  items: { action: string; detail: Record<string, unknown> | null }[]
}

async function trail(subject: string): Promise<string[]> {
  const page = (await (
    await api(`/api/audit?subject=${encodeURIComponent(subject)}&limit=1000`)
  ).json()) as AuditPage
  return page.items.map((item) => item.action)
}

describe('erasure guarantees', () => {
  it('erases a person by email within a second of the identify that linked it', async () => {
    const { writeKey } = await createSource({ name: 'Quick erasure' })
    const user = uid('quick')
    const email = `${user}@example.com`
    const identify = await send('/v1/identify', writeKey, {
      userId: user,
      traits: { email, name: 'Quick' },
    })
    expect(identify.status).toBe(200)
    // D1 learns the address only when the queue delivers; the erasure does not wait for it.
    const erasure = await erase({ email })
    expect(erasure.receipt).toMatchObject({ matched: true, contacts: 1 })
    expect((await api(`/api/contacts/${user}`)).status).toBe(404)
    // A projection of the person that was still queued is dropped when it arrives.
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(await d1Count('SELECT COUNT(*) AS n FROM contacts WHERE key = ?', user)).toBe(0)
    const search = (await (await api(`/api/contacts?q=${encodeURIComponent(email)}`)).json()) as {
      items: unknown[]
    }
    expect(search.items).toEqual([])
  })

  it('says in words when the identifier matched nobody', async () => {
    const erasure = await erase({ email: `${uid('nobody')}@example.com` })
    expect(erasure.receipt).toMatchObject({ matched: false, contacts: 0 })
    expect(erasure.receipt!.summary).toMatch(/^No contact matched this email/)
  })

  it("keeps a person's audit trail, their erasure included, findable by any of their identifiers", async () => {
    const { writeKey } = await createSource({ name: 'Audit trail' })
    const anon = uid('trail-device')
    const user = uid('trail')
    const email = `${user}@example.com`
    await send('/v1/identify', writeKey, { userId: user, anonymousId: anon, traits: { email } })
    await api(`/api/contacts/${user}`)
    // While the person exists, an identifier finds what was done under another.
    expect(await trail(`anon:${anon}`)).toEqual(['GET /api/contacts/{id}'])

    await erase({ email })
    for (const subject of [user, `anon:${anon}`, email, email.toUpperCase()]) {
      expect(await trail(subject), subject).toEqual([
        'erasure completed',
        'POST /api/privacy/erasure',
        'GET /api/contacts/{id}',
      ])
    }
    expect(await trail(uid('stranger'))).toEqual([])
  })

  it('drops dead-lettered messages that name the person, and keeps the others', async () => {
    const user = uid('dead')
    const email = `${user}@Example.com`
    const mine = JSON.stringify([
      { kind: 'contact', key: user, version: 1, email, traits: { email }, anonymousIds: [] },
    ])
    const theirs = JSON.stringify([{ kind: 'contact', key: uid('other'), version: 1 }])
    for (const [id, body] of [
      [`dl-${user}-1`, mine],
      [`dl-${user}-2`, theirs],
    ]) {
      await env.DB.prepare(
        "INSERT INTO dead_letters (id, queue, body, attempts, received_at) VALUES (?, 'q', ?, 4, ?)",
      )
        .bind(id, body, new Date().toISOString())
        .run()
    }
    const erasure = await erase({ email: email.toLowerCase() })
    const d1 = erasure.receipt!.stores.find((s) => s.store === 'D1')!
    expect(d1.removed.dead_letters).toBe(1)
    expect(
      await d1Count('SELECT COUNT(*) AS n FROM dead_letters WHERE id LIKE ?', `dl-${user}-%`),
    ).toBe(1)
  })

  it('never keeps the identifier of a waiting or failed erasure in clear, and retries it until done', async () => {
    const sent: string[] = []
    const queue = { send: async (body: string) => void sent.push(body) } as unknown as Queue<string>
    const email = `${uid('waiting')}@example.com`
    const { id } = await requestErasure(
      { ...env, EVENTS: queue },
      { kind: 'email', value: email },
      'test',
      'request',
    )
    const row = await env.DB.prepare('SELECT identifier FROM erasure_requests WHERE id = ?')
      .bind(id)
      .first<{ identifier: string }>()
    expect(row!.identifier).not.toContain(email)
    expect(await (await api('/api/privacy/erasure?limit=1000')).text()).not.toContain(email)

    // The queue lost it: the cron sends it again once it has stalled, and it then completes.
    expect(await resendStalledErasures({ ...env, EVENTS: queue }, new Date())).toBe(0)
    const later = new Date(Date.now() + 16 * 60_000)
    expect(await resendStalledErasures({ ...env, EVENTS: queue }, later)).toBe(1)
    expect(sent.map((body) => JSON.parse(body))).toEqual([
      { kind: 'erase', requestId: id },
      { kind: 'erase', requestId: id },
    ])
    await runErasure(env, id)
    const done = await env.DB.prepare(
      'SELECT status, identifier FROM erasure_requests WHERE id = ?',
    )
      .bind(id)
      .first()
    expect(done).toEqual({ status: 'completed', identifier: null })
  })

  it('names people on the suppression list by a keyed hash, not a plain digest', async () => {
    const user = uid('keyed')
    const erasure = await erase({ userId: user })
    const hashes = (
      await env.DB.prepare('SELECT hash FROM suppressions WHERE erasure_id = ?')
        .bind(erasure.id)
        .all<{ hash: string }>()
    ).results.map((row) => row.hash)
    expect(hashes).toEqual([await keyHash(env, user)])
    expect(hashes).not.toContain(await sha256Hex(`userId:${user}`))
    expect(await keyHash({ ...env, CAIRN_HASH_KEY: 'another-key' }, user)).not.toBe(hashes[0])
  })
})

describe('retention', () => {
  it("ends every per-event projection of old activity, and the archive's old objects", async () => {
    const { writeKey } = await createSource({ name: 'Retention projections' })
    const user = uid('retained')
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString()
    await api('/api/attribution/conversions', {
      method: 'POST',
      json: { name: `Order ${user}`, eventName: `Order ${user}` },
    })
    await send('/v1/batch', writeKey, {
      batch: [
        {
          type: 'page',
          userId: user,
          name: 'Old landing',
          timestamp: old,
          context: { page: { url: 'https://shop.example/?utm_source=news' } },
        },
        { type: 'track', userId: user, event: `Order ${user}`, timestamp: old },
        { type: 'page', userId: user, name: 'Recent' },
      ],
    })
    await eventually(
      async () =>
        (await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', user)) === 3 &&
        (await d1Count('SELECT COUNT(*) AS n FROM conversions WHERE contact_key = ?', user)) === 1,
    )
    await env.ARCHIVE.put('archive/dt=2020-01-01/hr=00/expired.ndjson.gz', 'x')
    const recent = `archive/dt=${new Date().toISOString().slice(0, 10)}/hr=00/kept-${user}.ndjson.gz`
    await env.ARCHIVE.put(recent, 'x')
    await api('/api/privacy/retention', {
      method: 'PUT',
      json: { rawEventsDays: 30, inactiveProfileDays: 730, exportsDays: 30 },
    })
    try {
      const result = await runScheduledMaintenance(env, new Date())
      expect(result.archiveObjects).toBeGreaterThanOrEqual(1)
    } finally {
      await api('/api/privacy/retention', {
        method: 'PUT',
        json: { rawEventsDays: 395, inactiveProfileDays: 730, exportsDays: 30 },
      })
    }
    const at = old.slice(0, 10)
    expect(
      await d1Count(
        'SELECT COUNT(*) AS n FROM touches WHERE contact_key = ? AND at < ?',
        user,
        new Date(Date.now() - 30 * 86_400_000).toISOString(),
      ),
    ).toBe(0)
    expect(
      await d1Count(
        'SELECT COUNT(*) AS n FROM contact_days WHERE contact_key = ? AND day = ?',
        user,
        at,
      ),
    ).toBe(0)
    expect(await d1Count('SELECT COUNT(*) AS n FROM conversions WHERE contact_key = ?', user)).toBe(
      0,
    )
    expect(
      await d1Count('SELECT COUNT(*) AS n FROM contact_days WHERE contact_key = ?', user),
    ).toBe(1)
    expect(await env.ARCHIVE.head('archive/dt=2020-01-01/hr=00/expired.ndjson.gz')).toBeNull()
    expect(await env.ARCHIVE.head(recent)).not.toBeNull()
  })

  it('expires a contact that only ever recorded consent once it has been inactive too long', async () => {
    const { writeKey } = await createSource({ name: 'Consent only' })
    const anon = uid('consent-only')
    await send('/v1/consent', writeKey, { anonymousId: anon, purposes: { marketing: true } })
    const stub = env.CONTACTS.get(env.CONTACTS.idFromName(`anon:${anon}`))
    await api('/api/privacy/retention', {
      method: 'PUT',
      json: { rawEventsDays: 395, inactiveProfileDays: 2, exportsDays: 30 },
    })
    try {
      // Three days pass: the decision is older than the lifetime, and the daily alarm is due.
      await runInDurableObject(stub, (_instance, state) => {
        const past = new Date(Date.now() - 3 * 86_400_000).toISOString()
        state.storage.sql.exec('UPDATE consent_ledger SET at = ?', past)
        state.storage.sql.exec("UPDATE schedule SET due_at = 0 WHERE kind = 'retention'")
      })
      await evictDurableObject(stub)
      expect(await runDurableObjectAlarm(stub)).toBe(true)
      await eventually(
        async () => (await api(`/api/contacts/anon:${anon}/consent`)).status === 404,
        15_000,
      )
    } finally {
      await api('/api/privacy/retention', {
        method: 'PUT',
        json: { rawEventsDays: 395, inactiveProfileDays: 730, exportsDays: 30 },
      })
    }
  })
})

describe('an erased identifier', () => {
  it('is not linked again by an event that carries it beside a live userId', async () => {
    const { writeKey } = await createSource({ name: 'Erased device' })
    const device = uid('erased-device')
    const user = uid('device-owner')
    await send('/v1/page', writeKey, { anonymousId: device, name: 'Before' })
    await erase({ anonymousId: device })
    const response = await send('/v1/track', writeKey, {
      userId: user,
      anonymousId: device,
      event: 'Signed In',
    })
    expect(response.status).toBe(200)
    const profile = (await (await api(`/api/contacts/${user}`)).json()) as {
      anonymousIds: string[]
      identities: { value: string }[]
      eventCount: number
    }
    expect(profile.eventCount).toBe(1)
    expect(profile.anonymousIds).toEqual([])
    expect(JSON.stringify(profile)).not.toContain(device)
    await eventually(() => d1Count('SELECT COUNT(*) AS n FROM contacts WHERE key = ?', user))
    expect(
      await d1Count(
        'SELECT COUNT(*) AS n FROM events WHERE anonymous_id = ? OR contact_key = ?',
        device,
        `anon:${device}`,
      ),
    ).toBe(0)
    expect(await d1Count('SELECT COUNT(*) AS n FROM identities WHERE value = ?', device)).toBe(0)
  })
})
