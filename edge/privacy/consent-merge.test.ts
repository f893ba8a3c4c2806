import { env, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { contactStub } from '../../durable/contact-client'
import { peerStub } from '../../durable/contact-peer'
import { api, createSource, d1Count, eventually, send, uid } from '../../test/support/api'

/**
 * Waits until D1 holds `n` withheld events of the source: the queue messages the same ingests
 * sent (a merge, a snapshot) went out with them, so what D1 lacks by then was never sent.
 */
async function withheldInD1(sourceId: string, n: number) {
  await eventually(
    async () =>
      (await d1Count(
        "SELECT COUNT(*) AS n FROM events WHERE contact_key = '(withheld)' AND source_id = ?",
        sourceId,
      )) === n,
  )
}

/** Rows in D1's identity tables that name any of the values. */
async function d1IdentityRows(...values: string[]) {
  const list = JSON.stringify(values)
  const inList = '(SELECT value FROM json_each(?))'
  return {
    merges: await d1Count(
      `SELECT COUNT(*) AS n FROM merges WHERE from_key IN ${inList} OR into_key IN ${inList}`,
      list,
      list,
    ),
    identities: await d1Count(
      `SELECT COUNT(*) AS n FROM identities WHERE value IN ${inList} OR contact_key IN ${inList}`,
      list,
      list,
    ),
    contacts: await d1Count(`SELECT COUNT(*) AS n FROM contacts WHERE key IN ${inList}`, list),
  }
}

/** What a ContactDO holds that links identifiers: its forward pointer, key and identities. */
function objectLinks(key: string) {
  const stub = env.CONTACTS.get(env.CONTACTS.idFromName(key))
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql
    const tables = new Set(
      sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .toArray()
        .map((row) => row.name),
    )
    const meta = tables.has('meta')
      ? new Map(
          sql
            .exec<{ key: string; value: string }>('SELECT key, value FROM meta')
            .toArray()
            .map((row) => [row.key, row.value]),
        )
      : new Map<string, string>()
    return {
      mergedInto: meta.get('merged_into') ?? null,
      key: meta.get('key') ?? null,
      identities: tables.has('identities')
        ? sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM identities').one().n
        : 0,
    }
  })
}

const NOTHING_LINKED = { mergedInto: null, key: null, identities: 0 }

describe('consent is decided before any merge', () => {
  it('merges, links and projects nothing in an opt-in source without a grant, for every message type', async () => {
    const source = await createSource({ name: 'Opt-in merges', consentMode: 'opt-in' })
    const pairs = ['identify', 'alias', 'track', 'group', 'page'].map((type) => ({
      type,
      user: uid(`oi-user-${type}`),
      anon: uid(`oi-anon-${type}`),
    }))
    const message = ({ type, user, anon }: (typeof pairs)[number]) => {
      switch (type) {
        case 'identify':
          return { type, userId: user, anonymousId: anon, traits: { email: `${user}@example.com` } }
        case 'alias':
          return { type, userId: user, previousId: anon }
        case 'track':
          return { type, userId: user, anonymousId: anon, event: 'Signed In' }
        case 'group':
          return { type, userId: user, anonymousId: anon, groupId: uid('acme') }
        default:
          return { type, userId: user, anonymousId: anon, name: 'Account' }
      }
    }
    // The single-message path of the issue, then the rest in one batch.
    const identify = await send('/v1/identify', source.writeKey, message(pairs[0]!))
    expect(identify.status).toBe(200)
    const rest = await send('/v1/batch', source.writeKey, { batch: pairs.slice(1).map(message) })
    expect(await rest.json()).toMatchObject({ accepted: 4, rejected: [] })

    await withheldInD1(source.id, pairs.length)
    for (const { user, anon } of pairs) {
      expect(await d1IdentityRows(user, anon, `anon:${anon}`, `${user}@example.com`)).toEqual({
        merges: 0,
        identities: 0,
        contacts: 0,
      })
      expect(await objectLinks(`anon:${anon}`)).toEqual(NOTHING_LINKED)
      expect(await objectLinks(user)).toEqual(NOTHING_LINKED)
      expect((await api(`/api/contacts/${user}`)).status).toBe(404)
      expect((await api(`/api/contacts/anon:${anon}`)).status).toBe(404)
    }
  })

  it('merges when the grant was given under the anonymous id before identify', async () => {
    const source = await createSource({ name: 'Opt-in granted', consentMode: 'opt-in' })
    const anon = uid('oi-anon')
    const user = uid('oi-user')
    const granted = await send('/v1/consent', source.writeKey, {
      anonymousId: anon,
      purposes: { analytics: true },
      policyVersion: 'v1',
    })
    expect(granted.status).toBe(200)
    await send('/v1/page', source.writeKey, { anonymousId: anon, name: 'Pricing' })
    await send('/v1/identify', source.writeKey, {
      userId: user,
      anonymousId: anon,
      traits: { email: `${user}@example.com` },
    })
    const profile = (await (await api(`/api/contacts/${user}`)).json()) as Record<string, any>
    expect(profile).toMatchObject({
      key: user,
      anonymousIds: [anon],
      traits: { email: `${user}@example.com` },
      consent: { analytics: true },
    })
    expect(await objectLinks(`anon:${anon}`)).toMatchObject({ mergedInto: user })
    await eventually(
      async () =>
        (await d1Count(
          'SELECT COUNT(*) AS n FROM merges WHERE from_key = ? AND into_key = ?',
          `anon:${anon}`,
          user,
        )) === 1,
    )
  })

  it('merges every anonymous id of an ingest when the grant lives under only one of them', async () => {
    const source = await createSource({ name: 'Opt-in two devices', consentMode: 'opt-in' })
    const phone = uid('oi-phone')
    const laptop = uid('oi-laptop')
    const user = uid('oi-user')
    await send('/v1/consent', source.writeKey, {
      anonymousId: laptop,
      purposes: { analytics: true },
      policyVersion: 'v1',
    })
    await send('/v1/batch', source.writeKey, {
      batch: [
        { type: 'identify', userId: user, anonymousId: phone },
        { type: 'alias', userId: user, previousId: laptop },
      ],
    })
    const profile = (await (await api(`/api/contacts/${user}`)).json()) as Record<string, any>
    expect([...profile.anonymousIds].sort()).toEqual([laptop, phone].sort())
    expect(profile.consent.analytics).toBe(true)
    expect(await objectLinks(`anon:${phone}`)).toMatchObject({ mergedInto: user })
    expect(await objectLinks(`anon:${laptop}`)).toMatchObject({ mergedInto: user })
  })

  it('lets a withdrawal under either id win: no merge, the events withheld', async () => {
    const source = await createSource({ name: 'Opt-out withdrawals', consentMode: 'opt-out' })
    // Withdrawn under the anonymous id, nothing decided under the user id.
    const anon = uid('oo-anon')
    const user = uid('oo-user')
    await send('/v1/page', source.writeKey, { anonymousId: anon, name: 'Before' })
    await send('/v1/consent', source.writeKey, {
      anonymousId: anon,
      purposes: { analytics: false },
      policyVersion: 'v1',
    })
    await send('/v1/identify', source.writeKey, {
      userId: user,
      anonymousId: anon,
      traits: { email: `${user}@example.com` },
    })
    // Withdrawn under the user id, events stored under the anonymous id.
    const anon2 = uid('oo-anon')
    const user2 = uid('oo-user')
    await send('/v1/page', source.writeKey, { anonymousId: anon2, name: 'Before' })
    await send('/v1/consent', source.writeKey, {
      userId: user2,
      purposes: { analytics: false },
      policyVersion: 'v1',
    })
    await send('/v1/track', source.writeKey, { userId: user2, anonymousId: anon2, event: 'Login' })

    await withheldInD1(source.id, 2)
    expect(await d1IdentityRows(user, `anon:${anon}`, user2, `anon:${anon2}`)).toMatchObject({
      merges: 0,
    })
    expect(await d1Count('SELECT COUNT(*) AS n FROM identities WHERE contact_key = ?', user)).toBe(
      0,
    )
    expect(await objectLinks(`anon:${anon}`)).toMatchObject({
      mergedInto: null,
      key: `anon:${anon}`,
    })
    expect(await objectLinks(`anon:${anon2}`)).toMatchObject({
      mergedInto: null,
      key: `anon:${anon2}`,
    })
    expect(await objectLinks(user)).toEqual(NOTHING_LINKED)
    expect(await objectLinks(user2)).toMatchObject({ mergedInto: null, identities: 0 })
    const anonymous = (await (await api(`/api/contacts/anon:${anon}`)).json()) as Record<
      string,
      any
    >
    expect(anonymous).toMatchObject({ key: `anon:${anon}`, userId: null, traits: {} })
  })

  it('takes in a hand-over once when the same sign-in races itself', async () => {
    const source = await createSource({ name: 'Opt-in replay', consentMode: 'opt-in' })
    const anon = uid('oi-anon')
    const user = uid('oi-user')
    await send('/v1/consent', source.writeKey, {
      anonymousId: anon,
      purposes: { analytics: true },
      policyVersion: 'v1',
    })
    await send('/v1/track', source.writeKey, { anonymousId: anon, event: 'Browsed' })
    const identify = (n: number) => ({ userId: user, anonymousId: anon, traits: { n } })
    const answers = await Promise.all(
      [1, 2, 3].map((n) => send('/v1/identify', source.writeKey, identify(n))),
    )
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200])
    const ledger = (await (await api(`/api/contacts/${user}/consent`)).json()) as { ledger: [] }
    expect(ledger.ledger).toHaveLength(1)
    const profile = (await (await api(`/api/contacts/${user}`)).json()) as Record<string, any>
    expect(profile.anonymousIds).toEqual([anon])
    expect(profile.counters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'Browsed', count: 1 })]),
    )
  })

  it('hands nothing over, and leaves no pointer, when the combined ledger does not allow it', async () => {
    const source = await createSource({ name: 'Opt-in hand-over', consentMode: 'opt-in' })
    const anon = uid('oi-anon')
    const user = uid('oi-user')
    await send('/v1/consent', source.writeKey, {
      anonymousId: anon,
      purposes: { marketing: true },
      policyVersion: 'v1',
    })
    // The claimant's side of the merge, as the user's ContactDO would call it.
    const peer = peerStub(env, `anon:${anon}`)
    const stub = contactStub(env, `anon:${anon}`)
    const refused = await peer.handOver(user, { consentMode: 'opt-in', ledger: [] })
    expect(refused).toEqual({ merged: false, reason: 'no_consent' })
    expect(await stub.locate()).toEqual({ found: true })
    // A grant the claimant holds completes the combined ledger.
    const grant = {
      at: new Date().toISOString(),
      purposes: { analytics: true },
      policyVersion: 'v1',
      source: 'test',
      method: 'banner' as const,
      identity: user,
      ipHash: null,
      userAgentHash: null,
    }
    const accepted = await peer.handOver(user, { consentMode: 'opt-in', ledger: [grant] })
    expect(accepted).toMatchObject({ merged: true })
    await peer.cancelHandOver(user)
    expect(await stub.locate()).toEqual({ found: true })
  })
})
